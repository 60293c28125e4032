//! The JIT backend (ARCHITECTURE §7, "jit"): runs kernel plans ([`pomo_types::kernel`]) as native
//! loop nests that Cranelift compiles at load time ([`codegen`]), over fixed-width tables of
//! 64-bit words ([`table`], encoding in [`abi`]).
//!
//! The driver here runs a plan's statements in order (PomoRA's semi-naive loops, kept by the
//! kernel lowering), loads base relations, store views and inputs into tables, keeps the
//! indexes kernels probe up to date, and answers the helpers compiled code calls: index probes,
//! inserts with deduplication, and the stdlib shim that evaluates tests and functions with the
//! reference evaluator's own code (so every function behaves on this backend exactly as on the
//! reference). Aggregation runs here too, over the decoded rows of a group, with the stdlib's
//! aggregates.
//!
//! A [`Jit`] keeps what outlives one run: the interner, the tables of store views (one per
//! database value and attribute, with their indexes: the columnar copies of the store's
//! covered indexes) and the compiled kernels, cached by the kernel's content so that running
//! a prepared query again compiles nothing. [`Mode::Interpret`] runs the same kernels through
//! a small interpreter; tests use it to check the code generator.

pub mod abi;
pub mod codegen;
mod lazy;
pub use lazy::set_on_demand;
pub mod table;

use crate::engine::{self, Context, Env, Relation, Source};
use crate::store::Db;
use abi::{KernelFn, NONE, Param};
use pomo_stdlib::EvalError;
use pomo_types::Value;
use pomo_types::kernel::*;
use pomo_types::ra::{AggCall, Callee, FLit, Formula, Operand, RelKind, Version};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use table::{Index, Interner, Table};

/// How many rows a kernel's inserts are batched by (their set slots prefetched together).
const BATCH_ROWS: usize = 32;

/// The size from which a target's inserts are batched: smaller sets stay in cache.
const BATCH_FROM: usize = 1 << 16;

/// How many batches a partitioned loop splits its rows into: enough that a batch's tables
/// stay small (in cache), few enough that running the loop body per batch costs little.
const BATCHES: usize = 32;

fn err(message: impl Into<String>) -> EvalError {
    EvalError {
        message: message.into(),
    }
}

/// How kernels run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Compiled to native code by Cranelift.
    #[default]
    Native,
    /// Interpreted (a check on the code generator).
    Interpret,
}

/// A compiled kernel: its entry point and parameter layout.
type Entry = (KernelFn, Vec<Param>);

type ViewKey = (
    (usize, u64, Option<i64>, Option<i64>, bool),
    String,
    Vec<(String, Value)>,
);

/// Whether `k` is the same view as `key` (store, relation, constants, view bounds) at an older
/// basis: what a newer database value's copy replaces.
fn older_basis(k: &ViewKey, key: &ViewKey) -> bool {
    k.1 == key.1
        && k.2 == key.2
        && (k.0.0, k.0.2, k.0.3, k.0.4) == (key.0.0, key.0.2, key.0.3, key.0.4)
        && k.0.1 < key.0.1
}

/// A cached columnar view of the store.
struct CachedView {
    db: Db,
    table: Arc<Table>,
    bytes: usize,
    used: u64,
}

/// The default budget of the view cache: `POMO_JIT_VIEW_BYTES`, or 512 MiB.
fn default_view_budget() -> usize {
    std::env::var("POMO_JIT_VIEW_BYTES")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(512 << 20)
}

/// The bytes a view and an index on it take, roughly: its columns, its row set and a chain.
fn view_bytes(t: &Table) -> usize {
    256 + t.len * (t.arity * 8 + 24)
}

/// What the JIT backend keeps between runs.
pub struct Jit {
    mode: Mode,
    interner: Interner,
    /// Store views by database value, relation and constants; the `Db` keeps the store alive
    /// so that its address in the key is never reused while the entry exists. Bounded by
    /// bytes (see [`Jit::set_view_budget`]).
    views: HashMap<ViewKey, CachedView>,
    view_indexes: HashMap<(ViewKey, Vec<usize>), Arc<Index>>,
    /// Views read key by key, by view and index key, and the bytes they hold (within the
    /// same budget as the views, kept apart from them).
    lazy_views: HashMap<(ViewKey, Vec<usize>), lazy::LoadedKeys>,
    lazy_bytes: usize,
    /// The bytes the cached views (and their indexes) hold, and the most they may hold.
    view_bytes: usize,
    view_budget: usize,
    /// A clock for least-recently-used eviction.
    tick: u64,
    codegen: Option<codegen::Codegen>,
    compiled: HashMap<u64, Entry>,
}

impl Default for Jit {
    fn default() -> Jit {
        Jit::new(Mode::Native)
    }
}

/// What a run derived: the tables of the plan's derived relations (and `R@next`), by name.
pub struct Derived {
    pub tables: BTreeMap<String, (Vec<String>, Arc<Table>)>,
}

impl Derived {
    /// The number of rows of a derived relation.
    pub fn len(&self, name: &str) -> Option<usize> {
        self.tables.get(name).map(|(_, t)| t.len)
    }
}

/// Evaluates a kernel plan once with native kernels; every derived relation by name.
pub fn evaluate(plan: &KernelPlan, env: &Env) -> Result<BTreeMap<String, Relation>, EvalError> {
    let mut jit = Jit::new(Mode::Native);
    let out = jit.run(plan, env)?;
    Ok(jit.relations(&out))
}

impl Jit {
    pub fn new(mode: Mode) -> Jit {
        Jit {
            mode,
            interner: Interner::default(),
            views: HashMap::new(),
            view_indexes: HashMap::new(),
            lazy_views: HashMap::new(),
            lazy_bytes: 0,
            view_bytes: 0,
            view_budget: default_view_budget(),
            tick: 0,
            codegen: None,
            compiled: HashMap::new(),
        }
    }

    /// Limits the bytes of cached store views (least recently used go first); a view larger
    /// than the whole budget is used by its run and not kept.
    pub fn set_view_budget(&mut self, bytes: usize) {
        self.view_budget = bytes;
        self.evict(0);
        self.evict_loaded_keys(0);
    }

    /// Drops the least recently used keys loaded key by key until `more` bytes fit in the
    /// budget beside the views.
    fn evict_loaded_keys(&mut self, more: usize) {
        while self.view_bytes + self.lazy_bytes + more > self.view_budget {
            let Some(k) = self
                .lazy_views
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(c) = self.lazy_views.remove(&k) {
                self.lazy_bytes -= c.bytes;
            }
        }
    }

    /// The bytes the cached store views (whole, and read key by key) hold now, and how many
    /// there are.
    pub fn view_cache(&self) -> (usize, usize) {
        (
            self.view_bytes + self.lazy_bytes,
            self.views.len() + self.lazy_views.len(),
        )
    }

    fn view_get(&mut self, key: &ViewKey) -> Option<Arc<Table>> {
        self.tick += 1;
        let v = self.views.get_mut(key)?;
        v.used = self.tick;
        Some(v.table.clone())
    }

    /// Caches a view. Views of the same store, relation, constants and view bounds at an
    /// older basis are dropped first (a long-running program keeps one version of each, and
    /// releases the old database values' read transactions).
    fn view_put(&mut self, key: ViewKey, db: Db, table: Arc<Table>) {
        let stale: Vec<ViewKey> = self
            .views
            .keys()
            .filter(|k| older_basis(k, &key))
            .cloned()
            .collect();
        for k in stale {
            self.drop_view(&k);
        }
        let bytes = view_bytes(&table);
        if bytes > self.view_budget {
            return;
        }
        self.evict(bytes);
        self.tick += 1;
        self.view_bytes += bytes;
        self.views.insert(
            key,
            CachedView {
                db,
                table,
                bytes,
                used: self.tick,
            },
        );
    }

    fn drop_view(&mut self, key: &ViewKey) {
        if let Some(v) = self.views.remove(key) {
            self.view_bytes -= v.bytes;
            drop(v.db);
        }
        self.view_indexes.retain(|(k, _), _| k != key);
    }

    /// Evicts least recently used views until `more` bytes fit in the budget.
    fn evict(&mut self, more: usize) {
        while self.view_bytes + self.lazy_bytes + more > self.view_budget {
            let Some(k) = self
                .views
                .iter()
                .min_by_key(|(_, v)| v.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.drop_view(&k);
        }
    }

    /// The derived relations of a run, decoded.
    pub fn relations(&self, out: &Derived) -> BTreeMap<String, Relation> {
        out.tables
            .keys()
            .filter_map(|n| Some((n.clone(), self.relation(out, n)?)))
            .collect()
    }

    /// One derived relation of a run, decoded.
    pub fn relation(&self, out: &Derived, name: &str) -> Option<Relation> {
        let (attrs, t) = out.tables.get(name)?;
        // Collecting sorts once and builds the set in bulk, much faster than inserting.
        let tuples = (0..t.len)
            .map(|i| {
                t.cols
                    .iter()
                    .map(|c| self.interner.decode(c[i]))
                    .collect::<Vec<_>>()
            })
            .collect();
        Some(Relation {
            attrs: attrs.clone(),
            tuples,
        })
    }

    /// The rows of a derived relation as tuple values, sorted and distinct: the result of a
    /// `:find` relation without `:with`, made without building a set of tuples. Rows of inline
    /// integers are sorted by their words (the integers' order), others by value.
    pub fn sorted_tuples(&self, out: &Derived, name: &str) -> Option<Vec<Value>> {
        let (_, t) = out.tables.get(name)?;
        let decode =
            |i: usize| Value::Tuple(t.cols.iter().map(|c| self.interner.decode(c[i])).collect());
        if t.cols.iter().all(|c| c.iter().all(|w| w & 1 == 0)) {
            let mut order: Vec<u32> = (0..t.len as u32).collect();
            order.sort_unstable_by(|&a, &b| {
                t.cols
                    .iter()
                    .map(|c| (c[a as usize] as i64).cmp(&(c[b as usize] as i64)))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            Some(order.into_iter().map(|i| decode(i as usize)).collect())
        } else {
            let mut rows: Vec<Value> = (0..t.len).map(decode).collect();
            rows.sort_unstable();
            Some(rows)
        }
    }

    /// Runs a plan.
    pub fn run(&mut self, plan: &KernelPlan, env: &Env) -> Result<Derived, EvalError> {
        self.run_with(plan, env, &BTreeMap::new())
    }

    /// Runs a plan with some base relations given as rows (in the relation's attribute order)
    /// instead of read from the environment's store: how an app or a benchmark feeds data it
    /// holds itself.
    pub fn run_with(
        &mut self,
        plan: &KernelPlan,
        env: &Env,
        bases: &BTreeMap<String, Vec<Vec<Value>>>,
    ) -> Result<Derived, EvalError> {
        // The native code trusts the plan's ids and its no-read-of-the-target rule.
        plan.validate()
            .map_err(|m| err(format!("invalid kernel plan: {m}")))?;
        // Indexes that may read the store key by key get slots of their own.
        let (split, candidates) = lazy::split(plan, env);
        let plan = split.as_ref().unwrap_or(plan);
        let mut run = Run::new(self, plan, env, bases, &candidates)?;
        for st in &plan.strata {
            run.stmts(&st.stmts)?;
        }
        run.keep_loaded_keys();
        let mut tables = BTreeMap::new();
        for (i, s) in plan.slots.iter().enumerate() {
            if let SlotKind::Rel { name, version } = &s.kind {
                let derived = plan.relations.iter().any(|d| {
                    &d.name == name && matches!(d.kind, RelKind::Derived | RelKind::Output(_))
                });
                let key = match version {
                    Version::Total if derived => name.clone(),
                    Version::Next => format!("{name}@next"),
                    _ => continue,
                };
                tables.insert(key, (s.attrs.clone(), run.tables[i].clone()));
            }
        }
        Ok(Derived { tables })
    }

    /// The native entry point and parameter layout of a kernel, compiled on first use.
    fn compiled(
        &mut self,
        plan: &KernelPlan,
        k: KernelId,
        growing: &[bool],
    ) -> Result<(KernelFn, Vec<Param>), EvalError> {
        use std::hash::{Hash, Hasher};
        let kernel = &plan.kernels[k.0 as usize];
        // The code depends on the kernel, the slots of the indexes it reads and the calls it
        // makes; ids are passed to helpers as numbers, so equal kernels share code.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        kernel.hash(&mut h);
        for op in &kernel.ops {
            match op {
                Op::Probe { index, .. } | Op::Exists { index, .. } => {
                    plan.indexes[index.0 as usize].hash(&mut h)
                }
                Op::Filter { disjuncts } => {
                    for l in disjuncts.iter().flatten() {
                        plan.calls[l.call.0 as usize].hash(&mut h);
                    }
                }
                Op::Map { call, .. } => plan.calls[call.0 as usize].hash(&mut h),
                Op::Scan { .. } | Op::Same(..) => {}
            }
        }
        // Slots that grow while the kernel runs are read differently.
        let grows: Vec<usize> = kernel
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Probe { index, .. } => Some(plan.indexes[index.0 as usize].slot.0 as usize),
                _ => None,
            })
            .filter(|&s| growing.get(s).copied().unwrap_or(false))
            .collect();
        grows.hash(&mut h);
        let key = h.finish();
        if let Some(c) = self.compiled.get(&key) {
            return Ok(c.clone());
        }
        if self.codegen.is_none() {
            self.codegen = Some(codegen::Codegen::new(&helper_symbols()).map_err(err)?);
        }
        let cg = self.codegen.as_mut().expect("created above");
        let f = if grows.is_empty() {
            cg.compile_fn(plan, k)
        } else {
            cg.compile_growing(plan, k, growing)
        }
        .map_err(err)?;
        let entry = (f, abi::layout(plan, k));
        self.compiled.insert(key, entry.clone());
        Ok(entry)
    }
}

/// The helpers' symbols for the code generator.
pub fn helper_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("pomo_probe", pomo_probe as *const u8),
        ("pomo_exists", pomo_exists as *const u8),
        ("pomo_insert", pomo_insert as *const u8),
        ("pomo_test", pomo_test as *const u8),
        ("pomo_map", pomo_map as *const u8),
    ]
}

/// The state of one run of a plan.
struct Run<'a> {
    jit: &'a mut Jit,
    plan: &'a KernelPlan,
    context: Context<'a>,
    tables: Vec<Arc<Table>>,
    indexes: Vec<Arc<Index>>,
    /// Indexes whose chains kernels follow (the others are answered from the table's set).
    chained: Vec<bool>,
    /// Indexes filled from the store key by key ([`lazy`]), and their slots (which grow while
    /// kernels run).
    lazy: Vec<Option<lazy::LazyIndex>>,
    growing: Vec<bool>,
    /// While a native kernel runs: its parameter block and layout, which a load into a
    /// growing slot updates.
    block: *mut u64,
    block_layout: *const [Param],
    /// Test calls as one-literal formulas, built once.
    tests: Vec<Option<Formula>>,
    map_bufs: Vec<Vec<u64>>,
    /// Where the running kernel also appends the rows its insert adds.
    also: Option<SlotId>,
    /// The first row of `also` not yet in the target's columns.
    also_from: usize,
    /// Rows queued for the target, inserted [`BATCH_ROWS`] at a time.
    batch: Vec<u64>,
    /// The running kernel's target and `also` tables, unshared for the kernel's duration so
    /// that an insert does not check the tables' reference counts.
    target_ptr: *mut Table,
    also_ptr: *mut Table,
    /// Each kernel's entry point and parameter layout, once fetched in this run.
    entries: Vec<Option<Arc<Entry>>>,
    /// The parameter block, reused from call to call.
    params: Vec<u64>,
    error: Option<EvalError>,
}

impl<'a> Run<'a> {
    fn new(
        jit: &'a mut Jit,
        plan: &'a KernelPlan,
        env: &'a Env,
        bases: &BTreeMap<String, Vec<Vec<Value>>>,
        candidates: &[bool],
    ) -> Result<Run<'a>, EvalError> {
        let context = Context::new(env);
        let mut tables = Vec::with_capacity(plan.slots.len());
        let mut view_keys: Vec<Option<ViewKey>> = Vec::new();
        // The slots of indexes that may be filled on demand are loaded after the others,
        // whose lengths decide.
        let mut deferred = vec![false; plan.slots.len()];
        for (i, ix) in plan.indexes.iter().enumerate() {
            if candidates.get(i).copied().unwrap_or(false) {
                deferred[ix.slot.0 as usize] = true;
            }
        }
        for (j, s) in plan.slots.iter().enumerate() {
            if deferred[j] {
                tables.push(Arc::new(Table::new(s.arity())));
                view_keys.push(None);
                continue;
            }
            if let SlotKind::Rel {
                name,
                version: Version::Total,
            } = &s.kind
                && let Some(rows) = bases.get(name)
            {
                let mut t = Table::new(s.arity());
                for r in rows {
                    if r.len() != s.arity() {
                        return Err(err(format!(
                            "rows of {name} have {} values, not {}",
                            r.len(),
                            s.arity()
                        )));
                    }
                    let w: Vec<u64> = r.iter().map(|v| jit.interner.encode(v)).collect();
                    t.insert(&w);
                }
                tables.push(Arc::new(t));
                view_keys.push(None);
                continue;
            }
            let (t, vk) = load_slot(jit, &context, env, plan, s)?;
            tables.push(t);
            view_keys.push(vk);
        }
        let mut kept_index: Vec<Option<Arc<Index>>> = vec![None; plan.indexes.len()];
        let mut lazies: Vec<Option<lazy::LazyIndex>> = Vec::new();
        lazies.resize_with(plan.indexes.len(), || None);
        let mut growing = vec![false; plan.slots.len()];
        for (i, ix) in plan.indexes.iter().enumerate() {
            let j = ix.slot.0 as usize;
            if !deferred[j] || !tables[j].cols.iter().all(Vec::is_empty) || view_keys[j].is_some() {
                continue;
            }
            if let Some(mut l) = lazy::on_demand(jit, env, plan, i, &tables) {
                // The keys an earlier run of the same database value loaded.
                if let Some(c) = jit.lazy_views.remove(&l.cache_key) {
                    jit.lazy_bytes -= c.bytes;
                    tables[j] = c.table;
                    kept_index[i] = Some(c.index);
                    l.heads = c.heads;
                }
                lazies[i] = Some(l);
                growing[j] = true;
            } else {
                let (t, vk) = load_slot(jit, &context, env, plan, &plan.slots[j])?;
                tables[j] = t;
                view_keys[j] = vk;
            }
        }
        let mut chained = vec![false; plan.indexes.len()];
        for k in &plan.kernels {
            for op in &k.ops {
                match op {
                    Op::Probe { index, .. } => chained[index.0 as usize] = true,
                    Op::Exists { index, .. } => {
                        let ix = &plan.indexes[index.0 as usize];
                        let full = ix.key.len() == plan.slot(ix.slot).arity()
                            && ix.key.iter().enumerate().all(|(i, c)| i == *c);
                        if !full && !ix.key.is_empty() {
                            chained[index.0 as usize] = true;
                        }
                    }
                    _ => {}
                }
            }
        }
        for (i, l) in lazies.iter().enumerate() {
            if l.is_some() {
                chained[i] = true;
            }
        }
        let mut indexes = Vec::with_capacity(plan.indexes.len());
        for (i, ix) in plan.indexes.iter().enumerate() {
            let slot = ix.slot.0 as usize;
            match &view_keys[slot] {
                Some(vk) if chained[i] => {
                    let key = (vk.clone(), ix.key.clone());
                    let idx = jit.view_indexes.entry(key).or_insert_with(|| {
                        let mut x = Index::new(ix.key.clone());
                        x.sync(&tables[slot]);
                        Arc::new(x)
                    });
                    indexes.push(idx.clone());
                }
                _ => indexes.push(
                    kept_index[i]
                        .take()
                        .unwrap_or_else(|| Arc::new(Index::new(ix.key.clone()))),
                ),
            }
        }
        let tests = plan
            .calls
            .iter()
            .map(|c| match &c.kind {
                CallKind::Test(t) => Some(Formula::conj(vec![FLit {
                    negated: false,
                    test: t.clone(),
                }])),
                CallKind::Map { .. } => None,
            })
            .collect();
        Ok(Run {
            jit,
            plan,
            context,
            tables,
            indexes,
            chained,
            lazy: lazies,
            growing,
            block: std::ptr::null_mut(),
            block_layout: std::ptr::slice_from_raw_parts(std::ptr::null(), 0),
            tests,
            map_bufs: Vec::new(),
            also: None,
            also_from: 0,
            batch: Vec::new(),
            target_ptr: std::ptr::null_mut(),
            also_ptr: std::ptr::null_mut(),
            entries: vec![None; plan.kernels.len()],
            params: Vec::new(),
            error: None,
        })
    }

    fn table_mut(&mut self, s: SlotId) -> &mut Table {
        Arc::make_mut(&mut self.tables[s.0 as usize])
    }

    fn stmts(&mut self, stmts: &[Stmt]) -> Result<(), EvalError> {
        for s in stmts {
            match s {
                Stmt::Clear(x) => self.table_mut(*x).clear(),
                Stmt::Run(k) => self.run_kernel(*k)?,
                Stmt::Union { target, source } => {
                    let src = self.tables[source.0 as usize].clone();
                    self.table_mut(*target).extend_from(&src);
                }
                Stmt::Move { target, source } => {
                    // The target's old table, emptied, becomes the source's storage.
                    self.tables.swap(target.0 as usize, source.0 as usize);
                    self.table_mut(*source).clear();
                }
                Stmt::GroupBy {
                    input,
                    keys,
                    aggs,
                    target,
                } => self.group_by(*input, keys, aggs, *target)?,
                Stmt::Loop {
                    body,
                    until,
                    partition: Some(p),
                } => self.partitioned(body, until, p)?,
                Stmt::Loop {
                    body,
                    until,
                    partition: None,
                } => self.fixpoint(body, until)?,
            }
        }
        Ok(())
    }

    /// Runs a loop body until the `until` slots are empty.
    fn fixpoint(&mut self, body: &[Stmt], until: &[SlotId]) -> Result<(), EvalError> {
        let mut n = 0;
        loop {
            self.stmts(body)?;
            n += 1;
            if until.iter().all(|u| self.tables[u.0 as usize].len == 0) {
                return Ok(());
            }
            if n >= engine::MAX_ITERATIONS {
                return Err(err(format!(
                    "recursion did not converge after {n} iterations"
                )));
            }
        }
    }

    /// A partitioned loop: the partition column's values (of the total's and the delta's rows)
    /// are split into [`BATCHES`] batches; each batch runs the loop to its fixpoint with the
    /// total and the delta holding only the rows of its values, and the batch's total is then
    /// appended to the result, which becomes the total. Rows of different batches differ in
    /// the partition column, so the result needs no deduplication.
    fn partitioned(
        &mut self,
        body: &[Stmt],
        until: &[SlotId],
        p: &Partition,
    ) -> Result<(), EvalError> {
        let (total, delta) = (p.total.0 as usize, p.delta.0 as usize);
        let arity = self.plan.slot(p.total).arity();
        let init_total = std::mem::replace(&mut self.tables[total], Arc::new(Table::new(arity)));
        let init_delta = std::mem::replace(&mut self.tables[delta], Arc::new(Table::new(arity)));
        // Each table's rows by partition value, and the values' batch boundaries.
        let sorted = |t: &Table| {
            let mut order: Vec<u32> = (0..t.len as u32).collect();
            order.sort_unstable_by_key(|&r| t.cols[p.col][r as usize]);
            order
        };
        let (tot_order, del_order) = (sorted(&init_total), sorted(&init_delta));
        let mut values: Vec<u64> = tot_order
            .iter()
            .map(|&r| init_total.cols[p.col][r as usize])
            .chain(
                del_order
                    .iter()
                    .map(|&r| init_delta.cols[p.col][r as usize]),
            )
            .collect();
        values.sort_unstable();
        values.dedup();
        let per = values.len().div_ceil(BATCHES).max(1);
        let mut result = Table::new(arity);
        let mut row = vec![0u64; arity];
        let (mut ti, mut di) = (0, 0);
        for batch in values.chunks(per) {
            let last = *batch.last().expect("chunks are not empty");
            // The batch's tables reuse the previous batch's allocations.
            for (slot, init, order, at) in [
                (p.total, &init_total, &tot_order, &mut ti),
                (p.delta, &init_delta, &del_order, &mut di),
            ] {
                self.table_mut(slot).clear();
                while *at < order.len() && init.cols[p.col][order[*at] as usize] <= last {
                    let r = order[*at] as usize;
                    for (c, w) in row.iter_mut().enumerate() {
                        *w = init.cols[c][r];
                    }
                    self.table_mut(slot).insert(&row);
                    *at += 1;
                }
            }
            self.fixpoint(body, until)?;
            let done = self.table_mut(p.total);
            for r in 0..done.len {
                for (c, w) in row.iter_mut().enumerate() {
                    *w = done.cols[c][r];
                }
                result.push_new(&row);
            }
        }
        self.tables[total] = Arc::new(result);
        self.tables[delta] = Arc::new(Table::new(arity));
        Ok(())
    }

    /// Groups a slot's rows by the words of the key columns (no decoding) and appends a row
    /// per group. `count` is the group's size; other aggregates get the group's rows decoded
    /// and run in the stdlib, as on the reference.
    fn group_by(
        &mut self,
        input: SlotId,
        keys: &[usize],
        aggs: &[AggCall],
        target: SlotId,
    ) -> Result<(), EvalError> {
        let schema = &self.plan.slot(input).attrs;
        let t = self.tables[input.0 as usize].clone();
        let mut order: Vec<u32> = (0..t.len as u32).collect();
        let tt = &t;
        let key_of = |r: u32| keys.iter().map(move |&k| tt.cols[k][r as usize]);
        order.sort_unstable_by(|&a, &b| key_of(a).cmp(key_of(b)));
        let counts_only = aggs.iter().all(|a| {
            matches!(&a.func, Callee::Builtin(n) if n == "count")
                && matches!(a.args.as_slice(), [] | [Operand::Attr(_)])
        });
        let mut start = 0;
        let mut out = Vec::new();
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len() && key_of(order[end]).eq(key_of(order[start])) {
                end += 1;
            }
            let group = &order[start..end];
            let mut row: Vec<u64> = key_of(group[0]).collect();
            if counts_only {
                let n = Value::Int(group.len() as i64);
                row.extend(aggs.iter().map(|_| self.jit.interner.encode(&n)));
            } else {
                // In the reference's order (tuples by value), for aggregates that care.
                let mut tuples: Vec<Vec<Value>> = group
                    .iter()
                    .map(|&r| {
                        t.cols
                            .iter()
                            .map(|c| self.jit.interner.decode(c[r as usize]))
                            .collect()
                    })
                    .collect();
                tuples.sort();
                let refs: Vec<&[Value]> = tuples.iter().map(|x| x.as_slice()).collect();
                for v in self.context.aggregate_group(aggs, schema, &refs)? {
                    row.push(self.jit.interner.encode(&v));
                }
            }
            out.push(row);
            start = end;
        }
        let target = self.table_mut(target);
        for row in out {
            target.insert(&row);
        }
        Ok(())
    }

    fn run_kernel(&mut self, k: KernelId) -> Result<(), EvalError> {
        let plan = self.plan;
        let kernel = &plan.kernels[k.0 as usize];
        for op in &kernel.ops {
            if let Op::Probe { index, .. } | Op::Exists { index, .. } = op {
                let i = index.0 as usize;
                let slot = plan.indexes[i].slot.0 as usize;
                // Indexes of store views come synced from the cache and are shared with it:
                // only a stale index is touched (cloned first if it is shared). Indexes filled
                // on demand are never synced.
                if self.chained[i]
                    && self.lazy[i].is_none()
                    && !self.indexes[i].is_synced(&self.tables[slot])
                {
                    let t = self.tables[slot].clone();
                    Arc::make_mut(&mut self.indexes[i]).sync(&t);
                }
            }
        }
        for op in &kernel.ops {
            if let Op::Exists { index, .. } = op
                && !self.chained[index.0 as usize]
            {
                let slot = plan.indexes[index.0 as usize].slot;
                if self.tables[slot.0 as usize].is_behind() {
                    self.table_mut(slot).catch_up();
                }
            }
        }
        self.also = kernel.also;
        self.target_ptr = self.table_mut(kernel.target) as *mut Table;
        self.also_ptr = match kernel.also {
            Some(a) => self.table_mut(a) as *mut Table,
            None => std::ptr::null_mut(),
        };
        self.also_from = match kernel.also {
            Some(a) => self.tables[a.0 as usize].len,
            None => 0,
        };
        if self.map_bufs.len() < kernel.ops.len() {
            self.map_bufs.resize(kernel.ops.len(), Vec::new());
        }
        let result = match self.jit.mode {
            Mode::Interpret => {
                let mut regs = vec![0u64; kernel.regs as usize];
                self.interp(kernel, 0, &mut regs)
            }
            Mode::Native => {
                // Looked up in the Jit's cache once per run; loops run a kernel many times.
                if self.entries[k.0 as usize].is_none() {
                    let e = self.jit.compiled(plan, k, &self.growing)?;
                    self.entries[k.0 as usize] = Some(Arc::new(e));
                }
                let entry = self.entries[k.0 as usize].clone().expect("set above");
                let (f, layout) = (&entry.0, &entry.1);
                let mut params = std::mem::take(&mut self.params);
                params.clear();
                for p in layout {
                    params.push(match p {
                        Param::Len(s) => self.tables[s.0 as usize].len as u64,
                        Param::Col(s, c) => self.tables[s.0 as usize].cols[*c].as_ptr() as u64,
                        Param::Next(i) => self.indexes[i.0 as usize].next.as_ptr() as u64,
                        Param::Const(v) => self.jit.interner.encode(v),
                        Param::DenseLen(i) => self.indexes[i.0 as usize].dense_parts().0,
                        Param::DenseBase(i) => self.indexes[i.0 as usize].dense_parts().1,
                        Param::DenseHeads(i) => self.indexes[i.0 as usize].dense_parts().2,
                    });
                }
                // A load into a growing slot rewrites its words in the block.
                self.block = params.as_mut_ptr();
                self.block_layout = layout.as_slice() as *const [Param];
                // SAFETY: the kernel reads the tables and index chains whose pointers are in
                // `params`; none of them changes while it runs (kernels write only their
                // target, which they never read) except growing slots, whose new addresses
                // the helpers write into `params` before they return and which the kernel
                // reads from there; the helpers get this run as context.
                let status = unsafe {
                    f(
                        self as *mut Run as *mut std::ffi::c_void,
                        params.as_mut_ptr(),
                    )
                };
                self.block = std::ptr::null_mut();
                self.block_layout = std::ptr::slice_from_raw_parts(std::ptr::null(), 0);
                self.params = params;
                if let Some(e) = self.error.take() {
                    return Err(e);
                }
                if status < 0 {
                    return Err(self
                        .error
                        .take()
                        .unwrap_or_else(|| err("a kernel failed without an error")));
                }
                Ok(())
            }
        };
        self.flush_batch();
        self.flush_deferred();
        self.target_ptr = std::ptr::null_mut();
        self.also_ptr = std::ptr::null_mut();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        result
    }

    fn word(&mut self, t: &Term, regs: &[u64]) -> u64 {
        match t {
            Term::Reg(r) => regs[*r as usize],
            Term::Const(v) => self.jit.interner.encode(v),
        }
    }

    fn bind(&mut self, slot: SlotId, r: usize, cols: &[Bind], regs: &mut [u64]) -> bool {
        for (c, b) in cols.iter().enumerate() {
            match b {
                Bind::Skip => {}
                Bind::Store(x) => regs[*x as usize] = self.tables[slot.0 as usize].cols[c][r],
                Bind::Check(t) => {
                    let w = self.word(t, regs);
                    if self.tables[slot.0 as usize].cols[c][r] != w {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// The interpreter: runs the operations from `at` on, then the insert.
    fn interp(&mut self, k: &Kernel, at: usize, regs: &mut Vec<u64>) -> Result<(), EvalError> {
        let Some(op) = k.ops.get(at) else {
            let row: Vec<u64> = k.emit.iter().map(|t| self.word(t, regs)).collect();
            self.queue(&row);
            return Ok(());
        };
        match op {
            Op::Scan { slot, cols } => {
                for r in 0..self.tables[slot.0 as usize].len {
                    if self.bind(*slot, r, cols, regs) {
                        self.interp(k, at + 1, regs)?;
                    }
                }
            }
            Op::Probe { index, key, cols } => {
                let key: Vec<u64> = key.iter().map(|t| self.word(t, regs)).collect();
                let mut r = self.probe(*index, &key);
                let slot = self.plan.indexes[index.0 as usize].slot;
                while r != NONE {
                    if self.bind(slot, r as usize, cols, regs) {
                        self.interp(k, at + 1, regs)?;
                    }
                    r = self.indexes[index.0 as usize].next[r as usize];
                }
            }
            Op::Exists {
                index,
                key,
                negated,
            } => {
                let key: Vec<u64> = key.iter().map(|t| self.word(t, regs)).collect();
                if self.exists(*index, &key) != *negated {
                    self.interp(k, at + 1, regs)?;
                }
            }
            Op::Same(a, b) => {
                if self.word(a, regs) == self.word(b, regs) {
                    self.interp(k, at + 1, regs)?;
                }
            }
            Op::Filter { disjuncts } => {
                let mut pass = false;
                for d in disjuncts {
                    let mut all = true;
                    for l in d {
                        let holds = match &l.cmp {
                            Some((op, a, b)) => {
                                let (x, y) = (self.word(a, regs), self.word(b, regs));
                                if x & 1 == 0 && y & 1 == 0 {
                                    op.holds((x as i64).cmp(&(y as i64)))
                                } else {
                                    self.test_words(l.call, regs)?
                                }
                            }
                            None => self.test_words(l.call, regs)?,
                        };
                        if holds == l.negated {
                            all = false;
                            break;
                        }
                    }
                    if all {
                        pass = true;
                        break;
                    }
                }
                if pass {
                    self.interp(k, at + 1, regs)?;
                }
            }
            Op::Map { call, outs } => {
                let args: Vec<u64> = self.plan.calls[call.0 as usize]
                    .args
                    .iter()
                    .map(|t| self.word(t, regs))
                    .collect();
                let rows = self.map(*call, &args)?;
                for row in rows {
                    for (o, w) in outs.iter().zip(&row) {
                        if let Some(r) = o {
                            regs[*r as usize] = *w;
                        }
                    }
                    self.interp(k, at + 1, regs)?;
                }
            }
        }
        Ok(())
    }

    /// Inserts a row into a kernel's target (and, when it is new, into the slot the kernel
    /// also fills); whether it was new.
    /// Queues a row for the running kernel's target. Rows are inserted a batch at a time:
    /// the set slots of a whole batch are prefetched first, so their cache misses overlap
    /// instead of stalling one insert after the other. Kernels never read their target, so
    /// inserting later changes nothing they see.
    fn queue(&mut self, row: &[u64]) {
        // A small target's set is in cache: nothing to hide.
        // SAFETY: as in `insert`.
        if row.is_empty() || unsafe { (*self.target_ptr).len } < BATCH_FROM {
            self.insert(row);
            return;
        }
        self.batch.extend_from_slice(row);
        if self.batch.len() >= BATCH_ROWS * row.len().max(1) {
            self.flush_batch();
        }
    }

    /// Inserts the queued rows.
    fn flush_batch(&mut self) {
        if self.target_ptr.is_null() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        // SAFETY: as in `insert`.
        let arity = unsafe { (*self.target_ptr).arity }.max(1);
        for row in batch.chunks_exact(arity) {
            unsafe { (*self.target_ptr).prefetch(row) };
        }
        for row in batch.chunks_exact(arity) {
            self.insert(row);
        }
        self.batch = batch;
        self.batch.clear();
    }

    fn insert(&mut self, row: &[u64]) -> bool {
        debug_assert!(!self.target_ptr.is_null());
        // SAFETY: `run_kernel` made both tables unshared and set the pointers before the
        // kernel started; nothing else touches these tables while it runs (kernels never read
        // their target or `also` slot), and the pointers are reset when it ends.
        unsafe {
            if self.also_ptr.is_null() {
                return (*self.target_ptr).insert(row);
            }
            // The new rows go to `also` anyway: the target's columns take them in one copy
            // when the kernel ends (or before a row that cannot wait), its set right away.
            if let Some(added) = (*self.target_ptr).insert_deferred(row) {
                if added {
                    (*self.also_ptr).push_new(row);
                }
                return added;
            }
            self.flush_deferred();
            let added = (*self.target_ptr).insert(row);
            if added {
                (*self.also_ptr).push_new(row);
                self.also_from = (*self.also_ptr).len;
            }
            added
        }
    }

    /// Appends the rows `insert` deferred to the target's columns.
    fn flush_deferred(&mut self) {
        if self.also_ptr.is_null() {
            return;
        }
        // SAFETY: as in `insert`.
        unsafe {
            (*self.target_ptr).append_rows(&*self.also_ptr, self.also_from);
            self.also_from = (*self.also_ptr).len;
        }
    }

    fn test_words(&mut self, call: CallId, regs: &[u64]) -> Result<bool, EvalError> {
        let args: Vec<u64> = self.plan.calls[call.0 as usize]
            .args
            .iter()
            .map(|t| self.word(t, regs))
            .collect();
        self.test(call, &args)
    }

    fn probe(&mut self, index: IndexId, key: &[u64]) -> u32 {
        if self.lazy[index.0 as usize].is_some() {
            return match self.load_key(index.0 as usize, key) {
                Ok(h) => h,
                Err(e) => {
                    self.error = Some(e);
                    NONE
                }
            };
        }
        let ix = &self.indexes[index.0 as usize];
        ix.probe(
            &self.tables[self.plan.indexes[index.0 as usize].slot.0 as usize],
            key,
        )
    }

    fn exists(&mut self, index: IndexId, key: &[u64]) -> bool {
        let i = index.0 as usize;
        if self.lazy[i].is_some() {
            return self.probe(index, key) != NONE;
        }
        let t = &self.tables[self.plan.indexes[i].slot.0 as usize];
        if self.plan.indexes[i].key.is_empty() {
            t.len > 0
        } else if self.chained[i] {
            self.indexes[i].probe(t, key) != NONE
        } else {
            t.contains(key)
        }
    }

    fn decode(&self, words: &[u64]) -> Vec<Value> {
        words.iter().map(|w| self.jit.interner.decode(*w)).collect()
    }

    fn test(&mut self, call: CallId, args: &[u64]) -> Result<bool, EvalError> {
        let c = &self.plan.calls[call.0 as usize];
        let tuple = self.decode(args);
        let f = self.tests[call.0 as usize]
            .as_ref()
            .ok_or_else(|| err("a map call used as a test"))?;
        self.context.formula(f, &c.schema, &tuple)
    }

    fn map(&mut self, call: CallId, args: &[u64]) -> Result<Vec<Vec<u64>>, EvalError> {
        let c = &self.plan.calls[call.0 as usize];
        let CallKind::Map { bind, rhs } = &c.kind else {
            return Err(err("a test call used as a map"));
        };
        let tuple = self.decode(args);
        let rows = self.context.map_tuple(bind, rhs, &c.schema, &tuple)?;
        Ok(rows
            .iter()
            .map(|r| r.iter().map(|v| self.jit.interner.encode(v)).collect())
            .collect())
    }
}

/// The table a slot starts with (and the view key it is cached under).
fn load_slot(
    jit: &mut Jit,
    context: &Context<'_>,
    env: &Env,
    plan: &KernelPlan,
    s: &Slot,
) -> Result<(Arc<Table>, Option<ViewKey>), EvalError> {
    let encode = |jit: &mut Jit, r: &Relation| {
        let mut t = Table::new(s.arity());
        let mut row = Vec::with_capacity(s.arity());
        for tuple in &r.tuples {
            row.clear();
            row.extend(tuple.iter().map(|v| jit.interner.encode(v)));
            t.insert(&row);
        }
        t
    };
    match &s.kind {
        SlotKind::Temp => Ok((Arc::new(Table::new(s.arity())), None)),
        SlotKind::Values(rows) => {
            let r = Relation {
                attrs: s.attrs.clone(),
                tuples: rows.iter().cloned().collect(),
            };
            Ok((Arc::new(encode(jit, &r)), None))
        }
        SlotKind::Rel { name, version } => {
            let decl = plan.relations.iter().find(|d| &d.name == name);
            match decl {
                Some(d) if d.kind.is_loaded() => {
                    if *version != Version::Total {
                        return Ok((Arc::new(Table::new(s.arity())), None));
                    }
                    // Whole store views are cached per database value.
                    let db = d
                        .kind
                        .view_source()
                        .and_then(|src| match env.sources.get(src) {
                            Some(Source::Db(db)) => Some(db.clone()),
                            _ => None,
                        });
                    if let Some(db) = db {
                        // No constants: the whole view (distinct from any `View` slot's key).
                        let key: ViewKey = (db.cache_key(), name.clone(), Vec::new());
                        if let Some(t) = jit.view_get(&key) {
                            return Ok((t, Some(key)));
                        }
                        let r = context.load_base(d)?;
                        let t = Arc::new(encode(jit, &r));
                        jit.view_put(key.clone(), db, t.clone());
                        return Ok((t, cached(jit, key)));
                    }
                    let r = context.load_base(d)?;
                    Ok((Arc::new(encode(jit, &r)), None))
                }
                _ => Ok((Arc::new(Table::new(s.arity())), None)),
            }
        }
        SlotKind::View { rel, consts } => {
            let decl = plan
                .relations
                .iter()
                .find(|d| &d.name == rel)
                .ok_or_else(|| err(format!("unknown relation {rel}")))?;
            let formula = Formula::conj(
                consts
                    .iter()
                    .map(|(a, v)| FLit {
                        negated: false,
                        test: pomo_types::ra::Test::Cmp {
                            op: pomo_types::ra::CmpOp::Eq,
                            lhs: pomo_types::ra::Operand::Attr(a.clone()),
                            rhs: pomo_types::ra::Operand::Const(v.clone()),
                        },
                    })
                    .collect(),
            );
            let db = decl
                .kind
                .view_source()
                .and_then(|src| match env.sources.get(src) {
                    Some(Source::Db(db)) => Some(db.clone()),
                    _ => None,
                });
            // Views of a database value are cached: a view by attribute is the columnar copy
            // of the store's attribute index; one with more constants holds the datoms of an
            // index lookup.
            if let Some(db) = &db {
                let key: ViewKey = (db.cache_key(), rel.clone(), consts.clone());
                if let Some(t) = jit.view_get(&key) {
                    return Ok((t, Some(key)));
                }
                let by_attr = match consts.as_slice() {
                    [(a, v)] if a == "a" => attr_view(jit, db, &decl.attrs, v)?,
                    _ => None,
                };
                let t = match by_attr {
                    Some(t) => t,
                    None => {
                        let r = context
                            .view_scan(decl, &formula)?
                            .ok_or_else(|| err("a view without constants"))?;
                        encode(jit, &r)
                    }
                };
                let t = Arc::new(t);
                jit.view_put(key.clone(), db.clone(), t.clone());
                return Ok((t, cached(jit, key)));
            }
            let r = match context.view_scan(decl, &formula)? {
                Some(r) => r,
                None => {
                    // A collection bound as a database: the reference selects on the rows.
                    let all = context.load_base(decl)?;
                    let mut r = Relation::new(all.attrs.clone());
                    for t in &all.tuples {
                        if context.formula(&formula, &all.attrs, t)? {
                            r.tuples.insert(t.clone());
                        }
                    }
                    r
                }
            };
            Ok((Arc::new(encode(jit, &r)), None))
        }
    }
}

/// The key of a view if the cache kept it (indexes on it are cached with it).
fn cached(jit: &Jit, key: ViewKey) -> Option<ViewKey> {
    jit.views.contains_key(&key).then_some(key)
}

/// The columnar view of one attribute read straight from the store's AEVT range (no datoms or
/// relations in between), for views whose columns are datom positions. None: another shape,
/// which the reference's view scan builds.
fn attr_view(
    jit: &mut Jit,
    db: &Db,
    cols: &[pomo_types::ra::Attr],
    a: &Value,
) -> Result<Option<Table>, EvalError> {
    let Value::Keyword(name) = a else {
        return Ok(None);
    };
    #[derive(Clone, Copy)]
    enum Col {
        E,
        A,
        V,
        T,
        M,
        Added,
    }
    let mut layout = Vec::with_capacity(cols.len());
    for c in cols {
        layout.push(match c.as_str() {
            "e" => Col::E,
            "a" => Col::A,
            "v" => Col::V,
            "t" => Col::T,
            "m" => Col::M,
            "added" => Col::Added,
            _ => return Ok(None),
        });
    }
    let a_word = jit.interner.encode(a);
    let mut t = Table::new(cols.len());
    let mut row = vec![0u64; cols.len()];
    let interner = &mut jit.interner;
    db.for_each_of_attr(name, |e, v, tx, added| {
        for (w, c) in row.iter_mut().zip(&layout) {
            *w = match c {
                Col::E => interner.encode(&Value::Int(e)),
                Col::A => a_word,
                Col::V => interner.encode(&v),
                Col::T => interner.encode(&Value::Int(tx - crate::store::TX0)),
                Col::M => interner.encode(&Value::Int(tx)),
                Col::Added => interner.encode(&Value::Bool(added)),
            };
        }
        t.insert(&row);
    })
    .map_err(err)?;
    Ok(Some(t))
}

/// Recovers the run from a helper's context pointer.
///
/// # Safety
/// `ctx` is the `Run` that called the kernel, which is alive and not otherwise borrowed for
/// the duration of the call.
unsafe fn run_of<'a>(ctx: *mut std::ffi::c_void) -> &'a mut Run<'a> {
    unsafe { &mut *(ctx as *mut Run<'a>) }
}

/// The `n` words a kernel passed at `p` (a key, a row or call arguments).
fn words<'a>(p: *const u64, n: usize) -> &'a [u64] {
    if n == 0 {
        return &[];
    }
    // SAFETY: compiled kernels pass as many words as the index has key columns, the target
    // has columns, or the call has arguments (abi.rs), in their scratch slot.
    unsafe { std::slice::from_raw_parts(p, n) }
}

fn key_words<'a>(plan: &KernelPlan, index: u32, key: *const u64) -> &'a [u64] {
    words(key, plan.indexes[index as usize].key.len())
}

extern "C" fn pomo_probe(ctx: *mut std::ffi::c_void, index: u32, key: *const u64) -> u32 {
    let run = unsafe { run_of(ctx) };
    let key = key_words(run.plan, index, key);
    run.probe(IndexId(index), key)
}

extern "C" fn pomo_exists(ctx: *mut std::ffi::c_void, index: u32, key: *const u64) -> u32 {
    let run = unsafe { run_of(ctx) };
    let key = key_words(run.plan, index, key);
    run.exists(IndexId(index), key) as u32
}

extern "C" fn pomo_insert(ctx: *mut std::ffi::c_void, slot: u32, row: *const u64) -> u32 {
    let run = unsafe { run_of(ctx) };
    // The slot is the kernel's target, which the run already holds.
    let row = words(row, run.plan.slots[slot as usize].arity());
    run.queue(row);
    1
}

fn call_args<'a>(plan: &KernelPlan, call: u32, args: *const u64) -> &'a [u64] {
    words(args, plan.calls[call as usize].args.len())
}

extern "C" fn pomo_test(ctx: *mut std::ffi::c_void, call: u32, args: *const u64) -> i32 {
    let run = unsafe { run_of(ctx) };
    let args = call_args(run.plan, call, args);
    match run.test(CallId(call), args) {
        Ok(b) => b as i32,
        Err(e) => {
            run.error = Some(e);
            -1
        }
    }
}

extern "C" fn pomo_map(
    ctx: *mut std::ffi::c_void,
    call: u32,
    buf: u32,
    args: *const u64,
) -> *const u64 {
    let run = unsafe { run_of(ctx) };
    let args = call_args(run.plan, call, args);
    match run.map(CallId(call), args) {
        Ok(rows) => {
            let b = &mut run.map_bufs[buf as usize];
            b.clear();
            b.push(rows.len() as u64);
            for r in rows {
                b.extend(r);
            }
            b.as_ptr()
        }
        Err(e) => {
            run.error = Some(e);
            std::ptr::null()
        }
    }
}
