//! Stratification (PomoLogic spec §2.3) with petgraph.
//!
//! The precedence graph has an edge from each body relation to the head relation of every
//! deductive rule, negative for negated atoms and aggregations. Strata are the strongly
//! connected components in topological order; an SCC that contains a negative edge makes the
//! program unstratifiable, and the error names the cycle and points at the literal that closes
//! it. Inductive rules (`@next`) form one last stratum.

use crate::logic::ir::*;
use petgraph::algo::{condensation, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use pomo_grammar::Diagnostic;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq)]
pub struct Stratum {
    /// The relations the stratum defines, in relation order.
    pub relations: Vec<RelId>,
    /// Rule indexes, in program order.
    pub rules: Vec<usize>,
    /// Whether a relation depends on itself (loops are needed).
    pub recursive: bool,
    /// The stratum of inductive rules.
    pub inductive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Dep {
    negative: bool,
    rule: usize,
    lit: usize,
}

fn body_deps(rule: &Rule) -> Vec<(RelId, bool, usize)> {
    rule.body
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l {
            Literal::Pos { atom, .. } => Some((atom.rel, false, i)),
            Literal::Neg(a) | Literal::Agg { atom: a, .. } => Some((a.rel, true, i)),
            _ => None,
        })
        .collect()
}

/// Stratifies the program.
pub fn stratify(p: &Program) -> Result<Vec<Stratum>, Vec<Diagnostic>> {
    let mut g: DiGraph<RelId, Dep> = DiGraph::new();
    let mut nodes: BTreeMap<RelId, NodeIndex> = BTreeMap::new();
    for (i, _) in p.relations.iter().enumerate() {
        let id = RelId(i as u32);
        if p.is_derived(id) {
            nodes.insert(id, g.add_node(id));
        }
    }
    for (ri, rule) in p.rules.iter().enumerate() {
        if rule.next {
            continue;
        }
        let Some(&h) = nodes.get(&rule.head.rel) else {
            continue;
        };
        for (rel, negative, lit) in body_deps(rule) {
            if let Some(&b) = nodes.get(&rel) {
                g.add_edge(
                    b,
                    h,
                    Dep {
                        negative,
                        rule: ri,
                        lit,
                    },
                );
            }
        }
    }

    let sccs = petgraph::algo::tarjan_scc(&g);
    let mut scc_of: BTreeMap<NodeIndex, usize> = BTreeMap::new();
    for (i, c) in sccs.iter().enumerate() {
        for n in c {
            scc_of.insert(*n, i);
        }
    }
    let mut errors = Vec::new();
    let mut reported: BTreeSet<usize> = BTreeSet::new();
    for e in g.edge_references() {
        let w = e.weight();
        if w.negative
            && scc_of[&e.source()] == scc_of[&e.target()]
            && reported.insert(scc_of[&e.source()])
        {
            errors.push(cycle_error(p, &g, e.source(), e.target(), *w));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let keys = RelKeys::new(p);
    let dag = condensation(g.clone(), true);
    let order = toposort(&dag, None).map_err(|_| {
        vec![Diagnostic::error(
            "E0399",
            "internal error: the condensed dependency graph has a cycle",
        )]
    })?;
    let mut by_head: BTreeMap<RelId, Vec<usize>> = BTreeMap::new();
    for (r, rule) in p.rules.iter().enumerate() {
        if !rule.next {
            by_head.entry(rule.head.rel).or_default().push(r);
        }
    }
    let mut strata = Vec::new();
    for n in order {
        let mut rels: Vec<RelId> = dag[n].clone();
        rels.sort_by_key(|r| keys.key(p, *r));
        let set: BTreeSet<RelId> = rels.iter().copied().collect();
        let mut rules: Vec<usize> = rels
            .iter()
            .flat_map(|r| by_head.get(r).into_iter().flatten().copied())
            .collect();
        rules.sort_unstable();
        let recursive = rules.iter().any(|&r| {
            body_deps(&p.rules[r])
                .iter()
                .any(|(rel, _, _)| set.contains(rel))
        });
        strata.push(Stratum {
            relations: rels,
            rules,
            recursive,
            inductive: false,
        });
    }
    // Deterministic order among independent strata, independent of petgraph internals: a
    // stable topological re-sort keyed on where each stratum's first relation is defined.
    let strata = stable_topo(p, &keys, strata);
    let mut strata = strata;
    let inductive: Vec<usize> = (0..p.rules.len()).filter(|&r| p.rules[r].next).collect();
    if !inductive.is_empty() {
        let mut rels: Vec<RelId> = inductive.iter().map(|&r| p.rules[r].head.rel).collect();
        rels.sort_by_key(|r| keys.key(p, *r));
        rels.dedup();
        strata.push(Stratum {
            relations: rels,
            rules: inductive,
            recursive: false,
            inductive: true,
        });
    }
    Ok(strata)
}

/// A relation's place in the program as written: the index of the first rule that defines it,
/// then its name. Relation ids depend on the order names were first met, which differs
/// between a query and its printed PomoLogic; rule order does not.
struct RelKeys {
    first: Vec<usize>,
}

impl RelKeys {
    fn new(p: &Program) -> RelKeys {
        let mut first = vec![usize::MAX; p.relations.len()];
        for (i, r) in p.rules.iter().enumerate() {
            let f = &mut first[r.head.rel.0 as usize];
            if *f == usize::MAX {
                *f = i;
            }
        }
        RelKeys { first }
    }

    fn key<'p>(&self, p: &'p Program, r: RelId) -> (usize, &'p str) {
        (self.first[r.0 as usize], p.rel(r).name.as_str())
    }
}

/// Orders strata topologically, always taking the ready stratum defined first.
fn stable_topo(p: &Program, keys: &RelKeys, strata: Vec<Stratum>) -> Vec<Stratum> {
    let n = strata.len();
    let owner: BTreeMap<RelId, usize> = strata
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.relations.iter().map(move |r| (*r, i)))
        .collect();
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (i, s) in strata.iter().enumerate() {
        for &r in &s.rules {
            for (rel, _, _) in body_deps(&p.rules[r]) {
                if let Some(&j) = owner.get(&rel)
                    && j != i
                {
                    deps[i].insert(j);
                }
            }
        }
    }
    let skey: Vec<(usize, &str)> = strata.iter().map(|s| keys.key(p, s.relations[0])).collect();
    let mut done = vec![false; n];
    let mut out = Vec::new();
    let mut strata: Vec<Option<Stratum>> = strata.into_iter().map(Some).collect();
    while out.len() < n {
        let next = (0..n)
            .filter(|&i| !done[i] && deps[i].iter().all(|&d| done[d]))
            .min_by_key(|&i| skey[i]);
        let Some(i) = next else { break };
        done[i] = true;
        out.push(strata[i].take().expect("each stratum is taken once"));
    }
    out
}

fn cycle_error(
    p: &Program,
    g: &DiGraph<RelId, Dep>,
    body: NodeIndex,
    head: NodeIndex,
    dep: Dep,
) -> Diagnostic {
    // The negative edge goes body -> head; close the cycle with a shortest path head ~> body.
    let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = VecDeque::from([head]);
    let mut seen = BTreeSet::from([head]);
    while let Some(n) = queue.pop_front() {
        if n == body {
            break;
        }
        for e in g.edges(n) {
            if seen.insert(e.target()) {
                prev.insert(e.target(), n);
                queue.push_back(e.target());
            }
        }
    }
    let mut path = vec![body];
    let mut cur = body;
    while cur != head {
        match prev.get(&cur) {
            Some(&n) => {
                path.push(n);
                cur = n;
            }
            None => break,
        }
    }
    path.reverse(); // head … body
    let names: Vec<String> = path.iter().map(|n| p.rel(g[*n]).name.clone()).collect();
    let mut cycle = names.join(" -> ");
    let _ = write!(cycle, " -> {}", p.rel(g[head]).name);
    let what = match &p.rules[dep.rule].body[dep.lit] {
        Literal::Agg { .. } => "aggregation",
        _ => "negation",
    };
    let head_name = &p.rel(g[head]).name;
    let body_name = &p.rel(g[body]).name;
    let mut d = Diagnostic::error(
        "E0301",
        format!("program cannot be stratified: `{head_name}` depends on itself through {what} of `{body_name}`"),
    )
    .with_note(format!("dependency cycle: {cycle}"))
    .with_help(format!("{what} may not occur inside a recursive cycle; break the cycle or move the {what} to a later rule"));
    if let Some((file, span)) = p.literal_span(dep.rule, dep.lit) {
        d = d.with_label_in(
            file,
            span,
            format!("{what} of `{body_name}` inside the cycle {cycle}"),
        );
    }
    d
}

/// Prints the strata: each with its relations and its rules in PomoLogic text.
pub fn print(p: &Program, strata: &[Stratum]) -> String {
    let mut out = String::new();
    for (i, s) in strata.iter().enumerate() {
        let kind = if s.inductive {
            " inductive"
        } else if s.recursive {
            " recursive"
        } else {
            ""
        };
        let rels: Vec<&str> = s
            .relations
            .iter()
            .map(|r| p.rel(*r).name.as_str())
            .collect();
        let _ = writeln!(out, "stratum {i}{kind}: {}", rels.join(", "));
        for &r in &s.rules {
            for line in crate::logic::print::rule(p, &p.rules[r]).lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    out
}
