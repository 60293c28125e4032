//! `fuse_new_rows`: semi-naive evaluation computes `R@new := diff(…, R)` and then `R := union(R,
//! R@new)`: every new row is looked up in `R` twice and inserted twice. When each kernel that fills
//! `R@new` ends with that `not exists` test on all of `R` and reads `R` nowhere else, the kernels
//! insert into `R` directly and append the rows that were new to `R@new` (`insert R(…) new into
//! R@new`), and the union goes. Rows reach `R` earlier than in the reference's order, which only
//! lets later kernels of the same iteration see them sooner; recursive strata are monotone, so the
//! fixpoint is the same. After `hoist_tests`, as it has always run: a test hoisted off the end of a
//! kernel leaves the kernel unfused, which is only slower. Before `partition_loops`, which
//! recognises the fused form.

use super::each_loop;
use pomo_types::kernel::{KernelPlan, Op, Stmt};

pub fn run(plan: &mut KernelPlan) -> bool {
    let mut strata = std::mem::take(&mut plan.strata);
    let mut changed = false;
    for st in &mut strata {
        each_loop(&mut st.stmts, &mut |body, _, _| changed |= fuse(plan, body));
    }
    plan.strata = strata;
    changed
}

fn fuse(plan: &mut KernelPlan, body: &mut Vec<Stmt>) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < body.len() {
        let Stmt::Union {
            target: r,
            source: n,
        } = body[i]
        else {
            i += 1;
            continue;
        };
        let arity = plan.slot(r).arity();
        let mut runs = Vec::new();
        let mut ok = r != n;
        for s in &body[..i] {
            match s {
                Stmt::Run(k) if plan.kernels[k.0 as usize].target == n => runs.push(*k),
                Stmt::Run(k) => {
                    let kernel = &plan.kernels[k.0 as usize];
                    ok &= !plan.kernel_reads(kernel).contains(&n);
                }
                Stmt::Union { target, .. } | Stmt::Move { target, .. } if *target == n => {
                    ok = false
                }
                Stmt::GroupBy { target, .. } if *target == n => ok = false,
                _ => {}
            }
        }
        for k in &runs {
            let kernel = &plan.kernels[k.0 as usize];
            let Some(Op::Exists {
                index,
                key,
                negated: true,
            }) = kernel.ops.last()
            else {
                ok = false;
                break;
            };
            let ix = &plan.indexes[index.0 as usize];
            let mut rest = kernel.clone();
            rest.ops.pop();
            ok &= ix.slot == r
                && ix.key == (0..arity).collect::<Vec<_>>()
                && *key == kernel.emit
                && kernel.also.is_none()
                && !plan.kernel_reads(&rest).contains(&r);
        }
        if !ok || runs.is_empty() {
            i += 1;
            continue;
        }
        for k in runs {
            let kernel = &mut plan.kernels[k.0 as usize];
            kernel.ops.pop();
            kernel.target = r;
            kernel.also = Some(n);
        }
        body.remove(i);
        changed = true;
    }
    changed
}
