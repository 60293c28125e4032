//! The `pomo` command line: `check` and `explain`, the store commands (`transact`, `import`,
//! `demo`), `query` on the reference or dataflow backend, and `watch` (incremental results).
//! Exit codes: 0 fine, 1 the input has errors, 2 a usage error.

use clap::{Args, Parser, Subcommand};
use pomo::{Input, InputKind, Options, Stage};
use std::io::IsTerminal;
use std::process::ExitCode;

mod store_cmd;

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
    /// Run a query (EDN or PomoLogic) against a store.
    Query {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        store: StoreArg,
        /// An input for the query's `:in` after the database, as EDN (repeatable, in order).
        #[arg(long = "in", value_name = "EDN")]
        inputs: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "edn")]
        format: Format,
        /// Print `timing: compile=<ms> run=<ms>` to stderr.
        #[arg(long)]
        timing: bool,
        /// Query the database as of transaction T (a t or a tx id), inclusive.
        #[arg(long = "as-of", value_name = "T")]
        as_of: Option<i64>,
        /// Only datoms added after transaction T (exclusive).
        #[arg(long, value_name = "T")]
        since: Option<i64>,
        /// Query every assertion and retraction (`[?e ?a ?v ?tx ?added]`).
        #[arg(long)]
        history: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Run a query on the dataflow engine, print its result, then read transactions from stdin
    /// (one EDN tx-data vector per line; `[]` advances an epoch without data), apply each to
    /// the store and print the result's changes (`+ [..]` / `- [..]`).
    Watch {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        store: StoreArg,
        /// An input for the query's `:in` after the database, as EDN (repeatable, in order).
        #[arg(long = "in", value_name = "EDN")]
        inputs: Vec<String>,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Apply transactions: a file of tx-data vectors, each one transaction.
    Transact {
        /// The tx-data file (EDN).
        file: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Import a TSV file: the first column is the entity id, each further column a value of the
    /// named attribute.
    Import {
        #[arg(long, value_name = "FILE")]
        tsv: String,
        /// The attributes of the columns after the first: `:a1,:a2,…`.
        #[arg(long, value_name = "ATTRS")]
        attrs: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Load the demo dataset into the default store (once) and run the example queries.
    Demo {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Parse, lower, check and stratify a query; print nothing when it is fine.
    Check(Source),
    /// Print one stage of the compilation.
    Explain {
        /// The stage to print: ast, logic, strata, ra-raw, ra, flow, kernel or clif (the
        /// Cranelift IR the JIT compiles each kernel to).
        #[arg(long, value_parser = parse_stage)]
        stage: CliStage,
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

#[derive(Args)]
struct StoreArg {
    /// The store directory (default: the embedded store `.pomo` in the current directory).
    #[arg(long, value_name = "DIR")]
    db: Option<String>,
}

impl StoreArg {
    fn dir(&self) -> String {
        self.db.clone().unwrap_or_else(|| ".pomo".to_string())
    }
}

/// Which backend runs a query.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EngineKind {
    /// The JIT for a one-shot query, dataflow with --workers/--processes (the default).
    Auto,
    /// Kernels compiled to native code by Cranelift.
    Jit,
    /// The reference evaluator (the oracle).
    Reference,
    /// Incremental differential dataflow (timely workers and processes).
    Dataflow,
}

#[derive(Args)]
struct EngineArgs {
    /// The backend that runs the query (default auto: jit, or dataflow when --workers,
    /// --processes or --hostfile is given).
    #[arg(long, value_enum)]
    engine: Option<EngineKind>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// timely's workers and processes.
#[derive(Args)]
struct ClusterArgs {
    /// Worker threads per process.
    #[arg(long, short = 'w', value_name = "N", default_value_t = 1)]
    workers: usize,
    /// Processes in the cluster; each holds a shard of the facts.
    #[arg(long, short = 'n', value_name = "N", default_value_t = 1)]
    processes: usize,
    /// This process's index (0 prints the results).
    #[arg(long, short = 'p', value_name = "I", default_value_t = 0)]
    process: usize,
    /// A file with one `host:port` per process, in process order (default 127.0.0.1:2101+i).
    #[arg(long, short = 'H', value_name = "FILE")]
    hostfile: Option<String>,
}

impl ClusterArgs {
    fn is_default(&self) -> bool {
        self.workers == 1 && self.processes == 1 && self.hostfile.is_none()
    }

    fn config(&self) -> Result<pomo::runtime::dataflow::Config, ExitCode> {
        if self.workers == 0 || self.processes == 0 {
            return Err(usage("--workers and --processes take at least 1"));
        }
        if self.process >= self.processes {
            return Err(usage(&format!(
                "--process {} is outside 0..{}",
                self.process, self.processes
            )));
        }
        let hosts = match &self.hostfile {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(t) => t
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(String::from)
                    .collect(),
                Err(e) => return Err(usage(&format!("cannot read {path}: {e}"))),
            },
            None => Vec::new(),
        };
        if !hosts.is_empty() && hosts.len() < self.processes {
            return Err(usage(&format!(
                "{} names {} hosts for {} processes",
                self.hostfile.as_deref().unwrap_or(""),
                hosts.len(),
                self.processes
            )));
        }
        Ok(pomo::runtime::dataflow::Config {
            workers: self.workers,
            processes: self.processes,
            process: self.process,
            hosts,
        })
    }
}

impl EngineArgs {
    fn backend(&self) -> Result<pomo::query::Backend, ExitCode> {
        let kind = match self.engine.unwrap_or(EngineKind::Auto) {
            EngineKind::Auto if self.cluster.is_default() => EngineKind::Jit,
            EngineKind::Auto => EngineKind::Dataflow,
            k => k,
        };
        match kind {
            EngineKind::Reference | EngineKind::Jit if !self.cluster.is_default() => Err(usage(
                "--workers, --processes and --hostfile go with --engine dataflow",
            )),
            EngineKind::Jit | EngineKind::Auto => {
                Ok(pomo::query::Backend::Jit(pomo::runtime::jit::Mode::Native))
            }
            EngineKind::Reference => Ok(pomo::query::Backend::Reference),
            EngineKind::Dataflow => Ok(pomo::query::Backend::Dataflow(self.cluster.config()?)),
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Edn,
    Json,
    Table,
}

/// A query read from a file or `-e`, with its rule set.
struct Loaded {
    name: String,
    text: String,
    kind: InputKind,
    rules: Option<(String, String)>,
}

impl Loaded {
    fn input(&self) -> Input<'_> {
        match self.kind {
            InputKind::Edn => Input::Edn {
                query: &self.text,
                rules: self.rules.as_ref().map(|(_, t)| t.as_str()),
            },
            InputKind::Logic => Input::Logic(&self.text),
        }
    }

    fn rules_name(&self) -> &str {
        self.rules
            .as_ref()
            .map(|(n, _)| n.as_str())
            .unwrap_or("<rules>")
    }
}

impl Source {
    /// Reads the query text and the rule set; a usage error exits 2.
    fn load(&self) -> Result<Loaded, ExitCode> {
        let (name, text, kind) = match (&self.file, &self.expr) {
            (Some(path), None) => {
                let Some(kind) = pomo::input_kind(path) else {
                    return Err(usage(&format!("{path}: expected a .edn or .pomo file")));
                };
                match std::fs::read_to_string(path) {
                    Ok(t) => (path.clone(), t, kind),
                    Err(e) => return Err(usage(&format!("cannot read {path}: {e}"))),
                }
            }
            (None, Some(e)) => ("<expr>".to_string(), e.clone(), pomo::guess_kind(e)),
            _ => return Err(usage("give a query file or -e QUERY")),
        };
        let rules = match &self.rules {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(t) => Some((path.clone(), t)),
                Err(e) => return Err(usage(&format!("cannot read {path}: {e}"))),
            },
            None => None,
        };
        if rules.is_some() && kind != InputKind::Edn {
            return Err(usage("--rules goes with an EDN query"));
        }
        Ok(Loaded {
            name,
            text,
            kind,
            rules,
        })
    }
}

/// A stage `explain` prints: one of the compiler's, or the CLIF of the JIT's kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CliStage {
    Compiler(Stage),
    Clif,
}

fn parse_stage(s: &str) -> Result<CliStage, String> {
    if s == "clif" {
        return Ok(CliStage::Clif);
    }
    Stage::from_name(s).map(CliStage::Compiler).ok_or_else(|| {
        let names: Vec<&str> = Stage::ALL.iter().map(|(n, _)| *n).collect();
        format!(
            "unknown stage `{s}`; expected one of {}, clif",
            names.join(", ")
        )
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
    match &cli.command {
        Command::Query {
            source,
            store,
            inputs,
            format,
            timing,
            as_of,
            since,
            history,
            engine,
        } => {
            let backend = match engine.backend() {
                Ok(b) => b,
                Err(c) => return c,
            };
            let view = store_cmd::View {
                as_of: *as_of,
                since: *since,
                history: *history,
            };
            return store_cmd::query(source, store, inputs, *format, *timing, view, &backend);
        }
        Command::Watch {
            source,
            store,
            inputs,
            cluster,
        } => {
            let config = match cluster.config() {
                Ok(c) => c,
                Err(c) => return c,
            };
            return store_cmd::watch(source, store, inputs, &config);
        }
        Command::Transact { file, store } => return store_cmd::transact(file, store),
        Command::Import { tsv, attrs, store } => return store_cmd::import(tsv, attrs, store),
        Command::Demo { store } => return store_cmd::demo(store),
        _ => {}
    }
    let (source, stage, opts) = match &cli.command {
        Command::Query { .. }
        | Command::Watch { .. }
        | Command::Transact { .. }
        | Command::Import { .. }
        | Command::Demo { .. } => {
            unreachable!("the store commands returned above")
        }
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
            if *trace && *stage != CliStage::Compiler(Stage::Ra) {
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
    let loaded = match source.load() {
        Ok(l) => l,
        Err(code) => return code,
    };
    let input = loaded.input();
    let (name, rules_name) = (&loaded.name, loaded.rules_name());
    let result = match stage {
        None => pomo::compile(&input, &opts).map(|_| String::new()),
        Some(CliStage::Compiler(st)) => pomo::explain(&input, st, &opts),
        Some(CliStage::Clif) => match pomo::compile(&input, &opts) {
            Ok(c) => match pomo::runtime::jit::codegen::clif_text(&c.kernel) {
                Ok(text) => Ok(text),
                Err(e) => {
                    eprintln!("error: the kernels do not compile to CLIF: {e}");
                    return ExitCode::from(1);
                }
            },
            Err(d) => Err(d),
        },
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(diags) => {
            let sources = pomo::sources(&input, name, rules_name);
            eprint!("{}", pomo::render(&diags, &sources, color()));
            let n = diags.iter().filter(|d| d.is_error()).count();
            eprintln!("{n} error{} found", if n == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}
