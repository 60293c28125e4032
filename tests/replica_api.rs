//! Replicas through the embedding API: `Pomo::{export_car, import_car, state}`, and live
//! subscriptions that receive a merge as one epoch — including the resolved current value
//! changing when the other replica's concurrent write wins, and the causal graph growing.

use pomo::api::Pomo;
use pomo::types::Value;

fn s(x: &str) -> Value {
    Value::Str(x.into())
}

/// Everything `from` holds, merged into `to` through a CAR file in memory.
fn pull(to: &mut Pomo, from: &Pomo) -> pomo::replica::ImportReport {
    let mut car = Vec::new();
    from.export_car(&mut car).unwrap();
    to.import_car(car.as_slice()).unwrap()
}

const CITY: &str = r#"[:find ?c :where [?e :person/name "Ivan"] [?e :person/city ?c]]"#;

#[test]
fn a_merge_reaches_live_subscriptions_as_one_epoch() {
    let mut a = Pomo::in_memory();
    a.transact_edn(r#"[{:db/ident :person/name :db/unique :db.unique/identity}]"#)
        .unwrap();
    a.transact_edn(r#"[{:person/name "Ivan" :person/city "Moscow"}]"#)
        .unwrap();
    let mut b = Pomo::in_memory();
    pull(&mut b, &a);
    assert_eq!(a.state().unwrap(), b.state().unwrap());
    let city_a = a.subscribe(CITY, &[]).unwrap();
    let city_b = b.subscribe(CITY, &[]).unwrap();
    let causes_a = a
        .subscribe("[:find ?f ?c :where (cause ?f ?c)]", &[])
        .unwrap();
    a.transact_edn(r#"[[:db/add [:person/name "Ivan"] :person/city "Paris"]]"#)
        .unwrap();
    b.transact_edn(r#"[[:db/add [:person/name "Ivan"] :person/city "Rome"]]"#)
        .unwrap();
    // The local writes: Moscow gives way on each replica.
    assert_eq!(
        city_a.changes(),
        vec![(vec![s("Moscow")], -1), (vec![s("Paris")], 1)]
    );
    assert_eq!(
        city_b.changes(),
        vec![(vec![s("Moscow")], -1), (vec![s("Rome")], 1)]
    );
    let local_causes = causes_a.changes();
    assert!(!local_causes.is_empty() && local_causes.iter().all(|(_, d)| *d == 1));
    // Both merge: one concurrent write wins on both, so exactly the replica whose own
    // write lost sees its value change, in one epoch.
    let report = pull(&mut a, &b);
    // b's commit holds its instant, Rome, and Moscow's retraction, which is the same fact
    // (same content, same CID) as a's and so not new.
    assert_eq!((report.new_commits, report.new_facts), (1, 2));
    pull(&mut b, &a);
    assert_eq!(a.state().unwrap(), b.state().unwrap());
    let winner = a
        .query(&CITY.replace("?c :where", "?c . :where"), &[])
        .unwrap();
    assert_eq!(
        winner,
        b.query(&CITY.replace("?c :where", "?c . :where"), &[])
            .unwrap()
    );
    let (ca, cb) = (city_a.changes(), city_b.changes());
    if winner == s("Rome") {
        assert_eq!(ca, vec![(vec![s("Paris")], -1), (vec![s("Rome")], 1)]);
        assert!(cb.is_empty(), "{cb:?}");
    } else {
        assert_eq!(winner, s("Paris"));
        assert_eq!(cb, vec![(vec![s("Paris")], 1), (vec![s("Rome")], -1)]);
        assert!(ca.is_empty(), "{ca:?}");
    }
    // The causal graph grew by the merged facts' causes.
    let merged = causes_a.changes();
    assert!(
        !merged.is_empty() && merged.iter().all(|(_, d)| *d == 1),
        "{merged:?}"
    );
    // Merging again brings nothing and changes nothing.
    let again = pull(&mut a, &b);
    assert_eq!((again.new_commits, again.new_facts), (0, 0));
    assert!(city_a.changes().is_empty());
}

#[test]
fn a_bad_car_file_is_refused_and_nothing_changes() {
    let mut a = Pomo::in_memory();
    a.transact_edn(r#"[{:person/name "Ivan" :person/city "Moscow"}]"#)
        .unwrap();
    let mut car = Vec::new();
    a.export_car(&mut car).unwrap();
    let mut b = Pomo::in_memory();
    let before = b.state().unwrap();
    for bad in [car[..car.len() - 3].to_vec(), {
        let mut x = car.clone();
        let n = x.len();
        x[n - 2] ^= 0x40;
        x
    }] {
        assert!(b.import_car(bad.as_slice()).is_err());
        assert_eq!(b.state().unwrap(), before);
    }
    b.import_car(car.as_slice()).unwrap();
    assert_eq!(b.state().unwrap(), a.state().unwrap());
}

#[test]
fn a_row_of_a_store_backed_relation_has_a_cid() {
    let mut db = Pomo::in_memory();
    db.transact_edn(r#"[{:db/id "p" :point/x 1 :point/y 2}]"#)
        .unwrap();
    let q = ".output q(x, c) relation\nq(x: ?x, c: ?c) :- ?c := point(x: ?x, y: ?y).";
    let cid = |db: &mut Pomo| match db.query(q, &[]).unwrap() {
        Value::Set(rows) => match rows.as_slice() {
            [Value::Tuple(r)] => r[1].clone(),
            other => panic!("one row expected: {other:?}"),
        },
        other => panic!("a relation expected: {other}"),
    };
    let first = cid(&mut db);
    assert!(
        matches!(&first, Value::Cid(c) if c.starts_with("bafyrei")),
        "{first}"
    );
    assert_eq!(cid(&mut db), first, "the same facts, the same CID");
    db.transact_edn(r#"[[:db/add 1 :point/y 3]]"#).unwrap();
    assert_ne!(
        cid(&mut db),
        first,
        "a changed column changes the row's CID"
    );
}
