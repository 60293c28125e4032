//! `pomo-conformance edn DIR_OR_FILES... [--backend reference|dataflow|jit|jit-interp] [--workers N]`: runs conformance cases, prints
//! one line per failing case with the reason, and ends with `N passed, M failed`.

use clap::{Parser, ValueEnum};
use pomo::conformance::{Backend, Outcome, case_files, run_case};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Suite {
    Edn,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Suite::Edn = cli.suite;
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
            Outcome::Pass => passed += 1,
            Outcome::Fail(reason) => {
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
