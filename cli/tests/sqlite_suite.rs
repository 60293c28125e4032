//! A fixed part of SQLite's wider sqllogictest sample (`tests/conformance/sqlite-suite`), run on
//! every `cargo test` in a debug build on the reference backend, claiming the label `sqlite` as
//! SQLite's runner does. The part is chosen by a rule, not by hand: every record of the files in
//! `evidence/`, and the first [`FIRST_RECORDS`] statement and query records of every other file
//! (their tables and the first few hundred queries). The whole sample is a release-build job:
//! `pomo-conformance slt --label sqlite tests/conformance/sqlite-suite/...` (README, Tests).
//!
//! The outcome must match `cli/tests/sqlite-suite-known-failures.txt` exactly: each failing
//! record is listed there (`fail PATH:LINE: reason`, PATH relative to the sample, or `crash …`
//! for a record that panics the engine), a failing record that is not listed fails the test, and
//! so does a listed record that passes (or fails the other way), so the list stays true. The
//! failure message prints the lines to add or remove.

use pomo::query::Backend;
use pomo_cli::slt::{Failure, Settings, run_file};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How many statement and query records of each file outside `evidence/` run; about a minute
/// and a half on a 2-core machine in a debug build (`index/between` is the slowest).
const FIRST_RECORDS: usize = 500;

/// The sample's root.
fn sample() -> PathBuf {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/conformance/sqlite-suite"
    ));
    assert!(
        p.exists(),
        "the conformance corpus {} is missing",
        p.display()
    );
    p
}

/// The `.test` files under `dir`, sorted.
fn test_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|x| x == "test") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// A listed or observed failure: `crash` or `fail`, with its reason.
#[derive(Clone, Debug, PartialEq)]
struct Listed {
    kind: String,
    reason: String,
}

/// The known failures, by `PATH:LINE`.
fn known_failures() -> BTreeMap<String, Listed> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sqlite-suite-known-failures.txt"
    ))
    .unwrap();
    let mut known = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (kind, rest) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("a known failure without a location: {line}"));
        assert!(
            kind == "fail" || kind == "crash",
            "a known failure is `fail` or `crash`: {line}"
        );
        // `PATH:LINE: reason`; the path holds no `: `.
        let (location, reason) = rest
            .split_once(": ")
            .unwrap_or_else(|| panic!("a known failure without a reason: {line}"));
        let listed = Listed {
            kind: kind.into(),
            reason: reason.into(),
        };
        assert!(
            known.insert(location.to_string(), listed).is_none(),
            "listed twice: {location}"
        );
    }
    known
}

/// A one-line reason for a failure: the engine's diagnostic, or what went wrong.
fn reason_of(failure: &Failure) -> String {
    let first_line = |text: &str| text.lines().next().unwrap_or("").trim().to_string();
    let what = if failure.crashed {
        format!(
            "panics: {}",
            first_line(failure.reason.trim_start_matches("crash: "))
        )
    } else if let Some(at) = failure.reason.find("error[") {
        format!("refused: {}", first_line(&failure.reason[at..]))
    } else if failure.reason.contains("result mismatch") {
        "wrong result".into()
    } else if failure.reason.contains("expected to fail") {
        "accepted where SQLite fails".into()
    } else {
        first_line(&failure.reason)
    };
    format!("{what} (issue 16)")
}

/// Runs the files whose paths under the sample start with `folder`, the first `first_records`
/// records of each (all with `None`), and checks the outcome against the known failures.
fn run(folder: &str, first_records: Option<usize>) {
    let root = sample();
    let files = test_files(&root.join(folder));
    assert!(!files.is_empty(), "no .test files under {folder}");
    let settings = Settings {
        first_records,
        ..Settings::sqlite()
    };
    let known: BTreeMap<String, Listed> = known_failures()
        .into_iter()
        .filter(|(location, _)| location.starts_with(&format!("{folder}/")))
        .collect();
    let mut observed = BTreeMap::new();
    let (mut passed, mut failed, mut crashed, mut skipped) = (0, 0, 0, 0);
    for file in &files {
        let report = run_file(file, &Backend::Reference, &settings);
        let relative = file.strip_prefix(&root).unwrap().display().to_string();
        eprintln!(
            "{relative}: {} passed, {} failed ({} crashes), {} skipped",
            report.passed,
            report.failed.len(),
            report.crashes().count(),
            report.skipped
        );
        passed += report.passed;
        failed += report.failed.len();
        crashed += report.crashes().count();
        skipped += report.skipped;
        for f in &report.failed {
            let line = f.location.rsplit(':').next().unwrap_or("0");
            let listed = Listed {
                kind: if f.crashed { "crash" } else { "fail" }.into(),
                reason: reason_of(f),
            };
            observed.insert(format!("{relative}:{line}"), (listed, f.sql.clone()));
        }
    }
    report(&format!(
        "{folder}: {passed} passed, {failed} failed ({crashed} crashes), {skipped} skipped \
         for the labels"
    ));
    let mut problems = Vec::new();
    for (location, (listed, sql)) in &observed {
        match known.get(location) {
            Some(k) if k.kind == listed.kind => {}
            _ => problems.push(format!(
                "not listed as it fails; add: {} {location}: {}\n    {}",
                listed.kind,
                listed.reason,
                sql.split_whitespace().collect::<Vec<_>>().join(" ")
            )),
        }
    }
    for (location, k) in &known {
        let now = observed.get(location).map(|(l, _)| l.kind.as_str());
        if now != Some(k.kind.as_str()) {
            problems.push(format!(
                "listed but now {}; remove: {} {location}: {}",
                now.map_or("passes", |_| "fails the other way"),
                k.kind,
                k.reason
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn evidence_whole() {
    run("evidence", None);
}

#[test]
fn random_first_records() {
    run("random", Some(FIRST_RECORDS));
}

#[test]
fn index_first_records() {
    run("index", Some(FIRST_RECORDS));
}

/// Prints the counts where a passing `cargo test` shows them: straight to the process's stderr,
/// which the test harness does not capture (it captures only `print!`/`eprint!`).
fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
