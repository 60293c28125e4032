//! `push_down_selection`: moves the conjuncts of a selection as close to the relations they
//! filter as possible, so that fewer tuples reach joins.
//!
//! A selection whose formula is one conjunction is split into its literals; each literal moves
//! into the input of a join, product, semijoin or antijoin that has all of its attributes
//! (semijoins and antijoins only into their left side, whose tuples they keep), through
//! projections, renames (with the attributes renamed back), maps and group-bys when it does not
//! read what they compute, into every input of a union and into the left input of a difference.
//! Literals that compare the two sides of a product turn it into a theta join — an equijoin when
//! they are all equalities of a left and a right attribute. Adjacent selections merge first.
//! Disjunctions are left where they are.

use super::{replace_with, set};
use crate::ra::post_order;
use pomo_types::ra::*;
use std::collections::BTreeSet;

fn lit_attrs(l: &FLit) -> BTreeSet<Attr> {
    let mut s = BTreeSet::new();
    pomo_types::ra::lit_attrs(l, &mut s);
    s
}

fn rename_lit(l: &FLit, map: &dyn Fn(&str) -> String) -> FLit {
    let op = |o: &Operand| match o {
        Operand::Attr(a) => Operand::Attr(map(a)),
        c => c.clone(),
    };
    let test = match &l.test {
        Test::Cmp { op: c, lhs, rhs } => Test::Cmp {
            op: *c,
            lhs: op(lhs),
            rhs: op(rhs),
        },
        Test::Call { func, args } => Test::Call {
            func: match func {
                Callee::Attr(a) => Callee::Attr(map(a)),
                f => f.clone(),
            },
            args: args.iter().map(op).collect(),
        },
    };
    FLit {
        negated: l.negated,
        test,
    }
}

/// Wraps `child` in a selection of `lits` (merging into an existing selection).
fn wrap(plan: &mut Plan, child: ExprId, lits: Vec<FLit>) -> ExprId {
    if let Expr::Select { formula, input } = plan.expr(child).clone()
        && let Some(c) = formula.as_conjunction()
    {
        let mut all = c.to_vec();
        all.extend(lits);
        set(
            plan,
            child,
            Expr::Select {
                formula: Formula::conj(all),
                input,
            },
        );
        return child;
    }
    plan.add(Expr::Select {
        formula: Formula::conj(lits),
        input: child,
    })
}

/// Splits `lits` into those that `fits` accepts and the rest.
fn split(lits: &[FLit], fits: impl Fn(&BTreeSet<Attr>) -> bool) -> (Vec<FLit>, Vec<FLit>) {
    lits.iter().cloned().partition(|l| fits(&lit_attrs(l)))
}

fn subset(a: &BTreeSet<Attr>, schema: &[Attr]) -> bool {
    a.iter().all(|x| schema.contains(x))
}

/// Pushes the selection at `id` one level down; returns whether the plan changed.
fn push(plan: &mut Plan, id: ExprId) -> bool {
    if !matches!(plan.expr(id), Expr::Select { .. }) {
        return false;
    }
    let Expr::Select { formula, input } = plan.expr(id).clone() else {
        return false;
    };
    let Some(lits) = formula.as_conjunction().map(|c| c.to_vec()) else {
        return false;
    };
    let child = plan.expr(input).clone();
    // The literals that stay above, given the ones that went down.
    let finish = |plan: &mut Plan, rest: Vec<FLit>| {
        if rest.is_empty() {
            replace_with(plan, id, input);
        } else {
            set(
                plan,
                id,
                Expr::Select {
                    formula: Formula::conj(rest),
                    input,
                },
            );
        }
    };
    match child {
        Expr::Select {
            formula: inner,
            input: below,
        } => {
            if let Some(c) = inner.as_conjunction() {
                let mut all = c.to_vec();
                all.extend(lits);
                set(
                    plan,
                    id,
                    Expr::Select {
                        formula: Formula::conj(all),
                        input: below,
                    },
                );
                return true;
            }
            false
        }
        Expr::Join(a, b)
        | Expr::Product(a, b)
        | Expr::EquiJoin {
            left: a, right: b, ..
        }
        | Expr::ThetaJoin {
            left: a, right: b, ..
        } => {
            let (sa, sb) = (plan.schema(a), plan.schema(b));
            let (to_a, rest) = split(&lits, |s| subset(s, &sa));
            let (to_b, rest) = split(&rest, |s| subset(s, &sb));
            let mut changed = false;
            let (mut na, mut nb) = (a, b);
            if !to_a.is_empty() {
                na = wrap(plan, a, to_a);
                changed = true;
            }
            if !to_b.is_empty() {
                nb = wrap(plan, b, to_b);
                changed = true;
            }
            let mut rest = rest;
            let mut node = plan.expr(input).clone();
            for c in node.children_mut().into_iter().enumerate() {
                *c.1 = if c.0 == 0 { na } else { nb };
            }
            // Comparisons across a product make it a theta join (an equijoin for equalities).
            if let Expr::Product(l, r) = node.clone()
                && !rest.is_empty()
            {
                let cross: Vec<(Attr, Attr)> = rest
                    .iter()
                    .filter_map(|lit| match &lit.test {
                        Test::Cmp {
                            op: CmpOp::Eq,
                            lhs: Operand::Attr(x),
                            rhs: Operand::Attr(y),
                        } if !lit.negated => {
                            if sa.contains(x) && sb.contains(y) {
                                Some((x.clone(), y.clone()))
                            } else if sa.contains(y) && sb.contains(x) {
                                Some((y.clone(), x.clone()))
                            } else {
                                None
                            }
                        }
                        _ => None,
                    })
                    .collect();
                node = if cross.len() == rest.len() {
                    Expr::EquiJoin {
                        pairs: cross,
                        left: l,
                        right: r,
                    }
                } else {
                    Expr::ThetaJoin {
                        formula: Formula::conj(rest.clone()),
                        left: l,
                        right: r,
                    }
                };
                rest.clear();
                changed = true;
            }
            if changed {
                set(plan, input, node);
                finish(plan, rest);
            }
            changed
        }
        Expr::SemiJoin(a, b) | Expr::AntiJoin(a, b) => {
            let sa = plan.schema(a);
            let (to_a, rest) = split(&lits, |s| subset(s, &sa));
            if to_a.is_empty() {
                return false;
            }
            let na = wrap(plan, a, to_a);
            let node = match child {
                Expr::SemiJoin(..) => Expr::SemiJoin(na, b),
                _ => Expr::AntiJoin(na, b),
            };
            set(plan, input, node);
            finish(plan, rest);
            true
        }
        Expr::Diff(a, b) => {
            let na = wrap(plan, a, lits);
            set(plan, input, Expr::Diff(na, b));
            replace_with(plan, id, input);
            true
        }
        Expr::Union(xs) => {
            let mut new = Vec::new();
            for x in xs {
                new.push(wrap(plan, x, lits.clone()));
            }
            set(plan, input, Expr::Union(new));
            replace_with(plan, id, input);
            true
        }
        Expr::Project {
            attrs,
            input: below,
        } => {
            let na = wrap(plan, below, lits);
            set(plan, input, Expr::Project { attrs, input: na });
            replace_with(plan, id, input);
            true
        }
        Expr::Rename {
            pairs,
            input: below,
        } => {
            let back = |a: &str| {
                pairs
                    .iter()
                    .find(|(_, t)| t == a)
                    .map(|(f, _)| f.clone())
                    .unwrap_or_else(|| a.to_string())
            };
            let renamed: Vec<FLit> = lits.iter().map(|l| rename_lit(l, &back)).collect();
            let na = wrap(plan, below, renamed);
            set(plan, input, Expr::Rename { pairs, input: na });
            replace_with(plan, id, input);
            true
        }
        Expr::Map {
            bind,
            rhs,
            input: below,
        } => {
            let new_attrs: BTreeSet<Attr> = bind.attrs().into_iter().collect();
            let (down, rest) = split(&lits, |s| s.is_disjoint(&new_attrs));
            if down.is_empty() {
                return false;
            }
            let na = wrap(plan, below, down);
            set(
                plan,
                input,
                Expr::Map {
                    bind,
                    rhs,
                    input: na,
                },
            );
            finish(plan, rest);
            true
        }
        Expr::GroupBy {
            keys,
            aggs,
            input: below,
        } => {
            let (down, rest) = split(&lits, |s| subset(s, &keys));
            if down.is_empty() {
                return false;
            }
            let na = wrap(plan, below, down);
            set(
                plan,
                input,
                Expr::GroupBy {
                    keys,
                    aggs,
                    input: na,
                },
            );
            finish(plan, rest);
            true
        }
        Expr::Rel(_) | Expr::Values { .. } => false,
    }
}

pub fn run(plan: &mut Plan) -> bool {
    let mut changed = false;
    // Parents before children, so that one run moves a selection as far down as it goes.
    let mut order = post_order(plan);
    order.reverse();
    let mut work = order;
    while let Some(id) = work.pop() {
        if push(plan, id) {
            changed = true;
            // The node at `id` and whatever now sits below it may push further.
            work.push(id);
            for c in plan.expr(id).children() {
                work.push(c);
                for cc in plan.expr(c).children() {
                    work.push(cc);
                }
            }
        }
    }
    changed
}
