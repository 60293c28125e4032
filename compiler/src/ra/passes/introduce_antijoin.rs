//! `introduce_antijoin`: `diff(A, semijoin(A, B))` — the tuples of A without a match in B — is
//! `antijoin(A, B)`, and `diff(A, join(A, B))` when B adds no attribute is the same. Evaluating
//! A once and probing B is cheaper than computing the matches and subtracting them.

use super::set;
use crate::ra::post_order;
use pomo_types::ra::*;
use std::collections::BTreeSet;

/// Structural equality of two subtrees.
pub(crate) fn same_tree(plan: &Plan, a: ExprId, b: ExprId) -> bool {
    let (ea, eb) = (plan.expr(a), plan.expr(b));
    if std::mem::discriminant(ea) != std::mem::discriminant(eb) {
        return false;
    }
    let (ca, cb) = (ea.children(), eb.children());
    // Compare the node's own parameters by clearing the children.
    let mut na = ea.clone();
    let mut nb = eb.clone();
    for c in na.children_mut() {
        *c = ExprId(0);
    }
    for c in nb.children_mut() {
        *c = ExprId(0);
    }
    na == nb && ca.len() == cb.len() && ca.iter().zip(&cb).all(|(x, y)| same_tree(plan, *x, *y))
}

pub fn run(plan: &mut Plan) -> bool {
    let mut changed = false;
    for id in post_order(plan) {
        if let Expr::Diff(a, b) = *plan.expr(id) {
            let rewrite = match plan.expr(b).clone() {
                Expr::SemiJoin(a2, c) if same_tree(plan, a, a2) => Some(c),
                Expr::Join(a2, c) if same_tree(plan, a, a2) => {
                    let sa: BTreeSet<Attr> = plan.schema(a).into_iter().collect();
                    plan.schema(c).iter().all(|x| sa.contains(x)).then_some(c)
                }
                _ => None,
            };
            if let Some(c) = rewrite {
                set(plan, id, Expr::AntiJoin(a, c));
                changed = true;
            }
        }
    }
    changed
}
