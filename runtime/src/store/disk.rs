//! The persistent indexes: an LMDB environment (through heed) holding the covering indexes
//! EAVT, AEVT, AVET and VAET, the commit log, the attribute table and per-attribute statistics.
//!
//! Every assertion opens a *span*, keyed in each index by its datom and the `t` of the
//! assertion; the key's value holds the `t` of the retraction that closes it, once that happens.
//! So one range scan serves a lookup with any combination of bound positions, and the views
//! (current, as-of, since, history) are filters on spans. Indexes only grow: a transaction
//! appends spans and closes open ones.
//!
//! The facts stay content-addressed: a fact's DAG-CBOR block is determined by its
//! `[e a v added causes]`, which the log keeps for every fact and EAVT keeps for every span
//! (the causes of an assertion in the EAVT value; a retraction's only cause is the assertion it
//! closes), so its block and CID are recomputed wherever they are needed and checked against
//! the commit's recorded CID when the log is read. Each commit record keeps the commit block's
//! CID; a log read recomputes the commit from its facts and refuses a record that no longer
//! hashes to it.
//!
//! LMDB gives the rest: a write transaction is atomic and durable when it commits (a crash
//! loses nothing acknowledged), readers in any number of threads and processes see committed
//! snapshots beside one writer, and opening maps the file without reading it.

use super::gid::Gid;
use super::keys::{self, KeyValue};
pub(crate) use super::writer::{Deferred, NewCommit, Writer};
use super::{Fact, IDENT0, Ids, StoreError, TX0};
use cid::Cid;
use heed::types::Bytes;
use heed::{CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions, RoTxn, RwTxn, WithoutTls};
use pomo_types::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};

/// The format of the index files; a store written in another format is refused.
const FORMAT: &[u8] = b"pomo-index-2";
/// The format before global ids: opened only to be upgraded (`Store::open`).
const FORMAT_1: &[u8] = b"pomo-index-1";

pub(crate) type Table = Database<'static, Bytes, Bytes>;

/// The tables of one environment.
#[derive(Clone, Copy)]
pub(crate) struct Tables {
    pub meta: Table,
    pub attrs: Table,
    pub attr_names: Table,
    pub eavt: Table,
    pub aevt: Table,
    pub avet: Table,
    pub vaet: Table,
    pub log: Table,
    pub longvals: Table,
    pub stats: Table,
    /// Local entity number (8 bytes) → its global id (16 bytes).
    pub gids: Table,
    /// Global id → local entity number.
    pub eids: Table,
    /// A fact's CID digest (32 bytes) → the log position of its first commit and its index
    /// there (8 + 4 bytes): the set of facts the store holds, by CID.
    pub fcids: Table,
    /// A commit's CID digest → its log position (8 bytes).
    pub ccids: Table,
}

const TABLES: [&str; 14] = [
    "meta",
    "attrs",
    "attr_names",
    "eavt",
    "aevt",
    "avet",
    "vaet",
    "log",
    "longvals",
    "stats",
    "gids",
    "eids",
    "fcids",
    "ccids",
];

/// Attribute names and their interned ids (ids only grow, so a newer map serves older snapshots).
#[derive(Default)]
pub(crate) struct AttrMap {
    by_name: HashMap<Arc<str>, u32>,
    names: HashMap<u32, Arc<str>>,
}

/// One open environment, shared by every store and database value of its directory in this
/// process (LMDB allows one environment per file and process).
pub(crate) struct Inner {
    pub env: Env<WithoutTls>,
    pub t: Tables,
    /// The replica's id, minted when the store was created.
    pub replica: Gid,
    /// Written by format 1 (before global ids): to be upgraded before anything reads it.
    pub old_format: bool,
    /// A seed that makes minted global ids a function of the local number (tests only).
    pub id_seed: RwLock<Option<u64>>,
    pub attrs: RwLock<AttrMap>,
    path: PathBuf,
    /// An in-memory store's directory, removed when the environment closes.
    temp: bool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.temp {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

static OPEN: Mutex<Vec<(PathBuf, Weak<Inner>)>> = Mutex::new(Vec::new());

pub(crate) fn mdb_err(e: heed::Error) -> StoreError {
    match e {
        heed::Error::Io(e) => StoreError::Io(e),
        other => StoreError::Corrupt {
            offset: 0,
            message: format!("index: {other}"),
        },
    }
}

pub(crate) fn mdb_msg(e: heed::Error) -> String {
    format!("index: {e}")
}

/// The map size: the largest the environment may grow to (address space, not memory).
const MAP_SIZE_DISK: usize = 1 << 40;
const MAP_SIZE_TEMP: usize = 1 << 34;

impl Inner {
    /// Opens (or creates) the environment in `dir`, or returns the one this process has open.
    pub fn open(dir: &Path, temp: bool) -> Result<Arc<Inner>, StoreError> {
        std::fs::create_dir_all(dir)?;
        let path = dir.canonicalize()?;
        let mut open = OPEN.lock().expect("store registry poisoned");
        open.retain(|(_, w)| w.strong_count() > 0);
        if let Some(inner) = open
            .iter()
            .find(|(p, _)| p == &path)
            .and_then(|(_, w)| w.upgrade())
        {
            return Ok(inner);
        }
        let mut options = EnvOpenOptions::new().read_txn_without_tls();
        options
            .map_size(if temp { MAP_SIZE_TEMP } else { MAP_SIZE_DISK })
            .max_dbs(TABLES.len() as u32)
            .max_readers(1022);
        // SAFETY: NO_SYNC is used only for in-memory stores, whose files die with the process,
        // and the environment is opened once per process (the registry above). Read-ahead is
        // kept: the JIT reads whole attributes, which read-ahead makes 19× faster from a cold
        // page cache (docs/store.md), at the cost of slower cold point lookups.
        let env = unsafe {
            let mut flags = EnvFlags::empty();
            if temp {
                flags |= EnvFlags::NO_SYNC;
            }
            if std::env::var_os("POMO_NORDAHEAD").is_some() {
                flags |= EnvFlags::NO_READ_AHEAD;
            }
            options.flags(flags);
            options.open(&path)
        }
        .map_err(mdb_err)?;
        // A data file shorter than the pages its meta page names was cut short; reading a
        // mapped page past its end would kill the process (SIGBUS), so it is refused here.
        let info = env.info();
        let psize = env.unnamed_database_stat().page_size as u64;
        let len = std::fs::metadata(path.join("data.mdb"))?.len();
        if (info.last_page_number as u64 + 1) * psize > len {
            return Err(StoreError::Corrupt {
                offset: len,
                message: format!(
                    "the index file is cut short: it ends at byte {len}, its pages reach byte {}",
                    (info.last_page_number as u64 + 1) * psize
                ),
            });
        }
        // An existing store's tables open in a read transaction: no write transaction (which
        // would wait for another process's writer, and sync the file) just to open a store.
        let rtxn = env.read_txn().map_err(mdb_err)?;
        let opened = env
            .open_databases_and_commit(rtxn, |opener, rtxn| -> Result<_, heed::Error> {
                let mut dbs = Vec::new();
                for name in TABLES {
                    match opener.open_database::<Bytes, Bytes>(rtxn, Some(name))? {
                        Some(db) => dbs.push(db),
                        None => return Ok(CommitOrAbort::Abort(())),
                    }
                }
                let dbs: [Database<'_, Bytes, Bytes>; TABLES.len()] = dbs
                    .try_into()
                    .unwrap_or_else(|_| unreachable!("one database per table"));
                Ok(CommitOrAbort::Commit(dbs))
            })
            .map_err(mdb_err)?;
        let t = match opened {
            CommitOrAbort::Commit(t) => t,
            CommitOrAbort::Abort(()) => {
                let wtxn = env.write_txn().map_err(mdb_err)?;
                env.create_databases_and_commit(wtxn, |opener, wtxn| -> Result<_, heed::Error> {
                    let mut dbs = Vec::new();
                    for name in TABLES {
                        dbs.push(opener.create_database::<Bytes, Bytes>(wtxn, Some(name))?);
                    }
                    let dbs: [Database<'_, Bytes, Bytes>; TABLES.len()] = dbs
                        .try_into()
                        .unwrap_or_else(|_| unreachable!("one database per table"));
                    Ok(CommitOrAbort::<_, ()>::Commit(dbs))
                })
                .map_err(mdb_err)?
                .unwrap_commit()
            }
        };
        let [
            meta,
            attrs,
            attr_names,
            eavt,
            aevt,
            avet,
            vaet,
            log,
            longvals,
            stats,
            gids,
            eids,
            fcids,
            ccids,
        ] = t;
        let tables = Tables {
            meta,
            attrs,
            attr_names,
            eavt,
            aevt,
            avet,
            vaet,
            log,
            longvals,
            stats,
            gids,
            eids,
            fcids,
            ccids,
        };
        // Stamp or check the format.
        let mut old_format = false;
        let stamped = {
            let r = env.read_txn().map_err(mdb_err)?;
            tables
                .meta
                .get(&r, b"format")
                .map_err(mdb_err)?
                .map(<[u8]>::to_vec)
        };
        {
            match stamped.as_deref() {
                Some(f) if f == FORMAT => {}
                Some(f) if f == FORMAT_1 => old_format = true,
                Some(f) => {
                    return Err(StoreError::Corrupt {
                        offset: 0,
                        message: format!(
                            "the index is in format {:?}, this pomo reads {:?}",
                            String::from_utf8_lossy(f),
                            String::from_utf8_lossy(FORMAT)
                        ),
                    });
                }
                None => {
                    let mut w = env.write_txn().map_err(mdb_err)?;
                    // Another process may have stamped it in between: its stamp stands.
                    if tables.meta.get(&w, b"format").map_err(mdb_err)?.is_none() {
                        tables
                            .meta
                            .put(&mut w, b"format", FORMAT)
                            .map_err(mdb_err)?;
                        tables
                            .meta
                            .put(&mut w, b"replica", &Gid::random().0)
                            .map_err(mdb_err)?;
                        w.commit().map_err(mdb_err)?;
                    }
                }
            }
        }
        let replica = if old_format {
            Gid::default()
        } else {
            let r = env.read_txn().map_err(mdb_err)?;
            tables
                .meta
                .get(&r, b"replica")
                .map_err(mdb_err)?
                .and_then(Gid::from_slice)
                .ok_or_else(|| StoreError::Corrupt {
                    offset: 0,
                    message: "the store has no replica id".into(),
                })?
        };
        let inner = Arc::new(Inner {
            env,
            t: tables,
            replica,
            old_format,
            id_seed: RwLock::new(None),
            attrs: RwLock::new(AttrMap::default()),
            path: path.clone(),
            temp,
        });
        open.push((path, Arc::downgrade(&inner)));
        Ok(inner)
    }

    /// A fresh environment in a temporary directory (shared memory where the system has it),
    /// removed when the last store and database value of it are dropped.
    pub fn temporary() -> Result<Arc<Inner>, StoreError> {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let shm = Path::new("/dev/shm");
        let base =
            if shm.is_dir() && std::fs::metadata(shm).is_ok_and(|m| !m.permissions().readonly()) {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            };
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n == 0 {
            remove_orphans(&base);
        }
        let dir = base.join(format!("pomo-mem-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Inner::open(&dir, true).or_else(|_| {
            let dir = std::env::temp_dir().join(format!("pomo-mem-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Inner::open(&dir, true)
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// Rewrites each index table in key order with LMDB's append mode, which fills its pages
    /// (inserts in any other order split pages in half). One write transaction per table;
    /// the pages freed go when the file is compacted.
    pub fn repack(&self) -> Result<(), StoreError> {
        for table in [
            self.t.eavt,
            self.t.aevt,
            self.t.avet,
            self.t.vaet,
            self.t.log,
        ] {
            let mut w = self.env.write_txn().map_err(mdb_err)?;
            let entries: Vec<(Vec<u8>, Vec<u8>)> = table
                .iter(&w)
                .map_err(mdb_err)?
                .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect::<Result<_, _>>()
                .map_err(mdb_err)?;
            table.clear(&mut w).map_err(mdb_err)?;
            for (k, v) in &entries {
                table
                    .put_with_flags(&mut w, heed::PutFlags::APPEND, k, v)
                    .map_err(mdb_err)?;
            }
            w.commit().map_err(mdb_err)?;
        }
        Ok(())
    }

    /// Closes the environment and waits until LMDB has released it.
    pub fn close(self) {
        let event = self.env.clone().prepare_for_closing();
        drop(self);
        event.wait();
    }

    /// A new global id for local entity `e`: random, or with a seed set, derived from it.
    pub fn mint(&self, e: i64) -> Gid {
        match *self.id_seed.read().expect("seed poisoned") {
            None => Gid::random(),
            Some(seed) => Gid::seeded(seed, e),
        }
    }

    /// The id of attribute `a`, if it was ever used (as seen by `txn`).
    pub fn aid(&self, txn: &RoTxn<WithoutTls>, a: &str) -> Result<Option<u32>, String> {
        if let Some(&id) = self.attrs.read().expect("attrs poisoned").by_name.get(a) {
            return Ok(Some(id));
        }
        let Some(b) = self.t.attrs.get(txn, a.as_bytes()).map_err(mdb_msg)? else {
            return Ok(None);
        };
        let id = keys::get_u32(b.get(..4).ok_or("a damaged attribute table")?);
        self.remember(a, id);
        Ok(Some(id))
    }

    /// The name of attribute id `id`.
    pub fn attr_name(&self, txn: &RoTxn<WithoutTls>, id: u32) -> Result<Arc<str>, String> {
        if let Some(n) = self.attrs.read().expect("attrs poisoned").names.get(&id) {
            return Ok(n.clone());
        }
        let b = self
            .t
            .attr_names
            .get(txn, &id.to_be_bytes())
            .map_err(mdb_msg)?
            .ok_or_else(|| format!("a damaged index: attribute id {id} has no name"))?;
        let name = std::str::from_utf8(b).map_err(|_| "a damaged attribute name")?;
        Ok(self.remember(name, id))
    }

    fn remember(&self, name: &str, id: u32) -> Arc<str> {
        let mut m = self.attrs.write().expect("attrs poisoned");
        let name: Arc<str> = Arc::from(name);
        m.by_name.insert(name.clone(), id);
        m.names.insert(id, name.clone());
        name
    }

    /// The id of `a`, interning it in the write transaction if it is new.
    pub fn intern(&self, w: &mut RwTxn, meta: &mut Meta, a: &str) -> Result<u32, String> {
        if let Some(id) = self.aid(w, a)? {
            return Ok(id);
        }
        meta.next_aid += 1;
        let id = meta.next_aid;
        self.t
            .attrs
            .put(w, a.as_bytes(), &id.to_be_bytes())
            .map_err(mdb_msg)?;
        self.t
            .attr_names
            .put(w, &id.to_be_bytes(), a.as_bytes())
            .map_err(mdb_msg)?;
        // Not remembered until the transaction commits (an aborted one must not leave it).
        Ok(id)
    }

    /// Forgets interned attributes (after an aborted write transaction).
    pub fn forget_attrs(&self) {
        *self.attrs.write().expect("attrs poisoned") = AttrMap::default();
    }
}

/// Removes the in-memory stores' directories left by processes that no longer run (a process
/// killed before it could drop its stores leaves them behind).
fn remove_orphans(base: &Path) {
    if !Path::new("/proc/self").exists() {
        return; // no way to tell which processes run
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("pomo-mem-"))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The store's state kept in the `meta` table, written with every commit.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Meta {
    /// The number of commits (the basis of a database value).
    pub commits: u64,
    pub last_t: Option<u64>,
    pub last_commit: Option<Cid>,
    /// The largest user entity id ever asserted (`0 < e < TX0`).
    pub max_eid: i64,
    /// The largest `:db/ident` entity id ever asserted (at least `IDENT0 - 1`).
    pub max_ident: i64,
    /// The commit count when a schema attribute last changed (schema caches compare it).
    pub schema_commit: u64,
    /// The last interned attribute id.
    pub next_aid: u32,
    /// The commits no other commit the store holds names as a parent.
    pub heads: Vec<Cid>,
    /// The number of distinct facts, and the sum (mod 2^256) of their CIDs' sha2-256 digests:
    /// a digest of the set of facts that does not depend on the order they arrived in.
    pub facts: u64,
    pub sum: [u8; 32],
}

impl Meta {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(80);
        out.extend_from_slice(&self.commits.to_be_bytes());
        match self.last_t {
            Some(t) => {
                out.push(1);
                out.extend_from_slice(&t.to_be_bytes());
            }
            None => out.push(0),
        }
        put_cid(&mut out, self.last_commit.as_ref());
        out.extend_from_slice(&self.max_eid.to_be_bytes());
        out.extend_from_slice(&self.max_ident.to_be_bytes());
        out.extend_from_slice(&self.schema_commit.to_be_bytes());
        out.extend_from_slice(&self.next_aid.to_be_bytes());
        out.extend_from_slice(&(self.heads.len() as u32).to_be_bytes());
        for h in &self.heads {
            put_cid(&mut out, Some(h));
        }
        out.extend_from_slice(&self.facts.to_be_bytes());
        out.extend_from_slice(&self.sum);
        out
    }

    /// Adds a new fact's CID to the count and the sum.
    pub fn add_fact(&mut self, cid: &Cid) {
        self.facts += 1;
        let d = cid.hash().digest();
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let x = self.sum[i] as u16 + d.get(i).copied().unwrap_or(0) as u16 + carry;
            self.sum[i] = x as u8;
            carry = x >> 8;
        }
    }

    fn decode(b: &[u8]) -> Result<Meta, String> {
        let mut r = Cursor { b, pos: 0 };
        let commits = r.u64()?;
        let last_t = match r.u8()? {
            1 => Some(r.u64()?),
            _ => None,
        };
        let last_commit = r.cid()?;
        Ok(Meta {
            commits,
            last_t,
            last_commit,
            max_eid: r.u64()? as i64,
            max_ident: r.u64()? as i64,
            schema_commit: r.u64()?,
            next_aid: r.u32()?,
            heads: {
                let n = r.u32()?;
                (0..n)
                    .map(|_| r.cid()?.ok_or_else(|| "a damaged head".to_string()))
                    .collect::<Result<_, _>>()?
            },
            facts: r.u64()?,
            sum: r.take(32)?.try_into().expect("32 bytes"),
        })
    }

    /// The state as of `txn` (the empty state for a new store).
    pub fn read(inner: &Inner, txn: &RoTxn<WithoutTls>) -> Result<Meta, String> {
        match inner.t.meta.get(txn, b"state").map_err(mdb_msg)? {
            Some(b) => Meta::decode(b).map_err(|e| format!("the store's state record: {e}")),
            None => Ok(Meta {
                max_ident: IDENT0 - 1,
                ..Meta::default()
            }),
        }
    }

    pub fn write(&self, inner: &Inner, w: &mut RwTxn) -> Result<(), String> {
        inner
            .t
            .meta
            .put(w, b"state", &self.encode())
            .map_err(mdb_msg)
    }
}

pub(super) fn put_cid(out: &mut Vec<u8>, c: Option<&Cid>) {
    match c {
        Some(c) => {
            let b = c.to_bytes();
            out.push(b.len() as u8);
            out.extend_from_slice(&b);
        }
        None => out.push(0),
    }
}

/// A reader of the fixed-width and length-prefixed fields of a record.
pub(crate) struct Cursor<'a> {
    pub b: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .b
            .get(self.pos..self.pos + n)
            .ok_or("a damaged record (too short)")?;
        self.pos += n;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32, String> {
        Ok(keys::get_u32(self.take(4)?))
    }
    pub fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8")))
    }
    pub fn e(&mut self) -> Result<i64, String> {
        Ok(keys::get_e(self.take(8)?))
    }
    pub fn cid(&mut self) -> Result<Option<Cid>, String> {
        let n = self.u8()? as usize;
        if n == 0 {
            return Ok(None);
        }
        Cid::try_from(self.take(n)?)
            .map(Some)
            .map_err(|e| format!("a damaged CID: {e}"))
    }
    pub fn value(&mut self) -> Result<KeyValue, String> {
        keys::get_value(self.b, &mut self.pos)
    }
    pub fn done(&self) -> bool {
        self.pos == self.b.len()
    }
}

/// Which index a key belongs to (the order of its fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Eavt,
    Aevt,
    Avet,
    Vaet,
}

/// A span as read from an index.
#[derive(Clone, Debug)]
pub(crate) struct Span {
    pub e: i64,
    pub a: u32,
    pub v: Value,
    /// The `t` of the assertion.
    pub at: u32,
    /// The `t` of the retraction, if the span is closed.
    pub rt: Option<u32>,
    /// Closed by a merge's resolution, not by a retraction fact (history shows no retraction).
    pub superseded: bool,
}

/// The key of a span in an index. `vkey` is the value's key form.
pub(crate) fn span_key(order: Order, e: i64, a: u32, vkey: &[u8], t: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(16 + vkey.len());
    match order {
        Order::Eavt => {
            keys::put_e(&mut k, e);
            keys::put_u32(&mut k, a);
            k.extend_from_slice(vkey);
        }
        Order::Aevt => {
            keys::put_u32(&mut k, a);
            keys::put_e(&mut k, e);
            k.extend_from_slice(vkey);
        }
        Order::Avet => {
            keys::put_u32(&mut k, a);
            k.extend_from_slice(vkey);
            keys::put_e(&mut k, e);
        }
        Order::Vaet => {
            k.extend_from_slice(vkey);
            keys::put_u32(&mut k, a);
            keys::put_e(&mut k, e);
        }
    }
    keys::put_u32(&mut k, t);
    k
}

/// The retraction `t` of a span from an index value (EAVT values also carry the causes), and
/// whether a merge's resolution closed it (superseded) rather than a retraction fact. The
/// other indexes keep `t` (4 bytes), followed by `1` when superseded.
pub(super) fn retraction_of(order: Order, val: &[u8]) -> Result<(Option<u32>, bool), String> {
    match order {
        Order::Eavt => {
            let v = EavtVal::decode(val)?;
            Ok((v.rt, v.superseded))
        }
        _ => match val {
            [] => Ok((None, false)),
            [_, _, _, _] => Ok((Some(keys::get_u32(val)), false)),
            [_, _, _, _, 1] => Ok((Some(keys::get_u32(val)), true)),
            _ => Err("a damaged index value".into()),
        },
    }
}

/// The value the AEVT, AVET and VAET entries of a span hold.
pub(super) fn side_value(rt: Option<u32>, superseded: bool) -> Vec<u8> {
    match rt {
        None => Vec::new(),
        Some(t) => {
            let mut v = t.to_be_bytes().to_vec();
            if superseded {
                v.push(1);
            }
            v
        }
    }
}

/// A span of an `(e, a)`: value, value key, assertion `t`, EAVT value.
pub(crate) type EaSpan = (Value, Vec<u8>, u32, EavtVal);

/// The value of an EAVT entry: the retraction (if any), the assertion's causes, whether the
/// value is a reference (its fact names the target's global id), whether the span was closed
/// by a merge's resolution rather than by a retraction fact (`superseded`), and a retraction's
/// causes where they are not just the assertion it closes.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct EavtVal {
    pub rt: Option<u32>,
    pub causes: Vec<Cid>,
    pub is_ref: bool,
    pub superseded: bool,
    pub rcauses: Option<Vec<Cid>>,
}

const F_RT: u8 = 1;
const F_CAUSES: u8 = 2;
const F_REF: u8 = 4;
pub(super) const F_SUPERSEDED: u8 = 8;
const F_RCAUSES: u8 = 16;

pub(super) fn put_cids(out: &mut Vec<u8>, cids: &[Cid]) {
    out.extend_from_slice(&(cids.len() as u16).to_be_bytes());
    for c in cids {
        put_cid(out, Some(c));
    }
}

pub(super) fn get_cids(r: &mut Cursor) -> Result<Vec<Cid>, String> {
    let n = u16::from_be_bytes(r.take(2)?.try_into().expect("2"));
    (0..n)
        .map(|_| r.cid()?.ok_or_else(|| "a damaged cause".to_string()))
        .collect()
}

impl EavtVal {
    pub fn encode(&self) -> Vec<u8> {
        let flags = (self.rt.is_some() as u8 * F_RT)
            | (!self.causes.is_empty() as u8 * F_CAUSES)
            | (self.is_ref as u8 * F_REF)
            | (self.superseded as u8 * F_SUPERSEDED)
            | (self.rcauses.is_some() as u8 * F_RCAUSES);
        if flags == 0 {
            return Vec::new();
        }
        let mut out = vec![flags];
        if let Some(rt) = self.rt {
            keys::put_u32(&mut out, rt);
        }
        if !self.causes.is_empty() {
            put_cids(&mut out, &self.causes);
        }
        if let Some(rc) = &self.rcauses {
            put_cids(&mut out, rc);
        }
        out
    }

    pub fn decode(b: &[u8]) -> Result<EavtVal, String> {
        if b.is_empty() {
            return Ok(EavtVal::default());
        }
        let mut r = Cursor { b, pos: 0 };
        let flags = r.u8()?;
        if flags >= 32 {
            return Err("a damaged index value".into());
        }
        let rt = if flags & F_RT != 0 {
            Some(r.u32()?)
        } else {
            None
        };
        let causes = if flags & F_CAUSES != 0 {
            get_cids(&mut r)?
        } else {
            Vec::new()
        };
        let rcauses = if flags & F_RCAUSES != 0 {
            Some(get_cids(&mut r)?)
        } else {
            None
        };
        if !r.done() {
            return Err("a damaged index value".into());
        }
        Ok(EavtVal {
            rt,
            causes,
            is_ref: flags & F_REF != 0,
            superseded: flags & F_SUPERSEDED != 0,
            rcauses,
        })
    }

    /// The causes of the retraction that closed the span, given its assertion's CID.
    pub fn retraction_causes(&self, assertion: Cid) -> Vec<Cid> {
        self.rcauses.clone().unwrap_or_else(|| vec![assertion])
    }
}

/// Reads index entries of one snapshot (a read transaction or the writer's own transaction).
pub(crate) struct Reader<'a> {
    pub inner: &'a Inner,
    pub txn: &'a RoTxn<'a, WithoutTls>,
}

impl<'a> Reader<'a> {
    pub fn table(&self, order: Order) -> Table {
        match order {
            Order::Eavt => self.inner.t.eavt,
            Order::Aevt => self.inner.t.aevt,
            Order::Avet => self.inner.t.avet,
            Order::Vaet => self.inner.t.vaet,
        }
    }

    /// The value behind a key's value form (fetching a long one).
    pub fn value(&self, kv: KeyValue) -> Result<Value, String> {
        match kv {
            KeyValue::Value(v) => Ok(v),
            KeyValue::Long { tag, id } => {
                let b = self
                    .inner
                    .t
                    .longvals
                    .get(self.txn, &id)
                    .map_err(mdb_msg)?
                    .ok_or("a damaged index: a long value is missing")?;
                let v = keys::from_payload(tag, b.to_vec())?;
                // The digest names the payload: a changed one is damage.
                let mut check = Vec::new();
                match keys::put_value(&mut check, &v)? {
                    Some((got, _)) if got == id => Ok(v),
                    _ => Err("a damaged index: a long value does not match its digest".into()),
                }
            }
        }
    }

    /// Decodes an index key and value into a span.
    pub fn span(&self, order: Order, k: &[u8], val: &[u8]) -> Result<Span, String> {
        let mut r = Cursor { b: k, pos: 0 };
        let (e, a, v) = match order {
            Order::Eavt => {
                let e = r.e()?;
                let a = r.u32()?;
                (e, a, r.value()?)
            }
            Order::Aevt => {
                let a = r.u32()?;
                let e = r.e()?;
                (e, a, r.value()?)
            }
            Order::Avet => {
                let a = r.u32()?;
                let v = r.value()?;
                (r.e()?, a, v)
            }
            Order::Vaet => {
                let v = r.value()?;
                let a = r.u32()?;
                (r.e()?, a, v)
            }
        };
        let at = r.u32()?;
        if !r.done() {
            return Err("a damaged index key".into());
        }
        let (rt, superseded) = retraction_of(order, val)?;
        Ok(Span {
            e,
            a,
            v: self.value(v)?,
            at,
            rt,
            superseded,
        })
    }

    /// Calls `f` with every span whose key starts with `prefix` in `order`; `f` returns false
    /// to stop.
    pub fn scan(
        &self,
        order: Order,
        prefix: &[u8],
        mut f: impl FnMut(Span) -> Result<bool, String>,
    ) -> Result<(), String> {
        self.scan_raw(order, prefix, |k, val| f(self.span(order, k, val)?))
    }

    /// Like [`Reader::scan`] but without decoding values: the raw key and value.
    pub fn scan_raw(
        &self,
        order: Order,
        prefix: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> Result<bool, String>,
    ) -> Result<(), String> {
        let table = self.table(order);
        // LMDB refuses an empty key, so a whole-table scan is a plain iteration.
        type Entries<'t> = Box<dyn Iterator<Item = heed::Result<(&'t [u8], &'t [u8])>> + 't>;
        let it: Entries = if prefix.is_empty() {
            Box::new(table.iter(self.txn).map_err(mdb_msg)?)
        } else {
            Box::new(table.prefix_iter(self.txn, prefix).map_err(mdb_msg)?)
        };
        for kv in it {
            let (k, val) = kv.map_err(mdb_msg)?;
            if !f(k, val)? {
                break;
            }
        }
        Ok(())
    }

    pub fn prefix_ea(&self, e: i64, a: u32) -> Vec<u8> {
        let mut p = Vec::with_capacity(12);
        keys::put_e(&mut p, e);
        keys::put_u32(&mut p, a);
        p
    }

    /// The current values of `(e, a)`.
    pub fn current_values(&self, e: i64, a: &str) -> Result<Vec<Value>, String> {
        let Some(a) = self.inner.aid(self.txn, a)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        self.scan(Order::Eavt, &self.prefix_ea(e, a), |s| {
            if s.rt.is_none() {
                out.push(s.v);
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// The EAVT entry of every span of `[e a v]`, oldest first: its assertion `t` and value.
    pub fn spans_of(&self, e: i64, a: u32, v: &Value) -> Result<Vec<(u32, EavtVal)>, String> {
        let mut prefix = self.prefix_ea(e, a);
        keys::put_value(&mut prefix, v)?;
        let mut out = Vec::new();
        self.scan_raw(Order::Eavt, &prefix, |k, val| {
            if k.len() == prefix.len() + 4 {
                out.push((keys::get_u32(&k[prefix.len()..]), EavtVal::decode(val)?));
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// The global id of local entity `e`, if it has one.
    pub fn gid(&self, e: i64) -> Result<Option<Gid>, String> {
        let mut k = Vec::with_capacity(8);
        keys::put_e(&mut k, e);
        match self.inner.t.gids.get(self.txn, &k).map_err(mdb_msg)? {
            Some(b) => Gid::from_slice(b)
                .map(Some)
                .ok_or_else(|| format!("a damaged global id of entity {e}")),
            None => Ok(None),
        }
    }

    /// The global id of `e`, which every entity a fact names has.
    pub fn gid_of(&self, e: i64) -> Result<Gid, String> {
        self.gid(e)?
            .ok_or_else(|| format!("a damaged index: entity {e} has no global id"))
    }

    /// The local number of a global id, if the store knows the entity.
    pub fn eid(&self, g: &Gid) -> Result<Option<i64>, String> {
        Ok(self
            .inner
            .t
            .eids
            .get(self.txn, &g.0)
            .map_err(mdb_msg)?
            .map(keys::get_e))
    }

    /// The global ids of a fact's entity and reference value.
    pub fn ids(&self, e: i64, v: &Value, is_ref: bool) -> Result<Ids, String> {
        Ok(Ids {
            e: self.gid_of(e)?,
            v: match (is_ref, v) {
                (true, Value::Int(x)) => Some(self.gid_of(*x)?),
                (true, Value::Ref(x)) => Some(self.gid_of(*x as i64)?),
                _ => None,
            },
        })
    }

    /// Where the store holds the fact with this CID: its commit's log position and index.
    pub fn fact_at(&self, cid: &Cid) -> Result<Option<(u64, u32)>, String> {
        Ok(self
            .inner
            .t
            .fcids
            .get(self.txn, cid.hash().digest())
            .map_err(mdb_msg)?
            .map(|b| {
                (
                    u64::from_be_bytes(b[..8].try_into().expect("8")),
                    keys::get_u32(&b[8..12]),
                )
            }))
    }

    /// The log position of the commit with this CID, if the store holds it.
    pub fn commit_at(&self, cid: &Cid) -> Result<Option<u64>, String> {
        Ok(self
            .inner
            .t
            .ccids
            .get(self.txn, cid.hash().digest())
            .map_err(mdb_msg)?
            .map(|b| u64::from_be_bytes(b[..8].try_into().expect("8"))))
    }

    /// The assertion fact of a span (its CID is the span's assertion CID).
    pub fn assertion(
        &self,
        e: i64,
        a: &str,
        v: &Value,
        at: u32,
        val: &EavtVal,
    ) -> Result<Fact, String> {
        let ids = self.ids(e, v, val.is_ref)?;
        Fact::new(
            e,
            a,
            v.clone(),
            true,
            val.causes.clone(),
            TX0 + at as i64,
            ids,
        )
    }

    /// The retraction fact that closed a span (None if it is open or was superseded).
    pub fn retraction(
        &self,
        e: i64,
        a: &str,
        v: &Value,
        at: u32,
        val: &EavtVal,
    ) -> Result<Option<Fact>, String> {
        let Some(rt) = val.rt.filter(|_| !val.superseded) else {
            return Ok(None);
        };
        let acid = self.assertion(e, a, v, at, val)?;
        Fact::new(
            e,
            a,
            v.clone(),
            false,
            val.retraction_causes(acid.cid),
            TX0 + rt as i64,
            acid.ids,
        )
        .map(Some)
    }

    /// The log record of the commit at position `seq`, read in place.
    pub fn log_record(&self, seq: u64) -> Result<&'a [u8], String> {
        self.inner
            .t
            .log
            .get(self.txn, &seq.to_be_bytes())
            .map_err(mdb_msg)?
            .ok_or_else(|| format!("a damaged index: commit {seq} is missing from the log"))
    }

    /// Every span of `(e, a)` with its value key, assertion `t` and EAVT value, in key order.
    pub fn ea_spans(&self, e: i64, aid: u32) -> Result<Vec<EaSpan>, String> {
        let prefix = self.prefix_ea(e, aid);
        let mut out = Vec::new();
        self.scan_raw(Order::Eavt, &prefix, |k, val| {
            let span = self.span(Order::Eavt, k, val)?;
            let vkey = k[prefix.len()..k.len() - 4].to_vec();
            out.push((span.v, vkey, span.at, EavtVal::decode(val)?));
            Ok(true)
        })?;
        Ok(out)
    }

    /// The nodes of the causal graph of an `(e, a)` from its spans (value, assertion `t`,
    /// EAVT value), in span order: each span's assertion, and the retraction fact that closed
    /// it if one did (`resolve.rs`).
    pub fn graph_nodes<'v>(
        &self,
        e: i64,
        a: &str,
        spans: impl Iterator<Item = (&'v Value, u32, &'v EavtVal)>,
    ) -> Result<Vec<super::resolve::Node>, String> {
        let mut nodes = Vec::new();
        for (i, (v, at, val)) in spans.enumerate() {
            let af = self.assertion(e, a, v, at, val)?;
            nodes.push(super::resolve::Node {
                cid: af.cid,
                causes: af.causes,
                added: true,
                span: i,
            });
            if let Some(rf) = self.retraction(e, a, v, at, val)? {
                nodes.push(super::resolve::Node {
                    cid: rf.cid,
                    causes: rf.causes,
                    added: false,
                    span: i,
                });
            }
        }
        Ok(nodes)
    }

    /// The losing concurrent writes of `(e, a)` a merge left: assertion heads of its causal
    /// graph whose spans are superseded, as `(value, assertion CID)`.
    pub fn conflicts(&self, e: i64, a: &str) -> Result<Vec<(Value, Cid)>, String> {
        let Some(aid) = self.inner.aid(self.txn, a)? else {
            return Ok(Vec::new());
        };
        let spans = self.ea_spans(e, aid)?;
        if !spans.iter().any(|s| s.3.superseded) {
            return Ok(Vec::new());
        }
        let nodes = self.graph_nodes(e, a, spans.iter().map(|(v, _, at, val)| (v, *at, val)))?;
        Ok(super::resolve::assertion_heads(&nodes)
            .into_iter()
            .filter(|&i| spans[i].3.superseded)
            .filter_map(|i| {
                let cid = nodes.iter().find(|n| n.added && n.span == i)?.cid;
                Some((spans[i].0.clone(), cid))
            })
            .collect())
    }

    /// The CID of the current assertion of `[e a v]`, if it is current.
    pub fn current_cid(&self, e: i64, a: &str, v: &Value) -> Result<Option<Cid>, String> {
        let Some(aid) = self.inner.aid(self.txn, a)? else {
            return Ok(None);
        };
        let spans = self.spans_of(e, aid, v)?;
        match spans.into_iter().rev().find(|(_, s)| s.rt.is_none()) {
            Some((at, s)) => Ok(Some(self.assertion(e, a, v, at, &s)?.cid)),
            None => Ok(None),
        }
    }

    /// The CID of the latest retraction of `[e a v]`, if the datom was ever retracted.
    pub fn last_retraction(&self, e: i64, a: &str, v: &Value) -> Result<Option<Cid>, String> {
        let Some(aid) = self.inner.aid(self.txn, a)? else {
            return Ok(None);
        };
        let spans = self.spans_of(e, aid, v)?;
        for (at, s) in spans.into_iter().rev() {
            if let Some(r) = self.retraction(e, a, v, at, &s)? {
                return Ok(Some(r.cid));
            }
        }
        Ok(None)
    }

    /// The entities whose current value of `a` is `v` (AVET).
    pub fn holders(&self, a: &str, v: &Value) -> Result<Vec<i64>, String> {
        let Some(aid) = self.inner.aid(self.txn, a)? else {
            return Ok(Vec::new());
        };
        let mut prefix = Vec::new();
        keys::put_u32(&mut prefix, aid);
        keys::put_value(&mut prefix, v)?;
        let mut out = Vec::new();
        self.scan_raw(Order::Avet, &prefix, |k, val| {
            if k.len() == prefix.len() + 12 && val.is_empty() {
                out.push(keys::get_e(&k[prefix.len()..]));
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// The entities that currently hold some value of `a` (AEVT), in entity order.
    pub fn entities_with(&self, a: &str) -> Result<Vec<i64>, String> {
        let Some(aid) = self.inner.aid(self.txn, a)? else {
            return Ok(Vec::new());
        };
        let mut out: Vec<i64> = Vec::new();
        self.scan_raw(Order::Aevt, &aid.to_be_bytes(), |k, val| {
            if val.is_empty() {
                let e = keys::get_e(&k[4..]);
                if out.last() != Some(&e) {
                    out.push(e);
                }
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// The current datoms whose value is the entity `target` through a ref attribute (VAET).
    pub fn refs_to(&self, target: &Value) -> Result<Vec<(i64, Arc<str>)>, String> {
        let prefix = keys::value_key(target)?;
        let mut hits = Vec::new();
        self.scan_raw(Order::Vaet, &prefix, |k, val| {
            if val.is_empty() && k.len() == prefix.len() + 16 {
                let a = keys::get_u32(&k[prefix.len()..]);
                hits.push((keys::get_e(&k[prefix.len() + 4..]), a));
            }
            Ok(true)
        })?;
        hits.into_iter()
            .map(|(e, a)| Ok((e, self.inner.attr_name(self.txn, a)?)))
            .collect()
    }

    /// The current attributes and values of an entity, in attribute-id then value order.
    pub fn entity_current(&self, e: i64) -> Result<Vec<(Arc<str>, Value)>, String> {
        let mut p = Vec::new();
        keys::put_e(&mut p, e);
        let mut out = Vec::new();
        let mut spans = Vec::new();
        self.scan(Order::Eavt, &p, |s| {
            if s.rt.is_none() {
                spans.push(s);
            }
            Ok(true)
        })?;
        for s in spans {
            out.push((self.inner.attr_name(self.txn, s.a)?, s.v));
        }
        Ok(out)
    }

    /// The statistics of attribute `a` (zero for an unknown attribute).
    pub fn stats(&self, aid: u32) -> Result<Stats, String> {
        match self
            .inner
            .t
            .stats
            .get(self.txn, &aid.to_be_bytes())
            .map_err(mdb_msg)?
        {
            Some(b) => Stats::decode(b),
            None => Ok(Stats::default()),
        }
    }

    /// Every attribute id and name, in id order.
    pub fn all_attrs(&self) -> Result<Vec<(u32, Arc<str>)>, String> {
        let mut out = Vec::new();
        let it = self.inner.t.attr_names.iter(self.txn).map_err(mdb_msg)?;
        for kv in it {
            let (k, v) = kv.map_err(mdb_msg)?;
            if k.len() != 4 {
                return Err("a damaged attribute table".into());
            }
            let name = std::str::from_utf8(v).map_err(|_| "a damaged attribute name")?;
            out.push((keys::get_u32(k), Arc::from(name)));
        }
        Ok(out)
    }
}

/// Per-attribute statistics of the current datoms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Current datoms of the attribute.
    pub datoms: u64,
    /// Distinct entities holding a current value.
    pub entities: u64,
    /// Distinct current values.
    pub values: u64,
}

impl Stats {
    pub(crate) fn encode(&self) -> [u8; 24] {
        let mut out = [0; 24];
        out[..8].copy_from_slice(&self.datoms.to_be_bytes());
        out[8..16].copy_from_slice(&self.entities.to_be_bytes());
        out[16..].copy_from_slice(&self.values.to_be_bytes());
        out
    }

    fn decode(b: &[u8]) -> Result<Stats, String> {
        if b.len() != 24 {
            return Err("a damaged statistics record".into());
        }
        let n = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8"));
        Ok(Stats {
            datoms: n(0),
            entities: n(8),
            values: n(16),
        })
    }
}

/// One commit read back from the log.
pub(crate) struct LogCommit {
    /// The local `t` the commit's facts were written at.
    pub t: u64,
    pub cid: Cid,
    /// The `t` its block records (the author's; equal to `t` for a local commit).
    pub author_t: u64,
    pub parents: Vec<Cid>,
    pub facts: Vec<Fact>,
    /// Per fact, whether it was held already when the commit arrived (its first commit is
    /// another one).
    pub present: Vec<bool>,
}

/// The commits of a format-1 index (`t`, CID, previous CID, facts `[e aid added v causes]`)
/// as facts without global ids, with their old CIDs.
pub(crate) fn read_v1_log(r: &Reader) -> Result<Vec<super::log::ReplayCommit>, String> {
    let mut out = Vec::new();
    let it = r.inner.t.log.iter(r.txn).map_err(mdb_msg)?;
    for kv in it {
        let (k, raw) = kv.map_err(mdb_msg)?;
        let seq = u64::from_be_bytes(k.try_into().map_err(|_| "a damaged log key")?);
        let mut c = Cursor { b: raw, pos: 0 };
        let t = c.u64()?;
        c.cid()?;
        c.cid()?;
        let n = c.u32()? as usize;
        let mut facts = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            let e = c.e()?;
            let aid = c.u32()?;
            let added = match c.u8()? {
                0 => false,
                1 => true,
                _ => return Err(format!("commit {seq}: a damaged fact record")),
            };
            let v = r.value(c.value()?)?;
            let causes = get_cids(&mut c)?;
            let a = r.inner.attr_name(r.txn, aid)?.to_string();
            let cid = super::log::legacy_cid(e, &a, &v, added, &causes)?;
            facts.push(super::log::LegacyFact {
                e,
                a,
                v,
                added,
                causes,
                cid,
            });
        }
        if !c.done() {
            return Err(format!("commit {seq}: trailing bytes in its record"));
        }
        out.push(super::log::ReplayCommit {
            t,
            facts,
            offset: seq,
        });
    }
    Ok(out)
}

/// The parents a commit's log record names, read without its facts.
pub(crate) fn read_parents(raw: &[u8]) -> Result<Vec<Cid>, String> {
    let mut c = Cursor { b: raw, pos: 0 };
    c.u64()?;
    c.cid()?;
    c.u64()?;
    get_cids(&mut c)
}

/// Reads the commit at position `seq` of the log, recomputing every fact's CID and the
/// commit's; a record that does not hash to its recorded CID is damage.
pub(crate) fn read_commit(r: &Reader, seq: u64, raw: &[u8]) -> Result<LogCommit, String> {
    let mut c = Cursor { b: raw, pos: 0 };
    let t = c.u64()?;
    let cid = c.cid()?.ok_or("a commit record without its CID")?;
    let author_t = c.u64()?;
    let parents = get_cids(&mut c)?;
    let n = c.u32()? as usize;
    let tx = TX0 + t as i64;
    let mut facts = Vec::with_capacity(n.min(1 << 20));
    let mut present = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let e = c.e()?;
        let aid = c.u32()?;
        let flags = c.u8()?;
        if flags > 7 {
            return Err("a damaged fact record".into());
        }
        let v = c.value()?;
        let v = r.value(v)?;
        let causes = get_cids(&mut c)?;
        let a = r.inner.attr_name(r.txn, aid)?;
        let ids = r.ids(e, &v, flags & 2 != 0)?;
        facts.push(Fact::new(e, &*a, v, flags & 1 != 0, causes, tx, ids)?);
        present.push(flags & 4 != 0);
    }
    if !c.done() {
        return Err(format!("commit {seq}: trailing bytes in its record"));
    }
    let got = super::log::commit_block(author_t, &facts, &parents).0;
    if got != cid {
        return Err(format!(
            "commit {seq} (t {t}) does not match its CID {cid}: the log is damaged"
        ));
    }
    Ok(LogCommit {
        t,
        cid,
        author_t,
        parents,
        facts,
        present,
    })
}

#[cfg(test)]
mod upgrade_tests {
    use super::*;
    use crate::store::Store;

    /// Writes a format-1 index by hand: two commits (an assertion, then a card-one overwrite:
    /// its retraction caused by the assertion's old CID, and the new value), as the format
    /// before global ids kept them.
    fn write_v1(dir: &Path) {
        let inner = Inner::open(dir, false).unwrap();
        let mut w = inner.env.write_txn().unwrap();
        inner.t.meta.put(&mut w, b"format", FORMAT_1).unwrap();
        inner.t.meta.delete(&mut w, b"replica").unwrap();
        let mut meta = Meta::default();
        let aid = inner.intern(&mut w, &mut meta, "person/city").unwrap();
        let old = |v: &str, added: bool, causes: &[Cid]| {
            super::super::log::legacy_cid(7, "person/city", &Value::Str(v.into()), added, causes)
                .unwrap()
        };
        let moscow = old("Moscow", true, &[]);
        let record = |t: u64, facts: &[(&str, bool, Vec<Cid>)]| {
            let mut r = Vec::new();
            r.extend_from_slice(&t.to_be_bytes());
            put_cid(&mut r, Some(&moscow)); // the commit's CID (not checked by the upgrade)
            put_cid(&mut r, None);
            r.extend_from_slice(&(facts.len() as u32).to_be_bytes());
            for (v, added, causes) in facts {
                keys::put_e(&mut r, 7);
                keys::put_u32(&mut r, aid);
                r.push(*added as u8);
                keys::put_value(&mut r, &Value::Str((*v).into())).unwrap();
                put_cids(&mut r, causes);
            }
            r
        };
        let c0 = record(1, &[("Moscow", true, vec![])]);
        let c1 = record(
            2,
            &[
                ("Moscow", false, vec![moscow]),
                ("Paris", true, vec![moscow]),
            ],
        );
        inner.t.log.put(&mut w, &0u64.to_be_bytes(), &c0).unwrap();
        inner.t.log.put(&mut w, &1u64.to_be_bytes(), &c1).unwrap();
        w.commit().unwrap();
        Arc::try_unwrap(inner).ok().unwrap().close();
    }

    #[test]
    fn a_format_1_index_is_upgraded_with_its_history_and_causes() {
        let dir = tempfile::tempdir().unwrap();
        write_v1(dir.path());
        let (st, warnings) = Store::open(dir.path()).unwrap();
        assert!(warnings[0].contains("upgraded"), "{warnings:?}");
        let facts: Vec<Fact> = st.facts().collect();
        assert_eq!(facts.len(), 3);
        // The retraction and the new value follow the assertion's new CID.
        assert!(facts[1].causes == vec![facts[0].cid] && facts[2].causes == vec![facts[0].cid]);
        let db = st.db();
        let now: Vec<Value> = db
            .datoms_eavt(Some(7), Some("person/city"), None)
            .into_iter()
            .map(|d| d.v)
            .collect();
        assert_eq!(now, vec![Value::Str("Paris".into())]);
        assert_eq!(db.history().datoms().len(), 3);
        assert!(db.global_id(7).is_some());
        assert!(st.verify().is_ok());
        drop((st, db));
        // Upgraded once: the next open has nothing to do.
        let (_, warnings) = Store::open(dir.path()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!dir.path().join("upgrade.tmp").exists());
    }
}
