//! The JIT backend next to the peer programs (datafrog's semi-naive Datalog and the
//! hand-written kernels of `handrust`, `benches/README.md`) on the benchmark data
//! (`common::data`), in one run: transitive closure on the random graph and on the
//! chain, same-generation, the EAV join with a count per group, DataScript's benchmark queries
//! and its recursive `follows` rule, the peak memory of the random-graph closure, and the time
//! the code generator takes on the 20-clause corpus query.
//!
//! ```text
//! cargo bench --bench jit -- [--data DIR] [--reps N] [--datafrog PATH] [--handrust PATH]
//!     [--interp] [--only tc,chain,sg,eav,ds,rules,mem,compile]
//! ```
//!
//! `--data` defaults to `target/bench-data` (generated when missing). The peers come from
//! `--datafrog`/`--handrust`, `$PEER_DATAFROG`/`$PEER_HANDRUST`, or their release builds under
//! `/tmp/peer-*-target`; without them only pomo's figures are printed. Each figure is the median
//! of the repetitions after one warm-up run, like the peers' (fill about 3 s, at least 3 and at
//! most `--reps` repetitions, up to 200 for runs under 10 ms); the warm-up, which compiles the
//! kernels and builds the store views, is shown as "first". The DataScript, SQLite and DuckDB
//! figures are the README's, measured elsewhere, so only their ratios to pomo are meaningful.
//! `--interp` runs the kernels through the interpreter instead of native code.

mod common;
use common::{SG, TC, ensure_data, median, read_pairs, read_rows};
use pomo::query::{Arg, PreparedQuery};
use pomo::runtime::jit::{Jit, Mode};
use pomo::runtime::reference::Env;
use pomo::runtime::store::{AttrSchema, Db, EntityRef, Schema, Store, TxOp, TxValue};
use pomo::types::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const EAV: &str = "[:find ?age (count ?n) :where [?p :person/age ?age] [(> ?age 30)] \
    [?p :person/friend ?f] [?f :person/age ?fa] [(< ?fa 20)] [?p :person/name ?n]]";

/// DataScript's benchmark queries, one a line after the name of handrust's kernel for them.
const DS: &str = r#"ds_q1 [:find ?e :where [?e :name "Ivan"]]
ds_q2 [:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a]]
ds_q3 [:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a] [?e :sex "male"]]
ds_q4 [:find ?e ?l ?a :where [?e :name "Ivan"] [?e :last-name ?l] [?e :age ?a] [?e :sex "male"]]
ds_q5 [:find ?e1 ?l ?a :where [?e :name "Ivan"] [?e :age ?a] [?e1 :age ?a] [?e1 :last-name ?l]]
ds_qpred1 [:find ?e ?s :where [?e :salary ?s] [(> ?s 50000)]]"#;

const FOLLOWS: &str = "[:find ?e1 ?e2 :in $ % :where (follow ?e1 ?e2)]";
const FOLLOWS_RULES: &str = "[[(follow ?e1 ?e2) [?e1 :follow ?e2]] \
    [(follow ?e1 ?e2) [?e1 :follow ?t] (follow ?t ?e2)]]";

/// The README's figures of the engines we cannot run here, as (low, high) seconds: the
/// DataScript figure, when it finishes at all, then SQLite and DuckDB.
type Span = (f64, f64);
fn readme(workload: &str) -> (Option<Span>, Span, Span) {
    let q14 = (Some((15e-3, 61e-3)), (0.63e-3, 3.8e-3), (3.1e-3, 9.4e-3));
    match workload {
        "tc_rand" => (None, (16.8, 16.8), (1.27, 1.27)),
        "tc_chain" => (None, (9.1, 9.1), (0.53, 0.53)),
        "sg_tree" => (None, (11.0, 11.0), (0.54, 0.54)),
        "eav" => (Some((1.97, 1.97)), (0.406, 0.406), (24e-3, 24e-3)),
        "ds_q5" => (Some((2.4, 2.4)), (2.1, 2.1), (38e-3, 38e-3)),
        "ds_qpred1" => (Some((0.1, 0.1)), (2.6e-3, 2.6e-3), (4.0e-3, 4.0e-3)),
        "ds_rules_wide" => (Some((0.113, 0.113)), (16.5e-3, 16.5e-3), (4.4e-3, 4.4e-3)),
        "ds_rules_long" => (Some((0.143, 0.143)), (5.5e-3, 5.5e-3), (4.1e-3, 4.1e-3)),
        _ => q14,
    }
}

struct Args {
    data: PathBuf,
    datafrog: Option<PathBuf>,
    handrust: Option<PathBuf>,
    reps: usize,
    only: Vec<String>,
    mode: Mode,
    child_tc: Option<PathBuf>,
}

fn peer_path(flag: Option<String>, var: &str, name: &str) -> Option<PathBuf> {
    flag.map(PathBuf::from)
        .or_else(|| std::env::var_os(var).map(PathBuf::from))
        .or_else(|| {
            let p = PathBuf::from(format!("/tmp/{name}-target/release/{name}"));
            p.exists().then_some(p)
        })
}

fn args() -> Args {
    let all = "tc,chain,sg,eav,ds,rules,mem,compile";
    let (mut datafrog, mut handrust) = (None, None);
    let mut a = Args {
        data: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data"),
        datafrog: None,
        handrust: None,
        reps: 5,
        only: all.split(',').map(String::from).collect(),
        mode: Mode::Native,
        child_tc: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{x} needs a value"));
        match x.as_str() {
            "--data" => a.data = value().into(),
            "--reps" => a.reps = value().parse().expect("--reps takes a number"),
            "--only" => a.only = value().split(',').map(String::from).collect(),
            "--datafrog" => datafrog = Some(value()),
            "--handrust" => handrust = Some(value()),
            "--interp" => a.mode = Mode::Interpret,
            "--child-tc" => a.child_tc = Some(value().into()),
            _ => {} // cargo bench passes --bench
        }
    }
    a.datafrog = peer_path(datafrog, "PEER_DATAFROG", "peer-datafrog");
    a.handrust = peer_path(handrust, "PEER_HANDRUST", "peer-handrust");
    a
}

/// The peers' policy: fill about 3 s, at least 3 and at most `max` times, up to 200 times for
/// runs under 10 ms (so that the median is not timer noise), none after a run over 20 s.
fn reps_for(t: f64, max: usize) -> usize {
    if t > 20.0 {
        0
    } else if t < 0.01 {
        ((3.0 / t.max(1e-7)) as usize).clamp(3, 200)
    } else {
        ((3.0 / t).ceil() as usize).clamp(3, max.max(3))
    }
}

/// A measured workload: the warm-up, the median of the repetitions, their number, and the
/// result's cardinality and checksum (handrust's `card` and `check`).
struct Measured {
    first: f64,
    median: f64,
    n: usize,
    card: u64,
    check: u64,
}

fn measure(
    max: usize,
    mut f: impl FnMut() -> Result<(u64, u64), String>,
) -> Result<Measured, String> {
    let mut timed = || {
        let t = Instant::now();
        f().map(|r| (t.elapsed().as_secs_f64(), r))
    };
    let (first, r0) = timed()?;
    let done = |median, n| Measured {
        first,
        median,
        n,
        card: r0.0,
        check: r0.1,
    };
    if reps_for(first, max) == 0 {
        return Ok(done(first, 1));
    }
    // The warm-up compiles the kernels, so the number of repetitions follows the first warm
    // run instead: a micro query whose warm-up is slow still gets its 200 samples.
    let (mut ts, mut n) = (Vec::new(), 1);
    while ts.len() < n {
        let (t, r) = timed()?;
        if r != r0 {
            return Err(format!(
                "the result changed between runs: {r0:?}, then {r:?}"
            ));
        }
        if ts.is_empty() {
            n = reps_for(t, max).max(1);
        }
        ts.push(t);
    }
    Ok(done(median(ts), n))
}

/// A peer's figure: the median and the result's cardinality (and checksum, for handrust).
struct PeerFig {
    median: f64,
    card: u64,
    check: Option<u64>,
}

/// Runs a peer and reads its first JSON line; a failure is reported and leaves the figure out.
fn peer(path: Option<&PathBuf>, args: &[String]) -> Option<PeerFig> {
    let out = Command::new(path?).args(args).output();
    let line = match &out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).to_string(),
        Ok(o) => String::from_utf8_lossy(&o.stderr).to_string(),
        Err(e) => e.to_string(),
    };
    let Some(line) = line.lines().next().filter(|l| l.starts_with('{')) else {
        eprintln!("peer {} {args:?} failed: {line}", path?.display());
        return None;
    };
    let field = |k: &str| -> Option<String> {
        let i = line.find(&format!("\"{k}\":"))? + k.len() + 3;
        let rest = &line[i..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_string())
    };
    Some(PeerFig {
        median: field("median_s")?.parse().ok()?,
        card: field("card")?.parse().ok()?,
        check: field("check").and_then(|c| c.parse().ok()),
    })
}

/// A duration with three significant digits and its unit.
fn secs(s: f64) -> String {
    let (x, unit) = match s {
        s if s >= 1.0 => (s, "s"),
        s if s >= 1e-3 => (s * 1e3, "ms"),
        s => (s * 1e6, "µs"),
    };
    let digits = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$}{unit}")
}

/// A README figure (or a ratio to it) that may be a range over several queries.
fn span((lo, hi): Span, f: impl Fn(f64) -> String) -> String {
    if lo == hi {
        f(lo)
    } else {
        format!("{}–{}", f(lo), f(hi))
    }
}

/// Prints one workload's line and its MISMATCH line when a peer's answer differs; returns
/// whether they agreed.
fn report(
    label: &str,
    name: &str,
    workload: &str,
    ours: &Measured,
    frog: Option<PeerFig>,
    hand: Option<PeerFig>,
) -> bool {
    let fig = |p: &Option<PeerFig>| p.as_ref().map_or("—".into(), |p| secs(p.median));
    let ratio = |p: &Option<PeerFig>| {
        p.as_ref()
            .map_or("—".into(), |p| format!("{:.2}", ours.median / p.median))
    };
    let (ds, sqlite, duck) = readme(workload);
    let ds_ratio = ds.map_or("—".into(), |d| {
        span(d, |x| format!("{:.1}", x / ours.median))
    });
    println!(
        "{label:<18} {name}={} (first {}, n={})  datafrog={}  handrust={}  \
         ratio(pomo/datafrog)={}  ratio(pomo/handrust)={}  DataScript={} SQLite={} DuckDB={}  \
         ratio(DataScript/pomo)={}  [{} tuples]",
        secs(ours.median),
        secs(ours.first),
        ours.n,
        fig(&frog),
        fig(&hand),
        ratio(&frog),
        ratio(&hand),
        ds.map_or("—".into(), |d| span(d, secs)),
        span(sqlite, secs),
        span(duck, secs),
        ds_ratio,
        ours.card
    );
    let mut ok = true;
    for (peer, p) in [("datafrog", frog), ("handrust", hand)] {
        if let Some(p) = p
            && (p.card != ours.card || p.check.is_some_and(|c| c != ours.check))
        {
            println!(
                "MISMATCH {label}: pomo card={} check={}, {peer} card={} check={:?}",
                ours.card, ours.check, p.card, p.check
            );
            ok = false;
        }
    }
    ok
}

fn compile_logic(program: &str) -> pomo::Compilation {
    pomo::compile(&pomo::Input::Logic(program), &pomo::Options::default())
        .expect("the benchmark program compiles")
}

fn bases(rel: &str, pairs: &[(i64, i64)]) -> BTreeMap<String, Vec<Vec<Value>>> {
    let rows = pairs
        .iter()
        .map(|&(a, b)| vec![Value::Int(a), Value::Int(b)])
        .collect();
    BTreeMap::from([(rel.to_string(), rows)])
}

/// A PomoLogic workload fed from a file of pairs through `run_with`, with one `Jit` kept
/// across the repetitions so that only the warm-up compiles.
fn logic(a: &Args, program: &str, rel: &str, out: &str, file: &str) -> Result<Measured, String> {
    let c = compile_logic(program);
    let bases = bases(rel, &read_pairs(&a.data.join(format!("{file}.tsv"))));
    let mut jit = Jit::new(a.mode);
    measure(a.reps, || {
        let o = jit
            .run_with(&c.kernel, &Env::default(), &bases)
            .map_err(|e| e.message)?;
        Ok((o.len(out).unwrap_or(0) as u64, 0))
    })
}

fn add(e: i64, a: &str, v: Value) -> TxOp {
    TxOp::Add {
        e: EntityRef::Id(e),
        a: a.into(),
        v: TxValue::Value(v),
    }
}

/// The facts of a file of entity rows: the entity id, then one value per attribute, an
/// integer when it reads as one (as `pomo import` reads them).
fn entity_facts(path: &Path, attrs: &[&str]) -> Vec<TxOp> {
    let mut ops = Vec::new();
    for r in read_rows(path) {
        let e = r[0].parse().expect("an entity id");
        for (a, c) in attrs.iter().zip(&r[1..]) {
            let v = c.parse().map_or_else(|_| Value::Str(c.clone()), Value::Int);
            ops.push(add(e, a, v));
        }
    }
    ops
}

/// An in-memory store with `many_refs` as card-many reference attributes, filled in
/// transactions of 50,000 facts, batches like those of `pomo import`.
fn store(many_refs: &[&str], ops: Vec<TxOp>) -> Db {
    let many_ref = AttrSchema {
        many: true,
        is_ref: true,
        ..AttrSchema::default()
    };
    let attrs = many_refs
        .iter()
        .map(|a| (a.to_string(), many_ref.clone()))
        .collect();
    let mut st = Store::in_memory()
        .with_schema(Schema { attrs })
        .expect("the schema is valid");
    let mut ops = ops.into_iter().peekable();
    while ops.peek().is_some() {
        st.transact(ops.by_ref().take(50_000).collect())
            .expect("the benchmark data transacts");
    }
    st.db()
}

/// A cell of a result as a number for the checksum (every checked column is an integer).
fn int(v: &Value) -> u64 {
    match v {
        Value::Int(i) => *i as u64,
        Value::Ref(r) => *r,
        _ => 0,
    }
}

/// An EDN query through the full query path (inputs bound, kernels, decoding, shaping by the
/// find spec) as an app embedding the JIT runs it, with one `Jit` kept across runs; the
/// checksum is handrust's: the last column for the EAV counts, else the first plus the last.
fn edn(a: &Args, query: &str, rules: Option<&str>, db: &Db) -> Result<Measured, String> {
    let opts = pomo::Options::default();
    let q: PreparedQuery = pomo::query::prepare(&pomo::Input::Edn { query, rules }, &opts)
        .map_err(|d| format!("{d:?}"))?;
    let args = || {
        let mut args = vec![Arg::Db(db.clone())];
        if q.takes_rules() {
            args.push(Arg::Value(Value::Nil));
        }
        args
    };
    let registry = pomo::stdlib::Registry::new();
    let counts = query == EAV;
    let mut jit = Jit::new(a.mode);
    measure(a.reps, || {
        // What an app embedding the JIT calls: inputs bound, kernels run, result shaped.
        let shaped = q
            .run_jit(&mut jit, args(), &registry)
            .map_err(|e| e.message)?;
        let (Value::Set(rows) | Value::Tuple(rows)) = &shaped else {
            return Err(format!("a relation was expected, got {shaped:?}"));
        };
        let check = rows
            .iter()
            .map(|r| match r {
                Value::Tuple(t) if counts => int(&t[t.len() - 1]),
                Value::Tuple(t) if t.len() > 1 => int(&t[0]) + int(&t[t.len() - 1]),
                Value::Tuple(t) => int(&t[0]),
                other => int(other),
            })
            .sum();
        Ok((rows.len() as u64, check))
    })
}

fn vm_hwm() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The child of the `mem` workload: one closure of `file` in a fresh process, whose peak
/// resident size then belongs to this run alone. Prints `hwm-before hwm-after card`.
fn child_tc(file: &Path, mode: Mode) {
    let c = compile_logic(TC);
    let bases = bases("edge", &read_pairs(file));
    let before = vm_hwm();
    let mut jit = Jit::new(mode);
    match jit.run_with(&c.kernel, &Env::default(), &bases) {
        Ok(out) => println!("{before} {} {}", vm_hwm(), out.len("path").unwrap_or(0)),
        Err(e) => println!("error {}", e.message),
    }
}

fn mem(a: &Args, label: &str) {
    let mut cmd = Command::new(std::env::current_exe().expect("the bench binary's path"));
    cmd.arg("--child-tc").arg(a.data.join("tc_rand.tsv"));
    if a.mode == Mode::Interpret {
        cmd.arg("--interp");
    }
    let out = cmd.output().expect("the child runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<u64> = text
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let [before, after, card] = nums[..] else {
        println!("mem tc random      {label} failed: {}", text.trim());
        return;
    };
    // Bytes per tuple of the actual result (3,970,622 on the generated graph), so that a small
    // copy of the data gives a figure of the same meaning.
    println!(
        "mem tc random      {label} VmHWM={:.1}MiB (before the run {:.1}MiB)  \
         bytes/tuple={:.1}  [{card} tuples]",
        after as f64 / 1048576.0,
        before as f64 / 1048576.0,
        (after - before) as f64 / card.max(1) as f64
    );
}

/// A tiny org store for the 20-clause query: the code generator's cost does not depend on
/// the data, and a small store keeps the runs' own time out of the figure.
fn org() -> Db {
    let kw = |k: &str| Value::Keyword(k.into());
    let mut ops = Vec::new();
    for (e, name, dept, salary, manager) in [
        (1, "root", "eng", 300, None),
        (2, "ann", "eng", 200, Some(1)),
        (3, "bob", "sales", 150, Some(2)),
        (4, "cyd", "eng", 120, Some(2)),
        (5, "dee", "eng", 100, Some(4)),
    ] {
        ops.push(add(e, "emp/name", Value::Str(name.into())));
        ops.push(add(e, "emp/dept", kw(dept)));
        ops.push(add(e, "emp/salary", Value::Int(salary)));
        if let Some(m) = manager {
            ops.push(add(e, "emp/manager", Value::Int(m)));
        }
    }
    ops.push(add(4, "emp/title", Value::Str("lead".into())));
    store(&["emp/manager"], ops)
}

fn compile_time(a: &Args) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/queries/");
    let query = std::fs::read_to_string(format!("{dir}bench-20-clauses.edn")).unwrap();
    let rules = std::fs::read_to_string(format!("{dir}bench-20-clauses.rules.edn")).unwrap();
    let t = Instant::now();
    let input = pomo::Input::Edn {
        query: &query,
        rules: Some(&rules),
    };
    let q = pomo::query::prepare(&input, &pomo::Options::default()).expect("the query compiles");
    let plan_s = t.elapsed().as_secs_f64();
    let kernel = &q.compilation.kernel;
    let db = org();
    let args = vec![
        Arg::Db(db),
        Arg::Value(Value::Nil),
        Arg::Value(Value::Str("root".into())),
        Arg::Value(Value::Int(100)),
    ];
    let env = q.env(args, &pomo::stdlib::Registry::new()).unwrap();
    // The code generator alone, every kernel of the plan (the Jit would share equal ones).
    let codegen = (0..3)
        .map(|_| {
            let t = Instant::now();
            let symbols = pomo::runtime::jit::helper_symbols();
            let mut cg = pomo::runtime::jit::codegen::Codegen::new(&symbols)?;
            for k in 0..kernel.kernels.len() {
                cg.compile(kernel, pomo::types::kernel::KernelId(k as u32))?;
            }
            Ok(t.elapsed().as_secs_f64())
        })
        .collect::<Result<Vec<f64>, String>>();
    // A first run minus a second one with the same Jit: compilation plus the store views.
    let runs = (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut jit = Jit::new(a.mode);
            jit.run(kernel, &env).map_err(|e| e.message)?;
            let first = t.elapsed().as_secs_f64();
            let t = Instant::now();
            jit.run(kernel, &env).map_err(|e| e.message)?;
            Ok(first - t.elapsed().as_secs_f64())
        })
        .collect::<Result<Vec<f64>, String>>();
    let ms = |r: Result<Vec<f64>, String>| match r {
        Ok(ts) => format!("{:.2}ms", median(ts) * 1e3),
        Err(e) => format!("— ({e})"),
    };
    println!(
        "compile 20-clause  {} kernels: codegen={}  first-minus-second run={}  \
         (text to kernel plan {:.2}ms)",
        kernel.kernels.len(),
        ms(codegen),
        ms(runs),
        plan_s * 1e3
    );
}

fn main() {
    let a = args();
    if let Some(file) = &a.child_tc {
        return child_tc(file, a.mode);
    }
    ensure_data(&a.data);
    let want = |w: &str| a.only.iter().any(|x| x == w);
    let label = if a.mode == Mode::Interpret {
        "pomo-interp"
    } else {
        "pomo-jit"
    };
    let (frog, hand) = (a.datafrog.as_ref(), a.handrust.as_ref());
    let dir = a.data.display().to_string();
    let reps = a.reps.to_string();
    let run_hand = |m: &str| peer(hand, &[m.to_string(), dir.clone(), reps.clone()]);
    let mut agreed = true;
    let mut show = |name: &str, workload: &str, r: Result<Measured, String>, f, h| match r {
        Ok(m) => agreed &= report(name, label, workload, &m, f, h),
        Err(e) => println!("{name:<18} {label} failed: {e}"),
    };

    for (w, peer_mode, name, program, rel, out, file) in [
        ("tc", "tc", "1a tc random", TC, "edge", "path", "tc_rand"),
        ("chain", "tc", "1b tc chain", TC, "edge", "path", "tc_chain"),
        ("sg", "sg", "2 same-generation", SG, "par", "sg", "sg_tree"),
    ] {
        if !want(w) {
            continue;
        }
        let ours = logic(&a, program, rel, out, file);
        let path = a.data.join(format!("{file}.tsv")).display().to_string();
        let f = peer(frog, &[peer_mode.into(), path, reps.clone()]);
        let h = run_hand(&format!("{peer_mode}-hash:{file}"));
        show(name, file, ours, f, h);
    }
    if want("eav") {
        let mut ops = entity_facts(
            &a.data.join("eav_person.tsv"),
            &["person/name", "person/age"],
        );
        for (e, f) in read_pairs(&a.data.join("eav_friend.tsv")) {
            ops.push(add(e, "person/friend", Value::Int(f)));
        }
        let db = store(&["person/friend"], ops);
        show(
            "3 eav join+agg",
            "eav",
            edn(&a, EAV, None, &db),
            None,
            run_hand("eav"),
        );
    }
    if want("ds") {
        let attrs = ["name", "last-name", "sex", "age", "salary"];
        let ops = entity_facts(&a.data.join("ds_people.tsv"), &attrs);
        let db = store(&[], ops);
        for (mode, query) in DS.lines().filter_map(|l| l.split_once(' ')) {
            let name = format!("4 {}", &mode[3..]);
            show(&name, mode, edn(&a, query, None, &db), None, run_hand(mode));
        }
    }
    if want("rules") {
        for (mode, file) in [
            ("ds_rules_wide", "ds_follows_wide"),
            ("ds_rules_long", "ds_follows_long"),
        ] {
            let pairs = read_pairs(&a.data.join(format!("{file}.tsv")));
            let ops = pairs
                .iter()
                .map(|&(x, y)| add(x, "follow", Value::Int(y)))
                .collect();
            let db = store(&["follow"], ops);
            let name = format!("4 {}", mode[3..].replace('_', " "));
            let ours = edn(&a, FOLLOWS, Some(FOLLOWS_RULES), &db);
            show(&name, mode, ours, None, run_hand(mode));
        }
    }
    if want("mem") {
        mem(&a, label);
    }
    if want("compile") {
        compile_time(&a);
    }
    if !agreed {
        eprintln!("pomo's answers differ from a peer's: see the MISMATCH lines");
        std::process::exit(1);
    }
}
