//! The `pomo` command line: `check` and `explain`, the store commands (`transact`, `import`,
//! `demo`), `query` on the reference, JIT or dataflow backend, `watch` (incremental results) and
//! `sql` (an interactive SQL shell). Queries are EDN, PomoLogic or SQL.
//! Exit codes: 0 fine, 1 the input has errors, 2 a usage error.

use clap::{Args, Parser, Subcommand};
use pomo::{Input, InputKind, Options, Stage};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Writes to stdout. A closed stdout (`pomo query … | head`) ends the process quietly with
/// status 141, as a Unix tool killed by SIGPIPE does, instead of panicking as `println!`
/// would; another write error is reported.
macro_rules! outln {
    ($($t:tt)*) => { $crate::write_out(format_args!($($t)*), true) };
}
macro_rules! out {
    ($($t:tt)*) => { $crate::write_out(format_args!($($t)*), false) };
}

mod replica_cmd;
mod sql_cmd;
mod store_cmd;

fn write_out(args: std::fmt::Arguments, newline: bool) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let r = o
        .write_fmt(args)
        .and_then(|()| if newline { o.write_all(b"\n") } else { Ok(()) });
    if let Err(e) = r {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the output: {e}");
            std::process::exit(1);
        }
        std::process::exit(141);
    }
}

#[derive(Parser)]
#[command(
    name = "pomo",
    version,
    about = "pomo: compile EDN Datalog, SQL and PomoLogic to PomoRA plans"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a query (EDN or PomoLogic) against a store, or a SQL script (its statements in
    /// order; the last query's rows are printed).
    Query {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        store: StoreArg,
        /// An input for the query's `:in` after the database, as EDN (repeatable, in order).
        #[arg(long = "in", value_name = "EDN")]
        inputs: Vec<String>,
        /// Output format (default: edn, table for SQL; csv is for SQL).
        #[arg(long, value_enum)]
        format: Option<Format>,
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
    /// the store and print the result's changes (`+ [..]` / `- [..]`). A line
    /// `:import-car FILE` or `:sync ADDR [KEYFILE]` merges another replica's facts instead, as
    /// one epoch.
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
    /// Import a TSV or CSV file: the first column is the entity id, each further column a value
    /// of the named attribute (integers, then doubles, else strings; an empty field is no value).
    /// Rows go in as transactions of 10,000 rows, straight into the indexes when they only add
    /// new values.
    Import {
        /// A tab-separated file.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["csv", "car"])]
        tsv: Option<String>,
        /// A comma-separated file (RFC 4180 quoting); a first line whose first field is not an
        /// integer is a header and is skipped.
        #[arg(long, value_name = "FILE", conflicts_with = "car")]
        csv: Option<String>,
        /// The attributes of the columns after the first: `:a1,:a2,…` (with --tsv or --csv).
        #[arg(long, value_name = "ATTRS")]
        attrs: Option<String>,
        /// Another replica's CAR file (`pomo export`): every block verified, merged by CID,
        /// all or nothing.
        #[arg(long, value_name = "FILE")]
        car: Option<String>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// This replica's id, its number of facts, its state (a CID naming the set of its facts,
    /// equal on replicas that hold the same facts) and its heads.
    Status {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Write the replica's commits and facts as a CARv1 file (root: its state).
    Export {
        /// The CAR file to write.
        #[arg(long, value_name = "FILE")]
        car: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Serve the replica to peers (`pomo sync`), one after another. Without --key only
    /// loopback peers are accepted and only a loopback address may be listened on.
    Serve {
        /// The address to listen on, e.g. 127.0.0.1:4100.
        #[arg(long, value_name = "ADDR")]
        listen: String,
        /// A shared sync key (`pomo keygen`): peers must present the same key; the connection
        /// is authenticated and encrypted (Noise NNpsk0).
        #[arg(long, value_name = "FILE")]
        key: Option<String>,
        /// Let peers pull, never push.
        #[arg(long)]
        read_only: bool,
        /// Stop after this many connections (default: serve until killed).
        #[arg(long, value_name = "N")]
        max_connections: Option<u64>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Sync with a peer's `pomo serve`, both ways: afterwards both hold the union of their facts.
    Sync {
        /// The peer's address, e.g. 127.0.0.1:4100.
        #[arg(long, value_name = "ADDR")]
        peer: String,
        /// The sync key the peer serves with.
        #[arg(long, value_name = "FILE")]
        key: Option<String>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Write a new sync key (64 hex digits) to FILE, for `serve --key` and `sync --key`.
    Keygen {
        /// The key file to create (refused if it exists).
        file: String,
    },
    /// Per-attribute statistics of the store: current datoms, distinct entities and distinct
    /// values (what the indexes keep for the planner).
    Stats {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Load the demo dataset into the default store (once) and run the example queries.
    Demo {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Parse, lower, check and stratify a query; print nothing when it is fine.
    Check {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        catalog: CatalogArg,
    },
    /// Print one stage of the compilation.
    Explain {
        /// The stage to print: ast, logic, strata, ra-raw, ra, flow, kernel or clif (the
        /// Cranelift IR the JIT compiles each kernel to).
        #[arg(long, value_parser = parse_stage)]
        stage: CliStage,
        /// Print the program or plan after each pass of the stage (with --stage logic, ra, flow
        /// or kernel).
        #[arg(long)]
        trace: bool,
        /// Switch a pass of any stage off by name (repeatable), to bisect a plan.
        #[arg(long = "disable-pass", value_name = "PASS")]
        disable: Vec<String>,
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        catalog: CatalogArg,
    },
    /// Compile query files (`.edn`, `.pomo`, `.sql`) into artifacts: each is one DAG-CBOR block
    /// named by its CID, written as `NAME.pomoc` (a one-block CAR file) into DIR or beside the
    /// file; prints `FILE -> CID`.
    Compile {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Where to write the artifacts (default: beside each file).
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: Option<std::path::PathBuf>,
        /// The rule set EDN queries receive as `%` (default: `NAME.rules.edn` beside a query,
        /// when there is one).
        #[arg(long, value_name = "FILE")]
        rules: Option<std::path::PathBuf>,
    },
    /// Run a compiled artifact (`pomo compile`) on a store: loading checks its CID, its format
    /// and the stdlib version it needs.
    Run {
        artifact: std::path::PathBuf,
        #[command(flatten)]
        store: StoreArg,
        /// The inputs after the database, in `:in` order (EDN).
        #[arg(long = "in", value_name = "EDN")]
        inputs: Vec<String>,
        /// Output format (default edn).
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Compile every query file under DIR (`.edn`, `.pomo`, `.sql`) and compare each golden
    /// stage (logic, ra, flow, kernel) with the `NAME.EXT.STAGE.golden` file beside it: prints
    /// a diff and exits 1 on a difference; `--update` rewrites the files.
    Golden {
        dir: std::path::PathBuf,
        /// Write the current texts into the golden files.
        #[arg(long)]
        update: bool,
    },
    /// An interactive SQL shell on a store: statements end with `;`, dot commands (`.help`)
    /// control it. Reads statements from stdin without prompts when stdin is not a terminal.
    Sql {
        #[command(flatten)]
        store: StoreArg,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

#[derive(Args)]
struct Source {
    /// A query file: `.edn` (a Datomic-style query), `.pomo` (a PomoLogic program) or `.sql`
    /// (a SQL script).
    #[arg(required_unless_present = "expr", conflicts_with = "expr")]
    file: Option<String>,
    /// The query text itself, in place of a file (EDN if it starts with `[` or `{`, SQL if it
    /// starts with a statement keyword such as SELECT, PomoLogic otherwise).
    #[arg(short = 'e', long = "expr", value_name = "QUERY")]
    expr: Option<String>,
    /// Read the query (file or -e) as SQL.
    #[arg(long)]
    sql: bool,
    /// A rule set (an EDN vector of rules) for the `%` input of an EDN query.
    #[arg(long, value_name = "FILE")]
    rules: Option<String>,
    /// Add pomo's prelude: rules over the store's causal graph (`ancestor`, `head`,
    /// `concurrent`) and the replicated data types (`lww`, `mv`, `aw_set`, `counter`,
    /// `conflicts`). To a PomoLogic program it adds the rules; an EDN query gets them as its
    /// `%` rule set (`aw-set`, `increment`). Run it with --history.
    #[arg(long)]
    prelude: bool,
}

#[derive(Args)]
struct StoreArg {
    /// The store directory (default: the embedded store `.pomo` in the current directory).
    #[arg(long, value_name = "DIR")]
    db: Option<String>,
}

/// The store whose SQL tables a SQL query may name, for `explain` and `check`.
#[derive(Args)]
struct CatalogArg {
    /// A store whose SQL tables a SQL query may name, besides the script's own CREATE TABLEs
    /// (default: none).
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

/// How `query` prints a result, and the `pomo sql` shell's `.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Edn,
    Json,
    Table,
    /// RFC 4180 CSV with a header line (SQL only).
    Csv,
}

/// A query read from a file or `-e`, with its rule set, and for SQL the tables it may name
/// besides its own.
struct Loaded {
    name: String,
    text: String,
    kind: InputKind,
    rules: Option<(String, String)>,
    catalog: pomo::compiler::sql::Catalog,
}

impl Loaded {
    fn input(&self) -> Input<'_> {
        match self.kind {
            InputKind::Edn => Input::Edn {
                query: &self.text,
                rules: self.rules.as_ref().map(|(_, t)| t.as_str()),
            },
            InputKind::Logic => Input::Logic(&self.text),
            InputKind::Sql => Input::Sql {
                text: &self.text,
                catalog: &self.catalog,
            },
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
                let kind = match pomo::input_kind(path) {
                    _ if self.sql => InputKind::Sql,
                    Some(kind) => kind,
                    None => {
                        return Err(usage(&format!(
                            "{path}: expected a .edn, .pomo or .sql file (or --sql)"
                        )));
                    }
                };
                match std::fs::read_to_string(path) {
                    Ok(t) => (path.clone(), t, kind),
                    Err(e) => return Err(usage(&format!("cannot read {path}: {e}"))),
                }
            }
            (None, Some(e)) => {
                let kind = if self.sql {
                    InputKind::Sql
                } else {
                    pomo::guess_kind(e)
                };
                ("<expr>".to_string(), e.clone(), kind)
            }
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
        if self.prelude && kind == InputKind::Sql {
            return Err(usage(
                "--prelude goes with a PomoLogic program or an EDN query",
            ));
        }
        let rules = match (self.prelude, kind, rules) {
            (true, InputKind::Edn, Some(_)) => {
                return Err(usage(
                    "--prelude is the EDN query's rule set: leave out --rules",
                ));
            }
            (true, InputKind::Edn, None) => Some((
                "<prelude>".to_string(),
                pomo::stdlib::PRELUDE_EDN.to_string(),
            )),
            (_, _, rules) => rules,
        };
        // After the program, so that its own line numbers stay as written.
        let text = if self.prelude && kind == InputKind::Logic {
            format!("{text}\n{}", pomo::stdlib::PRELUDE)
        } else {
            text
        };
        Ok(Loaded {
            name,
            text,
            kind,
            rules,
            catalog: pomo::compiler::sql::Catalog::default(),
        })
    }

    /// Reads the query as [`Source::load`] does; a SQL query also knows the tables of the
    /// `--db` store.
    fn load_with(&self, catalog: &CatalogArg) -> Result<Loaded, ExitCode> {
        let mut loaded = self.load()?;
        if let (InputKind::Sql, Some(dir)) = (loaded.kind, &catalog.db) {
            loaded.catalog = store_cmd::catalog(dir)?;
        }
        Ok(loaded)
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
        Command::Import {
            tsv,
            csv,
            attrs,
            car,
            store,
        } => {
            if let Some(car) = car {
                if attrs.is_some() {
                    return usage("--attrs goes with --tsv or --csv, not --car");
                }
                return replica_cmd::import_car(store, car);
            }
            let (path, kind) = match (tsv, csv) {
                (Some(p), _) => (p, store_cmd::Delimited::Tsv),
                (None, Some(p)) => (p, store_cmd::Delimited::Csv),
                (None, None) => return usage("import needs --tsv FILE, --csv FILE or --car FILE"),
            };
            let Some(attrs) = attrs else {
                return usage("--tsv and --csv need --attrs :a1,:a2,…");
            };
            return store_cmd::import(path, kind, attrs, store);
        }
        Command::Status { store } => return replica_cmd::status(store),
        Command::Export { car, store } => return replica_cmd::export(store, car),
        Command::Serve {
            listen,
            key,
            read_only,
            max_connections,
            store,
        } => {
            return replica_cmd::serve(store, listen, key.as_deref(), *read_only, *max_connections);
        }
        Command::Sync { peer, key, store } => {
            return replica_cmd::sync(store, peer, key.as_deref());
        }
        Command::Keygen { file } => return replica_cmd::keygen(file),
        Command::Demo { store } => return store_cmd::demo(store),
        Command::Stats { store } => return store_cmd::stats(store),
        Command::Golden { dir, update } => return golden(dir, *update),
        Command::Run {
            artifact,
            store,
            inputs,
            format,
            engine,
        } => {
            let backend = match engine.backend() {
                Ok(b) => b,
                Err(c) => return c,
            };
            return store_cmd::run_artifact(artifact, store, inputs, *format, &backend);
        }
        Command::Compile { files, out, rules } => {
            return compile_artifacts(files, out.as_deref(), rules.as_deref());
        }
        Command::Sql { store, engine } => {
            if engine.cluster.processes > 1 {
                return usage("pomo sql runs in one process (--workers gives it threads)");
            }
            let backend = match engine.backend() {
                Ok(b) => b,
                Err(c) => return c,
            };
            return sql_cmd::shell(store, backend);
        }
        _ => {}
    }
    let (source, catalog, stage, opts) = match &cli.command {
        Command::Query { .. }
        | Command::Watch { .. }
        | Command::Transact { .. }
        | Command::Import { .. }
        | Command::Status { .. }
        | Command::Export { .. }
        | Command::Serve { .. }
        | Command::Sync { .. }
        | Command::Keygen { .. }
        | Command::Stats { .. }
        | Command::Demo { .. }
        | Command::Golden { .. }
        | Command::Compile { .. }
        | Command::Run { .. }
        | Command::Sql { .. } => {
            unreachable!("the store commands returned above")
        }
        Command::Check { source, catalog } => (
            source,
            catalog,
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
            catalog,
        } => {
            for d in disable {
                if !pomo::compiler::driver::is_pass(d) {
                    let names: Vec<&str> = pomo::compiler::driver::passes()
                        .iter()
                        .map(|(_, name)| *name)
                        .collect();
                    return usage(&format!("unknown pass `{d}`; passes: {}", names.join(", ")));
                }
            }
            let traced =
                [Stage::Logic, Stage::Ra, Stage::Flow, Stage::Kernel].map(CliStage::Compiler);
            if *trace && !traced.contains(stage) {
                return usage("--trace goes with --stage logic, ra, flow or kernel");
            }
            (
                source,
                catalog,
                Some(*stage),
                Options {
                    disabled_passes: disable.clone(),
                    trace: *trace,
                    validate: cfg!(debug_assertions),
                },
            )
        }
    };
    let loaded = match source.load_with(catalog) {
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
            out!("{out}");
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

/// `pomo golden DIR [--update]`.
fn golden(dir: &std::path::Path, update: bool) -> ExitCode {
    if !dir.is_dir() {
        return usage(&format!("{}: not a directory", dir.display()));
    }
    let report = match pomo::golden::check_dir(dir, update) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            return ExitCode::from(1);
        }
    };
    for (q, rendered) in &report.errors {
        eprintln!("{}: does not compile", q.display());
        eprint!("{rendered}");
    }
    for d in &report.differences {
        out!("{}", d.diff);
    }
    let stages = pomo::golden::STAGES.len();
    if update {
        outln!(
            "{} query file(s): {} golden file(s) written, {} unchanged",
            report.files,
            report.written,
            report.same
        );
    } else {
        outln!(
            "{} query file(s), {} golden file(s): {} same, {} different or missing",
            report.files,
            report.files * stages,
            report.same,
            report.differences.len()
        );
    }
    if report.errors.is_empty() && report.differences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `pomo compile FILE... [-o DIR] [--rules FILE]`.
fn compile_artifacts(
    files: &[std::path::PathBuf],
    out: Option<&std::path::Path>,
    rules: Option<&std::path::Path>,
) -> ExitCode {
    if let Some(dir) = out
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    let shared_rules = match rules.map(std::fs::read_to_string).transpose() {
        Ok(r) => r,
        Err(e) => return usage(&format!("cannot read the rule set: {e}")),
    };
    let mut failed = false;
    for f in files {
        let name = f.display().to_string();
        let Some(kind) = pomo::input_kind(&name) else {
            return usage(&format!("{name}: expected a .edn, .pomo or .sql file"));
        };
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => return usage(&format!("cannot read {name}: {e}")),
        };
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("query");
        let own_rules = std::fs::read_to_string(f.with_file_name(format!("{stem}.rules.edn"))).ok();
        let rule_text = shared_rules.clone().or(own_rules);
        let catalog = pomo::compiler::sql::Catalog::default();
        let input = match kind {
            InputKind::Edn => Input::Edn {
                query: &text,
                rules: rule_text.as_deref(),
            },
            InputKind::Logic => Input::Logic(&text),
            InputKind::Sql => Input::Sql {
                text: &text,
                catalog: &catalog,
            },
        };
        let prepared = match pomo::query::prepare(&input, &Options::default()) {
            Ok(p) => p,
            Err(d) => {
                let sources = pomo::sources(&input, &name, "rules");
                eprint!("{}", pomo::render(&d, &sources, color()));
                failed = true;
                continue;
            }
        };
        let (cid, bytes) = match prepared.artifact().to_file_bytes() {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {name}: {e}");
                failed = true;
                continue;
            }
        };
        let dir = out
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| f.parent().map(|p| p.to_path_buf()).unwrap_or_default());
        let target = dir.join(format!("{stem}.pomoc"));
        if let Err(e) = std::fs::write(&target, &bytes) {
            eprintln!("error: cannot write {}: {e}", target.display());
            failed = true;
            continue;
        }
        outln!("{name} -> {cid}");
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
