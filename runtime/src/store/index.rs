//! The covered indexes (EAVT, AEVT, AVET, VAET) and the immutable database value [`Db`].
//!
//! Every assertion opens a *span*: the datom `[e a v]`, the commit and `t` of the assertion, and
//! (once it happens) the commit and `t` of the retraction that closes it. The four indexes are
//! ordered sets of keys that end in the span number, so one range scan serves a lookup with any
//! combination of bound positions, and a view (current, as-of, since, history) is only a filter
//! on spans. Indexes only grow: a transaction appends spans and closes open ones, and because a
//! [`Db`] remembers how many commits it saw (its basis), later transactions are invisible to it.
//! That is what makes a `Db` an immutable snapshot that is cheap to clone: it shares the indexes
//! (behind an `RwLock`, written only by the store's single writer) and carries its view bounds.
//! Everything here is derived from the fact log and can be rebuilt from it by replay.

use super::{Datom, Fact, IDENT0, Schema, TX0, Unique};
use cid::Cid;
use pomo_types::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, RwLock};

/// One assertion and, if it happened, its retraction.
#[derive(Clone, Debug)]
pub(crate) struct Span {
    pub e: i64,
    pub a: Arc<str>,
    pub v: Value,
    /// The commit (0-based position in the log) and `t` of the assertion, and its fact's CID.
    pub a_seq: u32,
    pub a_t: u64,
    pub a_cid: Cid,
    /// The commit, `t` and CID of the retraction that closed the span.
    pub r: Option<(u32, u64, Cid)>,
}

/// The indexes of one store, shared by the store and all its database values.
#[derive(Default)]
pub(crate) struct Indexes {
    pub spans: Vec<Span>,
    eavt: BTreeSet<(i64, Arc<str>, Value, u32)>,
    aevt: BTreeSet<(Arc<str>, i64, Value, u32)>,
    avet: BTreeSet<(Arc<str>, Value, i64, u32)>,
    vaet: BTreeSet<(Value, Arc<str>, i64, u32)>,
    /// The present state: entity → attribute → value → open span. Transactions read it to
    /// find current values (card-one replacement, retractions, retractEntity) in O(log n).
    pub current: HashMap<i64, BTreeMap<Arc<str>, BTreeMap<Value, u32>>>,
    /// Attribute names, interned so that index keys share one allocation per attribute.
    attrs: HashSet<Arc<str>>,
    /// The largest user entity id ever asserted (`0 < e < TX0`); new ids are allocated above it.
    pub max_eid: i64,
    /// The largest `:db/ident` entity id ever asserted (at least `IDENT0 - 1`).
    pub max_ident: i64,
    commits: u32,
    /// Set when a commit touched a `:db/…` schema attribute, so the store rebuilds its schema.
    pub schema_dirty: bool,
}

impl Indexes {
    /// The number of commits applied (the basis of a new database value).
    pub fn commits(&self) -> u32 {
        self.commits
    }

    /// The interned name of `a`, if any datom ever had that attribute.
    pub fn attr(&self, a: &str) -> Option<Arc<str>> {
        self.attrs.get(a).cloned()
    }

    fn intern(&mut self, a: &str) -> Arc<str> {
        if let Some(x) = self.attrs.get(a) {
            return x.clone();
        }
        let x: Arc<str> = Arc::from(a);
        self.attrs.insert(x.clone());
        x
    }

    /// The current values of `(e, a)` with their open spans.
    pub fn values(&self, e: i64, a: &str) -> Option<&BTreeMap<Value, u32>> {
        self.current.get(&e)?.get(a)
    }

    /// The entities whose current value of `a` is `v` (AVET).
    pub fn holders(&self, a: &str, v: &Value) -> Vec<i64> {
        let Some(a) = self.attr(a) else {
            return Vec::new();
        };
        self.avet
            .range((a.clone(), v.clone(), i64::MIN, 0)..=(a, v.clone(), i64::MAX, u32::MAX))
            .filter(|k| self.spans[k.3 as usize].r.is_none())
            .map(|k| k.2)
            .collect()
    }

    /// The entities that currently have some value of `a` (AEVT).
    pub fn entities_with(&self, a: &str) -> Vec<i64> {
        let Some(a) = self.attr(a) else {
            return Vec::new();
        };
        let mut es: Vec<i64> = self
            .aevt
            .range((a.clone(), i64::MIN, Value::Nil, 0)..)
            .take_while(|k| k.0 == a)
            .filter(|k| self.spans[k.3 as usize].r.is_none())
            .map(|k| k.1)
            .collect();
        es.dedup();
        es
    }

    /// The current datoms `[e a target]` whose value is `target` (VAET): incoming references.
    pub fn refs_to(&self, target: &Value) -> Vec<(i64, Arc<str>)> {
        self.vaet
            .range((target.clone(), Arc::from(""), i64::MIN, 0)..)
            .take_while(|k| &k.0 == target)
            .filter(|k| self.spans[k.3 as usize].r.is_none())
            .map(|k| (k.2, k.1.clone()))
            .collect()
    }

    /// The CID of the latest retraction of `[e a v]`, if the datom was ever retracted (the
    /// cause of a re-assertion, so that it is a new fact and not a copy of the first one).
    pub fn last_retraction(&self, e: i64, a: &str, v: &Value) -> Option<Cid> {
        let a = self.attr(a)?;
        self.eavt
            .range((e, a.clone(), v.clone(), 0)..=(e, a, v.clone(), u32::MAX))
            .filter_map(|k| self.spans[k.3 as usize].r.map(|(_, _, c)| c))
            .next_back()
    }

    /// Applies the facts of one commit, in order: an assertion opens a span, a retraction
    /// closes the open span of its datom. Fails (leaving earlier facts applied) on a fact that
    /// contradicts the present state, which only a damaged log can contain.
    pub fn apply(&mut self, t: u64, facts: &[Fact]) -> Result<(), String> {
        let seq = self.commits;
        for f in facts {
            let a = self.intern(&f.a);
            if f.a.starts_with("db/") && f.a != "db/txInstant" {
                self.schema_dirty = true;
            }
            if f.added {
                let slot = self
                    .current
                    .entry(f.e)
                    .or_default()
                    .entry(a.clone())
                    .or_default();
                if slot.contains_key(&f.v) {
                    return Err(format!("fact {} asserts a current datom", f.cid));
                }
                let n = self.spans.len() as u32;
                slot.insert(f.v.clone(), n);
                self.eavt.insert((f.e, a.clone(), f.v.clone(), n));
                self.aevt.insert((a.clone(), f.e, f.v.clone(), n));
                self.avet.insert((a.clone(), f.v.clone(), f.e, n));
                self.vaet.insert((f.v.clone(), a.clone(), f.e, n));
                self.spans.push(Span {
                    e: f.e,
                    a,
                    v: f.v.clone(),
                    a_seq: seq,
                    a_t: t,
                    a_cid: f.cid,
                    r: None,
                });
                if f.e > 0 && f.e < TX0 {
                    self.max_eid = self.max_eid.max(f.e);
                } else if f.e >= IDENT0 {
                    self.max_ident = self.max_ident.max(f.e);
                }
            } else {
                let n = self
                    .current
                    .get_mut(&f.e)
                    .and_then(|m| m.get_mut(&a))
                    .and_then(|slot| slot.remove(&f.v))
                    .ok_or_else(|| {
                        format!("fact {} retracts a datom that is not current", f.cid)
                    })?;
                self.spans[n as usize].r = Some((seq, t, f.cid));
                let m = self.current.get_mut(&f.e).expect("checked above");
                if m.get(&a).is_some_and(|s| s.is_empty()) {
                    m.remove(&a);
                }
                if m.is_empty() {
                    self.current.remove(&f.e);
                }
            }
        }
        self.commits += 1;
        Ok(())
    }
}

/// Converts a time point to a `t`: values at or above `TX0` are transaction ids.
fn to_t(tx_or_t: i64) -> i64 {
    if tx_or_t >= TX0 {
        tx_or_t - TX0
    } else {
        tx_or_t
    }
}

/// An immutable database value with a view: the current state, or as-of / since / history in
/// any combination (the bounds are independent settings, so the order of steps is irrelevant).
#[derive(Clone)]
pub struct Db {
    shared: Arc<RwLock<Indexes>>,
    /// The number of commits this value sees; later commits are invisible.
    basis: u32,
    as_of: Option<i64>,
    since: Option<i64>,
    history: bool,
    schema: Arc<Schema>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("basis", &self.basis)
            .field("as_of", &self.as_of)
            .field("since", &self.since)
            .field("history", &self.history)
            .finish()
    }
}

impl Db {
    pub(crate) fn new(shared: Arc<RwLock<Indexes>>, basis: u32, schema: Arc<Schema>) -> Db {
        Db {
            shared,
            basis,
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
    pub fn cache_key(&self) -> (usize, u32, Option<i64>, Option<i64>, bool) {
        (
            Arc::as_ptr(&self.shared) as usize,
            self.basis,
            self.as_of,
            self.since,
            self.history,
        )
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

    /// Whether a fact of commit `seq` at `t` is inside the basis and the as-of bound.
    fn happened(&self, seq: u32, t: u64) -> bool {
        seq < self.basis && self.as_of.is_none_or(|a| (t as i64) <= a)
    }

    fn after_since(&self, t: u64) -> bool {
        self.since.is_none_or(|s| (t as i64) > s)
    }

    /// Pushes the datoms of one span that this view shows.
    fn emit(&self, s: &Span, out: &mut Vec<Datom>) {
        if !self.happened(s.a_seq, s.a_t) {
            return;
        }
        let retracted = s.r.filter(|(seq, t, _)| self.happened(*seq, *t));
        let datom = |t: u64, added| Datom {
            e: s.e,
            a: s.a.to_string(),
            v: s.v.clone(),
            tx: TX0 + t as i64,
            added,
        };
        if self.history {
            if self.after_since(s.a_t) {
                out.push(datom(s.a_t, true));
            }
            if let Some((_, rt, _)) = retracted
                && self.after_since(rt)
            {
                out.push(datom(rt, false));
            }
        } else if retracted.is_none() && self.after_since(s.a_t) {
            out.push(datom(s.a_t, true));
        }
    }

    /// Every visible datom (in a history view both assertions and retractions), in EAVT order.
    pub fn datoms(&self) -> Vec<Datom> {
        self.datoms_eavt(None, None, None)
    }

    /// The visible datoms matching the bound positions, read from the index that fits them:
    /// EAVT when `e` is bound, AVET for `a v`, AEVT for `a`, VAET for `v` alone.
    pub fn datoms_eavt(&self, e: Option<i64>, a: Option<&str>, v: Option<&Value>) -> Vec<Datom> {
        let ix = self.shared.read().expect("store lock poisoned");
        let a = match a {
            Some(a) => match ix.attr(a) {
                Some(a) => Some(a),
                None => return Vec::new(),
            },
            None => None,
        };
        let spans: Vec<u32> = match (e, a, v) {
            (Some(e), Some(a), Some(v)) => ix
                .eavt
                .range((e, a.clone(), v.clone(), 0)..=(e, a, v.clone(), u32::MAX))
                .map(|k| k.3)
                .collect(),
            (Some(e), Some(a), None) => ix
                .eavt
                .range((e, a.clone(), Value::Nil, 0)..)
                .take_while(|k| k.0 == e && k.1 == a)
                .map(|k| k.3)
                .collect(),
            (Some(e), None, v) => ix
                .eavt
                .range((e, Arc::from(""), Value::Nil, 0)..)
                .take_while(|k| k.0 == e)
                .filter(|k| v.is_none_or(|v| &k.2 == v))
                .map(|k| k.3)
                .collect(),
            (None, Some(a), Some(v)) => ix
                .avet
                .range((a.clone(), v.clone(), i64::MIN, 0)..=(a, v.clone(), i64::MAX, u32::MAX))
                .map(|k| k.3)
                .collect(),
            (None, Some(a), None) => ix
                .aevt
                .range((a.clone(), i64::MIN, Value::Nil, 0)..)
                .take_while(|k| k.0 == a)
                .map(|k| k.3)
                .collect(),
            (None, None, Some(v)) => ix
                .vaet
                .range((v.clone(), Arc::from(""), i64::MIN, 0)..)
                .take_while(|k| &k.0 == v)
                .map(|k| k.3)
                .collect(),
            (None, None, None) => ix.eavt.iter().map(|k| k.3).collect(),
        };
        let mut out = Vec::with_capacity(spans.len());
        for n in spans {
            self.emit(&ix.spans[n as usize], &mut out);
        }
        out
    }

    /// The current (visible, asserted) attribute values of an entity, in attribute then value
    /// order, for pull.
    pub fn entity_attrs(&self, e: i64) -> Vec<(String, Value)> {
        self.datoms_eavt(Some(e), None, None)
            .into_iter()
            .filter(|d| d.added)
            .map(|d| (d.a, d.v))
            .collect()
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
        let ix = self.shared.read().expect("store lock poisoned");
        let a = ix.attr(&d.a)?;
        ix.eavt
            .range((d.e, a.clone(), d.v.clone(), 0)..=(d.e, a, d.v.clone(), u32::MAX))
            .map(|k| &ix.spans[k.3 as usize])
            .find_map(|s| {
                if d.added && TX0 + s.a_t as i64 == d.tx && s.a_seq < self.basis {
                    Some(s.a_cid)
                } else if !d.added {
                    s.r.filter(|(seq, t, _)| TX0 + *t as i64 == d.tx && *seq < self.basis)
                        .map(|(_, _, c)| c)
                } else {
                    None
                }
            })
            .map(|c| c.to_string())
    }

    /// Whether `a` is a unique attribute of this value's schema (and which kind).
    pub fn unique(&self, a: &str) -> Option<Unique> {
        self.schema.attrs.get(a).and_then(|s| s.unique)
    }
}
