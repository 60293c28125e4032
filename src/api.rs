//! The embedding API: one value, [`Pomo`], that holds a store and runs queries on it.
//!
//! ```
//! use pomo::api::Pomo;
//! use pomo::types::Value;
//!
//! let mut db = Pomo::in_memory(); // or Pomo::open("data/")? for a store on disk
//! db.transact_edn(r#"[{:person/name "Ada" :person/age 36}
//!                     {:person/name "Bob" :person/age 17}]"#)?;
//! // The same as Rust values: tx-data is `TxOp`s.
//! use pomo::runtime::store::{EntityRef, TxOp, TxValue};
//! let ada = db.query("[:find ?e . :where [?e :person/name \"Ada\"]]", &[])?;
//! let Value::Int(ada) = ada else { panic!("an entity id") };
//! db.transact(vec![TxOp::Add {
//!     e: EntityRef::Id(ada),
//!     a: "person/city".into(),
//!     v: TxValue::Value(Value::Str("Oslo".into())),
//! }])?;
//!
//! // An EDN query with an input after the database; results are Rust values.
//! let adults = db.query(
//!     "[:find [?n ...] :in $ ?min :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a ?min)]]",
//!     &[Value::Int(18)],
//! )?;
//! assert_eq!(adults, Value::Tuple(vec![Value::Str("Ada".into())]));
//!
//! // SQL over the same store: a table is an attribute namespace.
//! db.sql("CREATE TABLE city(name TEXT, pop INTEGER); INSERT INTO city VALUES ('Oslo', 700000)")?;
//! let rows = db.sql_rows("SELECT name FROM city WHERE pop > 1000")?;
//! assert_eq!(rows.text(), vec![vec!["Oslo"]]);
//!
//! // A query compiled ahead of time (`pomo compile`) runs without being parsed again.
//! let compiled = pomo::query::prepare(
//!     &pomo::Input::Edn { query: "[:find (count ?e) . :where [?e :person/name]]", rules: None },
//!     &pomo::Options::default(),
//! ).map_err(pomo::api::Error::Compile)?;
//! let (_cid, bytes) = compiled.artifact().to_file_bytes()?;
//! let artifact = pomo::runtime::artifact::Artifact::from_file_bytes(&bytes)?.0;
//! assert_eq!(db.run_artifact(artifact, &[])?, Value::Int(2));
//!
//! // Subscribe to a query's changes: every later transaction delivers its diffs.
//! let adults_now = db.subscribe("[:find ?n :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a 18)]]", &[])?;
//! db.transact_edn(r#"[{:person/name "Cy" :person/age 40}]"#)?;
//! assert_eq!(adults_now.changes(), vec![(vec![Value::Str("Cy".into())], 1)]);
//!
//! // Any stage of the compilation, as text.
//! let plan = pomo::api::explain_edn("[:find ?n :where [_ :person/name ?n]]", pomo::Stage::Ra)?;
//! assert!(plan.contains("select[a = :person/name](datom)"));
//! # Ok::<(), pomo::api::Error>(())
//! ```

use crate::query::{Arg, Backend, Query, QueryError, prepare};
use crate::sql::{Outcome, Rows, Session, SqlError};
use crate::{Input, Options, Stage};
use pomo_grammar::Diagnostic;
use pomo_runtime::artifact::{Artifact, ArtifactError};
use pomo_runtime::dataflow::{Config, Engine, EpochDiffs};
use pomo_runtime::store::{Store, StoreError, TxOp, TxReport};
use pomo_stdlib::Registry;
use pomo_types::Value;
use std::path::Path;
use std::sync::mpsc::Receiver;

/// What can go wrong, by stage.
#[derive(Debug)]
pub enum Error {
    /// The text did not compile: diagnostics with codes and spans (render them with
    /// [`crate::render`]).
    Compile(Vec<Diagnostic>),
    /// Tx-data that is not valid EDN tx-data.
    Data(String),
    /// The store refused a transaction or could not be opened.
    Store(String),
    /// A query failed while running.
    Query(QueryError),
    /// A SQL statement failed (compile or run).
    Sql(SqlError),
    /// An artifact could not be read.
    Artifact(ArtifactError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Compile(ds) => {
                for (i, d) in ds.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "error[{}]: {}", d.code, d.message)?;
                }
                Ok(())
            }
            Error::Data(m) | Error::Store(m) => f.write_str(m),
            Error::Query(e) => write!(f, "{e}"),
            Error::Sql(e) => write!(f, "{e}"),
            Error::Artifact(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<QueryError> for Error {
    fn from(e: QueryError) -> Error {
        Error::Query(e)
    }
}
impl From<SqlError> for Error {
    fn from(e: SqlError) -> Error {
        Error::Sql(e)
    }
}
impl From<ArtifactError> for Error {
    fn from(e: ArtifactError) -> Error {
        Error::Artifact(e)
    }
}
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e.to_string())
    }
}

/// A live query: receives the output relation's changes of every transaction after it
/// started, as `(row, +1 | -1)`.
pub struct Subscription {
    relation: String,
    rx: Receiver<EpochDiffs>,
}

impl Subscription {
    /// The changes delivered since the last call, in epoch order.
    pub fn changes(&self) -> Vec<(Vec<Value>, isize)> {
        let mut out = Vec::new();
        while let Ok(d) = self.rx.try_recv() {
            let mut v = d.values(&self.relation);
            v.sort();
            out.extend(v);
        }
        out
    }
}

/// A store with the query engines around it.
pub struct Pomo {
    session: Session,
    registry: Registry,
    jit: pomo_runtime::jit::Jit,
    engines: Vec<Engine>,
}

impl Pomo {
    /// A store in memory.
    pub fn in_memory() -> Pomo {
        Pomo::with_store(Store::in_memory())
    }

    /// A store in a directory (created if missing; an old `facts.car` store is converted).
    pub fn open(dir: impl AsRef<Path>) -> Result<Pomo, Error> {
        let (store, _warnings) = Store::open(dir.as_ref())?;
        Ok(Pomo::with_store(store))
    }

    fn with_store(store: Store) -> Pomo {
        Pomo {
            session: Session::new(store),
            registry: Registry::new(),
            jit: pomo_runtime::jit::Jit::new(pomo_runtime::jit::Mode::Native),
            engines: Vec::new(),
        }
    }

    /// The host functions and aggregates queries may call (`Value::Fn(name)` inputs).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    pub fn store(&self) -> &Store {
        self.session.store()
    }

    /// The JIT's cache of store views (columnar copies of attributes and index lookups), for
    /// bounding it ([`pomo_runtime::jit::Jit::set_view_budget`]) and reading its size.
    pub fn jit_mut(&mut self) -> &mut pomo_runtime::jit::Jit {
        &mut self.jit
    }

    /// Applies tx-data written in EDN (one transaction).
    pub fn transact_edn(&mut self, tx: &str) -> Result<TxReport, Error> {
        let node = pomo_grammar::edn::parse_one(tx).map_err(Error::Compile)?;
        let ops = crate::edn_data::tx_data(self.store().db().schema(), &node)
            .map_err(|e| Error::Data(e.message))?;
        self.transact(ops)
    }

    /// Applies tx-data given as Rust values (one transaction); live subscriptions receive the
    /// changes.
    pub fn transact(&mut self, ops: Vec<TxOp>) -> Result<TxReport, Error> {
        let report = self
            .session
            .store_mut()
            .transact(ops)
            .map_err(|e| Error::Store(e.message))?;
        let db = self.store().db();
        for e in &mut self.engines {
            e.transact(db.clone(), &report)
                .map_err(|e| QueryError { message: e.message })?;
        }
        Ok(report)
    }

    /// This replica's state: its number of facts, the CID that names the set of them (equal
    /// on two replicas exactly when they hold the same facts) and its heads.
    pub fn state(&self) -> Result<pomo_runtime::store::State, Error> {
        self.store().state().map_err(|e| Error::Store(e.message))
    }

    /// Writes the store's commits and facts as a CARv1 file (root: the state CID).
    pub fn export_car(&self, w: impl std::io::Write) -> Result<u64, Error> {
        crate::replica::export_car(self.store(), w).map_err(Error::Store)
    }

    /// Merges a CAR file of another replica's commits and facts (verified, all or nothing);
    /// live subscriptions receive what it changed as one epoch.
    pub fn import_car(
        &mut self,
        r: impl std::io::Read,
    ) -> Result<crate::replica::ImportReport, Error> {
        let live = !self.engines.is_empty();
        let (report, datoms) = crate::replica::import_car_with(self.session.store_mut(), r, live)
            .map_err(Error::Store)?;
        self.merged(datoms)?;
        Ok(report)
    }

    /// Syncs with the replica served at `addr` (`pomo serve`), both ways; live subscriptions
    /// receive what the merge changed as one epoch.
    pub fn sync(
        &mut self,
        addr: &str,
        opts: &crate::replica::Options,
    ) -> Result<crate::replica::Report, Error> {
        let live = !self.engines.is_empty();
        let (report, datoms) =
            crate::replica::sync_with(self.session.store_mut(), addr, opts, live)
                .map_err(|e| Error::Store(e.to_string()))?;
        self.merged(datoms)?;
        Ok(report)
    }

    /// Tells the live queries about a merge's new facts (one epoch).
    fn merged(&mut self, datoms: Vec<pomo_runtime::store::Datom>) -> Result<(), Error> {
        self.session.refresh();
        if datoms.is_empty() || self.engines.is_empty() {
            return Ok(());
        }
        let db = self.store().db();
        let t = self.store().last_t().unwrap_or(0);
        let report = TxReport {
            t,
            tx: pomo_runtime::store::TX0 + t as i64,
            tempids: Default::default(),
            datoms,
        };
        for e in &mut self.engines {
            e.transact(db.clone(), &report)
                .map_err(|e| QueryError { message: e.message })?;
        }
        Ok(())
    }

    fn args(&self, inputs: &[Value]) -> Vec<Arg> {
        std::iter::once(Arg::Db(self.store().db()))
            .chain(inputs.iter().cloned().map(Arg::Value))
            .collect()
    }

    /// Runs an EDN query (or a PomoLogic program) on the current database, with the inputs
    /// after the database in `:in` order; the result is shaped by its find spec.
    pub fn query(&mut self, text: &str, inputs: &[Value]) -> Result<Value, Error> {
        let input = edn_or_logic(text);
        let q = prepare(&input, &Options::default()).map_err(Error::Compile)?;
        let args = self.args(inputs);
        Ok(q.run_jit(&mut self.jit, args, &self.registry)?)
    }

    /// Runs a compiled artifact (see [`Artifact::from_file_bytes`]).
    pub fn run_artifact(&mut self, artifact: Artifact, inputs: &[Value]) -> Result<Value, Error> {
        let q = Query::from_artifact(artifact);
        let args = self.args(inputs);
        Ok(q.run_jit(&mut self.jit, args, &self.registry)?)
    }

    /// Runs a SQL script (statements separated by `;`).
    pub fn sql(&mut self, text: &str) -> Result<Vec<Outcome>, Error> {
        Ok(self.session.execute(text)?)
    }

    /// The rows of a SQL script's last query.
    pub fn sql_rows(&mut self, text: &str) -> Result<Rows, Error> {
        match self.sql(text)?.pop() {
            Some(Outcome::Rows(r)) => Ok(r),
            _ => Ok(Rows {
                names: Vec::new(),
                types: Vec::new(),
                rows: Vec::new(),
            }),
        }
    }

    /// Starts a query on the incremental dataflow engine: the subscription receives the
    /// changes of its output relation at every later transaction.
    pub fn subscribe(&mut self, text: &str, inputs: &[Value]) -> Result<Subscription, Error> {
        let q = prepare(&edn_or_logic(text), &Options::default()).map_err(Error::Compile)?;
        let relation = q
            .plan
            .output()
            .map(|o| o.name.clone())
            .ok_or_else(|| Error::Data("the query has no output relation".into()))?;
        let env = q.env(self.args(inputs), &self.registry)?;
        let mut engine = Engine::start(q.flow.clone(), env, &Config::default())
            .map_err(|e| QueryError { message: e.message })?;
        let rx = engine.subscribe();
        self.engines.push(engine);
        Ok(Subscription { relation, rx })
    }

    /// Runs a query on a backend other than the JIT (for checking, or the dataflow engine once).
    pub fn query_on(
        &mut self,
        text: &str,
        inputs: &[Value],
        backend: &Backend,
    ) -> Result<Value, Error> {
        let q = prepare(&edn_or_logic(text), &Options::default()).map_err(Error::Compile)?;
        Ok(q.run_on(self.args(inputs), &self.registry, backend)?)
    }
}

fn edn_or_logic(text: &str) -> Input<'_> {
    match crate::guess_kind(text) {
        crate::InputKind::Edn => Input::Edn {
            query: text,
            rules: None,
        },
        _ => Input::Logic(text),
    }
}

/// The text of one stage of an EDN query's compilation (`pomo explain`).
pub fn explain_edn(query: &str, stage: Stage) -> Result<String, Error> {
    crate::explain(
        &Input::Edn { query, rules: None },
        stage,
        &Options::default(),
    )
    .map_err(Error::Compile)
}
