//! The optimizer's passes over PomoRA plans. Each pass rewrites the plan in place and returns
//! whether it changed anything (ARCHITECTURE, convention 3); a pass's name is its file name.

pub mod fold_constants;
pub mod introduce_antijoin;
pub mod introduce_semijoin;
pub mod push_down_selection;
pub mod simplify;

use pomo_types::ra::{Expr, ExprId, Plan};

/// Replaces the node `id` by a copy of node `by` (which becomes unreachable). Plans are trees,
/// so no other parent sees the change.
pub(crate) fn replace_with(plan: &mut Plan, id: ExprId, by: ExprId) {
    let e = plan.expr(by).clone();
    *plan.expr_mut(id) = e;
}

/// Sets node `id` to `e`.
pub(crate) fn set(plan: &mut Plan, id: ExprId, e: Expr) {
    *plan.expr_mut(id) = e;
}

#[cfg(test)]
mod tests;
