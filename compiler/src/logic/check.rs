//! Checks of a PomoLogic program: range restriction (every head variable is bound by the body),
//! sufficient bindings (tests, comparisons, function arguments and negated atoms only use bound
//! variables), and aggregation scoping. All errors of the program are collected.
//!
//! Binding is computed to a fixpoint, independent of literal order: positive atoms bind their
//! variables; a function application binds its outputs once its arguments are bound; `?x == t`
//! binds `?x` once `t` is bound; an aggregation binds its result and its grouping variables.

use super::ir::*;
use pomo_grammar::Diagnostic;
use std::collections::BTreeSet;

/// The grouping variables of an aggregation literal: the atom's variables that occur in the
/// rule's head, in a literal that is not an aggregation, or as the aggregate's own callee.
/// Another aggregation's atom is a scope of its own (PomoLogic spec §2.5.3), so a variable
/// that only other aggregations mention does not group this one.
pub fn agg_group_vars(rule: &Rule, idx: usize) -> Vec<String> {
    let Literal::Agg {
        func, args, atom, ..
    } = &rule.body[idx]
    else {
        return Vec::new();
    };
    let mut elsewhere: BTreeSet<&str> = rule.head.vars().collect();
    for (j, l) in rule.body.iter().enumerate() {
        if j != idx && !matches!(l, Literal::Agg { .. }) {
            elsewhere.extend(literal_vars(l));
        }
    }
    if let Callee::Var(v) = func {
        elsewhere.insert(v);
    }
    let aggregated: BTreeSet<&str> = args.iter().filter_map(|t| t.var()).collect();
    let mut out: Vec<String> = Vec::new();
    for v in atom.vars() {
        if elsewhere.contains(v) && !aggregated.contains(v) && !out.iter().any(|x| x == v) {
            out.push(v.to_string());
        }
    }
    out
}

/// Every variable a literal mentions.
pub fn literal_vars(l: &Literal) -> Vec<&str> {
    fn tv(ts: &[Term]) -> Vec<&str> {
        ts.iter().filter_map(|t| t.var()).collect()
    }
    match l {
        Literal::Pos { cid, atom } => atom.vars().chain(cid.as_deref()).collect(),
        Literal::Neg(a) => a.vars().collect(),
        Literal::Cmp { lhs, rhs, .. } => lhs.var().into_iter().chain(rhs.var()).collect(),
        Literal::Test { func, args, .. } => {
            let mut v = tv(args);
            if let Callee::Var(f) = func {
                v.push(f);
            }
            v
        }
        Literal::Apply { bind, func, args } => {
            let mut v = tv(args);
            v.extend(bind.vars());
            if let Callee::Var(f) = func {
                v.push(f);
            }
            v
        }
        Literal::Agg {
            out,
            func,
            args,
            atom,
        } => {
            let mut v: Vec<&str> = vec![out];
            v.extend(tv(args));
            v.extend(atom.vars());
            if let Callee::Var(f) = func {
                v.push(f);
            }
            v
        }
    }
}

/// The variables a literal needs bound before it can run.
pub(crate) fn needs<'a>(rule: &'a Rule, idx: usize, bound: &BTreeSet<String>) -> Vec<&'a str> {
    let l = &rule.body[idx];
    let mut out: Vec<&str> = match l {
        Literal::Pos { .. } | Literal::Agg { .. } => Vec::new(),
        Literal::Neg(a) => a.vars().collect(),
        Literal::Cmp { op, lhs, rhs } => {
            let (lv, rv) = (lhs.var(), rhs.var());
            let lb = lv.is_none_or(|v| bound.contains(v));
            let rb = rv.is_none_or(|v| bound.contains(v));
            // `?x == t` can bind one unbound side from the other.
            if *op == pomo_types::ra::CmpOp::Eq && (lb || rb) {
                Vec::new()
            } else {
                lv.into_iter().chain(rv).collect()
            }
        }
        Literal::Test { .. } => literal_vars(l),
        Literal::Apply { func, args, .. } => {
            let mut v: Vec<&str> = args.iter().filter_map(|t| t.var()).collect();
            if let Callee::Var(f) = func {
                v.push(f);
            }
            v
        }
    };
    out.retain(|v| !bound.contains(*v));
    out
}

/// The variables bound by a rule body, computed to a fixpoint.
pub fn bound_vars(rule: &Rule) -> BTreeSet<String> {
    let mut bound: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = bound.len();
        for (i, l) in rule.body.iter().enumerate() {
            match l {
                Literal::Pos { cid, atom } => {
                    bound.extend(atom.vars().map(String::from));
                    bound.extend(cid.clone());
                }
                Literal::Apply { bind, .. } if needs(rule, i, &bound).is_empty() => {
                    bound.extend(bind.vars().into_iter().map(String::from));
                }
                Literal::Cmp {
                    op: pomo_types::ra::CmpOp::Eq,
                    lhs,
                    rhs,
                } => {
                    let lb = lhs.var().is_none_or(|v| bound.contains(v));
                    let rb = rhs.var().is_none_or(|v| bound.contains(v));
                    if lb && !rb {
                        bound.extend(rhs.var().map(String::from));
                    } else if rb && !lb {
                        bound.extend(lhs.var().map(String::from));
                    }
                }
                Literal::Agg { out, .. } => {
                    bound.insert(out.clone());
                    bound.extend(agg_group_vars(rule, i));
                }
                _ => {}
            }
        }
        if bound.len() == before {
            return bound;
        }
    }
}

fn label(p: &Program, rule: usize, lit: Option<usize>, d: Diagnostic, msg: &str) -> Diagnostic {
    let span = match lit {
        Some(i) => p.literal_span(rule, i),
        None => p.rule_span(rule),
    };
    match span {
        Some((file, span)) => d.with_label_in(file, span, msg),
        None => d,
    }
}

/// Checks every rule; returns all errors found.
pub fn check(p: &Program) -> Vec<Diagnostic> {
    let mut errs = Vec::new();
    for (ri, rule) in p.rules.iter().enumerate() {
        let bound = bound_vars(rule);
        for (li, _) in rule.body.iter().enumerate() {
            let missing = needs(rule, li, &bound);
            if !missing.is_empty() {
                let mut uniq: Vec<&str> = missing.clone();
                uniq.dedup();
                let d = Diagnostic::error(
                    "E0211",
                    format!("insufficient bindings: {} not bound in a rule for `{}`", uniq.join(", "), p.rel(rule.head.rel).name),
                )
                .with_help("bind the variable with a positive atom, a function application or `?x == value`");
                errs.push(label(
                    p,
                    ri,
                    Some(li),
                    d,
                    &format!("needs {} bound", uniq.join(", ")),
                ));
            }
            if let Literal::Pos { cid: Some(c), atom } = &rule.body[li]
                && p.is_derived(atom.rel)
            {
                let d = Diagnostic::error("E0232", format!("{c} binds the CID of a derived tuple of `{}`", p.rel(atom.rel).name))
                        .with_help("CIDs are bound on base relations (stored facts); derived tuples have no CID yet");
                errs.push(label(p, ri, Some(li), d, "CID binding"));
            }
            if let Literal::Agg { args, atom, .. } = &rule.body[li] {
                let atom_vars: BTreeSet<&str> = atom.vars().collect();
                for a in args.iter().filter_map(|t| t.var()) {
                    if !atom_vars.contains(a) {
                        let d = Diagnostic::error(
                            "E0219",
                            format!(
                                "aggregated variable {a} does not occur in the aggregated atom"
                            ),
                        );
                        errs.push(label(p, ri, Some(li), d, "aggregation"));
                    }
                }
            }
        }
        let unbound: Vec<&str> = rule.head.vars().filter(|v| !bound.contains(*v)).collect();
        if !unbound.is_empty() {
            let mut uniq = unbound.clone();
            uniq.dedup();
            let d = Diagnostic::error(
                "E0220",
                format!(
                    "rule for `{}` is not range restricted: {} not bound by its body",
                    p.rel(rule.head.rel).name,
                    uniq.join(", ")
                ),
            )
            .with_help("every variable of a rule's head must be bound by its body");
            errs.push(label(p, ri, None, d, "head variable not bound"));
        }
        let rel = p.rel(rule.head.rel);
        let missing: Vec<&str> = rel
            .attrs
            .iter()
            .filter(|a| !rule.head.args.iter().any(|(x, _)| x == *a))
            .map(|a| a.as_str())
            .collect();
        if !missing.is_empty() {
            let d = Diagnostic::error(
                "E0230",
                format!(
                    "rule head for `{}` does not give attribute(s) {}",
                    rel.name,
                    missing.join(", ")
                ),
            )
            .with_help("every rule of a relation must give a value to each of its attributes");
            errs.push(label(p, ri, None, d, "incomplete head"));
        }
        if matches!(
            p.rel(rule.head.rel).kind,
            pomo_types::ra::RelKind::Base
                | pomo_types::ra::RelKind::View { .. }
                | pomo_types::ra::RelKind::Input(_)
        ) {
            let d = Diagnostic::error(
                "E0221",
                format!(
                    "`{}` is a base or input relation and cannot be the head of a rule",
                    p.rel(rule.head.rel).name
                ),
            );
            errs.push(label(p, ri, None, d, "rule head"));
        }
    }
    errs
}
