//! Import throughput of the store: single-attribute facts in one large transaction and in
//! 1000-fact transactions, in memory and on disk (fsync per transaction). The figures are
//! facts per second (criterion's throughput in elements).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pomo::runtime::store::{EntityRef, Store, TxOp, TxValue};
use pomo_types::Value;

fn facts(from: i64, n: i64) -> Vec<TxOp> {
    (from..from + n)
        .map(|e| TxOp::Add {
            e: EntityRef::Id(e),
            a: "n/v".into(),
            v: TxValue::Value(Value::Int(e)),
        })
        .collect()
}

fn import(st: &mut Store, total: i64, batch: i64) {
    let mut e = 1;
    while e <= total {
        st.transact(facts(e, batch)).unwrap();
        e += batch;
    }
}

fn bench(c: &mut Criterion) {
    const N: i64 = 50_000;
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("memory/one-tx", |b| {
        b.iter(|| import(&mut Store::in_memory(), N, N))
    });
    g.bench_function("memory/1000-fact-txs", |b| {
        b.iter(|| import(&mut Store::in_memory(), N, 1000))
    });
    g.bench_function("disk/1000-fact-txs", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            import(&mut Store::open(dir.path()).unwrap().0, N, 1000)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
