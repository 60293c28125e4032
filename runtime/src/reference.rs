//! The reference evaluator: the simplest correct interpreter of PomoRA plans (ARCHITECTURE §7). It is
//! the oracle the dataflow and JIT backends are checked against, so it favours obviousness over
//! speed: relations are ordered sets of tuples, joins are hash joins on the shared attributes,
//! and loops run their bodies until the named delta relations are empty.
//!
//! Everything it shares with the other backends (the environment, view loading, formulas,
//! maps and aggregates) lives in [`crate::engine`] and is reached through an [`Context`], as the
//! other backends reach it; this module only walks a plan's statements and expressions.
//! `Env`, `Relation`, `Source` and `MAX_ITERATIONS` are re-exported here for the callers that
//! name them by their older path.

use crate::engine::Context;
pub use crate::engine::{Env, MAX_ITERATIONS, Relation, Source};
use pomo_stdlib::EvalError;
use pomo_types::Value;
use pomo_types::ra::*;
use std::collections::{BTreeMap, BTreeSet};

fn err(message: impl Into<String>) -> EvalError {
    EvalError {
        message: message.into(),
    }
}

/// Evaluates a plan; returns every relation it assigned (total versions) by name.
pub fn evaluate(plan: &Plan, env: &Env) -> Result<BTreeMap<String, Relation>, EvalError> {
    let mut ev = Evaluator {
        plan,
        engine: Context::new(env),
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

/// One evaluation of a plan: the relations assigned so far and the base relations loaded once.
struct Evaluator<'a> {
    plan: &'a Plan,
    engine: Context<'a>,
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
                    if self.engine.formula(formula, &r.attrs, t)? {
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
                    if self.engine.formula(formula, &j.attrs, t)? {
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
            RelKind::Base | RelKind::View { .. } | RelKind::Causes { .. } | RelKind::Input(_) => {
                if let Some(x) = self.base.get(&r.name) {
                    return Ok(x.clone());
                }
                let rel = self.engine.load_base(decl)?;
                self.base.insert(r.name.clone(), rel.clone());
                Ok(rel)
            }
        }
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
        self.engine.view_scan(decl, formula)
    }

    fn map(&self, bind: &MapBind, rhs: &MapRhs, r: Relation) -> Result<Relation, EvalError> {
        let mut attrs = r.attrs.clone();
        attrs.extend(bind.attrs());
        let mut out = Relation::new(attrs);
        for t in &r.tuples {
            for row in self.engine.map_tuple(bind, rhs, &r.attrs, t)? {
                out.tuples.insert(t.iter().cloned().chain(row).collect());
            }
        }
        Ok(out)
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
            row.extend(self.engine.aggregate_group(aggs, &r.attrs, &tuples)?);
            out.tuples.insert(row);
        }
        Ok(out)
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
