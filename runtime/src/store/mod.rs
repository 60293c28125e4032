//! The content-addressed fact store (ARCHITECTURE §3).
//!
//! Facts are `[e a v added causes]` with a CID (CIDv1, dag-cbor, sha2-256) of their canonical
//! DAG-CBOR encoding; transactions append facts and get a local `t` and a transaction entity
//! `tx0 + t` (`tx0 = 2^29`, DataScript's convention). History is never overwritten: a retraction
//! is a new fact. A [`Db`] is an immutable database value (a snapshot) with time views
//! (`as_of`, `since`, `history`). A store lives in memory or in a directory as an append-only
//! log of CAR-layout blocks, whose CIDs are their checksums.
//!
//! Entity ids and ref values are `Value::Int`, as in DataScript, so joins between an entity
//! position and a ref value need no conversion.

// ---------------------------------------------------------------------------------------------
// CONTRACT (written before the implementation; the implementation fills the modules below and
// keeps these names and signatures):
//
// pub const TX0: i64 = 1 << 29;
//
// /// A datom as queries see it.
// #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
// pub struct Datom { pub e: i64, pub a: String /* keyword without ':' */, pub v: Value, pub tx: i64, pub added: bool }
//
// /// How an entity is named in tx-data.
// pub enum EntityRef { Id(i64), TempId(String) /* strings and negative ints */, LookupRef(String, Value) }
//
// /// A value position in tx-data.
// pub enum TxValue { Value(Value), Entity(EntityRef) /* tempid or lookup ref in a ref attribute */,
//                    Map(EntityMap) /* nested entity map under a ref attribute */, Many(Vec<TxValue>) /* card-many vector or set */ }
//
// /// `{:db/id e, :attr v, :_rev e2, …}`; `id` None means a new entity.
// pub struct EntityMap { pub id: Option<EntityRef>, pub attrs: Vec<(String /* attr, `ns/_name` for reverse */, TxValue)> }
//
// pub enum TxOp {
//     Add { e: EntityRef, a: String, v: TxValue },
//     Retract { e: EntityRef, a: String, v: Option<TxValue> },   // None: all values
//     RetractEntity(EntityRef),
//     RetractAttribute { e: EntityRef, a: String },
//     Cas { e: EntityRef, a: String, old: Option<Value>, new: TxValue },
//     Map(EntityMap),
// }
//
// /// Schema of one attribute (Datomic/DataScript keys).
// pub struct AttrSchema { pub many: bool, pub unique: Option<Unique /* Identity | Value */>, pub is_ref: bool,
//                         pub component: bool, pub tuple_attrs: Option<Vec<String>> }
// pub struct Schema { pub attrs: BTreeMap<String, AttrSchema> }
//
// pub struct TxReport { pub t: u64, pub tx: i64, pub tempids: BTreeMap<String, i64>, pub datoms: Vec<Datom> }
//
// #[derive(Debug)] pub struct TxError { pub message: String, pub kind: &'static str /* e.g. "transact/unique", "transact/cas", "transact/syntax", "schema" */ }
// #[derive(Debug)] pub enum StoreError { Io(std::io::Error), Corrupt { offset: u64, message: String } }
//
// pub struct Store;  // in memory or on disk
// impl Store {
//     pub fn in_memory() -> Store;
//     pub fn open(dir: &Path) -> Result<(Store, Vec<String> /* warnings, e.g. a truncated torn tail */), StoreError>;
//     pub fn with_schema(self, schema: Schema) -> Result<Store, TxError>; // schema transacted as data
//     pub fn transact(&mut self, ops: Vec<TxOp>) -> Result<TxReport, TxError>; // durable (fsync) before Ok on disk
//     pub fn db(&self) -> Db;
//     pub fn facts(&self) -> impl Iterator<Item = &Fact>;   // every fact with its CID, in log order
// }
//
// /// An immutable database value with a view.
// #[derive(Clone)] pub struct Db;
// impl Db {
//     pub fn as_of(&self, tx_or_t: i64) -> Db;  pub fn since(&self, tx_or_t: i64) -> Db;  pub fn history(&self) -> Db;
//     pub fn is_history(&self) -> bool;
//     pub fn schema(&self) -> &Schema;
//     pub fn datoms(&self) -> Vec<Datom>;                                    // every visible datom (history: both kinds)
//     pub fn datoms_eavt(&self, e: Option<i64>, a: Option<&str>, v: Option<&Value>) -> Vec<Datom>; // index lookups
//     pub fn entity_attrs(&self, e: i64) -> Vec<(String, Value)>;            // current values of an entity (pull)
//     pub fn reverse_refs(&self, a: &str, target: i64) -> Vec<i64>;          // VAET (pull reverse)
//     pub fn resolve_lookup_ref(&self, a: &str, v: &Value) -> Option<i64>;
//     pub fn fact_cid(&self, d: &Datom) -> Option<String>;                   // the CID of the fact behind a datom
// }
// ---------------------------------------------------------------------------------------------
//
// Additions beyond the contract (nothing in it changed): `Fact::tx` (the transaction that
// appended the fact; not part of its CID), `Fact::{new, encode, decode, datom}`, `IDENT0`,
// `is_system_attr`, `encode_value`/`decode_value`, `Schema::{attr, from_props}`,
// `Store::{last_t, schema, set_clock}`, `Db::{as_of_t, since_t, unique}`, and the TxError kinds
// `"transact/lookup"` (a lookup ref that names nothing) and `"io"` (the log write failed).

mod disk;
mod encode;
mod gid;
mod index;
mod keys;
mod log;
mod replica;
mod resolve;
mod runs;
mod tx;
mod writer;

pub use disk::Stats;
pub(crate) use encode::cid_of;
pub use encode::{FactContent, decode_value, encode_value, fact_from_bytes};
pub use gid::Gid;
pub use index::Db;
pub use log::{CommitContent, commit_from_bytes};
pub(crate) use log::{read_single_block_car, single_block_car};
pub use replica::{Blocks, CommitBlock, MergeReport, State};

use cid::Cid;
use pomo_types::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The transaction id base: transaction `t` has the entity id `TX0 + t` (DataScript's `tx0`).
pub const TX0: i64 = 1 << 29;

/// Where entities that carry `:db/ident` (attribute definitions) are numbered from. They live
/// far above user and transaction ids so that defining a schema never moves the ids that
/// DataScript-style tx-data allocates (`max-eid + 1`, counted over ids below [`TX0`]).
pub const IDENT0: i64 = 1 << 40;

/// The CID of a DAG-CBOR list of CIDs (given as text): what names a row of a store-backed
/// relation, built of several facts.
pub fn list_cid(cids: &[String]) -> Result<String, String> {
    let links = cids
        .iter()
        .map(|c| {
            Cid::try_from(c.as_str())
                .map(ipld_core::ipld::Ipld::Link)
                .map_err(|e| format!("{c:?} is not a CID: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = encode::to_bytes(&ipld_core::ipld::Ipld::List(links))?;
    Ok(encode::cid_of(&bytes).to_string())
}

/// Whether `a` is a system attribute (the `db` namespace: `:db/ident` and the other schema
/// attributes, `:db/txInstant`). DataScript has no such datoms, so a query whose attribute
/// position is unbound should skip them to give DataScript's answers.
pub fn is_system_attr(a: &str) -> bool {
    a.starts_with("db/")
}

/// A datom as queries see it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Datom {
    pub e: i64,
    /// The attribute keyword without its leading colon.
    pub a: String,
    pub v: Value,
    /// The transaction id (`TX0 + t`) of the assertion that made the datom current, or, in a
    /// history view, of the fact itself.
    pub tx: i64,
    pub added: bool,
}

/// A stored fact: the content its CID covers (`e a v added causes`, with `e` and a reference
/// value named by their global ids) plus the transaction it was appended in. `tx` is not part
/// of the content: the same fact written by two replicas, at different local times, has one
/// CID.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    /// The entity's local number in this store.
    pub e: i64,
    pub a: String,
    /// The value; a reference is the target's local number (`Value::Int`).
    pub v: Value,
    pub added: bool,
    /// The CIDs of the facts this one directly follows, deduplicated and sorted.
    pub causes: Vec<Cid>,
    pub cid: Cid,
    /// The transaction id (`TX0 + t`) of the transaction that appended this fact.
    pub tx: i64,
    /// The global ids the fact's content names: its entity's and, for a reference value, the
    /// target's.
    pub ids: Ids,
}

/// The global ids of a fact's entity and (for a reference) its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ids {
    pub e: Gid,
    pub v: Option<Gid>,
}

impl Fact {
    /// Builds a fact and computes its CID over its global ids; the causes are deduplicated and
    /// sorted first. Fails on a value that has no encoding (NaN, an invalid CID string).
    pub fn new(
        e: i64,
        a: impl Into<String>,
        v: Value,
        added: bool,
        mut causes: Vec<Cid>,
        tx: i64,
        ids: Ids,
    ) -> Result<Fact, String> {
        causes.sort();
        causes.dedup();
        let a = a.into();
        let bytes = encode::to_bytes(&encode::fact_ipld(
            &ids.e,
            &a,
            &v,
            ids.v.as_ref(),
            added,
            &causes,
        )?)?;
        let cid = encode::cid_of(&bytes);
        Ok(Fact {
            e,
            a,
            v,
            added,
            causes,
            cid,
            tx,
            ids,
        })
    }

    /// The canonical DAG-CBOR bytes of the fact's content (the block its CID names).
    pub fn encode(&self) -> Vec<u8> {
        // The fact was encoded once already when its CID was computed, so this cannot fail.
        encode::to_bytes(
            &encode::fact_ipld(
                &self.ids.e,
                &self.a,
                &self.v,
                self.ids.v.as_ref(),
                self.added,
                &self.causes,
            )
            .expect("a constructed fact is encodable"),
        )
        .expect("a constructed fact is encodable")
    }

    /// The fact as a datom.
    pub fn datom(&self) -> Datom {
        Datom {
            e: self.e,
            a: self.a.clone(),
            v: self.v.clone(),
            tx: self.tx,
            added: self.added,
        }
    }
}

/// How an entity is named in tx-data.
#[derive(Clone, Debug, PartialEq)]
pub enum EntityRef {
    /// An entity id. A negative id is a tempid, as in DataScript.
    Id(i64),
    /// A tempid: a string (or the text of a negative integer). `"datomic.tx"` and
    /// `"db/current-tx"` name the transaction entity.
    TempId(String),
    /// `[:unique-attr value]`, resolved against the database before the transaction.
    LookupRef(String, Value),
}

/// A value position in tx-data.
#[derive(Clone, Debug, PartialEq)]
pub enum TxValue {
    /// A plain value. Under a ref attribute an integer is an entity id, a negative integer or a
    /// string is a tempid, and a tuple `[keyword value]` is a lookup ref (DataScript's reading).
    Value(Value),
    /// A tempid or a lookup ref in a ref attribute.
    Entity(EntityRef),
    /// A nested entity map under a ref attribute.
    Map(EntityMap),
    /// The values of a cardinality-many attribute (a vector or a set in EDN).
    Many(Vec<TxValue>),
}

/// `{:db/id e, :attr v, :ns/_rev e2, …}`; `id` None means a new entity.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct EntityMap {
    pub id: Option<EntityRef>,
    /// Attribute (`ns/_name` for a reverse reference) and value, in map order.
    pub attrs: Vec<(String, TxValue)>,
}

/// One statement of tx-data.
#[derive(Clone, Debug, PartialEq)]
pub enum TxOp {
    Add {
        e: EntityRef,
        a: String,
        v: TxValue,
    },
    /// `v` None retracts every value of the attribute.
    Retract {
        e: EntityRef,
        a: String,
        v: Option<TxValue>,
    },
    RetractEntity(EntityRef),
    RetractAttribute {
        e: EntityRef,
        a: String,
    },
    /// `old` None: the attribute must have no value.
    Cas {
        e: EntityRef,
        a: String,
        old: Option<Value>,
        new: TxValue,
    },
    Map(EntityMap),
}

/// The two kinds of uniqueness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unique {
    /// `:db.unique/identity`: a value names its entity (upsert, lookup refs).
    Identity,
    /// `:db.unique/value`: a value may belong to one entity only.
    Value,
}

/// The schema of one attribute (Datomic/DataScript keys).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrSchema {
    /// `:db.cardinality/many`.
    pub many: bool,
    pub unique: Option<Unique>,
    /// `:db.type/ref`.
    pub is_ref: bool,
    /// `:db/isComponent` (implies `is_ref`).
    pub component: bool,
    /// `:db/tupleAttrs`: a composite tuple maintained from these attributes.
    pub tuple_attrs: Option<Vec<String>>,
}

/// The schema: attribute name (no colon) to its definition. Attributes not listed are
/// cardinality one, not unique, not refs (schema-on-read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub attrs: BTreeMap<String, AttrSchema>,
}

impl Schema {
    /// The definition of `a`, or the default (card-one, plain values) for an unknown attribute.
    pub fn attr(&self, a: &str) -> AttrSchema {
        self.attrs
            .get(a)
            .cloned()
            .unwrap_or_else(|| builtin_attr(a))
    }

    /// Builds a schema from EDN-style properties: `attr → [(":db/…" key without colon, value)]`,
    /// e.g. `("person/friend", [("db/valueType", Keyword("db.type/ref"))])`, validating them as
    /// DataScript does (only `:db.type/ref` and `:db.type/tuple` are accepted value types).
    pub fn from_props(attrs: Vec<(String, Vec<(String, Value)>)>) -> Result<Schema, TxError> {
        let mut schema = Schema::default();
        for (attr, props) in attrs {
            let mut ident_props: BTreeMap<String, Value> = props.into_iter().collect();
            ident_props.insert("db/ident".into(), Value::Keyword(attr.clone()));
            let def = tx::attr_schema_from_props(&attr, &ident_props)?;
            schema.attrs.insert(attr, def);
        }
        Ok(schema)
    }
}

/// The built-in attributes: `:db/ident` identifies attribute entities; the others are
/// card-one plain attributes.
fn builtin_attr(a: &str) -> AttrSchema {
    AttrSchema {
        unique: (a == "db/ident").then_some(Unique::Identity),
        ..AttrSchema::default()
    }
}

/// What [`Store::import_bulk`] imported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The facts of the batches (without the transactions' instants), and the commits.
    pub facts: u64,
    pub commits: u64,
    /// Whether the indexes were written out of key order (rows not in entity order, or a
    /// store that had entities), so that [`Store::compact`] would make them smaller and
    /// faster to scan.
    pub scattered: bool,
}

/// A batch of `[e a v]` assertions as transaction operations.
fn import_ops(facts: Vec<(i64, String, Value)>) -> Vec<TxOp> {
    facts
        .into_iter()
        .map(|(e, a, v)| TxOp::Add {
            e: EntityRef::Id(e),
            a,
            v: TxValue::Value(v),
        })
        .collect()
}

/// What a transaction did.
#[derive(Clone, Debug, PartialEq)]
pub struct TxReport {
    pub t: u64,
    /// `TX0 + t`, the transaction entity.
    pub tx: i64,
    /// User tempids (strings; negative integers as their decimal text) and their entity ids.
    pub tempids: BTreeMap<String, i64>,
    /// The facts the transaction appended, as datoms (assertions and retractions), in log order.
    pub datoms: Vec<Datom>,
}

/// A rejected transaction; nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxError {
    pub message: String,
    /// `"transact/syntax"`, `"transact/unique"`, `"transact/cas"`, `"transact/lookup"`
    /// (a lookup ref that names no entity), `"transact/causes"` (a `:db/causes` entry that
    /// names no fact of the database), `"schema"`, `"merge"` (blocks from another replica
    /// that do not verify or are incomplete) or `"io"`.
    pub kind: &'static str,
}

impl TxError {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> TxError {
        TxError {
            message: message.into(),
            kind,
        }
    }
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind)
    }
}

impl std::error::Error for TxError {}

/// A store that cannot be opened.
#[derive(Debug)]
pub enum StoreError {
    Io(std::io::Error),
    /// Damage followed by valid data: the log is not read past `offset` and nothing is repaired.
    Corrupt {
        offset: u64,
        message: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(e) => write!(f, "store i/o error: {e}"),
            StoreError::Corrupt { offset, message } => {
                write!(f, "store log corrupt at byte {offset}: {message}")
            }
        }
    }
}

impl std::error::Error for StoreError {}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e)
    }
}

/// Writes a store in the format of pomo before the persistent indexes: a `facts.car` log of
/// CAR blocks, one commit per `(t, facts)`. For tests of the conversion only.
#[doc(hidden)]
pub fn write_legacy_log(dir: &Path, commits: &[(u64, Vec<Fact>)]) -> Result<(), StoreError> {
    let (mut file, _, _) = log::LogFile::open(dir)?;
    let mut prev = None;
    let mut renamed = std::collections::HashMap::new();
    for (t, facts) in commits {
        prev = Some(file.append(*t, facts, prev, &mut renamed)?);
    }
    Ok(())
}

/// The commit of a locally planned transaction: its parents are the store's heads.
fn local_commit<'p>(plan: &'p tx::Plan, meta: &disk::Meta) -> disk::NewCommit<'p> {
    let parents = meta.heads.clone();
    disk::NewCommit {
        t: plan.t,
        author_t: plan.t,
        cid: log::commit_block(plan.t, &plan.facts, &parents).0,
        parents,
        facts: &plan.facts,
        present: Vec::new(),
        new_ids: &plan.new_ids,
        new_entities: Default::default(),
    }
}

/// Reports the progress of a long store operation (converting an old log, a bulk import):
/// `(done, total)` in the operation's own units.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// A fact store, in memory or in a directory (persistent indexes in LMDB, see [`disk`]).
pub struct Store {
    inner: Arc<disk::Inner>,
    /// The writer's view of the store's state (for a read-only store: as of opening).
    meta: disk::Meta,
    schema: Arc<Schema>,
    /// A fixed transaction instant for reproducible tests (None: the wall clock).
    clock: Option<i64>,
    /// Opened with [`Store::open_read_only`]: transactions are refused.
    read_only: bool,
    /// The writer's lock, held while the store is open for writing.
    _lock: Option<File>,
    /// The current database value, shared until the next commit (one read transaction).
    current: Mutex<Option<Db>>,
}

/// The file whose lock makes a process the store's one writer.
const WRITER_LOCK: &str = "writer.lock";
/// The LMDB data file of a store directory.
pub const DATA_FILE: &str = "data.mdb";

fn io_err(e: impl fmt::Display) -> TxError {
    TxError::new("io", format!("writing the transaction failed: {e}"))
}

/// Takes the writer's lock of `dir`.
fn writer_lock(dir: &Path) -> Result<File, StoreError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(WRITER_LOCK))?;
    lock_exclusively(&file, dir)?;
    Ok(file)
}

/// Takes an exclusive lock of `file` (naming `what` in the error). A lock just released can
/// linger for a moment when another thread of this process forks a child (the child shares
/// the open file description until it execs), so a refusal is retried for up to 200 ms.
pub(crate) fn lock_exclusively(file: &File, what: &Path) -> Result<(), StoreError> {
    let mut attempt = 0;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if attempt < 20 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => {
                return Err(StoreError::Io(std::io::Error::other(format!(
                    "{} is in use by another store: {e}",
                    what.display()
                ))));
            }
        }
    }
}

impl Store {
    /// An empty store that lives in memory only (its indexes are in a temporary directory on
    /// shared memory, without fsync, removed when the store and its database values are gone).
    pub fn in_memory() -> Store {
        let inner = disk::Inner::temporary()
            .unwrap_or_else(|e| panic!("no temporary directory for an in-memory store: {e}"));
        Store::over(inner, None, false).unwrap_or_else(|e| panic!("a new in-memory store: {e}"))
    }

    fn over(
        inner: Arc<disk::Inner>,
        lock: Option<File>,
        read_only: bool,
    ) -> Result<Store, StoreError> {
        let txn = inner.env.read_txn().map_err(disk::mdb_err)?;
        let r = disk::Reader {
            inner: &inner,
            txn: &txn,
        };
        let corrupt = |message: String| StoreError::Corrupt { offset: 0, message };
        let meta = disk::Meta::read(&inner, &txn).map_err(corrupt)?;
        let schema = Arc::new(tx::schema_from(&r).map_err(corrupt)?);
        drop(txn);
        Ok(Store {
            inner,
            meta,
            schema,
            clock: None,
            read_only,
            _lock: lock,
            current: Mutex::new(None),
        })
    }

    /// Opens (or creates) the store in `dir`. Opening reads only the store's state record: the
    /// indexes are read as queries need them. A store written by an older pomo (a `facts.car`
    /// log) is converted first (see [`Store::open_with_progress`]); the warnings say so.
    pub fn open(dir: &Path) -> Result<(Store, Vec<String>), StoreError> {
        Store::open_with_progress(dir, &mut |_, _| {})
    }

    /// [`Store::open`], reporting the progress of a conversion of an old log in bytes.
    /// The conversion replays the log's commits into the indexes (checking every block's CID),
    /// is resumable if interrupted, and keeps the old log as `facts.car.converted`.
    pub fn open_with_progress(
        dir: &Path,
        progress: Progress,
    ) -> Result<(Store, Vec<String>), StoreError> {
        std::fs::create_dir_all(dir)?;
        let lock = writer_lock(dir)?;
        let mut warnings = Vec::new();
        let mut inner = disk::Inner::open(dir, false)?;
        if inner.old_format {
            inner = Store::upgrade_v1(inner, dir, progress, &mut warnings)?;
        }
        let mut store = Store::over(inner, Some(lock), false)?;
        if dir.join(log::LOG_FILE).exists() {
            store.convert_log(dir, progress, &mut warnings)?;
        }
        Ok((store, warnings))
    }

    /// Replays an old `facts.car` log into the indexes, from the first commit not yet
    /// converted, then renames the log.
    fn convert_log(
        &mut self,
        dir: &Path,
        progress: Progress,
        warnings: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        let (commits, mut w) = log::LogFile::read(dir)?;
        warnings.append(&mut w);
        let total: u64 = commits.iter().map(|c| c.facts.len() as u64).sum();
        // Commits already converted are those the indexes hold; facts get new CIDs (over
        // global ids), so the old ones are remembered to rename the causes that name them.
        let start = self.meta.commits as usize;
        if start > commits.len() {
            return Err(StoreError::Corrupt {
                offset: 0,
                message: format!(
                    "{} and the indexes disagree: the indexes hold {start} commits that are not the log's",
                    log::LOG_FILE
                ),
            });
        }
        let mut renamed: HashMap<Cid, Cid> = HashMap::new();
        if start > 0 {
            // Rebuild the renaming of the commits converted before an interruption: the same
            // facts in the same order, now in the indexes.
            let converted = self.try_facts()?;
            let old = commits[..start].iter().flat_map(|c| c.facts.iter());
            if old.clone().count() != converted.len() {
                return Err(StoreError::Corrupt {
                    offset: 0,
                    message: format!(
                        "{} and the indexes disagree on the facts of the first {start} commits",
                        log::LOG_FILE
                    ),
                });
            }
            for (o, n) in old.zip(&converted) {
                renamed.insert(o.cid, n.cid);
            }
        }
        let done: u64 = commits[..start].iter().map(|c| c.facts.len() as u64).sum();
        self.replay(
            commits.into_iter().skip(start),
            &mut renamed,
            done,
            total,
            progress,
        )?;
        let to = dir.join(format!("{}.converted", log::LOG_FILE));
        std::fs::rename(dir.join(log::LOG_FILE), &to)?;
        warnings.push(format!(
            "{}: converted {} facts of the old log into the indexes; the log is kept as {}",
            dir.display(),
            total,
            to.display()
        ));
        Ok(())
    }

    /// Rewrites a format-1 index (before global ids) in the current format: its commits are
    /// replayed into a new environment in `upgrade.tmp/`, whose data file then replaces the
    /// old one by a rename, so an interrupted upgrade leaves the old store as it was.
    fn upgrade_v1(
        inner: Arc<disk::Inner>,
        dir: &Path,
        progress: Progress,
        warnings: &mut Vec<String>,
    ) -> Result<Arc<disk::Inner>, StoreError> {
        let corrupt = |message: String| StoreError::Corrupt { offset: 0, message };
        let commits = {
            let txn = inner.env.read_txn().map_err(disk::mdb_err)?;
            let r = disk::Reader {
                inner: &inner,
                txn: &txn,
            };
            disk::read_v1_log(&r).map_err(corrupt)?
        };
        let busy = || {
            StoreError::Io(std::io::Error::other(
                "the store is open elsewhere in this process",
            ))
        };
        Arc::try_unwrap(inner).map_err(|_| busy())?.close();
        let tmp = dir.join("upgrade.tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        let total: u64 = commits.iter().map(|c| c.facts.len() as u64).sum();
        {
            let fresh = disk::Inner::open(&tmp, false)?;
            let mut store = Store::over(fresh, None, false)?;
            store.replay(commits.into_iter(), &mut HashMap::new(), 0, total, progress)?;
            let Store { inner, current, .. } = store;
            drop(current);
            Arc::try_unwrap(inner).map_err(|_| busy())?.close();
        }
        std::fs::rename(tmp.join(DATA_FILE), dir.join(DATA_FILE))?;
        File::open(dir)?.sync_all()?;
        let _ = std::fs::remove_dir_all(&tmp);
        warnings.push(format!(
            "upgraded the index to the current format ({total} facts, now addressed by global entity ids)"
        ));
        disk::Inner::open(dir, false)
    }

    /// Writes commits of facts without global ids (an old log's or an old index's) into the
    /// indexes, giving their entities global ids and renaming the causes through `renamed`
    /// (old CID → new), in durable batches of about 100,000 facts.
    fn replay(
        &mut self,
        commits: impl Iterator<Item = log::ReplayCommit>,
        renamed: &mut HashMap<Cid, Cid>,
        mut done: u64,
        total: u64,
        progress: Progress,
    ) -> Result<(), StoreError> {
        progress(done, total);
        let mut rest = commits.peekable();
        // Commits are written in batches of about 100,000 facts, each batch one durable write
        // transaction, so an interrupted conversion resumes where it stopped.
        while rest.peek().is_some() {
            let inner = self.inner.clone();
            let mut w = inner.env.write_txn().map_err(disk::mdb_err)?;
            let mut meta = self.meta.clone();
            let mut schema = self.schema.clone();
            let mut batch = 0;
            while batch < 100_000 {
                let Some(c) = rest.next() else { break };
                batch += c.facts.len();
                let corrupt = |message: String| StoreError::Corrupt {
                    offset: c.offset,
                    message,
                };
                let tx = TX0 + c.t as i64;
                let (facts, new_ids) = {
                    let r = disk::Reader {
                        inner: &inner,
                        txn: &w,
                    };
                    let raw: Vec<(i64, String, Value, bool, Vec<Cid>)> = c
                        .facts
                        .iter()
                        .map(|f| {
                            let causes = f.causes.iter().map(|x| *renamed.get(x).unwrap_or(x));
                            (f.e, f.a.clone(), f.v.clone(), f.added, causes.collect())
                        })
                        .collect();
                    let is_ref = |a: &str| schema.attr(a).is_ref;
                    tx::facts_with_ids(&r, raw, tx, &is_ref).map_err(corrupt)?
                };
                for (o, n) in c.facts.iter().zip(&facts) {
                    renamed.insert(o.cid, n.cid);
                }
                let mut wr = disk::Writer::new(&inner, &mut w, &mut meta);
                let parents = wr.meta.heads.clone();
                let cid = log::commit_block(c.t, &facts, &parents).0;
                let nc = disk::NewCommit {
                    t: c.t,
                    author_t: c.t,
                    cid,
                    parents,
                    facts: &facts,
                    present: Vec::new(),
                    new_ids: &new_ids,
                    new_entities: Default::default(),
                };
                if let Some(s) = wr
                    .commit(&nc, &schema)
                    .and_then(|s| wr.finish().map(|_| s))
                    .map_err(corrupt)?
                {
                    schema = Arc::new(s);
                }
                done += c.facts.len() as u64;
            }
            w.commit().map_err(disk::mdb_err)?;
            self.meta = meta;
            self.schema = schema;
            progress(done, total);
        }
        Ok(())
    }

    /// Opens the store in `dir` for reading only, without taking the writer's lock, so that
    /// queries run while another process (a `pomo watch`, a cluster peer) writes: every
    /// database value is a snapshot of the transactions committed when it was taken. A missing
    /// store is an empty database. A store in the old log format is converted first when no
    /// other process has it open for writing.
    pub fn open_read_only(dir: &Path) -> Result<(Store, Vec<String>), StoreError> {
        if dir.join(log::LOG_FILE).exists() && !dir.join(DATA_FILE).exists() {
            let (store, warnings) = Store::open(dir)?;
            drop(store);
            let (mut st, _) = Store::open_read_only(dir)?;
            st.read_only = true;
            return Ok((st, warnings));
        }
        if !dir.join(DATA_FILE).exists() {
            let mut st = Store::in_memory();
            st.read_only = true;
            return Ok((st, Vec::new()));
        }
        let inner = disk::Inner::open(dir, false)?;
        if inner.old_format {
            // An index in the format before global ids is upgraded first (when no other
            // process has the store open for writing).
            drop(inner);
            let (store, warnings) = Store::open(dir)?;
            drop(store);
            let (mut st, _) = Store::open_read_only(dir)?;
            st.read_only = true;
            return Ok((st, warnings));
        }
        Ok((Store::over(inner, None, true)?, Vec::new()))
    }

    /// Defines the schema by transacting it as data (`:db/ident` entities). On an empty store
    /// the schema transaction is the genesis transaction `t = 0` (tx id `TX0`), so the user's
    /// transactions keep DataScript's numbering (the first one is `TX0 + 1`). A schema that is
    /// already in place writes nothing.
    pub fn with_schema(mut self, schema: Schema) -> Result<Store, TxError> {
        let ops = tx::schema_ops(&schema);
        let genesis = self.meta.last_t.is_none_or(|t| t == 0);
        let t = if genesis {
            0
        } else {
            self.meta.last_t.unwrap_or(0) + 1
        };
        self.write(ops, t, true)?;
        Ok(self)
    }

    /// Fixes the `:db/txInstant` of later transactions (milliseconds since the epoch), for
    /// reproducible tests; by default the wall clock is used.
    pub fn set_clock(&mut self, ms: Option<i64>) {
        self.clock = ms;
    }

    /// Makes the global ids this store mints a function of their local numbers and `seed`
    /// (None: random, the default), so that two stores written alike hold facts with the same
    /// CIDs. For reproducible tests only: replicas that share a seed mint the same id for
    /// different entities.
    #[doc(hidden)]
    pub fn set_id_seed(&mut self, seed: Option<u64>) {
        *self
            .inner
            .id_seed
            .write()
            .unwrap_or_else(|e| e.into_inner()) = seed;
    }

    fn now(&self) -> i64 {
        self.clock.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        })
    }

    /// Applies a transaction. On disk the transaction is durable (fsynced) before this returns
    /// Ok; on any error nothing of it is kept.
    pub fn transact(&mut self, ops: Vec<TxOp>) -> Result<TxReport, TxError> {
        if self.read_only {
            return Err(TxError::new("io", "the store was opened read-only"));
        }
        let t = self.meta.last_t.map_or(1, |t| t + 1);
        Ok(self
            .write(ops, t, false)?
            .expect("a transaction always writes"))
    }

    /// Imports one batch of plain assertions `[e a v]` as one transaction, with exactly the
    /// effect (facts, CIDs, commit) of [`Store::transact`] on the same `add`s. When every
    /// attribute is a plain card-one attribute (not unique, not a reference, not a schema
    /// attribute), every `e` is a user entity, no `(e, a)` repeats and none has a value yet
    /// (checked on the index), the planner is skipped and the facts go straight into the
    /// indexes; otherwise the batch is an ordinary transaction.
    pub fn import_batch(&mut self, facts: Vec<(i64, String, Value)>) -> Result<TxReport, TxError> {
        if self.read_only {
            return Err(TxError::new("io", "the store was opened read-only"));
        }
        let t = self.meta.last_t.map_or(1, |t| t + 1);
        let plan = {
            let txn = self.inner.env.read_txn().map_err(io_err)?;
            let r = disk::Reader {
                inner: &self.inner,
                txn: &txn,
            };
            self.fresh_plan(&r, &facts, t, &self.schema, self.meta.max_eid)?
        };
        match plan {
            Some(plan) => self.commit_plan(plan, true),
            None => self.transact(import_ops(facts)),
        }
    }

    /// The plan of a batch of plain new assertions at `t`, made without the planner, or None
    /// when the batch needs it: every attribute is a plain card-one attribute of `schema`,
    /// every `e` a user entity, no `(e, a)` repeats, none has a span in EAVT (read through
    /// `r`; an entity above `max_eid`, the largest the indexes hold, has none), and every
    /// value can be held.
    fn fresh_plan(
        &self,
        r: &disk::Reader,
        facts: &[(i64, String, Value)],
        t: u64,
        schema: &Schema,
        max_eid: i64,
    ) -> Result<Option<tx::Plan>, TxError> {
        let tx = TX0 + t as i64;
        let tupled: std::collections::HashSet<&str> = schema
            .attrs
            .values()
            .filter_map(|d| d.tuple_attrs.as_ref())
            .flatten()
            .map(String::as_str)
            .collect();
        let plain = |a: &str| {
            let s = schema.attr(a);
            !a.starts_with("db/")
                && !a.is_empty()
                && !a.starts_with(':')
                && !s.many
                && s.unique.is_none()
                && !s.is_ref
                && s.tuple_attrs.is_none()
                && !tupled.contains(a)
        };
        let mut seen = std::collections::HashSet::with_capacity(facts.len());
        let simple = facts.iter().all(|(e, a, v)| {
            *e > 0 && *e < TX0 && !matches!(v, Value::Nil) && seen.insert((*e, a.as_str()))
        }) && {
            let mut attrs: Vec<&str> = facts.iter().map(|(_, a, _)| a.as_str()).collect();
            attrs.sort_unstable();
            attrs.dedup();
            attrs.iter().all(|a| plain(a))
        };
        drop(seen);
        if !simple {
            return Ok(None);
        }
        let mut prefix = Vec::with_capacity(12);
        for (e, a, _) in facts.iter().filter(|(e, _, _)| *e <= max_eid) {
            let Some(aid) = r.inner.aid(r.txn, a).map_err(|m| TxError::new("io", m))? else {
                continue;
            };
            prefix.clear();
            keys::put_e(&mut prefix, *e);
            keys::put_u32(&mut prefix, aid);
            let mut any = false;
            r.scan_raw(disk::Order::Eavt, &prefix, |_, _| {
                any = true;
                Ok(false)
            })
            .map_err(|m| TxError::new("io", m))?;
            if any {
                return Ok(None);
            }
        }
        let now = Value::Instant(self.now());
        let (ids, new_ids) = tx::mint_ids(
            r,
            std::iter::once((tx, "db/txInstant", &now, false))
                .chain(facts.iter().map(|(e, a, v)| (*e, a.as_str(), v, false))),
        )
        .map_err(|m| TxError::new("io", m))?;
        let mut planned = Vec::with_capacity(facts.len() + 1);
        planned.push(
            Fact::new(
                tx,
                "db/txInstant",
                now.clone(),
                true,
                Vec::new(),
                tx,
                tx::ids_in(&ids, tx, &now, false),
            )
            .map_err(|m| TxError::new("transact/syntax", m))?,
        );
        // The facts' blocks and CIDs (most of an import's work) on every core.
        let ids = &ids;
        let make = |chunk: &[(i64, String, Value)]| -> Option<Vec<Fact>> {
            chunk
                .iter()
                .map(|(e, a, v)| {
                    let i = tx::ids_in(ids, *e, v, false);
                    Fact::new(*e, a.as_str(), v.clone(), true, Vec::new(), tx, i).ok()
                })
                .collect()
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let made: Vec<Option<Vec<Fact>>> = if threads > 1 && facts.len() >= 4096 {
            let per = facts.len().div_ceil(threads);
            std::thread::scope(|sc| {
                let handles: Vec<_> = facts
                    .chunks(per)
                    .map(|c| sc.spawn(move || make(c)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or(None))
                    .collect()
            })
        } else {
            vec![make(facts)]
        };
        for part in made {
            // A value the store cannot hold: the ordinary path reports it.
            let Some(part) = part else { return Ok(None) };
            planned.extend(part);
        }
        Ok(Some(tx::Plan {
            t,
            facts: planned,
            tempids: BTreeMap::new(),
            new_ids,
        }))
    }

    /// Imports batches of plain assertions `[e a v]` (each batch one transaction, with the
    /// facts, CIDs and commits [`Store::import_batch`] gives) that `next` yields until it
    /// returns None, in **one** write transaction of the indexes: nothing is visible to
    /// readers, and nothing is kept after an error or a crash, until the last batch is
    /// committed, and then all of it is, durably.
    ///
    /// Into a store without user entities, the batches' AEVT and AVET keys are gathered in
    /// sorted runs (spilled to files in the store's directory beyond 64 MiB each) and appended
    /// to their indexes in key order at the end, so an import writes each index page once. A
    /// batch that needs the planner (a store with entities already, an `(e, a)` that has a
    /// value) merges the runs first and is planned like any transaction.
    ///
    /// An error from `next` (a malformed input line) ends the import with nothing kept.
    pub fn import_bulk(
        &mut self,
        next: impl FnMut() -> Result<Option<Vec<(i64, String, Value)>>, String>,
    ) -> Result<ImportReport, TxError> {
        if self.read_only {
            return Err(TxError::new("io", "the store was opened read-only"));
        }
        match self.bulk_write(next) {
            Ok((report, meta, schema)) => {
                self.meta = meta;
                self.schema = schema;
                *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(report)
            }
            Err(e) => {
                // Attributes interned by the aborted transaction are not in the index.
                self.inner.forget_attrs();
                Err(e)
            }
        }
    }

    /// The write transaction of [`Store::import_bulk`], committed; the state and schema it
    /// leaves. On an error nothing is committed.
    fn bulk_write(
        &self,
        mut next: impl FnMut() -> Result<Option<Vec<(i64, String, Value)>>, String>,
    ) -> Result<(ImportReport, disk::Meta, Arc<Schema>), TxError> {
        let mut report = ImportReport::default();
        let inner = self.inner.clone();
        let mut w = inner.env.write_txn().map_err(io_err)?;
        let mut meta = self.meta.clone();
        let mut schema = self.schema.clone();
        let runs_dir = inner.dir().join("import.tmp");
        let _ = std::fs::remove_dir_all(&runs_dir);
        // Keys are gathered only while no index holds user entities (the distinct values
        // they add are then counted without looking each one up).
        let mut deferred = (self.meta.max_eid == 0).then(|| disk::Deferred::new(runs_dir));
        let syntax = |m: String| TxError::new("transact/syntax", m);
        let merge = |w: &mut heed::RwTxn, meta: &mut disk::Meta, d: disk::Deferred| {
            let mut wr = disk::Writer::new(&inner, w, meta);
            wr.set_fresh(true);
            wr.merge(d)?;
            wr.finish()
        };
        while let Some(batch) = next().map_err(|m| TxError::new("import", m))? {
            let t = meta.last_t.map_or(1, |t| t + 1);
            let fresh = {
                let r = disk::Reader {
                    inner: &inner,
                    txn: &w,
                };
                self.fresh_plan(&r, &batch, t, &schema, meta.max_eid)?
            };
            report.facts += batch.len() as u64;
            let (plan, is_fresh) = match fresh {
                Some(p) => (p, true),
                None => {
                    if let Some(d) = deferred.take() {
                        report.scattered = true;
                        merge(&mut w, &mut meta, d).map_err(syntax)?;
                    }
                    let r = disk::Reader {
                        inner: &inner,
                        txn: &w,
                    };
                    let ix = tx::Ix::new(&r, meta.max_eid, meta.max_ident);
                    let plan = tx::plan(&ix, &schema, import_ops(batch), t, self.now())?;
                    (plan, false)
                }
            };
            let nc = local_commit(&plan, &meta);
            let mut wr = disk::Writer::new(&inner, &mut w, &mut meta);
            wr.set_fresh(is_fresh);
            if is_fresh && let Some(d) = deferred.as_mut() {
                wr.defer(d);
            }
            let applied = wr
                .commit(&nc, &schema)
                .and_then(|s| wr.finish().map(|_| s))
                .map_err(syntax)?;
            if let Some(s) = applied {
                schema = Arc::new(s);
            }
            report.commits += 1;
        }
        match deferred.take() {
            Some(d) => {
                // More than one write in eight not appended leaves EAVT's pages loose.
                report.scattered = d.eavt_inserts * 8 > d.eavt_puts;
                merge(&mut w, &mut meta, d).map_err(syntax)?;
            }
            None => report.scattered = true,
        }
        w.commit().map_err(io_err)?;
        Ok((report, meta, schema))
    }

    /// Plans and commits one transaction in one write transaction of the indexes. With
    /// `skip_idle`, a transaction that would only record its instant writes nothing (None).
    fn write(
        &mut self,
        ops: Vec<TxOp>,
        t: u64,
        skip_idle: bool,
    ) -> Result<Option<TxReport>, TxError> {
        // The writer's lock makes this store the only writer, so planning on a read
        // transaction sees exactly the state the commit's write transaction starts from.
        let inner = self.inner.clone();
        let txn = inner.env.read_txn().map_err(io_err)?;
        let plan = {
            let r = disk::Reader {
                inner: &inner,
                txn: &txn,
            };
            let ix = tx::Ix::new(&r, self.meta.max_eid, self.meta.max_ident);
            tx::plan(&ix, &self.schema, ops, t, self.now())?
        };
        if skip_idle && plan.facts.iter().all(|f| f.a == "db/txInstant") {
            return Ok(None);
        }
        drop(txn);
        self.commit_plan(plan, false).map(Some)
    }

    /// Writes a planned transaction into the indexes and the log, durably.
    fn commit_plan(&mut self, plan: tx::Plan, fresh: bool) -> Result<TxReport, TxError> {
        let inner = self.inner.clone();
        let mut w = inner.env.write_txn().map_err(io_err)?;
        let mut meta = self.meta.clone();
        let nc = local_commit(&plan, &meta);
        let mut wr = disk::Writer::new(&inner, &mut w, &mut meta);
        wr.set_fresh(fresh);
        let applied = wr
            .commit(&nc, &self.schema)
            .and_then(|s| wr.finish().map(|_| s));
        let schema = match applied {
            Ok(s) => s,
            Err(m) => {
                drop(w);
                inner.forget_attrs();
                return Err(TxError::new("transact/syntax", m));
            }
        };
        if let Err(e) = w.commit() {
            inner.forget_attrs();
            return Err(io_err(e));
        }
        self.meta = meta;
        if let Some(s) = schema {
            self.schema = Arc::new(s);
        }
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(TxReport {
            t: plan.t,
            tx: TX0 + plan.t as i64,
            tempids: plan.tempids,
            datoms: plan.facts.iter().map(Fact::datom).collect(),
        })
    }

    /// The current database (an immutable snapshot; later transactions do not change it).
    /// Panics only if the index cannot be read at all; see [`Store::try_db`].
    pub fn db(&self) -> Db {
        self.try_db()
            .unwrap_or_else(|e| panic!("the store cannot be read: {e}"))
    }

    /// The current database, or why the index cannot be read. A read-only store's value sees
    /// every transaction committed (by any process) when it is taken.
    pub fn try_db(&self) -> Result<Db, StoreError> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if !self.read_only
            && let Some(db) = &*current
        {
            return Ok(db.clone());
        }
        let txn = self
            .inner
            .env
            .clone()
            .static_read_txn()
            .map_err(disk::mdb_err)?;
        let corrupt = |message: String| StoreError::Corrupt { offset: 0, message };
        let meta = disk::Meta::read(&self.inner, &txn).map_err(corrupt)?;
        let schema = if meta.schema_commit == self.meta.schema_commit {
            self.schema.clone()
        } else {
            let r = disk::Reader {
                inner: &self.inner,
                txn: &txn,
            };
            Arc::new(tx::schema_from(&r).map_err(corrupt)?)
        };
        let snap = Arc::new(index::Snapshot::new(self.inner.clone(), txn, meta.commits));
        let db = Db::new(snap, schema);
        if !self.read_only {
            *current = Some(db.clone());
        }
        Ok(db)
    }

    /// Every fact with its CID, in log order (read from the log; each commit is checked
    /// against its CID).
    pub fn facts(&self) -> impl Iterator<Item = Fact> {
        self.try_facts()
            .unwrap_or_else(|e| panic!("the store's log cannot be read: {e}"))
            .into_iter()
    }

    /// Every fact in log order, or the damage that stops the log from being read.
    pub fn try_facts(&self) -> Result<Vec<Fact>, StoreError> {
        let mut out = Vec::new();
        self.commits(|c| {
            out.extend(
                c.facts
                    .into_iter()
                    .zip(c.present)
                    .filter(|(_, p)| !p)
                    .map(|(f, _)| f),
            );
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads the whole log, checking every commit's CID and the chain of commits; the number
    /// of commits and facts.
    pub fn verify(&self) -> Result<(u64, u64), StoreError> {
        let (mut commits, mut facts) = (0, 0);
        let mut seen = std::collections::HashSet::new();
        self.commits(|c| {
            if let Some(p) = c.parents.iter().find(|p| !seen.contains(*p)) {
                return Err(format!(
                    "commit t {} names a parent {p} the log does not hold before it",
                    c.t
                ));
            }
            seen.insert(c.cid);
            commits += 1;
            facts += c.present.iter().filter(|p| !**p).count() as u64;
            Ok(())
        })?;
        Ok((commits, facts))
    }

    fn commits(
        &self,
        mut f: impl FnMut(disk::LogCommit) -> Result<(), String>,
    ) -> Result<(), StoreError> {
        let txn = self.inner.env.read_txn().map_err(disk::mdb_err)?;
        let r = disk::Reader {
            inner: &self.inner,
            txn: &txn,
        };
        let corrupt = |seq: u64, message: String| StoreError::Corrupt {
            offset: seq,
            message,
        };
        let it = self.inner.t.log.iter(&txn).map_err(disk::mdb_err)?;
        for (i, kv) in it.enumerate() {
            let (k, v) = kv.map_err(disk::mdb_err)?;
            let seq = u64::from_be_bytes(
                k.try_into()
                    .map_err(|_| corrupt(i as u64, "a damaged log key".into()))?,
            );
            if seq != i as u64 {
                return Err(corrupt(
                    i as u64,
                    format!("the log skips from commit {i} to {seq}"),
                ));
            }
            let c = disk::read_commit(&r, seq, v).map_err(|m| corrupt(seq, m))?;
            f(c).map_err(|m| corrupt(seq, m))?;
        }
        Ok(())
    }

    /// Rewrites the store's index file so that each table's pages are full, contiguous and in
    /// key order, without free pages (each table rewritten in order, then LMDB's compacting
    /// copy and an atomic rename; it holds one table's entries in memory at a time). A scan of
    /// one attribute then reads (and maps) only that attribute's pages, which after a bulk
    /// import are otherwise scattered through the file. Returns the file's size before and
    /// after. No other process may have the store open: a reader holding the old file would
    /// go on seeing it. Refused for an in-memory store and while database values of this
    /// store are alive in this process.
    pub fn compact(self) -> Result<(Store, u64, u64), StoreError> {
        let busy = |m: &str| StoreError::Io(std::io::Error::other(m.to_string()));
        if self.read_only {
            return Err(busy("a read-only store cannot be compacted"));
        }
        let Some(lock) = self._lock else {
            return Err(busy("an in-memory store is not compacted"));
        };
        let inner = self.inner;
        drop(self.current);
        let dir = inner.dir().to_path_buf();
        let data = dir.join(DATA_FILE);
        let before = std::fs::metadata(&data)?.len();
        let tmp = dir.join("data.mdb.compact");
        inner.repack()?;
        inner
            .env
            .copy_to_path(&tmp, heed::CompactionOption::Enabled)
            .map_err(disk::mdb_err)?
            .sync_all()?;
        let inner = Arc::try_unwrap(inner).map_err(|_| {
            let _ = std::fs::remove_file(&tmp);
            busy("database values of the store are still alive")
        })?;
        inner.close();
        std::fs::rename(&tmp, &data)?;
        File::open(&dir)?.sync_all()?;
        let after = std::fs::metadata(&data)?.len();
        let inner = disk::Inner::open(&dir, false)?;
        let mut store = Store::over(inner, Some(lock), false)?;
        store.clock = self.clock;
        Ok((store, before, after))
    }

    /// The `t` of the last transaction (None for an empty store).
    pub fn last_t(&self) -> Option<u64> {
        self.meta.last_t
    }

    /// The current schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}
