//! Moving a replica: CAR export and import of a whole store, the initial sync of it into an
//! empty replica over loopback, and the deltas that follow (1,000 new facts either way, and a
//! sync with nothing to do), measured in one run on generated people rows.
//!
//! `cargo bench --bench sync` runs 1M facts (200,000 people × 5 attributes, the rows of
//! `benches/store.rs`); `POMO_BENCH_FACTS=100000` changes the count. Stores live in a
//! temporary directory under `target/` (Cargo's `CARGO_TARGET_TMPDIR`), removed at the end;
//! the bench writes nothing elsewhere. The server runs in a thread through
//! `pomo::replica::serve` with `max_connections: Some(1)` for each sync, opening the store
//! for its connection as `pomo serve` does; the client is `pomo::replica::sync` with the
//! default options (no key, loopback).
//!
//! The source store is imported with `Store::import_bulk` in batches of 10,000 people, one
//! commit of 50,000 facts each (as `pomo import` and `benches/store.rs` import; such a commit
//! block, 2 MB of fact CIDs, travels in parts of a message each). Every sync is checked to reach the
//! source's state, so the figures are of syncs that did their work.

use pomo::replica::{Options, Replica, Report, ServeEvent, StoreReplica};
use pomo_runtime::Value;
use pomo_runtime::store::{EntityRef, Store, TxOp, TxValue};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

const CITIES: usize = 50;
/// People per import batch (one commit each; see the module docs).
const BATCH_PEOPLE: i64 = 10_000;
/// New facts of the delta syncs (one transaction).
const DELTA_FACTS: i64 = 1_000;
/// The facts a delta brings: its own and the transaction's instant.
const DELTA_NEW: u64 = DELTA_FACTS as u64 + 1;

/// Person `e`'s five attributes (the generator of `benches/store.rs`).
fn person(e: i64) -> [(&'static str, Value); 5] {
    [
        ("name", Value::Str(format!("name{e}"))),
        ("age", Value::Int(e % 90)),
        ("email", Value::Str(format!("user{e}@example.com"))),
        ("city", Value::Str(format!("city{}", e as usize % CITIES))),
        ("score", Value::Int((e * 7919) % 100_000)),
    ]
}

fn open(dir: &Path) -> Store {
    Store::open(dir).expect("open a store").0
}

/// One sync of the store in `client` with a server on the store in `server_dir`, the server
/// in a thread for this one connection. Returns the client's report, the server's report and
/// the client's wall time in seconds (connect, handshake, exchange, merge).
fn sync_once(server_dir: &Path, client: &mut Store) -> (Report, Report, f64) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let dir: PathBuf = server_dir.to_path_buf();
    let server = std::thread::spawn(move || {
        let opts = Options {
            max_connections: Some(1),
            ..Options::default()
        };
        let open_replica = move || -> Result<Box<dyn Replica>, String> {
            let (s, _) = Store::open(&dir).map_err(|e| e.to_string())?;
            Ok(Box::new(StoreReplica::owned(s)))
        };
        let mut seen = None;
        pomo::replica::serve(listener, open_replica, &opts, |event| match event {
            ServeEvent::Synced { report, .. } => seen = Some(report),
            ServeEvent::Failed { error, .. } => panic!("the server failed: {error}"),
            ServeEvent::Refused { reason, .. } => panic!("the server refused: {reason}"),
            ServeEvent::AcceptFailed { error } => panic!("accept failed: {error}"),
        })
        .expect("serve");
        seen.expect("the server reports its sync")
    });
    let t0 = Instant::now();
    let (report, _) = pomo::replica::sync(client, &addr, &Options::default()).expect("sync");
    let secs = t0.elapsed().as_secs_f64();
    let server_report = server.join().expect("the server thread");
    (report, server_report, secs)
}

/// `DELTA_FACTS` new facts (people numbered from `first`) in one transaction.
fn add_delta(store: &mut Store, first: i64) {
    let ops = (first..first + DELTA_FACTS / 5)
        .flat_map(|e| {
            person(e).map(|(a, v)| TxOp::Add {
                e: EntityRef::TempId(format!("p{e}")),
                a: a.to_string(),
                v: TxValue::Value(v),
            })
        })
        .collect();
    store.transact(ops).expect("the delta transaction");
}

fn state(store: &Store) -> String {
    store.state().expect("the store's state").cid.to_string()
}

fn state_of(dir: &Path) -> String {
    state(&open(dir))
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let facts: i64 = std::env::var("POMO_BENCH_FACTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let people = (facts / 5).max(1);
    let work = tempfile::Builder::new()
        .prefix("sync-bench")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let src = work.path().join("src");
    let car_path = work.path().join("src.car");
    println!(
        "sync bench: {people} people × 5 attributes = {} facts, stores in {}",
        people * 5,
        work.path().display()
    );

    // The source store.
    let t0 = Instant::now();
    {
        let mut st = open(&src);
        let mut e = 0;
        st.import_bulk(|| {
            let mut batch = Vec::with_capacity((BATCH_PEOPLE * 5) as usize);
            let end = (e + BATCH_PEOPLE).min(people);
            while e < end {
                e += 1;
                for (a, v) in person(e) {
                    batch.push((e, a.to_string(), v));
                }
            }
            Ok((!batch.is_empty()).then_some(batch))
        })
        .expect("import the rows");
    }
    let build = t0.elapsed().as_secs_f64();
    let src_state = state_of(&src);
    let src_facts = open(&src).state().unwrap().facts;

    // CAR export.
    let t0 = Instant::now();
    let car_bytes = {
        let st = open(&src);
        let mut w = std::io::BufWriter::new(std::fs::File::create(&car_path).unwrap());
        let n = pomo::replica::export_car(&st, &mut w).expect("export");
        use std::io::Write;
        w.flush().unwrap();
        n
    };
    let export = t0.elapsed().as_secs_f64();
    let car_size = car_path.metadata().unwrap().len();
    assert_eq!(car_bytes, car_size, "export_car's count is the file's size");

    // CAR import into an empty store.
    let imported = work.path().join("imported");
    let t0 = Instant::now();
    {
        let mut st = open(&imported);
        let r = std::io::BufReader::new(std::fs::File::open(&car_path).unwrap());
        pomo::replica::import_car(&mut st, r).expect("import");
    }
    let import = t0.elapsed().as_secs_f64();
    assert_eq!(state_of(&imported), src_state, "the CAR import's state");

    // Initial sync into an empty replica.
    let replica = work.path().join("replica");
    let mut rep = open(&replica);
    let (initial, _, initial_s) = sync_once(&src, &mut rep);
    assert_eq!(state(&rep), src_state, "the initial sync's state");
    let initial_wire = initial.bytes_received + initial.bytes_sent;

    // Delta, pulled: new facts on the server's side. For scale, the two costs a delta sync
    // cannot go below: the server's opening of the store (it opens it for each connection)
    // and a local transaction of the same facts.
    let (open_s, tx_s) = {
        let t0 = Instant::now();
        let mut st = open(&src);
        let open_s = t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        add_delta(&mut st, people + 1);
        (open_s, t0.elapsed().as_secs_f64())
    };
    let (pull, _, pull_s) = sync_once(&src, &mut rep);
    assert_eq!(state(&rep), state_of(&src), "the pulled delta's state");
    assert_eq!(pull.new_facts, DELTA_NEW, "facts the pull brought");

    // Delta, pushed: new facts on the client's side.
    add_delta(&mut rep, people + 1 + DELTA_FACTS / 5);
    let (push, server_push, push_s) = sync_once(&src, &mut rep);
    assert_eq!(state(&rep), state_of(&src), "the pushed delta's state");
    assert_eq!(
        server_push.new_facts, DELTA_NEW,
        "facts the push brought the server"
    );

    // Nothing to do.
    let (noop, _, noop_s) = sync_once(&src, &mut rep);
    assert_eq!(
        noop.new_facts + noop.facts_sent,
        0,
        "a sync with nothing to do"
    );
    drop(rep);

    let ms = |s: f64| s * 1e3;
    let per_s = |n: f64, s: f64| format!("{:.0}", n / s);
    let mbs = |b: u64, s: f64| b as f64 / 1e6 / s;
    let delta = |r: &Report, blocks: u64| {
        let wire = r.bytes_sent + r.bytes_received;
        (wire, blocks, wire as f64 / blocks as f64)
    };
    let (pull_wire, pull_blocks, pull_ratio) = delta(&pull, pull.block_bytes_received);
    let (push_wire, push_blocks, push_ratio) = delta(&push, push.block_bytes_sent);
    let goal = |ratio: f64, s: f64| {
        if ratio <= 2.0 && ms(s) <= 50.0 {
            "met"
        } else {
            "missed"
        }
    };

    println!();
    println!("| step | time | rate | bytes | notes |");
    println!("|---|---|---|---|---|");
    println!(
        "| build the source (import_bulk) | {build:.2} s | {} facts/s | | {src_facts} facts |",
        per_s(src_facts as f64, build)
    );
    println!(
        "| CAR export | {export:.2} s | {:.1} MB/s, {} facts/s | {} file | |",
        mbs(car_size, export),
        per_s(src_facts as f64, export),
        mb(car_size)
    );
    println!(
        "| CAR import, empty store | {import:.2} s | {:.1} MB/s, {} facts/s | | state equal |",
        mbs(car_size, import),
        per_s(src_facts as f64, import)
    );
    println!(
        "| initial sync, empty replica | {initial_s:.2} s | {} facts/s | {} received, {} sent ({:.2}× the CAR) | {} commits, {} round trips |",
        per_s(initial.facts_received as f64, initial_s),
        mb(initial.bytes_received),
        mb(initial.bytes_sent),
        initial_wire as f64 / car_size as f64,
        initial.commits_received,
        initial.round_trips
    );
    println!(
        "| delta pull, {DELTA_FACTS} facts | {:.1} ms | | {pull_wire} B on the wire / {pull_blocks} B of blocks = {pull_ratio:.2}× | goal ≤ 2×, ≤ 50 ms: {} |",
        ms(pull_s),
        goal(pull_ratio, pull_s)
    );
    println!(
        "| delta push, {DELTA_FACTS} facts | {:.1} ms | | {push_wire} B on the wire / {push_blocks} B of blocks = {push_ratio:.2}× | goal ≤ 2×, ≤ 50 ms: {} |",
        ms(push_s),
        goal(push_ratio, push_s)
    );
    println!(
        "| nothing to do | {:.1} ms | | {} B on the wire | {} round trips |",
        ms(noop_s),
        noop.bytes_sent + noop.bytes_received,
        noop.round_trips
    );
    println!(
        "| for scale: opening the source store; the delta as a local transaction | {:.1} ms; {:.1} ms | | | what a delta sync includes |",
        ms(open_s),
        ms(tx_s)
    );
    println!();
    println!(
        "sync bench ({src_facts} facts): CAR {} export {export:.2} s ({:.0} MB/s), import {import:.2} s ({:.0} MB/s); initial sync {initial_s:.2} s ({} facts/s, wire {:.2}× CAR); delta {DELTA_FACTS} pull {:.1} ms wire/blocks {pull_ratio:.2}×, push {:.1} ms {push_ratio:.2}×; no-op {:.1} ms",
        mb(car_size),
        mbs(car_size, export),
        mbs(car_size, import),
        per_s(initial.facts_received as f64, initial_s),
        initial_wire as f64 / car_size as f64,
        ms(pull_s),
        ms(push_s),
        ms(noop_s)
    );
}
