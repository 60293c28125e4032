//! The immutable database value [`Db`]: a read transaction of the persistent indexes with a
//! view (current, as-of, since, history).
//!
//! A `Db` holds one LMDB read transaction, shared by its clones, so it is a true snapshot:
//! commits made after it was taken, by this process or another, are invisible to it, and it
//! never sees half a transaction. Nothing is read at creation; every lookup reads the index
//! range it needs. Keep database values short-lived in long-running programs: an open read
//! transaction keeps the pages it sees from being reused.

use super::disk::{Inner, Order, Reader, Span, Stats};
use super::{Datom, Schema, TX0, Unique, keys};
use heed::{RoTxn, WithoutTls};
use pomo_types::Value;
use std::sync::{Arc, Mutex};

/// Converts a time point to a `t`: values at or above `TX0` are transaction ids.
fn to_t(tx_or_t: i64) -> i64 {
    if tx_or_t >= TX0 {
        tx_or_t - TX0
    } else {
        tx_or_t
    }
}

/// A read transaction shared by a database value and its clones (LMDB read transactions may
/// move between threads but not be used by two at once, hence the lock).
pub(crate) struct Snapshot {
    pub inner: Arc<Inner>,
    txn: Mutex<RoTxn<'static, WithoutTls>>,
    /// The number of commits the snapshot sees.
    pub commits: u64,
}

impl Snapshot {
    pub fn new(inner: Arc<Inner>, txn: RoTxn<'static, WithoutTls>, commits: u64) -> Snapshot {
        Snapshot {
            inner,
            txn: Mutex::new(txn),
            commits,
        }
    }

    /// Runs `f` with a reader of the snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&Reader) -> T) -> T {
        let txn = self.txn.lock().unwrap_or_else(|e| e.into_inner());
        f(&Reader {
            inner: &self.inner,
            txn: &txn,
        })
    }
}

/// An immutable database value with a view: the current state, or as-of / since / history in
/// any combination (the bounds are independent settings, so the order of steps is irrelevant).
#[derive(Clone)]
pub struct Db {
    snap: Arc<Snapshot>,
    as_of: Option<i64>,
    since: Option<i64>,
    history: bool,
    schema: Arc<Schema>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("basis", &self.snap.commits)
            .field("as_of", &self.as_of)
            .field("since", &self.since)
            .field("history", &self.history)
            .finish()
    }
}

/// A database read that failed: the index is damaged or unreadable. Reads report it through
/// [`Db::try_datoms`]; the infallible accessors treat it as a broken invariant.
fn broken(e: String) -> ! {
    panic!("the store's index could not be read: {e}")
}

impl Db {
    pub(crate) fn new(snap: Arc<Snapshot>, schema: Arc<Schema>) -> Db {
        Db {
            snap,
            as_of: None,
            since: None,
            history: false,
            schema,
        }
    }

    /// The database as of `t` (or tx id), inclusive. A second as-of keeps the earlier bound.
    pub fn as_of(&self, tx_or_t: i64) -> Db {
        let t = to_t(tx_or_t);
        Db {
            as_of: Some(self.as_of.map_or(t, |a| a.min(t))),
            ..self.clone()
        }
    }

    /// The datoms of this view asserted after `t` (or tx id), exclusive: a filter of the
    /// present (or as-of) state, not a diff. A second since keeps the later bound.
    pub fn since(&self, tx_or_t: i64) -> Db {
        let t = to_t(tx_or_t);
        Db {
            since: Some(self.since.map_or(t, |s| s.max(t))),
            ..self.clone()
        }
    }

    /// Every assertion and retraction (within the as-of / since bounds), with its `added` flag.
    pub fn history(&self) -> Db {
        Db {
            history: true,
            ..self.clone()
        }
    }

    /// What identifies this database value's contents: the store, the basis and the view's
    /// bounds. Two values with equal keys show the same datoms (caches of derived data use it).
    pub fn cache_key(&self) -> (usize, u64, Option<i64>, Option<i64>, bool) {
        (
            Arc::as_ptr(&self.snap.inner) as usize,
            self.snap.commits,
            self.as_of,
            self.since,
            self.history,
        )
    }

    /// The number of commits this value sees.
    pub fn basis(&self) -> u64 {
        self.snap.commits
    }

    pub fn is_history(&self) -> bool {
        self.history
    }

    /// The as-of bound as a `t`, if any.
    pub fn as_of_t(&self) -> Option<i64> {
        self.as_of
    }

    /// The since bound as a `t`, if any.
    pub fn since_t(&self) -> Option<i64> {
        self.since
    }

    /// The schema of the store when this value was taken.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    fn happened(&self, t: u32) -> bool {
        self.as_of.is_none_or(|a| (t as i64) <= a)
    }

    fn after_since(&self, t: u32) -> bool {
        self.since.is_none_or(|s| (t as i64) > s)
    }

    /// Calls `f(e, v, tx, added)` for each datom of one span that this view shows.
    fn visit(&self, s: Span, f: &mut impl FnMut(i64, Value, i64, bool)) {
        if !self.happened(s.at) {
            return;
        }
        let retracted = s.rt.filter(|&t| self.happened(t));
        let at = TX0 + s.at as i64;
        if self.history {
            // A span a merge superseded has no retraction fact to show.
            let retract = retracted.filter(|&rt| self.after_since(rt) && !s.superseded);
            match (self.after_since(s.at), retract) {
                (true, Some(rt)) => {
                    f(s.e, s.v.clone(), at, true);
                    f(s.e, s.v, TX0 + rt as i64, false);
                }
                (true, None) => f(s.e, s.v, at, true),
                (false, Some(rt)) => f(s.e, s.v, TX0 + rt as i64, false),
                (false, None) => {}
            }
        } else if retracted.is_none() && self.after_since(s.at) {
            f(s.e, s.v, at, true);
        }
    }

    /// Calls `f(e, v, tx, added)` for every datom of attribute `a` this view shows, in AEVT
    /// order, without building datoms (the JIT's columnar views of attributes).
    pub fn for_each_of_attr(
        &self,
        a: &str,
        mut f: impl FnMut(i64, Value, i64, bool),
    ) -> Result<(), String> {
        self.snap.read(|r| {
            self.scan(r, None, Some(a), None, |s, _| {
                self.visit(s, &mut f);
                Ok(())
            })
        })
    }

    /// Every visible datom (in a history view both assertions and retractions), in EAVT order.
    pub fn datoms(&self) -> Vec<Datom> {
        self.datoms_eavt(None, None, None)
    }

    /// The visible datoms matching the bound positions, read from the index that fits them:
    /// EAVT when `e` is bound, AVET for `a v`, AEVT for `a`, VAET for a reference `v` alone
    /// (EAVT otherwise).
    pub fn datoms_eavt(&self, e: Option<i64>, a: Option<&str>, v: Option<&Value>) -> Vec<Datom> {
        self.try_datoms(e, a, v).unwrap_or_else(|m| broken(m))
    }

    /// [`Db::datoms_eavt`], reporting a damaged index as an error.
    pub fn try_datoms(
        &self,
        e: Option<i64>,
        a: Option<&str>,
        v: Option<&Value>,
    ) -> Result<Vec<Datom>, String> {
        self.snap.read(|r| {
            let mut out = Vec::new();
            self.scan(r, e, a, v, |s, name| {
                self.visit(s, &mut |e, v, tx, added| {
                    out.push(Datom {
                        e,
                        a: name.to_string(),
                        v,
                        tx,
                        added,
                    })
                });
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// Calls `f` with every span (and its attribute's name) that matches the bound positions.
    fn scan(
        &self,
        r: &Reader,
        e: Option<i64>,
        a: Option<&str>,
        v: Option<&Value>,
        mut f: impl FnMut(Span, &Arc<str>) -> Result<(), String>,
    ) -> Result<(), String> {
        let aid = match a {
            Some(a) => match r.inner.aid(r.txn, a)? {
                Some(id) => Some(id),
                None => return Ok(()),
            },
            None => None,
        };
        let vkey = match v {
            Some(v) => match keys::value_key(v) {
                Ok(k) => Some(k),
                Err(_) => return Ok(()), // a value the store cannot hold matches nothing
            },
            None => None,
        };
        let mut prefix = Vec::with_capacity(32);
        let (order, exact_v) = match (e, aid, &vkey) {
            (Some(e), aid, vk) => {
                keys::put_e(&mut prefix, e);
                if let Some(aid) = aid {
                    keys::put_u32(&mut prefix, aid);
                    if let Some(vk) = vk {
                        prefix.extend_from_slice(vk);
                    }
                    (Order::Eavt, false)
                } else {
                    (Order::Eavt, vk.is_some())
                }
            }
            (None, Some(aid), Some(vk)) => {
                keys::put_u32(&mut prefix, aid);
                prefix.extend_from_slice(vk);
                (Order::Avet, false)
            }
            (None, Some(aid), None) => {
                keys::put_u32(&mut prefix, aid);
                (Order::Aevt, false)
            }
            (None, None, Some(_)) => (Order::Eavt, true),
            (None, None, None) => (Order::Eavt, false),
        };
        let mut name: Option<(u32, Arc<str>)> = None;
        let mut res = Ok(());
        r.scan(order, &prefix, |s| {
            // A value in the prefix matches exactly (value keys are self-delimiting); a value
            // that the prefix could not hold is tested here.
            if exact_v && Some(&s.v) != v {
                return Ok(true);
            }
            let n = match &name {
                Some((id, n)) if *id == s.a => n.clone(),
                _ => {
                    let n = r.inner.attr_name(r.txn, s.a)?;
                    name = Some((s.a, n.clone()));
                    n
                }
            };
            if let Err(m) = f(s, &n) {
                res = Err(m);
                return Ok(false);
            }
            Ok(true)
        })?;
        res
    }

    /// The current (visible, asserted) attribute values of an entity, in attribute then value
    /// order, for pull.
    pub fn entity_attrs(&self, e: i64) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = self
            .datoms_eavt(Some(e), None, None)
            .into_iter()
            .filter(|d| d.added)
            .map(|d| (d.a, d.v))
            .collect();
        out.sort();
        out
    }

    /// The entities whose attribute `a` refers to `target` (VAET), for reverse pull.
    pub fn reverse_refs(&self, a: &str, target: i64) -> Vec<i64> {
        let mut es: Vec<i64> = self
            .datoms_eavt(None, Some(a), Some(&Value::Int(target)))
            .into_iter()
            .filter(|d| d.added)
            .map(|d| d.e)
            .collect();
        es.dedup();
        es
    }

    /// The entity named by the lookup ref `[a v]`: `a` must be a unique attribute.
    pub fn resolve_lookup_ref(&self, a: &str, v: &Value) -> Option<i64> {
        self.schema.attrs.get(a)?.unique?;
        self.datoms_eavt(None, Some(a), Some(v))
            .into_iter()
            .find(|d| d.added)
            .map(|d| d.e)
    }

    /// The CID (text form) of the fact behind a datom: its assertion, or for a history datom
    /// with `added` false, its retraction.
    pub fn fact_cid(&self, d: &Datom) -> Option<String> {
        self.snap
            .read(|r| {
                let aid = r.inner.aid(r.txn, &d.a).ok()??;
                let spans = r.spans_of(d.e, aid, &d.v).ok()?;
                spans.into_iter().find_map(|(at, s)| {
                    if d.added && TX0 + at as i64 == d.tx {
                        r.assertion(d.e, &d.a, &d.v, at, &s).ok().map(|f| f.cid)
                    } else if !d.added && s.rt.is_some_and(|rt| TX0 + rt as i64 == d.tx) {
                        r.retraction(d.e, &d.a, &d.v, at, &s).ok()?.map(|f| f.cid)
                    } else {
                        None
                    }
                })
            })
            .map(|c| c.to_string())
    }

    /// The causal graph of the facts in this value's time bounds (every fact committed at a
    /// `t` within as-of and since, whatever the history flag): `(fact, cause)` CID pairs.
    pub fn try_causes(&self) -> Result<Vec<(String, String)>, String> {
        let (as_of, since) = (self.as_of, self.since);
        self.snap.read(|r| {
            let mut out = Vec::new();
            for seq in 0..self.snap.commits {
                let c = super::disk::read_commit(r, seq, r.log_record(seq)?)?;
                let t = c.t as i64;
                if as_of.is_some_and(|a| t > a) || since.is_some_and(|s| t <= s) {
                    continue;
                }
                for (f, present) in c.facts.iter().zip(&c.present) {
                    if *present {
                        continue;
                    }
                    let fc = f.cid.to_string();
                    out.extend(f.causes.iter().map(|c| (fc.clone(), c.to_string())));
                }
            }
            Ok(out)
        })
    }

    /// The global id of local entity `e` (None for a number no fact has named).
    pub fn global_id(&self, e: i64) -> Option<super::Gid> {
        self.snap.read(|r| r.gid(e).ok().flatten())
    }

    /// The local number of the entity with global id `g`, if this store knows it.
    pub fn entity_of(&self, g: &super::Gid) -> Option<i64> {
        self.snap.read(|r| r.eid(g).ok().flatten())
    }

    /// The losing concurrent values of a cardinality-one `(e, a)` that merges left (the
    /// current value is the winner), with their assertions' CIDs; empty without a conflict.
    pub fn conflicts(&self, e: i64, a: &str) -> Vec<(Value, String)> {
        self.snap
            .read(|r| r.conflicts(e, a))
            .unwrap_or_default()
            .into_iter()
            .map(|(v, c)| (v, c.to_string()))
            .collect()
    }

    /// Whether `a` is a unique attribute of this value's schema (and which kind).
    pub fn unique(&self, a: &str) -> Option<Unique> {
        self.schema.attrs.get(a).and_then(|s| s.unique)
    }

    /// The statistics of attribute `a` as of this value's basis (the current datoms; the
    /// view's bounds do not apply). Zero for an attribute the store never saw.
    pub fn stats(&self, a: &str) -> Stats {
        self.snap.read(|r| match r.inner.aid(r.txn, a) {
            Ok(Some(aid)) => r.stats(aid).unwrap_or_default(),
            _ => Stats::default(),
        })
    }

    /// Every attribute the store has seen, with its statistics, in name order.
    pub fn all_stats(&self) -> Vec<(String, Stats)> {
        let mut out: Vec<(String, Stats)> = self.snap.read(|r| {
            r.all_attrs()
                .unwrap_or_default()
                .into_iter()
                .map(|(id, n)| (n.to_string(), r.stats(id).unwrap_or_default()))
                .collect()
        });
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
