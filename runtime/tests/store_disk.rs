//! The store on disk: a reopened store is the same database; an old `facts.car` log is
//! converted once (a torn tail dropped with a warning, damage refused); a damaged index file is
//! reported, never read; snapshots are unchanged by later commits; reader processes beside a
//! writer see whole transactions; and a process killed with SIGKILL in the middle of writing
//! loses no acknowledged transaction.

use pomo_runtime::Value;
use pomo_runtime::store::*;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::{Duration, Instant};

fn add(e: i64, a: &str, v: Value) -> TxOp {
    TxOp::Add {
        e: EntityRef::Id(e),
        a: a.into(),
        v: TxValue::Value(v),
    }
}

fn log_path(dir: &Path) -> std::path::PathBuf {
    dir.join("facts.car")
}

fn schema() -> Schema {
    Schema {
        attrs: [
            (
                "friend".to_string(),
                AttrSchema {
                    is_ref: true,
                    many: true,
                    ..Default::default()
                },
            ),
            (
                "email".to_string(),
                AttrSchema {
                    unique: Some(Unique::Identity),
                    ..Default::default()
                },
            ),
        ]
        .into(),
    }
}

/// Writes `n` transactions of a few facts each, with replacements and retractions.
fn fill(dir: &Path, n: i64) -> Vec<Datom> {
    let (st, warnings) = Store::open(dir).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut st = st.with_schema(schema()).unwrap();
    for k in 1..=n {
        st.transact(vec![
            add(k, "name", Value::Str(format!("n{k}"))),
            add(k, "email", Value::Str(format!("{k}@x"))),
            add(1, "count", Value::Int(k)),
            add(k, "friend", Value::Int(1)),
        ])
        .unwrap();
    }
    st.db().history().datoms()
}

fn snapshot(st: &Store) -> (Vec<Datom>, Vec<String>, Schema, Option<u64>) {
    (
        st.db().history().datoms(),
        st.facts().map(|f| format!("{} {}", f.cid, f.tx)).collect(),
        st.schema().clone(),
        st.last_t(),
    )
}

#[test]
fn a_reopened_store_is_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let (mut st, _) = Store::open(dir.path()).unwrap();
    st = st.with_schema(schema()).unwrap();
    st.transact(vec![
        add(1, "email", Value::Str("a@x".into())),
        add(1, "v", Value::Float(1.5)),
        add(1, "k", Value::Keyword("a/b".into())),
        add(1, "u", Value::Uuid(42)),
        add(2, "friend", Value::Int(1)),
    ])
    .unwrap();
    st.transact(vec![
        add(1, "v", Value::Float(2.5)),
        TxOp::RetractEntity(EntityRef::Id(2)),
        TxOp::Map(EntityMap {
            id: None,
            attrs: vec![
                (
                    "db/ident".into(),
                    TxValue::Value(Value::Keyword("tag".into())),
                ),
                (
                    "db/cardinality".into(),
                    TxValue::Value(Value::Keyword("db.cardinality/many".into())),
                ),
            ],
        }),
    ])
    .unwrap();
    let before = snapshot(&st);
    drop(st);
    let (mut st, warnings) = Store::open(dir.path()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(snapshot(&st), before);
    assert!(st.schema().attrs["tag"].many);
    // The reopened store continues the numbering and the commit chain.
    assert_eq!(
        st.transact(vec![add(3, "tag", Value::Int(1))]).unwrap().t,
        3
    );
    let after = snapshot(&st);
    drop(st);
    let (st, _) = Store::open(dir.path()).unwrap();
    assert_eq!(snapshot(&st), after);
    // A reopened store with the same schema writes no new schema transaction.
    let st = st.with_schema(schema()).unwrap();
    assert_eq!(st.last_t(), Some(3));
}

#[test]
fn a_store_directory_is_locked_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let (st, _) = Store::open(dir.path()).unwrap();
    assert!(matches!(Store::open(dir.path()), Err(StoreError::Io(_))));
    drop(st);
    assert!(Store::open(dir.path()).is_ok());
}

/// The commits of a store, as `(t, facts)`, in log order.
fn commits_of(st: &Store) -> Vec<(u64, Vec<Fact>)> {
    let mut out: Vec<(u64, Vec<Fact>)> = Vec::new();
    let mut last_tx = None;
    for f in st.facts() {
        if last_tx != Some(f.tx) {
            out.push(((f.tx - TX0) as u64, Vec::new()));
            last_tx = Some(f.tx);
        }
        out.last_mut().unwrap().1.push(f);
    }
    out
}

/// An old-format store (a `facts.car` log) of `n` transactions in `dir`; the store it holds.
fn old_store(dir: &Path, n: i64) -> (Vec<Datom>, Vec<String>) {
    let scratch = tempfile::tempdir().unwrap();
    fill(scratch.path(), n);
    let (st, _) = Store::open(scratch.path()).unwrap();
    write_legacy_log(dir, &commits_of(&st)).unwrap();
    (
        st.db().history().datoms(),
        st.facts().map(|f| f.cid.to_string()).collect(),
    )
}

#[test]
fn an_old_log_is_converted_once_with_the_same_facts() {
    let dir = tempfile::tempdir().unwrap();
    let (datoms, cids) = old_store(dir.path(), 30);
    let mut reports = Vec::new();
    let (st, warnings) =
        Store::open_with_progress(dir.path(), &mut |done, total| reports.push((done, total)))
            .unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("converted"), "{warnings:?}");
    assert_eq!(reports.last().map(|r| r.0), reports.last().map(|r| r.1));
    assert_eq!(st.db().history().datoms(), datoms);
    // The facts are the same, re-addressed over global ids: as many, and every retraction's
    // cause is the new CID of the assertion it retracts.
    let facts: Vec<_> = st.facts().collect();
    assert_eq!(facts.len(), cids.len());
    let known: std::collections::HashSet<_> = facts.iter().map(|f| f.cid).collect();
    assert!(
        facts
            .iter()
            .flat_map(|f| &f.causes)
            .all(|c| known.contains(c))
    );
    assert_eq!(st.verify().unwrap().0, 31);
    assert!(!log_path(dir.path()).exists());
    assert!(dir.path().join("facts.car.converted").exists());
    drop(st);
    // Converted once: the next open reads the indexes and continues the numbering.
    let (mut st, warnings) = Store::open(dir.path()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        st.transact(vec![add(99, "name", Value::Str("z".into()))])
            .unwrap()
            .t,
        31
    );
}

#[test]
fn a_torn_old_log_converts_its_complete_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let (datoms, _) = old_store(dir.path(), 5);
    let bytes = std::fs::read(log_path(dir.path())).unwrap();
    std::fs::write(log_path(dir.path()), &bytes[..bytes.len() - 7]).unwrap();
    let (st, warnings) = Store::open(dir.path()).unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    let four: Vec<Datom> = datoms.into_iter().filter(|d| d.tx <= TX0 + 4).collect();
    assert_eq!(st.db().history().datoms(), four);
    assert_eq!(st.last_t(), Some(4));
}

#[test]
fn a_damaged_old_log_is_not_converted() {
    let dir = tempfile::tempdir().unwrap();
    old_store(dir.path(), 20);
    let mut bytes = std::fs::read(log_path(dir.path())).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x80;
    std::fs::write(log_path(dir.path()), &bytes).unwrap();
    for _ in 0..2 {
        match Store::open(dir.path()) {
            Err(StoreError::Corrupt { .. }) => {}
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("a damaged log was converted"),
        }
        // Nothing was repaired, renamed or converted.
        assert_eq!(std::fs::read(log_path(dir.path())).unwrap(), bytes);
    }
}

#[test]
fn a_damaged_index_file_is_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 50);
    let data = dir.path().join(DATA_FILE);
    let good = std::fs::read(&data).unwrap();
    // A log record whose bytes changed no longer hashes to its commit's CID.
    {
        let (mut st, _) = Store::open(dir.path()).unwrap();
        st.transact(vec![add(7, "name", Value::Str("needle-in-the-log".into()))])
            .unwrap();
    }
    let mut bytes = std::fs::read(&data).unwrap();
    let needle = b"needle-in-the-log";
    let mut hits = 0;
    for i in 0..bytes.len() - needle.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i] = b'N';
            hits += 1;
        }
    }
    assert!(hits >= 2, "the value is in the log and the indexes");
    std::fs::write(&data, &bytes).unwrap();
    {
        let (st, _) = Store::open(dir.path()).unwrap();
        match st.verify() {
            Err(StoreError::Corrupt { message, .. }) => {
                assert!(message.contains("does not match"), "{message}")
            }
            other => panic!("damage not reported: {other:?}"),
        }
        assert!(st.try_facts().is_err());
    }
    // A file cut short or overwritten is refused at open or at the first read, never read.
    for damaged in [
        good[..good.len() / 2].to_vec(),
        vec![0x5a; good.len()],
        good[..100].to_vec(),
    ] {
        std::fs::write(&data, &damaged).unwrap();
        let outcome = Store::open(dir.path()).and_then(|(st, _)| {
            st.try_db()?;
            st.verify()
        });
        assert!(
            outcome.is_err(),
            "a damaged index file was read: {outcome:?}"
        );
    }
}

#[test]
fn a_snapshot_is_unchanged_by_later_commits() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 3);
    let (mut st, _) = Store::open(dir.path()).unwrap();
    let db = st.db();
    let before = db.history().datoms();
    let (reader, _) = Store::open_read_only(dir.path()).unwrap();
    let rdb = reader.db();
    for k in 10..20 {
        st.transact(vec![
            add(k, "name", Value::Str(format!("later{k}"))),
            TxOp::RetractEntity(EntityRef::Id(1)),
        ])
        .unwrap();
    }
    assert_eq!(db.history().datoms(), before);
    assert_eq!(rdb.history().datoms(), before);
    assert!(st.db().history().datoms().len() > before.len());
    // A read-only store's next value sees the new commits.
    assert_eq!(reader.db().datoms(), st.db().datoms());
}

const READER_ENV: &str = "POMO_STORE_READER_CHILD_DIR";

/// The child mode of the readers test: read snapshots until the last transaction shows,
/// checking that every snapshot holds whole transactions (20 datoms per entity).
fn reader_child(dir: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (st, _) = Store::open_read_only(Path::new(dir)).unwrap();
    let mut seen = 0;
    let mut reads = 0;
    while Instant::now() < deadline {
        let db = st.db();
        let mut per_entity = std::collections::BTreeMap::<i64, usize>::new();
        for d in db.datoms_eavt(None, None, None) {
            if d.a.starts_with("k/") {
                *per_entity.entry(d.e).or_default() += 1;
            }
        }
        for (e, n) in &per_entity {
            assert_eq!(*n, 20, "entity {e}: a reader saw half a transaction");
        }
        reads += 1;
        seen = seen.max(per_entity.len());
        if seen >= 200 {
            break;
        }
    }
    println!("reader saw {seen} transactions in {reads} snapshots");
}

#[test]
fn two_reader_processes_beside_a_writer_see_whole_transactions() {
    if let Ok(dir) = std::env::var(READER_ENV) {
        reader_child(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut st, _) = Store::open(dir.path()).unwrap();
    st.transact(vec![add(1_000_000, "start", Value::Int(0))])
        .unwrap();
    let spawn = || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "two_reader_processes_beside_a_writer_see_whole_transactions",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(READER_ENV, dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let readers = [spawn(), spawn()];
    for n in 1..=200i64 {
        let ops = (0..20)
            .map(|k| add(n, &format!("k/a{k}"), Value::Int(n * 100 + k)))
            .collect();
        st.transact(ops).unwrap();
    }
    for r in readers {
        let out = r.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("reader saw 200 transactions"),
            "reader: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const CHILD_ENV: &str = "POMO_STORE_KILL_CHILD_DIR";

/// The child mode of the kill tests: transact (or import batches) forever (bounded),
/// acknowledging each commit.
fn kill_child(dir: &str, import: bool) {
    let (mut st, _) = Store::open(Path::new(dir)).unwrap();
    let out = std::io::stdout();
    for n in 1..=100_000i64 {
        if import {
            let rows = (0..20)
                .map(|k| (n, format!("k/a{k}"), Value::Int(n * 100 + k)))
                .collect();
            st.import_batch(rows).unwrap();
        } else {
            let ops = (0..20)
                .map(|k| add(n, &format!("k/a{k}"), Value::Int(n * 100 + k)))
                .collect();
            st.transact(ops).unwrap();
        }
        let mut lock = out.lock();
        writeln!(lock, "ack {n}").unwrap();
        lock.flush().unwrap();
    }
}

#[test]
fn kill_9_loses_no_acknowledged_transaction() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        kill_child(&dir, false);
        return;
    }
    kill_9_test("kill_9_loses_no_acknowledged_transaction");
}

#[test]
fn kill_9_during_an_import_loses_no_acknowledged_batch() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        kill_child(&dir, true);
        return;
    }
    kill_9_test("kill_9_during_an_import_loses_no_acknowledged_batch");
}

/// Runs test `name` as a child that writes and acknowledges, kills it with SIGKILL after 40
/// acknowledgements, and checks that every acknowledged commit is in the reopened store.
fn kill_9_test(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, recv) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line
                .strip_prefix("ack ")
                .and_then(|n| n.parse::<i64>().ok())
                && send.send(n).is_err()
            {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut acked = 0;
    while acked < 40 {
        let left = deadline.saturating_duration_since(Instant::now());
        match recv.recv_timeout(left) {
            Ok(n) => acked = n,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child stopped acknowledging after {acked} transactions");
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    // Acks that were already in the pipe count too: they were acknowledged before the kill.
    while let Ok(n) = recv.try_recv() {
        acked = n;
    }
    let (st, warnings) = Store::open(dir.path()).unwrap();
    let db = st.db();
    for n in 1..=acked {
        let got = db.datoms_eavt(Some(n), None, None);
        assert_eq!(
            got.len(),
            20,
            "acknowledged transaction {n} lost ({warnings:?})"
        );
        assert_eq!(got[0].tx, TX0 + n);
    }
    assert!(st.last_t().unwrap() >= acked as u64);
    eprintln!(
        "kill -9 after {acked} acks: store has t = {:?}, warnings {warnings:?}",
        st.last_t()
    );
}

fn facts(from: i64, n: i64) -> Vec<TxOp> {
    (from..from + n)
        .map(|e| add(e, "n/v", Value::Int(e)))
        .collect()
}

/// Imports `total` single-attribute facts in transactions of `batch`.
fn import(st: &mut Store, total: i64, batch: i64) {
    let mut e = 1;
    while e <= total {
        st.transact(facts(e, batch)).unwrap();
        e += batch;
    }
}

// Throughput is measured in `benches/import.rs` (criterion), not asserted here.
#[test]
fn large_and_batched_imports_land_whole() {
    let mut mem = Store::in_memory();
    mem.transact(facts(1, 20_000)).unwrap();
    assert_eq!(mem.db().datoms_eavt(None, Some("n/v"), None).len(), 20_000);
    let dir = tempfile::tempdir().unwrap();
    {
        let mut st = Store::open(&dir.path().join("b")).unwrap().0;
        import(&mut st, 20_000, 1000);
    }
    let (st, warnings) = Store::open(&dir.path().join("b")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(st.facts().filter(|f| f.a == "n/v").count(), 20_000);
    assert_eq!(st.last_t(), Some(20));
}

#[test]
fn a_read_only_store_reads_beside_the_writer_and_refuses_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, _) = Store::open(dir.path()).unwrap();
    writer
        .transact(vec![add(1, "name", Value::Str("Ada".into()))])
        .unwrap();
    // The writer still holds its lock; a reader opens anyway and sees the acknowledged data.
    let (mut reader, warnings) = Store::open_read_only(dir.path()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(reader.db().datoms().len(), writer.db().datoms().len());
    let e = reader
        .transact(vec![add(2, "name", Value::Str("Bob".into()))])
        .unwrap_err();
    assert!(e.message.contains("read-only"), "{}", e.message);
    // A store that does not exist reads as empty and is not created.
    let missing = dir.path().join("nothing-here");
    let (empty, _) = Store::open_read_only(&missing).unwrap();
    assert!(empty.db().datoms().is_empty());
    assert!(!missing.exists());
}

#[test]
fn compaction_keeps_the_database_and_refuses_while_values_live() {
    let dir = tempfile::tempdir().unwrap();
    let full = fill(dir.path(), 40);
    let (st, _) = Store::open(dir.path()).unwrap();
    let facts: Vec<String> = st.facts().map(|f| f.cid.to_string()).collect();
    let db = st.db();
    assert!(
        st.compact().is_err(),
        "a live database value keeps the file"
    );
    drop(db);
    let (st, _) = Store::open(dir.path()).unwrap();
    let (mut st, before, after) = st.compact().unwrap();
    assert!(after <= before, "{before} -> {after}");
    assert_eq!(st.db().history().datoms(), full);
    assert_eq!(
        st.facts().map(|f| f.cid.to_string()).collect::<Vec<_>>(),
        facts
    );
    st.transact(vec![add(500, "name", Value::Str("after".into()))])
        .unwrap();
    drop(st);
    let (st, _) = Store::open(dir.path()).unwrap();
    assert_eq!(st.verify().unwrap().0, 42);
    assert!(!dir.path().join("data.mdb.compact").exists());
    assert!(Store::in_memory().compact().is_err());
}
