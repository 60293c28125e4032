//! The dataflow backend against the reference evaluator on random small programs (recursion,
//! negation, aggregation, functions) and random data, after the first epoch and after every
//! transaction of a random sequence of asserts and retracts. The reference evaluates each state
//! from scratch; the dataflow engine keeps one dataflow up to date.

use pomo::query::{Arg, prepare};
use pomo::runtime::dataflow::{Config, Engine};
use pomo::runtime::jit::{Jit, Mode};
use pomo::runtime::reference::{self, Relation};
use pomo::runtime::store::Store;
use pomo::{Input, Options};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Rule groups; each defines relations from base relations and from earlier groups.
/// (name, rules, groups it needs)
const GROUPS: &[(&str, &str, &[usize])] = &[
    (
        "path (linear)",
        "path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\n\
         path(from: ?x, to: ?z) :- path(from: ?x, to: ?y), edge(from: ?y, to: ?z).\n",
        &[],
    ),
    (
        "unreachable (negation over recursion)",
        "unreach(x: ?x, y: ?y) :- node(id: ?x), node(id: ?y), !path(from: ?x, to: ?y).\n",
        &[0],
    ),
    (
        "reach count (aggregation over recursion)",
        "reach(x: ?x, n: ?n) :- ?n := count(?y) : path(from: ?x, to: ?y).\n\
         top(x: ?x, m: ?m) :- ?m := max(?y) : path(from: ?x, to: ?y).\n",
        &[0],
    ),
    (
        "functions and tests",
        "far(x: ?x, z: ?z) :- path(from: ?x, to: ?y), ?z := add(?y, 10), ?z > 12, ?x != ?y.\n",
        &[0],
    ),
    (
        "odd/even (mutual recursion)",
        "odd(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\n\
         odd(from: ?x, to: ?z) :- even(from: ?x, to: ?y), edge(from: ?y, to: ?z).\n\
         even(from: ?x, to: ?z) :- odd(from: ?x, to: ?y), edge(from: ?y, to: ?z).\n",
        &[],
    ),
    (
        "same generation",
        "sg(a: ?x, b: ?y) :- edge(from: ?p, to: ?x), edge(from: ?p, to: ?y), ?x != ?y.\n\
         sg(a: ?x, b: ?y) :- edge(from: ?p, to: ?x), sg(a: ?p, b: ?q), edge(from: ?q, to: ?y).\n",
        &[],
    ),
    (
        "count of unreachable pairs (aggregation over negation)",
        "lonely(n: ?n) :- ?n := count(?y) : unreach(x: ?x, y: ?y).\n\
         isolated(x: ?x) :- node(id: ?x), !edge(from: ?x, to: _), !edge(from: _, to: ?x).\n",
        &[1],
    ),
    (
        "path (non-linear)",
        "tc(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\n\
         tc(from: ?x, to: ?z) :- tc(from: ?x, to: ?y), tc(from: ?y, to: ?z).\n",
        &[],
    ),
];

/// An EDN query over the datom view (the transaction diffs path) with recursion through rules,
/// negation and aggregation.
const EDN_QUERIES: &[(&str, &str)] = &[
    (
        "[:find ?x ?y :in $ % :where (reach ?x ?y)]",
        "[[(reach ?x ?y) [?e :edge/from ?x] [?e :edge/to ?y]]
          [(reach ?x ?z) (reach ?x ?y) [?e :edge/from ?y] [?e :edge/to ?z]]]",
    ),
    (
        "[:find ?x (count ?y) :in $ % :where (reach ?x ?y) (not [?n :node/id ?y])]",
        "[[(reach ?x ?y) [?e :edge/from ?x] [?e :edge/to ?y]]
          [(reach ?x ?z) (reach ?x ?y) [?e :edge/from ?y] [?e :edge/to ?z]]]",
    ),
    (
        "[:find ?n (sum ?y) :with ?e :where [?n :node/id ?x] [?e :edge/from ?x] [?e :edge/to ?y]]",
        "",
    ),
    // A function that reads the database (the engine re-runs such plans per epoch).
    (
        "[:find ?e ?y :where [?e :edge/from ?x] [(get-else $ ?e :edge/to -1) ?y] [(< ?x 4)]]",
        "",
    ),
    (
        "[:find ?x :where (or-join [?x] [?e :edge/from ?x] (and [?n :node/id ?x] [(> ?x 2)]))]",
        "",
    ),
    (
        "[:find (min ?x) (max ?y) (count-distinct ?y) :where [?e :edge/from ?x] [?e :edge/to ?y] (not-join [?x] [?n :node/id ?x])]",
        "",
    ),
];

#[derive(Clone, Debug)]
enum Op {
    /// Edge entity k now goes from → to (card-one attributes: a re-assertion replaces).
    Edge(u8, u8, u8),
    RemoveEdge(u8),
    Node(u8),
    RemoveNode(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, 0u8..6, 0u8..6).prop_map(|(k, a, b)| Op::Edge(k, a, b)),
        2 => (0u8..8).prop_map(Op::RemoveEdge),
        1 => (0u8..6).prop_map(Op::Node),
        1 => (0u8..6).prop_map(Op::RemoveNode),
    ]
}

fn tx_text(ops: &[Op]) -> String {
    let mut out = String::from("[");
    for o in ops {
        match o {
            Op::Edge(k, a, b) => out.push_str(&format!(
                "[:db/add {} :edge/from {a}] [:db/add {} :edge/to {b}] ",
                1000 + *k as i64,
                1000 + *k as i64
            )),
            Op::RemoveEdge(k) => {
                out.push_str(&format!("[:db/retractEntity {}] ", 1000 + *k as i64))
            }
            Op::Node(n) => out.push_str(&format!("[:db/add {} :node/id {n}] ", 2000 + *n as i64)),
            Op::RemoveNode(n) => {
                out.push_str(&format!("[:db/retractEntity {}] ", 2000 + *n as i64))
            }
        }
    }
    out.push(']');
    out
}

fn program(groups: &[bool]) -> String {
    // Take each chosen group with everything it needs.
    let mut on = groups.to_vec();
    for i in (0..GROUPS.len()).rev() {
        if on[i] {
            for &d in GROUPS[i].2 {
                on[d] = true;
            }
        }
    }
    // A second pass picks up needs of needs (the table only points backwards).
    for i in (0..GROUPS.len()).rev() {
        if on[i] {
            for &d in GROUPS[i].2 {
                on[d] = true;
            }
        }
    }
    let mut text = String::from(".decl edge(from, to)\n.decl node(id)\n");
    for (i, g) in GROUPS.iter().enumerate() {
        if on[i] {
            text.push_str(g.1);
        }
    }
    text
}

fn transact(store: &mut Store, text: &str) -> Option<pomo::runtime::store::TxReport> {
    let form = pomo::grammar::edn::parse_one(text).unwrap();
    let ops = pomo::edn_data::tx_data(store.db().schema(), &form).unwrap();
    // A retraction of an entity that is not there is a no-op transaction; both are fine.
    store.transact(ops).ok()
}

fn compare(
    what: &str,
    reference: &BTreeMap<String, Relation>,
    engine: &Engine,
) -> Result<(), TestCaseError> {
    for (name, rel) in engine.relations() {
        let expected = reference
            .get(&name)
            .map(|r| r.tuples.clone())
            .unwrap_or_default();
        prop_assert_eq!(
            &rel.tuples,
            &expected,
            "{}: relation {} differs (dataflow left, reference right)",
            what,
            name
        );
    }
    Ok(())
}

/// The JIT modes the property tests check.
const JIT_MODES: [Mode; 2] = [Mode::Native, Mode::Interpret];

/// The JIT backend, from scratch on the same database (it is not incremental): native and
/// interpreted kernels must both give the reference's relations.
fn compare_jit(
    what: &str,
    prepared: &pomo::query::PreparedQuery,
    env: &pomo::runtime::reference::Env,
    reference: &BTreeMap<String, Relation>,
) -> Result<(), TestCaseError> {
    for mode in JIT_MODES {
        let mut jit = Jit::new(mode);
        let out = jit
            .run(&prepared.compilation.kernel, env)
            .expect("the jit runs");
        let rels = jit.relations(&out);
        for (name, rel) in reference {
            prop_assert_eq!(
                rels.get(name).map(|r| &r.tuples),
                Some(&rel.tuples),
                "{}: relation {} differs on the jit ({:?}; jit left, reference right)",
                what,
                name,
                mode
            );
        }
    }
    Ok(())
}

fn check(
    input: &Input<'_>,
    initial: &[Op],
    txs: &[Vec<Op>],
    workers: usize,
) -> Result<(), TestCaseError> {
    let prepared = prepare(input, &Options::default()).expect("the program compiles");
    let registry = pomo::stdlib::Registry::new();
    let mut store = Store::in_memory();
    transact(&mut store, &tx_text(initial));
    let args = |store: &Store| {
        let mut a = vec![Arg::Db(store.db())];
        while a.len() < prepared.arity() {
            a.push(Arg::Value(pomo::types::Value::Nil));
        }
        a
    };
    let env = prepared.env(args(&store), &registry).unwrap();
    let config = Config {
        workers,
        ..Config::default()
    };
    let mut engine = Engine::start(prepared.compilation.flow.clone(), env.clone(), &config)
        .expect("the engine starts");
    let expected = reference::evaluate(&prepared.compilation.plan, &env).unwrap();
    compare("first epoch", &expected, &engine)?;
    compare_jit("first epoch", &prepared, &env, &expected)?;
    for (i, tx) in txs.iter().enumerate() {
        let Some(report) = transact(&mut store, &tx_text(tx)) else {
            continue;
        };
        engine
            .transact(store.db(), &report)
            .expect("the epoch runs");
        let env = prepared.env(args(&store), &registry).unwrap();
        let expected = reference::evaluate(&prepared.compilation.plan, &env).unwrap();
        compare(&format!("after transaction {}", i + 1), &expected, &engine)?;
        compare_jit(
            &format!("after transaction {}", i + 1),
            &prepared,
            &env,
            &expected,
        )?;
    }
    Ok(())
}

proptest! {
    // 48 cases per run by default; PROPTEST_CASES=N runs more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn pomologic_programs_agree(
        groups in proptest::collection::vec(any::<bool>(), GROUPS.len()),
        initial in proptest::collection::vec(op(), 0..10),
        txs in proptest::collection::vec(proptest::collection::vec(op(), 1..4), 0..6),
        workers in 1usize..3,
    ) {
        let text = program(&groups);
        check(&Input::Logic(&text), &initial, &txs, workers)?;
    }

    #[test]
    fn edn_queries_on_the_datom_view_agree(
        which in 0..EDN_QUERIES.len(),
        initial in proptest::collection::vec(op(), 0..10),
        txs in proptest::collection::vec(proptest::collection::vec(op(), 1..4), 0..6),
        workers in 1usize..3,
    ) {
        let (query, rules) = EDN_QUERIES[which];
        let input = Input::Edn { query, rules: (!rules.is_empty()).then_some(rules) };
        check(&input, &initial, &txs, workers)?;
    }
}
