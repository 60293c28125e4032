//! Running sqllogictest files (the SQL conformance corpora) through the `sqllogictest` crate.
//!
//! Each file starts on an empty in-memory store. Every record runs through the crate's runner
//! (its parser, sort modes, `hash-threshold` and md5 hashing, its result validator); the engine
//! under test never claims the label `sqlite`, so `skipif sqlite` records run here and
//! `onlyif sqlite` ones are skipped. A failure does not stop the file: the report counts passed
//! and failed records and keeps each failure's location, SQL and reason.

use pomo::query::Backend;
use pomo::sql::{Outcome, Session, SqlError, render};
use pomo_runtime::store::Store;
use sqllogictest::{DB, DBOutput, DefaultColumnType, Record};
use std::path::Path;
use std::time::{Duration, Instant};

/// The engine as the sqllogictest crate sees it.
pub struct SltDb {
    session: Session,
}

impl SltDb {
    pub fn new(backend: Backend) -> SltDb {
        SltDb {
            session: Session::new(Store::in_memory()).with_backend(backend),
        }
    }
}

impl DB for SltDb {
    type Error = SqlError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SqlError> {
        let outcomes = self.session.execute(sql)?;
        Ok(match outcomes.into_iter().last() {
            Some(Outcome::Rows(rows)) => DBOutput::Rows {
                types: vec![DefaultColumnType::Any; rows.names.len()],
                rows: rows
                    .rows
                    .iter()
                    .map(|r| r.iter().map(render).collect())
                    .collect(),
            },
            Some(Outcome::Done { changed }) => DBOutput::StatementComplete(changed as u64),
            None => DBOutput::StatementComplete(0),
        })
    }

    fn engine_name(&self) -> &str {
        "pomo"
    }
}

/// One failed record.
#[derive(Clone, Debug)]
pub struct Failure {
    /// `file:line`
    pub location: String,
    pub sql: String,
    pub reason: String,
}

/// What a file's run gave.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub passed: usize,
    pub failed: Vec<Failure>,
    /// Per query record: location, SQL and time, for the slowest-queries list.
    pub timings: Vec<(String, String, Duration)>,
}

/// Runs one sqllogictest file on a fresh store.
pub fn run_file(path: &Path, backend: &Backend) -> Report {
    let mut report = Report::default();
    let records = match sqllogictest::parse_file::<DefaultColumnType>(path) {
        Ok(r) => r,
        Err(e) => {
            report.failed.push(Failure {
                location: path.display().to_string(),
                sql: String::new(),
                reason: format!("the file does not parse: {e}"),
            });
            return report;
        }
    };
    let b = backend.clone();
    let mut runner = sqllogictest::Runner::new(move || {
        let b = b.clone();
        async move { Ok(SltDb::new(b)) }
    });
    // SQLite's suite was generated with a hash threshold of 8 and not every file says so
    // (select1.test has no `hash-threshold` line); files that set one override it.
    runner.with_hash_threshold(8);
    runner.with_validator(same_values);
    for record in records {
        let (kind, sql, loc) = match &record {
            Record::Statement { sql, loc, .. } => ("statement", sql.clone(), loc.clone()),
            Record::Query { sql, loc, .. } => ("query", sql.clone(), loc.clone()),
            _ => {
                // Control records (hash-threshold, halt, …) configure the runner.
                let _ = runner.run(record);
                continue;
            }
        };
        let start = Instant::now();
        let r = runner.run(record);
        let took = start.elapsed();
        let location = format!("{}:{}", loc.file(), loc.line());
        if kind == "query" {
            report.timings.push((location.clone(), sql.clone(), took));
        }
        match r {
            Ok(_) => report.passed += 1,
            Err(e) => report.failed.push(Failure {
                location,
                sql,
                reason: e.display(false).to_string(),
            }),
        }
    }
    report
}

/// Compares results value by value, whatever the layout: the SQL corpus writes one row per
/// line (values separated by spaces), SQLite's own files one value per line. Both sides are
/// split on whitespace (no compared value contains any where it would matter: the README's
/// rule for the row layout, and SQLite's values with spaces only appear in hashed results).
fn same_values(
    _normalizer: sqllogictest::Normalizer,
    actual: &[Vec<String>],
    expected: &[String],
) -> bool {
    let a = actual
        .iter()
        .flat_map(|r| r.iter())
        .flat_map(|v| v.split_whitespace());
    let e = expected.iter().flat_map(|l| l.split_whitespace());
    a.eq(e)
}
