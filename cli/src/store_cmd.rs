//! The store commands of the CLI: `query`, `transact`, `import` and `demo`. A SQL `query` is
//! run by [`crate::sql_cmd`].

use super::{Format, Loaded, Source, StoreArg, color, usage};
use pomo::query::{Arg, Backend, prepare};
use pomo::runtime::dataflow::{Config, Engine};
use pomo::runtime::results;
use pomo::runtime::store::{Db, Store, TxOp};
use pomo::{Input, InputKind, Options};
use pomo_types::Value;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// A batch of `[e a v]` rows for the store's import.
type Batch = Vec<(i64, String, Value)>;

/// Opens the store for writing (it takes the store's lock). A store in the old log format is
/// converted first, with a progress bar.
pub fn open(store: &StoreArg) -> Result<Store, ExitCode> {
    opened(store, |dir| {
        let bar = indicatif::ProgressBar::hidden();
        let mut shown = false;
        let opened = Store::open_with_progress(dir, &mut |done, total| {
            if !shown {
                eprintln!("converting {} to the indexed store format", dir.display());
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} facts eta {eta}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                shown = true;
            }
            bar.set_length(total);
            bar.set_position(done);
        });
        bar.finish_and_clear();
        opened
    })
}

/// Opens the store for a query: read-only, so that queries run beside a writer. A store in the
/// old log format is converted first (that needs the writer's lock once).
pub fn open_for_reading(store: &StoreArg) -> Result<Store, ExitCode> {
    let dir = std::path::PathBuf::from(store.dir());
    if dir.join("facts.car").exists() && !dir.join(pomo::runtime::store::DATA_FILE).exists() {
        drop(open(store)?);
    }
    opened(store, Store::open_read_only)
}

/// A way to open a store directory: the store and its warnings.
type OpenFn =
    fn(&std::path::Path) -> Result<(Store, Vec<String>), pomo::runtime::store::StoreError>;

/// Opens the store directory with `how`, printing its warnings; an error exits 1.
fn opened(store: &StoreArg, how: OpenFn) -> Result<Store, ExitCode> {
    let dir = store.dir();
    match how(std::path::Path::new(&dir)) {
        Ok((s, warnings)) => {
            for w in warnings {
                eprintln!("warning: {dir}: {w}");
            }
            Ok(s)
        }
        Err(e) => {
            eprintln!("error: cannot open the store in {dir}: {e:?}");
            Err(ExitCode::from(1))
        }
    }
}

/// The SQL tables of the store in `dir` (for `explain --db`): read-only, and the store must
/// exist.
pub fn catalog(dir: &str) -> Result<pomo::compiler::sql::Catalog, ExitCode> {
    if !std::path::Path::new(dir).is_dir() {
        return Err(usage(&format!("--db {dir}: no such store directory")));
    }
    let store = open_for_reading(&StoreArg {
        db: Some(dir.to_string()),
    })?;
    Ok(pomo::sql::Session::new(store).catalog().clone())
}

fn read_forms(path: &str) -> Result<(String, Vec<pomo::grammar::edn::Node>), ExitCode> {
    let text =
        std::fs::read_to_string(path).map_err(|e| usage(&format!("cannot read {path}: {e}")))?;
    match pomo::grammar::edn::parse_forms(&text) {
        Ok(forms) => Ok((text, forms)),
        Err(d) => {
            let mut src = pomo::Sources::new();
            src.add(path, text.as_str());
            eprint!("{}", pomo::render(&d, &src, color()));
            Err(ExitCode::from(1))
        }
    }
}

fn transact_forms(
    store: &mut Store,
    path: &str,
    text: &str,
    forms: &[pomo::grammar::edn::Node],
) -> Result<usize, ExitCode> {
    let mut n = 0;
    for f in forms {
        let ops: Vec<TxOp> = match pomo::edn_data::tx_data(store.db().schema(), f) {
            Ok(ops) => ops,
            Err(e) => {
                let mut src = pomo::Sources::new();
                src.add(path, text);
                let d = pomo::grammar::Diagnostic::error("E0400", e.message)
                    .with_label(e.span, "in this tx-data");
                eprint!("{}", pomo::render(&[d], &src, color()));
                return Err(ExitCode::from(1));
            }
        };
        match store.transact(ops) {
            Ok(report) => {
                n += 1;
                outln!(
                    "t={} tx={} datoms={}",
                    report.t,
                    report.tx,
                    report.datoms.len()
                );
            }
            Err(e) => {
                eprintln!("error: transaction rejected ({}): {}", e.kind, e.message);
                return Err(ExitCode::from(1));
            }
        }
    }
    Ok(n)
}

pub fn transact(file: &str, store: &StoreArg) -> ExitCode {
    let (text, forms) = match read_forms(file) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let mut s = match open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match transact_forms(&mut s, file, &text, &forms) {
        Ok(_) => ExitCode::SUCCESS,
        Err(c) => c,
    }
}

/// A time view of the store (`--as-of`, `--since`, `--history`).
pub struct View {
    pub as_of: Option<i64>,
    pub since: Option<i64>,
    pub history: bool,
}

fn prepare_source(loaded: &Loaded) -> Result<(pomo::query::PreparedQuery, Duration), ExitCode> {
    let input = loaded.input();
    let started = Instant::now();
    match prepare(&input, &Options::default()) {
        Ok(p) => Ok((p, started.elapsed())),
        Err(d) => {
            let sources = pomo::sources(&input, &loaded.name, loaded.rules_name());
            eprint!("{}", pomo::render(&d, &sources, color()));
            Err(ExitCode::from(1))
        }
    }
}

/// The query's arguments: the database first; `--in` values fill the rest of `:in` in order,
/// and a rule set position (`%`) takes the `--rules` file.
fn arguments(
    prepared: &pomo::query::Query,
    db: Db,
    inputs: &[String],
) -> Result<Vec<Arg>, ExitCode> {
    let mut args = vec![Arg::Db(db)];
    let mut given = inputs.iter();
    while args.len() < prepared.arity() {
        if prepared.takes_rules() && args.len() == rules_position(prepared) {
            args.push(Arg::Value(Value::Nil));
            continue;
        }
        let Some(text) = given.next() else {
            return Err(usage(&format!(
                "the query takes {} inputs after the database; give them with --in",
                prepared.arity() - 1
            )));
        };
        let v = match pomo::grammar::edn::parse_one(text) {
            Ok(n) => match pomo::edn_data::value(&n) {
                Ok(v) => v,
                Err(e) => return Err(usage(&format!("--in {text}: {}", e.message))),
            },
            Err(d) => return Err(usage(&format!("--in {text}: {}", d[0]))),
        };
        args.push(Arg::Value(v));
    }
    if given.next().is_some() {
        return Err(usage("more --in values than the query's :in takes"));
    }
    Ok(args)
}

pub fn query(
    source: &Source,
    store: &StoreArg,
    inputs: &[String],
    format: Option<Format>,
    timing: bool,
    view: View,
    backend: &Backend,
) -> ExitCode {
    let loaded = match source.load() {
        Ok(l) => l,
        Err(c) => return c,
    };
    if loaded.kind == InputKind::Sql {
        if !inputs.is_empty() || view.as_of.is_some() || view.since.is_some() || view.history {
            return usage("--in, --as-of, --since and --history go with EDN and PomoLogic queries");
        }
        let format = format.unwrap_or(Format::Table);
        return crate::sql_cmd::query(&loaded, store, format, timing, backend);
    }
    let format = match format {
        Some(Format::Csv) => return usage("--format csv goes with SQL queries"),
        Some(f) => f,
        None => Format::Edn,
    };
    let (prepared, compiled) = match prepare_source(&loaded) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let s = match open_for_reading(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut db: Db = s.db();
    if let Some(t) = view.as_of {
        db = db.as_of(t);
    }
    if let Some(t) = view.since {
        db = db.since(t);
    }
    if view.history {
        db = db.history();
    }
    let args = match arguments(&prepared, db, inputs) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let run_start = Instant::now();
    let result = prepared.run_on(args, &pomo::stdlib::Registry::new(), backend);
    let ran = run_start.elapsed();
    if timing {
        eprintln!(
            "timing: compile={:.3} run={:.3}",
            compiled.as_secs_f64() * 1e3,
            ran.as_secs_f64() * 1e3
        );
    }
    // In a cluster only process 0 holds the results.
    if let Backend::Dataflow(c) = backend
        && c.process != 0
    {
        return match result {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        };
    }
    match result {
        Ok(v) => {
            match format {
                Format::Edn => outln!("{}", results::to_edn(&v)),
                Format::Json => outln!("{}", results::to_json(&v)),
                Format::Table => out!("{}", results::to_table(&prepared.columns(), &v)),
                Format::Csv => unreachable!("refused above"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// `pomo watch`: the current result, then each epoch's changes.
pub fn watch(source: &Source, store: &StoreArg, inputs: &[String], config: &Config) -> ExitCode {
    use std::io::{BufRead, Write};
    let loaded = match source.load() {
        Ok(l) => l,
        Err(c) => return c,
    };
    if loaded.kind == InputKind::Sql {
        return usage("watch takes an EDN or PomoLogic query, not SQL");
    }
    let (prepared, _) = match prepare_source(&loaded) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let mut s = match open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let args = match arguments(&prepared, s.db(), inputs) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let registry = pomo::stdlib::Registry::new();
    let mut env = match prepared.env(args, &registry) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let mut engine = match Engine::start(prepared.compilation.flow.clone(), env.clone(), config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {}", e.message);
            return ExitCode::from(1);
        }
    };
    let printing = config.process == 0;
    let mut shown = match prepared.watch_rows(engine.relations(), &env) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if printing {
        match prepared.shape(engine.relations(), &env) {
            Ok(v) => outln!("{}", results::to_edn(&v)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let _ = std::io::stdout().flush();
    let mut status = ExitCode::SUCCESS;
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let Ok(line) = line else { break };
        let text = line.trim();
        if text.is_empty() || text.starts_with(';') {
            continue;
        }
        let name = format!("<stdin:{}>", n + 1);
        // `:import-car FILE` and `:sync ADDR [KEYFILE]` merge another replica's facts; the
        // merge is one epoch of the live query.
        let stepped = if let Some(merge) = merge_directive(text) {
            let merged = match merge {
                Merge::Car(path) => std::fs::File::open(path)
                    .map_err(|e| format!("cannot read {path}: {e}"))
                    .and_then(|f| pomo::replica::import_car(&mut s, std::io::BufReader::new(f)))
                    .map(|(_, datoms)| datoms),
                Merge::Sync(addr, key) => key
                    .map(|k| pomo::replica::load_key(std::path::Path::new(k)))
                    .transpose()
                    .and_then(|key| {
                        let opts = pomo::replica::Options {
                            key,
                            ..Default::default()
                        };
                        pomo::replica::sync(&mut s, addr, &opts).map_err(|e| e.to_string())
                    })
                    .map(|(_, datoms)| datoms),
            };
            let datoms = match merged {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("error: {name}: {e}; nothing was merged");
                    status = ExitCode::from(1);
                    continue;
                }
            };
            env.sources
                .insert("$".into(), pomo::runtime::reference::Source::Db(s.db()));
            let t = s.last_t().unwrap_or(0);
            let report = pomo::runtime::store::TxReport {
                t,
                tx: pomo::runtime::store::TX0 + t as i64,
                tempids: Default::default(),
                datoms,
            };
            engine.transact(s.db(), &report)
        } else {
            let form = match pomo::grammar::edn::parse_one(text) {
                Ok(f) => f,
                Err(d) => {
                    let mut src = pomo::Sources::new();
                    src.add(&name, text);
                    eprint!("{}", pomo::render(&d, &src, color()));
                    status = ExitCode::from(1);
                    continue;
                }
            };
            let ops: Vec<TxOp> = match pomo::edn_data::tx_data(s.db().schema(), &form) {
                Ok(ops) => ops,
                Err(e) => {
                    let mut src = pomo::Sources::new();
                    src.add(&name, text);
                    let d = pomo::grammar::Diagnostic::error("E0400", e.message)
                        .with_label(e.span, "in this tx-data");
                    eprint!("{}", pomo::render(&[d], &src, color()));
                    status = ExitCode::from(1);
                    continue;
                }
            };
            if ops.is_empty() {
                engine.step()
            } else {
                match s.transact(ops) {
                    Ok(report) => {
                        env.sources
                            .insert("$".into(), pomo::runtime::reference::Source::Db(s.db()));
                        engine.transact(s.db(), &report)
                    }
                    Err(e) => {
                        eprintln!("error: transaction rejected ({}): {}", e.kind, e.message);
                        status = ExitCode::from(1);
                        continue;
                    }
                }
            }
        };
        if let Err(e) = stepped {
            eprintln!("error: {}", e.message);
            return ExitCode::from(1);
        }
        let now = match prepared.watch_rows(engine.relations(), &env) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        };
        if printing {
            for r in shown.difference(&now) {
                outln!("- {}", results::to_edn(r));
            }
            for r in now.difference(&shown) {
                outln!("+ {}", results::to_edn(r));
            }
            let _ = std::io::stdout().flush();
        }
        shown = now;
    }
    status
}

/// A line of `pomo watch`'s input that merges another replica instead of transacting.
enum Merge<'a> {
    Car(&'a str),
    Sync(&'a str, Option<&'a str>),
}

fn merge_directive(line: &str) -> Option<Merge<'_>> {
    let mut words = line.split_whitespace();
    match (words.next()?, words.next(), words.next(), words.next()) {
        (":import-car", Some(path), None, None) => Some(Merge::Car(path)),
        (":sync", Some(addr), key, None) => Some(Merge::Sync(addr, key)),
        _ => None,
    }
}

fn rules_position(p: &pomo::query::Query) -> usize {
    p.inputs
        .iter()
        .position(|i| *i == pomo::runtime::artifact::InputSlot::Rules)
        .unwrap_or(usize::MAX)
}

/// `pomo run ARTIFACT [--db DIR] [--in EDN]... [--engine …] [--format …]`: loads a compiled
/// artifact (checking its CID, format and stdlib version) and runs it on the store.
pub fn run_artifact(
    path: &std::path::Path,
    store: &StoreArg,
    inputs: &[String],
    format: Option<Format>,
    backend: &Backend,
) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return usage(&format!("cannot read {}: {e}", path.display())),
    };
    let (artifact, _cid) = match pomo::runtime::artifact::Artifact::from_file_bytes(&bytes) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    let query = pomo::query::Query::from_artifact(artifact);
    let s = match open_for_reading(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let args = match arguments(&query, s.db(), inputs) {
        Ok(a) => a,
        Err(c) => return c,
    };
    match query.run_on(args, &pomo::stdlib::Registry::new(), backend) {
        Ok(v) => {
            match format.unwrap_or(Format::Edn) {
                Format::Edn => outln!("{}", results::to_edn(&v)),
                Format::Json => outln!("{}", results::to_json(&v)),
                Format::Table | Format::Csv => {
                    out!("{}", results::to_table(&query.columns(), &v))
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// The two delimited formats `pomo import` reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Delimited {
    Tsv,
    Csv,
}

/// A field of an imported row as a value: an integer, else a finite double, else a string.
fn field_value(c: &str) -> Value {
    match c.parse::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => match c.parse::<f64>() {
            Ok(f) if f.is_finite() => Value::Float(f),
            _ => Value::Str(c.to_string()),
        },
    }
}

pub fn import(path: &str, kind: Delimited, attrs: &str, store: &StoreArg) -> ExitCode {
    let attrs: Vec<String> = attrs
        .split(',')
        .map(|a| a.trim().trim_start_matches(':').to_string())
        .collect();
    if attrs.iter().any(|a| a.is_empty()) {
        return usage("--attrs is a comma-separated list of attribute keywords: :a1,:a2");
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return usage(&format!("cannot read {path}: {e}")),
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut s = match open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let was_empty = s.last_t().is_none();
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(if kind == Delimited::Tsv { b'\t' } else { b',' })
        .quoting(kind == Delimited::Csv)
        .from_reader(std::io::BufReader::with_capacity(
            1 << 20,
            bar.wrap_read(file),
        ));
    let started = Instant::now();
    let mut rows = 0usize;
    const BATCH: usize = 10_000;
    let mut record = csv::StringRecord::new();
    let mut lineno = 0usize;
    // Batches of `BATCH` rows; an input error ends the import with nothing kept.
    let next = || -> Result<Option<Batch>, String> {
        let mut batch: Vec<(i64, String, Value)> = Vec::with_capacity(BATCH * attrs.len());
        let mut in_batch = 0;
        while in_batch < BATCH {
            match reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(format!("{path}: {e}")),
            }
            lineno += 1;
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let Ok(e) = record[0].trim().parse::<i64>() else {
                if lineno == 1 && kind == Delimited::Csv {
                    continue; // a header
                }
                return Err(format!(
                    "{path}:{lineno}: the first column must be an integer entity id"
                ));
            };
            if record.len() - 1 > attrs.len() {
                return Err(format!(
                    "{path}:{lineno}: {} value columns but {} attributes",
                    record.len() - 1,
                    attrs.len()
                ));
            }
            for (a, c) in attrs.iter().zip(record.iter().skip(1)) {
                let c = c.trim();
                if !c.is_empty() {
                    batch.push((e, a.clone(), field_value(c)));
                }
            }
            rows += 1;
            in_batch += 1;
        }
        Ok((in_batch > 0).then_some(batch))
    };
    let (facts, scattered) = match s.import_bulk(next) {
        Ok(r) => (r.facts, r.scattered),
        Err(e) if e.kind == "import" => {
            bar.abandon();
            eprintln!("error: {}; nothing was imported", e.message);
            return ExitCode::from(1);
        }
        Err(e) => {
            bar.abandon();
            eprintln!(
                "error: transaction rejected ({}): {}; nothing was imported",
                e.kind, e.message
            );
            return ExitCode::from(1);
        }
    };
    bar.finish_and_clear();
    // A first import writes every index in key order when its rows come in entity order;
    // otherwise EAVT's pages are left half full and scattered through the file, and
    // compacting lays them out in order, so that a query maps only the pages it reads.
    let mut compacted = String::new();
    if was_empty && scattered {
        match s.compact() {
            Ok((_, before, after)) => {
                compacted = format!(
                    "; index compacted from {:.1} MB to {:.1} MB",
                    before as f64 / 1e6,
                    after as f64 / 1e6
                )
            }
            Err(e) => eprintln!("warning: the index was not compacted: {e}"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "imported {facts} facts from {rows} rows in {secs:.2}s ({:.0} facts/s){compacted}",
        facts as f64 / secs.max(1e-9)
    );
    ExitCode::SUCCESS
}

/// `pomo stats`: one line per attribute with current datoms.
pub fn stats(store: &StoreArg) -> ExitCode {
    let s = match open_for_reading(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let db = match s.try_db() {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: cannot read the store in {}: {e}", store.dir());
            return ExitCode::from(1);
        }
    };
    outln!("attribute\tdatoms\tentities\tvalues");
    for (a, st) in db.all_stats() {
        if st.datoms > 0 {
            outln!(":{a}\t{}\t{}\t{}", st.datoms, st.entities, st.values);
        }
    }
    ExitCode::SUCCESS
}

pub fn demo(store: &StoreArg) -> ExitCode {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/demo");
    let mut s = match open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if s.db().datoms().is_empty() {
        let data = format!("{dir}/data.edn");
        let (text, forms) = match read_forms(&data) {
            Ok(x) => x,
            Err(c) => return c,
        };
        outln!("loading {data} into {}", store.dir());
        if let Err(c) = transact_forms(&mut s, &data, &text, &forms) {
            return c;
        }
    }
    let mut queries: Vec<_> = std::fs::read_dir(format!("{dir}/queries"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    queries.sort();
    let rules = std::fs::read_to_string(format!("{dir}/rules.edn")).ok();
    for q in queries {
        let Some(text) = std::fs::read_to_string(&q).ok() else {
            continue;
        };
        let title = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches(';')
            .trim()
            .to_string();
        outln!(
            "\n;; {} — {title}",
            q.file_name().and_then(|f| f.to_str()).unwrap_or("?")
        );
        let input = Input::Edn {
            query: &text,
            rules: rules.as_deref(),
        };
        let prepared = match prepare(&input, &Options::default()) {
            Ok(p) => p,
            Err(d) => {
                let sources = pomo::sources(&input, &q.display().to_string(), "rules.edn");
                eprint!("{}", pomo::render(&d, &sources, color()));
                return ExitCode::from(1);
            }
        };
        let mut args = vec![Arg::Db(s.db())];
        while args.len() < prepared.arity() {
            args.push(Arg::Value(Value::Nil));
        }
        match prepared.run(args, &pomo::stdlib::Registry::new()) {
            Ok(v) => out!("{}", results::to_table(&prepared.columns(), &v)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
