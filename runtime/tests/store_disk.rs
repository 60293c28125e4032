//! The on-disk log: a reopened store is the same database; a torn or damaged last transaction
//! is truncated with a warning and never read; damage followed by valid data refuses to open
//! (`StoreError::Corrupt`); and a process killed with SIGKILL in the middle of writing loses no
//! acknowledged transaction. Also measures import throughput (printed with `--nocapture`).

use pomo_runtime::Value;
use pomo_runtime::store::*;
use std::fs::OpenOptions;
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

/// The length of the log that [`fill`] writes for `n` transactions.
fn log_len_after(n: i64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), n);
    std::fs::metadata(log_path(dir.path())).unwrap().len()
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

#[test]
fn a_torn_tail_is_truncated_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let full = fill(dir.path(), 5);
    let len = std::fs::metadata(log_path(dir.path())).unwrap().len();
    // Cut the log in the middle of the last transaction, at several places.
    let last_tx_bytes = len - log_len_after(4);
    let four: Vec<Datom> = full.iter().filter(|d| d.tx <= TX0 + 4).cloned().collect();
    for cut in [1, 2, 7, last_tx_bytes / 2, last_tx_bytes - 1] {
        let copy = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(log_path(dir.path())).unwrap();
        std::fs::write(log_path(copy.path()), &bytes[..(len - cut) as usize]).unwrap();
        let (st, warnings) = Store::open(copy.path()).unwrap();
        assert_eq!(warnings.len(), 1, "cut {cut}: {warnings:?}");
        assert_eq!(st.db().history().datoms(), four, "cut {cut}");
        assert_eq!(
            std::fs::metadata(log_path(copy.path())).unwrap().len(),
            len - last_tx_bytes
        );
        // The store keeps working after the repair, and the repair is durable.
        let mut st = st;
        st.transact(vec![add(9, "name", Value::Str("after".into()))])
            .unwrap();
        drop(st);
        let (st, warnings) = Store::open(copy.path()).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(st.last_t(), Some(5));
    }
    // Garbage appended after the last commit is a torn tail too.
    let mut f = OpenOptions::new()
        .append(true)
        .open(log_path(dir.path()))
        .unwrap();
    f.write_all(&[0x85, 0x01, 0x01, 0x71]).unwrap();
    drop(f);
    let (st, warnings) = Store::open(dir.path()).unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(st.db().history().datoms(), full);
}

#[test]
fn a_damaged_last_transaction_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let full = fill(dir.path(), 3);
    let mut bytes = std::fs::read(log_path(dir.path())).unwrap();
    // A flipped byte inside the last transaction's first fact block: its commit still follows,
    // chained to the last good commit, and ends the file, so the whole transaction is dropped.
    let start = log_len_after(2) as usize;
    bytes[start + 20] ^= 0x40;
    std::fs::write(log_path(dir.path()), &bytes).unwrap();
    let (st, warnings) = Store::open(dir.path()).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let two: Vec<Datom> = full.into_iter().filter(|d| d.tx <= TX0 + 2).collect();
    assert_eq!(st.db().history().datoms(), two);
}

#[test]
fn damage_followed_by_valid_data_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 20);
    let good = std::fs::read(log_path(dir.path())).unwrap();
    for at in [good.len() / 3, good.len() / 2, 200] {
        for flip in [0x01u8, 0x80] {
            let mut bytes = good.clone();
            bytes[at] ^= flip;
            std::fs::write(log_path(dir.path()), &bytes).unwrap();
            match Store::open(dir.path()) {
                Err(StoreError::Corrupt { offset, message }) => {
                    assert!(
                        offset as usize <= at,
                        "offset {offset} after the flip at {at}: {message}"
                    );
                }
                Err(e) => panic!("flip at {at}: unexpected error {e}"),
                Ok((_, w)) => panic!("flip at {at} was accepted (warnings {w:?})"),
            }
            // Nothing was repaired or truncated.
            assert_eq!(std::fs::read(log_path(dir.path())).unwrap(), bytes);
        }
    }
    // A damaged header is corrupt as well.
    let mut bytes = good.clone();
    bytes[3] ^= 0xff;
    std::fs::write(log_path(dir.path()), &bytes).unwrap();
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::Corrupt { offset: 3, .. })
    ));
}

const CHILD_ENV: &str = "POMO_STORE_KILL_CHILD_DIR";

/// The child mode of the kill test: transact forever (bounded), acknowledging each commit.
fn kill_child(dir: &str) {
    let (mut st, _) = Store::open(Path::new(dir)).unwrap();
    let out = std::io::stdout();
    for n in 1..=100_000i64 {
        let ops = (0..20)
            .map(|k| add(n, &format!("k/a{k}"), Value::Int(n * 100 + k)))
            .collect();
        st.transact(ops).unwrap();
        let mut lock = out.lock();
        writeln!(lock, "ack {n}").unwrap();
        lock.flush().unwrap();
    }
}

#[test]
fn kill_9_loses_no_acknowledged_transaction() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        kill_child(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill_9_loses_no_acknowledged_transaction",
            "--nocapture",
            "--test-threads=1",
        ])
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
    // A half-written transaction at the end is left out, not read, and the file is untouched.
    let len = std::fs::metadata(log_path(dir.path())).unwrap().len();
    OpenOptions::new()
        .append(true)
        .open(log_path(dir.path()))
        .unwrap()
        .write_all(&[0x40, 1, 2, 3])
        .unwrap();
    let (reader, warnings) = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(reader.db().datoms().len(), writer.db().datoms().len());
    assert_eq!(
        std::fs::metadata(log_path(dir.path())).unwrap().len(),
        len + 4
    );
    // A store that does not exist reads as empty and is not created.
    let missing = dir.path().join("nothing-here");
    let (empty, _) = Store::open_read_only(&missing).unwrap();
    assert!(empty.db().datoms().is_empty());
    assert!(!missing.exists());
}
