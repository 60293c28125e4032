//! `hoist_tests`: moves existence tests and equality checks out of loops that bind nothing they
//! read, so that a row failing them is dropped before the inner loops run for it (`[?e :name
//! "Ivan"] [?e :last-name ?l] [?e :sex "male"]` tests the sex before probing the last name). Both
//! have no effects and cannot fail, so where they run changes no answer; filters and maps, which
//! call the stdlib and may fail, stay where the plan put them and keep seeing the rows they saw (a
//! test never moves past one). The first operation stays a loop. After `probes_to_tests`, which
//! makes many of the tests it moves.

use pomo_types::kernel::{Bind, KernelPlan, Op, Reg, Term};

pub fn run(plan: &mut KernelPlan) -> bool {
    let mut changed = false;
    for k in &mut plan.kernels {
        changed |= hoist(&mut k.ops);
    }
    changed
}

fn hoist(ops: &mut [Op]) -> bool {
    fn reads(op: &Op) -> Vec<Reg> {
        let terms: Vec<&Term> = match op {
            Op::Exists { key, .. } => key.iter().collect(),
            Op::Same(a, b) => vec![a, b],
            _ => Vec::new(),
        };
        terms
            .into_iter()
            .filter_map(|t| match t {
                Term::Reg(r) => Some(*r),
                Term::Const(_) => None,
            })
            .collect()
    }
    fn binds(op: &Op) -> Vec<Reg> {
        match op {
            Op::Scan { cols, .. } | Op::Probe { cols, .. } => cols
                .iter()
                .filter_map(|b| match b {
                    Bind::Store(r) => Some(*r),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
    let mut any = false;
    let mut changed = true;
    while changed {
        changed = false;
        for i in 2..ops.len() {
            let test = matches!(ops[i], Op::Exists { .. } | Op::Same(..));
            // Not past a map: its call may fail, and must see every row the plan gives it.
            let is_loop = matches!(ops[i - 1], Op::Scan { .. } | Op::Probe { .. });
            if test && is_loop && {
                let bound = binds(&ops[i - 1]);
                reads(&ops[i]).iter().all(|r| !bound.contains(r))
            } {
                ops.swap(i - 1, i);
                changed = true;
                any = true;
            }
        }
    }
    any
}
