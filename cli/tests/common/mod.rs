//! The conformance runner the test binaries share: a suite's cases through
//! `pomo_cli::conformance`, checked against `tests/known-failures.txt`.
#![allow(dead_code)]

use pomo_cli::conformance::{Backend, CaseOutcome, case_files, run_case};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The cases of a corpus of `tests/conformance`.
pub fn corpus(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/conformance"))
        .join(name)
        .join("public")
}

/// `suite/case: reason` lines; `#` starts a comment.
pub fn known_failures() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/known-failures.txt"
    ))
    .unwrap();
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (case, reason) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("known failure without a reason: {line}"));
        assert!(
            !reason.trim().is_empty(),
            "known failure without a reason: {line}"
        );
        out.insert(case.trim().to_string(), reason.trim().to_string());
    }
    out
}

pub fn run_suite(suite: &str, backend: Backend) {
    let dir = corpus(suite);
    // The corpora are part of the repository: a run that finds none has checked nothing.
    assert!(
        dir.is_dir(),
        "the conformance corpus {} is missing",
        dir.display()
    );
    let known = known_failures();
    let mut problems = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for f in case_files(&[dir]) {
        let (name, outcome) = run_case(&f, backend);
        let key = format!("{suite}/{name}");
        match (outcome, known.get(&key)) {
            (CaseOutcome::Pass, None) => passed += 1,
            (CaseOutcome::Pass, Some(_)) => {
                passed += 1;
                problems.push(format!("{key} passes but is listed as a known failure"));
            }
            (CaseOutcome::Fail(_), Some(_)) => failed += 1,
            (CaseOutcome::Fail(reason), None) => {
                failed += 1;
                problems.push(format!("{key} fails: {reason}"));
            }
        }
    }
    report(&format!(
        "{suite} on {backend:?}: {passed} passed, {failed} failed (known)"
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The demo dataset (`examples/demo/data.edn`) in an in-memory store.
pub fn demo_store() -> pomo::runtime::store::Store {
    let mut store = pomo::runtime::store::Store::in_memory();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/demo/data.edn"
    ))
    .unwrap();
    for form in pomo::grammar::edn::parse_forms(&text).unwrap() {
        let ops = pomo::edn_data::tx_data(store.db().schema(), &form).unwrap();
        store.transact(ops).unwrap();
    }
    store
}

/// The EDN and PomoLogic queries of the golden corpus, in name order, each compiled with its
/// rule file (`NAME.rules.edn`) when it has one: `(path, text, query)`.
pub fn corpus_queries() -> Vec<(PathBuf, String, pomo::query::PreparedQuery)> {
    corpus_queries_with(&pomo::Options::default())
}

/// The corpus's EDN and PomoLogic queries compiled with `opts`.
pub fn corpus_queries_with(
    opts: &pomo::Options,
) -> Vec<(PathBuf, String, pomo::query::PreparedQuery)> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/corpus/queries"
    ));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let s = p.to_str().unwrap();
            !s.ends_with(".rules.edn") && !s.ends_with(".sql")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let rules = std::fs::read_to_string(path.with_file_name(format!(
                "{}.rules.edn",
                path.file_stem().unwrap().to_str().unwrap()
            )))
            .ok();
            let input = if path.extension().is_some_and(|e| e == "pomo") {
                pomo::Input::Logic(&text)
            } else {
                pomo::Input::Edn {
                    query: &text,
                    rules: rules.as_deref(),
                }
            };
            let q = pomo::query::prepare(&input, opts).unwrap();
            (path, text, q)
        })
        .collect()
}

/// Prints a suite's counts where a passing `cargo test` shows them: straight to the process's
/// stderr, which the test harness does not capture (it captures only `print!`/`eprint!`).
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
