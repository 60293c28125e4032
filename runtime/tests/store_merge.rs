//! Replicas merge by set union of facts: commits and facts travel as blocks, every replica
//! that holds the same facts has the same state and the same current values (last writer wins
//! by causes, then by CID; add-wins for cardinality many), whatever order merges happen in.

use pomo_runtime::Value;
use pomo_runtime::store::*;
use std::collections::BTreeSet;

fn s(x: &str) -> Value {
    Value::Str(x.into())
}

fn add(e: EntityRef, a: &str, v: Value) -> TxOp {
    TxOp::Add {
        e,
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

fn new_person(name: &str, city: &str) -> Vec<TxOp> {
    vec![
        add(EntityRef::TempId("p".into()), "person/name", s(name)),
        add(EntityRef::TempId("p".into()), "person/city", s(city)),
    ]
}

/// Every commit and fact `from` holds, merged into `to`.
fn pull(to: &mut Store, from: &Store) -> MergeReport {
    let (mut commits, mut facts) = (Vec::new(), Vec::new());
    from.for_each_commit(|c, f| {
        commits.push((c.cid, c.block));
        facts.extend(f);
        Ok(())
    })
    .unwrap();
    to.merge(commits, facts).unwrap()
}

fn schema() -> Schema {
    let mut s = Schema::default();
    s.attrs.insert(
        "person/tags".into(),
        AttrSchema {
            many: true,
            ..AttrSchema::default()
        },
    );
    s
}

/// The current `[name city]` pairs, and each person's tags, by name.
fn people(st: &Store) -> BTreeSet<(Value, Value)> {
    let db = st.db();
    db.datoms_eavt(None, Some("person/name"), None)
        .into_iter()
        .map(|d| {
            let city = db
                .datoms_eavt(Some(d.e), Some("person/city"), None)
                .into_iter()
                .map(|c| c.v)
                .next()
                .unwrap_or(Value::Nil);
            (d.v, city)
        })
        .collect()
}

fn tags(st: &Store, name: &str) -> BTreeSet<Value> {
    let db = st.db();
    let e = db.datoms_eavt(None, Some("person/name"), Some(&s(name)))[0].e;
    db.datoms_eavt(Some(e), Some("person/tags"), None)
        .into_iter()
        .map(|d| d.v)
        .collect()
}

fn ivan(st: &Store) -> i64 {
    st.db()
        .datoms_eavt(None, Some("person/name"), Some(&s("Ivan")))[0]
        .e
}

/// Two replicas from a common base (A's schema and Ivan, merged into B).
fn base() -> (Store, Store) {
    let mut a = Store::in_memory().with_schema(schema()).unwrap();
    a.transact(new_person("Ivan", "Moscow")).unwrap();
    let mut b = Store::in_memory();
    pull(&mut b, &a);
    assert_eq!(a.state().unwrap(), b.state().unwrap());
    (a, b)
}

#[test]
fn concurrent_writes_converge_to_one_value_on_every_replica() {
    let (mut a, mut b) = base();
    assert_ne!(a.replica_id(), b.replica_id());
    let (ia, ib) = (ivan(&a), ivan(&b));
    assert_eq!(a.db().global_id(ia), b.db().global_id(ib));
    a.transact(vec![add(EntityRef::Id(ia), "person/city", s("Paris"))])
        .unwrap();
    b.transact(vec![add(EntityRef::Id(ib), "person/city", s("Rome"))])
        .unwrap();
    a.transact(new_person("Ann", "Oslo")).unwrap();
    b.transact(new_person("Bob", "Kyiv")).unwrap();
    assert_ne!(a.state().unwrap().cid, b.state().unwrap().cid);
    let ra = pull(&mut a, &b);
    let rb = pull(&mut b, &a);
    assert_eq!(ra.commits, 2);
    assert_eq!(rb.commits, 2);
    let (sa, sb) = (a.state().unwrap(), b.state().unwrap());
    assert_eq!(sa.cid, sb.cid);
    assert_eq!(sa.facts, sb.facts);
    let (pa, pb) = (people(&a), people(&b));
    assert_eq!(pa, pb);
    assert_eq!(pa.len(), 3, "{pa:?}");
    // One city for Ivan, and the other one is the conflict, on both replicas.
    let city = pa.iter().find(|(n, _)| *n == s("Ivan")).unwrap().1.clone();
    assert!(city == s("Paris") || city == s("Rome"), "{city}");
    let ca = a.db().conflicts(ia, "person/city");
    assert_eq!(ca, b.db().conflicts(ib, "person/city"));
    assert_eq!(ca.len(), 1);
    assert_ne!(ca[0].0, city);
    // Merging again changes nothing.
    let again = pull(&mut a, &b);
    assert_eq!((again.commits, again.new_facts), (0, 0));
    assert_eq!(a.state().unwrap().cid, sa.cid);
    // A later write on one replica settles the conflict everywhere.
    a.transact(vec![add(EntityRef::Id(ia), "person/city", s("Lima"))])
        .unwrap();
    pull(&mut b, &a);
    assert!(a.db().conflicts(ia, "person/city").is_empty());
    assert!(b.db().conflicts(ib, "person/city").is_empty());
    assert_eq!(people(&a), people(&b));
    assert!(people(&b).contains(&(s("Ivan"), s("Lima"))));
    assert!(a.verify().is_ok() && b.verify().is_ok());
}

#[test]
fn the_order_of_merges_does_not_matter() {
    let (mut a, mut b) = base();
    let mut c = Store::in_memory();
    pull(&mut c, &a);
    let (ia, ib, ic) = (ivan(&a), ivan(&b), ivan(&c));
    a.transact(vec![add(EntityRef::Id(ia), "person/city", s("Paris"))])
        .unwrap();
    b.transact(vec![add(EntityRef::Id(ib), "person/city", s("Rome"))])
        .unwrap();
    c.transact(vec![add(EntityRef::Id(ic), "person/city", s("Oslo"))])
        .unwrap();
    // A learns C then B; B learns A (which knows C); C learns B.
    pull(&mut a, &c);
    pull(&mut a, &b);
    pull(&mut b, &a);
    pull(&mut c, &b);
    let states: Vec<_> = [&a, &b, &c].iter().map(|s| s.state().unwrap()).collect();
    assert!(states.windows(2).all(|w| w[0] == w[1]), "{states:?}");
    // A fourth replica takes everything in one merge, in which three new commits name the
    // same retraction of Moscow (the same fact, written once).
    let mut d = Store::in_memory();
    let r = pull(&mut d, &a);
    assert_eq!(d.state().unwrap(), states[0]);
    assert_eq!(r.new_facts, states[0].facts);
    assert_eq!(people(&d), people(&a));
    assert_eq!(people(&a), people(&b));
    assert_eq!(people(&b), people(&c));
    assert_eq!(a.db().conflicts(ia, "person/city").len(), 2);
}

#[test]
fn a_retraction_removes_only_the_assertions_it_saw() {
    let (mut a, mut b) = base();
    let (ia, ib) = (ivan(&a), ivan(&b));
    a.transact(vec![add(EntityRef::Id(ia), "person/tags", s("x"))])
        .unwrap();
    pull(&mut b, &a);
    // A retracts x; B, concurrently, retracts it and asserts it again, and adds y.
    a.transact(vec![retract(ia, "person/tags", s("x"))])
        .unwrap();
    b.transact(vec![retract(ib, "person/tags", s("x"))])
        .unwrap();
    b.transact(vec![
        add(EntityRef::Id(ib), "person/tags", s("x")),
        add(EntityRef::Id(ib), "person/tags", s("y")),
    ])
    .unwrap();
    pull(&mut a, &b);
    pull(&mut b, &a);
    assert_eq!(a.state().unwrap(), b.state().unwrap());
    let want: BTreeSet<Value> = [s("x"), s("y")].into();
    assert_eq!(tags(&a, "Ivan"), want);
    assert_eq!(tags(&b, "Ivan"), want);
}

#[test]
fn bad_blocks_are_refused_and_nothing_is_written() {
    let (mut a, b) = base();
    let mut extra = Store::in_memory();
    pull(&mut extra, &b);
    extra.transact(new_person("Zed", "Nowhere")).unwrap();
    extra.transact(new_person("Yan", "Somewhere")).unwrap();
    let before = a.state().unwrap();
    let (mut commits, mut facts) = (Vec::new(), Vec::new());
    extra
        .for_each_commit(|c, f| {
            commits.push((c.cid, c.block));
            facts.extend(f);
            Ok(())
        })
        .unwrap();
    // A flipped byte in a fact block.
    let mut bad = facts.clone();
    let last = bad.len() - 1;
    let n = bad[last].1.len();
    bad[last].1[n - 1] ^= 1;
    let e = a.merge(commits.clone(), bad).unwrap_err();
    assert!(
        e.message.contains(&format!("fact block {}", facts[last].0)),
        "{e}"
    );
    // A block that decodes but is not the fact its CID names.
    let mut swapped = facts.clone();
    swapped[last].1 = facts[0].1.clone();
    let e = a.merge(commits.clone(), swapped).unwrap_err();
    assert!(e.message.contains("does not match its CID"), "{e}");
    // A missing fact block of a new commit.
    let e = a
        .merge(commits.clone(), facts[..facts.len() - 1].to_vec())
        .unwrap_err();
    assert!(e.message.contains("neither held nor sent"), "{e}");
    // A commit without its parent.
    let e = a
        .merge(commits[commits.len() - 1..].to_vec(), facts.clone())
        .unwrap_err();
    assert!(e.message.contains("parent"), "{e}");
    // Garbage that is no commit at all.
    let junk = b"not a commit".to_vec();
    let junk_cid = {
        use multihash_codetable::{Code, MultihashDigest};
        cid::Cid::new_v1(0x71, Code::Sha2_256.digest(&junk))
    };
    assert!(a.merge(vec![(junk_cid, junk)], vec![]).is_err());
    assert_eq!(a.state().unwrap(), before);
    // The good blocks merge.
    assert_eq!(a.merge(commits, facts).unwrap().commits, 2);
    assert_eq!(people(&a).len(), 3);
}

#[test]
fn a_user_names_the_causes_of_an_assertion() {
    let mut st = Store::in_memory();
    let r = st.transact(new_person("Ivan", "Moscow")).unwrap();
    let e = r.tempids["p"];
    let db = st.db();
    let city = db.datoms_eavt(Some(e), Some("person/city"), None)[0].clone();
    let cause = db.fact_cid(&city).unwrap();
    let map = |causes: Vec<Value>| {
        TxOp::Map(EntityMap {
            id: Some(EntityRef::Id(e)),
            attrs: vec![
                ("person/nick".into(), TxValue::Value(s("Vanya"))),
                (
                    "db/causes".into(),
                    TxValue::Many(causes.into_iter().map(TxValue::Value).collect()),
                ),
            ],
        })
    };
    st.transact(vec![map(vec![
        Value::Cid(cause.clone()),
        Value::Str(cause.clone()),
    ])])
    .unwrap();
    let nick = st
        .facts()
        .find(|f| f.a == "person/nick")
        .expect("the nick was written");
    assert_eq!(
        nick.causes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
        vec![cause],
        "deduplicated"
    );
    // A cause that is no fact of the database, or no CID at all, is refused.
    let unknown = "bafyreihanb6mocwgrpjniemfzfyjzx4mxo22kqfi52ezpbjdixavmnef7a";
    let e1 = st.transact(vec![map(vec![s(unknown)])]).unwrap_err();
    assert_eq!(e1.kind, "transact/causes", "{e1}");
    let e2 = st.transact(vec![map(vec![s("nope")])]).unwrap_err();
    assert_eq!(e2.kind, "transact/syntax", "{e2}");
}

#[test]
fn a_streamed_merge_writes_all_of_it_or_nothing() {
    let (mut a, b) = base();
    let mut extra = Store::in_memory();
    pull(&mut extra, &b);
    extra.transact(new_person("Zed", "Nowhere")).unwrap();
    extra.transact(new_person("Yan", "Somewhere")).unwrap();
    let mut commits = Vec::new();
    extra
        .for_each_commit(|c, f| {
            commits.push((c.cid, c.block, f));
            Ok(())
        })
        .unwrap();
    let before = a.state().unwrap();
    // The source fails after the first new commit: nothing of it is kept.
    let mut it = commits.clone().into_iter();
    let mut n = 0;
    let e = a
        .merge_stream(
            || {
                n += 1;
                if n > commits.len() - 1 {
                    return Err("the connection dropped".into());
                }
                Ok(it.next())
            },
            false,
        )
        .unwrap_err();
    assert!(e.message.contains("the connection dropped"), "{e}");
    assert_eq!(a.state().unwrap(), before);
    // A child before its parent is refused.
    let mut reversed = commits.clone();
    reversed.reverse();
    let mut it = reversed.into_iter();
    assert!(a.merge_stream(|| Ok(it.next()), false).is_err());
    assert_eq!(a.state().unwrap(), before);
    // In order, it merges; the commits a holds already are skipped.
    let mut it = commits.into_iter();
    let r = a.merge_stream(|| Ok(it.next()), true).unwrap();
    assert_eq!(r.commits, 2);
    assert!(r.known_commits > 0);
    assert_eq!(r.datoms.len() as u64, r.new_facts);
    assert_eq!(people(&a).len(), 3);
}

#[test]
fn replicas_that_define_the_same_schema_write_the_same_facts() {
    // An attribute's global id comes from its ident: the schema facts two replicas write on
    // their own have the same CIDs (transaction instants aside), so merging them adds nothing.
    let schema_facts = |st: &Store| -> std::collections::BTreeSet<String> {
        st.facts()
            .filter(|f| f.a.starts_with("db/") && f.a != "db/txInstant")
            .map(|f| f.cid.to_string())
            .collect()
    };
    let a = Store::in_memory().with_schema(schema()).unwrap();
    let mut b = Store::in_memory();
    b.transact(vec![TxOp::Map(EntityMap {
        id: None,
        attrs: vec![
            (
                "db/ident".into(),
                TxValue::Value(Value::Keyword("person/tags".into())),
            ),
            (
                "db/cardinality".into(),
                TxValue::Value(Value::Keyword("db.cardinality/many".into())),
            ),
        ],
    })])
    .unwrap();
    let (sa, sb) = (schema_facts(&a), schema_facts(&b));
    assert!(!sa.is_empty());
    assert_eq!(sa, sb);
}
