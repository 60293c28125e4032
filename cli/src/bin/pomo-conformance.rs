//! `pomo-conformance edn|slt DIR_OR_FILES... [--backend reference|dataflow|jit|jit-interp]
//! [--workers N]`: runs conformance cases (`edn`: the EDN corpora's case files; `slt`:
//! sqllogictest files, a directory's subdirectories included), prints one line per failing
//! case or record with the reason, and ends with `N passed, M failed`. With `slt`, `--label
//! NAME` (repeatable) claims a label for `onlyif`/`skipif` (`--label sqlite` for SQLite's own
//! files, none for `sql/cases`), records skipped for the labels are counted apart, crashes (a
//! panic inside a record) are counted as failures and listed again before the last lines,
//! `--first N` runs only each file's first N statement and query records, and `--slowest N`
//! lists the N slowest queries.

use clap::{Parser, ValueEnum};
use pomo_cli::conformance::{Backend, CaseOutcome, case_files, run_case};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Suite {
    Edn,
    /// sqllogictest files (the SQL corpora).
    Slt,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Reference,
    Dataflow,
    /// Native kernels compiled by Cranelift.
    Jit,
    /// The JIT backend's kernels, interpreted (a check on its code generator).
    JitInterp,
}

#[derive(Parser)]
#[command(
    name = "pomo-conformance",
    about = "Run pomo against the conformance corpora"
)]
struct Cli {
    /// The corpus format (`edn` covers ../edn and ../edn-time).
    suite: Suite,
    /// Case files or directories of cases.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "reference")]
    backend: BackendArg,
    /// Worker threads for the dataflow backend.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// With `slt`: list the N slowest queries at the end.
    #[arg(long, default_value_t = 0)]
    slowest: usize,
    /// With `slt`: a label the engine claims (repeatable), e.g. `sqlite` for SQLite's files.
    #[arg(long = "label", value_name = "NAME")]
    labels: Vec<String>,
    /// With `slt`: run only each file's first N statement and query records.
    #[arg(long, value_name = "N")]
    first: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Suite::Slt = cli.suite {
        return slt(&cli);
    }
    let backend = match cli.backend {
        BackendArg::Reference => Backend::Reference,
        BackendArg::Dataflow => Backend::Dataflow {
            workers: cli.workers,
        },
        BackendArg::Jit => Backend::Jit(pomo::runtime::jit::Mode::Native),
        BackendArg::JitInterp => Backend::Jit(pomo::runtime::jit::Mode::Interpret),
    };
    let files = case_files(&cli.paths);
    let (mut passed, mut failed) = (0, 0);
    for f in files {
        let (name, outcome) = run_case(&f, backend);
        match outcome {
            CaseOutcome::Pass => passed += 1,
            CaseOutcome::Fail(reason) => {
                failed += 1;
                println!("FAIL {name}: {reason}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn slt(cli: &Cli) -> ExitCode {
    use pomo::query::Backend;
    let backend = match cli.backend {
        BackendArg::Reference => Backend::Reference,
        BackendArg::Dataflow => Backend::Dataflow(pomo::runtime::dataflow::Config {
            workers: cli.workers,
            ..Default::default()
        }),
        BackendArg::Jit => Backend::Jit(pomo::runtime::jit::Mode::Native),
        BackendArg::JitInterp => Backend::Jit(pomo::runtime::jit::Mode::Interpret),
    };
    let mut files = Vec::new();
    for p in &cli.paths {
        if p.is_dir() {
            files.extend(slt_files(p));
        } else {
            files.push(p.clone());
        }
    }
    let settings = pomo_cli::slt::Settings {
        labels: cli.labels.clone(),
        first_records: cli.first,
    };
    // A panic inside a record is caught and reported with the record's SQL; the default hook
    // would print it a second time, mid-run.
    std::panic::set_hook(Box::new(|_| {}));
    let start = std::time::Instant::now();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut timings = Vec::new();
    let mut crashes = Vec::new();
    for f in files {
        let report = pomo_cli::slt::run_file(&f, &backend, &settings);
        passed += report.passed;
        failed += report.failed.len();
        skipped += report.skipped;
        crashes.extend(report.crashes().cloned());
        for fl in &report.failed {
            println!(
                "FAIL {}: {}\n  {}",
                fl.location,
                fl.sql.replace('\n', " "),
                fl.reason.replace('\n', "\n  ")
            );
        }
        timings.extend(report.timings);
    }
    if cli.slowest > 0 {
        timings.sort_by_key(|t| std::cmp::Reverse(t.2));
        println!("slowest queries:");
        for (loc, sql, d) in timings.iter().take(cli.slowest) {
            let sql: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            let short: String = sql.chars().take(100).collect();
            println!("  {:>9.1} ms  {loc}  {short}", d.as_secs_f64() * 1e3);
        }
    }
    if !crashes.is_empty() {
        println!("crashes ({}):", crashes.len());
        for c in &crashes {
            let sql: String = c.sql.split_whitespace().collect::<Vec<_>>().join(" ");
            println!("  {}  {sql}", c.location);
        }
    }
    println!("skipped for the labels: {skipped}");
    println!("time: {:.1} s", start.elapsed().as_secs_f64());
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The `.test` and `.slt` files under `dir` and its subdirectories (SQLite's suite nests them:
/// `index/between/10/slt_good_1.test`), sorted by path.
fn slt_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries: Vec<PathBuf> = std::fs::read_dir(&d)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        for p in entries {
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|x| x == "test" || x == "slt") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}
