//! A long-running embedding app: it transacts and queries in a loop on one `Pomo`, and the
//! JIT's cache of store views stays within its byte budget however many database values go by
//! (older bases of a view are dropped as new ones come, the least recently used go first),
//! while every answer stays right.

use pomo::api::Pomo;
use pomo::runtime::store::{EntityRef, TxOp, TxValue};
use pomo_types::Value;

fn add(e: i64, a: &str, v: Value) -> TxOp {
    TxOp::Add {
        e: EntityRef::Id(e),
        a: a.into(),
        v: TxValue::Value(v),
    }
}

#[test]
fn the_view_cache_stays_within_its_budget_while_the_app_transacts_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = Pomo::open(dir.path()).unwrap();
    const BUDGET: usize = 256 << 10;
    app.jit_mut().set_view_budget(BUDGET);
    let mut most = (0, 0);
    for round in 1..=300i64 {
        let ops = (0..20)
            .map(|k| {
                let e = round * 100 + k;
                add(e, "p/group", Value::Int(e % 13))
            })
            .chain([add(round, "p/name", Value::Str(format!("n{round}")))])
            .collect();
        app.transact(ops).unwrap();
        // Queries over several attributes and constants, as an app would ask them.
        let n = app
            .query(
                "[:find (count ?e) . :in $ ?g :where [?e :p/group ?g]]",
                &[Value::Int(round % 13)],
            )
            .unwrap();
        let expect = (1..=round)
            .flat_map(|r| (0..20).map(move |k| r * 100 + k))
            .filter(|e| e % 13 == round % 13)
            .count() as i64;
        assert_eq!(n, Value::Int(expect), "round {round}");
        let name = format!(r#"[:find ?e . :where [?e :p/name "n{}"]]"#, round / 2 + 1);
        assert_eq!(app.query(&name, &[]).unwrap(), Value::Int(round / 2 + 1));
        let (bytes, views) = app.jit_mut().view_cache();
        assert!(bytes <= BUDGET, "round {round}: {bytes} bytes cached");
        most = (most.0.max(bytes), most.1.max(views));
    }
    // The cache was used (and bounded), not bypassed.
    assert!(most.0 > 0 && most.1 > 0, "{most:?}");
    // Without dropping a view's older bases the cache would hold two views a round (600);
    // it holds the group view once and the name lookups the budget leaves room for.
    assert!(most.1 <= 152, "{most:?} views: old bases are dropped");
}
