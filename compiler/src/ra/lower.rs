//! Lowering of a stratified PomoLogic program to a PomoRA plan (PomoLogic spec §3.1).
//!
//! Each rule becomes an expression: every positive atom is a source (`select` on its constants,
//! `project` on its attributes, `rename` to its variables), the sources are folded with natural
//! joins (products when they share nothing); then tests, comparisons, function applications,
//! negations (antijoins) and aggregations (group-bys) are applied as soon as the variables they
//! need are in the schema; finally the head renames variables to attributes. Attributes that
//! hold variables are named by the variable (`?x`), which cannot collide with relation
//! attributes. A recursive stratum becomes a semi-naive loop: the rules without a recursive atom
//! initialise the relations, and each loop iteration evaluates one variant of every recursive
//! rule per recursive atom, reading that atom's `@delta` and the other atoms' totals.

use crate::logic::check::agg_group_vars;
use crate::logic::ir::{self as L, Program};
use crate::strata::Stratum as LStratum;
use pomo_types::Value;
use pomo_types::ra::*;
use std::collections::{BTreeMap, BTreeSet};

/// The control attribute that holds a fact's CID.
pub const CID_ATTR: &str = "$cid";

/// Lowers a program with its strata.
pub fn lower_program(p: &Program, strata: &[LStratum]) -> Plan {
    let mut plan = Plan::default();
    // A base relation whose facts' CIDs a rule binds exposes them as the control attribute
    // `$cid` (PomoLogic spec §2.2).
    let mut with_cid = BTreeSet::new();
    for rule in &p.rules {
        for l in &rule.body {
            if let L::Literal::Pos { cid: Some(_), atom } = l {
                with_cid.insert(atom.rel);
            }
        }
    }
    // Declarations in a canonical order that does not depend on how the program was written
    // down: base and input relations in program order, then derived ones in stratum order.
    let mut order: Vec<L::RelId> = (0..p.relations.len() as u32)
        .map(L::RelId)
        .filter(|&r| !p.is_derived(r))
        .collect();
    let rest = (0..p.relations.len() as u32)
        .map(L::RelId)
        .filter(|&r| p.is_derived(r));
    for r in strata
        .iter()
        .flat_map(|s| s.relations.iter().copied())
        .chain(rest)
    {
        if !order.contains(&r) {
            order.push(r);
        }
    }
    for id in order {
        let r = p.rel(id);
        let mut attrs = r.attrs.clone();
        if with_cid.contains(&id) {
            attrs.push(CID_ATTR.to_string());
        }
        plan.relations.push(RelDecl {
            name: r.name.clone(),
            attrs,
            kind: r.kind.clone(),
        });
    }
    for s in strata {
        let stratum = lower_stratum(p, s, &mut plan);
        plan.strata.push(stratum);
    }
    plan
}

fn lower_stratum(p: &Program, s: &LStratum, plan: &mut Plan) -> Stratum {
    let members: BTreeSet<L::RelId> = s.relations.iter().copied().collect();
    let is_recursive_atom =
        |l: &L::Literal| matches!(l, L::Literal::Pos { atom, .. } if members.contains(&atom.rel));
    // Inductive rules write the next epoch's version; a non-recursive stratum assigns each
    // relation once; a recursive one starts from its rules without recursive atoms.
    let (version, init_only) = if s.inductive {
        (Version::Next, false)
    } else {
        (Version::Total, s.recursive)
    };
    let mut stmts = Vec::new();
    for &rel in &s.relations {
        let exprs: Vec<ExprId> = s
            .rules
            .iter()
            .filter(|&&r| p.rules[r].head.rel == rel)
            .filter(|&&r| !init_only || !p.rules[r].body.iter().any(is_recursive_atom))
            .map(|&r| lower_rule(p, &p.rules[r], &BTreeMap::new(), plan))
            .collect();
        let e = union_of(plan, exprs, &p.rel(rel).attrs);
        stmts.push(Stmt::Assign {
            target: RelRef::with_version(&p.rel(rel).name, version),
            expr: e,
        });
    }
    if !s.recursive || s.inductive {
        return Stratum {
            recursive: false,
            stmts,
        };
    }
    for &rel in &s.relations {
        let name = &p.rel(rel).name;
        let e = plan.add(Expr::Rel(RelRef::total(name)));
        stmts.push(Stmt::Assign {
            target: RelRef::with_version(name, Version::Delta),
            expr: e,
        });
    }
    let mut body = Vec::new();
    for &rel in &s.relations {
        let name = &p.rel(rel).name;
        let mut variants = Vec::new();
        for &r in s.rules.iter().filter(|&&r| p.rules[r].head.rel == rel) {
            let rule = &p.rules[r];
            for (i, _) in rule
                .body
                .iter()
                .enumerate()
                .filter(|(_, l)| is_recursive_atom(l))
            {
                let versions = BTreeMap::from([(i, Version::Delta)]);
                variants.push(lower_rule(p, rule, &versions, plan));
            }
        }
        let derived = union_of(plan, variants, &p.rel(rel).attrs);
        let total = plan.add(Expr::Rel(RelRef::total(name)));
        let new = plan.add(Expr::Diff(derived, total));
        body.push(Stmt::Assign {
            target: RelRef::with_version(name, Version::New),
            expr: new,
        });
    }
    for &rel in &s.relations {
        let name = &p.rel(rel).name;
        let total = plan.add(Expr::Rel(RelRef::total(name)));
        let new = plan.add(Expr::Rel(RelRef::with_version(name, Version::New)));
        let u = plan.add(Expr::Union(vec![total, new]));
        body.push(Stmt::Assign {
            target: RelRef::total(name),
            expr: u,
        });
    }
    for &rel in &s.relations {
        let name = &p.rel(rel).name;
        let new = plan.add(Expr::Rel(RelRef::with_version(name, Version::New)));
        body.push(Stmt::Assign {
            target: RelRef::with_version(name, Version::Delta),
            expr: new,
        });
    }
    let until = s
        .relations
        .iter()
        .map(|&r| RelRef::with_version(&p.rel(r).name, Version::Delta))
        .collect();
    stmts.push(Stmt::Loop { body, until });
    Stratum {
        recursive: true,
        stmts,
    }
}

/// The union of rule expressions; no rule gives the empty relation.
fn union_of(plan: &mut Plan, exprs: Vec<ExprId>, attrs: &[String]) -> ExprId {
    match exprs.len() {
        0 => plan.add(Expr::Values {
            attrs: attrs.to_vec(),
            rows: Vec::new(),
        }),
        1 => exprs[0],
        _ => plan.add(Expr::Union(exprs)),
    }
}

fn operand(t: &L::Term) -> Operand {
    match t {
        L::Term::Var(v) => Operand::Attr(v.clone()),
        L::Term::Const(c) => Operand::Const(c.clone()),
        L::Term::Wild => Operand::Const(Value::Nil),
    }
}

fn callee(c: &L::Callee) -> Callee {
    match c {
        L::Callee::Builtin(n) => Callee::Builtin(n.clone()),
        L::Callee::Var(v) => Callee::Attr(v.clone()),
    }
}

/// The source expression of an atom: select constants, project, rename to variables. A
/// variable repeated inside the atom is renamed to a fresh attribute and equated.
fn atom_source(
    p: &Program,
    atom: &L::Atom,
    cid: Option<&str>,
    version: Version,
    plan: &mut Plan,
) -> ExprId {
    let rel = p.rel(atom.rel);
    let mut e = plan.add(Expr::Rel(RelRef::with_version(&rel.name, version)));
    let mut eqs: Vec<FLit> = Vec::new();
    for (a, t) in &atom.args {
        if let L::Term::Const(c) = t {
            eqs.push(FLit {
                negated: false,
                test: Test::Cmp {
                    op: CmpOp::Eq,
                    lhs: Operand::Attr(a.clone()),
                    rhs: Operand::Const(c.clone()),
                },
            });
        }
    }
    let mut proj: Vec<String> = Vec::new();
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for (a, t) in &atom.args {
        if let L::Term::Var(v) = t {
            if let Some(first) = seen.get(v.as_str()) {
                // Same variable twice: compare the two attributes and keep the first.
                eqs.push(FLit {
                    negated: false,
                    test: Test::Cmp {
                        op: CmpOp::Eq,
                        lhs: Operand::Attr(first.clone()),
                        rhs: Operand::Attr(a.clone()),
                    },
                });
            } else {
                seen.insert(v, a.clone());
                proj.push(a.clone());
                renames.push((a.clone(), v.clone()));
            }
        }
    }
    if let Some(c) = cid {
        proj.push(CID_ATTR.into());
        renames.push((CID_ATTR.into(), c.to_string()));
    }
    if !eqs.is_empty() {
        e = plan.add(Expr::Select {
            formula: Formula::conj(eqs),
            input: e,
        });
    }
    e = plan.add(Expr::Project {
        attrs: proj,
        input: e,
    });
    if !renames.is_empty() {
        e = plan.add(Expr::Rename {
            pairs: renames,
            input: e,
        });
    }
    e
}

fn join(plan: &mut Plan, a: ExprId, b: ExprId) -> ExprId {
    let sa: BTreeSet<String> = plan.schema(a).into_iter().collect();
    let shares = plan.schema(b).iter().any(|x| sa.contains(x));
    plan.add(if shares {
        Expr::Join(a, b)
    } else {
        Expr::Product(a, b)
    })
}

/// The order in which a rule's positive atoms are joined: an atom read as a delta first (it is
/// the smallest input of a semi-naive variant), then greedily the first atom in body order that
/// shares a variable with those already joined, so that products appear only where the rule
/// itself has no join condition.
fn join_order(rule: &L::Rule, versions: &BTreeMap<usize, Version>) -> Vec<usize> {
    let atoms: Vec<usize> = rule
        .body
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l, L::Literal::Pos { .. }))
        .map(|(i, _)| i)
        .collect();
    let vars = |i: usize| -> BTreeSet<&str> {
        match &rule.body[i] {
            L::Literal::Pos { cid, atom } => atom.vars().chain(cid.as_deref()).collect(),
            _ => BTreeSet::new(),
        }
    };
    let mut rest = atoms.clone();
    let mut order = Vec::new();
    let mut bound: BTreeSet<&str> = BTreeSet::new();
    let first = rest
        .iter()
        .position(|i| versions.get(i) == Some(&Version::Delta))
        .unwrap_or(0);
    while !rest.is_empty() {
        let pick = if order.is_empty() {
            first
        } else {
            rest.iter()
                .position(|&i| !vars(i).is_disjoint(&bound))
                .unwrap_or(0)
        };
        let i = rest.remove(pick);
        bound.extend(vars(i));
        order.push(i);
    }
    order
}

/// Lowers one rule; `versions` says which body atoms read a relation version other than total.
pub fn lower_rule(
    p: &Program,
    rule: &L::Rule,
    versions: &BTreeMap<usize, Version>,
    plan: &mut Plan,
) -> ExprId {
    let mut acc: Option<ExprId> = None;
    for i in join_order(rule, versions) {
        if let L::Literal::Pos { cid, atom } = &rule.body[i] {
            let v = versions.get(&i).copied().unwrap_or(Version::Total);
            let src = atom_source(p, atom, cid.as_deref(), v, plan);
            acc = Some(match acc {
                None => src,
                Some(a) => join(plan, a, src),
            });
        }
    }
    // Aggregations over the same atom with the same grouping share one group-by.
    // (grouping variables, aggregated atom, calls): one group-by each.
    let mut agg_groups: Vec<(Vec<String>, L::Atom, Vec<AggCall>)> = Vec::new();
    for (i, l) in rule.body.iter().enumerate() {
        if let L::Literal::Agg {
            out,
            func,
            args,
            atom,
        } = l
        {
            let g = agg_group_vars(rule, i);
            let call = AggCall {
                out: out.clone(),
                func: callee(func),
                args: args.iter().map(operand).collect(),
            };
            match agg_groups
                .iter_mut()
                .find(|(gg, a, _)| *gg == g && a == atom)
            {
                Some(entry) => entry.2.push(call),
                None => agg_groups.push((g, atom.clone(), vec![call])),
            }
        }
    }
    let mut pending: Vec<usize> = rule
        .body
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, L::Literal::Pos { .. } | L::Literal::Agg { .. }))
        .map(|(i, _)| i)
        .collect();
    // Group-bys need nothing bound: they join in as soon as they are computed.
    for (keys, atom, aggs) in agg_groups {
        let src = atom_source(p, &atom, None, Version::Total, plan);
        let g = plan.add(Expr::GroupBy {
            keys,
            aggs,
            input: src,
        });
        acc = Some(match acc {
            None => g,
            Some(a) => join(plan, a, g),
        });
    }
    let mut acc = match acc {
        Some(a) => a,
        None => plan.add(Expr::Values {
            attrs: Vec::new(),
            rows: vec![Vec::new()],
        }),
    };
    let mut fresh = 0usize;
    while !pending.is_empty() {
        let schema: BTreeSet<String> = plan.schema(acc).into_iter().collect();
        let has = |t: &L::Term| t.var().is_none_or(|v| schema.contains(v));
        let pos = pending.iter().position(|&i| match &rule.body[i] {
            L::Literal::Neg(a) => a.args.iter().all(|(_, t)| has(t)),
            L::Literal::Cmp { op, lhs, rhs } => {
                (has(lhs) && has(rhs)) || (*op == CmpOp::Eq && (has(lhs) || has(rhs)))
            }
            L::Literal::Test { func, args, .. } => {
                args.iter().all(has) && !matches!(func, L::Callee::Var(f) if !schema.contains(f))
            }
            L::Literal::Apply { func, args, .. } => {
                args.iter().all(has) && !matches!(func, L::Callee::Var(f) if !schema.contains(f))
            }
            _ => false,
        });
        // A rule that passed the checker always makes progress; stop rather than loop if not.
        let Some(pos) = pos else { break };
        let i = pending.remove(pos);
        acc = match &rule.body[i] {
            L::Literal::Neg(atom) => {
                let src = atom_source(
                    p,
                    atom,
                    None,
                    versions.get(&i).copied().unwrap_or(Version::Total),
                    plan,
                );
                plan.add(Expr::AntiJoin(acc, src))
            }
            L::Literal::Cmp { op, lhs, rhs } => {
                if has(lhs) && has(rhs) {
                    let f = Formula::conj(vec![FLit {
                        negated: false,
                        test: Test::Cmp {
                            op: *op,
                            lhs: operand(lhs),
                            rhs: operand(rhs),
                        },
                    }]);
                    plan.add(Expr::Select {
                        formula: f,
                        input: acc,
                    })
                } else {
                    // `?x == t` with `?x` unbound binds it.
                    let (var, val) = if has(lhs) { (rhs, lhs) } else { (lhs, rhs) };
                    let var = var
                        .var()
                        .expect("the unbound side is a variable")
                        .to_string();
                    plan.add(Expr::Map {
                        bind: MapBind::Scalar(var),
                        rhs: MapRhs::Operand(operand(val)),
                        input: acc,
                    })
                }
            }
            L::Literal::Test {
                func,
                args,
                negated,
            } => {
                let f = Formula::conj(vec![FLit {
                    negated: *negated,
                    test: Test::Call {
                        func: callee(func),
                        args: args.iter().map(operand).collect(),
                    },
                }]);
                plan.add(Expr::Select {
                    formula: f,
                    input: acc,
                })
            }
            L::Literal::Apply { bind, func, args } => {
                // Outputs already bound act as equality filters: bind a fresh attribute, compare.
                let mut eqs = Vec::new();
                let mut out_attr = |t: &L::Term| -> Option<String> {
                    match t {
                        L::Term::Var(v) if schema.contains(v) => {
                            fresh += 1;
                            let tmp = format!("{v}.{fresh}");
                            eqs.push((v.clone(), tmp.clone()));
                            Some(tmp)
                        }
                        L::Term::Var(v) => Some(v.clone()),
                        _ => None,
                    }
                };
                // A `_` result still needs an attribute to exist (the call may drop the tuple);
                // it is projected away below.
                let mbind = match bind {
                    L::Bind::Scalar(t) => MapBind::Scalar(out_attr(t).unwrap_or_else(|| {
                        fresh += 1;
                        format!("?_.{fresh}")
                    })),
                    L::Bind::Coll(t) => MapBind::Coll(out_attr(t).unwrap_or_else(|| {
                        fresh += 1;
                        format!("?_.{fresh}")
                    })),
                    L::Bind::Tuple(ts) => MapBind::Tuple(ts.iter().map(&mut out_attr).collect()),
                    L::Bind::Rel(ts) => MapBind::Rel(ts.iter().map(&mut out_attr).collect()),
                };
                let before = plan.schema(acc);
                let mut e = plan.add(Expr::Map {
                    bind: mbind,
                    rhs: MapRhs::Call {
                        func: callee(func),
                        args: args.iter().map(operand).collect(),
                    },
                    input: acc,
                });
                if !eqs.is_empty() {
                    let lits = eqs
                        .iter()
                        .map(|(v, t)| FLit {
                            negated: false,
                            test: Test::Cmp {
                                op: CmpOp::Eq,
                                lhs: Operand::Attr(v.clone()),
                                rhs: Operand::Attr(t.clone()),
                            },
                        })
                        .collect();
                    e = plan.add(Expr::Select {
                        formula: Formula::conj(lits),
                        input: e,
                    });
                }
                // Drop wildcard and temporary attributes.
                let keep: Vec<String> = plan
                    .schema(e)
                    .into_iter()
                    .filter(|a| {
                        before.contains(a)
                            || !(a.starts_with("?_.") || eqs.iter().any(|(_, t)| t == a))
                    })
                    .collect();
                if keep.len() != plan.schema(e).len() {
                    e = plan.add(Expr::Project {
                        attrs: keep,
                        input: e,
                    });
                }
                e
            }
            _ => acc,
        };
    }
    head(rule, p, acc, plan)
}

/// Projects the body onto the head's variables and renames them to the head's attributes.
fn head(rule: &L::Rule, p: &Program, body: ExprId, plan: &mut Plan) -> ExprId {
    let mut vars: Vec<String> = Vec::new();
    for v in rule.head.vars() {
        if !vars.iter().any(|x| x == v) {
            vars.push(v.to_string());
        }
    }
    let mut e = plan.add(Expr::Project {
        attrs: vars.clone(),
        input: body,
    });
    let mut renamed: BTreeSet<&str> = BTreeSet::new();
    let mut renames = Vec::new();
    for (attr, t) in &rule.head.args {
        match t {
            L::Term::Var(v) if !renamed.contains(v.as_str()) => {
                renamed.insert(v);
                renames.push((v.clone(), attr.clone()));
            }
            L::Term::Var(v) => {
                e = plan.add(Expr::Map {
                    bind: MapBind::Scalar(attr.clone()),
                    rhs: MapRhs::Operand(Operand::Attr(v.clone())),
                    input: e,
                });
            }
            L::Term::Const(c) => {
                e = plan.add(Expr::Map {
                    bind: MapBind::Scalar(attr.clone()),
                    rhs: MapRhs::Operand(Operand::Const(c.clone())),
                    input: e,
                });
            }
            L::Term::Wild => {
                e = plan.add(Expr::Map {
                    bind: MapBind::Scalar(attr.clone()),
                    rhs: MapRhs::Operand(Operand::Const(Value::Nil)),
                    input: e,
                });
            }
        }
    }
    if !renames.is_empty() {
        e = plan.add(Expr::Rename {
            pairs: renames,
            input: e,
        });
    }
    let want = p.rel(rule.head.rel).attrs.clone();
    if plan.schema(e) != want {
        e = plan.add(Expr::Project {
            attrs: want,
            input: e,
        });
    }
    e
}
