//! `narrow`: keeps intermediate rows narrow: a projection of a join's only output becomes the
//! join's output list, and an arrangement keeps only the value columns its readers use. Rows of one
//! or two columns stay inline in the runtime, so this saves an allocation per tuple as well as the
//! copying. Ends by dropping the nodes nothing reads any more.
//!
//! The only flow pass: it runs on the lowered flow plan in rounds until nothing fuses or prunes
//! (plans settle in a few), compacting the plan before each round so that dead nodes do not count
//! as readers.

use pomo_types::flow::*;
use pomo_types::ra::Attr;
use std::collections::HashMap;

pub fn run(flow: &mut FlowPlan) -> bool {
    narrow(flow)
}

fn narrow(flow: &mut FlowPlan) -> bool {
    let mut any = false;
    // Each round fuses or prunes at least once; plans settle in a few rounds.
    for _ in 0..32 {
        // Dead nodes would still count as readers.
        any |= compact(flow);
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
        any |= changed;
        if !changed {
            break;
        }
    }
    any |= compact(flow);
    any
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
/// a walk from the definitions meets them (inputs first); says whether anything moved.
fn compact(flow: &mut FlowPlan) -> bool {
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
    flow.nodes.len() != old_nodes.len()
        || flow.arrangements.len() != old_arrs.len()
        || node_map.iter().any(|(a, b)| a != b)
        || arr_map.iter().any(|(a, b)| a != b)
}
