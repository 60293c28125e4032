//! `simplify`: removes operators that do nothing — renames of an attribute to itself (after
//! composing a rename of a rename),
//! projections onto exactly the input's attributes in the input's order, projections of
//! projections, and unions of a single input — and flattens nested unions.

use super::{replace_with, set};
use crate::ra::post_order;
use pomo_types::ra::*;

pub fn run(plan: &mut Plan) -> bool {
    let mut changed = false;
    for id in post_order(plan) {
        if !matches!(
            plan.expr(id),
            Expr::Rename { .. } | Expr::Project { .. } | Expr::Union(_)
        ) {
            continue;
        }
        match plan.expr(id).clone() {
            Expr::Rename { pairs, input } if matches!(plan.expr(input), Expr::Rename { .. }) => {
                // rename[b -> c](rename[a -> b](x)) is rename[a -> c](x).
                let Expr::Rename {
                    pairs: inner,
                    input: below,
                } = plan.expr(input).clone()
                else {
                    unreachable!()
                };
                let mut composed: Vec<(Attr, Attr)> = inner
                    .iter()
                    .map(|(a, b)| {
                        (
                            a.clone(),
                            pairs
                                .iter()
                                .find(|(f, _)| f == b)
                                .map(|(_, t)| t.clone())
                                .unwrap_or(b.clone()),
                        )
                    })
                    .collect();
                for (f, t) in &pairs {
                    if !inner.iter().any(|(_, b)| b == f) {
                        composed.push((f.clone(), t.clone()));
                    }
                }
                composed.retain(|(a, b)| a != b);
                if composed.is_empty() {
                    replace_with(plan, id, below);
                } else {
                    set(
                        plan,
                        id,
                        Expr::Rename {
                            pairs: composed,
                            input: below,
                        },
                    );
                }
                changed = true;
            }
            Expr::Rename { pairs, input } => {
                let kept: Vec<(Attr, Attr)> =
                    pairs.iter().filter(|(a, b)| a != b).cloned().collect();
                if kept.is_empty() {
                    replace_with(plan, id, input);
                    changed = true;
                } else if kept.len() != pairs.len() {
                    set(plan, id, Expr::Rename { pairs: kept, input });
                    changed = true;
                }
            }
            Expr::Project { attrs, input } => {
                if plan.schema(input) == attrs {
                    replace_with(plan, id, input);
                    changed = true;
                } else if let Expr::Project { input: inner, .. } = plan.expr(input).clone() {
                    set(
                        plan,
                        id,
                        Expr::Project {
                            attrs,
                            input: inner,
                        },
                    );
                    changed = true;
                }
            }
            Expr::Union(xs) => {
                if xs.len() == 1 {
                    replace_with(plan, id, xs[0]);
                    changed = true;
                } else if xs.iter().any(|x| matches!(plan.expr(*x), Expr::Union(_))) {
                    let mut flat = Vec::new();
                    for x in xs {
                        match plan.expr(x) {
                            Expr::Union(inner) => flat.extend(inner.iter().copied()),
                            _ => flat.push(x),
                        }
                    }
                    set(plan, id, Expr::Union(flat));
                    changed = true;
                }
            }
            _ => {}
        }
    }
    changed
}
