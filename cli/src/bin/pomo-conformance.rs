//! `pomo-conformance edn|slt DIR_OR_FILES... [--backend reference|dataflow|jit|jit-interp]
//! [--workers N]`: runs conformance cases (`edn`: the EDN corpora's case files; `slt`:
//! sqllogictest files), prints one line per failing case or record with the reason, and ends
//! with `N passed, M failed`. `--slowest N` (slt) lists the N slowest queries.

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
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            v.retain(|f| f.extension().is_some_and(|x| x == "test" || x == "slt"));
            v.sort();
            files.extend(v);
        } else {
            files.push(p.clone());
        }
    }
    let start = std::time::Instant::now();
    let (mut passed, mut failed) = (0, 0);
    let mut timings = Vec::new();
    for f in files {
        let report = pomo_cli::slt::run_file(&f, &backend);
        passed += report.passed;
        failed += report.failed.len();
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
    println!("time: {:.1} s", start.elapsed().as_secs_f64());
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
