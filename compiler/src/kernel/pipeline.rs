//! The kernel stage's pipeline (ARCHITECTURE §5): the passes that shrink a lowered kernel plan,
//! run once each, in this order:
//! 1. `prune` first: it drops the columns loops load for nobody, which is what lets the next
//!    two passes see loops that bind nothing.
//! 2. `probes_to_tests` after pruning, because a probe or inner scan that binds nothing is an
//!    existence test.
//! 3. `hoist_tests` after the tests exist, moving them out of loops they do not depend on.
//! 4. `fuse_new_rows` after hoisting (the order the lowering always used), on the semi-naive
//!    loops' kernels whose last operation is the `not exists` test on the total.
//! 5. `partition_loops` after fusing, because it recognises the fused loop form.
//! 6. `drop_unused_indexes` last: fusing and turning probes into tests leave indexes that no
//!    kernel reads.

use super::passes;
use crate::pass::{self, Options, Pass, PassError};
use pomo_types::kernel::KernelPlan;

/// The passes, in order.
pub const PASSES: &[Pass<KernelPlan>] = &[
    Pass {
        name: "prune",
        run: passes::prune::run,
    },
    Pass {
        name: "probes_to_tests",
        run: passes::probes_to_tests::run,
    },
    Pass {
        name: "hoist_tests",
        run: passes::hoist_tests::run,
    },
    Pass {
        name: "fuse_new_rows",
        run: passes::fuse_new_rows::run,
    },
    Pass {
        name: "partition_loops",
        run: passes::partition_loops::run,
    },
    Pass {
        name: "drop_unused_indexes",
        run: passes::drop_unused_indexes::run,
    },
];

/// Whether `name` is a pass of the pipeline.
pub fn is_pass(name: &str) -> bool {
    PASSES.iter().any(|p| p.name == name)
}

/// Runs the pipeline on a lowered kernel plan.
pub fn optimize(plan: &mut KernelPlan, opts: Options<'_, KernelPlan>) -> Result<(), PassError> {
    pass::run_in_order(PASSES, plan, validate, opts)
}

/// What the JIT runtime's own check finds wrong with a plan.
fn validate(plan: &KernelPlan) -> Vec<String> {
    plan.validate().err().into_iter().collect()
}
