//! The flow stage's pipeline (ARCHITECTURE §5): the passes run on a lowered flow plan, once
//! each, in order. There is one today:
//! 1. `narrow`: projections fused into joins and arrangements pruned to the columns their
//!    readers use, then dead nodes dropped.

use super::passes;
use crate::pass::{self, Options, Pass, PassError};
use pomo_types::flow::FlowPlan;

/// The passes, in order.
pub const PASSES: &[Pass<FlowPlan>] = &[Pass {
    name: "narrow",
    run: passes::narrow::run,
}];

/// Whether `name` is a pass of the pipeline.
pub fn is_pass(name: &str) -> bool {
    PASSES.iter().any(|p| p.name == name)
}

/// Runs the pipeline on a lowered flow plan.
pub fn optimize(plan: &mut FlowPlan, opts: Options<'_, FlowPlan>) -> Result<(), PassError> {
    pass::run_in_order(PASSES, plan, |_| Vec::new(), opts)
}
