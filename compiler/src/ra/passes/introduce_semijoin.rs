//! `introduce_semijoin`: a natural join whose result keeps only the left input's attributes is
//! a semijoin. Two shapes qualify: `join(A, B)` where B's attributes are all A's (the spec's
//! fold, case 2), and `project[P](join(A, B))` where P only names A's attributes (B only
//! filters). A semijoin never materialises B's extra attributes, and the backends can probe B's
//! index instead of joining.

use super::set;
use crate::ra::post_order;
use pomo_types::ra::*;
use std::collections::BTreeSet;

pub fn run(plan: &mut Plan) -> bool {
    let mut changed = false;
    for id in post_order(plan) {
        let candidate = match plan.expr(id) {
            Expr::Join(..) => true,
            Expr::Project { input, .. } => matches!(plan.expr(*input), Expr::Join(..)),
            _ => false,
        };
        if !candidate {
            continue;
        }
        match plan.expr(id).clone() {
            Expr::Join(a, b) => {
                let sa: BTreeSet<Attr> = plan.schema(a).into_iter().collect();
                if plan.schema(b).iter().all(|x| sa.contains(x)) {
                    set(plan, id, Expr::SemiJoin(a, b));
                    changed = true;
                }
            }
            Expr::Project { attrs, input } => {
                if let Expr::Join(a, b) = plan.expr(input).clone() {
                    let sa: BTreeSet<Attr> = plan.schema(a).into_iter().collect();
                    let sb: BTreeSet<Attr> = plan.schema(b).into_iter().collect();
                    if attrs.iter().all(|x| sa.contains(x)) {
                        set(plan, input, Expr::SemiJoin(a, b));
                        changed = true;
                    } else if attrs.iter().all(|x| sb.contains(x)) {
                        set(plan, input, Expr::SemiJoin(b, a));
                        changed = true;
                    }
                }
            }
            _ => {}
        }
    }
    changed
}
