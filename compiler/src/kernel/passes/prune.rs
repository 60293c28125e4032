//! `prune`: a loop stops loading columns nothing reads.
//!
//! A register a scan or probe stores is dropped (`_`) when no later operation, call argument or
//! emitted column reads it. Runs first, because the passes after it look for loops that bind
//! nothing (`probes_to_tests`) or bind nothing a test reads (`hoist_tests`).

use pomo_types::kernel::{Bind, Call, KernelPlan, Op, Reg, Term};
use std::collections::BTreeSet;

pub fn run(plan: &mut KernelPlan) -> bool {
    let mut changed = false;
    for k in &mut plan.kernels {
        changed |= prune(&mut k.ops, &k.emit, &plan.calls);
    }
    changed
}

fn prune(ops: &mut [Op], emit: &[Term], calls: &[Call]) -> bool {
    let mut used: BTreeSet<Reg> = BTreeSet::new();
    let mut add = |t: &Term| {
        if let Term::Reg(r) = t {
            used.insert(*r);
        }
    };
    emit.iter().for_each(&mut add);
    for op in ops.iter() {
        match op {
            Op::Scan { cols, .. } => cols.iter().for_each(|b| {
                if let Bind::Check(t) = b {
                    add(t)
                }
            }),
            Op::Probe { key, cols, .. } => {
                key.iter().for_each(&mut add);
                cols.iter().for_each(|b| {
                    if let Bind::Check(t) = b {
                        add(t)
                    }
                });
            }
            Op::Exists { key, .. } => key.iter().for_each(&mut add),
            Op::Same(a, b) => {
                add(a);
                add(b);
            }
            Op::Filter { disjuncts } => {
                for l in disjuncts.iter().flatten() {
                    if let Some((_, a, b)) = &l.cmp {
                        add(a);
                        add(b);
                    }
                    calls[l.call.0 as usize].args.iter().for_each(&mut add);
                }
            }
            Op::Map { call, .. } => calls[call.0 as usize].args.iter().for_each(&mut add),
        }
    }
    let mut changed = false;
    for op in ops.iter_mut() {
        if let Op::Scan { cols, .. } | Op::Probe { cols, .. } = op {
            for b in cols.iter_mut() {
                if matches!(b, Bind::Store(r) if !used.contains(r)) {
                    *b = Bind::Skip;
                    changed = true;
                }
            }
        }
    }
    changed
}
