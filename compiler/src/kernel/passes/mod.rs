//! The kernel stage's passes (ARCHITECTURE §5), one file each, named as in
//! [`super::pipeline::PASSES`]. Each rewrites a whole kernel plan in place and says whether it
//! changed anything. They only make the JIT's work smaller: a plan with any of them switched off
//! computes the same answers.

pub mod drop_unused_indexes;
pub mod fuse_new_rows;
pub mod hoist_tests;
pub mod partition_loops;
pub mod probes_to_tests;
pub mod prune;

#[cfg(test)]
mod tests;

use pomo_types::kernel::{Partition, SlotId, Stmt};

/// Visits a loop: its body, the slots whose emptiness ends it, and its partition.
pub(crate) type LoopVisitor<'a> = dyn FnMut(&mut Vec<Stmt>, &[SlotId], &mut Option<Partition>) + 'a;

/// Calls `f` on every loop of `stmts`, inner loops before the loops that hold them.
pub(crate) fn each_loop(stmts: &mut [Stmt], f: &mut LoopVisitor<'_>) {
    for s in stmts {
        if let Stmt::Loop {
            body,
            until,
            partition,
        } = s
        {
            each_loop(body, f);
            f(body, until, partition);
        }
    }
}
