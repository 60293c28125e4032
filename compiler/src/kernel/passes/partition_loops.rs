//! `partition_loops`: marks the column a loop can be partitioned by, when it computes one relation
//! by linear rules that all pass that column from the delta row to the new row: the body is `clear
//! R@new; run k…; move R@delta <- R@new`, every kernel scans `R@delta` first, reads none of `R`,
//! `R@delta`, `R@new` anywhere else, and inserts into `R` (new rows into `R@new`) with the scanned
//! value of the column in the same column. The runtime then computes the fixpoint for a batch of
//! that column's values at a time ([`pomo_types::kernel::Partition`]). After `fuse_new_rows`, whose
//! form it recognises.

use super::each_loop;
use pomo_types::kernel::{Bind, KernelPlan, Op, Partition, SlotId, SlotKind, Stmt, Term};
use pomo_types::ra::Version;

pub fn run(plan: &mut KernelPlan) -> bool {
    let mut strata = std::mem::take(&mut plan.strata);
    let mut changed = false;
    for st in &mut strata {
        each_loop(&mut st.stmts, &mut |body, until, part| {
            let found = partition(plan, body, until);
            if found != *part {
                *part = found;
                changed = true;
            }
        });
    }
    plan.strata = strata;
    changed
}

fn partition(plan: &KernelPlan, body: &[Stmt], until: &[SlotId]) -> Option<Partition> {
    let [delta] = until else { return None };
    let (Some(Stmt::Clear(n)), Some(Stmt::Move { target, source })) = (body.first(), body.last())
    else {
        return None;
    };
    if target != delta || source != n || body.len() < 3 {
        return None;
    }
    let SlotKind::Rel { name, .. } = &plan.slot(*delta).kind else {
        return None;
    };
    let total = plan.rel_slot(name, Version::Total)?;
    let arity = plan.slot(total).arity();
    let mut cols: Vec<usize> = (0..arity).collect();
    for s in &body[1..body.len() - 1] {
        let Stmt::Run(k) = s else { return None };
        let kernel = &plan.kernels[k.0 as usize];
        if kernel.target != total || kernel.also != Some(*n) {
            return None;
        }
        let Some(Op::Scan { slot, cols: binds }) = kernel.ops.first() else {
            return None;
        };
        let reads = plan.kernel_reads(kernel);
        if *slot != *delta
            || reads
                .iter()
                .skip(1)
                .any(|r| [total, *delta, *n].contains(r))
        {
            return None;
        }
        cols.retain(
            |&c| matches!((&binds[c], &kernel.emit[c]), (Bind::Store(r), Term::Reg(e)) if r == e),
        );
    }
    cols.first().map(|&col| Partition {
        total,
        delta: *delta,
        col,
    })
}
