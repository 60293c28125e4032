//! Store views read key by key: index-nested-loop joins into the store.
//!
//! A kernel that scans a few rows and probes a store view by a column (`[?e :name "Ivan"]
//! [?e :age ?a]`: the ages of a few entities) needs only the view's rows with the keys it
//! probes. Loading the whole view first (every `:age` datom of the store) costs time and memory
//! in proportion to the store, not to the answer. So an index whose slot is a store view that
//! kernels only probe, probed from kernels driven by a small scan, is filled on demand: the
//! first probe of a key reads that key's datoms through the store's index (EAVT for an entity,
//! AVET for a value) and appends them to the slot's table and the index's chain; a key probed
//! again is answered from the table.
//!
//! Such a slot grows while a kernel runs, so its kernels are compiled to read its columns and
//! chain from the parameter block at each row, and the run writes the new addresses there
//! after each load (`Run::refresh_block`). Each on-demand index gets a slot of its own
//! ([`split`]): the rows one key loads are then never in the table already.

use super::abi::{NONE, Param};
use super::table::{Index, Table};
use super::{Jit, Run, err, older_basis, view_bytes};
use crate::engine::{Env, Source};
use crate::store::Db;
use pomo_stdlib::EvalError;
use pomo_types::Value;
use pomo_types::kernel::*;
use pomo_types::ra::{Attr, CmpOp, FLit, Formula, Operand, Test};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The least rows a view must have (by the store's statistics) to be read key by key.
pub const LAZY_FROM: u64 = 1 << 16;

/// How many times the view's rows must exceed the rows of the scans that drive its probes.
pub const LAZY_RATIO: u64 = 64;

static FROM: AtomicU64 = AtomicU64::new(u64::MAX);
static RATIO: AtomicU64 = AtomicU64::new(u64::MAX);

/// The thresholds in force: [`set_on_demand`]'s, else `POMO_JIT_ON_DEMAND=from,ratio`, else
/// [`LAZY_FROM`] and [`LAZY_RATIO`].
pub fn thresholds() -> (u64, u64) {
    let (f, r) = (FROM.load(Ordering::Relaxed), RATIO.load(Ordering::Relaxed));
    if f != u64::MAX {
        return (f, r);
    }
    let (f, r) = std::env::var("POMO_JIT_ON_DEMAND")
        .ok()
        .and_then(|s| {
            let (f, r) = s.split_once(',')?;
            Some((f.trim().parse().ok()?, r.trim().parse().ok()?))
        })
        .unwrap_or((LAZY_FROM, LAZY_RATIO));
    set_on_demand(f, r);
    (f, r)
}

/// Sets, for the whole process, the least rows of a view read key by key and the ratio of its
/// rows to its driving scans' rows (`(0, 0)`: every view that can be, which tests use to run
/// every plan through this path).
pub fn set_on_demand(from: u64, ratio: u64) {
    FROM.store(from, Ordering::Relaxed);
    RATIO.store(ratio, Ordering::Relaxed);
}

/// An index filled on demand.
pub struct LazyIndex {
    /// The view's key in the JIT's caches and the index's key columns; the database value.
    pub cache_key: (super::ViewKey, Vec<usize>),
    pub db: crate::store::Db,
    /// The view's relation (an index into the plan's relations).
    pub decl: usize,
    /// The view's constants and the index's key attributes.
    pub consts: Vec<FLit>,
    pub key_attrs: Vec<Attr>,
    /// The first row of each key loaded so far ([`super::abi`]'s `NONE` for a key without
    /// rows).
    pub heads: HashMap<Vec<u64>, u32>,
}

/// `attr = value` as a formula literal.
pub fn eq(attr: &str, v: &Value) -> FLit {
    FLit {
        negated: false,
        test: Test::Cmp {
            op: CmpOp::Eq,
            lhs: Operand::Attr(attr.to_string()),
            rhs: Operand::Const(v.clone()),
        },
    }
}

/// The slots named by statements (read or written outside kernels).
fn stmt_slots(stmts: &[Stmt], out: &mut BTreeSet<u32>, loops: &mut BTreeSet<u32>, looped: bool) {
    for s in stmts {
        match s {
            Stmt::Clear(x) => {
                out.insert(x.0);
            }
            Stmt::Run(k) => {
                if looped {
                    loops.insert(k.0);
                }
            }
            Stmt::Union { target, source } | Stmt::Move { target, source } => {
                out.insert(target.0);
                out.insert(source.0);
            }
            Stmt::GroupBy { input, target, .. } => {
                out.insert(input.0);
                out.insert(target.0);
            }
            Stmt::Loop {
                body,
                until,
                partition,
            } => {
                out.extend(until.iter().map(|u| u.0));
                if let Some(p) = partition {
                    out.insert(p.total.0);
                    out.insert(p.delta.0);
                }
                stmt_slots(body, out, loops, true);
            }
        }
    }
}

/// Whether a slot's rows are all there when the run starts (constants, store views, base
/// relations), so that its length can drive the choice of loading key by key.
pub fn loaded_at_start(plan: &KernelPlan, s: SlotId) -> bool {
    match &plan.slot(s).kind {
        SlotKind::Values(_) | SlotKind::View { .. } => true,
        SlotKind::Rel {
            name,
            version: pomo_types::ra::Version::Total,
        } => plan
            .relations
            .iter()
            .any(|d| &d.name == name && d.kind.is_loaded()),
        _ => false,
    }
}

/// The kernels that probe or test an index.
pub fn users(plan: &KernelPlan, i: usize) -> impl Iterator<Item = &Kernel> {
    plan.kernels.iter().filter(move |k| {
        k.ops.iter().any(|op| {
            matches!(op, Op::Probe { index, .. } | Op::Exists { index, .. }
                if index.0 as usize == i)
        })
    })
}

/// The indexes that may be filled on demand: over a store view of a database in the
/// environment that no kernel scans and no statement names, with a key, and probed only by
/// kernels outside loops that start with a scan of a slot loaded at the start. Returns the plan
/// with each such index on a slot of its own (a copy of the view's slot), when one had to be
/// made, and the candidates by index id.
pub fn split(plan: &KernelPlan, env: &Env) -> (Option<KernelPlan>, Vec<bool>) {
    let mut named = BTreeSet::new();
    let mut looped = BTreeSet::new();
    for st in &plan.strata {
        stmt_slots(&st.stmts, &mut named, &mut looped, false);
    }
    let mut scanned = vec![false; plan.slots.len()];
    for k in &plan.kernels {
        scanned[k.target.0 as usize] = true;
        if let Some(a) = k.also {
            scanned[a.0 as usize] = true;
        }
        for op in &k.ops {
            if let Op::Scan { slot, .. } = op {
                scanned[slot.0 as usize] = true;
            }
        }
    }
    let store_view = |s: SlotId| match &plan.slot(s).kind {
        SlotKind::View { rel, .. } => {
            let src = plan
                .relations
                .iter()
                .find(|d| &d.name == rel)
                .and_then(|d| d.kind.view_source());
            src.is_some_and(|src| matches!(env.sources.get(src), Some(Source::Db(_))))
        }
        _ => false,
    };
    let cand: Vec<bool> = plan
        .indexes
        .iter()
        .enumerate()
        .map(|(i, ix)| {
            let s = ix.slot;
            !ix.key.is_empty()
                && !scanned[s.0 as usize]
                && !named.contains(&s.0)
                && store_view(s)
                && plan.kernels.iter().enumerate().all(|(k, kn)| {
                    let uses = kn.ops.iter().any(|op| {
                        matches!(op, Op::Probe { index, .. } | Op::Exists { index, .. }
                            if index.0 as usize == i)
                    });
                    !uses
                        || (!looped.contains(&(k as u32))
                            && matches!(kn.ops.first(), Some(Op::Scan { slot, .. })
                                if *slot != s && loaded_at_start(plan, *slot)))
                })
        })
        .collect();
    // Each candidate on a slot of its own; the first candidate of a slot no other index reads
    // keeps it.
    let mut out: Option<KernelPlan> = None;
    let mut kept: BTreeSet<u32> = BTreeSet::new();
    for (i, ix) in plan.indexes.iter().enumerate() {
        if !cand[i] {
            continue;
        }
        let s = ix.slot;
        let shared = plan
            .indexes
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && other.slot == s && !cand[j]);
        if !shared && kept.insert(s.0) {
            continue;
        }
        let p = out.get_or_insert_with(|| plan.clone());
        let copy = p.slots[s.0 as usize].clone();
        p.slots.push(copy);
        p.indexes[i].slot = SlotId((p.slots.len() - 1) as u32);
    }
    (out, cand)
}

/// The keys of a store view an index filled on demand has loaded, kept for later runs on the
/// same database value.
pub(super) struct LoadedKeys {
    /// Keeps the store (and the address in the key) alive.
    pub _db: Db,
    pub table: Arc<Table>,
    pub index: Arc<Index>,
    pub heads: HashMap<Vec<u64>, u32>,
    pub bytes: usize,
    pub used: u64,
}

/// An index to fill on demand, when its view is large next to the scans that drive its probes
/// and the cache does not hold it already (the module documentation says when).
pub(super) fn on_demand(
    jit: &Jit,
    env: &Env,
    plan: &KernelPlan,
    i: usize,
    tables: &[Arc<Table>],
) -> Option<LazyIndex> {
    let ix = &plan.indexes[i];
    let s = plan.slot(ix.slot);
    let SlotKind::View { rel, consts } = &s.kind else {
        return None;
    };
    let decl = plan.relations.iter().find(|d| &d.name == rel)?;
    let Some(Source::Db(db)) = env.sources.get(decl.kind.view_source()?) else {
        return None;
    };
    if jit
        .views
        .contains_key(&(db.cache_key(), rel.clone(), consts.clone()))
    {
        return None;
    }
    let rows = match consts.as_slice() {
        [(a, Value::Keyword(name))] if a == "a" => db.stats(name).datoms,
        _ => return None,
    };
    let drivers = users(plan, i)
        .map(|k| match k.ops.first() {
            Some(Op::Scan { slot, .. }) => tables[slot.0 as usize].len as u64,
            _ => u64::MAX,
        })
        .max()
        .unwrap_or(0);
    let (from, ratio) = thresholds();
    if rows == 0 || rows < from || drivers.saturating_mul(ratio) >= rows {
        return None;
    }
    Some(LazyIndex {
        cache_key: (
            (db.cache_key(), rel.clone(), consts.clone()),
            ix.key.clone(),
        ),
        db: db.clone(),
        decl: plan.relations.iter().position(|d| &d.name == rel)?,
        consts: consts.iter().map(|(a, v)| eq(a, v)).collect(),
        key_attrs: ix.key.iter().map(|&c| s.attrs[c].clone()).collect(),
        heads: HashMap::new(),
    })
}

impl Run<'_> {
    /// Hands the keys loaded into indexes filled on demand to the JIT, for the next run on the
    /// same database value (a repeated query then reads nothing from the store again). They
    /// count against the view budget, least recently used dropped first; keys of an older
    /// database value of the same view are dropped.
    pub(super) fn keep_loaded_keys(&mut self) {
        for i in 0..self.lazy.len() {
            let Some(l) = self.lazy[i].take() else {
                continue;
            };
            let slot = self.plan.indexes[i].slot.0 as usize;
            let table = self.tables[slot].clone();
            let bytes = view_bytes(&table) + l.heads.len() * (l.key_attrs.len() * 8 + 48);
            let jit = &mut *self.jit;
            let stale: Vec<_> = jit
                .lazy_views
                .keys()
                .filter(|(k, c)| *c == l.cache_key.1 && older_basis(k, &l.cache_key.0))
                .cloned()
                .collect();
            for k in stale {
                if let Some(c) = jit.lazy_views.remove(&k) {
                    jit.lazy_bytes -= c.bytes;
                }
            }
            if bytes > jit.view_budget {
                continue;
            }
            jit.evict_loaded_keys(bytes);
            jit.tick += 1;
            jit.lazy_bytes += bytes;
            jit.lazy_views.insert(
                l.cache_key,
                LoadedKeys {
                    _db: l.db,
                    table,
                    index: self.indexes[i].clone(),
                    heads: l.heads,
                    bytes,
                    used: jit.tick,
                },
            );
        }
    }

    /// The first row of a key in an index filled on demand, reading the key's datoms from the
    /// store on its first probe.
    pub(super) fn load_key(&mut self, i: usize, key: &[u64]) -> Result<u32, EvalError> {
        let lz = self.lazy[i].as_ref().expect("an index filled on demand");
        if let Some(&h) = lz.heads.get(key) {
            return Ok(h);
        }
        let mut lits = lz.consts.clone();
        for (a, w) in lz.key_attrs.iter().zip(key) {
            lits.push(eq(a, &self.jit.interner.decode(*w)));
        }
        let decl = &self.plan.relations[lz.decl];
        let rows = self
            .context
            .view_scan(decl, &Formula::conj(lits))?
            .ok_or_else(|| err(format!("{} cannot be read by key", decl.name)))?;
        let ix = &self.plan.indexes[i];
        let slot = ix.slot.0 as usize;
        let table = Arc::make_mut(&mut self.tables[slot]);
        let index = Arc::make_mut(&mut self.indexes[i]);
        let mut head = NONE;
        let mut row = Vec::with_capacity(table.arity);
        for tuple in &rows.tuples {
            row.clear();
            row.extend(tuple.iter().map(|v| self.jit.interner.encode(v)));
            // The store matches numbers by value (2 and 2.0); a chain holds equal words only,
            // as a whole view's index would.
            if ix.key.iter().zip(key).any(|(&c, w)| row[c] != *w) {
                continue;
            }
            index.next.resize(table.len, NONE);
            index.next.push(head);
            table.push_new(&row);
            head = (table.len - 1) as u32;
        }
        self.lazy[i]
            .as_mut()
            .expect("an index filled on demand")
            .heads
            .insert(key.to_vec(), head);
        self.refresh_block(slot, i);
        Ok(head)
    }

    /// Writes a growing slot's column addresses and an index's chain address into the running
    /// kernel's parameter block (they may have moved).
    fn refresh_block(&mut self, slot: usize, i: usize) {
        if self.block.is_null() {
            return;
        }
        // SAFETY: `block_layout` is the running kernel's layout, alive while it runs.
        let layout = unsafe { &*self.block_layout };
        for (j, p) in layout.iter().enumerate() {
            let w = match p {
                Param::Col(s, c) if s.0 as usize == slot => {
                    self.tables[slot].cols[*c].as_ptr() as u64
                }
                Param::Next(x) if x.0 as usize == i => self.indexes[i].next.as_ptr() as u64,
                _ => continue,
            };
            // SAFETY: the block has one word per layout entry and outlives the kernel call.
            unsafe { *self.block.add(j) = w };
        }
    }
}
