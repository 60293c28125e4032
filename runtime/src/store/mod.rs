//! The content-addressed fact store (DESIGN §3).
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

mod encode;
mod index;
mod log;
mod tx;

pub(crate) use encode::cid_of;
pub use encode::{decode_value, encode_value};
pub use index::Db;
pub(crate) use log::{read_single_block_car, single_block_car};

use cid::Cid;
use pomo_types::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// The transaction id base: transaction `t` has the entity id `TX0 + t` (DataScript's `tx0`).
pub const TX0: i64 = 1 << 29;

/// Where entities that carry `:db/ident` (attribute definitions) are numbered from. They live
/// far above user and transaction ids so that defining a schema never moves the ids that
/// DataScript-style tx-data allocates (`max-eid + 1`, counted over ids below [`TX0`]).
pub const IDENT0: i64 = 1 << 40;

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

/// A stored fact: the content its CID covers (`e a v added causes`) plus the transaction it was
/// appended in. `tx` is not part of the content: the same fact written by two replicas, at
/// different local times, has one CID.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub e: i64,
    pub a: String,
    pub v: Value,
    pub added: bool,
    /// The CIDs of the facts this one directly follows, deduplicated and sorted.
    pub causes: Vec<Cid>,
    pub cid: Cid,
    /// The transaction id (`TX0 + t`) of the transaction that appended this fact.
    pub tx: i64,
}

impl Fact {
    /// Builds a fact and computes its CID; the causes are deduplicated and sorted first.
    /// Fails on a value that has no encoding (NaN, an invalid CID string).
    pub fn new(
        e: i64,
        a: impl Into<String>,
        v: Value,
        added: bool,
        mut causes: Vec<Cid>,
        tx: i64,
    ) -> Result<Fact, String> {
        causes.sort();
        causes.dedup();
        let a = a.into();
        let bytes = encode::to_bytes(&encode::fact_ipld(e, &a, &v, added, &causes)?)?;
        let cid = encode::cid_of(&bytes);
        Ok(Fact {
            e,
            a,
            v,
            added,
            causes,
            cid,
            tx,
        })
    }

    /// The canonical DAG-CBOR bytes of the fact's content (the block its CID names).
    pub fn encode(&self) -> Vec<u8> {
        // The fact was encoded once already when its CID was computed, so this cannot fail.
        encode::to_bytes(
            &encode::fact_ipld(self.e, &self.a, &self.v, self.added, &self.causes)
                .expect("a constructed fact is encodable"),
        )
        .expect("a constructed fact is encodable")
    }

    /// Decodes a fact block and recomputes its CID from the bytes.
    pub fn decode(bytes: &[u8], tx: i64) -> Result<Fact, String> {
        let (e, a, v, added, causes) = encode::fact_from_ipld(&encode::from_bytes(bytes)?)?;
        Ok(Fact {
            e,
            a,
            v,
            added,
            causes,
            cid: encode::cid_of(bytes),
            tx,
        })
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
    /// (a lookup ref that names no entity), `"schema"` or `"io"`.
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

/// A fact store, in memory or backed by a log file in a directory.
pub struct Store {
    shared: Arc<RwLock<index::Indexes>>,
    facts: Vec<Fact>,
    schema: Arc<Schema>,
    log: Option<log::LogFile>,
    /// The `t` of the last transaction, None before the first one.
    last_t: Option<u64>,
    /// The CID of the last commit block (chains commits in the log).
    last_commit: Option<Cid>,
    /// A fixed transaction instant for reproducible tests (None: the wall clock).
    clock: Option<i64>,
    /// Opened with [`Store::open_read_only`]: transactions are refused.
    read_only: bool,
}

impl Store {
    /// An empty store that lives in memory only.
    pub fn in_memory() -> Store {
        Store {
            shared: Arc::new(RwLock::new(index::Indexes::default())),
            facts: Vec::new(),
            schema: Arc::new(Schema::default()),
            log: None,
            last_t: None,
            last_commit: None,
            clock: None,
            read_only: false,
        }
    }

    /// Opens (or creates) the store in `dir`, replaying its log. Every block's CID is checked;
    /// a torn or corrupt last transaction is truncated and reported in the returned warnings,
    /// damage followed by valid data is [`StoreError::Corrupt`].
    pub fn open(dir: &Path) -> Result<(Store, Vec<String>), StoreError> {
        let (file, replay, warnings) = log::LogFile::open(dir)?;
        let mut store = Store::replayed(replay)?;
        store.log = Some(file);
        Ok((store, warnings))
    }

    /// An in-memory store holding the transactions read back from a log.
    fn replayed(replay: Vec<log::ReplayCommit>) -> Result<Store, StoreError> {
        let mut store = Store::in_memory();
        for commit in replay {
            store
                .apply_commit(commit.t, commit.facts, commit.cid)
                .map_err(|message| StoreError::Corrupt {
                    offset: commit.offset,
                    message,
                })?;
        }
        Ok(store)
    }

    /// Opens the store in `dir` for reading only, without taking the writer's lock, so that
    /// queries run while another process (a `pomo watch`, a cluster peer) has the store open.
    /// The log is append-only and fsynced per transaction, so a reader sees every transaction
    /// acknowledged before it opened; a last transaction still being written is left out and
    /// reported in the warnings, never read. A missing store is an empty database.
    pub fn open_read_only(dir: &Path) -> Result<(Store, Vec<String>), StoreError> {
        let (replay, warnings) = log::LogFile::read(dir)?;
        let mut store = Store::replayed(replay)?;
        store.read_only = true;
        Ok((store, warnings))
    }

    /// Defines the schema by transacting it as data (`:db/ident` entities). On an empty store
    /// the schema transaction is the genesis transaction `t = 0` (tx id `TX0`), so the user's
    /// transactions keep DataScript's numbering (the first one is `TX0 + 1`). A schema that is
    /// already in place writes nothing.
    pub fn with_schema(mut self, schema: Schema) -> Result<Store, TxError> {
        let ops = tx::schema_ops(&schema);
        let plan = {
            let ix = self.shared.read().expect("store lock poisoned");
            let genesis = self.last_t.is_none_or(|t| t == 0);
            let t = if genesis { 0 } else { self.last_t.unwrap() + 1 };
            tx::plan(&ix, &self.schema, ops, t, self.now())?
        };
        // Only the transaction instant would be new: the schema is already in place.
        if plan.facts.iter().all(|f| f.a == "db/txInstant") {
            return Ok(self);
        }
        self.commit(plan)?;
        Ok(self)
    }

    /// Fixes the `:db/txInstant` of later transactions (milliseconds since the epoch), for
    /// reproducible tests; by default the wall clock is used.
    pub fn set_clock(&mut self, ms: Option<i64>) {
        self.clock = ms;
    }

    fn now(&self) -> i64 {
        self.clock.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        })
    }

    /// Applies a transaction. On disk the transaction is written and fsynced before this
    /// returns Ok; on any error nothing of it is kept.
    pub fn transact(&mut self, ops: Vec<TxOp>) -> Result<TxReport, TxError> {
        if self.read_only {
            return Err(TxError {
                message: "the store was opened read-only".into(),
                kind: "io",
            });
        }
        let t = self.last_t.map_or(1, |t| t + 1);
        let plan = {
            let ix = self.shared.read().expect("store lock poisoned");
            tx::plan(&ix, &self.schema, ops, t, self.now())?
        };
        self.commit(plan)
    }

    fn commit(&mut self, plan: tx::Plan) -> Result<TxReport, TxError> {
        let tx = TX0 + plan.t as i64;
        let commit_cid = match &mut self.log {
            Some(file) => file
                .append(plan.t, &plan.facts, self.last_commit)
                .map_err(|e| TxError::new("io", format!("writing the transaction failed: {e}")))?,
            None => log::commit_cid(plan.t, &plan.facts, self.last_commit),
        };
        let datoms = plan.facts.iter().map(Fact::datom).collect();
        self.apply_commit(plan.t, plan.facts, commit_cid)
            .map_err(|m| TxError::new("transact/syntax", m))?;
        Ok(TxReport {
            t: plan.t,
            tx,
            tempids: plan.tempids,
            datoms,
        })
    }

    /// Adds committed facts to the indexes and the fact list (used by transact and by replay).
    fn apply_commit(&mut self, t: u64, facts: Vec<Fact>, commit: Cid) -> Result<(), String> {
        {
            let mut ix = self.shared.write().expect("store lock poisoned");
            ix.apply(t, &facts)?;
            if ix.schema_dirty {
                ix.schema_dirty = false;
                self.schema = Arc::new(tx::schema_from_indexes(&ix));
            }
        }
        self.facts.extend(facts);
        self.last_t = Some(t);
        self.last_commit = Some(commit);
        Ok(())
    }

    /// The current database (an immutable snapshot; later transactions do not change it).
    pub fn db(&self) -> Db {
        let ix = self.shared.read().expect("store lock poisoned");
        Db::new(self.shared.clone(), ix.commits(), self.schema.clone())
    }

    /// Every fact with its CID, in log order.
    pub fn facts(&self) -> impl Iterator<Item = &Fact> {
        self.facts.iter()
    }

    /// The `t` of the last transaction (None for an empty store).
    pub fn last_t(&self) -> Option<u64> {
        self.last_t
    }

    /// The current schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}
