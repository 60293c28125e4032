//! Replicas and sync as a user runs them with the `pomo` binary: `status`, `export --car`,
//! `import --car`, `serve`, `sync` and `keygen`, each test on store directories of its own in
//! a temporary directory, over loopback.
//!
//! What the tests hold the commands to: two replicas that wrote concurrently converge to the
//! same state after one sync, and a second sync changes nothing; a damaged CAR file is refused
//! and leaves the store exactly as it was; a process killed with SIGKILL in the middle of an
//! import or a sync (on either side) leaves a store that reopens holding either nothing of the
//! merge or all of it, and a following import or sync completes; a server with a key refuses
//! peers with another key or none, and a server without a key will not listen beyond loopback;
//! a read-only server lets peers pull but takes nothing from them; a server handles peers one
//! after another.
//!
//! Servers are started with `--listen 127.0.0.1:0` and the port is read from their
//! `serving DIR on ADDR` line; a [`Server`] is killed when it is dropped, so a failing test
//! leaves no process behind. Where a test must wait (a server's first line, its exit, a kill
//! point) it polls with a deadline; no assertion depends on timing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen (a debug build on a busy machine).
const PATIENCE: Duration = Duration::from_secs(300);

fn cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pomo"));
    c.args(args).current_dir(dir).env("NO_COLOR", "1");
    c
}

fn pomo(dir: &Path, args: &[&str]) -> Output {
    cmd(dir, args).output().expect("the pomo binary runs")
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "expected success; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts that a command failed (nonzero exit) and returns its stderr.
fn fails(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.code().is_some_and(|c| c != 0),
        "{what} should fail with a nonzero exit, got {:?}; stdout: {}; stderr: {err}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    );
    err
}

/// `pomo status`'s whole output (replica id, facts, state, heads).
fn status(dir: &Path, db: &str) -> String {
    ok(&pomo(dir, &["status", "--db", db]))
}

/// The `state: <CID>` line of `pomo status`.
fn state(dir: &Path, db: &str) -> String {
    let s = status(dir, db);
    s.lines()
        .find(|l| l.starts_with("state: "))
        .unwrap_or_else(|| panic!("no state line in the status of {db}: {s}"))
        .to_string()
}

fn query(dir: &Path, db: &str, q: &str) -> String {
    ok(&pomo(dir, &["query", "--db", db, "-e", q]))
        .trim()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn transact(dir: &Path, db: &str, edn: &str) {
    write(dir, "tx.edn", edn);
    ok(&pomo(dir, &["transact", "--db", db, "tx.edn"]));
}

/// Runs `pomo sync --db DB --peer ADDR [extra…]`, returning the output.
fn sync(dir: &Path, db: &str, addr: &str, extra: &[&str]) -> Output {
    let mut args = vec!["sync", "--db", db, "--peer", addr];
    args.extend_from_slice(extra);
    pomo(dir, &args)
}

/// Waits for a child to exit, polling until `PATIENCE` runs out.
fn wait_for_exit(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(s) = child.try_wait().expect("poll a child") {
            return s;
        }
        assert!(Instant::now() < deadline, "{what} did not exit in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `pomo serve` process, killed when dropped. Its stderr is read by a thread into `log`.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `pomo serve --db DB --listen 127.0.0.1:0 [extra…]` and waits for its
    /// `serving … on ADDR` line.
    fn start(dir: &Path, db: &str, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "--db", db, "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = cmd(dir, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pomo serve starts");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((_, addr)) = line.split_once(" on ") {
                    let addr = addr.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(PATIENCE) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "pomo serve printed no `serving … on ADDR` line; stderr: {:?}",
                    log.lock().unwrap()
                );
            }
        };
        Server { child, addr, log }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits for the server to stop by itself (`--max-connections`).
    fn wait(&mut self) -> ExitStatus {
        wait_for_exit(&mut self.child, "pomo serve")
    }

    /// Kills the server (SIGKILL) and reaps it.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

const SCHEMA: &str = r#"[{:db/ident :person/name :db/unique :db.unique/identity}]"#;

/// Replicas `a` and `b` from a common base: `a` is transacted, exported to `base.car`, and
/// `b` imports that file. The base holds one person, Ivan of Moscow.
fn two_replicas(dir: &Path) {
    transact(
        dir,
        "a",
        &format!("{SCHEMA}\n[{{:person/name \"Ivan\" :person/city \"Moscow\"}}]"),
    );
    ok(&pomo(dir, &["export", "--db", "a", "--car", "base.car"]));
    ok(&pomo(dir, &["import", "--db", "b", "--car", "base.car"]));
    assert_eq!(
        state(dir, "a"),
        state(dir, "b"),
        "a CAR import of the whole of a should give b a's state"
    );
}

const PEOPLE: &str = "[:find (count ?e) . :where [?e :person/name]]";
const IVANS_CITY: &str = r#"[:find ?c :where [?e :person/name "Ivan"] [?e :person/city ?c]]"#;

#[test]
fn two_replicas_that_wrote_concurrently_converge_after_one_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    two_replicas(dir);
    transact(
        dir,
        "a",
        r#"[[:db/add [:person/name "Ivan"] :person/city "Paris"] {:person/name "Petr"}]"#,
    );
    transact(
        dir,
        "b",
        r#"[[:db/add [:person/name "Ivan"] :person/city "Rome"] {:person/name "Olga"}]"#,
    );
    assert_ne!(state(dir, "a"), state(dir, "b"));

    let mut server = Server::start(dir, "a", &[]);
    let out = sync(dir, "b", &server.addr, &[]);
    let printed = ok(&out);
    let (sa, sb) = (state(dir, "a"), state(dir, "b"));
    assert_eq!(
        sa, sb,
        "after a sync both replicas should hold the same facts"
    );
    assert_eq!(
        printed.trim(),
        sb,
        "`pomo sync` should print the state it reached"
    );
    for db in ["a", "b"] {
        assert_eq!(query(dir, db, PEOPLE), "3", "people in {db}");
    }
    let city = query(dir, "a", IVANS_CITY);
    assert!(
        city == r#"#{["Paris"]}"# || city == r#"#{["Rome"]}"#,
        "Ivan should have one city, one of the two written: {city}"
    );
    assert_eq!(
        query(dir, "b", IVANS_CITY),
        city,
        "both replicas should pick the same winner"
    );

    // A second sync has nothing to do.
    let again = sync(dir, "b", &server.addr, &[]);
    assert_eq!(ok(&again).trim(), sb);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("received 0 commits, 0 facts (0 new); sent 0 commits, 0 facts"),
        "a second sync should move nothing: {err}"
    );
    assert_eq!(state(dir, "a"), sa);
    assert_eq!(state(dir, "b"), sb);
    server.kill();
}

/// The bytes of `base.car` with one byte changed inside a fact block (the `w` of the string
/// "Moscow"), and cut ten bytes short of its end (inside its last block).
fn damaged_cars(dir: &Path) -> [(&'static str, Vec<u8>); 2] {
    let car = std::fs::read(dir.join("base.car")).unwrap();
    let at = car
        .windows(6)
        .position(|w| w == b"Moscow")
        .expect("the base CAR holds the string Moscow in a fact block");
    let mut flipped = car.clone();
    flipped[at + 5] = b'x';
    let truncated = car[..car.len() - 10].to_vec();
    [("flipped.car", flipped), ("truncated.car", truncated)]
}

#[test]
fn a_corrupted_or_truncated_car_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    transact(
        dir,
        "a",
        &format!("{SCHEMA}\n[{{:person/name \"Ivan\" :person/city \"Moscow\"}}]"),
    );
    ok(&pomo(dir, &["export", "--db", "a", "--car", "base.car"]));
    // The importing store holds something of its own, so that a partial write would show.
    transact(dir, "b", r#"[{:db/ident :person/age}] [{:person/age 30}]"#);
    let before = status(dir, "b");
    for (name, bytes) in damaged_cars(dir) {
        std::fs::write(dir.join(name), bytes).unwrap();
        let err = fails(
            &pomo(dir, &["import", "--db", "b", "--car", name]),
            &format!("importing {name}"),
        );
        assert!(
            err.contains(name) && err.contains("nothing was written"),
            "the error for {name} should name the file and say nothing was written: {err}"
        );
        assert_eq!(
            status(dir, "b"),
            before,
            "a refused import of {name} should leave the store exactly as it was"
        );
    }
    let err = String::from_utf8_lossy(
        &pomo(dir, &["import", "--db", "b", "--car", "flipped.car"]).stderr,
    )
    .into_owned();
    assert!(
        err.contains("hash to") || err.contains("does not match"),
        "a flipped byte should be reported as a block that does not match its CID: {err}"
    );
    let err = String::from_utf8_lossy(
        &pomo(dir, &["import", "--db", "b", "--car", "truncated.car"]).stderr,
    )
    .into_owned();
    assert!(
        err.contains("truncated"),
        "a cut file should be reported as truncated: {err}"
    );
    // Into a store that does not exist yet, a refused file leaves no store behind.
    assert!(
        !pomo(dir, &["import", "--db", "fresh", "--car", "truncated.car"])
            .status
            .success()
    );
    assert!(
        !dir.join("fresh").exists(),
        "a failed import created a store"
    );
    // The intact file still imports.
    ok(&pomo(dir, &["import", "--db", "b", "--car", "base.car"]));
    assert_eq!(query(dir, "b", PEOPLE), "1");
}

/// Builds `src` and `dst` from a common base (the schema), then gives `src` `rows` people of
/// two attributes each (`2 × rows` facts) with `pomo import --tsv` (small enough to sync
/// quickly in a debug build).
fn big_source(dir: &Path, rows: usize) {
    transact(
        dir,
        "src",
        "[{:db/ident :p/name :db/unique :db.unique/identity}]",
    );
    ok(&pomo(dir, &["export", "--db", "src", "--car", "base.car"]));
    ok(&pomo(dir, &["import", "--db", "dst", "--car", "base.car"]));
    let tsv: String = (1..=rows)
        .map(|i| format!("{i}\tname{i}\t{}\n", i % 90))
        .collect();
    write(dir, "people.tsv", &tsv);
    ok(&pomo(
        dir,
        &[
            "import",
            "--db",
            "src",
            "--tsv",
            "people.tsv",
            "--attrs",
            ":p/name,:p/age",
        ],
    ));
}

/// When to kill a process in the middle of its work.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// Shortly after it started, while it reads and verifies blocks.
    Early,
    /// As soon as the store's `data.mdb` grows: the merge's write transaction is being
    /// written out.
    AtWrite,
}

/// Kills `child` (SIGKILL) at `point`, with `db` the store whose write is watched. Returns
/// whether the kill came before the work ended: before `child` exited by itself, or before
/// `peer` did (the client of a server that is the victim).
fn kill_at(child: &mut Child, point: KillPoint, db: &Path, mut peer: Option<&mut Child>) -> bool {
    let data = db.join("data.mdb");
    let size = |p: &Path| p.metadata().map(|m| m.len()).unwrap_or(0);
    let start = size(&data);
    let began = Instant::now();
    let deadline = began + PATIENCE;
    loop {
        if child.try_wait().expect("poll a child").is_some() {
            return false;
        }
        if let Some(p) = peer.as_deref_mut()
            && p.try_wait().expect("poll a child").is_some()
        {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        let due = match point {
            KillPoint::Early => began.elapsed() >= Duration::from_millis(300),
            KillPoint::AtWrite => size(&data) != start,
        };
        if due {
            let _ = child.kill();
            let _ = child.wait();
            return true;
        }
        assert!(Instant::now() < deadline, "the process ran for too long");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The source's state and its number of names, what a replica holds after all of a merge.
struct Source {
    state: String,
    names: String,
}

const NAMES: &str = "[:find (count ?e) . :where [?e :p/name]]";

/// After a kill: the store reopens (`status` and `query` work) and holds either none of the
/// merge (its old status, exactly) or all of it (the source's state and names).
fn holds_nothing_or_everything(dir: &Path, db: &str, before: &str, source: &Source, what: &str) {
    let now = status(dir, db);
    let names = query(dir, db, NAMES);
    if state(dir, db) == source.state {
        assert_eq!(
            names, source.names,
            "{what}: the store has the source's state but not its names"
        );
        eprintln!("{what}: the store holds all of the merge");
    } else {
        assert_eq!(
            now, before,
            "{what}: the store should hold nothing of the merge (its old status) or all of it \
             ({})",
            source.state
        );
        eprintln!("{what}: the store holds nothing of the merge");
    }
}

#[test]
fn kill_9_during_a_large_car_import_leaves_nothing_or_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    big_source(dir, 100_000);
    let source = Source {
        state: state(dir, "src"),
        names: query(dir, "src", NAMES),
    };
    assert!(
        status(dir, "src").contains("facts: 200"),
        "src should hold about 200k facts"
    );
    ok(&pomo(dir, &["export", "--db", "src", "--car", "big.car"]));
    let before = status(dir, "dst");
    for point in [KillPoint::Early, KillPoint::AtWrite] {
        let mut child = cmd(dir, &["import", "--db", "dst", "--car", "big.car"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let killed = kill_at(&mut child, point, &dir.join("dst"), None);
        let what = format!("import killed {point:?} (killed before it ended: {killed})");
        holds_nothing_or_everything(dir, "dst", &before, &source, &what);
    }
    ok(&pomo(dir, &["import", "--db", "dst", "--car", "big.car"]));
    assert_eq!(
        state(dir, "dst"),
        source.state,
        "an import after the killed ones should reach the source's state"
    );
    assert_eq!(query(dir, "dst", NAMES), "100000");
}

#[test]
fn kill_9_during_a_sync_on_either_side_leaves_nothing_or_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    big_source(dir, 30_000);
    let source = Source {
        state: state(dir, "src"),
        names: query(dir, "src", NAMES),
    };
    // A second replica of the base, for the server side.
    ok(&pomo(dir, &["import", "--db", "dst2", "--car", "base.car"]));
    let before = status(dir, "dst");
    let before2 = status(dir, "dst2");

    // The client pulling from src is killed.
    let mut server = Server::start(dir, "src", &[]);
    for point in [KillPoint::Early, KillPoint::AtWrite] {
        let mut child = cmd(dir, &["sync", "--db", "dst", "--peer", &server.addr])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let killed = kill_at(&mut child, point, &dir.join("dst"), None);
        let what = format!("pulling client killed {point:?} (before it ended: {killed})");
        holds_nothing_or_everything(dir, "dst", &before, &source, &what);
    }
    assert_eq!(
        ok(&sync(dir, "dst", &server.addr, &[])).trim(),
        source.state,
        "a sync after the killed ones should reach the source's state; server log: {:?}",
        server.log()
    );
    server.kill();

    // The server receiving src's push is killed.
    for point in [KillPoint::Early, KillPoint::AtWrite] {
        let mut server = Server::start(dir, "dst2", &[]);
        let mut client = cmd(dir, &["sync", "--db", "src", "--peer", &server.addr])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let killed = kill_at(
            &mut server.child,
            point,
            &dir.join("dst2"),
            Some(&mut client),
        );
        wait_for_exit(&mut client, "the client of a killed server");
        let what = format!("server receiving a push killed {point:?} (before it ended: {killed})");
        holds_nothing_or_everything(dir, "dst2", &before2, &source, &what);
        assert_eq!(
            state(dir, "src"),
            source.state,
            "the pushing client should not change"
        );
    }
    let mut server = Server::start(dir, "dst2", &["--max-connections", "1"]);
    ok(&sync(dir, "src", &server.addr, &[]));
    assert!(server.wait().success(), "log: {:?}", server.log());
    assert_eq!(
        state(dir, "dst2"),
        source.state,
        "a push after the killed ones should reach the source's state"
    );
}

/// A commit of 50,000 facts (one batch of `pomo import --tsv`: 10,000 rows of five
/// attributes) names its facts in a commit block of about 2 MB, more than the sync
/// protocol's message size (1 MiB): it travels in parts.
#[test]
fn sync_carries_a_commit_of_fifty_thousand_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let tsv: String = (1..=10_000)
        .map(|i| format!("{i}\tn{i}\t{}\tu{i}@x\tc{}\t{}\n", i % 90, i % 50, i * 7))
        .collect();
    write(dir, "people.tsv", &tsv);
    ok(&pomo(
        dir,
        &[
            "import",
            "--db",
            "src",
            "--tsv",
            "people.tsv",
            "--attrs",
            ":p/name,:p/age,:p/email,:p/city,:p/score",
        ],
    ));
    let server = Server::start(dir, "src", &["--max-connections", "1"]);
    let out = sync(dir, "dst", &server.addr, &[]);
    assert_eq!(
        ok(&out).trim(),
        state(dir, "src"),
        "the server's log: {:?}",
        server.log()
    );
}

#[test]
fn a_keyed_server_refuses_peers_with_another_key_or_none() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&pomo(dir, &["keygen", "k1"]));
    ok(&pomo(dir, &["keygen", "k2"]));
    let (k1, k2) = (
        std::fs::read_to_string(dir.join("k1")).unwrap(),
        std::fs::read_to_string(dir.join("k2")).unwrap(),
    );
    for k in [&k1, &k2] {
        assert!(
            k.trim().len() == 64 && k.trim().chars().all(|c| c.is_ascii_hexdigit()),
            "a key file should hold 64 hex digits: {k:?}"
        );
    }
    assert_ne!(k1, k2, "two keygens should give two different keys");
    fails(
        &pomo(dir, &["keygen", "k1"]),
        "keygen over an existing file",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("k1")).unwrap(),
        k1,
        "keygen must not overwrite a key"
    );

    two_replicas(dir);
    transact(dir, "a", r#"[{:person/name "Petr"}]"#);
    transact(dir, "b", r#"[{:person/name "Olga"}]"#);
    let (a0, b0) = (status(dir, "a"), status(dir, "b"));
    let mut server = Server::start(dir, "a", &["--key", "k1"]);
    for (what, extra) in [
        ("a peer with another key", &["--key", "k2"][..]),
        ("a peer without a key", &[][..]),
    ] {
        let err = fails(&sync(dir, "b", &server.addr, extra), what);
        assert!(
            err.contains("handshake") && err.contains("nothing was merged"),
            "{what} should be refused at the handshake: {err}"
        );
        assert_eq!(status(dir, "a"), a0, "{what} changed the server's store");
        assert_eq!(status(dir, "b"), b0, "{what} changed its own store");
    }
    let out = sync(dir, "b", &server.addr, &["--key", "k1"]);
    assert_eq!(
        ok(&out).trim(),
        state(dir, "a"),
        "a peer with the server's key should sync"
    );
    assert_eq!(state(dir, "a"), state(dir, "b"));
    assert_eq!(query(dir, "b", PEOPLE), "3");
    server.kill();

    // Without a key, only loopback. Should the server listen after all, it is killed at
    // the deadline rather than left to hang the test.
    let mut child = cmd(dir, &["serve", "--db", "a", "--listen", "0.0.0.0:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = fails(&out, "serving 0.0.0.0 without a key");
    assert_eq!(out.status.code(), Some(2), "a usage error: {err}");
    assert!(
        err.contains("without a sync key"),
        "the refusal should say a key is needed: {err}"
    );
}

#[test]
fn a_read_only_server_lets_peers_pull_and_takes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    two_replicas(dir);
    transact(dir, "a", r#"[{:person/name "Petr"}]"#);
    transact(dir, "b", r#"[{:person/name "Olga"}]"#);
    let a0 = status(dir, "a");
    let mut server = Server::start(dir, "a", &["--read-only", "--max-connections", "2"]);
    let out = sync(dir, "b", &server.addr, &[]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("read-only: nothing pushed"),
        "the client should report that it did not push: {err}"
    );
    assert_eq!(status(dir, "a"), a0, "a read-only server's store changed");
    assert_eq!(query(dir, "b", PEOPLE), "3", "b should have pulled Petr");
    assert_eq!(query(dir, "a", PEOPLE), "2", "a should not have Olga");

    // The server keeps serving: a fresh peer pulls everything a has.
    let out = sync(dir, "c", &server.addr, &[]);
    assert_eq!(ok(&out).trim(), state(dir, "a"));
    assert!(server.wait().success(), "log: {:?}", server.log());
    assert_eq!(status(dir, "a"), a0);
}

#[test]
fn a_server_handles_two_peers_one_after_another() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    two_replicas(dir);
    ok(&pomo(dir, &["import", "--db", "c", "--car", "base.car"]));
    transact(dir, "b", r#"[{:person/name "Olga"}]"#);
    transact(dir, "c", r#"[{:person/name "Petr"}]"#);
    let mut server = Server::start(dir, "a", &["--max-connections", "2"]);
    ok(&sync(dir, "b", &server.addr, &[]));
    ok(&sync(dir, "c", &server.addr, &[]));
    let exit = server.wait();
    let log = server.log();
    assert!(
        exit.success(),
        "the server should stop after two peers: {log:?}"
    );
    assert_eq!(
        log.iter().filter(|l| l.contains(": sent ")).count(),
        2,
        "the server should report two syncs: {log:?}"
    );
    assert_eq!(
        state(dir, "a"),
        state(dir, "c"),
        "the second peer should get what the first pushed"
    );
    assert_eq!(query(dir, "a", PEOPLE), "3");
    assert_eq!(query(dir, "c", PEOPLE), "3");
    assert_eq!(
        query(dir, "b", PEOPLE),
        "2",
        "the first peer synced before the second pushed"
    );
}

/// `pomo watch` takes `:import-car FILE` lines: the merge is one epoch of the live query,
/// printed as its changes; a file that cannot be read is an error and the watch goes on.
#[test]
fn watch_prints_what_a_merged_car_file_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    two_replicas(dir);
    transact(dir, "b", r#"[{:person/name "Olga" :person/city "Oslo"}]"#);
    ok(&pomo(dir, &["export", "--db", "b", "--car", "b.car"]));
    let mut child = cmd(
        dir,
        &[
            "watch",
            "--db",
            "a",
            "-e",
            "[:find ?n :where [?e :person/name ?n]]",
        ],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("pomo watch runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(
            stdin,
            ":import-car b.car\n:import-car missing.car\n:import-car b.car"
        )
        .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec![r#"#{["Ivan"]}"#, r#"+ ["Olga"]"#],
        "the first merge adds Olga; merging the same file again changes nothing"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing.car") && stderr.contains("nothing was merged"),
        "{stderr}"
    );
    assert_eq!(state(dir, "a"), state(dir, "b"));
}
