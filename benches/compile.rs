//! Compile time, text to optimized plan, of a 20-clause query with a recursive rule
//! (`tests/corpus/queries/bench-20-clauses.edn`), and of its stages separately.

use criterion::{Criterion, criterion_group, criterion_main};
use pomo::{Input, Options, Stage};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/queries/");
    let query = std::fs::read_to_string(format!("{dir}bench-20-clauses.edn")).unwrap();
    let rules = std::fs::read_to_string(format!("{dir}bench-20-clauses.rules.edn")).unwrap();
    let input = Input::Edn {
        query: &query,
        rules: Some(&rules),
    };
    let opts = Options::default();
    c.bench_function("compile/20-clauses/text-to-plan", |b| {
        b.iter(|| pomo::compile(black_box(&input), &opts).unwrap())
    });
    c.bench_function("compile/20-clauses/text-to-logic", |b| {
        b.iter(|| pomo::explain(black_box(&input), Stage::Logic, &opts).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
