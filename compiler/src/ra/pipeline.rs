//! The optimizer pipeline (ARCHITECTURE, convention 4): one list of named passes, run as a fixpoint group.
//!
//! Order within the group, and why:
//! 1. `fold_constants` first, because an always-false selection empties whole subplans and an
//!    always-true one disappears before anything tries to move it.
//! 2. `push_down_selection` after folding, so only real tests move; it runs before the join
//!    rewrites because a filtered input can make a join's result attributes coincide.
//! 3. `introduce_semijoin` after pushdown, because pushdown turns products into equijoins and
//!    leaves projections directly above joins.
//! 4. `introduce_antijoin` after semijoins exist, since it matches `diff(A, semijoin(A, B))`.
//! 5. `simplify` last, to clean up identity renames and projections the others leave behind;
//!    it can expose new chances for the others, hence the fixpoint.

use super::{passes, validate::validate};
use pomo_types::ra::Plan;

/// A named pass over PomoRA plans.
pub type Pass = crate::pass::Pass<Plan>;

/// The passes, in order.
pub const PASSES: &[Pass] = &[
    Pass {
        name: "fold_constants",
        run: passes::fold_constants::run,
    },
    Pass {
        name: "push_down_selection",
        run: passes::push_down_selection::run,
    },
    Pass {
        name: "introduce_semijoin",
        run: passes::introduce_semijoin::run,
    },
    Pass {
        name: "introduce_antijoin",
        run: passes::introduce_antijoin::run,
    },
    Pass {
        name: "simplify",
        run: passes::simplify::run,
    },
];

/// The most rounds of the fixpoint group; the passes only shrink or lower operators, so real
/// plans settle in two or three.
const MAX_ROUNDS: usize = 16;

/// Receives `(pass name, round, changed, plan)` after every pass.
pub type TraceFn<'a> = crate::pass::TraceFn<'a, Plan>;

/// Options of one pipeline run.
pub type Options<'a> = crate::pass::Options<'a, Plan>;

pub use crate::pass::PassError;

/// Whether `name` is a pass of the pipeline.
pub fn is_pass(name: &str) -> bool {
    PASSES.iter().any(|p| p.name == name)
}

/// Runs the pipeline to a fixpoint and compacts the plan.
pub fn optimize(plan: &mut Plan, mut opts: Options<'_>) -> Result<(), PassError> {
    for round in 1..=MAX_ROUNDS {
        let mut any = false;
        for pass in PASSES {
            if opts.disabled.iter().any(|d| d == pass.name) {
                continue;
            }
            let changed = (pass.run)(plan);
            any |= changed;
            if opts.validate {
                let problems = validate(plan);
                if !problems.is_empty() {
                    return Err(PassError {
                        pass: pass.name,
                        problems,
                    });
                }
            }
            if let Some(t) = opts.trace.as_mut() {
                t(pass.name, round, changed, plan);
            }
        }
        if !any {
            break;
        }
    }
    plan.compact();
    Ok(())
}
