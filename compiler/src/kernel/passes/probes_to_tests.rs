//! `probes_to_tests`: a probe (or inner scan) that binds nothing only asks whether a row
//! exists, so it becomes an existence test; looping over every match would insert the same
//! rows once per match. After `prune`, which is what leaves such loops. An inner scan becomes a
//! test on an index with an empty key over its slot (one shared index per slot).

use pomo_types::kernel::{Bind, Index, IndexId, KernelPlan, Op};

pub fn run(plan: &mut KernelPlan) -> bool {
    let mut changed = false;
    let unbound = |cols: &[Bind]| cols.iter().all(|b| matches!(b, Bind::Skip));
    for k in 0..plan.kernels.len() {
        for i in 0..plan.kernels[k].ops.len() {
            let op = &mut plan.kernels[k].ops[i];
            match op {
                Op::Probe { index, key, cols } if unbound(cols) => {
                    *op = Op::Exists {
                        index: *index,
                        key: std::mem::take(key),
                        negated: false,
                    };
                    changed = true;
                }
                Op::Scan { slot, cols } if i > 0 && unbound(cols) => {
                    let slot = *slot;
                    let index = match plan
                        .indexes
                        .iter()
                        .position(|ix| ix.slot == slot && ix.key.is_empty())
                    {
                        Some(i) => IndexId(i as u32),
                        None => {
                            plan.indexes.push(Index {
                                slot,
                                key: Vec::new(),
                            });
                            IndexId(plan.indexes.len() as u32 - 1)
                        }
                    };
                    plan.kernels[k].ops[i] = Op::Exists {
                        index,
                        key: Vec::new(),
                        negated: false,
                    };
                    changed = true;
                }
                _ => {}
            }
        }
    }
    changed
}
