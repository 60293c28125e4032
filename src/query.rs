//! Running queries from source: compile once ([`PreparedQuery`]), then run against databases
//! and inputs with the reference evaluator, and shape the result by the find spec.
//!
//! ```
//! use pomo::query::{prepare, Arg};
//! use pomo::runtime::store::Store;
//!
//! let mut store = Store::in_memory(); // or Store::open(dir)
//! let tx = pomo::grammar::edn::parse_one(r#"[[:db/add 1 :person/name "Ada"]]"#).unwrap();
//! store.transact(pomo::edn_data::tx_data(store.db().schema(), &tx).unwrap()).unwrap();
//! let q = prepare(
//!     &pomo::Input::Edn { query: "[:find ?n . :where [_ :person/name ?n]]", rules: None },
//!     &pomo::Options::default(),
//! )
//! .unwrap();
//! let answer = q.run(vec![Arg::Db(store.db())], &pomo::stdlib::Registry::new()).unwrap();
//! assert_eq!(pomo::runtime::results::to_edn(&answer), "\"Ada\"");
//! ```

use crate::{Ast, Compilation, Input, Options};
use pomo_grammar::Diagnostic;
use pomo_grammar::query::{Binding, Input as InElem};
use pomo_runtime::dataflow;
use pomo_runtime::reference::{self, Env, Source};
use pomo_runtime::results;
use pomo_runtime::store::Db;
use pomo_stdlib::Registry;
use pomo_types::Value;
use pomo_types::ra::RelKind;
use std::collections::BTreeMap;

/// An argument of a query, in `:in` order.
#[derive(Clone)]
pub enum Arg {
    /// A database for a source (`$`, `$name`).
    Db(Db),
    /// A collection of tuples used as a source.
    Coll(Vec<Vec<Value>>),
    /// A value for a binding (scalar, tuple, collection, relation) or a rule set (ignored: rules
    /// are compiled into the plan).
    Value(Value),
}

/// Which backend evaluates a plan.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The reference evaluator (the oracle).
    Reference,
    /// The incremental dataflow backend, on timely's workers and processes.
    Dataflow(dataflow::Config),
    /// Kernels compiled to native code by Cranelift (or interpreted, to check the compiler).
    Jit(pomo_runtime::jit::Mode),
}

/// What one `:in` position takes.
#[derive(Clone, Debug, PartialEq)]
enum Slot {
    Source(String),
    Rules,
    Relation(String),
    Ignore,
}

/// A compiled query, ready to run.
pub struct PreparedQuery {
    pub compilation: Compilation,
    slots: Vec<Slot>,
}

/// A query that failed while running.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryError {
    pub message: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Compiles a query for running.
pub fn prepare(input: &Input<'_>, opts: &Options) -> Result<PreparedQuery, Vec<Diagnostic>> {
    Ok(PreparedQuery::from_compilation(crate::compile(
        input, opts,
    )?))
}

impl PreparedQuery {
    /// A compiled query, ready to run.
    pub fn from_compilation(compilation: Compilation) -> PreparedQuery {
        let slots = match &compilation.ast {
            Ast::Edn { query, .. } => query
                .inputs
                .iter()
                .enumerate()
                .map(|(i, x)| match x {
                    InElem::Source(s) => Slot::Source(s.name.clone()),
                    InElem::Rules(_) => Slot::Rules,
                    InElem::Binding(Binding::Blank(_)) => Slot::Ignore,
                    InElem::Binding(_) => Slot::Relation(format!("in{i}")),
                })
                .collect(),
            // A PomoLogic program reads the store as `$` and takes its inputs in declaration order.
            Ast::Logic(_) => std::iter::once(Slot::Source("$".into()))
                .chain(
                    compilation
                        .plan
                        .relations
                        .iter()
                        .filter(|r| matches!(r.kind, RelKind::Input(_)))
                        .map(|r| Slot::Relation(r.name.clone())),
                )
                .collect(),
            // SQL reads the store as `$` and takes no inputs.
            Ast::Sql { .. } => vec![Slot::Source("$".into())],
        };
        PreparedQuery { compilation, slots }
    }

    /// How many arguments the query takes (its `:in` list).
    pub fn arity(&self) -> usize {
        self.slots.len()
    }

    /// Whether the `:in` list has a rule set (`%`).
    pub fn takes_rules(&self) -> bool {
        self.slots.contains(&Slot::Rules)
    }

    /// Binds arguments to the plan's sources and input relations.
    pub fn env(&self, args: Vec<Arg>, registry: &Registry) -> Result<Env, QueryError> {
        // Trailing sources may be left out: a query that never reads them runs without them
        // (DataScript's implicit `$` when no :in is given).
        let needed = self
            .slots
            .iter()
            .rposition(|s| !matches!(s, Slot::Source(_) | Slot::Rules | Slot::Ignore))
            .map_or(0, |i| i + 1);
        if args.len() < needed || args.len() > self.slots.len() {
            return Err(QueryError {
                message: format!(
                    "the query takes {} inputs (its :in), {} were given",
                    self.slots.len(),
                    args.len()
                ),
            });
        }
        let mut env = Env {
            registry: registry.clone(),
            ..Env::default()
        };
        for (slot, arg) in self.slots.iter().zip(args) {
            // (Slots past the given arguments stay unbound.)
            match (slot, arg) {
                (Slot::Source(name), Arg::Db(db)) => {
                    env.sources.insert(name.clone(), Source::Db(db));
                }
                (Slot::Source(name), Arg::Coll(rows)) => {
                    env.sources.insert(name.clone(), Source::Coll(rows));
                }
                (Slot::Source(name), Arg::Value(Value::Tuple(rows) | Value::Set(rows))) => {
                    let rows = rows
                        .into_iter()
                        .map(|r| match r {
                            Value::Tuple(xs) => Ok(xs),
                            other => Err(QueryError {
                                message: format!(
                                    "a collection source holds tuples, not a {}",
                                    other.type_name()
                                ),
                            }),
                        })
                        .collect::<Result<_, _>>()?;
                    env.sources.insert(name.clone(), Source::Coll(rows));
                }
                (Slot::Source(name), Arg::Value(v)) => {
                    return Err(QueryError {
                        message: format!("{name} needs a database, got a {}", v.type_name()),
                    });
                }
                (Slot::Relation(rel), Arg::Value(v)) => {
                    env.inputs.insert(rel.clone(), v);
                }
                (Slot::Relation(rel), _) => {
                    return Err(QueryError {
                        message: format!("input {rel} needs a value, got a database"),
                    });
                }
                (Slot::Rules | Slot::Ignore, _) => {}
            }
        }
        Ok(env)
    }

    /// Runs the query on the reference evaluator and shapes its result.
    pub fn run(&self, args: Vec<Arg>, registry: &Registry) -> Result<Value, QueryError> {
        self.run_on(args, registry, &Backend::Reference)
    }

    /// Evaluates the plan on a backend: every relation it derives, by name.
    pub fn evaluate(
        &self,
        env: &Env,
        backend: &Backend,
    ) -> Result<BTreeMap<String, reference::Relation>, QueryError> {
        let qe = |e: pomo_stdlib::EvalError| QueryError { message: e.message };
        match backend {
            Backend::Reference => reference::evaluate(&self.compilation.plan, env).map_err(qe),
            Backend::Dataflow(config) => {
                dataflow::evaluate(&self.compilation.flow, env, config).map_err(qe)
            }
            Backend::Jit(mode) => {
                let mut jit = pomo_runtime::jit::Jit::new(*mode);
                let out = jit.run(&self.compilation.kernel, env).map_err(qe)?;
                Ok(self.jit_relations(&jit, &out))
            }
        }
    }

    /// Runs the query on a backend and shapes its result.
    pub fn run_on(
        &self,
        args: Vec<Arg>,
        registry: &Registry,
        backend: &Backend,
    ) -> Result<Value, QueryError> {
        if let Backend::Jit(mode) = backend {
            return self.run_jit(&mut pomo_runtime::jit::Jit::new(*mode), args, registry);
        }
        let env = self.env(args, registry)?;
        let rels = self.evaluate(&env, backend)?;
        self.shape(rels, &env)
    }

    /// Runs the query on a JIT backend the caller keeps, so that repeated runs reuse its
    /// compiled kernels and its tables of store views (the way to embed the JIT).
    pub fn run_jit(
        &self,
        jit: &mut pomo_runtime::jit::Jit,
        args: Vec<Arg>,
        registry: &Registry,
    ) -> Result<Value, QueryError> {
        let qe = |e: pomo_stdlib::EvalError| QueryError { message: e.message };
        let env = self.env(args, registry)?;
        let out = jit.run(&self.compilation.kernel, &env).map_err(qe)?;
        // A plain `:find` relation comes straight from the output table, sorted.
        if let Some(o) = self.compilation.plan.output()
            && let RelKind::Output(spec) = &o.kind
            && spec.find == pomo_types::ra::FindKind::Relation
            && spec.with.is_empty()
            && spec.ret.is_none()
            && spec.pulls.is_empty()
            && spec.sql.is_none()
            && let Some(rows) = jit.sorted_tuples(&out, &o.name)
        {
            return Ok(Value::Set(rows));
        }
        self.shape(self.jit_relations(jit, &out), &env)
    }

    /// What [`PreparedQuery::shape`] reads of a JIT run: the output relation when the plan has
    /// one (decoding the others would be wasted), else every derived relation.
    pub fn jit_relations(
        &self,
        jit: &pomo_runtime::jit::Jit,
        out: &pomo_runtime::jit::Outcome,
    ) -> BTreeMap<String, reference::Relation> {
        match self.compilation.plan.output() {
            Some(o) => jit
                .relation(out, &o.name)
                .map(|r| (o.name.clone(), r))
                .into_iter()
                .collect(),
            None => jit.relations(out),
        }
    }

    /// Shapes the relations a plan derived into the query's result: the output relation by
    /// its find spec (pulls included), or every derived relation of a program without one.
    pub fn shape(
        &self,
        rels: BTreeMap<String, reference::Relation>,
        env: &Env,
    ) -> Result<Value, QueryError> {
        let plan = &self.compilation.plan;
        match plan.output() {
            Some(out) => {
                let mut rels = rels;
                let (spec, rel) = self.output_relation(out, &mut rels, env)?;
                Ok(results::shape(spec, rel))
            }
            // A program without `.output` returns every relation it derives, by name.
            None => Ok(Value::Map(
                rels.into_iter()
                    .filter(|(n, _)| {
                        plan.relation(n)
                            .is_some_and(|d| matches!(d.kind, RelKind::Derived))
                            || n.ends_with("@next")
                    })
                    .map(|(n, r)| {
                        (
                            Value::Symbol(n),
                            Value::Set(r.tuples.into_iter().map(Value::Tuple).collect()),
                        )
                    })
                    .collect(),
            )),
        }
    }

    /// The rows `pomo watch` shows and diffs: the output relation's tuples (pulls applied), or
    /// for a program without an output, `[relation tuple]` pairs of every derived relation.
    pub fn watch_rows(
        &self,
        rels: BTreeMap<String, reference::Relation>,
        env: &Env,
    ) -> Result<std::collections::BTreeSet<Value>, QueryError> {
        let plan = &self.compilation.plan;
        match plan.output() {
            Some(out) => {
                let mut rels = rels;
                let (_, rel) = self.output_relation(out, &mut rels, env)?;
                Ok(rel.tuples.into_iter().map(Value::Tuple).collect())
            }
            None => Ok(rels
                .into_iter()
                .filter(|(n, _)| {
                    plan.relation(n)
                        .is_some_and(|d| matches!(d.kind, RelKind::Derived))
                        || n.ends_with("@next")
                })
                .flat_map(|(n, r)| {
                    r.tuples
                        .into_iter()
                        .map(move |t| Value::Tuple(vec![Value::Symbol(n.clone()), Value::Tuple(t)]))
                })
                .collect()),
        }
    }

    /// The output relation's tuples (pulls applied) with its spec.
    fn output_relation<'a>(
        &self,
        out: &'a pomo_types::ra::RelDecl,
        rels: &mut BTreeMap<String, reference::Relation>,
        env: &Env,
    ) -> Result<(&'a pomo_types::ra::OutputSpec, reference::Relation), QueryError> {
        let RelKind::Output(spec) = &out.kind else {
            unreachable!("output() returns an output relation")
        };
        let mut rel = rels
            .remove(&out.name)
            .unwrap_or_else(|| reference::Relation::new(out.attrs.clone()));
        if !spec.pulls.is_empty() {
            rel = self.pull_columns(spec, rel, env)?;
        }
        Ok((spec, rel))
    }

    /// Replaces the entity ids in pulled find columns by the maps their patterns pull.
    fn pull_columns(
        &self,
        spec: &pomo_types::ra::OutputSpec,
        rel: reference::Relation,
        env: &Env,
    ) -> Result<reference::Relation, QueryError> {
        let qe = |m: String| QueryError { message: m };
        let mut out = reference::Relation::new(rel.attrs.clone());
        for t in rel.tuples {
            let mut t = t;
            for p in &spec.pulls {
                let db = match env.sources.get(&p.source) {
                    Some(Source::Db(db)) => db,
                    _ => return Err(qe(format!("pull needs a database bound to {}", p.source))),
                };
                let pattern = match &p.pattern {
                    pomo_types::ra::PullPattern::Const(v) => v.clone(),
                    pomo_types::ra::PullPattern::Input(rel) => env
                        .inputs
                        .get(rel)
                        .cloned()
                        .ok_or_else(|| qe(format!("no pull pattern bound to {rel}")))?,
                };
                let e = match t.get(p.column) {
                    Some(Value::Int(e)) => *e,
                    Some(other) => {
                        return Err(qe(format!(
                            "pull needs an entity id, got a {}",
                            other.type_name()
                        )));
                    }
                    None => continue,
                };
                t[p.column] =
                    pomo_runtime::pull::pull(db, &pattern, e).map_err(|e| qe(e.message))?;
            }
            out.tuples.insert(t);
        }
        Ok(out)
    }

    /// The names of the find columns, for tables.
    pub fn columns(&self) -> Vec<String> {
        match self.compilation.plan.output() {
            Some(out) => {
                let RelKind::Output(spec) = &out.kind else {
                    return Vec::new();
                };
                let n = out.attrs.len() - spec.with.len().min(out.attrs.len());
                match &spec.ret {
                    Some((_, names)) => names.clone(),
                    None => out.attrs[..n].to_vec(),
                }
            }
            None => vec!["relation".into(), "tuples".into()],
        }
    }
}

/// Several named relations of a program as one map, for printing.
pub fn relations_value(rels: &BTreeMap<String, reference::Relation>) -> Value {
    Value::Map(
        rels.iter()
            .map(|(n, r)| {
                (
                    Value::Symbol(n.clone()),
                    Value::Set(r.tuples.iter().cloned().map(Value::Tuple).collect()),
                )
            })
            .collect(),
    )
}

impl PreparedQuery {
    /// The query as a compiled artifact (DESIGN §8): its plans, its input signature and the
    /// stdlib version; [`pomo_runtime::artifact::Artifact::to_file_bytes`] writes it.
    pub fn artifact(&self) -> pomo_runtime::artifact::Artifact {
        use pomo_runtime::artifact::{Artifact, FORMAT, InputSlot};
        let kind = |name: &str| {
            self.compilation
                .plan
                .relation(name)
                .and_then(|d| match d.kind {
                    RelKind::Input(k) => Some(k),
                    _ => None,
                })
                .unwrap_or(pomo_types::ra::BindKind::Relation)
        };
        let inputs = self
            .slots
            .iter()
            .map(|s| match s {
                Slot::Source(n) => InputSlot::Source(n.clone()),
                Slot::Rules => InputSlot::Rules,
                Slot::Relation(n) => InputSlot::Relation {
                    name: n.clone(),
                    kind: kind(n),
                },
                Slot::Ignore => InputSlot::Ignore,
            })
            .collect();
        let language = match &self.compilation.ast {
            Ast::Edn { .. } => "edn",
            Ast::Logic(_) => "pomo",
            Ast::Sql { .. } => "sql",
        };
        Artifact {
            format: FORMAT,
            stdlib: pomo_stdlib::STDLIB_VERSION.to_string(),
            language: language.to_string(),
            inputs,
            plan: self.compilation.plan.clone(),
            flow: self.compilation.flow.clone(),
            kernel: self.compilation.kernel.clone(),
        }
    }
}
