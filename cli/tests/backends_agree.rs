//! Every query of the golden corpus runs on the demo dataset on the reference, the dataflow
//! backends (1 and 2 workers) and the JIT (native and interpreted), from source and from its
//! compiled artifact (written to bytes and loaded back); the answers must be equal, or both runs must fail with the same error. Inputs after
//! the database are given as `nil` (queries that need real ones fail on both backends alike),
//! and the corpus's host functions come from the conformance harness.

mod common;

use pomo::query::{Arg, Backend};
use pomo::runtime::dataflow::Config;
use pomo::runtime::jit::Mode;
use pomo::types::Value;
use std::path::Path;

#[test]
fn corpus_queries_give_the_same_answers_on_every_backend() {
    let store = common::demo_store();
    let registry = pomo_cli::conformance::host_registry();
    let (mut same, mut both_failed) = (0, 0);
    let mut problems = Vec::new();
    for (path, text, q) in common::corpus_queries() {
        // The same query compiled to an artifact file and loaded back (what `pomo run` runs).
        let (_, bytes) = q.artifact().to_file_bytes().unwrap();
        let aq = pomo::query::Query::from_artifact(
            pomo::runtime::artifact::Artifact::from_file_bytes(&bytes)
                .unwrap()
                .0,
        );
        let args = || {
            let mut a = vec![Arg::Db(store.db())];
            while a.len() < q.arity() {
                a.push(Arg::Value(Value::Nil));
            }
            a
        };
        let reference = q.run_on(args(), &registry, &Backend::Reference);
        let backends = [
            ("dataflow, 1 worker", Backend::Dataflow(Config::default())),
            (
                "dataflow, 2 workers",
                Backend::Dataflow(Config {
                    workers: 2,
                    ..Config::default()
                }),
            ),
            ("jit", Backend::Jit(Mode::Native)),
            ("jit, interpreted", Backend::Jit(Mode::Interpret)),
        ];
        let runs = backends
            .iter()
            .map(|(name, b)| (name.to_string(), q.run_on(args(), &registry, b)))
            .chain(std::iter::once((
                "reference, from the artifact".to_string(),
                aq.run_on(args(), &registry, &Backend::Reference),
            )))
            .chain(backends.iter().map(|(name, b)| {
                (
                    format!("{name}, from the artifact"),
                    aq.run_on(args(), &registry, b),
                )
            }));
        for (name, other) in runs {
            match (&reference, &other) {
                // Random aggregates and `rand` draw different values on each run.
                (Ok(_), Ok(_)) if text.contains("rand") || text.contains("sample") => same += 1,
                (Ok(a), Ok(b)) if a == b => same += 1,
                (Err(a), Err(b)) if a == b => both_failed += 1,
                (a, b) => {
                    problems.push(format!("{}: reference {a:?}, {name} {b:?}", path.display()))
                }
            }
        }
    }
    eprintln!("{same} equal answers, {both_failed} failed on both");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(same > 150, "only {same} queries gave answers");
}

/// Every pass of every stage only makes plans cheaper: with any one of them switched off (and
/// plans validated after each pass), every corpus query gives the answer it gives with all of
/// them on, on the backend that runs that stage's plan.
#[test]
fn every_pass_can_be_switched_off() {
    use pomo::compiler::Stage;
    let store = common::demo_store();
    let registry = pomo_cli::conformance::host_registry();
    let all_on = common::corpus_queries();
    let mut problems = Vec::new();
    let mut runs = 0;
    for (stage, pass) in pomo::compiler::driver::passes() {
        let backend = match stage {
            Stage::Flow => Backend::Dataflow(Config::default()),
            Stage::Kernel => Backend::Jit(Mode::Interpret),
            _ => Backend::Reference,
        };
        let opts = pomo::Options {
            disabled_passes: vec![pass.to_string()],
            validate: true,
            ..pomo::Options::default()
        };
        for ((path, text, q), (_, _, on)) in common::corpus_queries_with(&opts).iter().zip(&all_on)
        {
            if text.contains("rand") || text.contains("sample") {
                continue;
            }
            let args = || {
                let mut a = vec![Arg::Db(store.db())];
                while a.len() < q.arity() {
                    a.push(Arg::Value(Value::Nil));
                }
                a
            };
            let want = on.run_on(args(), &registry, &backend);
            let got = q.run_on(args(), &registry, &backend);
            runs += 1;
            if want != got {
                problems.push(format!(
                    "{} without {pass}: {got:?}, with it: {want:?}",
                    path.display()
                ));
            }
        }
    }
    eprintln!("{runs} runs with one pass off");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(runs > 1000, "only {runs} runs");
}

/// The SQL cases of the corpus are scripts (tables, rows, then a query): each runs in a SQL
/// session on a fresh store per backend, and the rows must agree.
#[test]
fn corpus_sql_scripts_give_the_same_rows_on_every_backend() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/corpus/queries"
    ));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let backends = [
        ("reference", Backend::Reference),
        ("dataflow, 1 worker", Backend::Dataflow(Config::default())),
        (
            "dataflow, 2 workers",
            Backend::Dataflow(Config {
                workers: 2,
                ..Config::default()
            }),
        ),
        ("jit", Backend::Jit(Mode::Native)),
        ("jit, interpreted", Backend::Jit(Mode::Interpret)),
    ];
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let mut answers = Vec::new();
        for (name, backend) in &backends {
            let mut s = pomo::sql::Session::new(pomo::runtime::store::Store::in_memory())
                .with_backend(backend.clone());
            let out = s.execute(&text).map(|o| o.last().cloned());
            answers.push((name, out));
        }
        let (_, first) = &answers[0];
        assert!(
            matches!(first, Ok(Some(pomo::sql::Outcome::Rows(r))) if !r.rows.is_empty()),
            "{}: no rows on the reference: {first:?}",
            path.display()
        );
        for (name, a) in &answers[1..] {
            if a != first {
                problems.push(format!(
                    "{}: reference {first:?}, {name} {a:?}",
                    path.display()
                ));
            }
        }
    }
    assert!(files.len() >= 5, "the corpus has SQL cases");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
