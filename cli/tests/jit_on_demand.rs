//! The JIT with every store view that kernels only probe read key by key from the store
//! (index-nested-loop joins into the store's indexes, `runtime/src/jit/lazy.rs`). On real stores
//! only views much larger than the scans that drive their probes are; here the thresholds are
//! zero, in a process of its own, so that every plan that can take this path takes it and the
//! answers are checked against the same expectations as everywhere else.

mod common;

use common::run_suite;
use pomo::runtime::jit::Mode;
use pomo_cli::conformance::Backend;

#[test]
fn edn_corpora_on_jit_reading_views_key_by_key() {
    pomo::runtime::jit::set_on_demand(0, 0);
    for suite in ["edn", "edn-time"] {
        run_suite(suite, Backend::Jit(Mode::Native));
        run_suite(suite, Backend::Jit(Mode::Interpret));
    }
}

/// The golden corpus (in the repository) on the demo data: the JIT reading views key by key
/// gives the reference's answers, native and interpreted.
#[test]
fn corpus_queries_agree_with_the_reference_reading_views_key_by_key() {
    use pomo::query::{Arg, Backend};
    use pomo::types::Value;
    pomo::runtime::jit::set_on_demand(0, 0);
    let store = common::demo_store();
    let registry = pomo_cli::conformance::host_registry();
    let (mut same, mut problems) = (0, Vec::new());
    for (path, text, q) in common::corpus_queries() {
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
        let reference = q.run_on(args(), &registry, &Backend::Reference);
        for mode in [Mode::Native, Mode::Interpret] {
            let jit = q.run_on(args(), &registry, &Backend::Jit(mode));
            if jit == reference {
                same += 1;
            } else {
                problems.push(format!(
                    "{} ({mode:?}): reference {reference:?}, jit {jit:?}",
                    path.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(same > 300, "only {same} runs compared");
}

/// An app that transacts and joins in a loop: the keys a query loaded key by key are kept for
/// the next run on the same database value, dropped for a newer one, and every answer follows
/// the store.
#[test]
fn keys_loaded_key_by_key_follow_new_commits() {
    use pomo::runtime::store::{EntityRef, TxOp, TxValue};
    use pomo::types::Value;
    pomo::runtime::jit::set_on_demand(0, 0);
    let add = |e: i64, a: &str, v: Value| TxOp::Add {
        e: EntityRef::Id(e),
        a: a.into(),
        v: TxValue::Value(v),
    };
    let mut app = pomo::api::Pomo::in_memory();
    app.jit_mut().set_view_budget(64 << 10);
    let q = r#"[:find ?e2 ?n :in $ ?name :where [?e :p/name ?name] [?e :p/group ?g]
                [?e2 :p/group ?g] [?e2 :p/name ?n]]"#;
    for round in 1..=60i64 {
        app.transact(vec![
            add(round, "p/name", Value::Str(format!("n{round}"))),
            add(round, "p/group", Value::Int(round % 5)),
        ])
        .unwrap();
        for _ in 0..2 {
            let who = Value::Str(format!("n{}", round / 2 + 1));
            let got = app.query(q, &[who]).unwrap();
            let g = (round / 2 + 1) % 5;
            let expect: std::collections::BTreeSet<Value> = (1..=round)
                .filter(|e| e % 5 == g)
                .map(|e| Value::Tuple(vec![Value::Int(e), Value::Str(format!("n{e}"))]))
                .collect();
            assert_eq!(
                got,
                Value::Set(expect.into_iter().collect()),
                "round {round}"
            );
        }
        let (bytes, _) = app.jit_mut().view_cache();
        assert!(bytes <= 64 << 10, "round {round}: {bytes} bytes cached");
    }
}
