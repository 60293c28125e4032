//! Kernel plans (ARCHITECTURE §7, "jit"): a PomoRA plan lowered to semi-naive loop nests over
//! fixed-width relations and their indexes, the form the JIT backend compiles to native code.
//!
//! A kernel plan keeps PomoRA's statements and loops (so `R@delta`, `R@new` and the fixpoint
//! test are the reference evaluator's), but every expression becomes data the runtime can run
//! without walking a tree: **slots** hold relations (a relation version, a store view read by a
//! constant attribute, constant rows, or a temporary), **indexes** are explicit (a slot and the
//! columns it is probed by; chosen by the lowering, shared by every kernel that probes the same
//! columns), and a **kernel** is one loop nest: a scan of a slot, then probes, existence tests,
//! filters and function calls, each nested in the previous one, ending in an insert (with
//! deduplication) into its target slot. Values live in numbered registers of the kernel.
//!
//! Operations a loop nest cannot express (aggregation, bulk union, moving a delta) are
//! statements the driver runs between kernels. Filters keep PomoRA's formulas over attribute
//! names, with the registers that hold those attributes, so that the runtime's shim evaluates
//! them with the same stdlib code as the reference evaluator.

use crate::ra::{AggCall, Attr, CmpOp, MapBind, MapRhs, RelDecl, Test, Version};
use crate::ra_print::{args, callee, map_bind, operand, rname, value_row};
use crate::value::{Value, to_edn};
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndexId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KernelId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallId(pub u32);

/// A register of a kernel.
pub type Reg = u32;

/// What fills a slot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SlotKind {
    /// A version of a plan relation (base and input relations are loaded from the environment).
    Rel { name: String, version: Version },
    /// A store view's datoms that match constants, read through the store's index the constants
    /// select (`datom` with `a = :person/name`): columns are the view's attributes.
    View {
        rel: String,
        consts: Vec<(Attr, Value)>,
    },
    /// Constant rows.
    Values(Vec<Vec<Value>>),
    /// An intermediate result the kernels of one statement build and read.
    Temp,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub kind: SlotKind,
    /// Column names, for printing and for the shim (the relation's attributes).
    pub attrs: Vec<Attr>,
}

impl Slot {
    pub fn arity(&self) -> usize {
        self.attrs.len()
    }
}

/// An index of a slot by some of its columns. An index over every column is the slot's own
/// deduplication set.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Index {
    pub slot: SlotId,
    pub key: Vec<usize>,
}

/// A value a kernel reads: a register or a constant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Term {
    Reg(Reg),
    Const(Value),
}

/// What a loop does with one column of the rows it visits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Bind {
    /// The column is not read.
    Skip,
    /// The column's value goes to a register.
    Store(Reg),
    /// The row is skipped unless the column equals the term (same value, not just `eq`).
    Check(Term),
}

/// A literal of a filter: a comparison (decided natively on integers) or a predicate call,
/// both through the call table for everything else.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lit {
    pub negated: bool,
    pub call: CallId,
    /// For comparisons: the operator and operands, so integers are compared inline.
    pub cmp: Option<(CmpOp, Term, Term)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Visits every row of a slot (the outermost loop).
    Scan { slot: SlotId, cols: Vec<Bind> },
    /// Visits the rows of an index's slot whose key columns equal `key`; `cols` binds the
    /// slot's columns (key columns are `Skip`).
    Probe {
        index: IndexId,
        key: Vec<Term>,
        cols: Vec<Bind>,
    },
    /// Continues when some row has the key (semijoin), or none (antijoin, difference).
    Exists {
        index: IndexId,
        key: Vec<Term>,
        negated: bool,
    },
    /// Continues when two terms hold the same value.
    Same(Term, Term),
    /// Continues when the formula (in disjunctive normal form) holds.
    Filter { disjuncts: Vec<Vec<Lit>> },
    /// Calls a function and continues once per row of its result, binding `outs`.
    Map {
        call: CallId,
        outs: Vec<Option<Reg>>,
    },
}

/// One loop nest: `ops` nested in order, then the row of `emit` inserted into `target`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Kernel {
    pub target: SlotId,
    /// Rows the insert adds to `target` are appended to this slot too (semi-naive: the new
    /// rows of a total become the next delta without a second deduplication).
    pub also: Option<SlotId>,
    pub regs: u32,
    pub ops: Vec<Op>,
    pub emit: Vec<Term>,
}

/// What a shim call evaluates: a test, or the right side of a map with its binding.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallKind {
    Test(Test),
    Map { bind: MapBind, rhs: MapRhs },
}

/// A call into the stdlib: the attributes it reads (`schema`) and the terms that hold them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Call {
    pub kind: CallKind,
    pub schema: Vec<Attr>,
    pub args: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stmt {
    /// Empties a slot.
    Clear(SlotId),
    /// Runs a kernel (adds rows to its target).
    Run(KernelId),
    /// Adds the rows of `source` to `target`.
    Union { target: SlotId, source: SlotId },
    /// `target` takes the rows of `source`, which becomes empty.
    Move { target: SlotId, source: SlotId },
    /// Groups `input` by the key columns and appends one row per group (keys, then the
    /// aggregates, evaluated by the stdlib over the group's rows named by `schema`).
    GroupBy {
        input: SlotId,
        keys: Vec<usize>,
        aggs: Vec<AggCall>,
        target: SlotId,
    },
    /// Runs `body` until every slot in `until` is empty.
    Loop {
        body: Vec<Stmt>,
        until: Vec<SlotId>,
        /// Set when the loop may run on groups of rows separately (see [`Partition`]).
        partition: Option<Partition>,
    },
}

/// A linear recursion that passes one column through unchanged (`path(x, z) :- path(x, y),
/// edge(y, z)` keeps `x`): rows with different values there never meet, so the fixpoint can
/// be computed for a batch of those values at a time, each batch with small tables that stay
/// in cache, and the batches' rows (distinct across batches) appended to the total.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Partition {
    /// The relation's total and delta slots.
    pub total: SlotId,
    pub delta: SlotId,
    /// The column every rule passes through.
    pub col: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stratum {
    pub recursive: bool,
    pub stmts: Vec<Stmt>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KernelPlan {
    pub relations: Vec<RelDecl>,
    pub slots: Vec<Slot>,
    pub indexes: Vec<Index>,
    pub calls: Vec<Call>,
    pub kernels: Vec<Kernel>,
    pub strata: Vec<Stratum>,
}

impl KernelPlan {
    /// Checks what the JIT runtime relies on before it runs a plan's native code: every id is
    /// in range; index keys, binds and rows fit their slots' arities; registers are bound (by
    /// an earlier loop or map of the kernel) before they are read and are below `regs`; calls
    /// get as many arguments as their schema names; a map binds as many outputs as its binding
    /// has attributes; and no kernel reads its target or its `also` slot (the runtime writes
    /// them while the kernel holds pointers into the slots it reads). A plan from the compiler
    /// always passes; one read from elsewhere (an artifact) may not.
    pub fn validate(&self) -> Result<(), String> {
        let slots = self.slots.len();
        let slot_ok = |s: SlotId| (s.0 as usize) < slots;
        for (i, ix) in self.indexes.iter().enumerate() {
            if !slot_ok(ix.slot) {
                return Err(format!(
                    "index i{i} reads slot s{}, which does not exist",
                    ix.slot.0
                ));
            }
            let arity = self.slot(ix.slot).arity();
            if ix.key.iter().any(|&c| c >= arity) {
                return Err(format!(
                    "index i{i} keys on a column its slot does not have"
                ));
            }
        }
        for (i, c) in self.calls.iter().enumerate() {
            if c.args.len() != c.schema.len() {
                return Err(format!(
                    "call c{i} has {} arguments for {} names",
                    c.args.len(),
                    c.schema.len()
                ));
            }
        }
        for (n, k) in self.kernels.iter().enumerate() {
            let bad = |m: &str| Err(format!("kernel k{n}: {m}"));
            if !slot_ok(k.target) || k.also.is_some_and(|a| !slot_ok(a)) {
                return bad("writes a slot that does not exist");
            }
            if k.emit.len() != self.slot(k.target).arity() {
                return bad("inserts rows of the wrong width");
            }
            if let Some(a) = k.also
                && (self.slot(a).arity() != k.emit.len() || a == k.target)
            {
                return bad("appends new rows to a slot of the wrong width");
            }
            let mut bound = vec![false; k.regs as usize];
            let read = |t: &Term, bound: &[bool]| match t {
                Term::Reg(r) => bound.get(*r as usize).copied().unwrap_or(false),
                Term::Const(_) => true,
            };
            for op in &k.ops {
                let (index, key) = match op {
                    Op::Probe { index, key, .. } | Op::Exists { index, key, .. } => {
                        (Some(*index), Some(key))
                    }
                    _ => (None, None),
                };
                if let (Some(ix), Some(key)) = (index, key) {
                    let Some(decl) = self.indexes.get(ix.0 as usize) else {
                        return bad("probes an index that does not exist");
                    };
                    if decl.key.len() != key.len() || !key.iter().all(|t| read(t, &bound)) {
                        return bad("probes with a key that does not fit or is not bound");
                    }
                }
                let store = |cols: &[Bind], slot: SlotId, bound: &mut Vec<bool>| {
                    if cols.len() != self.slot(slot).arity() {
                        return false;
                    }
                    for b in cols {
                        match b {
                            Bind::Store(r) if (*r as usize) < bound.len() => {
                                bound[*r as usize] = true
                            }
                            Bind::Store(_) => return false,
                            Bind::Check(t) if !read(t, bound) => return false,
                            _ => {}
                        }
                    }
                    true
                };
                let ok = match op {
                    Op::Scan { slot, cols } => slot_ok(*slot) && store(cols, *slot, &mut bound),
                    Op::Probe { index, cols, .. } => {
                        store(cols, self.indexes[index.0 as usize].slot, &mut bound)
                    }
                    Op::Exists { .. } => true,
                    Op::Same(a, b) => read(a, &bound) && read(b, &bound),
                    Op::Filter { disjuncts } => disjuncts.iter().flatten().all(|l| {
                        self.calls.get(l.call.0 as usize).is_some_and(|c| {
                            c.args.iter().all(|t| read(t, &bound))
                                && matches!(c.kind, CallKind::Test(_))
                        }) && l
                            .cmp
                            .as_ref()
                            .is_none_or(|(_, a, b)| read(a, &bound) && read(b, &bound))
                    }),
                    Op::Map { call, outs } => match self.calls.get(call.0 as usize) {
                        Some(Call {
                            kind: CallKind::Map { bind, .. },
                            args,
                            ..
                        }) if args.iter().all(|t| read(t, &bound))
                            && outs.len() == bind.attrs().len() =>
                        {
                            outs.iter().flatten().all(|r| {
                                let fits = (*r as usize) < bound.len();
                                if fits {
                                    bound[*r as usize] = true;
                                }
                                fits
                            })
                        }
                        _ => false,
                    },
                };
                if !ok {
                    return bad("an operation reads an unbound register or does not fit its slot");
                }
            }
            if !k.emit.iter().all(|t| read(t, &bound)) {
                return bad("inserts an unbound register");
            }
            let reads = self.kernel_reads(k);
            if reads.contains(&k.target) || k.also.is_some_and(|a| reads.contains(&a)) {
                return bad("reads the slot it writes");
            }
        }
        for st in &self.strata {
            self.validate_stmts(&st.stmts)?;
        }
        Ok(())
    }

    fn validate_stmts(&self, stmts: &[Stmt]) -> Result<(), String> {
        let slot_ok = |s: &SlotId| (s.0 as usize) < self.slots.len();
        let same_width = |a: &SlotId, b: &SlotId| {
            slot_ok(a) && slot_ok(b) && self.slot(*a).arity() == self.slot(*b).arity()
        };
        for s in stmts {
            let ok = match s {
                Stmt::Clear(x) => slot_ok(x),
                Stmt::Run(k) => (k.0 as usize) < self.kernels.len(),
                Stmt::Union { target, source } | Stmt::Move { target, source } => {
                    same_width(target, source) && target != source
                }
                Stmt::GroupBy {
                    input,
                    keys,
                    aggs,
                    target,
                } => {
                    slot_ok(input)
                        && slot_ok(target)
                        && keys.iter().all(|&c| c < self.slot(*input).arity())
                        && self.slot(*target).arity() == keys.len() + aggs.len()
                }
                Stmt::Loop {
                    body,
                    until,
                    partition,
                } => {
                    self.validate_stmts(body)?;
                    until.iter().all(slot_ok)
                        && partition.as_ref().is_none_or(|p| {
                            same_width(&p.total, &p.delta)
                                && p.total != p.delta
                                && p.col < self.slot(p.total).arity()
                        })
                }
            };
            if !ok {
                return Err(format!("statement {s:?} names slots that do not fit"));
            }
        }
        Ok(())
    }

    pub fn slot(&self, s: SlotId) -> &Slot {
        &self.slots[s.0 as usize]
    }

    /// The slot holding a relation version, if the plan has one.
    pub fn rel_slot(&self, name: &str, version: Version) -> Option<SlotId> {
        self.slots
            .iter()
            .position(|s| matches!(&s.kind, SlotKind::Rel { name: n, version: v } if n == name && *v == version))
            .map(|i| SlotId(i as u32))
    }

    /// The slots each kernel reads (scanned, probed or tested).
    pub fn kernel_reads(&self, k: &Kernel) -> Vec<SlotId> {
        let mut out = Vec::new();
        for op in &k.ops {
            match op {
                Op::Scan { slot, .. } => out.push(*slot),
                Op::Probe { index, .. } | Op::Exists { index, .. } => {
                    out.push(self.indexes[index.0 as usize].slot)
                }
                _ => {}
            }
        }
        out
    }

    /// A slot's name in the printout.
    pub fn slot_name(&self, s: SlotId) -> String {
        let slot = self.slot(s);
        match &slot.kind {
            SlotKind::Rel { name, version } => format!("{}{}", rname(name), version.suffix()),
            SlotKind::View { rel, consts } => {
                let cs: Vec<String> = consts
                    .iter()
                    .map(|(a, v)| format!("{} = {}", rname(a), to_edn(v)))
                    .collect();
                format!("{}[{}]", rname(rel), cs.join(", "))
            }
            SlotKind::Values(_) | SlotKind::Temp => format!("s{}", s.0),
        }
    }

    fn term(&self, t: &Term) -> String {
        match t {
            Term::Reg(r) => format!("r{r}"),
            Term::Const(v) => to_edn(v),
        }
    }

    fn terms(&self, ts: &[Term]) -> String {
        ts.iter()
            .map(|t| self.term(t))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn binds(&self, bs: &[Bind]) -> String {
        bs.iter()
            .map(|b| match b {
                Bind::Skip => "_".to_string(),
                Bind::Store(r) => format!("r{r}"),
                Bind::Check(t) => format!("={}", self.term(t)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn call_text(&self, c: CallId) -> String {
        let call = &self.calls[c.0 as usize];
        let body = match &call.kind {
            CallKind::Test(Test::Cmp { op, lhs, rhs }) => {
                format!("{} {} {}", operand(lhs), op.symbol(), operand(rhs))
            }
            CallKind::Test(Test::Call { func, args: a }) => {
                format!("{}({})", callee(func), args(a))
            }
            CallKind::Map { bind, rhs } => {
                let r = match rhs {
                    MapRhs::Call { func, args: a } => format!("{}({})", callee(func), args(a)),
                    MapRhs::Operand(o) => operand(o),
                };
                format!("{} := {r}", map_bind(bind))
            }
        };
        let with: Vec<String> = call
            .schema
            .iter()
            .zip(&call.args)
            .map(|(a, t)| format!("{a} = {}", self.term(t)))
            .collect();
        if with.is_empty() {
            body
        } else {
            format!("{body} with {}", with.join(", "))
        }
    }

    fn op_text(&self, op: &Op) -> String {
        match op {
            Op::Scan { slot, cols } => {
                format!("scan {}({})", self.slot_name(*slot), self.binds(cols))
            }
            Op::Probe { index, key, cols } => format!(
                "probe i{}[{}]({})",
                index.0,
                self.terms(key),
                self.binds(cols)
            ),
            Op::Exists {
                index,
                key,
                negated,
            } => format!(
                "{}exists i{}[{}]",
                if *negated { "not " } else { "" },
                index.0,
                self.terms(key)
            ),
            Op::Same(a, b) => format!("if {} == {}", self.term(a), self.term(b)),
            Op::Filter { disjuncts } => {
                let ds: Vec<String> = disjuncts
                    .iter()
                    .map(|d| {
                        if d.is_empty() {
                            return "true".to_string();
                        }
                        d.iter()
                            .map(|l| {
                                format!(
                                    "{}{}",
                                    if l.negated { "not " } else { "" },
                                    self.call_text(l.call)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(" and ")
                    })
                    .collect();
                if ds.is_empty() {
                    "if false".to_string()
                } else {
                    format!("if {}", ds.join(" or "))
                }
            }
            Op::Map { call, outs } => {
                let os: Vec<String> = outs
                    .iter()
                    .map(|o| o.map_or("_".to_string(), |r| format!("r{r}")))
                    .collect();
                format!("for ({}) in {}", os.join(", "), self.call_text(*call))
            }
        }
    }

    /// A kernel as indented text, one operation per line.
    pub fn kernel_text(&self, k: KernelId) -> String {
        let kernel = &self.kernels[k.0 as usize];
        let mut out = format!("kernel k{} -> {} {{\n", k.0, self.slot_name(kernel.target));
        let mut depth = 1;
        for op in &kernel.ops {
            let _ = writeln!(out, "{}{}", "  ".repeat(depth), self.op_text(op));
            if matches!(op, Op::Scan { .. } | Op::Probe { .. } | Op::Map { .. }) {
                depth += 1;
            }
        }
        let also = kernel
            .also
            .map(|a| format!(" new into {}", self.slot_name(a)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}insert {}({}){also}",
            "  ".repeat(depth),
            self.slot_name(kernel.target),
            self.terms(&kernel.emit)
        );
        out.push_str("}\n");
        out
    }

    fn stmts_text(&self, stmts: &[Stmt], depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        for s in stmts {
            match s {
                Stmt::Clear(x) => {
                    let _ = writeln!(out, "{pad}clear {};", self.slot_name(*x));
                }
                Stmt::Run(k) => {
                    let _ = writeln!(out, "{pad}run k{};", k.0);
                }
                Stmt::Union { target, source } => {
                    let _ = writeln!(
                        out,
                        "{pad}{} += {};",
                        self.slot_name(*target),
                        self.slot_name(*source)
                    );
                }
                Stmt::Move { target, source } => {
                    let _ = writeln!(
                        out,
                        "{pad}move {} <- {};",
                        self.slot_name(*target),
                        self.slot_name(*source)
                    );
                }
                Stmt::GroupBy {
                    input,
                    keys,
                    aggs,
                    target,
                } => {
                    let ks: Vec<String> = keys.iter().map(|c| format!("#{c}")).collect();
                    let ags: Vec<String> = aggs
                        .iter()
                        .map(|a| format!("{} := {}({})", a.out, callee(&a.func), args(&a.args)))
                        .collect();
                    let _ = writeln!(
                        out,
                        "{pad}{} += group_by[{}; {}]({});",
                        self.slot_name(*target),
                        ks.join(", "),
                        ags.join(", "),
                        self.slot_name(*input)
                    );
                }
                Stmt::Loop {
                    body,
                    until,
                    partition,
                } => {
                    match partition {
                        Some(p) => {
                            let _ = writeln!(
                                out,
                                "{pad}loop by {}#{} {{",
                                self.slot_name(p.total),
                                p.col
                            );
                        }
                        None => {
                            let _ = writeln!(out, "{pad}loop {{");
                        }
                    }
                    self.stmts_text(body, depth + 1, out);
                    let us: Vec<String> = until.iter().map(|u| self.slot_name(*u)).collect();
                    let _ = writeln!(out, "{pad}}} until empty({});", us.join(", "));
                }
            }
        }
    }
}

impl fmt::Display for KernelPlan {
    /// The plan as text: relations, slots, indexes, kernels, then the strata's statements.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for d in &self.relations {
            let _ = writeln!(out, "{};", crate::ra_print::rel_decl(d));
        }
        out.push('\n');
        for (i, s) in self.slots.iter().enumerate() {
            let id = SlotId(i as u32);
            let attrs: Vec<String> = s.attrs.iter().map(|a| rname(a)).collect();
            let what = match &s.kind {
                SlotKind::Rel { .. } => "relation".to_string(),
                SlotKind::View { .. } => "view".to_string(),
                SlotKind::Temp => "temp".to_string(),
                SlotKind::Values(rows) => {
                    let rs: String = rows.iter().map(|r| format!(" {}", value_row(r))).collect();
                    format!("values{rs}")
                }
            };
            let _ = writeln!(
                out,
                "s{i} = {} ({}) {what};",
                self.slot_name(id),
                attrs.join(", ")
            );
        }
        if !self.indexes.is_empty() {
            out.push('\n');
        }
        for (i, ix) in self.indexes.iter().enumerate() {
            let key: Vec<String> = ix.key.iter().map(|c| format!("#{c}")).collect();
            let _ = writeln!(
                out,
                "i{i} = index {}[{}];",
                self.slot_name(ix.slot),
                key.join(", ")
            );
        }
        for k in 0..self.kernels.len() {
            out.push('\n');
            out.push_str(&self.kernel_text(KernelId(k as u32)));
        }
        for (i, st) in self.strata.iter().enumerate() {
            out.push('\n');
            let rec = if st.recursive { " recursive" } else { "" };
            let _ = writeln!(out, "stratum {i}{rec} {{");
            self.stmts_text(&st.stmts, 1, &mut out);
            out.push_str("}\n");
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan of two two-column slots and one kernel with these operations and emit.
    fn check(ops: Vec<Op>, emit: Vec<Term>, target: u32, expect_ok: bool) {
        let slot = |name: &str| Slot {
            kind: SlotKind::Rel {
                name: name.into(),
                version: Version::Total,
            },
            attrs: vec!["a".into(), "b".into()],
        };
        let plan = KernelPlan {
            slots: vec![slot("r"), slot("s")],
            kernels: vec![Kernel {
                target: SlotId(target),
                also: None,
                regs: 2,
                ops,
                emit,
            }],
            strata: vec![Stratum {
                recursive: false,
                stmts: vec![Stmt::Run(KernelId(0))],
            }],
            ..KernelPlan::default()
        };
        assert_eq!(plan.validate().is_ok(), expect_ok, "{:?}", plan.validate());
    }

    fn scan(slot: u32) -> Op {
        Op::Scan {
            slot: SlotId(slot),
            cols: vec![Bind::Store(0), Bind::Store(1)],
        }
    }

    #[test]
    fn a_copy_validates() {
        check(vec![scan(0)], vec![Term::Reg(1), Term::Reg(0)], 1, true);
    }

    #[test]
    fn a_kernel_may_not_read_its_target() {
        check(vec![scan(1)], vec![Term::Reg(0), Term::Reg(1)], 1, false);
    }

    #[test]
    fn registers_are_bound_before_they_are_read() {
        check(
            vec![Op::Same(Term::Reg(0), Term::Reg(1)), scan(0)],
            vec![Term::Reg(0), Term::Reg(1)],
            1,
            false,
        );
        check(vec![scan(0)], vec![Term::Reg(0), Term::Reg(7)], 1, false);
    }

    #[test]
    fn rows_fit_their_slots() {
        check(vec![scan(0)], vec![Term::Reg(0)], 1, false);
        check(
            vec![Op::Scan {
                slot: SlotId(0),
                cols: vec![Bind::Store(0)],
            }],
            vec![Term::Reg(0), Term::Reg(0)],
            1,
            false,
        );
        check(vec![scan(5)], vec![Term::Reg(0), Term::Reg(1)], 1, false);
    }
}
