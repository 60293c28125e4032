//! Validation of PomoRA plans (ARCHITECTURE, convention 5): run after lowering and after every pass in tests
//! and debug builds, so that a broken plan is reported at the pass that broke it.
//!
//! Checked: every relation read or written is declared; every operator's attribute
//! requirements hold (projections and keys are subsets, renames are injective, unions and
//! differences have equal attribute sets, products and theta joins have disjoint inputs, formulas
//! read only present attributes); each assignment produces exactly its relation's attributes;
//! the expression graph is a tree (no node has two parents); loops name relations they assign.

use pomo_types::ra::*;
use std::collections::{BTreeMap, BTreeSet};

/// Returns every problem found, as sentences.
pub fn validate(plan: &Plan) -> Vec<String> {
    let mut errs = Vec::new();
    let mut parents: BTreeMap<ExprId, usize> = BTreeMap::new();
    for id in super::post_order(plan) {
        for c in plan.expr(id).children() {
            *parents.entry(c).or_default() += 1;
        }
        check_expr(plan, id, &mut errs);
    }
    for r in plan.roots() {
        *parents.entry(r).or_default() += 1;
    }
    for (id, n) in parents {
        if n > 1 {
            errs.push(format!(
                "expression #{} has {n} parents; plans must be trees",
                id.0
            ));
        }
    }
    fn stmts(plan: &Plan, ss: &[Stmt], errs: &mut Vec<String>) {
        for s in ss {
            match s {
                Stmt::Assign { target, expr } => match plan.relation(&target.name) {
                    None => errs.push(format!(
                        "assignment to undeclared relation `{}`",
                        target.name
                    )),
                    Some(d) => {
                        if d.kind.is_loaded() {
                            errs.push(format!("assignment to base or input relation `{}`", d.name));
                        }
                        let got: BTreeSet<String> = plan.schema(*expr).into_iter().collect();
                        let want: BTreeSet<String> = d.attrs.iter().cloned().collect();
                        if got != want {
                            errs.push(format!(
                                "`{}{}` gets attributes ({}) but is declared with ({})",
                                target.name,
                                target.version.suffix(),
                                got.into_iter().collect::<Vec<_>>().join(", "),
                                d.attrs.join(", ")
                            ));
                        }
                    }
                },
                Stmt::Loop { body, until } => {
                    stmts(plan, body, errs);
                    for u in until {
                        if plan.relation(&u.name).is_none() {
                            errs.push(format!("loop waits on undeclared relation `{}`", u.name));
                        }
                    }
                }
            }
        }
    }
    for st in &plan.strata {
        stmts(plan, &st.stmts, &mut errs);
    }
    errs
}

fn set(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

fn check_expr(plan: &Plan, id: ExprId, errs: &mut Vec<String>) {
    let e = plan.expr(id);
    let name = e.op_name();
    let mut need = |attrs: &BTreeSet<String>, of: ExprId, what: &str| {
        let have = set(plan.schema(of));
        let missing: Vec<&String> = attrs.iter().filter(|a| !have.contains(*a)).collect();
        if !missing.is_empty() {
            errs.push(format!(
                "{name} reads {} missing from its input ({what}): {}",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                plan.expr_line(id)
            ));
        }
    };
    match e {
        Expr::Rel(r) => {
            if plan.relation(&r.name).is_none() {
                errs.push(format!("read of undeclared relation `{}`", r.name));
            }
        }
        Expr::Project { attrs, input } => {
            need(&attrs.iter().cloned().collect(), *input, "projection")
        }
        Expr::Rename { pairs, input } => {
            need(
                &pairs.iter().map(|(a, _)| a.clone()).collect(),
                *input,
                "rename",
            );
            let out = plan.schema(id);
            if set(out.clone()).len() != out.len() {
                errs.push(format!(
                    "rename produces duplicate attributes: {}",
                    plan.expr_line(id)
                ));
            }
        }
        Expr::Select { formula, input } => need(&formula.attrs(), *input, "selection"),
        Expr::Union(xs) => {
            if let Some(first) = xs.first() {
                let s0 = set(plan.schema(*first));
                for x in &xs[1..] {
                    if set(plan.schema(*x)) != s0 {
                        errs.push(format!(
                            "union of inputs with different attributes: {}",
                            plan.expr_line(id)
                        ));
                    }
                }
            } else {
                errs.push("union without inputs".into());
            }
        }
        Expr::Diff(a, b) => {
            if set(plan.schema(*a)) != set(plan.schema(*b)) {
                errs.push(format!(
                    "difference of inputs with different attributes: {}",
                    plan.expr_line(id)
                ));
            }
        }
        Expr::Product(a, b)
        | Expr::ThetaJoin {
            left: a, right: b, ..
        }
        | Expr::EquiJoin {
            left: a, right: b, ..
        } => {
            let sa = set(plan.schema(*a));
            if plan.schema(*b).iter().any(|x| sa.contains(x)) {
                errs.push(format!(
                    "{name} of inputs that share attributes: {}",
                    plan.expr_line(id)
                ));
            }
            match e {
                Expr::ThetaJoin { formula, .. } => {
                    let mut both = sa.clone();
                    both.extend(plan.schema(*b));
                    let missing: Vec<String> = formula
                        .attrs()
                        .into_iter()
                        .filter(|x| !both.contains(x))
                        .collect();
                    if !missing.is_empty() {
                        errs.push(format!(
                            "theta_join reads missing attributes {}",
                            missing.join(", ")
                        ));
                    }
                }
                Expr::EquiJoin { pairs, .. } => {
                    let sb = set(plan.schema(*b));
                    for (l, r) in pairs {
                        if !sa.contains(l) || !sb.contains(r) {
                            errs.push(format!(
                                "equijoin pair {l} = {r} is not left = right: {}",
                                plan.expr_line(id)
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Expr::Join(..) | Expr::SemiJoin(..) | Expr::AntiJoin(..) => {}
        Expr::GroupBy { keys, aggs, input } => {
            let mut read: BTreeSet<String> = keys.iter().cloned().collect();
            for a in aggs {
                for o in &a.args {
                    if let Operand::Attr(x) = o {
                        read.insert(x.clone());
                    }
                }
                if let Callee::Attr(f) = &a.func {
                    read.insert(f.clone());
                }
            }
            need(&read, *input, "group_by");
        }
        Expr::Map { bind, rhs, input } => {
            let mut read = BTreeSet::new();
            match rhs {
                MapRhs::Call { func, args } => {
                    if let Callee::Attr(f) = func {
                        read.insert(f.clone());
                    }
                    for o in args {
                        if let Operand::Attr(x) = o {
                            read.insert(x.clone());
                        }
                    }
                }
                MapRhs::Operand(Operand::Attr(x)) => {
                    read.insert(x.clone());
                }
                MapRhs::Operand(_) => {}
            }
            need(&read, *input, "map");
            let have = set(plan.schema(*input));
            for a in bind.attrs() {
                if have.contains(&a) {
                    errs.push(format!(
                        "map binds {a}, which its input already has: {}",
                        plan.expr_line(id)
                    ));
                }
            }
        }
        Expr::Values { attrs, rows } => {
            if rows.iter().any(|r| r.len() != attrs.len()) {
                errs.push(format!(
                    "values rows do not match attributes: {}",
                    plan.expr_line(id)
                ));
            }
        }
    }
}
