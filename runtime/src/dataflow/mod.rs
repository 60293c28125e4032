//! The incremental backend (ARCHITECTURE §7, "dataflow"): flow plans rendered as timely/differential
//! dataflows at run time, on one or many workers and processes.
//!
//! An [`Engine`] owns the dataflow: its workers run on their own threads (timely's), build the
//! dataflow from the flow plan, then wait for epochs. Each epoch carries the changes of the fed
//! relations (base relations, inputs, the carried `R@prev` of inductive rules), one transaction's
//! datoms as `+1` assertions and `−1` retractions; every stratum reaches its fixpoint, and the
//! engine collects the changes of every defined relation (routed to worker 0 of process 0),
//! keeps the current contents, and hands the epoch's diffs to subscribers.
//!
//! A plan whose functions read a database directly (`get-else`, `missing?`, `get-some`) or whose
//! patterns resolve lookup refs cannot be kept up to date by its collections alone; the engine
//! runs such plans from scratch at each epoch and reports the difference, which gives the same
//! answers.
//!
//! ```
//! use pomo_runtime::dataflow::{Config, Engine};
//! use pomo_runtime::engine::Env;
//! use pomo_types::flow::*;
//! use pomo_types::ra::{RelDecl, RelKind};
//! use pomo_types::Value;
//! // edge(from, to) is fed; `copy` is the set of its rows.
//! let flow = FlowPlan {
//!     relations: vec![
//!         RelDecl { name: "edge".into(), attrs: vec!["from".into(), "to".into()], kind: RelKind::Base },
//!         RelDecl { name: "copy".into(), attrs: vec!["from".into(), "to".into()], kind: RelKind::Derived },
//!     ],
//!     nodes: vec![Node::Source("edge".into()), Node::Distinct(NodeId(0))],
//!     arrangements: vec![],
//!     strata: vec![FlowStratum { recursive: false, defs: vec![Def { relation: "copy".into(), next: false, node: NodeId(1) }] }],
//! };
//! let mut engine = Engine::start(flow, Env::default(), &Config::default()).unwrap();
//! let d = engine.update(vec![("edge".into(), vec![Value::Int(1), Value::Int(2)], 1)]).unwrap();
//! assert_eq!(d.values("copy"), vec![(vec![Value::Int(1), Value::Int(2)], 1)]);
//! assert_eq!(engine.relation("copy").unwrap().tuples.len(), 1);
//! ```

mod render;
mod row;

pub use row::Row;

use crate::engine::{self, Context, Env, Relation, Source};
use crate::store::{Db, TxReport};
use pomo_stdlib::EvalError;
use pomo_types::Value;
use pomo_types::flow::{FlowPlan, Node};
use pomo_types::ra::{CmpOp, FLit, Operand, RelKind, Test};
use std::collections::{BTreeMap, BTreeSet, HashMap, hash_map};
use std::hash::{Hash, Hasher};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

pub use render::MAX_ROUNDS;

/// Where the workers leave the updates of the defined relations, one list per relation.
type Sink = Arc<Mutex<Vec<Vec<(Row, isize)>>>>;

/// Hash maps of rows in the driver (results are not adversarial input; a fast hash pays).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// The fed relation that holds one empty row in the first epoch only (see `Node::Initial`).
pub(crate) const EPOCH0: &str = "@epoch0";

/// Workers and processes, as timely configures them.
#[derive(Clone, Debug)]
pub struct Config {
    /// Worker threads per process.
    pub workers: usize,
    /// Processes in the cluster (1: no networking).
    pub processes: usize,
    /// This process's index.
    pub process: usize,
    /// `host:port` of every process, in process order (empty: `127.0.0.1:2101+i`).
    pub hosts: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: 1,
            processes: 1,
            process: 0,
            hosts: Vec::new(),
        }
    }
}

impl Config {
    fn timely(&self) -> Result<timely::Config, EvalError> {
        let workers = self.workers.max(1);
        if self.processes <= 1 {
            return Ok(if workers == 1 {
                timely::Config::thread()
            } else {
                timely::Config::process(workers)
            });
        }
        if self.process >= self.processes {
            return Err(err(format!(
                "process index {} is outside 0..{}",
                self.process, self.processes
            )));
        }
        let addresses: Vec<String> = if self.hosts.is_empty() {
            (0..self.processes)
                .map(|i| format!("127.0.0.1:{}", 2101 + i))
                .collect()
        } else {
            self.hosts.clone()
        };
        if addresses.len() < self.processes {
            return Err(err(format!(
                "the host file names {} processes, {} are configured",
                addresses.len(),
                self.processes
            )));
        }
        Ok(timely::Config {
            communication: timely::CommunicationConfig::Cluster {
                threads: workers,
                process: self.process,
                addresses: addresses[..self.processes].to_vec(),
                report: false,
                zerocopy: false,
            },
            worker: timely::WorkerConfig::default(),
        })
    }
}

/// The changes of one epoch, by relation (`R`, `R@next`), each row with `+1` or `−1`, in no
/// particular order. Rows are compact; [`EpochDiffs::values`] gives them as values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochDiffs {
    pub epoch: u64,
    pub diffs: BTreeMap<String, Vec<(Row, isize)>>,
    /// The number of columns of each relation's rows.
    pub arity: BTreeMap<String, usize>,
}

impl EpochDiffs {
    /// One relation's changes as values.
    pub fn values(&self, relation: &str) -> Vec<(Vec<Value>, isize)> {
        let arity = self.arity.get(relation).copied().unwrap_or(0);
        self.diffs
            .get(relation)
            .map(|d| d.iter().map(|(r, n)| (r.to_vec(arity), *n)).collect())
            .unwrap_or_default()
    }
}

enum Cmd {
    Epoch(Arc<Vec<(usize, Row, isize)>>),
    Stop,
}

fn err(message: impl Into<String>) -> EvalError {
    EvalError {
        message: message.into(),
    }
}

/// A running dataflow of one flow plan.
pub struct Engine {
    shared: Arc<render::Shared>,
    config: Config,
    /// The bindings base relations are read from (the driver's copy; `$` moves with
    /// transactions).
    env: Env,
    fed: Vec<String>,
    /// Current contents of fed relations that are recomputed and diffed at each epoch.
    fed_state: Vec<Option<BTreeSet<Vec<Value>>>>,
    outs: Vec<String>,
    /// Current contents of every defined relation, with multiplicities (1 once settled).
    /// (One map per defined relation, in the order of `outs`.)
    state: Vec<FastMap<Row, isize>>,
    epoch: u64,
    recompute: bool,
    cmds: Vec<Sender<Cmd>>,
    done: Receiver<()>,
    sink: Sink,
    guards: Option<timely::communication::initialize::WorkerGuards<()>>,
    subscribers: Vec<Sender<EpochDiffs>>,
}

impl Engine {
    /// Builds the dataflow, feeds it the bindings of `env` and runs the first epoch.
    pub fn start(flow: FlowPlan, env: Env, config: &Config) -> Result<Engine, EvalError> {
        let mut flow = flow;
        let resolved = resolve_lookup_refs(&mut flow, &env)?;
        let recompute = resolved || flow.calls_database();
        if recompute && !flow.carried_relations().is_empty() {
            return Err(err(
                "the dataflow backend does not run inductive rules together with functions that read the database",
            ));
        }
        let read: BTreeSet<String> = flow
            .nodes
            .iter()
            .filter_map(|n| match n {
                Node::Source(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let mut fed: Vec<String> = flow
            .fed_relations()
            .into_iter()
            .filter(|r| read.contains(r))
            .collect();
        fed.push(EPOCH0.to_string());
        let outs: Vec<String> = flow
            .strata
            .iter()
            .flat_map(|s| &s.defs)
            .map(|d| {
                if d.next {
                    format!("{}@next", d.relation)
                } else {
                    d.relation.clone()
                }
            })
            .collect();
        // The first epoch's rows, computed before any worker starts so that a bad binding is an
        // error, not a stuck dataflow.
        let mut fed_state = Vec::new();
        let mut first: Vec<(usize, Row, isize)> = Vec::new();
        for (i, name) in fed.iter().enumerate() {
            if name == EPOCH0 {
                first.push((i, Row::new(), 1));
                fed_state.push(None);
                continue;
            }
            let rows = load(&flow, &env, name)?;
            for r in &rows {
                first.push((i, r.iter().cloned().collect(), 1));
            }
            fed_state.push(Some(rows));
        }
        let shared = Arc::new(render::Shared {
            flow,
            env: env.clone(),
            error: Mutex::new(None),
        });
        let timely_config = config.timely()?;
        let threads = config.workers.max(1);
        let (done_tx, done) = channel();
        let mut cmds = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..threads {
            let (tx, rx) = channel();
            cmds.push(tx);
            receivers.push(Some(rx));
        }
        let receivers = Arc::new(Mutex::new(receivers));
        let n_outs = outs.len();
        let sink: Sink = Arc::new(Mutex::new(vec![Vec::new(); n_outs]));
        let worker_shared = shared.clone();
        let worker_sink = sink.clone();
        let fed_names = fed.clone();
        let done_tx = Mutex::new(done_tx);
        // timely prints its connection progress ("awaiting connections", "error connecting …;
        // retrying") on stdout while a cluster connects; send it to stderr so that it never
        // mixes with results.
        let quiet = (config.processes > 1).then(StdoutToStderr::start);
        let guards = timely::execute(timely_config, move |worker| {
            worker_main(
                worker,
                &worker_shared,
                &fed_names,
                &receivers,
                &worker_sink,
                &done_tx,
                threads,
            )
        })
        .map_err(|e| err(format!("could not start the dataflow: {e}")));
        drop(quiet);
        let guards = guards?;
        let mut engine = Engine {
            shared,
            config: config.clone(),
            env,
            fed,
            fed_state,
            outs,
            state: vec![FastMap::default(); n_outs],
            epoch: 0,
            recompute,
            cmds,
            done,
            sink,
            guards: Some(guards),
            subscribers: Vec::new(),
        };
        engine.run_epoch(first)?;
        Ok(engine)
    }

    /// The current contents of every relation the plan defines (`R@next` for inductive
    /// rules), as the reference evaluator returns them.
    pub fn relations(&self) -> BTreeMap<String, Relation> {
        self.outs
            .iter()
            .filter_map(|n| self.relation(n).map(|r| (n.clone(), r)))
            .collect()
    }

    /// The current contents of one defined relation.
    pub fn relation(&self, name: &str) -> Option<Relation> {
        if !self.outs.iter().any(|n| n == name) {
            return None;
        }
        let base = name.strip_suffix("@next").unwrap_or(name);
        let attrs = self
            .shared
            .flow
            .relation(base)
            .map(|d| d.attrs.clone())
            .unwrap_or_default();
        let mut r = Relation::new(attrs);
        let i = self.outs.iter().position(|n| n == name)?;
        if let Some(s) = self.state.get(i) {
            let arity = r.attrs.len();
            r.tuples = s
                .iter()
                .filter(|(_, c)| **c > 0)
                .map(|(t, _)| t.to_vec(arity))
                .collect();
        }
        Some(r)
    }

    /// The epochs run so far (the first epoch is 1).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Receives every later epoch's diffs.
    pub fn subscribe(&mut self) -> Receiver<EpochDiffs> {
        let (tx, rx) = channel();
        self.subscribers.push(tx);
        rx
    }

    /// Applies a transaction: `db` is the database after it (bound to `$` from now on), and
    /// the report's datoms become the epoch's changes of the `$` views.
    pub fn transact(&mut self, db: Db, report: &TxReport) -> Result<EpochDiffs, EvalError> {
        let prev = match self.env.sources.get("$") {
            Some(Source::Db(d)) => Some(d.clone()),
            _ => None,
        };
        self.env.sources.insert("$".into(), Source::Db(db.clone()));
        if self.recompute {
            return self.recompute_epoch();
        }
        let touched: BTreeSet<(i64, String)> = report
            .datoms
            .iter()
            .map(|d| (d.e, d.a.to_string()))
            .collect();
        let mut changes: Vec<(usize, Row, isize)> = Vec::new();
        for i in 0..self.fed.len() {
            let name = self.fed[i].clone();
            let decl = self.shared.flow.relation(&name);
            if decl.and_then(|d| d.kind.view_source()) == Some("$") {
                let attrs = decl.map(|d| d.attrs.clone()).unwrap_or_default();
                for (e, a) in &touched {
                    if crate::store::is_system_attr(a) {
                        continue;
                    }
                    let old = match &prev {
                        Some(p) => {
                            engine::datom_relation(
                                p,
                                &attrs,
                                p.datoms_eavt(Some(*e), Some(a), None),
                            )
                            .tuples
                        }
                        None => BTreeSet::new(),
                    };
                    let new = engine::datom_relation(
                        &db,
                        &attrs,
                        db.datoms_eavt(Some(*e), Some(a), None),
                    )
                    .tuples;
                    queue_changes(i, &old, &new, &mut changes);
                }
                // The view's contents are not kept (the store has them).
                self.fed_state[i] = None;
                continue;
            }
            // Relations built from the whole store (entities with attributes, the causal
            // graph) are read again and diffed.
            let is_entity_view = matches!(
                decl.map(|d| &d.kind),
                Some(RelKind::Base | RelKind::Causes { .. })
            );
            if is_entity_view {
                self.refeed(i, &mut changes)?;
            }
        }
        self.carry(&mut changes);
        self.run_epoch(changes)
    }

    /// Changes fed relations directly (rows in the relation's attribute order), for relations
    /// an application feeds itself rather than through a store.
    pub fn update(
        &mut self,
        changes: Vec<(String, Vec<Value>, isize)>,
    ) -> Result<EpochDiffs, EvalError> {
        if self.recompute {
            return Err(err(
                "this plan reads the database in its functions; apply transactions instead",
            ));
        }
        let mut batch = Vec::new();
        for (rel, row, diff) in changes {
            let Some(i) = self.fed.iter().position(|f| *f == rel) else {
                if self.shared.flow.relation(&rel).is_some() {
                    // A declared relation the plan never reads.
                    continue;
                }
                return Err(err(format!("the plan has no fed relation {rel}")));
            };
            if let Some(s) = &mut self.fed_state[i] {
                if diff > 0 {
                    s.insert(row.clone());
                } else {
                    s.remove(&row);
                }
            }
            batch.push((i, row.into_iter().collect(), diff));
        }
        self.carry(&mut batch);
        self.run_epoch(batch)
    }

    /// Runs an epoch without new data: inductive rules deliver their tuples.
    pub fn step(&mut self) -> Result<EpochDiffs, EvalError> {
        if self.recompute {
            return self.recompute_epoch();
        }
        let mut batch = Vec::new();
        self.carry(&mut batch);
        self.run_epoch(batch)
    }

    /// Re-reads a recomputed fed relation and queues its changes.
    fn refeed(
        &mut self,
        i: usize,
        changes: &mut Vec<(usize, Row, isize)>,
    ) -> Result<(), EvalError> {
        let new = load(&self.shared.flow, &self.env, &self.fed[i])?;
        let old = self.fed_state[i].take().unwrap_or_default();
        queue_changes(i, &old, &new, changes);
        self.fed_state[i] = Some(new);
        Ok(())
    }

    /// Queues the carried relations' changes (the last epoch's `R@next` becomes `R@prev`) and
    /// the end of the first epoch.
    fn carry(&mut self, changes: &mut Vec<(usize, Row, isize)>) {
        for i in 0..self.fed.len() {
            let name = self.fed[i].clone();
            if name == EPOCH0 {
                if self.epoch == 1 {
                    changes.push((i, Row::new(), -1));
                }
                continue;
            }
            let Some(rel) = name.strip_suffix("@prev") else {
                continue;
            };
            let next: BTreeSet<Vec<Value>> = self
                .relation(&format!("{rel}@next"))
                .map(|r| r.tuples)
                .unwrap_or_default();
            let old = self.fed_state[i].take().unwrap_or_default();
            queue_changes(i, &old, &next, changes);
            self.fed_state[i] = Some(next);
        }
    }

    /// Runs the plan from scratch on the current bindings and reports the difference.
    fn recompute_epoch(&mut self) -> Result<EpochDiffs, EvalError> {
        if self.config.processes > 1 {
            return Err(err(
                "plans whose functions read the database run on one process only",
            ));
        }
        let fresh = Engine::start(self.shared.flow.clone(), self.env.clone(), &self.config)?;
        let mut diffs: BTreeMap<String, Vec<(Row, isize)>> = BTreeMap::new();
        for name in &self.outs {
            let old = self.relation(name).map(|r| r.tuples).unwrap_or_default();
            let new = fresh.relation(name).map(|r| r.tuples).unwrap_or_default();
            let mut d = Vec::new();
            for r in old.difference(&new) {
                d.push((r.iter().cloned().collect(), -1));
            }
            for r in new.difference(&old) {
                d.push((r.iter().cloned().collect(), 1));
            }
            if !d.is_empty() {
                d.sort();
                diffs.insert(name.clone(), d);
            }
            if let Some(i) = self.outs.iter().position(|n| n == name) {
                self.state[i] = new.into_iter().map(|t| (Row::from(t), 1)).collect();
            }
        }
        self.epoch += 1;
        let out = EpochDiffs {
            epoch: self.epoch,
            arity: self.arities(&diffs),
            diffs,
        };
        self.publish(&out);
        Ok(out)
    }

    /// The arity of each relation that has changes.
    fn arities(&self, diffs: &BTreeMap<String, Vec<(Row, isize)>>) -> BTreeMap<String, usize> {
        diffs
            .keys()
            .map(|n| {
                let base = n.strip_suffix("@next").unwrap_or(n);
                let arity = self.shared.flow.relation(base).map_or(0, |d| d.attrs.len());
                (n.clone(), arity)
            })
            .collect()
    }

    fn publish(&mut self, d: &EpochDiffs) {
        self.subscribers.retain(|s| s.send(d.clone()).is_ok());
    }

    fn run_epoch(&mut self, batch: Vec<(usize, Row, isize)>) -> Result<EpochDiffs, EvalError> {
        let batch = Arc::new(batch);
        for c in &self.cmds {
            c.send(Cmd::Epoch(batch.clone()))
                .map_err(|_| err("the dataflow workers stopped"))?;
        }
        for _ in 0..self.cmds.len() {
            self.done
                .recv()
                .map_err(|_| err("a dataflow worker stopped"))?;
        }
        self.epoch += 1;
        if let Some(e) = self.shared.error.lock().expect("error slot").take() {
            return Err(err(e));
        }
        let by_rel = std::mem::replace(
            &mut *self.sink.lock().expect("sink poisoned"),
            vec![Vec::new(); self.outs.len()],
        );
        // Fold each relation's updates into its current contents. A relation that was empty
        // takes the updates directly (its net change is its new contents); otherwise the
        // updates are consolidated first, since one row may change several times in an epoch
        // (from several workers and rounds).
        let mut diffs = BTreeMap::new();
        for (i, rows) in by_rel.into_iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let name = &self.outs[i];
            let state = &mut self.state[i];
            let d: Vec<(Row, isize)> = if state.is_empty() {
                state.reserve(rows.len());
                for (row, n) in rows {
                    *state.entry(row).or_default() += n;
                }
                state.retain(|_, n| *n != 0);
                state.iter().map(|(r, n)| (*r, *n)).collect()
            } else {
                let mut acc: FastMap<Row, isize> =
                    FastMap::with_capacity_and_hasher(rows.len(), Default::default());
                for (row, n) in rows {
                    *acc.entry(row).or_default() += n;
                }
                let mut d = Vec::with_capacity(acc.len());
                for (row, n) in acc {
                    if n == 0 {
                        continue;
                    }
                    match state.entry(row) {
                        hash_map::Entry::Occupied(mut o) => {
                            *o.get_mut() += n;
                            if *o.get() == 0 {
                                o.remove();
                            }
                        }
                        hash_map::Entry::Vacant(e) => {
                            e.insert(n);
                        }
                    }
                    d.push((row, n));
                }
                d
            };
            if !d.is_empty() {
                diffs.insert(name.clone(), d);
            }
        }
        let out = EpochDiffs {
            epoch: self.epoch,
            arity: self.arities(&diffs),
            diffs,
        };
        self.publish(&out);
        Ok(out)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for c in &self.cmds {
            let _ = c.send(Cmd::Stop);
        }
        if let Some(g) = self.guards.take() {
            let _ = g.join();
        }
    }
}

/// Points fd 1 at fd 2 until dropped.
struct StdoutToStderr(Option<std::os::fd::OwnedFd>);

impl StdoutToStderr {
    fn start() -> StdoutToStderr {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let saved = rustix::io::dup(std::io::stdout()).ok();
        if saved.is_some() {
            let _ = rustix::stdio::dup2_stdout(std::io::stderr());
        }
        StdoutToStderr(saved)
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        if let Some(fd) = self.0.take() {
            let _ = std::io::stdout().flush();
            let _ = rustix::stdio::dup2_stdout(&fd);
        }
    }
}

/// Evaluates a flow plan once: every relation it defines, by name.
pub fn evaluate(
    flow: &FlowPlan,
    env: &Env,
    config: &Config,
) -> Result<BTreeMap<String, Relation>, EvalError> {
    Ok(Engine::start(flow.clone(), env.clone(), config)?.relations())
}

/// Queues the changes that turn fed relation `i` from `old` into `new`.
fn queue_changes(
    i: usize,
    old: &BTreeSet<Vec<Value>>,
    new: &BTreeSet<Vec<Value>>,
    changes: &mut Vec<(usize, Row, isize)>,
) {
    changes.extend(old.difference(new).map(|r| (i, Row::from_values(r), -1)));
    changes.extend(new.difference(old).map(|r| (i, Row::from_values(r), 1)));
}

/// The rows of a fed relation from the bindings.
fn load(flow: &FlowPlan, env: &Env, name: &str) -> Result<BTreeSet<Vec<Value>>, EvalError> {
    if name.ends_with("@prev") {
        return Ok(BTreeSet::new());
    }
    let decl = flow
        .relation(name)
        .ok_or_else(|| err(format!("unknown relation {name}")))?;
    // Without a store, a base relation is the application's to feed (`Engine::update`).
    if decl.kind == RelKind::Base && !env.sources.contains_key("$") {
        return Ok(BTreeSet::new());
    }
    Ok(Context::new(env).load_base(decl)?.tuples)
}

/// Which worker feeds a row: every row goes to one worker, by hash.
fn shard(row: &Row) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    row.hash(&mut h);
    h.finish()
}

fn worker_main(
    worker: &mut timely::worker::Worker,
    shared: &Arc<render::Shared>,
    fed: &[String],
    receivers: &Mutex<Vec<Option<Receiver<Cmd>>>>,
    sink: &Sink,
    done: &Mutex<Sender<()>>,
    threads: usize,
) {
    use differential_dataflow::AsCollection;
    use differential_dataflow::input::Input;
    use timely::dataflow::operators::Exchange;

    let index = worker.index();
    let peers = worker.peers() as u64;
    let Some(rx) = receivers
        .lock()
        .expect("receivers poisoned")
        .get_mut(index % threads)
        .and_then(|r| r.take())
    else {
        return;
    };
    let done = done.lock().expect("done poisoned").clone();
    let probe = timely::dataflow::operators::probe::Handle::new();
    let (mut inputs, mut constants) = worker.dataflow::<u64, _, _>(|scope| {
        let mut inputs = Vec::new();
        let mut collections = HashMap::new();
        for name in fed {
            let (input, coll) = scope.new_collection::<Row, isize>();
            inputs.push(input);
            collections.insert(name.clone(), coll);
        }
        let (cinput, constants) = scope.new_collection::<Row, isize>();
        let mut outer = render::Outer {
            fed: collections,
            constants,
            defined: HashMap::new(),
        };
        let outs = render::strata(shared, scope, &mut outer);
        for (i, (_, c)) in outs.into_iter().enumerate() {
            let sink = sink.clone();
            c.inner
                .exchange(|_| 0)
                .as_collection()
                .inspect_batch(move |_t, batch: &[(Row, u64, isize)]| {
                    sink.lock().expect("sink poisoned")[i]
                        .extend(batch.iter().map(|(row, _, diff)| (*row, *diff)));
                })
                .probe_with(&probe);
        }
        (inputs, cinput)
    });
    if index == 0 {
        for (i, n) in shared.flow.nodes.iter().enumerate() {
            if let Node::Values { rows, .. } = n {
                for r in rows {
                    let row: Row = std::iter::once(Value::Int(i as i64))
                        .chain(r.iter().cloned())
                        .collect();
                    constants.insert(row);
                }
            }
        }
    }
    let mut epoch = 0u64;
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Cmd::Epoch(batch) => {
                for (rel, row, diff) in batch.iter() {
                    let owner = if fed[*rel] == EPOCH0 {
                        0
                    } else {
                        shard(row) % peers
                    };
                    if owner == index as u64 {
                        inputs[*rel].update(*row, *diff);
                    }
                }
                epoch += 1;
                for i in inputs.iter_mut() {
                    i.advance_to(epoch);
                    i.flush();
                }
                constants.advance_to(epoch);
                constants.flush();
                worker.step_while(|| probe.less_than(&epoch));
                if done.send(()).is_err() {
                    return;
                }
            }
            Cmd::Stop => return,
        }
    }
}

/// Resolves lookup refs that filters on a store view compare entity (and ref value) positions
/// with, as the reference evaluator's index lookups do; says whether there were any.
fn resolve_lookup_refs(flow: &mut FlowPlan, env: &Env) -> Result<bool, EvalError> {
    let mut any = false;
    for i in 0..flow.nodes.len() {
        let Node::Filter { formula, input, .. } = &flow.nodes[i] else {
            continue;
        };
        let Node::Source(rel) = &flow.nodes[input.0 as usize] else {
            continue;
        };
        let Some(src) = flow.relation(rel).and_then(|d| d.kind.view_source()) else {
            continue;
        };
        let Some(Source::Db(db)) = env.sources.get(src) else {
            continue;
        };
        let Some(conj) = formula.as_conjunction() else {
            continue;
        };
        let attr = conj.iter().find_map(|l| match &l.test {
            Test::Cmp {
                op: CmpOp::Eq,
                lhs: Operand::Attr(x),
                rhs: Operand::Const(Value::Keyword(k)),
            } if x == "a" && !l.negated => Some(k.clone()),
            _ => None,
        });
        let is_ref = attr
            .as_deref()
            .and_then(|a| db.schema().attrs.get(a))
            .is_some_and(|s| s.is_ref);
        let mut conj: Vec<FLit> = conj.to_vec();
        let mut changed = false;
        for l in &mut conj {
            if let Test::Cmp {
                op: CmpOp::Eq,
                lhs: Operand::Attr(x),
                rhs: Operand::Const(c @ Value::Tuple(_)),
            } = &mut l.test
                && !l.negated
                && (x == "e" || (x == "v" && is_ref))
            {
                *c = Value::Int(engine::resolve_lookup_ref(db, c)?);
                changed = true;
            }
        }
        if changed {
            any = true;
            if let Node::Filter { formula, .. } = &mut flow.nodes[i] {
                *formula = pomo_types::ra::Formula::conj(conj);
            }
        }
    }
    Ok(any)
}
