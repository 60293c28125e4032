//! The prelude's rules agree with the store: on replicas whose merges left concurrent writes,
//! the PomoLogic prelude and its EDN rule set give, on every backend, the current values the
//! store shows (`lww`, `aw_set`), the conflicts it keeps (`Db::conflicts`), and the counter's
//! total.

use pomo::Input;
use pomo::query::{Arg, Backend, prepare};
use pomo::runtime::dataflow::Config;
use pomo::runtime::jit::Mode;
use pomo::runtime::store::{AttrSchema, Db, Schema, Store, TxOp};
use pomo::stdlib::{PRELUDE, PRELUDE_EDN, Registry};
use pomo::types::Value;
use std::collections::BTreeSet;

fn backends() -> Vec<Backend> {
    vec![
        Backend::Reference,
        Backend::Jit(Mode::Native),
        Backend::Dataflow(Config::default()),
    ]
}

fn tx(st: &mut Store, edn: &str) {
    let node = pomo::grammar::edn::parse_one(edn).unwrap();
    let ops: Vec<TxOp> = pomo::edn_data::tx_data(st.db().schema(), &node).unwrap();
    st.transact(ops).unwrap();
}

/// Merges everything `from` holds into `to`.
fn pull(to: &mut Store, from: &Store) {
    let mut car = Vec::new();
    pomo::replica::export_car(from, &mut car).unwrap();
    pomo::replica::import_car(to, car.as_slice()).unwrap();
}

/// Rows of a query's result (a set of tuples).
fn rows(v: Value) -> BTreeSet<Vec<Value>> {
    match v {
        Value::Set(items) | Value::Tuple(items) => items
            .into_iter()
            .map(|r| match r {
                Value::Tuple(xs) => xs,
                x => vec![x],
            })
            .collect(),
        other => panic!("not a relation: {other}"),
    }
}

fn run(input: &Input, db: &Db, backend: &Backend, with_rules: bool) -> BTreeSet<Vec<Value>> {
    let q = prepare(input, &pomo::Options::default())
        .unwrap_or_else(|d| panic!("{input:?} does not compile: {d:?}"));
    let mut args = vec![Arg::Db(db.clone())];
    if with_rules {
        args.push(Arg::Value(Value::Nil));
    }
    rows(q.run_on(args, &Registry::new(), backend).unwrap())
}

/// Three replicas from a common base, each writing Ivan's city, a tag set with concurrent
/// retraction and re-assertion, and counter increments; then everyone merges everything.
fn replicas() -> Vec<Store> {
    let mut schema = Schema::default();
    schema.attrs.insert(
        "p/tags".into(),
        AttrSchema {
            many: true,
            ..AttrSchema::default()
        },
    );
    let mut a = Store::in_memory().with_schema(schema).unwrap();
    tx(
        &mut a,
        r#"[{:db/id "i" :p/name "Ivan" :p/city "Moscow" :p/tags ["x" "y"]}]"#,
    );
    let (mut b, mut c) = (Store::in_memory(), Store::in_memory());
    pull(&mut b, &a);
    pull(&mut c, &a);
    let ivan = |s: &Store| {
        s.db()
            .datoms_eavt(None, Some("p/name"), Some(&Value::Str("Ivan".into())))[0]
            .e
    };
    let (ia, ib, ic) = (ivan(&a), ivan(&b), ivan(&c));
    tx(
        &mut a,
        &format!(r#"[[:db/add {ia} :p/city "Paris"] [:db/retract {ia} :p/tags "x"]]"#),
    );
    tx(
        &mut b,
        &format!(r#"[[:db/add {ib} :p/city "Rome"] [:db/retract {ib} :p/tags "x"]]"#),
    );
    tx(
        &mut b,
        &format!(r#"[[:db/add {ib} :p/tags "x"] [:db/retract {ib} :p/tags "y"]]"#),
    );
    tx(&mut c, &format!(r#"[[:db/add {ic} :p/city "Oslo"]]"#));
    for (s, n) in [(&mut a, 2), (&mut b, 2), (&mut c, 5)] {
        let e = ivan(s);
        tx(s, &format!(r#"[{{:counter/of {e} :counter/delta {n}}}]"#));
    }
    // Everyone learns everything (twice over, in different orders).
    for _ in 0..2 {
        pull(&mut a, &b);
        pull(&mut a, &c);
        pull(&mut b, &a);
        pull(&mut c, &a);
    }
    vec![a, b, c]
}

#[test]
fn the_prelude_agrees_with_the_store_on_every_replica_and_backend() {
    let stores = replicas();
    let states: BTreeSet<_> = stores.iter().map(|s| s.state().unwrap().cid).collect();
    assert_eq!(states.len(), 1, "the replicas hold the same facts");
    let logic = |body: &str| format!("{body}\n{PRELUDE}");
    let mut answers = BTreeSet::new();
    for st in &stores {
        let db = st.db();
        let hist = db.history();
        let ivan = db.datoms_eavt(None, Some("p/name"), Some(&Value::Str("Ivan".into())))[0].e;
        let city = db.datoms_eavt(Some(ivan), Some("p/city"), None)[0]
            .v
            .clone();
        let tags: BTreeSet<Vec<Value>> = db
            .datoms_eavt(Some(ivan), Some("p/tags"), None)
            .into_iter()
            .map(|d| vec![d.v])
            .collect();
        // Add-wins: b's re-assertion of x was concurrent with a's retraction; y was retracted.
        assert_eq!(tags, [vec![Value::Str("x".into())]].into());
        let conflicts: BTreeSet<Vec<Value>> = db
            .conflicts(ivan, "p/city")
            .into_iter()
            .map(|(v, _)| vec![v])
            .collect();
        assert_eq!(conflicts.len(), 2, "three concurrent cities, one wins");
        for backend in backends() {
            let lww = logic(".output q(v) relation\nq(v: ?v) :- lww(a: :p/city, v: ?v).");
            assert_eq!(
                run(&Input::Logic(&lww), &hist, &backend, false),
                [vec![city.clone()]].into(),
                "{backend:?}"
            );
            let lost = logic(".output q(v) relation\nq(v: ?v) :- conflicts(a: :p/city, v: ?v).");
            assert_eq!(run(&Input::Logic(&lost), &hist, &backend, false), conflicts);
            let set = logic(".output q(v) relation\nq(v: ?v) :- aw_set(a: :p/tags, v: ?v).");
            assert_eq!(run(&Input::Logic(&set), &hist, &backend, false), tags);
            let total = logic(".output q(n) relation\nq(n: ?n) :- counter(total: ?n).");
            assert_eq!(
                run(&Input::Logic(&total), &hist, &backend, false),
                [vec![Value::Int(9)]].into()
            );
            let edn = |q: &'static str| Input::Edn {
                query: q,
                rules: Some(PRELUDE_EDN),
            };
            assert_eq!(
                run(
                    &edn("[:find ?v :in $ % :where (lww _ :p/city ?v)]"),
                    &hist,
                    &backend,
                    true
                ),
                [vec![city.clone()]].into()
            );
            assert_eq!(
                run(
                    &edn("[:find ?v :in $ % :where (conflicts _ :p/city ?v _)]"),
                    &hist,
                    &backend,
                    true
                ),
                conflicts
            );
            assert_eq!(
                run(
                    &edn("[:find ?v :in $ % :where (aw-set _ :p/tags ?v)]"),
                    &hist,
                    &backend,
                    true
                ),
                tags
            );
            assert_eq!(
                run(
                    &edn("[:find (sum ?d) :with ?i :in $ % :where (increment _ ?d ?i)]"),
                    &hist,
                    &backend,
                    true
                ),
                [vec![Value::Int(9)]].into()
            );
        }
        answers.insert((city, conflicts));
    }
    assert_eq!(answers.len(), 1, "every replica gives the same answers");
}
