//! Two `pomo query` processes on loopback, each holding a shard of the facts, give the same
//! answer as one process (and as the reference); a missing peer cannot hang the test.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn pomo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pomo"))
}

/// A finished command's output, after checking that it succeeded (its stderr otherwise).
fn succeeded(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for a child, killing it after `limit`.
fn wait(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "a cluster process did not finish within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn setup(dir: &Path) -> std::path::PathBuf {
    // A graph with a cycle and some tails: 40 edges over 25 nodes.
    let mut tx = String::from("[");
    for k in 0..40i64 {
        let (a, b) = ((k * 7) % 25, (k * 11 + 3) % 25);
        tx.push_str(&format!(
            "[:db/add {} :edge/from {a}] [:db/add {} :edge/to {b}] ",
            100 + k,
            100 + k
        ));
    }
    tx.push(']');
    let file = dir.join("tx.edn");
    std::fs::write(&file, tx).unwrap();
    let db = dir.join("db");
    succeeded(
        pomo()
            .args(["transact", "--db"])
            .arg(&db)
            .arg(&file)
            .output()
            .unwrap(),
    );
    let q = dir.join("tc.pomo");
    std::fs::write(
        &q,
        ".decl edge(from, to)\n\
         path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\n\
         path(from: ?x, to: ?z) :- path(from: ?x, to: ?y), edge(from: ?y, to: ?z).\n\
         fanout(x: ?x, n: ?n) :- ?n := count(?y) : path(from: ?x, to: ?y).\n",
    )
    .unwrap();
    db
}

#[test]
fn two_processes_on_loopback_agree_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let q = dir.path().join("tc.pomo");
    let one = succeeded(
        pomo()
            .args(["query", "--engine", "dataflow", "--db"])
            .arg(&db)
            .arg(&q)
            .output()
            .unwrap(),
    );
    let reference = pomo()
        .args(["query", "--engine", "reference", "--db"])
        .arg(&db)
        .arg(&q)
        .output()
        .unwrap();
    assert_eq!(one.stdout, reference.stdout);

    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        format!("127.0.0.1:{}\n127.0.0.1:{}\n", free_port(), free_port()),
    )
    .unwrap();
    let spawn = |i: usize| {
        pomo()
            .args([
                "query",
                "--engine",
                "dataflow",
                "--processes",
                "2",
                "--process",
            ])
            .arg(i.to_string())
            .arg("--hostfile")
            .arg(&hosts)
            .arg("--db")
            .arg(&db)
            .arg(&q)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let p1 = spawn(1);
    let p0 = spawn(0);
    let limit = Duration::from_secs(120);
    let out0 = succeeded(wait(p0, limit));
    let out1 = succeeded(wait(p1, limit));
    // Process 0 prints the whole answer, without timely's connection messages; process 1
    // prints nothing.
    assert_eq!(
        String::from_utf8_lossy(&out0.stdout),
        String::from_utf8_lossy(&one.stdout)
    );
    assert!(out1.stdout.is_empty());
}

#[test]
fn two_workers_agree_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let q = dir.path().join("tc.pomo");
    let run = |w: &str| {
        succeeded(
            pomo()
                .args(["query", "--engine", "dataflow", "--workers", w, "--db"])
                .arg(&db)
                .arg(&q)
                .output()
                .unwrap(),
        )
        .stdout
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn a_process_without_its_peer_waits_with_a_clean_stdout() {
    // Only process 1 of 2 starts: it keeps retrying until the harness ends it.
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let q = dir.path().join("tc.pomo");
    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        format!("127.0.0.1:{}\n127.0.0.1:{}\n", free_port(), free_port()),
    )
    .unwrap();
    let mut child = pomo()
        .args(["query", "--processes", "2", "--process", "1", "--hostfile"])
        .arg(&hosts)
        .arg("--db")
        .arg(&db)
        .arg(&q)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "without its peer the process waits for it"
    );
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    // Nothing reached stdout: the retry messages go to stderr.
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
