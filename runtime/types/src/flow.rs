//! Flow plans (ARCHITECTURE §7, "dataflow"): a PomoRA plan rewritten for an incremental dataflow.
//!
//! Where PomoRA spells out semi-naive loops over `R@delta` and `R@new`, a flow plan states each
//! relation once as a collection expression over totals; the dataflow runtime keeps every
//! collection up to date as its inputs change, and a recursive stratum becomes one iterative
//! scope whose variables are the stratum's relations. Columns are positional: every node knows
//! its arity, joins name the columns they key on, and the arrangements (indexed copies of a
//! collection, by key) are explicit and shared: two joins that read the same collection by the
//! same key read one arrangement. Nodes are hash-consed, so equal subexpressions are one node.
//!
//! Formulas, maps and aggregates keep PomoRA's attribute names together with the schema of their
//! input, so that the runtime evaluates them with the same stdlib code as the reference
//! evaluator.

use crate::ra::{AggCall, Attr, Formula, MapBind, MapRhs, RelDecl};
use crate::ra_print::{args, callee, formula, map_bind, rname, value_row};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ArrId(pub u32);

/// A column of a join's output: a key column, or a value column of the left or right input
/// (value columns are an arrangement's non-key columns, in order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JCol {
    Key(usize),
    Left(usize),
    Right(usize),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Node {
    /// A relation's collection: a base or input relation, a relation of an earlier stratum, or
    /// a variable of the current recursive stratum.
    Source(String),
    /// Constant rows.
    Values {
        arity: usize,
        rows: Vec<Vec<Value>>,
    },
    /// Rows that hold only in the first epoch (the facts of a relation that inductive rules
    /// carry from epoch to epoch).
    Initial(NodeId),
    Filter {
        schema: Vec<Attr>,
        formula: Formula,
        input: NodeId,
    },
    Project {
        cols: Vec<usize>,
        input: NodeId,
    },
    /// Appends the columns a function's result binds (none when the call gives nothing).
    Map {
        schema: Vec<Attr>,
        bind: MapBind,
        rhs: MapRhs,
        input: NodeId,
    },
    Union(Vec<NodeId>),
    /// Set semantics: every row once.
    Distinct(NodeId),
    /// With a filter, a joined row is kept only when the filter holds on its `cols`.
    Join {
        left: ArrId,
        right: ArrId,
        out: Vec<JCol>,
        filter: Option<JoinFilter>,
    },
    /// The rows of `left` whose key is in `right` (a key-only arrangement).
    SemiJoin {
        left: ArrId,
        right: ArrId,
        out: Vec<JCol>,
    },
    /// The rows of `input` whose key is not in `right`: `input` minus its semijoin.
    AntiJoin {
        input: NodeId,
        left: ArrId,
        right: ArrId,
        out: Vec<JCol>,
    },
    /// Groups by the key columns and appends one column per aggregate.
    Reduce {
        schema: Vec<Attr>,
        keys: Vec<usize>,
        aggs: Vec<AggCall>,
        input: NodeId,
    },
}

impl Node {
    pub fn inputs(&self) -> Vec<NodeId> {
        match self {
            Node::Source(_) | Node::Values { .. } => vec![],
            Node::Initial(i)
            | Node::Distinct(i)
            | Node::Filter { input: i, .. }
            | Node::Project { input: i, .. }
            | Node::Map { input: i, .. }
            | Node::Reduce { input: i, .. }
            | Node::AntiJoin { input: i, .. } => vec![*i],
            Node::Union(xs) => xs.clone(),
            Node::Join { .. } | Node::SemiJoin { .. } => vec![],
        }
    }

    /// The arrangements the node reads.
    pub fn arrangements(&self) -> Vec<ArrId> {
        match self {
            Node::Join { left, right, .. }
            | Node::SemiJoin { left, right, .. }
            | Node::AntiJoin { left, right, .. } => vec![*left, *right],
            _ => vec![],
        }
    }
}

/// A test a join applies to each joined row before building its output: the formula's attributes
/// (`schema`) are the columns `cols` of the joined row.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JoinFilter {
    pub cols: Vec<JCol>,
    pub schema: Vec<Attr>,
    pub formula: Formula,
}

/// A collection indexed by its key columns. A key-only arrangement holds each key once (the
/// right side of semijoins and antijoins); otherwise the value is the row's other columns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Arrangement {
    pub input: NodeId,
    pub key: Vec<usize>,
    pub keys_only: bool,
}

/// A relation's definition: its collection is `node`; with `next`, the node gives the tuples
/// the relation holds at the next epoch (`R@next`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Def {
    pub relation: String,
    pub next: bool,
    pub node: NodeId,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FlowStratum {
    /// The stratum's relations are variables of one iterative scope.
    pub recursive: bool,
    pub defs: Vec<Def>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FlowPlan {
    pub relations: Vec<RelDecl>,
    pub nodes: Vec<Node>,
    pub arrangements: Vec<Arrangement>,
    pub strata: Vec<FlowStratum>,
}

/// The source a relation carried by inductive rules reads: the previous epoch's `R@next`.
pub fn carried(relation: &str) -> String {
    format!("{relation}@prev")
}

impl FlowPlan {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    pub fn arrangement(&self, id: ArrId) -> &Arrangement {
        &self.arrangements[id.0 as usize]
    }

    pub fn relation(&self, name: &str) -> Option<&RelDecl> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The number of columns a node produces.
    pub fn arity(&self, id: NodeId) -> usize {
        match self.node(id) {
            Node::Source(name) => {
                let base = name
                    .strip_suffix("@prev")
                    .or_else(|| name.strip_suffix("@next"))
                    .unwrap_or(name);
                self.relation(base).map_or(0, |d| d.attrs.len())
            }
            Node::Values { arity, .. } => *arity,
            Node::Initial(x) | Node::Distinct(x) => self.arity(*x),
            Node::Filter { schema, .. } => schema.len(),
            Node::Project { cols, .. } => cols.len(),
            Node::Map { schema, bind, .. } => schema.len() + bind.attrs().len(),
            Node::Union(xs) => xs.first().map_or(0, |x| self.arity(*x)),
            Node::Join { out, .. } | Node::SemiJoin { out, .. } | Node::AntiJoin { out, .. } => {
                out.len()
            }
            Node::Reduce { keys, aggs, .. } => keys.len() + aggs.len(),
        }
    }

    /// The relations that inductive rules carry to the next epoch.
    pub fn carried_relations(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .strata
            .iter()
            .flat_map(|s| &s.defs)
            .filter(|d| d.next)
            .map(|d| d.relation.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The relations whose collections the runtime feeds: base relations, inputs, and the
    /// carried `R@prev` sources.
    pub fn fed_relations(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .relations
            .iter()
            .filter(|r| r.kind.is_loaded())
            .map(|r| r.name.clone())
            .collect();
        out.extend(self.carried_relations().iter().map(|r| carried(r)));
        out
    }

    /// Whether any function the plan calls reads a database directly (`get-else`, `missing?`,
    /// `get-some`); such results are not maintained incrementally by the collections alone.
    pub fn calls_database(&self) -> bool {
        let db_fn = |c: &crate::ra::Callee| matches!(c, crate::ra::Callee::Builtin(n) if matches!(n.as_str(), "get_else" | "get_some" | "missing"));
        self.nodes.iter().any(|n| match n {
            Node::Filter { formula, .. } => formula
                .disjuncts
                .iter()
                .flatten()
                .any(|l| matches!(&l.test, crate::ra::Test::Call { func, .. } if db_fn(func))),
            Node::Map {
                rhs: MapRhs::Call { func, .. },
                ..
            } => db_fn(func),
            _ => false,
        })
    }

    fn node_text(&self, id: NodeId) -> String {
        let n = |x: &NodeId| format!("n{}", x.0);
        let a = |x: &ArrId| format!("a{}", x.0);
        let cols = |xs: &[usize]| {
            xs.iter()
                .map(|c| format!("#{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let out = |xs: &[JCol]| {
            xs.iter()
                .map(|c| match c {
                    JCol::Key(i) => format!("k{i}"),
                    JCol::Left(i) => format!("l{i}"),
                    JCol::Right(i) => format!("r{i}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let schema = |s: &[Attr]| s.iter().map(|x| rname(x)).collect::<Vec<_>>().join(", ");
        match self.node(id) {
            Node::Source(r) => format!("source {}", rname(r)),
            Node::Values { arity, rows } => format!(
                "values/{arity}{{{}}}",
                rows.iter()
                    .map(|r| value_row(r))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Node::Initial(i) => format!("initial({})", n(i)),
            Node::Filter {
                schema: s,
                formula: f,
                input,
            } => format!("filter[{}; {}]({})", schema(s), formula(f), n(input)),
            Node::Project { cols: c, input } => format!("project[{}]({})", cols(c), n(input)),
            Node::Map {
                schema: s,
                bind,
                rhs,
                input,
            } => {
                let rhs = match rhs {
                    MapRhs::Call { func, args: xs } => format!("{}({})", callee(func), args(xs)),
                    MapRhs::Operand(o) => crate::ra_print::operand(o),
                };
                format!(
                    "map[{}; {} := {rhs}]({})",
                    schema(s),
                    map_bind(bind),
                    n(input)
                )
            }
            Node::Union(xs) => {
                format!("union({})", xs.iter().map(n).collect::<Vec<_>>().join(", "))
            }
            Node::Distinct(i) => format!("distinct({})", n(i)),
            Node::Join {
                left,
                right,
                out: o,
                filter,
            } => {
                let f = match filter {
                    None => String::new(),
                    Some(f) => format!(
                        " where [{}: {}; {}]",
                        out(&f.cols),
                        schema(&f.schema),
                        formula(&f.formula)
                    ),
                };
                format!("join({}, {}) -> [{}]{f}", a(left), a(right), out(o))
            }
            Node::SemiJoin {
                left,
                right,
                out: o,
            } => format!("semijoin({}, {}) -> [{}]", a(left), a(right), out(o)),
            Node::AntiJoin {
                input,
                left,
                right,
                out: o,
            } => format!(
                "antijoin({}, {}, {}) -> [{}]",
                n(input),
                a(left),
                a(right),
                out(o)
            ),
            Node::Reduce {
                schema: s,
                keys,
                aggs,
                input,
            } => {
                let aggs: Vec<String> = aggs
                    .iter()
                    .map(|g| {
                        format!(
                            "{} := {}({})",
                            rname(&g.out),
                            callee(&g.func),
                            args(&g.args)
                        )
                    })
                    .collect();
                format!(
                    "reduce[{}; by {}; {}]({})",
                    schema(s),
                    cols(keys),
                    aggs.join(", "),
                    n(input)
                )
            }
        }
    }
}

impl fmt::Display for FlowPlan {
    /// The plan as text: relations, nodes, arrangements (with the nodes that read each), then
    /// the strata's definitions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for d in &self.relations {
            let _ = writeln!(out, "{};", crate::ra_print::rel_decl(d));
        }
        out.push('\n');
        for i in 0..self.nodes.len() {
            let id = NodeId(i as u32);
            let _ = writeln!(out, "n{i} = {};", self.node_text(id));
        }
        if !self.arrangements.is_empty() {
            out.push('\n');
        }
        for (i, a) in self.arrangements.iter().enumerate() {
            let readers: Vec<String> = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.arrangements().contains(&ArrId(i as u32)))
                .map(|(j, _)| format!("n{j}"))
                .collect();
            let key: Vec<String> = a.key.iter().map(|c| format!("#{c}")).collect();
            let kind = if a.keys_only { "keys" } else { "key" };
            let _ = writeln!(
                out,
                "a{i} = arrange(n{}) {kind}[{}];  // read by {}",
                a.input.0,
                key.join(", "),
                readers.join(", ")
            );
        }
        for (i, st) in self.strata.iter().enumerate() {
            out.push('\n');
            let rec = if st.recursive { " iterate" } else { "" };
            let _ = writeln!(out, "stratum {i}{rec} {{");
            for d in &st.defs {
                let next = if d.next { "@next" } else { "" };
                let _ = writeln!(out, "  {}{next} = n{};", rname(&d.relation), d.node.0);
            }
            out.push_str("}\n");
        }
        f.write_str(&out)
    }
}
