//! Transaction and view semantics of the fact store, checked against the rules of the EDN
//! conformance corpus (DataScript 1.8.1) and the adopted rules of the edn-time corpus: card-one
//! replacement visible in history, redundant assertions, retractions of absent values,
//! retractEntity with refs and components, tempid allocation, lookup refs, upsert, cas, tuple
//! attributes, schema as data, and as-of / since / history in every composition order.

use pomo_runtime::Value;
use pomo_runtime::store::*;
use std::collections::BTreeSet;

fn s(x: &str) -> Value {
    Value::Str(x.into())
}
fn i(x: i64) -> Value {
    Value::Int(x)
}
fn kw(x: &str) -> Value {
    Value::Keyword(x.into())
}
fn add(e: i64, a: &str, v: Value) -> TxOp {
    TxOp::Add {
        e: EntityRef::Id(e),
        a: a.into(),
        v: TxValue::Value(v),
    }
}
fn retract(e: i64, a: &str, v: Value) -> TxOp {
    TxOp::Retract {
        e: EntityRef::Id(e),
        a: a.into(),
        v: Some(TxValue::Value(v)),
    }
}
fn map(id: Option<EntityRef>, attrs: Vec<(&str, TxValue)>) -> TxOp {
    TxOp::Map(EntityMap {
        id,
        attrs: attrs.into_iter().map(|(a, v)| (a.to_string(), v)).collect(),
    })
}
fn val(v: Value) -> TxValue {
    TxValue::Value(v)
}
fn tx(k: i64) -> i64 {
    TX0 + k
}

/// `[e a v tx added]` of the user datoms (the transaction instants are left out).
fn rows(db: &Db) -> BTreeSet<(i64, String, Value, i64, bool)> {
    db.datoms()
        .into_iter()
        .filter(|d| d.a != "db/txInstant" && !d.a.starts_with("db/"))
        .map(|d| (d.e, d.a, d.v, d.tx, d.added))
        .collect()
}
fn row(e: i64, a: &str, v: Value, t: i64, added: bool) -> (i64, String, Value, i64, bool) {
    (e, a.to_string(), v, tx(t), added)
}

fn schema(attrs: &[(&str, AttrSchema)]) -> Schema {
    Schema {
        attrs: attrs
            .iter()
            .map(|(a, s)| (a.to_string(), s.clone()))
            .collect(),
    }
}
fn store(attrs: &[(&str, AttrSchema)]) -> Store {
    Store::in_memory().with_schema(schema(attrs)).unwrap()
}
fn many() -> AttrSchema {
    AttrSchema {
        many: true,
        ..Default::default()
    }
}
fn reference() -> AttrSchema {
    AttrSchema {
        is_ref: true,
        ..Default::default()
    }
}
fn identity() -> AttrSchema {
    AttrSchema {
        unique: Some(Unique::Identity),
        ..Default::default()
    }
}

#[test]
fn card_one_replacement_is_a_retraction_in_the_same_transaction() {
    let mut st = store(&[]);
    st.transact(vec![add(1, "name", s("x"))]).unwrap();
    let r = st.transact(vec![add(1, "name", s("y"))]).unwrap();
    assert_eq!((r.t, r.tx), (2, tx(2)));
    let db = st.db();
    assert_eq!(rows(&db), [row(1, "name", s("y"), 2, true)].into());
    assert_eq!(
        rows(&db.history()),
        [
            row(1, "name", s("x"), 1, true),
            row(1, "name", s("x"), 2, false),
            row(1, "name", s("y"), 2, true)
        ]
        .into()
    );
    // The retraction names the assertion it retracts; the new value follows the old one.
    let facts: Vec<Fact> = st.facts().filter(|f| f.a == "name").collect();
    assert_eq!(facts.len(), 3);
    assert_eq!(facts[1].causes, vec![facts[0].cid]);
    assert!(!facts[1].added);
    assert_eq!(facts[2].causes, vec![facts[0].cid]);
}

#[test]
fn redundant_assertion_keeps_the_original_tx_and_noop_transactions_count() {
    let mut st = store(&[]);
    st.transact(vec![add(1, "name", s("x"))]).unwrap();
    let r = st.transact(vec![add(1, "name", s("x"))]).unwrap();
    assert_eq!(r.t, 2);
    assert!(r.datoms.iter().all(|d| d.a == "db/txInstant"));
    let r = st.transact(vec![]).unwrap();
    assert_eq!(r.tx, tx(3));
    assert_eq!(rows(&st.db()), [row(1, "name", s("x"), 1, true)].into());
    assert_eq!(
        rows(&st.db().history()),
        [row(1, "name", s("x"), 1, true)].into()
    );
    // Every transaction entity carries its instant.
    let insts = st.db().datoms_eavt(None, Some("db/txInstant"), None);
    assert_eq!(
        insts.iter().map(|d| d.e).collect::<Vec<_>>(),
        vec![tx(1), tx(2), tx(3)]
    );
    assert!(
        insts
            .iter()
            .all(|d| matches!(d.v, Value::Instant(_)) && d.tx == d.e)
    );
}

#[test]
fn retracting_absent_or_other_values_is_a_noop() {
    let mut st = store(&[]);
    st.transact(vec![add(1, "name", s("x"))]).unwrap();
    let r = st
        .transact(vec![
            retract(1, "name", s("zzz")),
            retract(2, "name", s("x")),
        ])
        .unwrap();
    assert!(r.datoms.iter().all(|d| d.a == "db/txInstant"));
    assert_eq!(rows(&st.db()), [row(1, "name", s("x"), 1, true)].into());
    st.transact(vec![retract(1, "name", s("x"))]).unwrap();
    assert!(rows(&st.db()).is_empty());
    // Re-asserting after a retraction is a new fact (it follows the retraction).
    let r = st.transact(vec![add(1, "name", s("x"))]).unwrap();
    assert_eq!(rows(&st.db()), [row(1, "name", s("x"), 4, true)].into());
    let facts: Vec<Fact> = st.facts().filter(|f| f.a == "name").collect();
    assert_ne!(facts[0].cid, facts[2].cid);
    assert_eq!(facts[2].causes, vec![facts[1].cid]);
    assert_eq!(r.datoms.iter().filter(|d| d.a == "name").count(), 1);
}

#[test]
fn within_a_transaction_the_last_assertion_wins_and_assert_retract_cancels() {
    let mut st = store(&[]);
    st.transact(vec![add(1, "name", s("x")), add(1, "name", s("y"))])
        .unwrap();
    assert_eq!(
        rows(&st.db().history()),
        [row(1, "name", s("y"), 1, true)].into()
    );
    st.transact(vec![add(2, "name", s("z")), retract(2, "name", s("z"))])
        .unwrap();
    assert!(
        st.db()
            .history()
            .datoms_eavt(Some(2), None, None)
            .is_empty()
    );
}

#[test]
fn cardinality_many_is_per_value() {
    let mut st = store(&[("tag", many())]);
    st.transact(vec![map(
        Some(EntityRef::Id(1)),
        vec![("tag", TxValue::Many(vec![val(s("a")), val(s("b"))]))],
    )])
    .unwrap();
    st.transact(vec![
        add(1, "tag", s("c")),
        retract(1, "tag", s("a")),
        add(1, "tag", s("b")),
    ])
    .unwrap();
    assert_eq!(
        rows(&st.db()),
        [
            row(1, "tag", s("b"), 1, true),
            row(1, "tag", s("c"), 2, true)
        ]
        .into()
    );
    st.transact(vec![TxOp::Retract {
        e: EntityRef::Id(1),
        a: "tag".into(),
        v: None,
    }])
    .unwrap();
    assert!(rows(&st.db()).is_empty());
}

#[test]
fn retract_attribute_retracts_all_values() {
    let mut st = store(&[("tag", many())]);
    st.transact(vec![
        add(1, "tag", s("a")),
        add(1, "tag", s("b")),
        add(1, "name", s("n")),
    ])
    .unwrap();
    st.transact(vec![TxOp::RetractAttribute {
        e: EntityRef::Id(1),
        a: "tag".into(),
    }])
    .unwrap();
    assert_eq!(rows(&st.db()), [row(1, "name", s("n"), 1, true)].into());
}

fn orders() -> Store {
    let comp = AttrSchema {
        many: true,
        is_ref: true,
        component: true,
        ..Default::default()
    };
    let mut st = store(&[
        ("order/items", comp),
        ("order/customer", reference()),
        ("customer/id", identity()),
    ]);
    st.transact(vec![
        map(
            Some(EntityRef::Id(100)),
            vec![("customer/id", val(s("c1")))],
        ),
        map(
            Some(EntityRef::Id(101)),
            vec![("customer/id", val(s("c2")))],
        ),
    ])
    .unwrap();
    let items = |xs: &[i64]| TxValue::Many(xs.iter().map(|&x| val(i(x))).collect());
    st.transact(vec![
        map(
            Some(EntityRef::Id(200)),
            vec![
                ("order/customer", val(i(100))),
                ("order/items", items(&[300, 301])),
            ],
        ),
        map(
            Some(EntityRef::Id(202)),
            vec![
                ("order/customer", val(i(101))),
                ("order/items", items(&[303, 304])),
            ],
        ),
        add(300, "item/sku", s("apple")),
        add(301, "item/sku", s("pear")),
        add(303, "item/sku", s("fig")),
        add(304, "item/sku", s("pear")),
    ])
    .unwrap();
    st
}

#[test]
fn retract_entity_retracts_components_and_incoming_refs() {
    let mut st = orders();
    st.transact(vec![TxOp::RetractEntity(EntityRef::Id(202))])
        .unwrap();
    let skus: BTreeSet<Value> = st
        .db()
        .datoms_eavt(None, Some("item/sku"), None)
        .into_iter()
        .map(|d| d.v)
        .collect();
    assert_eq!(skus, [s("apple"), s("pear")].into());
    assert!(st.db().datoms_eavt(Some(202), None, None).is_empty());
    // Retracting a customer removes the orders' refs to it, but not the orders.
    st.transact(vec![TxOp::RetractEntity(EntityRef::TempId(
        "ignored".into(),
    ))])
    .unwrap();
    st.transact(vec![TxOp::RetractEntity(EntityRef::LookupRef(
        "customer/id".into(),
        s("c1"),
    ))])
    .unwrap();
    assert!(
        st.db()
            .datoms_eavt(None, Some("order/customer"), None)
            .is_empty()
    );
    assert_eq!(
        st.db()
            .datoms_eavt(Some(200), Some("order/items"), None)
            .len(),
        2
    );
    // The history shows the retractions in the retracting transaction.
    let h = st.db().history().datoms_eavt(Some(303), None, None);
    assert_eq!(
        h.iter()
            .filter(|d| !d.added)
            .map(|d| d.tx)
            .collect::<Vec<_>>(),
        vec![tx(3)]
    );
}

#[test]
fn tempids_are_allocated_in_order_of_first_appearance() {
    let mut st = store(&[("friend", reference())]);
    st.transact(vec![add(1, "name", s("X"))]).unwrap();
    let r = st
        .transact(vec![
            map(
                Some(EntityRef::TempId("a".into())),
                vec![("name", val(s("A"))), ("friend", val(s("b")))],
            ),
            map(
                Some(EntityRef::TempId("b".into())),
                vec![("name", val(s("B")))],
            ),
        ])
        .unwrap();
    assert_eq!(
        r.tempids,
        [("a".to_string(), 2), ("b".to_string(), 3)].into()
    );
    assert_eq!(
        rows(&st.db()),
        [
            row(1, "name", s("X"), 1, true),
            row(2, "name", s("A"), 2, true),
            row(2, "friend", i(3), 2, true),
            row(3, "name", s("B"), 2, true)
        ]
        .into()
    );
    // Maps without :db/id and negative tempids; the same tempid is one entity.
    let r = st
        .transact(vec![
            map(None, vec![("name", val(s("C")))]),
            add(-1, "name", s("D")),
            add(-1, "age", i(4)),
            map(None, vec![("name", val(s("E")))]),
        ])
        .unwrap();
    assert_eq!(r.tempids, [("-1".to_string(), 5)].into());
    let names: Vec<(i64, Value)> = st
        .db()
        .datoms_eavt(None, Some("name"), None)
        .into_iter()
        .map(|d| (d.e, d.v))
        .collect();
    assert_eq!(&names[3..], &[(4, s("C")), (5, s("D")), (6, s("E"))]);
    // Schema entities never move user ids.
    assert!(
        st.db()
            .datoms_eavt(None, Some("db/ident"), None)
            .iter()
            .all(|d| d.e >= IDENT0)
    );
}

#[test]
fn nested_maps_and_reverse_refs() {
    let mut st = store(&[("friend", reference())]);
    st.transact(vec![map(
        Some(EntityRef::Id(1)),
        vec![
            ("name", val(s("A"))),
            (
                "friend",
                TxValue::Map(EntityMap {
                    id: None,
                    attrs: vec![("name".into(), val(s("B")))],
                }),
            ),
        ],
    )])
    .unwrap();
    let f = st.db().datoms_eavt(Some(1), Some("friend"), None);
    assert_eq!(f.len(), 1);
    assert_eq!(
        st.db().datoms_eavt(Some(2), Some("name"), None)[0].v,
        s("B")
    );
    st.transact(vec![map(
        Some(EntityRef::Id(3)),
        vec![("name", val(s("C"))), ("_friend", val(i(2)))],
    )])
    .unwrap();
    assert_eq!(st.db().reverse_refs("friend", 3), vec![2]);
    assert_eq!(
        st.db().entity_attrs(2),
        vec![("friend".to_string(), i(3)), ("name".to_string(), s("B"))]
    );
    // A reverse ref needs a ref attribute.
    let e = st
        .transact(vec![map(
            Some(EntityRef::Id(3)),
            vec![("_name", val(i(2)))],
        )])
        .unwrap_err();
    assert_eq!(e.kind, "transact/syntax");
}

#[test]
fn lookup_refs_in_entity_and_value_positions() {
    let mut st = store(&[("email", identity()), ("boss", reference())]);
    st.transact(vec![add(1, "email", s("a@x")), add(2, "email", s("b@x"))])
        .unwrap();
    st.transact(vec![
        TxOp::Add {
            e: EntityRef::LookupRef("email".into(), s("b@x")),
            a: "age".into(),
            v: val(i(30)),
        },
        TxOp::Add {
            e: EntityRef::Id(2),
            a: "boss".into(),
            v: val(Value::Tuple(vec![kw("email"), s("a@x")])),
        },
    ])
    .unwrap();
    assert_eq!(st.db().datoms_eavt(Some(2), Some("age"), None)[0].v, i(30));
    assert_eq!(st.db().datoms_eavt(Some(2), Some("boss"), None)[0].v, i(1));
    assert_eq!(st.db().resolve_lookup_ref("email", &s("b@x")), Some(2));
    assert_eq!(st.db().resolve_lookup_ref("email", &s("nobody")), None);
    let e = st
        .transact(vec![TxOp::Add {
            e: EntityRef::LookupRef("email".into(), s("zz")),
            a: "age".into(),
            v: val(i(1)),
        }])
        .unwrap_err();
    assert_eq!(e.kind, "transact/lookup");
    let e = st
        .transact(vec![TxOp::Add {
            e: EntityRef::LookupRef("age".into(), i(30)),
            a: "age".into(),
            v: val(i(1)),
        }])
        .unwrap_err();
    assert_eq!(e.kind, "transact/syntax");
}

#[test]
fn unique_identity_upserts_and_unique_values_are_enforced() {
    let code = AttrSchema {
        unique: Some(Unique::Value),
        ..Default::default()
    };
    let mut st = store(&[("user/email", identity()), ("code", code)]);
    st.transact(vec![
        add(1, "user/email", s("a@x")),
        add(1, "user/name", s("A")),
    ])
    .unwrap();
    let r = st
        .transact(vec![map(
            None,
            vec![("user/email", val(s("a@x"))), ("user/age", val(i(30)))],
        )])
        .unwrap();
    assert!(r.datoms.iter().any(|d| d.e == 1 && d.a == "user/age"));
    let r = st
        .transact(vec![map(
            Some(EntityRef::TempId("t".into())),
            vec![("user/email", val(s("b@x"))), ("user/age", val(i(5)))],
        )])
        .unwrap();
    assert_eq!(r.tempids["t"], 2);
    // Two maps with one new identity value in one transaction are one entity.
    let r = st
        .transact(vec![
            map(None, vec![("user/email", val(s("c@x")))]),
            map(
                None,
                vec![("user/email", val(s("c@x"))), ("user/age", val(i(9)))],
            ),
        ])
        .unwrap();
    assert!(
        r.datoms
            .iter()
            .filter(|d| d.a != "db/txInstant")
            .all(|d| d.e == 3)
    );
    st.transact(vec![add(10, "code", s("x"))]).unwrap();
    let e = st.transact(vec![add(11, "code", s("x"))]).unwrap_err();
    assert_eq!(e.kind, "transact/unique");
    let e = st
        .transact(vec![add(11, "user/email", s("a@x"))])
        .unwrap_err();
    assert_eq!(e.kind, "transact/unique");
    // Moving a unique value in one transaction is allowed.
    st.transact(vec![retract(10, "code", s("x")), add(11, "code", s("x"))])
        .unwrap();
    assert_eq!(st.db().resolve_lookup_ref("code", &s("x")), Some(11));
    // A failed transaction leaves nothing behind, not even its t.
    let before = st.facts().count();
    let t = st.last_t();
    assert!(
        st.transact(vec![add(20, "n", i(1)), add(21, "code", s("x"))])
            .is_err()
    );
    assert_eq!((st.facts().count(), st.last_t()), (before, t));
}

#[test]
fn cas_checks_the_current_value() {
    let mut st = store(&[]);
    st.transact(vec![add(1, "n", i(1))]).unwrap();
    let cas = |old: Option<Value>, new: i64| TxOp::Cas {
        e: EntityRef::Id(1),
        a: "n".into(),
        old,
        new: val(i(new)),
    };
    let e = st.transact(vec![cas(Some(i(5)), 2)]).unwrap_err();
    assert_eq!(e.kind, "transact/cas");
    assert!(e.message.contains(":db.fn/cas failed"));
    assert_eq!(
        st.transact(vec![cas(None, 2)]).unwrap_err().kind,
        "transact/cas"
    );
    st.transact(vec![cas(Some(i(1)), 2)]).unwrap();
    assert_eq!(st.db().datoms_eavt(Some(1), Some("n"), None)[0].v, i(2));
    st.transact(vec![TxOp::Cas {
        e: EntityRef::Id(1),
        a: "m".into(),
        old: None,
        new: val(i(7)),
    }])
    .unwrap();
    assert_eq!(st.db().datoms_eavt(Some(1), Some("m"), None)[0].v, i(7));
}

#[test]
fn tuple_attributes_are_maintained_and_upsert() {
    let tuple = |unique| AttrSchema {
        unique,
        tuple_attrs: Some(vec!["a".into(), "b".into()]),
        ..Default::default()
    };
    let mut st = store(&[
        ("a+b", tuple(Some(Unique::Identity))),
        (
            "city+zip",
            AttrSchema {
                tuple_attrs: Some(vec!["city".into(), "zip".into()]),
                ..Default::default()
            },
        ),
    ]);
    st.transact(vec![
        add(1, "city", s("Oslo")),
        add(1, "zip", i(150)),
        add(2, "city", s("Oslo")),
        add(2, "zip", i(151)),
    ])
    .unwrap();
    let hits = st.db().datoms_eavt(
        None,
        Some("city+zip"),
        Some(&Value::Tuple(vec![s("Oslo"), i(151)])),
    );
    assert_eq!(hits.iter().map(|d| d.e).collect::<Vec<_>>(), vec![2]);
    st.transact(vec![add(2, "zip", i(152))]).unwrap();
    assert_eq!(
        st.db().datoms_eavt(Some(2), Some("city+zip"), None)[0].v,
        Value::Tuple(vec![s("Oslo"), i(152)])
    );
    st.transact(vec![add(3, "a", i(1)), add(3, "b", s("x"))])
        .unwrap();
    st.transact(vec![map(
        None,
        vec![("a", val(i(1))), ("b", val(s("x"))), ("c", val(i(5)))],
    )])
    .unwrap();
    assert_eq!(st.db().datoms_eavt(None, Some("c"), None)[0].e, 3);
    let e = st
        .transact(vec![add(4, "a+b", Value::Tuple(vec![i(1), s("y")]))])
        .unwrap_err();
    assert_eq!(e.kind, "transact/syntax");
    // A partial tuple has nil in the missing place; retracting all components retracts it.
    st.transact(vec![add(5, "city", s("Rome"))]).unwrap();
    assert_eq!(
        st.db().datoms_eavt(Some(5), Some("city+zip"), None)[0].v,
        Value::Tuple(vec![s("Rome"), Value::Nil])
    );
    st.transact(vec![retract(5, "city", s("Rome"))]).unwrap();
    assert!(st.db().datoms_eavt(Some(5), None, None).is_empty());
}

#[test]
fn schema_is_data_and_is_validated() {
    let e = Schema::from_props(vec![(
        "name".into(),
        vec![("db/valueType".into(), kw("db.type/string"))],
    )])
    .unwrap_err();
    assert_eq!(e.kind, "schema");
    assert!(e.message.contains("Bad attribute specification"));
    let sch = Schema::from_props(vec![
        (
            "friend".into(),
            vec![
                ("db/valueType".into(), kw("db.type/ref")),
                ("db/cardinality".into(), kw("db.cardinality/many")),
            ],
        ),
        (
            "email".into(),
            vec![("db/unique".into(), kw("db.unique/identity"))],
        ),
    ])
    .unwrap();
    let mut st = Store::in_memory().with_schema(sch.clone()).unwrap();
    assert_eq!(st.schema(), &sch);
    assert_eq!(st.db().schema(), &sch);
    // The schema transaction is the genesis transaction: user transactions start at TX0 + 1.
    assert_eq!(st.transact(vec![]).unwrap().tx, tx(1));
    // Defining an attribute in a transaction changes the schema for later transactions.
    st.transact(vec![map(
        None,
        vec![
            ("db/ident", val(kw("tag"))),
            ("db/cardinality", val(kw("db.cardinality/many"))),
        ],
    )])
    .unwrap();
    assert!(st.schema().attrs["tag"].many);
    st.transact(vec![add(1, "tag", s("a")), add(1, "tag", s("b"))])
        .unwrap();
    assert_eq!(st.db().datoms_eavt(Some(1), Some("tag"), None).len(), 2);
    let e = st
        .transact(vec![map(
            None,
            vec![
                ("db/ident", val(kw("bad"))),
                ("db/valueType", val(kw("db.type/string"))),
            ],
        )])
        .unwrap_err();
    assert_eq!(e.kind, "schema");
    // A redundant schema writes nothing.
    let n = st.facts().count();
    let st = st.with_schema(sch).unwrap();
    assert_eq!(st.facts().count(), n);
}

#[test]
fn invalid_tx_data_is_an_error_not_a_panic() {
    let mut st = store(&[("friend", reference())]);
    for op in [
        add(1, "", s("x")),
        add(1, "name", Value::Nil),
        add(1, "x", Value::Float(f64::NAN)),
        add(0, "name", s("x")),
        add(1, "friend", kw("nope")),
        add(1, "c", Value::Cid("not a cid".into())),
        TxOp::Cas {
            e: EntityRef::Id(1),
            a: "x".into(),
            old: None,
            new: TxValue::Map(EntityMap::default()),
        },
    ] {
        let e = st.transact(vec![op.clone()]).unwrap_err();
        assert_eq!(e.kind, "transact/syntax", "{op:?}: {e}");
    }
    assert_eq!(st.last_t(), Some(0));
}

/// The ACCT-like history of the edn-time corpus: 1 asserts, 2 replaces, 3 retracts, 4 re-adds.
fn acct() -> Store {
    let mut st = store(&[]);
    st.transact(vec![add(10, "bal", i(100)), add(11, "bal", i(5))])
        .unwrap();
    st.transact(vec![add(10, "bal", i(150)), add(11, "bal", i(5))])
        .unwrap();
    st.transact(vec![retract(11, "bal", i(5)), add(12, "bal", i(7))])
        .unwrap();
    st.transact(vec![add(11, "bal", i(5))]).unwrap();
    st
}

#[test]
fn as_of_is_inclusive_and_accepts_t_or_tx() {
    let st = acct();
    let db = st.db();
    assert!(rows(&db.as_of(0)).is_empty());
    assert_eq!(
        rows(&db.as_of(1)),
        [
            row(10, "bal", i(100), 1, true),
            row(11, "bal", i(5), 1, true)
        ]
        .into()
    );
    assert_eq!(rows(&db.as_of(tx(1))), rows(&db.as_of(1)));
    assert_eq!(
        rows(&db.as_of(3)),
        [
            row(10, "bal", i(150), 2, true),
            row(12, "bal", i(7), 3, true)
        ]
        .into()
    );
    assert_eq!(rows(&db.as_of(4)), rows(&db));
}

#[test]
fn since_is_an_exclusive_filter_of_the_present() {
    let st = acct();
    let db = st.db();
    assert_eq!(rows(&db.since(0)), rows(&db));
    assert_eq!(
        rows(&db.since(2)),
        [row(12, "bal", i(7), 3, true), row(11, "bal", i(5), 4, true)].into()
    );
    assert!(rows(&db.since(4)).is_empty());
    assert_eq!(rows(&db.since(tx(2))), rows(&db.since(2)));
}

#[test]
fn history_has_every_assertion_and_retraction() {
    let st = acct();
    let h = rows(&st.db().history());
    assert_eq!(
        h,
        [
            row(10, "bal", i(100), 1, true),
            row(10, "bal", i(100), 2, false),
            row(10, "bal", i(150), 2, true),
            row(11, "bal", i(5), 1, true),
            row(11, "bal", i(5), 3, false),
            row(11, "bal", i(5), 4, true),
            row(12, "bal", i(7), 3, true),
        ]
        .into()
    );
    assert!(st.db().history().is_history());
    let d = st
        .db()
        .history()
        .datoms_eavt(Some(11), Some("bal"), Some(&i(5)));
    let cids: BTreeSet<String> = d.iter().map(|d| st.db().fact_cid(d).unwrap()).collect();
    assert_eq!(cids.len(), 3);
    assert!(cids.iter().all(|c| c.starts_with("bafyrei")));
}

#[test]
fn views_compose_in_any_order() {
    let st = acct();
    let db = st.db();
    type Step = fn(&Db) -> Db;
    let steps: [Step; 3] = [|d| d.as_of(3), |d| d.since(1), |d| d.history()];
    let expected = [
        row(10, "bal", i(100), 2, false),
        row(10, "bal", i(150), 2, true),
        row(11, "bal", i(5), 3, false),
        row(12, "bal", i(7), 3, true),
    ];
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let v = order.iter().fold(db.clone(), |d, &k| steps[k](&d));
        assert_eq!(rows(&v), expected.clone().into(), "order {order:?}");
    }
    // as-of + since without history: the db as of 3, keeping datoms newer than 2.
    assert_eq!(
        rows(&db.as_of(3).since(2)),
        [row(12, "bal", i(7), 3, true)].into()
    );
    assert_eq!(rows(&db.since(2).as_of(3)), rows(&db.as_of(3).since(2)));
    assert!(rows(&db.since(3).as_of(3)).is_empty());
    assert!(rows(&db.history().since(3).as_of(2)).is_empty());
}

#[test]
fn a_db_is_an_immutable_snapshot() {
    let mut st = store(&[]);
    st.transact(vec![add(1, "n", i(1))]).unwrap();
    let before = st.db();
    st.transact(vec![add(1, "n", i(2)), add(2, "n", i(3))])
        .unwrap();
    assert_eq!(rows(&before), [row(1, "n", i(1), 1, true)].into());
    assert_eq!(rows(&before.history()), [row(1, "n", i(1), 1, true)].into());
    assert_eq!(rows(&st.db()).len(), 2);
}

#[test]
fn index_lookups_serve_every_binding_combination() {
    let st = orders();
    let db = st.db();
    let all = db.datoms();
    let combos: Vec<(Option<i64>, Option<&str>, Option<Value>)> = vec![
        (None, None, None),
        (Some(200), None, None),
        (Some(200), Some("order/items"), None),
        (Some(200), Some("order/items"), Some(i(301))),
        (Some(200), None, Some(i(100))),
        (None, Some("item/sku"), None),
        (None, Some("item/sku"), Some(s("pear"))),
        (None, None, Some(s("pear"))),
        (None, Some("nope"), None),
        (Some(999), None, None),
    ];
    for (e, a, v) in combos {
        let got: BTreeSet<Datom> = db.datoms_eavt(e, a, v.as_ref()).into_iter().collect();
        let want: BTreeSet<Datom> = all
            .iter()
            .filter(|d| {
                e.is_none_or(|e| d.e == e)
                    && a.is_none_or(|a| d.a == a)
                    && v.as_ref().is_none_or(|v| &d.v == v)
            })
            .cloned()
            .collect();
        assert_eq!(got, want, "{e:?} {a:?} {v:?}");
    }
}

#[test]
fn databases_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Db>();
    send_sync::<Store>();
    let mut st = store(&[]);
    st.transact(vec![add(1, "n", i(1))]).unwrap();
    let db = st.db();
    let h = std::thread::spawn(move || db.datoms().len());
    st.transact(vec![add(2, "n", i(2))]).unwrap();
    assert_eq!(h.join().unwrap(), st.db().as_of(1).datoms().len());
}

/// The statistics of every attribute, computed from the current datoms.
fn counted(db: &Db) -> Vec<(String, Stats)> {
    let mut by: std::collections::BTreeMap<String, (u64, BTreeSet<i64>, BTreeSet<Value>)> =
        Default::default();
    for d in db.datoms() {
        let s = by.entry(d.a).or_default();
        s.0 += 1;
        s.1.insert(d.e);
        s.2.insert(d.v);
    }
    by.into_iter()
        .map(|(a, (n, es, vs))| {
            (
                a,
                Stats {
                    datoms: n,
                    entities: es.len() as u64,
                    values: vs.len() as u64,
                },
            )
        })
        .collect()
}

#[test]
fn statistics_follow_assertions_replacements_and_retractions() {
    let mut st = Store::in_memory()
        .with_schema(
            Schema::from_props(vec![(
                "tag".into(),
                vec![("db/cardinality".into(), kw("db.cardinality/many"))],
            )])
            .unwrap(),
        )
        .unwrap();
    st.transact(vec![
        add(1, "name", s("a")),
        add(2, "name", s("a")),
        add(3, "name", s("c")),
        add(1, "tag", i(1)),
        add(1, "tag", i(2)),
        add(2, "tag", i(2)),
    ])
    .unwrap();
    st.transact(vec![add(1, "name", s("b")), retract(1, "tag", i(2))])
        .unwrap();
    st.transact(vec![TxOp::RetractEntity(EntityRef::Id(3))])
        .unwrap();
    st.import_batch(vec![(7, "name".into(), s("a")), (8, "age".into(), i(3))])
        .unwrap();
    let db = st.db();
    let stats: Vec<(String, Stats)> = db
        .all_stats()
        .into_iter()
        .filter(|(_, s)| s.datoms > 0)
        .collect();
    assert_eq!(stats, counted(&db));
    assert_eq!(
        db.stats("name"),
        Stats {
            datoms: 3,
            entities: 3,
            values: 2
        }
    );
    assert_eq!(db.stats("nothing"), Stats::default());
}

#[test]
fn an_import_batch_writes_what_the_same_transaction_would() {
    let rows = |e0: i64| -> Vec<(i64, String, Value)> {
        (e0..e0 + 50)
            .flat_map(|e| {
                [
                    (e, "p/name".to_string(), s(&format!("n{e}"))),
                    (e, "p/age".to_string(), i(e % 7)),
                ]
            })
            .collect()
    };
    let ops = |r: Vec<(i64, String, Value)>| -> Vec<TxOp> {
        r.into_iter().map(|(e, a, v)| add(e, &a, v)).collect()
    };
    let mut a = Store::in_memory();
    let mut b = Store::in_memory();
    a.set_clock(Some(5));
    a.set_id_seed(Some(1));
    b.set_clock(Some(5));
    b.set_id_seed(Some(1));
    // The fast path (new entities), then a batch that replaces values (the ordinary path).
    for e0 in [1, 51, 26] {
        a.import_batch(rows(e0)).unwrap();
        b.transact(ops(rows(e0))).unwrap();
    }
    let cids = |st: &Store| st.facts().map(|f| f.cid).collect::<Vec<_>>();
    assert_eq!(cids(&a), cids(&b));
    assert_eq!(a.db().history().datoms(), b.db().history().datoms());
    assert_eq!(a.verify().unwrap(), b.verify().unwrap());
}

/// A bulk import is one write transaction of the indexes with the commits, facts and CIDs of
/// the same batches imported one by one; its deferred AEVT and AVET keys land in order and its
/// statistics count as the index does.
#[test]
fn a_bulk_import_writes_what_the_batches_one_by_one_would() {
    let rows = |e0: i64| -> Vec<(i64, String, Value)> {
        (e0..e0 + 50)
            .flat_map(|e| {
                [
                    (e, "p/name".to_string(), s(&format!("n{}", e % 30))),
                    (e, "p/age".to_string(), i(e % 7)),
                ]
            })
            .collect()
    };
    // New entities in order, out of order, then a batch that replaces values (the planner).
    let starts = [1, 101, 51, 26];
    let mut a = Store::in_memory();
    let mut b = Store::in_memory();
    a.set_clock(Some(5));
    a.set_id_seed(Some(1));
    b.set_clock(Some(5));
    b.set_id_seed(Some(1));
    let mut next = starts.iter();
    let report = a
        .import_bulk(|| Ok(next.next().map(|&e0| rows(e0))))
        .unwrap();
    assert_eq!(report.facts, 400);
    assert_eq!(report.commits, 4);
    assert!(report.scattered, "the last batch went through the planner");
    for e0 in starts {
        b.import_batch(rows(e0)).unwrap();
    }
    let cids = |st: &Store| st.facts().map(|f| f.cid).collect::<Vec<_>>();
    assert_eq!(cids(&a), cids(&b));
    let (da, db) = (a.db(), b.db());
    assert_eq!(da.history().datoms(), db.history().datoms());
    assert_eq!(
        da.datoms_eavt(None, Some("p/name"), None),
        db.datoms_eavt(None, Some("p/name"), None)
    );
    assert_eq!(
        da.datoms_eavt(None, None, Some(&s("n7"))),
        db.datoms_eavt(None, None, Some(&s("n7")))
    );
    assert_eq!(da.all_stats(), db.all_stats());
    assert_eq!(counted(&da), counted(&db));
    assert_eq!(a.verify().unwrap(), b.verify().unwrap());

    // Only new entities, in entity order: every index in key order, nothing to compact.
    let mut c = Store::in_memory();
    let mut next = [1, 51, 101].into_iter();
    let report = c.import_bulk(|| Ok(next.next().map(rows))).unwrap();
    assert!(!report.scattered);
    assert_eq!(c.db().stats("p/name").values, 30);
    assert_eq!(
        c.db()
            .all_stats()
            .into_iter()
            .filter(|(_, s)| s.datoms > 0)
            .collect::<Vec<_>>(),
        counted(&c.db())
    );
}

/// An input error in the middle of a bulk import keeps nothing of it.
#[test]
fn a_failed_bulk_import_keeps_nothing() {
    let mut st = Store::in_memory();
    st.transact(vec![add(1, "p/name", s("kept"))]).unwrap();
    let before = st.facts().count();
    let mut n = 0;
    let err = st
        .import_bulk(|| {
            n += 1;
            match n {
                1 => Ok(Some(vec![(2, "p/name".to_string(), s("x"))])),
                _ => Err("row 2: not a number".to_string()),
            }
        })
        .unwrap_err();
    assert_eq!(err.kind, "import");
    assert_eq!(st.facts().count(), before);
    assert_eq!(st.db().datoms_eavt(Some(2), None, None), vec![]);
    // The store goes on working, and a fresh bulk import into it lands.
    let mut once = Some(vec![(3, "p/name".to_string(), s("y"))]);
    st.import_bulk(|| Ok(once.take())).unwrap();
    assert_eq!(st.db().datoms_eavt(Some(3), None, None).len(), 1);
}
