//! `fold_constants`: evaluates comparisons between constants in selection and theta-join
//! formulas, drops `true` conjuncts and `false` disjuncts, removes selections that are always
//! true, and turns always-false ones into the empty relation. The empty relation then
//! propagates: joins, products and semijoins with an empty input are empty, unions drop empty
//! inputs, and differences and antijoins with an empty right side are their left side.
//!
//! Calls of built-in predicates are not folded here: their implementations arrive with the
//! stdlib's runtime half (issue 3), and a wrong fold would be a wrong answer.

use super::{replace_with, set};
use crate::ra::{is_empty_values, post_order};
use pomo_types::ra::*;

fn fold_formula(f: &Formula) -> Formula {
    let mut out = Vec::new();
    'disj: for d in &f.disjuncts {
        let mut lits = Vec::new();
        for l in d {
            match &l.test {
                Test::Cmp {
                    op,
                    lhs: Operand::Const(a),
                    rhs: Operand::Const(b),
                } => {
                    if op.eval(a, b) == l.negated {
                        continue 'disj; // This conjunction is false.
                    }
                }
                Test::Cmp {
                    op,
                    lhs: Operand::Attr(a),
                    rhs: Operand::Attr(b),
                } if a == b => {
                    // x = x is true (no NULLs inside PomoRA values), x < x is false.
                    let holds = matches!(op, CmpOp::Eq | CmpOp::Le | CmpOp::Ge);
                    if holds == l.negated {
                        continue 'disj;
                    }
                }
                _ => lits.push(l.clone()),
            }
        }
        if lits.is_empty() {
            return Formula::truth();
        }
        if !out.contains(&lits) {
            out.push(lits);
        }
    }
    Formula { disjuncts: out }
}

pub fn run(plan: &mut Plan) -> bool {
    let mut changed = false;
    for id in post_order(plan) {
        // Relations and literals never fold; skip them without cloning.
        if matches!(plan.expr(id), Expr::Rel(_) | Expr::Values { .. }) {
            continue;
        }
        let empty = |plan: &Plan| Expr::Values {
            attrs: plan.schema(id),
            rows: Vec::new(),
        };
        match plan.expr(id).clone() {
            Expr::Select { formula, input } => {
                let f = fold_formula(&formula);
                if f.is_true() {
                    replace_with(plan, id, input);
                    changed = true;
                } else if f.is_false() || is_empty_values(plan, input) {
                    let e = empty(plan);
                    set(plan, id, e);
                    changed = true;
                } else if f != formula {
                    set(plan, id, Expr::Select { formula: f, input });
                    changed = true;
                }
            }
            Expr::ThetaJoin {
                formula,
                left,
                right,
            } => {
                let f = fold_formula(&formula);
                if f.is_true() {
                    set(plan, id, Expr::Product(left, right));
                    changed = true;
                } else if f.is_false() {
                    let e = empty(plan);
                    set(plan, id, e);
                    changed = true;
                } else if f != formula {
                    set(
                        plan,
                        id,
                        Expr::ThetaJoin {
                            formula: f,
                            left,
                            right,
                        },
                    );
                    changed = true;
                }
            }
            Expr::Join(a, b)
            | Expr::Product(a, b)
            | Expr::SemiJoin(a, b)
            | Expr::EquiJoin {
                left: a, right: b, ..
            } if is_empty_values(plan, a) || is_empty_values(plan, b) => {
                let e = empty(plan);
                set(plan, id, e);
                changed = true;
            }
            Expr::Diff(a, b) | Expr::AntiJoin(a, b) if is_empty_values(plan, a) => {
                let _ = b;
                let e = empty(plan);
                set(plan, id, e);
                changed = true;
            }
            Expr::Diff(a, b) | Expr::AntiJoin(a, b) if is_empty_values(plan, b) => {
                replace_with(plan, id, a);
                changed = true;
            }
            Expr::Union(xs) => {
                let kept: Vec<ExprId> = xs
                    .iter()
                    .copied()
                    .filter(|x| !is_empty_values(plan, *x))
                    .collect();
                if kept.len() != xs.len() {
                    changed = true;
                    match kept.len() {
                        0 => {
                            let e = empty(plan);
                            set(plan, id, e);
                        }
                        1 => replace_with(plan, id, kept[0]),
                        _ => set(plan, id, Expr::Union(kept)),
                    }
                }
            }
            Expr::Project { input, .. } | Expr::Rename { input, .. } | Expr::Map { input, .. }
                if is_empty_values(plan, input) =>
            {
                let e = empty(plan);
                set(plan, id, e);
                changed = true;
            }
            // A group-by without keys over nothing yields no groups (DataScript's semantics for
            // aggregates over zero rows), so it folds too.
            Expr::GroupBy { input, .. } if is_empty_values(plan, input) => {
                let e = empty(plan);
                set(plan, id, e);
                changed = true;
            }
            _ => {}
        }
    }
    changed
}
