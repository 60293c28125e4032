//! Lowering of PomoRA plans to flow plans (ARCHITECTURE §7, "dataflow"; types in
//! [`pomo_types::flow`]).
//!
//! A non-recursive stratum's assignments become definitions as they are. A recursive stratum's
//! semi-naive loop is folded back into one equation per relation: `R = distinct(init ∪ body)`,
//! where `init` is what the stratum assigns to `R` before its loop and `body` is the loop's
//! `R@new` expression with every `@delta` read as the total and the closing `diff(…, R)` dropped
//! (`R ∪ (x − R)` is `R ∪ x`). The dataflow's iterative scope then does the semi-naive work
//! itself, and keeps doing it as the inputs change.
//!
//! Attribute names disappear here: every node's columns are positions, joins key on the
//! columns both sides share, and each join input is arranged by its key. Nodes and arrangements
//! are hash-consed, so rules that read the same relation by the same key share one arrangement.

use pomo_types::flow::*;
use pomo_types::ra::{Attr, Expr, ExprId, Plan, Stmt, Version};
use std::collections::{BTreeSet, HashMap};

/// Lowers an (optimized) PomoRA plan to a flow plan, before its passes.
///
/// ```
/// use pomo_compiler::{compile, Input};
/// let c = compile(&Input::Logic(".decl edge(from, to)\n\
///     path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\n\
///     path(from: ?x, to: ?z) :- path(from: ?x, to: ?y), edge(from: ?y, to: ?z).\n"), &Default::default()).unwrap();
/// let text = c.flow.to_string();
/// assert!(text.contains("stratum 0 iterate {"));
/// assert!(text.contains("join(a"));
/// ```
pub fn lower(plan: &Plan) -> FlowPlan {
    let mut l = Lowering {
        plan,
        flow: FlowPlan {
            relations: plan.relations.clone(),
            ..FlowPlan::default()
        },
        nodes: HashMap::new(),
        arrs: HashMap::new(),
        memo: HashMap::new(),
    };
    // Relations carried by inductive rules read their previous epoch's `@next`.
    let carried: BTreeSet<String> = plan
        .strata
        .iter()
        .flat_map(|s| &s.stmts)
        .filter_map(|s| match s {
            Stmt::Assign { target, .. } if target.version == Version::Next => {
                Some(target.name.clone())
            }
            _ => None,
        })
        .collect();
    for st in &plan.strata {
        let mut defs: Vec<Def> = Vec::new();
        let recursive = st.stmts.iter().any(|s| matches!(s, Stmt::Loop { .. }));
        if recursive {
            // name -> (init parts, loop parts)
            let mut parts: Vec<(String, Vec<NodeId>)> = Vec::new();
            let add = |name: &str, n: NodeId, parts: &mut Vec<(String, Vec<NodeId>)>| match parts
                .iter_mut()
                .find(|(r, _)| r == name)
            {
                Some((_, xs)) => xs.push(n),
                None => parts.push((name.to_string(), vec![n])),
            };
            for s in &st.stmts {
                match s {
                    Stmt::Assign { target, expr } if target.version == Version::Total => {
                        let n = l.expr_as(*expr, &target.name, true);
                        add(&target.name, n, &mut parts);
                    }
                    Stmt::Assign { .. } => {}
                    Stmt::Loop { body, .. } => {
                        for b in body {
                            let Stmt::Assign { target, expr } = b else {
                                continue;
                            };
                            if target.version != Version::New {
                                continue;
                            }
                            let e = match plan.expr(*expr) {
                                Expr::Diff(x, total)
                                    if matches!(plan.expr(*total), Expr::Rel(r)
                                        if r.name == target.name && r.version == Version::Total) =>
                                {
                                    *x
                                }
                                _ => *expr,
                            };
                            let n = l.expr_as(e, &target.name, true);
                            add(&target.name, n, &mut parts);
                        }
                    }
                }
            }
            for (name, xs) in parts {
                let node = l.define(&name, xs, carried.contains(&name));
                defs.push(Def {
                    relation: name,
                    next: false,
                    node,
                });
            }
        } else {
            for s in &st.stmts {
                let Stmt::Assign { target, expr } = s else {
                    continue;
                };
                match target.version {
                    Version::Total => {
                        let n = l.expr_as(*expr, &target.name, false);
                        let node = l.define(&target.name, vec![n], carried.contains(&target.name));
                        defs.push(Def {
                            relation: target.name.clone(),
                            next: false,
                            node,
                        });
                    }
                    Version::Next => {
                        let n = l.expr_as(*expr, &target.name, false);
                        let node = l.node(Node::Distinct(n));
                        defs.push(Def {
                            relation: target.name.clone(),
                            next: true,
                            node,
                        });
                    }
                    Version::Delta | Version::New => {}
                }
            }
        }
        l.flow.strata.push(FlowStratum { recursive, defs });
    }
    // A carried relation that no stratum defines (only `@next` rules) still holds its carried
    // tuples: define it as the carried source, in a stratum before everything.
    let defined: BTreeSet<String> = l
        .flow
        .strata
        .iter()
        .flat_map(|s| &s.defs)
        .filter(|d| !d.next)
        .map(|d| d.relation.clone())
        .collect();
    let mut first = Vec::new();
    for name in carried.iter().filter(|n| !defined.contains(*n)) {
        let node = l.define(name, vec![], true);
        first.push(Def {
            relation: name.clone(),
            next: false,
            node,
        });
    }
    if !first.is_empty() {
        l.flow.strata.insert(
            0,
            FlowStratum {
                recursive: false,
                defs: first,
            },
        );
    }
    l.flow
}

struct Lowering<'a> {
    plan: &'a Plan,
    flow: FlowPlan,
    nodes: HashMap<Node, NodeId>,
    arrs: HashMap<Arrangement, ArrId>,
    memo: HashMap<(ExprId, bool), (NodeId, Vec<Attr>)>,
}

impl Lowering<'_> {
    fn node(&mut self, n: Node) -> NodeId {
        if let Some(id) = self.nodes.get(&n) {
            return *id;
        }
        let id = NodeId(self.flow.nodes.len() as u32);
        self.flow.nodes.push(n.clone());
        self.nodes.insert(n, id);
        id
    }

    fn arrange(&mut self, input: NodeId, key: Vec<usize>, keys_only: bool) -> ArrId {
        let a = Arrangement {
            input,
            key,
            keys_only,
        };
        if let Some(id) = self.arrs.get(&a) {
            return *id;
        }
        let id = ArrId(self.flow.arrangements.len() as u32);
        self.flow.arrangements.push(a.clone());
        self.arrs.insert(a, id);
        id
    }

    /// A relation's definition from its parts. A relation that inductive rules carry also holds
    /// the previous epoch's `@next`, and its constant parts (facts) hold only in the first epoch.
    fn define(&mut self, name: &str, parts: Vec<NodeId>, carried_rel: bool) -> NodeId {
        let mut xs: Vec<NodeId> = Vec::new();
        for p in parts {
            let p = if carried_rel && !self.reads_a_source(p) {
                self.node(Node::Initial(p))
            } else {
                p
            };
            if !xs.contains(&p) {
                xs.push(p);
            }
        }
        if carried_rel {
            let c = self.node(Node::Source(carried(name)));
            xs.push(c);
        }
        let u = match xs.len() {
            1 => xs[0],
            0 => {
                let arity = self.attrs(name).len();
                self.node(Node::Values {
                    arity,
                    rows: Vec::new(),
                })
            }
            _ => self.node(Node::Union(xs)),
        };
        self.node(Node::Distinct(u))
    }

    fn reads_a_source(&self, n: NodeId) -> bool {
        let node = self.flow.node(n);
        if matches!(node, Node::Source(_)) {
            return true;
        }
        node.inputs().into_iter().any(|i| self.reads_a_source(i))
            || node.arrangements().into_iter().any(|a| {
                let input = self.flow.arrangement(a).input;
                self.reads_a_source(input)
            })
    }

    fn attrs(&self, rel: &str) -> Vec<Attr> {
        self.plan
            .relation(rel)
            .map(|d| d.attrs.clone())
            .unwrap_or_default()
    }

    /// An expression with its columns in the order of relation `rel`'s attributes.
    fn expr_as(&mut self, e: ExprId, rel: &str, in_loop: bool) -> NodeId {
        let (n, schema) = self.expr(e, in_loop);
        let want = self.attrs(rel);
        self.reorder(n, &schema, &want)
    }

    fn reorder(&mut self, n: NodeId, schema: &[Attr], want: &[Attr]) -> NodeId {
        if schema == want {
            return n;
        }
        let cols: Vec<usize> = want
            .iter()
            .map(|a| schema.iter().position(|x| x == a).unwrap_or(0))
            .collect();
        self.node(Node::Project { cols, input: n })
    }

    fn expr(&mut self, id: ExprId, in_loop: bool) -> (NodeId, Vec<Attr>) {
        if let Some(x) = self.memo.get(&(id, in_loop)) {
            return x.clone();
        }
        let plan = self.plan;
        let r = match plan.expr(id) {
            Expr::Rel(r) => {
                let name = match r.version {
                    Version::Next => format!("{}@next", r.name),
                    _ => r.name.clone(),
                };
                (self.node(Node::Source(name)), self.attrs(&r.name))
            }
            Expr::Project { attrs, input } => {
                let (n, s) = self.expr(*input, in_loop);
                (self.reorder(n, &s, attrs), attrs.clone())
            }
            Expr::Rename { pairs, input } => {
                let (n, mut s) = self.expr(*input, in_loop);
                for a in &mut s {
                    if let Some((_, t)) = pairs.iter().find(|(f, _)| f == a) {
                        a.clone_from(t);
                    }
                }
                (n, s)
            }
            Expr::Select { formula, input } => {
                let (n, s) = self.expr(*input, in_loop);
                let f = self.node(Node::Filter {
                    schema: s.clone(),
                    formula: formula.clone(),
                    input: n,
                });
                (f, s)
            }
            Expr::Union(xs) => {
                let mut parts = Vec::new();
                let mut schema: Option<Vec<Attr>> = None;
                for x in xs {
                    let (n, s) = self.expr(*x, in_loop);
                    let n = match &schema {
                        None => {
                            schema = Some(s);
                            n
                        }
                        Some(want) => {
                            let want = want.clone();
                            self.reorder(n, &s, &want)
                        }
                    };
                    if !parts.contains(&n) {
                        parts.push(n);
                    }
                }
                let schema = schema.unwrap_or_default();
                let n = match parts.len() {
                    0 => self.node(Node::Values {
                        arity: 0,
                        rows: Vec::new(),
                    }),
                    1 => parts[0],
                    _ => self.node(Node::Union(parts)),
                };
                (n, schema)
            }
            Expr::Diff(a, b) => {
                let (na, sa) = self.expr(*a, in_loop);
                let (nb, sb) = self.expr(*b, in_loop);
                let nb = self.reorder(nb, &sb, &sa);
                let all: Vec<usize> = (0..sa.len()).collect();
                let da = self.node(Node::Distinct(na));
                let left = self.arrange(da, all.clone(), false);
                let right = self.arrange(nb, all.clone(), true);
                let out = all.iter().map(|&i| JCol::Key(i)).collect();
                let n = self.node(Node::AntiJoin {
                    input: da,
                    left,
                    right,
                    out,
                });
                (n, sa)
            }
            Expr::Product(a, b) | Expr::Join(a, b) => {
                let (na, sa) = self.expr(*a, in_loop);
                let (nb, sb) = self.expr(*b, in_loop);
                let pairs: Vec<(usize, usize)> = sa
                    .iter()
                    .enumerate()
                    .filter_map(|(i, x)| sb.iter().position(|y| y == x).map(|j| (i, j)))
                    .collect();
                self.join(na, &sa, nb, &sb, &pairs)
            }
            Expr::ThetaJoin {
                formula,
                left,
                right,
            } => {
                let (na, sa) = self.expr(*left, in_loop);
                let (nb, sb) = self.expr(*right, in_loop);
                let pairs: Vec<(usize, usize)> = sa
                    .iter()
                    .enumerate()
                    .filter_map(|(i, x)| sb.iter().position(|y| y == x).map(|j| (i, j)))
                    .collect();
                let (j, s) = self.join(na, &sa, nb, &sb, &pairs);
                let f = self.node(Node::Filter {
                    schema: s.clone(),
                    formula: formula.clone(),
                    input: j,
                });
                (f, s)
            }
            Expr::EquiJoin { pairs, left, right } => {
                let (na, sa) = self.expr(*left, in_loop);
                let (nb, sb) = self.expr(*right, in_loop);
                let idx: Vec<(usize, usize)> = pairs
                    .iter()
                    .map(|(l, r)| {
                        (
                            sa.iter().position(|x| x == l).unwrap_or(0),
                            sb.iter().position(|x| x == r).unwrap_or(0),
                        )
                    })
                    .collect();
                self.join(na, &sa, nb, &sb, &idx)
            }
            e @ (Expr::SemiJoin(a, b) | Expr::AntiJoin(a, b)) => {
                let semi = matches!(e, Expr::SemiJoin(..));
                let (na, sa) = self.expr(*a, in_loop);
                let (nb, sb) = self.expr(*b, in_loop);
                let pairs: Vec<(usize, usize)> = sa
                    .iter()
                    .enumerate()
                    .filter_map(|(i, x)| sb.iter().position(|y| y == x).map(|j| (i, j)))
                    .collect();
                let lkey: Vec<usize> = pairs.iter().map(|p| p.0).collect();
                let rkey: Vec<usize> = pairs.iter().map(|p| p.1).collect();
                let rk = self.node(Node::Project {
                    cols: rkey.clone(),
                    input: nb,
                });
                let all_r: Vec<usize> = (0..rkey.len()).collect();
                let right = self.arrange(rk, all_r, true);
                let left = self.arrange(na, lkey.clone(), false);
                let out = side_cols(sa.len(), &lkey, JCol::Left);
                let n = if semi {
                    self.node(Node::SemiJoin { left, right, out })
                } else {
                    self.node(Node::AntiJoin {
                        input: na,
                        left,
                        right,
                        out,
                    })
                };
                (n, sa)
            }
            Expr::GroupBy { keys, aggs, input } => {
                let (n, s) = self.expr(*input, in_loop);
                let kcols: Vec<usize> = keys
                    .iter()
                    .map(|k| s.iter().position(|x| x == k).unwrap_or(0))
                    .collect();
                let r = self.node(Node::Reduce {
                    schema: s,
                    keys: kcols,
                    aggs: aggs.clone(),
                    input: n,
                });
                (r, plan.schema(id))
            }
            Expr::Map { bind, rhs, input } => {
                let (n, s) = self.expr(*input, in_loop);
                let m = self.node(Node::Map {
                    schema: s.clone(),
                    bind: bind.clone(),
                    rhs: rhs.clone(),
                    input: n,
                });
                let mut out = s;
                out.extend(bind.attrs());
                (m, out)
            }
            Expr::Values { attrs, rows } => (
                self.node(Node::Values {
                    arity: attrs.len(),
                    rows: rows.clone(),
                }),
                attrs.clone(),
            ),
        };
        self.memo.insert((id, in_loop), r.clone());
        r
    }

    /// An equijoin on column pairs; the output has the left columns, then the right columns
    /// whose names the left does not have (PomoRA's join schema).
    fn join(
        &mut self,
        na: NodeId,
        sa: &[Attr],
        nb: NodeId,
        sb: &[Attr],
        pairs: &[(usize, usize)],
    ) -> (NodeId, Vec<Attr>) {
        let lkey: Vec<usize> = pairs.iter().map(|p| p.0).collect();
        let rkey: Vec<usize> = pairs.iter().map(|p| p.1).collect();
        let left = self.arrange(na, lkey.clone(), false);
        let right = self.arrange(nb, rkey.clone(), false);
        let mut out = side_cols(sa.len(), &lkey, JCol::Left);
        let mut schema = sa.to_vec();
        let rcols = side_cols(sb.len(), &rkey, JCol::Right);
        for (j, name) in sb.iter().enumerate() {
            if !schema.contains(name) {
                schema.push(name.clone());
                out.push(rcols[j]);
            }
        }
        let n = self.node(Node::Join {
            left,
            right,
            out,
            filter: None,
        });
        (n, schema)
    }
}

/// Where each column of a join input ends up: its position in the key, or among the values.
fn side_cols(arity: usize, key: &[usize], side: fn(usize) -> JCol) -> Vec<JCol> {
    let mut v = 0;
    (0..arity)
        .map(|c| match key.iter().position(|k| *k == c) {
            Some(k) => JCol::Key(k),
            None => {
                v += 1;
                side(v - 1)
            }
        })
        .collect()
}
