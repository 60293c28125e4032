//! The SQL conformance corpora, run through `pomo_cli::slt` (the sqllogictest crate) on every
//! `cargo test`: `tests/conformance/sql/cases` (SQLite-checked cases of the subset, with
//! their `reject` and constraint-error records) on every backend, without the label `sqlite`
//! (they mark with `skipif sqlite` what SQLite accepts and the subset refuses), and SQLite's own
//! `tests/conformance/sqllogictest/select1–5` on the reference backend, claiming `sqlite` as
//! SQLite's runner does (the JIT and
//! dataflow runs of those 8,884 queries are a release-build job: `pomo-conformance slt`).
//!
//! A record outside `tests/known-failures.txt` (as `sql/FILE:LINE`) that fails, or a listed
//! record that passes, fails the test; every listed record carries its reason.

use pomo::query::Backend;
use pomo_cli::slt::Settings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A corpus of `tests/conformance`; a missing one fails the test (the corpora are part of the
/// repository, so a run that checks none of them is not a pass).
fn corpus(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/conformance")).join(rel);
    assert!(
        p.exists(),
        "the conformance corpus {} is missing",
        p.display()
    );
    Some(p)
}

fn known_failures() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/known-failures.txt"
    ))
    .unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("sql/"))
        .map(|l| {
            let (case, reason) = l
                .split_once(": ")
                .unwrap_or_else(|| panic!("known failure without a reason: {l}"));
            (case.to_string(), reason.to_string())
        })
        .collect()
}

/// `sql/FILE:LINE` for a failure's `path:line` location.
fn key(location: &str) -> String {
    let (path, line) = location.rsplit_once(':').unwrap_or((location, "0"));
    let file = Path::new(path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("sql/{file}:{line}")
}

fn run(files: &[PathBuf], backend: Backend, settings: &Settings) {
    let known = known_failures();
    let mut problems = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    let mut failing = std::collections::BTreeSet::new();
    for f in files {
        let report = pomo_cli::slt::run_file(f, &backend, settings);
        passed += report.passed;
        for fl in &report.failed {
            failed += 1;
            let k = key(&fl.location);
            if !known.contains_key(&k) {
                problems.push(format!("{k} fails:\n{}\n{}", fl.sql, fl.reason));
            }
            failing.insert(k);
        }
    }
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for k in known.keys() {
        let in_run = names.iter().any(|n| k.starts_with(&format!("sql/{n}:")));
        if in_run && !failing.contains(k) {
            problems.push(format!("{k} passes but is listed as a known failure"));
        }
    }
    report(&format!(
        "{} file(s) on {backend:?}: {passed} passed, {failed} failed",
        files.len()
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

fn cases() -> Option<Vec<PathBuf>> {
    let dir = corpus("sql/cases")?;
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    v.sort();
    Some(v)
}

fn skipped(what: &str) {
    panic!("the conformance corpus {what} is missing from tests/conformance");
}

#[test]
fn sql_cases_on_reference() {
    match cases() {
        Some(files) => run(&files, Backend::Reference, &Settings::default()),
        None => skipped("sql"),
    }
}

#[test]
fn sql_cases_on_jit() {
    match cases() {
        Some(files) => run(
            &files,
            Backend::Jit(pomo::runtime::jit::Mode::Native),
            &Settings::default(),
        ),
        None => skipped("sql"),
    }
}

#[test]
fn sql_cases_on_jit_interpreter() {
    match cases() {
        Some(files) => run(
            &files,
            Backend::Jit(pomo::runtime::jit::Mode::Interpret),
            &Settings::default(),
        ),
        None => skipped("sql"),
    }
}

#[test]
fn sql_cases_on_dataflow() {
    match cases() {
        Some(files) => run(
            &files,
            Backend::Dataflow(pomo::runtime::dataflow::Config::default()),
            &Settings::default(),
        ),
        None => skipped("sql"),
    }
}

fn select(n: usize) {
    match corpus(&format!("sqllogictest/select{n}.test")) {
        Some(f) => run(&[f], Backend::Reference, &Settings::sqlite()),
        None => skipped("sqllogictest"),
    }
}

#[test]
fn sqlite_select1() {
    select(1);
}

#[test]
fn sqlite_select2() {
    select(2);
}

#[test]
fn sqlite_select3() {
    select(3);
}

#[test]
fn sqlite_select4() {
    select(4);
}

#[test]
fn sqlite_select5() {
    select(5);
}

/// Prints the counts where a passing `cargo test` shows them: straight to the process's stderr,
/// which the test harness does not capture (it captures only `print!`/`eprint!`).
fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
