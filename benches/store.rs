//! The store against SQLite on the same rows, as a user meets them: import, size on disk, open,
//! a point query from a fresh process (wall time and peak RSS), the same query warm, and a
//! three-way join of DataScript's q5 shape.
//!
//! `cargo bench --bench store` runs 1M datoms (200,000 people × 5 attributes); set
//! `POMO_BENCH_DATOMS=10000000` for 10M. The rows come from the generator below; SQLite is the
//! bundled one of rusqlite (a table with the five columns and an index on each of four), and
//! its fresh-process query runs in a child of this bench, as pomo's runs in the `pomo` binary.
//! Peak RSS is read with `/usr/bin/time -f %M` where it exists.

use pomo_runtime::Value;
use pomo_runtime::store::Store;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const CITIES: usize = 50;

/// Person `e`'s five attributes (the generator of this bench and of the CLI figures).
fn person(e: i64) -> [(&'static str, Value); 5] {
    [
        ("name", Value::Str(format!("name{e}"))),
        ("age", Value::Int(e % 90)),
        ("email", Value::Str(format!("user{e}@example.com"))),
        ("city", Value::Str(format!("city{}", e as usize % CITIES))),
        ("score", Value::Int((e * 7919) % 100_000)),
    ]
}

fn du(path: &Path) -> u64 {
    if path.is_file() {
        return path.metadata().map(|m| m.len()).unwrap_or(0);
    }
    std::fs::read_dir(path)
        .map(|rd| rd.flatten().map(|e| du(&e.path())).sum())
        .unwrap_or(0)
}

/// Runs a command, returning (wall ms, peak RSS KiB, stdout).
fn fresh(cmd: &mut Command) -> (f64, Option<u64>, String) {
    let timed = Path::new("/usr/bin/time").exists();
    let mut c = if timed {
        let mut t = Command::new("/usr/bin/time");
        t.arg("-f").arg("RSS %M").arg(cmd.get_program());
        t.args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                t.env(k, v);
            }
        }
        t
    } else {
        std::mem::replace(cmd, Command::new("true"))
    };
    let t0 = Instant::now();
    let out = c.output().expect("run a fresh process");
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let rss = err
        .lines()
        .filter_map(|l| l.strip_prefix("RSS "))
        .next_back()
        .and_then(|n| n.trim().parse().ok());
    (ms, rss, String::from_utf8_lossy(&out.stdout).into_owned())
}

const POINT_EDN: &str = r#"[:find ?e ?a :where [?e :name "name7"] [?e :age ?a]]"#;
const POINT_SQL: &str = "SELECT id, age FROM people WHERE name = 'name7'";
const Q5_EDN: &str =
    r#"[:find ?e1 ?m ?a :where [?e :name "name7"] [?e :age ?a] [?e1 :age ?a] [?e1 :email ?m]]"#;
const Q5_SQL: &str = "SELECT p1.id, p1.email, p1.age FROM people p JOIN people p1 ON p1.age = p.age WHERE p.name = 'name7'";

fn sqlite_child(path: &str, sql: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut st = c.prepare(sql).unwrap();
    let n = st.query_map([], |_| Ok(())).unwrap().count();
    println!("{n} rows");
}

/// The fresh-process pomo query: what `pomo query --db DIR -e Q` does (a read-only store, the
/// query compiled and run on the JIT), through the library.
fn pomo_child(dir: &str, query: &str) {
    use pomo::query::{Arg, Backend, prepare};
    let (st, _) = Store::open_read_only(std::path::Path::new(dir)).unwrap();
    let q = prepare(
        &pomo::Input::Edn { query, rules: None },
        &pomo::Options::default(),
    )
    .unwrap();
    let out = q
        .run_on(
            vec![Arg::Db(st.db())],
            &pomo::stdlib::Registry::new(),
            &Backend::Jit(pomo::runtime::jit::Mode::Native),
        )
        .unwrap();
    let n = match out {
        pomo::types::Value::Set(rows) | pomo::types::Value::Tuple(rows) => rows.len(),
        _ => 1,
    };
    println!("{n} rows");
}

fn main() {
    if let Ok(dir) = std::env::var("POMO_BENCH_POMO_CHILD") {
        pomo_child(&dir, &std::env::var("POMO_BENCH_EDN").unwrap());
        return;
    }
    if let Ok(path) = std::env::var("POMO_BENCH_SQLITE_CHILD") {
        sqlite_child(&path, &std::env::var("POMO_BENCH_SQL").unwrap());
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let datoms: i64 = std::env::var("POMO_BENCH_DATOMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let people = datoms / 5;
    let work = tempfile::tempdir().unwrap();
    let pdir = work.path().join("pomo");
    let spath = work.path().join("people.db");
    println!(
        "store bench: {people} people × 5 attributes = {} datoms",
        people * 5
    );

    // Import.
    let t0 = Instant::now();
    {
        let (mut st, _) = Store::open(&pdir).unwrap();
        // As `pomo import` does: 10,000 rows a batch, all in one bulk import, compacted only
        // when the rows were not in entity order.
        let mut e = 0;
        let report = st
            .import_bulk(|| {
                let mut batch = Vec::with_capacity(50_000);
                while e < people && batch.len() < 50_000 {
                    e += 1;
                    for (a, v) in person(e) {
                        batch.push((e, a.to_string(), v));
                    }
                }
                Ok((!batch.is_empty()).then_some(batch))
            })
            .unwrap();
        if report.scattered {
            st.compact().unwrap();
        }
    }
    let pomo_import = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    {
        let mut c = rusqlite::Connection::open(&spath).unwrap();
        c.execute_batch(
            "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, email TEXT, city TEXT, score INTEGER);",
        )
        .unwrap();
        let tx = c.transaction().unwrap();
        {
            let mut ins = tx
                .prepare("INSERT INTO people VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .unwrap();
            for e in 1..=people {
                let [n, a, m, c, s] = person(e).map(|(_, v)| v);
                let text = |v: Value| match v {
                    Value::Str(s) => s,
                    _ => unreachable!(),
                };
                let int = |v: Value| match v {
                    Value::Int(i) => i,
                    _ => unreachable!(),
                };
                ins.execute(rusqlite::params![
                    e,
                    text(n),
                    int(a),
                    text(m),
                    text(c),
                    int(s)
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
        c.execute_batch(
            "CREATE INDEX p_name ON people(name); CREATE INDEX p_age ON people(age);
             CREATE INDEX p_email ON people(email); CREATE INDEX p_city ON people(city);",
        )
        .unwrap();
    }
    let sqlite_import = t0.elapsed().as_secs_f64();

    // Open.
    let t0 = Instant::now();
    let (st, _) = Store::open_read_only(&pdir).unwrap();
    let _db = st.db();
    let pomo_open = t0.elapsed().as_secs_f64() * 1e3;
    drop(_db);
    drop(st);
    let t0 = Instant::now();
    let c = rusqlite::Connection::open(&spath).unwrap();
    c.query_row("SELECT 1", [], |_| Ok(())).unwrap();
    let sqlite_open = t0.elapsed().as_secs_f64() * 1e3;

    // Cold point query and q5 in fresh processes (this bench's own binary in a child mode, as
    // `pomo query` runs them).
    let me = std::env::current_exe().unwrap();
    let pomo_q = |q: &str| {
        fresh(
            Command::new(&me)
                .env("POMO_BENCH_POMO_CHILD", &pdir)
                .env("POMO_BENCH_EDN", q),
        )
    };
    let sqlite_q = |sql: &str| {
        fresh(
            Command::new(&me)
                .env("POMO_BENCH_SQLITE_CHILD", &spath)
                .env("POMO_BENCH_SQL", sql),
        )
    };
    let (p_ms, p_rss, p_out) = pomo_q(POINT_EDN);
    let (s_ms, s_rss, s_out) = sqlite_q(POINT_SQL);
    let (p5_ms, p5_rss, p5_out) = pomo_q(Q5_EDN);
    let (s5_ms, s5_rss, s5_out) = sqlite_q(Q5_SQL);
    let srows = |out: &str| {
        out.trim()
            .strip_suffix(" rows")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    };

    // Warm: the same query again in this process.
    let mut pomo = pomo::api::Pomo::open(&pdir).unwrap();
    let mut warm = |q: &str| {
        pomo.query(q, &[]).unwrap();
        let t0 = Instant::now();
        pomo.query(q, &[]).unwrap();
        t0.elapsed().as_secs_f64() * 1e3
    };
    let (pw, pw5) = (warm(POINT_EDN), warm(Q5_EDN));
    let swarm = |sql: &str| {
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |_| Ok(())).unwrap().count();
        let t0 = Instant::now();
        st.query_map([], |_| Ok(())).unwrap().count();
        t0.elapsed().as_secs_f64() * 1e3
    };
    let (sw, sw5) = (swarm(POINT_SQL), swarm(Q5_SQL));

    let kib = |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.1} MB", k as f64 / 1024.0));
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
    println!("| | pomo | SQLite (rusqlite, bundled) | pomo / SQLite |");
    println!("|---|---|---|---|");
    println!(
        "| import | {pomo_import:.2} s | {sqlite_import:.2} s (rows + 4 indexes) | {:.2} |",
        pomo_import / sqlite_import
    );
    let (pd, sd) = (du(&pdir), du(&spath));
    println!(
        "| on disk | {} | {} | {:.2} |",
        mb(pd),
        mb(sd),
        pd as f64 / sd as f64
    );
    println!("| open | {pomo_open:.2} ms | {sqlite_open:.2} ms | |");
    println!(
        "| point query, fresh process | {p_ms:.1} ms, {} RSS, {} rows | {s_ms:.1} ms, {} RSS, {} rows | {:.2} |",
        kib(p_rss),
        srows(&p_out),
        kib(s_rss),
        srows(&s_out),
        p_ms / s_ms
    );
    println!(
        "| point query, warm | {pw:.3} ms | {sw:.3} ms | {:.1} |",
        pw / sw
    );
    println!(
        "| q5 join, fresh process | {p5_ms:.1} ms, {} RSS, {} rows | {s5_ms:.1} ms, {} RSS, {} rows | {:.2} |",
        kib(p5_rss),
        srows(&p5_out),
        kib(s5_rss),
        srows(&s5_out),
        p5_ms / s5_ms
    );
    println!(
        "| q5 join, warm | {pw5:.2} ms | {sw5:.2} ms | {:.1} |",
        pw5 / sw5
    );
}
