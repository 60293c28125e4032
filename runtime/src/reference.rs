//! The reference evaluator: the simplest correct interpreter of PomoRA plans (ARCHITECTURE §7). It is
//! the oracle the dataflow and JIT backends are checked against, so it favours obviousness over
//! speed: relations are ordered sets of tuples, joins are hash joins on the shared attributes,
//! and loops run their bodies until the named delta relations are empty.
//!
//! Base relations come from an [`Env`]: `datom` (and `fact`, the same facts) over the database
//! bound to `$`, `datom$name` over `$name`, a collection bound in place of a database (its tuples
//! fill `e a v m added` by position), and any other base relation `R(a1, …)` of a PomoLogic
//! program reads the store's entities that have the attributes `:R/a1 …` (`id` is the entity id
//! unless the store has an attribute `:R/id`).
//! Inputs are values bound to the plan's input relations by name.

use crate::store::{Datom, Db, TX0};
use pomo_stdlib::{EvalError, Registry};
use pomo_types::Value;
use pomo_types::ra::*;
use std::collections::{BTreeMap, BTreeSet};

/// A relation: named attributes and a set of tuples in that attribute order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relation {
    pub attrs: Vec<Attr>,
    pub tuples: BTreeSet<Vec<Value>>,
}

impl Relation {
    pub fn new(attrs: Vec<Attr>) -> Relation {
        Relation {
            attrs,
            tuples: BTreeSet::new(),
        }
    }

    fn col(&self, a: &str) -> Result<usize, EvalError> {
        self.attrs.iter().position(|x| x == a).ok_or_else(|| {
            err(format!(
                "attribute {a} is not in ({})",
                self.attrs.join(", ")
            ))
        })
    }

    /// The tuples with their columns reordered to `attrs`.
    pub fn reorder(&self, attrs: &[Attr]) -> Result<Relation, EvalError> {
        let idx: Vec<usize> = attrs
            .iter()
            .map(|a| self.col(a))
            .collect::<Result<_, _>>()?;
        Ok(Relation {
            attrs: attrs.to_vec(),
            tuples: self
                .tuples
                .iter()
                .map(|t| idx.iter().map(|&i| t[i].clone()).collect())
                .collect(),
        })
    }
}

fn err(message: impl Into<String>) -> EvalError {
    EvalError {
        message: message.into(),
    }
}

/// What a source name (`$`, `$name`) is bound to.
#[derive(Clone)]
pub enum Source {
    Db(Db),
    /// A collection of tuples used as a database (`[[1 :color "red"] …]`).
    Coll(Vec<Vec<Value>>),
}

/// Everything a plan reads besides itself.
#[derive(Clone, Default)]
pub struct Env {
    /// Sources by name (`$`, `$2`, `$hr`).
    pub sources: BTreeMap<String, Source>,
    /// Input relations by name, each bound to the value given for it.
    pub inputs: BTreeMap<String, Value>,
    /// Host functions and aggregates.
    pub registry: Registry,
}

/// How many loop iterations a recursive stratum may take before evaluation gives up; a program
/// whose functions keep inventing new values (`?y := add(?x, 1)` in a cycle) never converges.
pub const MAX_ITERATIONS: usize = 1_000_000;

/// Evaluates a plan; returns every relation it assigned (total versions) by name.
pub fn evaluate(plan: &Plan, env: &Env) -> Result<BTreeMap<String, Relation>, EvalError> {
    let mut ev = Evaluator {
        plan,
        env,
        rels: BTreeMap::new(),
        base: BTreeMap::new(),
    };
    for st in &plan.strata {
        ev.stmts(&st.stmts)?;
    }
    Ok(ev
        .rels
        .into_iter()
        .filter(|((_, v), _)| *v == Version::Total || *v == Version::Next)
        .map(|((n, v), r)| {
            (
                if v == Version::Next {
                    format!("{n}@next")
                } else {
                    n
                },
                r,
            )
        })
        .collect())
}

/// An evaluator with no plan, for the scalar parts (formulas, maps, aggregates, base
/// relations) other backends share with this one.
#[cfg_attr(not(any(feature = "dataflow", feature = "jit")), allow(dead_code))]
pub(crate) fn scalar(env: &Env) -> Evaluator<'_> {
    static NO_PLAN: Plan = Plan {
        relations: Vec::new(),
        strata: Vec::new(),
        exprs: Vec::new(),
    };
    Evaluator {
        plan: &NO_PLAN,
        env,
        rels: BTreeMap::new(),
        base: BTreeMap::new(),
    }
}

pub(crate) struct Evaluator<'a> {
    plan: &'a Plan,
    env: &'a Env,
    rels: BTreeMap<(String, Version), Relation>,
    /// Base and input relations, computed once.
    base: BTreeMap<String, Relation>,
}

impl Evaluator<'_> {
    fn stmts(&mut self, stmts: &[Stmt]) -> Result<(), EvalError> {
        for s in stmts {
            match s {
                Stmt::Assign { target, expr } => {
                    let r = self.expr(*expr)?;
                    let attrs = self
                        .plan
                        .relation(&target.name)
                        .map(|d| d.attrs.clone())
                        .unwrap_or_default();
                    let r = r.reorder(&attrs)?;
                    self.rels.insert((target.name.clone(), target.version), r);
                }
                Stmt::Loop { body, until } => {
                    let mut n = 0;
                    loop {
                        self.stmts(body)?;
                        n += 1;
                        let done = until.iter().all(|r| {
                            self.rels
                                .get(&(r.name.clone(), r.version))
                                .is_none_or(|x| x.tuples.is_empty())
                        });
                        if done {
                            break;
                        }
                        if n >= MAX_ITERATIONS {
                            return Err(err(format!(
                                "recursion did not converge after {n} iterations"
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn expr(&mut self, id: ExprId) -> Result<Relation, EvalError> {
        let e = self.plan.expr(id);
        Ok(match e {
            Expr::Rel(r) => self.rel(r)?,
            Expr::Project { attrs, input } => self.expr(*input)?.reorder(attrs)?,
            Expr::Rename { pairs, input } => {
                let mut r = self.expr(*input)?;
                for a in &mut r.attrs {
                    if let Some((_, t)) = pairs.iter().find(|(f, _)| f == a) {
                        a.clone_from(t);
                    }
                }
                r
            }
            Expr::Select { formula, input } => {
                // A scan of a store view filtered on constants reads only the matching datoms.
                if let Some(r) = self.indexed_scan(formula, *input)? {
                    return Ok(r);
                }
                let r = self.expr(*input)?;
                let mut out = Relation::new(r.attrs.clone());
                for t in &r.tuples {
                    if self.formula(formula, &r.attrs, t)? {
                        out.tuples.insert(t.clone());
                    }
                }
                out
            }
            Expr::Union(xs) => {
                let mut out: Option<Relation> = None;
                for x in xs {
                    let r = self.expr(*x)?;
                    out = Some(match out {
                        None => r,
                        Some(mut acc) => {
                            acc.tuples.extend(r.reorder(&acc.attrs)?.tuples);
                            acc
                        }
                    });
                }
                out.unwrap_or_default()
            }
            Expr::Diff(a, b) => {
                let a = self.expr(*a)?;
                let b = self.expr(*b)?.reorder(&a.attrs)?;
                Relation {
                    attrs: a.attrs,
                    tuples: a.tuples.difference(&b.tuples).cloned().collect(),
                }
            }
            Expr::Product(a, b) | Expr::Join(a, b) => {
                let (a, b) = (self.expr(*a)?, self.expr(*b)?);
                join(&a, &b)?
            }
            Expr::ThetaJoin {
                formula,
                left,
                right,
            } => {
                let j = join(&self.expr(*left)?, &self.expr(*right)?)?;
                let mut out = Relation::new(j.attrs.clone());
                for t in &j.tuples {
                    if self.formula(formula, &j.attrs, t)? {
                        out.tuples.insert(t.clone());
                    }
                }
                out
            }
            Expr::EquiJoin { pairs, left, right } => {
                let (a, b) = (self.expr(*left)?, self.expr(*right)?);
                let ai: Vec<usize> = pairs
                    .iter()
                    .map(|(l, _)| a.col(l))
                    .collect::<Result<_, _>>()?;
                let bi: Vec<usize> = pairs
                    .iter()
                    .map(|(_, r)| b.col(r))
                    .collect::<Result<_, _>>()?;
                let mut index: BTreeMap<Vec<Value>, Vec<&Vec<Value>>> = BTreeMap::new();
                for t in &b.tuples {
                    index
                        .entry(bi.iter().map(|&i| t[i].clone()).collect())
                        .or_default()
                        .push(t);
                }
                let mut out = Relation::new(a.attrs.iter().chain(&b.attrs).cloned().collect());
                for t in &a.tuples {
                    let key: Vec<Value> = ai.iter().map(|&i| t[i].clone()).collect();
                    for u in index.get(&key).into_iter().flatten() {
                        out.tuples
                            .insert(t.iter().chain(u.iter()).cloned().collect());
                    }
                }
                out
            }
            Expr::SemiJoin(a, b) | Expr::AntiJoin(a, b) => {
                let keep = matches!(e, Expr::SemiJoin(..));
                let (a, b) = (self.expr(*a)?, self.expr(*b)?);
                let (ai, bi) = shared_columns(&a, &b);
                let keys: BTreeSet<Vec<Value>> = b
                    .tuples
                    .iter()
                    .map(|t| bi.iter().map(|&i| t[i].clone()).collect())
                    .collect();
                let mut out = Relation::new(a.attrs.clone());
                for t in &a.tuples {
                    let key: Vec<Value> = ai.iter().map(|&i| t[i].clone()).collect();
                    if keys.contains(&key) == keep {
                        out.tuples.insert(t.clone());
                    }
                }
                out
            }
            Expr::GroupBy { keys, aggs, input } => self.group_by(keys, aggs, *input)?,
            Expr::Map { bind, rhs, input } => {
                let r = self.expr(*input)?;
                self.map(bind, rhs, r)?
            }
            Expr::Values { attrs, rows } => Relation {
                attrs: attrs.clone(),
                tuples: rows.iter().cloned().collect(),
            },
        })
    }

    fn rel(&mut self, r: &RelRef) -> Result<Relation, EvalError> {
        if let Some(x) = self.rels.get(&(r.name.clone(), r.version)) {
            return Ok(x.clone());
        }
        let decl = self
            .plan
            .relation(&r.name)
            .ok_or_else(|| err(format!("unknown relation {}", r.name)))?;
        match &decl.kind {
            RelKind::Derived | RelKind::Output(_) => Ok(Relation::new(decl.attrs.clone())),
            RelKind::Base | RelKind::Input(_) => {
                if let Some(x) = self.base.get(&r.name) {
                    return Ok(x.clone());
                }
                let rel = self.load_base(decl)?;
                self.base.insert(r.name.clone(), rel.clone());
                Ok(rel)
            }
        }
    }

    fn source(&self, name: &str) -> Result<&Source, EvalError> {
        self.env
            .sources
            .get(name)
            .ok_or_else(|| err(format!("no database or collection is bound to {name}")))
    }

    fn db(&self, name: &str) -> Result<&Db, EvalError> {
        match self.source(name)? {
            Source::Db(db) => Ok(db),
            Source::Coll(_) => Err(err(format!("{name} is a collection, not a database"))),
        }
    }

    /// The source a store-view relation reads, if the relation is one.
    pub(crate) fn view_source(name: &str) -> Option<String> {
        if name == "datom" || name == "fact" {
            Some("$".to_string())
        } else {
            name.strip_prefix("datom")
                .filter(|s| s.starts_with('$'))
                .map(String::from)
        }
    }

    pub(crate) fn load_base(&self, decl: &RelDecl) -> Result<Relation, EvalError> {
        if let RelKind::Input(kind) = decl.kind {
            let v = self
                .env
                .inputs
                .get(&decl.name)
                .ok_or_else(|| err(format!("no value is bound to input {}", decl.name)))?;
            let mut r = input_relation(decl, kind, v)?;
            // An input that is a lookup ref on a unique attribute of `$` stands for its entity
            // wherever it meets an entity position; resolve it once here.
            if let Ok(db) = self.db("$") {
                let resolve = |x: &Value| match x {
                    Value::Tuple(p) if p.len() == 2 => match &p[0] {
                        Value::Keyword(a) if db.unique(a).is_some() => db
                            .resolve_lookup_ref(a, &p[1])
                            .map(Value::Int)
                            .unwrap_or_else(|| x.clone()),
                        _ => x.clone(),
                    },
                    _ => x.clone(),
                };
                r.tuples = r
                    .tuples
                    .iter()
                    .map(|t| t.iter().map(resolve).collect())
                    .collect();
            }
            return Ok(r);
        }
        if let Some(src) = Self::view_source(&decl.name) {
            return match self.source(&src)? {
                // Schema and transaction-metadata datoms are not data a query ranges over when
                // its attribute position is open (DataScript has neither).
                Source::Db(db) => Ok(datom_relation(
                    db,
                    &decl.attrs,
                    db.datoms()
                        .into_iter()
                        .filter(|d| !crate::store::is_system_attr(&d.a))
                        .collect(),
                )),
                Source::Coll(rows) => {
                    let mut r = Relation::new(decl.attrs.clone());
                    for row in rows {
                        // Positions e a v m added, as in a data pattern.
                        // Positions a tuple does not have read as nil; a pattern longer
                        // than the tuples then binds nothing useful (DataScript rejects it).
                        let at = |i: usize| row.get(i).cloned().unwrap_or(Value::Nil);
                        let t: Vec<Value> = decl
                            .attrs
                            .iter()
                            .map(|a| match a.as_str() {
                                "e" => at(0),
                                "a" => at(1),
                                "v" => at(2),
                                "m" => at(3),
                                "added" => row.get(4).cloned().unwrap_or(Value::Bool(true)),
                                "t" => match at(3) {
                                    Value::Int(x) => Value::Int(x - TX0),
                                    o => o,
                                },
                                _ => Value::Nil,
                            })
                            .collect();
                        r.tuples.insert(t);
                    }
                    Ok(r)
                }
            };
        }
        // A PomoLogic base relation over the store: entities with the attributes `:R/a`.
        let db = self.db("$")?;
        let mut r = Relation::new(decl.attrs.clone());
        // `id` is the entity id, unless the store has an attribute `:R/id` of its own.
        let id_attr = format!("{}/id", decl.name);
        let id_is_entity = db.datoms_eavt(None, Some(&id_attr), None).is_empty();
        let cols: Vec<&Attr> = decl
            .attrs
            .iter()
            .filter(|a| *a != "id" || !id_is_entity)
            .collect();
        let Some(first) = cols.first() else {
            return Ok(r);
        };
        let first_attr = format!("{}/{}", decl.name, first);
        let entities: BTreeSet<i64> = db
            .datoms_eavt(None, Some(&first_attr), None)
            .iter()
            .map(|d| d.e)
            .collect();
        for e in entities {
            let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
            for a in &decl.attrs {
                let vals: Vec<Value> = if a == "id" && id_is_entity {
                    vec![Value::Int(e)]
                } else {
                    db.datoms_eavt(Some(e), Some(&format!("{}/{}", decl.name, a)), None)
                        .into_iter()
                        .map(|d| d.v)
                        .collect()
                };
                let mut next = Vec::new();
                for row in &rows {
                    for v in &vals {
                        let mut x = row.clone();
                        x.push(v.clone());
                        next.push(x);
                    }
                }
                rows = next;
            }
            r.tuples.extend(rows);
        }
        Ok(r)
    }

    /// `select[… a = :x …](datom)` and friends: an index lookup instead of a scan.
    fn indexed_scan(
        &mut self,
        formula: &Formula,
        input: ExprId,
    ) -> Result<Option<Relation>, EvalError> {
        let Expr::Rel(r) = self.plan.expr(input) else {
            return Ok(None);
        };
        let Some(decl) = self.plan.relation(&r.name) else {
            return Ok(None);
        };
        self.view_scan(decl, formula)
    }

    /// `select[formula](view)` read through the store's index that the formula's constant
    /// `e`, `a` and `v` pick (the rest of the formula tested on what it reads); `None` when the
    /// relation is not a store view over a database or the formula names no such constant.
    pub(crate) fn view_scan(
        &self,
        decl: &RelDecl,
        formula: &Formula,
    ) -> Result<Option<Relation>, EvalError> {
        let Some(src) = Self::view_source(&decl.name) else {
            return Ok(None);
        };
        let Some(conj) = formula.as_conjunction() else {
            return Ok(None);
        };
        let Ok(Source::Db(db)) = self.source(&src).cloned() else {
            return Ok(None);
        };
        let mut e = None;
        let mut a = None;
        let mut v = None;
        // The first constant of each position picks the index; every other literal (a second
        // constant of a position included) is tested on what the index gives.
        let mut used = vec![false; conj.len()];
        for (i, l) in conj.iter().enumerate() {
            let Some((x, c)) = l.as_eq_const() else {
                continue;
            };
            used[i] = match (x.as_str(), c) {
                ("e", Value::Int(n)) if e.is_none() => {
                    e = Some(*n);
                    true
                }
                ("e", lr @ Value::Tuple(_)) if e.is_none() => {
                    e = Some(resolve_lookup_ref(&db, lr)?);
                    true
                }
                ("a", Value::Keyword(k)) if a.is_none() => {
                    a = Some(k.clone());
                    true
                }
                ("v", c) if v.is_none() => {
                    v = Some(c.clone());
                    true
                }
                _ => false,
            };
        }
        if e.is_none() && a.is_none() && v.is_none() {
            return Ok(None);
        }
        // A lookup ref in the value position of a ref attribute names an entity too.
        if let (Some(attr), Some(lr @ Value::Tuple(_))) = (&a, &v)
            && db
                .schema()
                .attrs
                .get(attr.as_str())
                .is_some_and(|s| s.is_ref)
        {
            v = Some(Value::Int(resolve_lookup_ref(&db, lr)?));
        }
        let datoms = db.datoms_eavt(e, a.as_deref(), v.as_ref());
        let scanned = datom_relation(&db, &decl.attrs, datoms);
        // The constants were resolved for the lookup; test the rest of the formula.
        let rest: Vec<FLit> = conj
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(l, _)| l.clone())
            .collect();
        let formula = Formula::conj(rest);
        let mut out = Relation::new(scanned.attrs.clone());
        for t in &scanned.tuples {
            if self.formula(&formula, &scanned.attrs, t)? {
                out.tuples.insert(t.clone());
            }
        }
        Ok(Some(out))
    }

    fn operand(&self, o: &Operand, attrs: &[Attr], t: &[Value]) -> Result<Value, EvalError> {
        match o {
            Operand::Const(c) => Ok(c.clone()),
            Operand::Attr(a) => {
                let i = attrs
                    .iter()
                    .position(|x| x == a)
                    .ok_or_else(|| err(format!("attribute {a} is missing")))?;
                Ok(t[i].clone())
            }
        }
    }

    pub(crate) fn formula(
        &self,
        f: &Formula,
        attrs: &[Attr],
        t: &[Value],
    ) -> Result<bool, EvalError> {
        for d in &f.disjuncts {
            let mut all = true;
            for l in d {
                let holds = match &l.test {
                    Test::Cmp { op, lhs, rhs } => {
                        let name = op.builtin();
                        let args = [self.operand(lhs, attrs, t)?, self.operand(rhs, attrs, t)?];
                        self.call(&Callee::Builtin(name.into()), &args, attrs, t)?
                            .is_some_and(|v| pomo_stdlib::truthy(&v))
                    }
                    Test::Call { func, args } => {
                        let vals: Vec<Value> = args
                            .iter()
                            .map(|o| self.operand(o, attrs, t))
                            .collect::<Result<_, _>>()?;
                        self.call(func, &vals, attrs, t)?
                            .is_some_and(|v| pomo_stdlib::truthy(&v))
                    }
                };
                if holds == l.negated {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Calls a function: the database built-ins here, host functions through the registry,
    /// the rest through the stdlib.
    fn call(
        &self,
        func: &Callee,
        args: &[Value],
        attrs: &[Attr],
        t: &[Value],
    ) -> Result<Option<Value>, EvalError> {
        match func {
            Callee::Attr(a) => match self.operand(&Operand::Attr(a.clone()), attrs, t)? {
                Value::Fn(name) => {
                    let f = self
                        .env
                        .registry
                        .function(&name)
                        .ok_or_else(|| err(format!("no host function {name}")))?;
                    f(args)
                }
                other => Err(err(format!(
                    "{a} is a {}, not a function",
                    other.type_name()
                ))),
            },
            Callee::Builtin(name) => match name.as_str() {
                "get_else" | "get_some" | "missing" => self.db_call(name, args),
                _ => pomo_stdlib::call(name, args),
            },
        }
    }

    fn db_call(&self, name: &str, args: &[Value]) -> Result<Option<Value>, EvalError> {
        let src = match args.first() {
            Some(Value::Symbol(s)) => s.clone(),
            _ => {
                return Err(err(format!(
                    "{name} needs a database as its first argument"
                )));
            }
        };
        let db = self.db(&src)?;
        let entity = |v: &Value| match v {
            Value::Int(e) => Ok(Some(*e)),
            Value::Tuple(lr) if lr.len() == 2 => match &lr[0] {
                Value::Keyword(a) => Ok(db.resolve_lookup_ref(a, &lr[1])),
                _ => Err(err("a lookup ref is [attribute value]")),
            },
            other => Err(err(format!(
                "{name}: expected an entity id, got {}",
                other.type_name()
            ))),
        };
        let attr = |v: &Value| match v {
            Value::Keyword(a) => Ok(a.clone()),
            other => Err(err(format!(
                "{name}: expected an attribute keyword, got {}",
                other.type_name()
            ))),
        };
        let first = |e: Option<i64>, a: &str| -> Option<Value> {
            e.and_then(|e| {
                db.datoms_eavt(Some(e), Some(a), None)
                    .into_iter()
                    .next()
                    .map(|d| d.v)
            })
        };
        match name {
            "missing" => {
                let e = entity(&args[1])?;
                Ok(Some(Value::Bool(first(e, &attr(&args[2])?).is_none())))
            }
            "get_else" => {
                if args[3] == Value::Nil {
                    return Err(err("get-else: nil default value is not supported"));
                }
                let e = entity(&args[1])?;
                Ok(Some(
                    first(e, &attr(&args[2])?).unwrap_or_else(|| args[3].clone()),
                ))
            }
            _ => {
                let e = entity(&args[1])?;
                for a in &args[2..] {
                    let a = attr(a)?;
                    if let Some(v) = first(e, &a) {
                        return Ok(Some(Value::Tuple(vec![Value::Keyword(a), v])));
                    }
                }
                Ok(None)
            }
        }
    }

    fn map(&self, bind: &MapBind, rhs: &MapRhs, r: Relation) -> Result<Relation, EvalError> {
        let mut attrs = r.attrs.clone();
        attrs.extend(bind.attrs());
        let mut out = Relation::new(attrs);
        for t in &r.tuples {
            for row in self.map_tuple(bind, rhs, &r.attrs, t)? {
                out.tuples.insert(t.iter().cloned().chain(row).collect());
            }
        }
        Ok(out)
    }

    /// The values a map appends to one tuple: one row per binding (none when the function
    /// gives nothing or nil).
    pub(crate) fn map_tuple(
        &self,
        bind: &MapBind,
        rhs: &MapRhs,
        attrs: &[Attr],
        t: &[Value],
    ) -> Result<Vec<Vec<Value>>, EvalError> {
        let v = match rhs {
            // A constant or an attribute is bound as it is, nil included (a `nil` in a rule's
            // head, SQL's NULL).
            MapRhs::Operand(o) => {
                if let MapBind::Scalar(_) = bind {
                    return Ok(vec![vec![self.operand(o, attrs, t)?]]);
                }
                Some(self.operand(o, attrs, t)?)
            }
            MapRhs::Call { func, args } => {
                let vals: Vec<Value> = args
                    .iter()
                    .map(|o| self.operand(o, attrs, t))
                    .collect::<Result<_, _>>()?;
                let v = self.call(func, &vals, attrs, t)?;
                // SQL functions' NULL is a value (SQL's NULL), bound like any other.
                if let Callee::Builtin(name) = func
                    && pomo_stdlib::binds_nil(name)
                {
                    return Ok(match bind {
                        MapBind::Scalar(_) => vec![vec![v.unwrap_or(Value::Nil)]],
                        _ => {
                            return Err(err(format!("`{name}` binds one value")));
                        }
                    });
                }
                v
            }
        };
        // A nil result binds nothing: the tuple is dropped.
        let Some(v) = v else { return Ok(Vec::new()) };
        if v == Value::Nil {
            return Ok(Vec::new());
        }
        let pick = |parts: &[Value], slots: &[Option<Attr>]| -> Option<Vec<Value>> {
            if parts.len() < slots.len() {
                return None;
            }
            Some(
                slots
                    .iter()
                    .zip(parts)
                    .filter(|(s, _)| s.is_some())
                    .map(|(_, v)| v.clone())
                    .collect(),
            )
        };
        Ok(match bind {
            MapBind::Scalar(_) => vec![vec![v]],
            MapBind::Tuple(slots) => match elements(&v) {
                Some(parts) => pick(&parts, slots).into_iter().collect(),
                None => return Err(err(format!("cannot bind a {} to a tuple", v.type_name()))),
            },
            MapBind::Coll(_) => match elements(&v) {
                Some(parts) => parts.into_iter().map(|x| vec![x]).collect(),
                None => {
                    return Err(err(format!(
                        "cannot bind a {} to a collection",
                        v.type_name()
                    )));
                }
            },
            MapBind::Rel(slots) => match elements(&v) {
                Some(parts) => parts
                    .iter()
                    .filter_map(|p| elements(p).and_then(|xs| pick(&xs, slots)))
                    .collect(),
                None => {
                    return Err(err(format!(
                        "cannot bind a {} to a relation",
                        v.type_name()
                    )));
                }
            },
        })
    }

    fn group_by(
        &mut self,
        keys: &[Attr],
        aggs: &[AggCall],
        input: ExprId,
    ) -> Result<Relation, EvalError> {
        let r = self.expr(input)?;
        let ki: Vec<usize> = keys.iter().map(|k| r.col(k)).collect::<Result<_, _>>()?;
        let mut groups: BTreeMap<Vec<Value>, Vec<&Vec<Value>>> = BTreeMap::new();
        for t in &r.tuples {
            groups
                .entry(ki.iter().map(|&i| t[i].clone()).collect())
                .or_default()
                .push(t);
        }
        let mut attrs = keys.to_vec();
        attrs.extend(aggs.iter().map(|a| a.out.clone()));
        let mut out = Relation::new(attrs);
        for (key, tuples) in groups {
            let mut row = key;
            let tuples: Vec<&[Value]> = tuples.iter().map(|t| t.as_slice()).collect();
            row.extend(self.aggregate_group(aggs, &r.attrs, &tuples)?);
            out.tuples.insert(row);
        }
        Ok(out)
    }

    /// The aggregates of one group of (distinct) tuples, in order.
    pub(crate) fn aggregate_group(
        &self,
        aggs: &[AggCall],
        attrs: &[Attr],
        tuples: &[&[Value]],
    ) -> Result<Vec<Value>, EvalError> {
        let col = |a: &str| {
            attrs
                .iter()
                .position(|x| x == a)
                .ok_or_else(|| err(format!("attribute {a} is not in ({})", attrs.join(", "))))
        };
        let mut row = Vec::new();
        for a in aggs {
            // The last operand is the aggregated attribute; constants before it are
            // parameters (the n of `max n ?x`). `count()` counts tuples.
            let (params, values): (Vec<Value>, Vec<Value>) = match a.args.split_last() {
                Some((Operand::Attr(x), params)) => {
                    let i = col(x)?;
                    let ps = params
                        .iter()
                        .map(|p| self.operand(p, attrs, tuples[0]))
                        .collect::<Result<_, _>>()?;
                    (ps, tuples.iter().map(|t| t[i].clone()).collect())
                }
                _ => (
                    Vec::new(),
                    tuples.iter().map(|_| Value::Bool(true)).collect(),
                ),
            };
            let v = match &a.func {
                Callee::Builtin(name) => pomo_stdlib::aggregate(name, &params, values)?,
                Callee::Attr(f) => {
                    match self.operand(&Operand::Attr(f.clone()), attrs, tuples[0])? {
                        Value::Fn(name) => {
                            let agg = self
                                .env
                                .registry
                                .aggregate(&name)
                                .ok_or_else(|| err(format!("no host aggregate {name}")))?;
                            agg(values)?
                        }
                        other => {
                            return Err(err(format!(
                                "{f} is a {}, not an aggregate",
                                other.type_name()
                            )));
                        }
                    }
                }
            };
            row.push(v);
        }
        Ok(row)
    }
}

/// Resolves a lookup ref `[:unique-attr value]` to its entity, as DataScript does for entity
/// positions: the attribute must be unique and the entity must exist.
pub(crate) fn resolve_lookup_ref(db: &Db, lr: &Value) -> Result<i64, EvalError> {
    let Value::Tuple(xs) = lr else {
        return Err(err(format!("{lr} is not an entity id")));
    };
    let [Value::Keyword(a), v] = xs.as_slice() else {
        return Err(err(format!("{lr} is not an entity id or a lookup ref")));
    };
    if db.unique(a).is_none() {
        return Err(err(format!(
            "Lookup ref attribute should be marked as :db/unique: {}",
            pomo_types::value::to_edn(lr)
        )));
    }
    db.resolve_lookup_ref(a, v).ok_or_else(|| {
        err(format!(
            "Nothing found for entity id {}",
            pomo_types::value::to_edn(lr)
        ))
    })
}

/// The elements of a collection value.
fn elements(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Tuple(xs) | Value::Set(xs) => Some(xs.clone()),
        _ => None,
    }
}

/// The positions of the attributes two relations share, in `a`'s order, in each of them.
fn shared_columns(a: &Relation, b: &Relation) -> (Vec<usize>, Vec<usize>) {
    a.attrs
        .iter()
        .enumerate()
        .filter_map(|(i, x)| b.attrs.iter().position(|y| y == x).map(|j| (i, j)))
        .unzip()
}

/// A natural join (a product when nothing is shared).
fn join(a: &Relation, b: &Relation) -> Result<Relation, EvalError> {
    let (ai, bi) = shared_columns(a, b);
    let rest: Vec<usize> = (0..b.attrs.len()).filter(|i| !bi.contains(i)).collect();
    let mut index: BTreeMap<Vec<Value>, Vec<&Vec<Value>>> = BTreeMap::new();
    for t in &b.tuples {
        index
            .entry(bi.iter().map(|&i| t[i].clone()).collect())
            .or_default()
            .push(t);
    }
    let mut attrs = a.attrs.clone();
    attrs.extend(rest.iter().map(|&i| b.attrs[i].clone()));
    let mut out = Relation::new(attrs);
    for t in &a.tuples {
        let key: Vec<Value> = ai.iter().map(|&i| t[i].clone()).collect();
        for u in index.get(&key).into_iter().flatten() {
            out.tuples.insert(
                t.iter()
                    .cloned()
                    .chain(rest.iter().map(|&i| u[i].clone()))
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// The tuples of a store view with the attributes a plan declares for it.
pub(crate) fn datom_relation(db: &Db, attrs: &[Attr], datoms: Vec<Datom>) -> Relation {
    let mut r = Relation::new(attrs.to_vec());
    for d in datoms {
        let t: Vec<Value> = attrs
            .iter()
            .map(|a| match a.as_str() {
                "e" => Value::Int(d.e),
                "a" => Value::Keyword(d.a.clone()),
                "v" => d.v.clone(),
                "t" => Value::Int(d.tx - TX0),
                "m" => Value::Int(d.tx),
                "added" => Value::Bool(d.added),
                "$cid" => db.fact_cid(&d).map(Value::Cid).unwrap_or(Value::Nil),
                _ => Value::Nil,
            })
            .collect();
        r.tuples.insert(t);
    }
    r
}

/// The tuples of an input relation from the value bound to it.
fn input_relation(decl: &RelDecl, kind: BindKind, v: &Value) -> Result<Relation, EvalError> {
    let n = decl.attrs.len();
    let mut r = Relation::new(decl.attrs.clone());
    let row = |x: &Value| -> Result<Vec<Value>, EvalError> {
        match elements(x) {
            Some(parts) if parts.len() >= n => Ok(parts[..n].to_vec()),
            Some(parts) => Err(err(format!(
                "input {} binds {n} values but got a tuple of {}",
                decl.name,
                parts.len()
            ))),
            None => Err(err(format!(
                "input {} binds a tuple but got a {}",
                decl.name,
                x.type_name()
            ))),
        }
    };
    match kind {
        BindKind::Scalar => {
            r.tuples.insert(vec![v.clone()]);
        }
        BindKind::Tuple => {
            r.tuples.insert(row(v)?);
        }
        BindKind::Collection => {
            let xs = elements(v).ok_or_else(|| {
                err(format!(
                    "input {} binds a collection but got a {}",
                    decl.name,
                    v.type_name()
                ))
            })?;
            r.tuples.extend(xs.into_iter().map(|x| vec![x]));
        }
        BindKind::Relation => {
            let xs = elements(v).ok_or_else(|| {
                err(format!(
                    "input {} binds a relation but got a {}",
                    decl.name,
                    v.type_name()
                ))
            })?;
            for x in &xs {
                r.tuples.insert(row(x)?);
            }
        }
    }
    Ok(r)
}
