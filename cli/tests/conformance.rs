//! The public conformance corpora, run through the conformance runner on every `cargo test`:
//! `tests/conformance/edn` (DataScript-checked) and `edn-time` (time views), on the reference
//! and the dataflow backends. A case outside
//! `tests/known-failures.txt` that fails, or a listed case that passes, fails this test; every
//! listed case carries its reason.

mod common;

use common::run_suite;
use pomo_cli::conformance::Backend;

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
