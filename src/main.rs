//! The `pomo` command line: `check` and `explain` (issue 2); the store and query commands
//! arrive with issue 3. Exit codes: 0 fine, 1 the input has errors, 2 a usage error.

use clap::{Args, Parser, Subcommand};
use pomo::{Input, InputKind, Options, Stage};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pomo",
    version,
    about = "pomo: compile EDN Datalog and PomoLogic to PomoRA plans"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, lower, check and stratify a query; print nothing when it is fine.
    Check(Source),
    /// Print one stage of the compilation.
    Explain {
        /// The stage to print: ast, logic, strata, ra-raw or ra.
        #[arg(long, value_parser = parse_stage)]
        stage: Stage,
        /// Print the plan after each optimizer pass (with --stage ra).
        #[arg(long)]
        trace: bool,
        /// Switch an optimizer pass off (repeatable), to bisect a plan.
        #[arg(long = "disable-pass", value_name = "PASS")]
        disable: Vec<String>,
        #[command(flatten)]
        source: Source,
    },
}

#[derive(Args)]
struct Source {
    /// A query file: `.edn` (a Datomic-style query) or `.pomo` (a PomoLogic program).
    #[arg(required_unless_present = "expr", conflicts_with = "expr")]
    file: Option<String>,
    /// The query text itself, in place of a file (EDN if it starts with `[` or `{`).
    #[arg(short = 'e', long = "expr", value_name = "QUERY")]
    expr: Option<String>,
    /// A rule set (an EDN vector of rules) for the `%` input of an EDN query.
    #[arg(long, value_name = "FILE")]
    rules: Option<String>,
}

fn parse_stage(s: &str) -> Result<Stage, String> {
    Stage::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Stage::ALL.iter().map(|(n, _)| *n).collect();
        format!("unknown stage `{s}`; expected one of {}", names.join(", "))
    })
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (source, stage, opts) = match &cli.command {
        Command::Check(s) => (
            s,
            None,
            Options {
                validate: cfg!(debug_assertions),
                ..Options::default()
            },
        ),
        Command::Explain {
            stage,
            trace,
            disable,
            source,
        } => {
            for d in disable {
                if !pomo::compiler::ra::pipeline::is_pass(d) {
                    let names: Vec<&str> = pomo::compiler::ra::pipeline::PASSES
                        .iter()
                        .map(|p| p.name)
                        .collect();
                    return usage(&format!("unknown pass `{d}`; passes: {}", names.join(", ")));
                }
            }
            if *trace && *stage != Stage::Ra {
                return usage("--trace goes with --stage ra");
            }
            (
                source,
                Some(*stage),
                Options {
                    disabled_passes: disable.clone(),
                    trace: *trace,
                    validate: cfg!(debug_assertions),
                },
            )
        }
    };
    let (name, text, kind) = match (&source.file, &source.expr) {
        (Some(path), None) => {
            let Some(kind) = pomo::input_kind(path) else {
                return usage(&format!("{path}: expected a .edn or .pomo file"));
            };
            match std::fs::read_to_string(path) {
                Ok(t) => (path.clone(), t, kind),
                Err(e) => return usage(&format!("cannot read {path}: {e}")),
            }
        }
        (None, Some(e)) => ("<expr>".to_string(), e.clone(), pomo::guess_kind(e)),
        _ => return usage("give a query file or -e QUERY"),
    };
    let rules = match &source.rules {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => Some((path.clone(), t)),
            Err(e) => return usage(&format!("cannot read {path}: {e}")),
        },
        None => None,
    };
    if rules.is_some() && kind != InputKind::Edn {
        return usage("--rules goes with an EDN query");
    }
    let input = match kind {
        InputKind::Edn => Input::Edn {
            query: &text,
            rules: rules.as_ref().map(|(_, t)| t.as_str()),
        },
        InputKind::Logic => Input::Logic(&text),
    };
    let rules_name = rules.as_ref().map(|(n, _)| n.as_str()).unwrap_or("<rules>");
    let result = match stage {
        None => pomo::compile(&input, &opts).map(|_| String::new()),
        Some(st) => pomo::explain(&input, st, &opts),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(diags) => {
            let sources = pomo::sources(&input, &name, rules_name);
            eprint!("{}", pomo::render(&diags, &sources, color()));
            let n = diags.iter().filter(|d| d.is_error()).count();
            eprintln!("{n} error{} found", if n == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}
