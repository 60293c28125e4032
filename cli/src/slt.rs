//! Running sqllogictest files (the SQL conformance corpora and SQLite's own suite) through the
//! `sqllogictest` crate.
//!
//! Each file starts on an empty in-memory store. Its text is first read as SQLite's runner reads
//! it ([`script`]: comments after conditions, `halt` under conditions), then every record runs
//! through the crate's runner (its parser, sort modes, `hash-threshold` and md5 hashing). The
//! engine claims the labels of [`Settings::labels`] besides its name `pomo`: SQLite's own files
//! run claiming `sqlite`, as SQLite's runner does, and the subset cases (`sql/cases`) without
//! it, since they mark with `skipif sqlite` what SQLite accepts and the subset refuses. Query
//! values are printed by the query's type letters as SQLite's runner prints them ([`values`])
//! before they are sorted and hashed. One failing record never stops its file, and a panic
//! inside a record is caught and reported as a crash with its SQL; the file goes on.

pub mod script;
pub mod values;

use pomo::query::Backend;
use pomo::sql::{Outcome, Session, SqlError, render};
use pomo_runtime::store::Store;
use sqllogictest::{ColumnType, Condition, DB, DBOutput, DefaultColumnType, QueryExpect, Record};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The type letters of the query record being run (`None` while a statement runs), shared by
/// [`run_file`], which sets them before handing a record to the crate's runner, and [`SltDb`],
/// which prints the query's values by them.
type TypeLetters = Arc<Mutex<Option<Vec<DefaultColumnType>>>>;

/// The code of a SQL error raised while a compiled query runs.
const RUNTIME_ERROR: &str = "E0876";

/// A comment that makes [`run_file`] panic on its record, in the runner's own tests.
#[cfg(test)]
const TEST_PANIC: &str = "/* pomo-test: panic */";

/// The engine as the sqllogictest crate sees it.
pub struct SltDb {
    session: Session,
    type_letters: TypeLetters,
}

impl SltDb {
    pub fn new(backend: Backend) -> SltDb {
        SltDb::with_type_letters(backend, TypeLetters::default())
    }

    fn with_type_letters(backend: Backend, type_letters: TypeLetters) -> SltDb {
        SltDb {
            session: Session::new(Store::in_memory()).with_backend(backend),
            type_letters,
        }
    }
}

/// The error of a query whose result does not fit its type letters, worded as SQLite's runner
/// words it.
#[derive(Debug)]
pub enum SltError {
    Sql(SqlError),
    WrongColumnCount { expected: usize, got: usize },
    UnknownTypeLetter(char),
}

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SltError::Sql(e) => e.fmt(f),
            SltError::WrongColumnCount { expected, got } => write!(
                f,
                "wrong number of result columns: expected {expected} but got {got}"
            ),
            SltError::UnknownTypeLetter(c) => write!(f, "unknown character in type-string: {c}"),
        }
    }
}

impl std::error::Error for SltError {}

impl DB for SltDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let letters = self.type_letters.lock().map(|l| l.clone()).unwrap_or(None);
        let outcomes = match self.session.execute(sql) {
            Ok(o) => o,
            // A query that compiled but failed while running (SUM's integer overflow) has, for
            // SQLite's runner, the rows it gave before the error: its engine (slt_sqlite.c)
            // steps the statement until it stops returning rows and reports no error. pomo
            // returns no rows from a failed query, so that is the empty result.
            Err(e)
                if letters.is_some()
                    && e.diagnostics
                        .first()
                        .is_some_and(|d| d.code == RUNTIME_ERROR) =>
            {
                return Ok(DBOutput::Rows {
                    types: letters.unwrap_or_default(),
                    rows: Vec::new(),
                });
            }
            Err(e) => return Err(SltError::Sql(e)),
        };
        Ok(match outcomes.into_iter().last() {
            Some(Outcome::Rows(rows)) => match letters {
                Some(letters) => {
                    if letters.len() != rows.names.len() {
                        return Err(SltError::WrongColumnCount {
                            expected: letters.len(),
                            got: rows.names.len(),
                        });
                    }
                    let chars: Vec<char> = letters.iter().map(|l| l.to_char()).collect();
                    let mut printed = Vec::with_capacity(rows.rows.len());
                    for row in &rows.rows {
                        let mut line = Vec::with_capacity(row.len());
                        for (value, letter) in row.iter().zip(&chars) {
                            line.push(
                                values::format_value(value, *letter)
                                    .ok_or(SltError::UnknownTypeLetter(*letter))?,
                            );
                        }
                        printed.push(line);
                    }
                    DBOutput::Rows {
                        types: letters,
                        rows: printed,
                    }
                }
                // A statement record that returns rows: nothing compares them.
                None => DBOutput::Rows {
                    types: vec![DefaultColumnType::Any; rows.names.len()],
                    rows: rows
                        .rows
                        .iter()
                        .map(|r| r.iter().map(render).collect())
                        .collect(),
                },
            },
            Some(Outcome::Done { changed }) => DBOutput::StatementComplete(changed as u64),
            None => DBOutput::StatementComplete(0),
        })
    }

    fn engine_name(&self) -> &str {
        ENGINE_NAME
    }
}

/// The engine's own label: `onlyif pomo` records run, `skipif pomo` ones do not.
pub const ENGINE_NAME: &str = "pomo";

/// How to run a file.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The labels claimed beside [`ENGINE_NAME`] (`sqlite` for SQLite's own files).
    pub labels: Vec<String>,
    /// Run only the file's first this many statement and query records (skipped ones count);
    /// `None` runs them all.
    pub first_records: Option<usize>,
}

impl Settings {
    /// Settings for SQLite's own files: claiming `sqlite`, every record.
    pub fn sqlite() -> Settings {
        Settings {
            labels: vec!["sqlite".into()],
            first_records: None,
        }
    }
}

/// One failed record.
#[derive(Clone, Debug)]
pub struct Failure {
    /// `file:line`
    pub location: String,
    pub sql: String,
    pub reason: String,
    /// The engine panicked on the record (the panic's message is the reason).
    pub crashed: bool,
}

/// What a file's run gave.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub passed: usize,
    /// Failed records, crashes among them.
    pub failed: Vec<Failure>,
    /// Records not run for this engine's labels (`onlyif mysql`, …); not counted as passed.
    pub skipped: usize,
    /// Per query record: location, SQL and time, for the slowest-queries list.
    pub timings: Vec<(String, String, Duration)>,
}

impl Report {
    /// The crashes among the failures.
    pub fn crashes(&self) -> impl Iterator<Item = &Failure> {
        self.failed.iter().filter(|f| f.crashed)
    }
}

/// Runs one sqllogictest file on a fresh store.
pub fn run_file(path: &Path, backend: &Backend, settings: &Settings) -> Report {
    let mut report = Report::default();
    let mut labels = settings.labels.clone();
    labels.push(ENGINE_NAME.into());
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            sqllogictest::parse_with_name::<DefaultColumnType>(
                &script::prepare(&text, &labels),
                path.display().to_string(),
            )
            .map_err(|e| e.to_string())
        });
    let records = match parsed {
        Ok(r) => r,
        Err(e) => {
            report.failed.push(Failure {
                location: path.display().to_string(),
                sql: String::new(),
                reason: format!("the file does not parse: {e}"),
                crashed: false,
            });
            return report;
        }
    };
    let type_letters = TypeLetters::default();
    let b = backend.clone();
    let letters = type_letters.clone();
    let mut runner = sqllogictest::Runner::new(move || {
        let db = SltDb::with_type_letters(b.clone(), letters.clone());
        async move { Ok(db) }
    });
    for label in &settings.labels {
        runner.add_label(label);
    }
    // SQLite's suite was generated with a hash threshold of 8 and not every file says so
    // (select1.test has no `hash-threshold` line); files that set one override it.
    runner.with_hash_threshold(8);
    runner.with_validator(same_values);
    let mut records_seen = 0;
    for record in records {
        let (kind, sql, loc, conditions, letters) = match &record {
            Record::Statement {
                sql,
                loc,
                conditions,
                ..
            } => ("statement", sql.clone(), loc.clone(), conditions, None),
            Record::Query {
                sql,
                loc,
                conditions,
                expected,
                ..
            } => {
                let letters = match expected {
                    QueryExpect::Results { types, .. } => Some(types.clone()),
                    QueryExpect::Error(_) => None,
                };
                ("query", sql.clone(), loc.clone(), conditions, letters)
            }
            _ => {
                // Control records (hash-threshold, …) configure the runner.
                let _ = runner.run(record);
                continue;
            }
        };
        if settings.first_records.is_some_and(|n| records_seen >= n) {
            break;
        }
        records_seen += 1;
        if !runs(conditions, &labels) {
            report.skipped += 1;
            continue;
        }
        if let Ok(mut slot) = type_letters.lock() {
            *slot = letters;
        }
        let start = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            // The runner's own tests need a record that panics; no query should.
            #[cfg(test)]
            if sql.contains(TEST_PANIC) {
                panic!("a panic the tests asked for");
            }
            runner.run(record)
        }));
        let took = start.elapsed();
        let location = format!("{}:{}", loc.file(), loc.line());
        if kind == "query" {
            report.timings.push((location.clone(), sql.clone(), took));
        }
        match outcome {
            Ok(Ok(_)) => report.passed += 1,
            Ok(Err(e)) => report.failed.push(Failure {
                location,
                sql,
                reason: e.display(false).to_string(),
                crashed: false,
            }),
            Err(panic) => report.failed.push(Failure {
                location,
                sql,
                reason: format!("crash: {}", panic_message(panic.as_ref())),
                crashed: true,
            }),
        }
    }
    report
}

/// Whether a record under `conditions` runs for an engine claiming `labels`.
fn runs(conditions: &[Condition], labels: &[String]) -> bool {
    let list: Vec<(bool, &str)> = conditions
        .iter()
        .map(|c| match c {
            Condition::OnlyIf { label } => (true, label.as_str()),
            Condition::SkipIf { label } => (false, label.as_str()),
        })
        .collect();
    script::runs_for(&list, labels)
}

/// The text a panic was raised with (`panic!("…")` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `script` (as a file) on the reference backend claiming `labels`, and prints the
    /// report: the counts, then each failure's line and kind.
    fn check(script: &str, labels: &[&str], expected: &str) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.test");
        std::fs::write(&path, script).unwrap();
        let settings = Settings {
            labels: labels.iter().map(|l| l.to_string()).collect(),
            first_records: None,
        };
        let report = run_file(&path, &Backend::Reference, &settings);
        let mut printed = format!(
            "{} passed, {} failed, {} skipped",
            report.passed,
            report.failed.len(),
            report.skipped
        );
        for f in &report.failed {
            let line = f.location.rsplit(':').next().unwrap_or("?");
            let kind = if f.crashed { "crash" } else { "fail" };
            printed.push_str(&format!("\n{kind} at line {line}"));
        }
        assert_eq!(printed, expected.trim());
    }

    const TABLE: &str = "statement ok\nCREATE TABLE t(a INTEGER, b TEXT)\n\n\
        statement ok\nINSERT INTO t VALUES(1, 'x'), (2, '')\n\n";

    #[test]
    fn values_print_by_the_type_letters() {
        let script =
            format!("{TABLE}query IT rowsort\nSELECT a, b FROM t\n----\n1\nx\n2\n(empty)\n");
        check(&script, &[], "3 passed, 0 failed, 0 skipped");
    }

    #[test]
    fn integer_letter_of_a_text_column_prints_zero() {
        let script = format!("{TABLE}query I rowsort\nSELECT b FROM t\n----\n0\n0\n");
        check(&script, &[], "3 passed, 0 failed, 0 skipped");
    }

    #[test]
    fn a_wrong_number_of_type_letters_fails_the_query() {
        let script = format!("{TABLE}query II rowsort\nSELECT a FROM t\n----\n1\n2\n");
        check(
            &script,
            &[],
            "2 passed, 1 failed, 0 skipped\nfail at line 7",
        );
    }

    #[test]
    fn results_over_the_threshold_are_hashed_after_formatting() {
        // md5 of "1\n0\n2\n0\n": the text column printed by `I`.
        let script = format!(
            "{TABLE}hash-threshold 3\n\nquery II rowsort\nSELECT a, b FROM t\n----\n\
             4 values hashing to c460f57809f68e642e304603b6c50c38\n"
        );
        check(&script, &[], "3 passed, 0 failed, 0 skipped");
    }

    #[test]
    fn a_failing_record_does_not_stop_the_file() {
        let script = format!(
            "{TABLE}query I nosort\nSELECT 5\n----\n6\n\nquery I nosort\nSELECT 7\n----\n7\n"
        );
        check(
            &script,
            &[],
            "3 passed, 1 failed, 0 skipped\nfail at line 7",
        );
    }

    #[test]
    fn conditions_follow_the_claimed_labels() {
        let script = "onlyif sqlite # SQLite's behaviour\nquery I nosort\nSELECT 1\n----\n1\n\n\
            skipif sqlite # the subset refuses it\nstatement error\nSELECT nosuchcolumn\n\n\
            onlyif mysql\nstatement ok\nSELECT 1 DIV 1\n";
        check(script, &["sqlite"], "1 passed, 0 failed, 2 skipped");
        check(script, &[], "1 passed, 0 failed, 2 skipped");
    }

    #[test]
    fn a_halt_for_the_claimed_labels_ends_the_file() {
        let script = "skipif sqlite\nhalt\n\nquery I nosort\nSELECT 1\n----\n1\n";
        check(script, &["sqlite"], "1 passed, 0 failed, 0 skipped");
        check(script, &[], "0 passed, 0 failed, 0 skipped");
    }

    #[test]
    fn a_panic_is_a_crash_and_the_file_goes_on() {
        // No known query panics any more: the record carries the marker that makes the runner
        // panic in its place (tests only).
        let script = format!(
            "statement ok\nCREATE TABLE tab1(col0 INTEGER)\n\n\
            query I rowsort\nSELECT col0 FROM tab1 {TEST_PANIC}\n----\n\n\
            query I nosort\nSELECT 1\n----\n1\n"
        );
        let script = script.as_str();
        check(
            script,
            &["sqlite"],
            "2 passed, 1 failed, 0 skipped\ncrash at line 4",
        );
    }
}
