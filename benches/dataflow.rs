//! The dataflow backend next to the hand-written differential-dataflow peer program
//! (`benches/README.md`), on the benchmark data (`common::data`), in one run:
//! transitive closure on the random graph (1 and 2 workers) and on the chain, same-generation,
//! and ±1 edge updates after the closure of the random graph and of the chain.
//!
//! ```text
//! cargo bench --bench dataflow -- [--data DIR] [--peer PATH] [--reps N]
//!     [--only tc,chain,sg,incr,incr-chain]
//! ```
//!
//! `--data` defaults to `target/bench-data` (generated when missing); `--peer` to `$PEER_DD`,
//! the peer's release binary (without it only pomo's figures are printed). Each
//! figure is the median of the repetitions after one warm-up run, like the peer's (a warm-up
//! slower than 20 s is the only sample). The queries are PomoLogic programs compiled by pomo;
//! their base relation is fed straight from the file through `Engine::update`.

mod common;
use common::{SG, TC, ensure_data, median, read_pairs};
use pomo::runtime::dataflow::{Config, Engine};
use pomo::runtime::reference::Env;
use pomo::types::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Args {
    data: PathBuf,
    peer: Option<PathBuf>,
    reps: usize,
    only: Vec<String>,
}

fn args() -> Args {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut a = Args {
        data: root.join("target/bench-data"),
        peer: std::env::var_os("PEER_DD").map(PathBuf::from),
        reps: 5,
        only: vec![
            "tc".into(),
            "chain".into(),
            "sg".into(),
            "incr".into(),
            "incr-chain".into(),
        ],
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--data" => a.data = it.next().expect("--data DIR").into(),
            "--peer" => a.peer = Some(it.next().expect("--peer PATH").into()),
            "--reps" => a.reps = it.next().expect("--reps N").parse().expect("a number"),
            "--only" => {
                a.only = it
                    .next()
                    .expect("--only LIST")
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

/// The peer's policy: repeat to fill about 3 s, at least 3 and at most `max` times.
fn reps_after(t0: f64, max: usize) -> usize {
    if t0 > 20.0 {
        return 0;
    }
    ((3.0 / t0.max(1e-6)).ceil() as usize).clamp(3, max.max(3))
}

fn engine(program: &str, workers: usize) -> Engine {
    let c = pomo::compile(&pomo::Input::Logic(program), &pomo::Options::default())
        .expect("the benchmark program compiles");
    Engine::start(
        c.flow,
        Env::default(),
        &Config {
            workers,
            ..Config::default()
        },
    )
    .expect("the engine starts")
}

fn row(a: i64, b: i64) -> Vec<Value> {
    vec![Value::Int(a), Value::Int(b)]
}

/// One evaluation from scratch (engine start included, like the peer's fresh timely instance):
/// seconds and result size.
fn batch(program: &str, rel: &str, out: &str, data: &[(i64, i64)], workers: usize) -> (f64, usize) {
    let t = Instant::now();
    let mut e = engine(program, workers);
    e.update(
        data.iter()
            .map(|&(a, b)| (rel.to_string(), row(a, b), 1))
            .collect(),
    )
    .expect("the epoch runs");
    let secs = t.elapsed().as_secs_f64();
    let n = e.relation(out).map(|r| r.tuples.len()).unwrap_or(0);
    (secs, n)
}

fn ours_batch(
    program: &str,
    rel: &str,
    out: &str,
    data: &[(i64, i64)],
    workers: usize,
    max: usize,
) -> (f64, usize) {
    let (t0, n0) = batch(program, rel, out, data, workers);
    let mut ts = Vec::new();
    for _ in 0..reps_after(t0, max) {
        let (t, n) = batch(program, rel, out, data, workers);
        assert_eq!(n, n0, "the result size changed between runs");
        ts.push(t);
    }
    if ts.is_empty() {
        ts.push(t0);
    }
    (median(ts), n0)
}

/// Runs the peer and returns its `median_s` (and `card`) lines.
fn peer(peer: &Path, args: &[String]) -> Vec<(String, f64, i64)> {
    let out = match Command::new(peer).args(args).output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!("peer failed: {}", String::from_utf8_lossy(&o.stderr));
            return Vec::new();
        }
        Err(e) => {
            eprintln!("cannot run the peer {}: {e}", peer.display());
            return Vec::new();
        }
    };
    let field = |l: &str, k: &str| -> Option<String> {
        let i = l.find(&format!("\"{k}\":"))? + k.len() + 3;
        let rest = &l[i..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_string())
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            Some((
                field(l, "step").unwrap_or_default(),
                field(l, "median_s")?.parse().ok()?,
                field(l, "card")?.parse().ok()?,
            ))
        })
        .collect()
}

struct Line {
    workload: String,
    ours: f64,
    theirs: Option<f64>,
    card: usize,
}

fn main() {
    let a = args();
    ensure_data(&a.data);
    let mut lines: Vec<Line> = Vec::new();
    let mut report = |workload: &str, ours: f64, card: usize, theirs: Option<f64>| {
        println!(
            "{workload:<28} pomo {ours:>9.4} s   peer-dd {}   ratio {}   ({card} tuples)",
            theirs.map_or("      —  ".into(), |t| format!("{t:>9.4} s")),
            theirs.map_or("—".into(), |t| format!("{:.2}×", ours / t))
        );
        lines.push(Line {
            workload: workload.into(),
            ours,
            theirs,
            card,
        });
    };
    let file = |n: &str| a.data.join(n).display().to_string();
    let run_peer = |args: Vec<String>| a.peer.as_ref().map(|p| peer(p, &args)).unwrap_or_default();
    let want = |w: &str| a.only.iter().any(|x| x == w);

    // The batch workloads: --only name, program, base and result relations, data file, the
    // peer's mode, label, worker counts.
    type Batch<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a [usize],
    );
    let batches: [Batch; 3] = [
        (
            "tc",
            TC,
            "edge",
            "path",
            "tc_rand.tsv",
            "tc",
            "1a tc random",
            &[1, 2],
        ),
        (
            "chain",
            TC,
            "edge",
            "path",
            "tc_chain.tsv",
            "tc",
            "1b tc chain",
            &[1],
        ),
        (
            "sg",
            SG,
            "par",
            "sg",
            "sg_tree.tsv",
            "sg",
            "2 same-generation",
            &[1],
        ),
    ];
    for (name, program, rel, out, file_name, mode, label, workers) in batches {
        if !want(name) {
            continue;
        }
        let data = read_pairs(&a.data.join(file_name));
        for &workers in workers {
            let (ours, card) = ours_batch(program, rel, out, &data, workers, a.reps);
            let theirs = run_peer(vec![
                mode.into(),
                file(file_name),
                a.reps.to_string(),
                workers.to_string(),
            ]);
            if let Some(p) = theirs.first() {
                assert_eq!(p.2 as usize, card, "pomo and the peer disagree on the size");
            }
            report(
                &format!(
                    "{label}, {workers} worker{}",
                    if workers > 1 { "s" } else { "" }
                ),
                ours,
                card,
                theirs.first().map(|p| p.1),
            );
        }
    }
    for (workload, file_name, label) in [
        ("incr", "tc_rand", "random"),
        ("incr-chain", "tc_chain", "chain"),
    ] {
        if !want(workload) {
            continue;
        }
        let data = read_pairs(&a.data.join(format!("{file_name}.tsv")));
        let incr: Vec<i64> = std::fs::read_to_string(a.data.join(format!("{file_name}.incr")))
            .unwrap()
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        let (add, del) = ((incr[0], incr[1]), (incr[2], incr[3]));
        let mut e = engine(TC, 1);
        let t = Instant::now();
        e.update(
            data.iter()
                .map(|&(x, y)| ("edge".to_string(), row(x, y), 1))
                .collect(),
        )
        .unwrap();
        let initial = t.elapsed().as_secs_f64();
        let mut steps: Vec<(&str, Vec<f64>)> = vec![
            ("add", vec![]),
            ("add-revert", vec![]),
            ("del", vec![]),
            ("del-revert", vec![]),
        ];
        let mut card = 0;
        for _ in 0..a.reps.max(3) {
            for (i, (edge, diff)) in [(add, 1), (add, -1), (del, -1), (del, 1)]
                .into_iter()
                .enumerate()
            {
                let t = Instant::now();
                e.update(vec![("edge".to_string(), row(edge.0, edge.1), diff)])
                    .unwrap();
                steps[i].1.push(t.elapsed().as_secs_f64());
            }
            card = e.relation("path").map(|r| r.tuples.len()).unwrap_or(0);
        }
        let theirs = run_peer(vec![
            "tc-incr".into(),
            file(&format!("{file_name}.tsv")),
            file(&format!("{file_name}.incr")),
            a.reps.max(3).to_string(),
            "1".into(),
        ]);
        let find = |s: &str| theirs.iter().find(|p| p.0 == s).map(|p| p.1);
        report(
            &format!("5 tc {label}, initial"),
            initial,
            card,
            find("initial"),
        );
        for (name, ts) in steps {
            report(
                &format!("5 tc {label}, {name}"),
                median(ts),
                card,
                find(name),
            );
        }
    }

    println!("\nsummary (pomo / peer-dd, lower is better):");
    for l in &lines {
        if let Some(t) = l.theirs {
            println!("  {:<28} {:.2}×", l.workload, l.ours / t);
        }
    }
    let _ = lines.iter().map(|l| l.card).sum::<usize>();
}
