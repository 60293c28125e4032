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

/// Lowers an (optimized) PomoRA plan to a flow plan.
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
    let mut flow = l.flow;
    narrow(&mut flow);
    flow
}

/// Keeps intermediate rows narrow: a projection of a join's only output becomes the join's
/// output list, and an arrangement keeps only the value columns its readers use. Rows of one
/// or two columns stay inline in the runtime, so this saves an allocation per tuple as well as
/// the copying. Ends by dropping the nodes nothing reads any more.
fn narrow(flow: &mut FlowPlan) {
    // Each round fuses or prunes at least once; plans settle in a few rounds.
    for _ in 0..32 {
        // Dead nodes would still count as readers.
        compact(flow);
        let mut changed = false;
        // An identity projection is its input.
        let identity: HashMap<NodeId, NodeId> = (0..flow.nodes.len())
            .filter_map(|i| match &flow.nodes[i] {
                Node::Project { cols, input } if cols.iter().copied().eq(0..flow.arity(*input)) => {
                    Some((NodeId(i as u32), *input))
                }
                _ => None,
            })
            .collect();
        if !identity.is_empty() {
            let fwd = |x: &mut NodeId| {
                while let Some(y) = identity.get(x) {
                    *x = *y;
                }
            };
            for n in &mut flow.nodes {
                match n {
                    Node::Initial(x) | Node::Distinct(x) => fwd(x),
                    Node::Filter { input, .. }
                    | Node::Map { input, .. }
                    | Node::Reduce { input, .. }
                    | Node::AntiJoin { input, .. } => fwd(input),
                    Node::Project { input, .. } => fwd(input),
                    Node::Union(xs) => xs.iter_mut().for_each(fwd),
                    _ => {}
                }
            }
            for a in &mut flow.arrangements {
                fwd(&mut a.input);
            }
            for d in flow.strata.iter_mut().flat_map(|s| &mut s.defs) {
                fwd(&mut d.node);
            }
            compact(flow);
        }
        let uses = consumers(flow);
        // filter(join) → a join that tests its rows before building them.
        for i in 0..flow.nodes.len() {
            let Node::Filter {
                schema,
                formula,
                input,
            } = &flow.nodes[i]
            else {
                continue;
            };
            if uses[input.0 as usize] != 1 {
                continue;
            }
            let Node::Join {
                left,
                right,
                out,
                filter: None,
            } = &flow.nodes[input.0 as usize]
            else {
                continue;
            };
            // The filter keeps only the columns its formula reads.
            let read = formula.attrs();
            let (cols, schema): (Vec<JCol>, Vec<Attr>) = out
                .iter()
                .zip(schema)
                .filter(|(_, a)| read.contains(*a))
                .map(|(c, a)| (*c, a.clone()))
                .unzip();
            flow.nodes[i] = Node::Join {
                left: *left,
                right: *right,
                out: out.clone(),
                filter: Some(JoinFilter {
                    cols,
                    schema,
                    formula: formula.clone(),
                }),
            };
            changed = true;
        }
        let uses = consumers(flow);
        // project(join) → join with the projected output.
        for i in 0..flow.nodes.len() {
            let Node::Project { cols, input } = &flow.nodes[i] else {
                continue;
            };
            if uses[input.0 as usize] != 1 {
                continue;
            }
            let fused = match &flow.nodes[input.0 as usize] {
                Node::Join {
                    left,
                    right,
                    out,
                    filter,
                } => Node::Join {
                    left: *left,
                    right: *right,
                    out: cols.iter().map(|&c| out[c]).collect(),
                    filter: filter.clone(),
                },
                Node::SemiJoin { left, right, out } => Node::SemiJoin {
                    left: *left,
                    right: *right,
                    out: cols.iter().map(|&c| out[c]).collect(),
                },
                Node::Project {
                    cols: inner,
                    input: deeper,
                } => Node::Project {
                    cols: cols.iter().map(|&c| inner[c]).collect(),
                    input: *deeper,
                },
                _ => continue,
            };
            flow.nodes[i] = fused;
            changed = true;
        }
        // Arrangement values nobody reads. (Which value columns each arrangement's readers
        // use, gathered in one pass over the nodes: plans of wide joins have hundreds of both.)
        let mut reads: HashMap<ArrId, Vec<usize>> = HashMap::new();
        let mut remap: HashMap<ArrId, Vec<Option<usize>>> = HashMap::new();
        for n in &flow.nodes {
            let (left, right) = match n {
                Node::Join { left, right, .. }
                | Node::SemiJoin { left, right, .. }
                | Node::AntiJoin { left, right, .. } => (*left, *right),
                _ => continue,
            };
            for c in join_cols(n) {
                match c {
                    JCol::Left(i) => reads.entry(left).or_default().push(i),
                    JCol::Right(i) => reads.entry(right).or_default().push(i),
                    _ => {}
                }
            }
        }
        for a in 0..flow.arrangements.len() {
            let arr = flow.arrangements[a].clone();
            if arr.keys_only {
                continue;
            }
            let id = ArrId(a as u32);
            let arity = flow.arity(arr.input);
            let vals: Vec<usize> = (0..arity).filter(|c| !arr.key.contains(c)).collect();
            let mut used = vec![false; vals.len()];
            for &i in reads.get(&id).into_iter().flatten() {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
            }
            if used.iter().all(|u| *u) {
                continue;
            }
            // The arrangement reads a projection keeping the key and the used values.
            let keep: Vec<usize> = (0..arity)
                .filter(|c| {
                    arr.key.contains(c) || vals.iter().position(|v| v == c).is_some_and(|i| used[i])
                })
                .collect();
            let new_index: Vec<Option<usize>> = {
                let mut next = 0;
                used.iter()
                    .map(|u| {
                        u.then(|| {
                            next += 1;
                            next - 1
                        })
                    })
                    .collect()
            };
            let projected = NodeId(flow.nodes.len() as u32);
            flow.nodes.push(Node::Project {
                cols: keep.clone(),
                input: arr.input,
            });
            flow.arrangements[a] = Arrangement {
                input: projected,
                key: arr
                    .key
                    .iter()
                    .map(|k| keep.iter().position(|c| c == k).unwrap_or(0))
                    .collect(),
                keys_only: false,
            };
            remap.insert(id, new_index);
            changed = true;
        }
        // The readers' columns of the narrowed arrangements, renumbered in one pass.
        if !remap.is_empty() {
            for n in &mut flow.nodes {
                let (left, right) = match n {
                    Node::Join { left, right, .. }
                    | Node::SemiJoin { left, right, .. }
                    | Node::AntiJoin { left, right, .. } => (*left, *right),
                    _ => continue,
                };
                let (lmap, rmap) = (remap.get(&left), remap.get(&right));
                if lmap.is_none() && rmap.is_none() {
                    continue;
                }
                for c in join_cols_mut(n) {
                    match c {
                        JCol::Left(i) if lmap.is_some() => {
                            *i = lmap.expect("checked")[*i].unwrap_or(0)
                        }
                        JCol::Right(i) if rmap.is_some() => {
                            *i = rmap.expect("checked")[*i].unwrap_or(0)
                        }
                        _ => {}
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    compact(flow);
}

/// Every join column a node names (its output, then its filter's columns).
fn join_cols(n: &Node) -> Vec<JCol> {
    match n {
        Node::Join { out, filter, .. } => out
            .iter()
            .chain(filter.iter().flat_map(|f| &f.cols))
            .copied()
            .collect(),
        Node::SemiJoin { out, .. } | Node::AntiJoin { out, .. } => out.clone(),
        _ => Vec::new(),
    }
}

fn join_cols_mut(n: &mut Node) -> Vec<&mut JCol> {
    match n {
        Node::Join { out, filter, .. } => out
            .iter_mut()
            .chain(filter.iter_mut().flat_map(|f| f.cols.iter_mut()))
            .collect(),
        Node::SemiJoin { out, .. } | Node::AntiJoin { out, .. } => out.iter_mut().collect(),
        _ => Vec::new(),
    }
}

/// How many nodes, arrangements and definitions read each node.
fn consumers(flow: &FlowPlan) -> Vec<usize> {
    let mut uses = vec![0; flow.nodes.len()];
    for n in &flow.nodes {
        for i in n.inputs() {
            uses[i.0 as usize] += 1;
        }
    }
    for a in &flow.arrangements {
        uses[a.input.0 as usize] += 1;
    }
    for d in flow.strata.iter().flat_map(|s| &s.defs) {
        uses[d.node.0 as usize] += 1;
    }
    uses
}

/// Drops the nodes and arrangements no definition reaches, renumbering the rest in the order
/// a walk from the definitions meets them (inputs first).
fn compact(flow: &mut FlowPlan) {
    let old_nodes = std::mem::take(&mut flow.nodes);
    let old_arrs = std::mem::take(&mut flow.arrangements);
    let mut node_map: HashMap<NodeId, NodeId> = HashMap::new();
    let mut arr_map: HashMap<ArrId, ArrId> = HashMap::new();
    fn visit(
        id: NodeId,
        old_nodes: &[Node],
        old_arrs: &[Arrangement],
        flow: &mut FlowPlan,
        node_map: &mut HashMap<NodeId, NodeId>,
        arr_map: &mut HashMap<ArrId, ArrId>,
    ) -> NodeId {
        if let Some(n) = node_map.get(&id) {
            return *n;
        }
        let mut n = old_nodes[id.0 as usize].clone();
        let v = |x: NodeId,
                 flow: &mut FlowPlan,
                 nm: &mut HashMap<NodeId, NodeId>,
                 am: &mut HashMap<ArrId, ArrId>| {
            visit(x, old_nodes, old_arrs, flow, nm, am)
        };
        let arr = |a: ArrId,
                   flow: &mut FlowPlan,
                   nm: &mut HashMap<NodeId, NodeId>,
                   am: &mut HashMap<ArrId, ArrId>| {
            if let Some(x) = am.get(&a) {
                return *x;
            }
            let mut spec = old_arrs[a.0 as usize].clone();
            spec.input = visit(spec.input, old_nodes, old_arrs, flow, nm, am);
            let new = ArrId(flow.arrangements.len() as u32);
            flow.arrangements.push(spec);
            am.insert(a, new);
            new
        };
        match &mut n {
            Node::Source(_) | Node::Values { .. } => {}
            Node::Initial(x) | Node::Distinct(x) => *x = v(*x, flow, node_map, arr_map),
            Node::Filter { input, .. }
            | Node::Project { input, .. }
            | Node::Map { input, .. }
            | Node::Reduce { input, .. } => *input = v(*input, flow, node_map, arr_map),
            Node::Union(xs) => {
                for x in xs.iter_mut() {
                    *x = v(*x, flow, node_map, arr_map);
                }
            }
            Node::Join { left, right, .. } | Node::SemiJoin { left, right, .. } => {
                *left = arr(*left, flow, node_map, arr_map);
                *right = arr(*right, flow, node_map, arr_map);
            }
            Node::AntiJoin {
                input, left, right, ..
            } => {
                *input = v(*input, flow, node_map, arr_map);
                *left = arr(*left, flow, node_map, arr_map);
                *right = arr(*right, flow, node_map, arr_map);
            }
        }
        let new = NodeId(flow.nodes.len() as u32);
        flow.nodes.push(n);
        node_map.insert(id, new);
        new
    }
    let mut strata = std::mem::take(&mut flow.strata);
    for st in &mut strata {
        for d in &mut st.defs {
            d.node = visit(
                d.node,
                &old_nodes,
                &old_arrs,
                flow,
                &mut node_map,
                &mut arr_map,
            );
        }
    }
    flow.strata = strata;
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
