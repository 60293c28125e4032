//! The dataflow engine as an embedding application uses it: feed base relations, subscribe to
//! each epoch's diffs, step inductive rules, and read the current contents.

use pomo::runtime::dataflow::{Config, Engine, EpochDiffs};
use pomo::runtime::reference::Env;
use pomo::types::Value;
use std::collections::BTreeSet;

fn engine(program: &str, workers: usize) -> Engine {
    let c = pomo::compile(&pomo::Input::Logic(program), &pomo::Options::default()).unwrap();
    Engine::start(
        c.flow,
        Env::default(),
        &Config {
            workers,
            ..Config::default()
        },
    )
    .unwrap()
}

fn ints(xs: &[i64]) -> Vec<Value> {
    xs.iter().map(|x| Value::Int(*x)).collect()
}

fn diffs(d: &EpochDiffs, rel: &str) -> BTreeSet<(Vec<Value>, isize)> {
    d.values(rel).into_iter().collect()
}

const TC: &str = ".decl edge(from, to)\n\
    path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\n\
    path(from: ?x, to: ?z) :- path(from: ?x, to: ?y), edge(from: ?y, to: ?z).\n\
    hubs(n: ?n) :- ?n := count(?x) : path(from: ?x, to: 3).\n";

#[test]
fn updates_report_exactly_the_changes_and_subscribers_see_them() {
    for workers in [1, 2] {
        let mut e = engine(TC, workers);
        let sub = e.subscribe();
        let d = e
            .update(vec![
                ("edge".into(), ints(&[1, 2]), 1),
                ("edge".into(), ints(&[2, 3]), 1),
            ])
            .unwrap();
        assert_eq!(
            diffs(&d, "path"),
            [(ints(&[1, 2]), 1), (ints(&[1, 3]), 1), (ints(&[2, 3]), 1)]
                .into_iter()
                .collect()
        );
        assert_eq!(diffs(&d, "hubs"), [(ints(&[2]), 1)].into_iter().collect());
        // Removing the first edge retracts what depended on it, and the count moves.
        let d2 = e.update(vec![("edge".into(), ints(&[1, 2]), -1)]).unwrap();
        assert_eq!(
            diffs(&d2, "path"),
            [(ints(&[1, 2]), -1), (ints(&[1, 3]), -1)]
                .into_iter()
                .collect()
        );
        assert_eq!(
            diffs(&d2, "hubs"),
            [(ints(&[2]), -1), (ints(&[1]), 1)].into_iter().collect()
        );
        assert_eq!(
            e.relation("path").unwrap().tuples,
            [ints(&[2, 3])].into_iter().collect()
        );
        // The subscriber saw both epochs, in order.
        let seen: Vec<EpochDiffs> = sub.try_iter().collect();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], d);
        assert_eq!(seen[1], d2);
        assert!(seen[0].epoch < seen[1].epoch);
        // A relation the plan does not have is an error, not a panic.
        assert!(e.update(vec![("nope".into(), ints(&[1]), 1)]).is_err());
    }
}

#[test]
fn step_delivers_inductive_tuples_at_the_next_epoch() {
    let program = ".decl tick(n)\n\
        counter(v: 0).\n\
        counter(v: ?w)@next :- counter(v: ?v), tick(n: _), ?w := add(?v, 1).\n\
        counter(v: ?v)@next :- counter(v: ?v), !tick(n: _).\n";
    let mut e = engine(program, 1);
    let now = |e: &Engine| e.relation("counter").unwrap().tuples;
    assert_eq!(now(&e), [ints(&[0])].into_iter().collect());
    // A tick at this epoch makes the counter 1 at the next one.
    e.update(vec![("tick".into(), ints(&[1]), 1)]).unwrap();
    assert_eq!(now(&e), [ints(&[0])].into_iter().collect());
    e.update(vec![("tick".into(), ints(&[1]), -1)]).unwrap();
    assert_eq!(now(&e), [ints(&[1])].into_iter().collect());
    // Without ticks it keeps its value, epoch after epoch (the fact held only at the start).
    e.step().unwrap();
    e.step().unwrap();
    assert_eq!(now(&e), [ints(&[1])].into_iter().collect());
}

#[test]
fn a_function_error_is_reported_not_panicked() {
    let mut e = engine(
        ".decl item(name)\nshout(s: ?t) :- item(name: ?n), ?t := add(?n, 1).\n",
        1,
    );
    let err = e
        .update(vec![("item".into(), vec![Value::Str("x".into())], 1)])
        .unwrap_err();
    assert!(!err.message.is_empty());
}
