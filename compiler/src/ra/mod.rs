//! PomoRA in the compiler: lowering from PomoLogic, reading plan text, validation and the
//! optimizer's passes and pipeline. The plan types themselves live in `pomo_types::ra` so that
//! the runtime can execute plans without the compiler.

pub mod lower;
pub mod parse;
pub mod passes;
pub mod pipeline;
pub mod validate;

use pomo_types::ra::{Expr, ExprId, Plan};

/// The expressions reachable from the statements, children before parents.
pub fn post_order(plan: &Plan) -> Vec<ExprId> {
    let mut out = Vec::new();
    let mut stack: Vec<(ExprId, bool)> =
        plan.roots().into_iter().rev().map(|r| (r, false)).collect();
    while let Some((id, expanded)) = stack.pop() {
        if expanded {
            out.push(id);
        } else {
            stack.push((id, true));
            for c in plan.expr(id).children().into_iter().rev() {
                stack.push((c, false));
            }
        }
    }
    out
}

/// Whether an expression is the empty relation literal.
pub fn is_empty_values(plan: &Plan, id: ExprId) -> bool {
    matches!(plan.expr(id), Expr::Values { rows, .. } if rows.is_empty())
}
