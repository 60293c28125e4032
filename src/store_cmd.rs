//! The store commands of the CLI: `query`, `transact`, `import` and `demo`.

use super::{Format, Source, StoreArg, color, usage};
use pomo::query::{Arg, prepare};
use pomo::runtime::results;
use pomo::runtime::store::{Db, Store, TxOp};
use pomo::{Input, Options};
use pomo_types::Value;
use std::process::ExitCode;
use std::time::Instant;

fn open(store: &StoreArg) -> Result<Store, ExitCode> {
    let dir = store.dir();
    match Store::open(std::path::Path::new(&dir)) {
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
                println!(
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

#[allow(clippy::too_many_arguments)]
pub fn query(
    source: &Source,
    store: &StoreArg,
    inputs: &[String],
    format: Format,
    timing: bool,
    as_of: Option<i64>,
    since: Option<i64>,
    history: bool,
) -> ExitCode {
    let loaded = match source.load() {
        Ok(l) => l,
        Err(code) => return code,
    };
    let input = loaded.input();
    let started = Instant::now();
    let prepared = match prepare(&input, &Options::default()) {
        Ok(p) => p,
        Err(d) => {
            let sources = pomo::sources(&input, &loaded.name, loaded.rules_name());
            eprint!("{}", pomo::render(&d, &sources, color()));
            return ExitCode::from(1);
        }
    };
    let compiled = started.elapsed();
    let s = match open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut db: Db = s.db();
    if let Some(t) = as_of {
        db = db.as_of(t);
    }
    if let Some(t) = since {
        db = db.since(t);
    }
    if history {
        db = db.history();
    }
    // The store is the first source; `--in` values fill the rest of `:in` in order, and a rule
    // set position (`%`) takes the `--rules` file.
    let mut args = vec![Arg::Db(db)];
    let mut given = inputs.iter();
    while args.len() < prepared.arity() {
        if prepared.takes_rules() && args.len() == rules_position(&prepared) {
            args.push(Arg::Value(Value::Nil));
            continue;
        }
        let Some(text) = given.next() else {
            return usage(&format!(
                "the query takes {} inputs after the database; give them with --in",
                prepared.arity() - 1
            ));
        };
        let v = match pomo::grammar::edn::parse_one(text) {
            Ok(n) => match pomo::edn_data::value(&n) {
                Ok(v) => v,
                Err(e) => return usage(&format!("--in {text}: {}", e.message)),
            },
            Err(d) => return usage(&format!("--in {text}: {}", d[0])),
        };
        args.push(Arg::Value(v));
    }
    if given.next().is_some() {
        return usage("more --in values than the query's :in takes");
    }
    let run_start = Instant::now();
    let result = prepared.run(args, &pomo::stdlib::Registry::new());
    let ran = run_start.elapsed();
    if timing {
        eprintln!(
            "timing: compile={:.3} run={:.3}",
            compiled.as_secs_f64() * 1e3,
            ran.as_secs_f64() * 1e3
        );
    }
    match result {
        Ok(v) => {
            match format {
                Format::Edn => println!("{}", results::to_edn(&v)),
                Format::Json => println!("{}", results::to_json(&v)),
                Format::Table => print!("{}", results::to_table(&prepared.columns(), &v)),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn rules_position(p: &pomo::query::PreparedQuery) -> usize {
    match &p.compilation.ast {
        pomo::Ast::Edn { query, .. } => query
            .inputs
            .iter()
            .position(|i| matches!(i, pomo::grammar::query::Input::Rules(_)))
            .unwrap_or(usize::MAX),
        pomo::Ast::Logic(_) => usize::MAX,
    }
}

pub fn import(tsv: &str, attrs: &str, store: &StoreArg) -> ExitCode {
    let attrs: Vec<String> = attrs
        .split(',')
        .map(|a| a.trim().trim_start_matches(':').to_string())
        .collect();
    if attrs.iter().any(|a| a.is_empty()) {
        return usage("--attrs is a comma-separated list of attribute keywords: :a1,:a2");
    }
    let text = match std::fs::read_to_string(tsv) {
        Ok(t) => t,
        Err(e) => return usage(&format!("cannot read {tsv}: {e}")),
    };
    let mut s = match open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let bar = indicatif::ProgressBar::new(lines.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut facts = 0usize;
    const BATCH: usize = 10_000;
    for (chunk_no, chunk) in lines.chunks(BATCH).enumerate() {
        let mut ops = Vec::with_capacity(chunk.len() * attrs.len());
        for (i, line) in chunk.iter().enumerate() {
            let cols: Vec<&str> = line.split('\t').collect();
            let lineno = chunk_no * BATCH + i + 1;
            let Ok(e) = cols[0].trim().parse::<i64>() else {
                eprintln!("error: {tsv}:{lineno}: the first column must be an integer entity id");
                return ExitCode::from(1);
            };
            if cols.len() - 1 > attrs.len() {
                eprintln!(
                    "error: {tsv}:{lineno}: {} value columns but {} attributes",
                    cols.len() - 1,
                    attrs.len()
                );
                return ExitCode::from(1);
            }
            for (a, c) in attrs.iter().zip(&cols[1..]) {
                let c = c.trim();
                if c.is_empty() {
                    continue;
                }
                let v = match c.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => match c.parse::<f64>() {
                        Ok(f) if f.is_finite() => Value::Float(f),
                        _ => Value::Str(c.to_string()),
                    },
                };
                ops.push(TxOp::Add {
                    e: pomo::runtime::store::EntityRef::Id(e),
                    a: a.clone(),
                    v: pomo::runtime::store::TxValue::Value(v),
                });
            }
        }
        facts += ops.len();
        if let Err(e) = s.transact(ops) {
            eprintln!("error: transaction rejected ({}): {}", e.kind, e.message);
            return ExitCode::from(1);
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "imported {facts} facts from {} rows in {secs:.2}s ({:.0} facts/s)",
        lines.len(),
        facts as f64 / secs.max(1e-9)
    );
    ExitCode::SUCCESS
}

pub fn demo(store: &StoreArg) -> ExitCode {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo");
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
        println!("loading {data} into {}", store.dir());
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
        println!(
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
            Ok(v) => print!("{}", results::to_table(&prepared.columns(), &v)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
