//! Running a compiled query: binding its inputs, evaluating its plans on a backend, and shaping
//! the output relation into the query's result (find spec, pulls, SQL rows). This is all a
//! compiled artifact needs, so an app that runs artifacts depends on this crate alone; the
//! facade's `PreparedQuery` (a query compiled from source) runs through it too.
//!
//! ```
//! use pomo_runtime::artifact::Artifact;
//! use pomo_runtime::query::{Arg, Backend, Query};
//! use pomo_runtime::store::Store;
//! # use pomo_runtime::artifact::{FORMAT, InputSlot};
//! # // What `pomo compile` writes (here a program without rules, so that this example needs
//! # // no compiler): the bytes of a `.pomoc` file.
//! # let bytes = Artifact {
//! #     format: FORMAT,
//! #     stdlib: pomo_stdlib::STDLIB_VERSION.into(),
//! #     language: "pomo".into(),
//! #     inputs: vec![InputSlot::Source("$".into())],
//! #     plan: Default::default(),
//! #     flow: Default::default(),
//! #     kernel: Default::default(),
//! # }
//! # .to_file_bytes()?
//! # .1;
//! // Loading checks the CID, the format and the stdlib version.
//! let (artifact, cid) = Artifact::from_file_bytes(&bytes)?;
//! assert!(cid.starts_with("bafyrei"));
//! let query = Query::from_artifact(artifact);
//! let store = Store::in_memory(); // or Store::open_read_only(dir)
//! let answer = query.run_on(
//!     vec![Arg::Db(store.db())],
//!     &pomo_stdlib::Registry::new(),
//!     &Backend::Reference,
//! )?;
//! // A program without an output relation answers with every relation it derives.
//! assert_eq!(answer, pomo_types::Value::Map(vec![]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::artifact::{Artifact, InputSlot};
use crate::engine::{Env, Relation, Source};
use crate::reference;
use crate::results;
use crate::store::Db;
use pomo_stdlib::Registry;
use pomo_types::Value;
use pomo_types::flow::FlowPlan;
use pomo_types::kernel::KernelPlan;
use pomo_types::ra::{Plan, RelKind};
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
    #[cfg(feature = "dataflow")]
    Dataflow(crate::dataflow::Config),
    /// Kernels compiled to native code by Cranelift (or interpreted, to check the compiler).
    #[cfg(feature = "jit")]
    Jit(crate::jit::Mode),
}

/// A query that failed while running.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryError {
    pub message: String,
}

impl std::error::Error for QueryError {}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A query ready to run: its plans (one per backend) and what each `:in` position takes.
#[derive(Clone, Debug)]
pub struct Query {
    pub plan: Plan,
    pub flow: FlowPlan,
    pub kernel: KernelPlan,
    pub inputs: Vec<InputSlot>,
}

impl Query {
    /// The query of a loaded artifact.
    pub fn from_artifact(a: Artifact) -> Query {
        Query {
            plan: a.plan,
            flow: a.flow,
            kernel: a.kernel,
            inputs: a.inputs,
        }
    }

    /// How many arguments the query takes (its `:in` list).
    pub fn arity(&self) -> usize {
        self.inputs.len()
    }

    /// Whether the `:in` list has a rule set (`%`).
    pub fn takes_rules(&self) -> bool {
        self.inputs.contains(&InputSlot::Rules)
    }

    /// Binds arguments to the plan's sources and input relations.
    pub fn env(&self, args: Vec<Arg>, registry: &Registry) -> Result<Env, QueryError> {
        // Trailing sources may be left out: a query that never reads them runs without them
        // (DataScript's implicit `$` when no :in is given).
        let needed = self
            .inputs
            .iter()
            .rposition(|s| {
                !matches!(
                    s,
                    InputSlot::Source(_) | InputSlot::Rules | InputSlot::Ignore
                )
            })
            .map_or(0, |i| i + 1);
        if args.len() < needed || args.len() > self.inputs.len() {
            return Err(QueryError {
                message: format!(
                    "the query takes {} inputs (its :in), {} were given",
                    self.inputs.len(),
                    args.len()
                ),
            });
        }
        let mut env = Env {
            registry: registry.clone(),
            ..Env::default()
        };
        for (slot, arg) in self.inputs.iter().zip(args) {
            // (Slots past the given arguments stay unbound.)
            match (slot, arg) {
                (InputSlot::Source(name), Arg::Db(db)) => {
                    env.sources.insert(name.clone(), Source::Db(db));
                }
                (InputSlot::Source(name), Arg::Coll(rows)) => {
                    env.sources.insert(name.clone(), Source::Coll(rows));
                }
                (InputSlot::Source(name), Arg::Value(Value::Tuple(rows) | Value::Set(rows))) => {
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
                (InputSlot::Source(name), Arg::Value(v)) => {
                    return Err(QueryError {
                        message: format!("{name} needs a database, got a {}", v.type_name()),
                    });
                }
                (InputSlot::Relation { name: rel, .. }, Arg::Value(v)) => {
                    env.inputs.insert(rel.clone(), v);
                }
                (InputSlot::Relation { name: rel, .. }, _) => {
                    return Err(QueryError {
                        message: format!("input {rel} needs a value, got a database"),
                    });
                }
                (InputSlot::Rules | InputSlot::Ignore, _) => {}
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
    ) -> Result<BTreeMap<String, Relation>, QueryError> {
        let qe = |e: pomo_stdlib::EvalError| QueryError { message: e.message };
        match backend {
            Backend::Reference => reference::evaluate(&self.plan, env).map_err(qe),
            #[cfg(feature = "dataflow")]
            Backend::Dataflow(config) => {
                crate::dataflow::evaluate(&self.flow, env, config).map_err(qe)
            }
            #[cfg(feature = "jit")]
            Backend::Jit(mode) => {
                let mut jit = crate::jit::Jit::new(*mode);
                let out = jit.run(&self.kernel, env).map_err(qe)?;
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
        #[cfg(feature = "jit")]
        if let Backend::Jit(mode) = backend {
            return self.run_jit(&mut crate::jit::Jit::new(*mode), args, registry);
        }
        let env = self.env(args, registry)?;
        let rels = self.evaluate(&env, backend)?;
        self.shape(rels, &env)
    }

    /// Runs the query on a JIT backend the caller keeps, so that repeated runs reuse its
    /// compiled kernels and its tables of store views (the way to embed the JIT).
    #[cfg(feature = "jit")]
    pub fn run_jit(
        &self,
        jit: &mut crate::jit::Jit,
        args: Vec<Arg>,
        registry: &Registry,
    ) -> Result<Value, QueryError> {
        let qe = |e: pomo_stdlib::EvalError| QueryError { message: e.message };
        let env = self.env(args, registry)?;
        let out = jit.run(&self.kernel, &env).map_err(qe)?;
        // A plain `:find` relation comes straight from the output table, sorted.
        if let Some(o) = self.plan.output()
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

    /// What [`Query::shape`] reads of a JIT run: the output relation when the plan has
    /// one (decoding the others would be wasted), else every derived relation.
    #[cfg(feature = "jit")]
    pub fn jit_relations(
        &self,
        jit: &crate::jit::Jit,
        out: &crate::jit::Derived,
    ) -> BTreeMap<String, Relation> {
        match self.plan.output() {
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
    pub fn shape(&self, rels: BTreeMap<String, Relation>, env: &Env) -> Result<Value, QueryError> {
        let plan = &self.plan;
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
        rels: BTreeMap<String, Relation>,
        env: &Env,
    ) -> Result<std::collections::BTreeSet<Value>, QueryError> {
        let plan = &self.plan;
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
        rels: &mut BTreeMap<String, Relation>,
        env: &Env,
    ) -> Result<(&'a pomo_types::ra::OutputSpec, Relation), QueryError> {
        let RelKind::Output(spec) = &out.kind else {
            unreachable!("output() returns an output relation")
        };
        let mut rel = rels
            .remove(&out.name)
            .unwrap_or_else(|| Relation::new(out.attrs.clone()));
        if !spec.pulls.is_empty() {
            rel = self.pull_columns(spec, rel, env)?;
        }
        Ok((spec, rel))
    }

    /// Replaces the entity ids in pulled find columns by the maps their patterns pull.
    fn pull_columns(
        &self,
        spec: &pomo_types::ra::OutputSpec,
        rel: Relation,
        env: &Env,
    ) -> Result<Relation, QueryError> {
        let qe = |m: String| QueryError { message: m };
        let mut out = Relation::new(rel.attrs.clone());
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
                t[p.column] = crate::pull::pull(db, &pattern, e).map_err(|e| qe(e.message))?;
            }
            out.tuples.insert(t);
        }
        Ok(out)
    }

    /// The names of the find columns, for tables.
    pub fn columns(&self) -> Vec<String> {
        match self.plan.output() {
            Some(out) => {
                let RelKind::Output(spec) = &out.kind else {
                    return Vec::new();
                };
                if let Some(sql) = &spec.sql {
                    return sql.names.clone();
                }
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
pub fn relations_value(rels: &BTreeMap<String, Relation>) -> Value {
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
