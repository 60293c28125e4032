//! The public conformance corpora, run through the conformance runner on every `cargo test`:
//! `../shared/conformance/edn` (DataScript-checked) and `edn-time` (time views), on the reference
//! and the dataflow backends. A case outside
//! `tests/known-failures.txt` that fails, or a listed case that passes, fails this test; every
//! listed case carries its reason.

use pomo::conformance::{Backend, Outcome, case_files, run_case};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn corpus(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/conformance"
    ))
    .join(name)
    .join("public");
    p.is_dir().then_some(p)
}

/// `suite/case: reason` lines; `#` starts a comment.
fn known_failures() -> BTreeMap<String, String> {
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

fn run_suite(suite: &str, backend: Backend) {
    let Some(dir) = corpus(suite) else {
        // The corpora live beside the repository (../shared); a checkout without them has
        // nothing to run here, and says so.
        eprintln!("conformance corpus {suite} not found beside the repository; skipped");
        return;
    };
    let known = known_failures();
    let mut problems = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for f in case_files(&[dir]) {
        let (name, outcome) = run_case(&f, backend);
        let key = format!("{suite}/{name}");
        match (outcome, known.get(&key)) {
            (Outcome::Pass, None) => passed += 1,
            (Outcome::Pass, Some(_)) => {
                passed += 1;
                problems.push(format!("{key} passes but is listed as a known failure"));
            }
            (Outcome::Fail(_), Some(_)) => failed += 1,
            (Outcome::Fail(reason), None) => {
                failed += 1;
                problems.push(format!("{key} fails: {reason}"));
            }
        }
    }
    eprintln!("{suite} on {backend:?}: {passed} passed, {failed} failed (known)");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn edn_corpus() {
    run_suite("edn", Backend::Reference);
}

/// The dataflow backend passes exactly the cases the reference passes: the same list of known
/// failures holds for both.
#[test]
fn edn_corpus_on_dataflow() {
    run_suite("edn", Backend::Dataflow { workers: 1 });
}

/// Two workers shard every collection; the answers must not change.
#[test]
fn edn_corpus_on_dataflow_with_two_workers() {
    run_suite("edn", Backend::Dataflow { workers: 2 });
}

#[test]
fn edn_time_corpus_on_dataflow() {
    run_suite("edn-time", Backend::Dataflow { workers: 1 });
}

#[test]
fn edn_time_corpus() {
    run_suite("edn-time", Backend::Reference);
}

/// The JIT backend passes exactly the cases the reference passes (native kernels).
#[test]
fn edn_corpus_on_jit() {
    run_suite("edn", Backend::Jit(pomo::runtime::jit::Mode::Native));
}

#[test]
fn edn_time_corpus_on_jit() {
    run_suite("edn-time", Backend::Jit(pomo::runtime::jit::Mode::Native));
}

/// The JIT's kernels, interpreted: a disagreement between this and the native run is a bug in
/// the code generator.
#[test]
fn edn_corpus_on_jit_interpreter() {
    run_suite("edn", Backend::Jit(pomo::runtime::jit::Mode::Interpret));
}
