//! Which values of an `(e, a)` are current, from the causal graph of its facts: the rule the
//! store applies when facts from another replica arrive, so that every replica holding the
//! same facts shows the same current values, whatever order they came in.
//!
//! The graph's nodes are the facts on `(e, a)` (each span's assertion, and the retraction
//! that closed it, if a retraction fact did); an edge goes from a fact to each of its causes
//! that is also on `(e, a)`. A *head* is a fact that no other fact on `(e, a)` names as a
//! cause.
//!
//! * **Cardinality one (last writer wins):** the current value is that of the assertion head
//!   with the largest CID (compared in its text form, as queries compare `#cid` values); an
//!   `(e, a)` whose heads are all retractions has no value. Writes
//!   that saw each other are ordered by their causes; concurrent ones (both heads) are ordered
//!   by CID, the same on every replica. The other assertion heads are the *conflicts*.
//! * **Cardinality many (add wins):** a value is current while some assertion of it is not an
//!   ancestor of a retraction of the same value: a retraction removes only the assertions it
//!   saw, so a concurrent re-assertion survives it.
//!
//! Causes that lead through facts on other `(e, a)` (user causes) do not order facts here.
//! The PomoLogic prelude (`pomo_stdlib::prelude`) states the same rules as queries.

use cid::Cid;
use std::collections::{HashMap, HashSet};

/// One fact on an `(e, a)`, as the resolution sees it.
pub(crate) struct Node {
    pub cid: Cid,
    pub causes: Vec<Cid>,
    pub added: bool,
    /// The span it belongs to (an assertion opens it, a retraction closes it).
    pub span: usize,
}

/// The spans that should be open: for each value at most one span, given which spans are
/// open now (`open[span]`) and each span's value (`value[span]`, any comparable key).
pub(crate) fn current_spans<V: Eq + std::hash::Hash + Clone>(
    nodes: &[Node],
    value: &[V],
    open: &[bool],
    many: bool,
) -> Vec<bool> {
    let in_set: HashMap<Cid, usize> = nodes.iter().enumerate().map(|(i, n)| (n.cid, i)).collect();
    let mut want = vec![false; value.len()];
    if many {
        // Assertions that some retraction of the same value saw (transitively, on this (e, a)).
        let mut removed: HashSet<usize> = HashSet::new();
        for r in nodes.iter().filter(|n| !n.added) {
            let mut stack: Vec<usize> = r
                .causes
                .iter()
                .filter_map(|c| in_set.get(c).copied())
                .collect();
            let mut seen: HashSet<usize> = HashSet::new();
            while let Some(i) = stack.pop() {
                if !seen.insert(i) {
                    continue;
                }
                let n = &nodes[i];
                if n.added && value[n.span] == value[r.span] {
                    removed.insert(n.span);
                }
                stack.extend(n.causes.iter().filter_map(|c| in_set.get(c).copied()));
            }
        }
        // One span per value: an open one if it survives, else the last that survives.
        let mut chosen: HashMap<V, usize> = HashMap::new();
        for n in nodes
            .iter()
            .filter(|n| n.added && !removed.contains(&n.span))
        {
            let v = value[n.span].clone();
            match chosen.get(&v) {
                Some(&c) if open[c] => {}
                _ => {
                    chosen.insert(v, n.span);
                }
            }
        }
        for s in chosen.into_values() {
            want[s] = true;
        }
    } else {
        let caused: HashSet<Cid> = nodes
            .iter()
            .flat_map(|n| n.causes.iter().copied())
            .filter(|c| in_set.contains_key(c))
            .collect();
        let winner = nodes
            .iter()
            .filter(|n| n.added && !caused.contains(&n.cid))
            .max_by_key(|n| n.cid.to_string());
        if let Some(w) = winner {
            // The winning assertion's own span, even when another assertion of the same value
            // is open: the current datom is the fact that won (its CID, its `t`), and the other
            // is one of the conflicts.
            want[w.span] = true;
        }
    }
    want
}

/// The assertion heads of an `(e, a)` that are not its current spans: the losing concurrent
/// writes of a cardinality-one attribute (as span indexes).
pub(crate) fn assertion_heads(nodes: &[Node]) -> Vec<usize> {
    let in_set: HashSet<Cid> = nodes.iter().map(|n| n.cid).collect();
    let caused: HashSet<Cid> = nodes
        .iter()
        .flat_map(|n| n.causes.iter().copied())
        .filter(|c| in_set.contains(c))
        .collect();
    nodes
        .iter()
        .filter(|n| n.added && !caused.contains(&n.cid))
        .map(|n| n.span)
        .collect()
}
