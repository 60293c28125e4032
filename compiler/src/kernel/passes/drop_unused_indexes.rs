//! `drop_unused_indexes`: removes the indexes no kernel reads any more and renumbers the rest in
//! order. Last, because `fuse_new_rows` drops the tests that read the total's full-row index and
//! `probes_to_tests` turns probes of other indexes into tests of the same ones.

use pomo_types::kernel::{IndexId, KernelPlan, Op};

pub fn run(plan: &mut KernelPlan) -> bool {
    let mut used = vec![false; plan.indexes.len()];
    for k in &plan.kernels {
        for op in &k.ops {
            if let Op::Probe { index, .. } | Op::Exists { index, .. } = op {
                used[index.0 as usize] = true;
            }
        }
    }
    if used.iter().all(|u| *u) {
        return false;
    }
    let mut map = Vec::with_capacity(used.len());
    let mut next = 0u32;
    for u in &used {
        map.push(IndexId(next));
        if *u {
            next += 1;
        }
    }
    let mut i = 0;
    plan.indexes.retain(|_| {
        i += 1;
        used[i - 1]
    });
    for k in &mut plan.kernels {
        for op in &mut k.ops {
            if let Op::Probe { index, .. } | Op::Exists { index, .. } = op {
                *index = map[index.0 as usize];
            }
        }
    }
    true
}
