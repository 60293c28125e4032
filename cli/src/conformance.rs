//! The conformance runner behind `pomo-conformance`: runs the EDN cases of
//! `tests/conformance/edn` (DataScript-checked) and `edn-time` (time views) exactly as their
//! READMEs say — building each database from `:schema` and `:tx`, applying `:view`, passing the
//! special inputs (second databases, host functions), and comparing by the README's rules
//! (sets as sets, `:order-free` vectors as multisets, numbers by numeric value).

use pomo::edn_data::{self, DataError};
use pomo::query::{Arg, prepare};
use pomo::{Input, Options};
use pomo_grammar::edn::{Form, Node};
use pomo_runtime::store::{Db, Store, TX0};
use pomo_stdlib::{EvalError, Registry};
use pomo_types::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which backend runs the queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Reference,
    /// The dataflow backend on this many worker threads.
    Dataflow {
        workers: usize,
    },
    /// The JIT backend (native kernels, or interpreted ones).
    Jit(pomo_runtime::jit::Mode),
}

/// The result of one case.
#[derive(Clone, Debug, PartialEq)]
pub enum CaseOutcome {
    Pass,
    Fail(String),
}

/// The host functions the corpus README asks a harness to provide.
pub fn host_registry() -> Registry {
    let mut r = Registry::new();
    let num = |v: &Value| match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        other => Err(EvalError {
            message: format!("expected a number, got a {}", other.type_name()),
        }),
    };
    r.register_fn(
        "str-length",
        Arc::new(|args: &[Value]| match args {
            [Value::Str(s)] => Ok(Some(Value::Int(s.encode_utf16().count() as i64))),
            _ => Err(EvalError {
                message: "str-length takes one string".into(),
            }),
        }),
    );
    r.register_fn(
        "twice",
        Arc::new(|args: &[Value]| match args {
            [Value::Int(i)] => i
                .checked_mul(2)
                .map(|x| Some(Value::Int(x)))
                .ok_or(EvalError {
                    message: "overflow".into(),
                }),
            [Value::Float(f)] => Ok(Some(Value::Float(f * 2.0))),
            _ => Err(EvalError {
                message: "twice takes one number".into(),
            }),
        }),
    );
    r.register_fn(
        "between?",
        Arc::new(move |args: &[Value]| match args {
            [x, lo, hi] => Ok(Some(Value::Bool(
                num(lo)? <= num(x)? && num(x)? <= num(hi)?,
            ))),
            _ => Err(EvalError {
                message: "between? takes three numbers".into(),
            }),
        }),
    );
    r.register_aggregate(
        "sum-of-squares",
        Arc::new(|vals: Vec<Value>| {
            let mut int: i64 = 0;
            let mut float = 0.0;
            let mut any_float = false;
            for v in vals {
                match v {
                    Value::Int(i) => int += i * i,
                    Value::Float(f) => {
                        any_float = true;
                        float += f * f
                    }
                    other => {
                        return Err(EvalError {
                            message: format!("sum-of-squares of a {}", other.type_name()),
                        });
                    }
                }
            }
            Ok(if any_float {
                Value::Float(float + int as f64)
            } else {
                Value::Int(int)
            })
        }),
    );
    r.register_aggregate(
        "longest-string",
        Arc::new(|vals: Vec<Value>| {
            let mut best: Option<String> = None;
            for v in vals {
                let Value::Str(s) = v else {
                    return Err(EvalError {
                        message: "longest-string of a non-string".into(),
                    });
                };
                let better = match &best {
                    None => true,
                    Some(b) => {
                        s.chars().count() > b.chars().count()
                            || (s.chars().count() == b.chars().count() && s < *b)
                    }
                };
                if better {
                    best = Some(s);
                }
            }
            Ok(best.map(Value::Str).unwrap_or(Value::Nil))
        }),
    );
    r
}

fn get<'a>(map: &'a [(Node, Node)], key: &str) -> Option<&'a Node> {
    map.iter()
        .find(|(k, _)| matches!(&k.form, Form::Keyword(x) if x == key))
        .map(|(_, v)| v)
}

fn data_err(e: DataError) -> String {
    e.message
}

/// Builds a database from a schema map and a vector of transactions.
fn build_db(schema: Option<&Node>, tx: Option<&Node>) -> Result<Db, String> {
    let schema = match schema {
        Some(s) => edn_data::schema(s).map_err(data_err)?,
        None => Default::default(),
    };
    let mut store = Store::in_memory()
        .with_schema(schema)
        .map_err(|e| e.message)?;
    if let Some(tx) = tx {
        let (Form::Vector(txs) | Form::List(txs)) = &tx.form else {
            return Err(":tx is a vector of transactions".into());
        };
        for t in txs {
            let ops = edn_data::tx_data(store.db().schema(), t).map_err(data_err)?;
            store.transact(ops).map_err(|e| e.message)?;
        }
    }
    Ok(store.db())
}

/// Applies a `:view` (`{:as-of K}`, `{:since K}`, `:history` or a vector of them).
fn apply_view(db: Db, view: &Node) -> Result<Db, String> {
    let steps: Vec<&Node> = match &view.form {
        Form::Vector(xs) => xs.iter().collect(),
        _ => vec![view],
    };
    let mut db = db;
    for s in steps {
        db = match &s.form {
            Form::Keyword(k) if k == "history" => db.history(),
            Form::Map(m) => match (get(m, "as-of"), get(m, "since")) {
                (
                    Some(Node {
                        form: Form::Int(k), ..
                    }),
                    None,
                ) => db.as_of(TX0 + k),
                (
                    None,
                    Some(Node {
                        form: Form::Int(k), ..
                    }),
                ) => db.since(TX0 + k),
                _ => return Err(format!("invalid view step {s}: time points are integers")),
            },
            _ => return Err(format!("invalid view step {s}")),
        };
    }
    Ok(db)
}

/// Turns a case input into a query argument.
fn argument(n: &Node) -> Result<Arg, String> {
    if let Form::Map(m) = &n.form {
        if let Some(db) = get(m, "conformance/db") {
            let Form::Map(d) = &db.form else {
                return Err(":conformance/db takes a map".into());
            };
            let built = build_db(get(d, "schema"), get(d, "tx"))?;
            return Ok(Arg::Db(match get(d, "view") {
                Some(v) => apply_view(built, v)?,
                None => built,
            }));
        }
        if let Some(Node {
            form: Form::Str(name),
            ..
        }) = get(m, "conformance/fn")
        {
            return Ok(Arg::Value(Value::Fn(name.clone())));
        }
    }
    edn_data::value(n).map(Arg::Value).map_err(data_err)
}

/// Runs one case file.
pub fn run_case(path: &Path, backend: Backend) -> (String, CaseOutcome) {
    let fallback = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("?")
        .to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return (fallback, CaseOutcome::Fail(format!("cannot read: {e}"))),
    };
    let node = match pomo_grammar::edn::parse_one(&text) {
        Ok(n) => n,
        Err(d) => {
            return (
                fallback,
                CaseOutcome::Fail(format!("case does not parse: {}", d[0])),
            );
        }
    };
    let Form::Map(case) = &node.form else {
        return (fallback, CaseOutcome::Fail("a case is a map".into()));
    };
    let name = match get(case, "name") {
        Some(Node {
            form: Form::Str(s), ..
        }) => s.clone(),
        _ => fallback,
    };
    let outcome = run_map(case, backend);
    (name, outcome)
}

fn flag(case: &[(Node, Node)], key: &str) -> bool {
    matches!(
        get(case, key),
        Some(Node {
            form: Form::Bool(true),
            ..
        })
    )
}

fn run_map(case: &[(Node, Node)], backend: Backend) -> CaseOutcome {
    let expect_error = flag(case, "error");
    let phase = match get(case, "error-phase") {
        Some(Node {
            form: Form::Keyword(k),
            ..
        }) => k.clone(),
        _ => String::new(),
    };
    let fail_phase = |got: &str, msg: String| -> CaseOutcome {
        if expect_error && (phase == got || (phase == "view" && got == "query")) {
            CaseOutcome::Pass
        } else if expect_error {
            CaseOutcome::Fail(format!(
                "expected an error in phase {phase}, got one in phase {got}: {msg}"
            ))
        } else {
            CaseOutcome::Fail(format!("{got} failed: {msg}"))
        }
    };
    let pass_db = !matches!(
        get(case, "pass-db"),
        Some(Node {
            form: Form::Bool(false),
            ..
        })
    );
    // Build the main database.
    let mut args: Vec<Arg> = Vec::new();
    if pass_db {
        let db = match build_db(get(case, "schema"), get(case, "tx")) {
            Ok(db) => db,
            Err(e) => return fail_phase("tx", e),
        };
        let db = match get(case, "view") {
            Some(v) => match apply_view(db, v) {
                Ok(db) => db,
                Err(e) => return fail_phase("view", e),
            },
            None => db,
        };
        args.push(Arg::Db(db));
    }
    let inputs: Vec<&Node> = match get(case, "inputs").map(|n| &n.form) {
        Some(Form::Vector(xs)) => xs.iter().collect(),
        _ => Vec::new(),
    };
    let Some(query) = get(case, "query") else {
        return CaseOutcome::Fail("case has no :query".into());
    };
    // The rule set, if the query takes `%`, is compiled into the plan.
    let parsed = pomo_grammar::query::parse_query(query);
    let mut rules_text = None;
    if let Ok(q) = &parsed
        && let Some(pos) = q
            .inputs
            .iter()
            .position(|i| matches!(i, pomo_grammar::query::Input::Rules(_)))
    {
        let idx = if pass_db {
            pos.checked_sub(1)
        } else {
            Some(pos)
        };
        if let Some(n) = idx.and_then(|i| inputs.get(i)) {
            rules_text = Some(n.to_string());
        }
    }
    for n in &inputs {
        match argument(n) {
            Ok(a) => args.push(a),
            Err(e) => {
                return fail_phase(
                    if e.contains("view") || e.contains("time point") {
                        "view"
                    } else {
                        "tx"
                    },
                    e,
                );
            }
        }
    }
    let query_text = query.to_string();
    let input = Input::Edn {
        query: &query_text,
        rules: rules_text.as_deref(),
    };
    let prepared = match prepare(&input, &Options::default()) {
        Ok(p) => p,
        Err(d) => {
            return fail_phase(
                "query",
                d.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
    };
    let backend = match backend {
        Backend::Reference => pomo::query::Backend::Reference,
        Backend::Dataflow { workers } => {
            pomo::query::Backend::Dataflow(pomo::runtime::dataflow::Config {
                workers,
                ..Default::default()
            })
        }
        Backend::Jit(mode) => pomo::query::Backend::Jit(mode),
    };
    let actual = match prepared.run_on(args, &host_registry(), &backend) {
        Ok(v) => v,
        Err(e) => return fail_phase("query", e.message),
    };
    if expect_error {
        return CaseOutcome::Fail(format!(
            "expected an error in phase {phase}, got {}",
            pomo_runtime::results::to_edn(&actual)
        ));
    }
    let Some(expected) = get(case, "expected") else {
        return CaseOutcome::Fail("case has neither :expected nor :error".into());
    };
    let expected = match edn_data::value(expected) {
        Ok(v) => v,
        Err(e) => return CaseOutcome::Fail(format!("bad :expected: {}", e.message)),
    };
    if matches(&expected, &actual, flag(case, "order-free")) {
        CaseOutcome::Pass
    } else {
        CaseOutcome::Fail(format!(
            "expected {} got {}",
            pomo_runtime::results::to_edn(&expected),
            pomo_runtime::results::to_edn(&actual)
        ))
    }
}

/// The README's comparison: sets as sets, order-free vectors as multisets, else structural.
pub fn matches(expected: &Value, actual: &Value, order_free: bool) -> bool {
    match expected {
        Value::Set(es) => match actual {
            Value::Set(xs) | Value::Tuple(xs) => {
                no_duplicates(xs) && xs.len() == es.len() && same_multiset(es, xs)
            }
            _ => false,
        },
        Value::Tuple(es) if order_free => match actual {
            Value::Tuple(xs) | Value::Set(xs) => xs.len() == es.len() && same_multiset(es, xs),
            _ => false,
        },
        _ => equal(expected, actual),
    }
}

fn no_duplicates(xs: &[Value]) -> bool {
    xs.iter()
        .enumerate()
        .all(|(i, x)| xs[..i].iter().all(|y| !equal(x, y)))
}

fn same_multiset(es: &[Value], xs: &[Value]) -> bool {
    let mut used = vec![false; xs.len()];
    es.iter().all(|e| {
        let found = xs
            .iter()
            .enumerate()
            .position(|(i, x)| !used[i] && equal(e, x));
        if let Some(i) = found {
            used[i] = true;
        }
        found.is_some()
    })
}

fn equal(e: &Value, a: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    match (e, a) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (x, y) if num(x).is_some() && num(y).is_some() => {
            let (x, y) = (num(x).unwrap_or_default(), num(y).unwrap_or_default());
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Tuple(xs), Value::Tuple(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| equal(x, y))
        }
        (Value::Set(xs), Value::Set(ys)) => xs.len() == ys.len() && same_multiset(xs, ys),
        (Value::Map(xs), Value::Map(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, v)| ys.iter().any(|(k2, v2)| equal(k, k2) && equal(v, v2)))
        }
        _ => e == a,
    }
}

/// The case files under the given paths (directories are read, sorted by name).
pub fn case_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "edn"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    out
}
