//! Transactions: from tx-data to the facts one transaction appends.
//!
//! A transaction is planned against the database before it and then committed whole or not at
//! all. Planning runs in phases so that every rule has one place:
//!
//! 1. *Expand* tx-data into flat statements (`add`, `retract`, `retractEntity`, …) whose
//!    entities are ids or tempids; entity maps, nested maps, reverse refs, card-many collections
//!    and lookup refs are unfolded here.
//! 2. *Upsert*: a tempid that asserts a unique-identity value (or a unique composite tuple) that
//!    some entity already has becomes that entity; two tempids asserting the same identity value
//!    in one transaction are one entity.
//! 3. *Allocate* the remaining tempids, `max-eid + 1, + 2, …` in order of first appearance
//!    (entities that define a `:db/ident` are numbered from `IDENT0` instead).
//! 4. *Apply* the statements in order to an overlay of the touched `(e, a)` value sets
//!    (DataScript semantics: within a transaction the last assertion of a card-one attribute
//!    wins), then recompute composite tuple attributes.
//! 5. *Diff* each touched value set against the database before: a value that was current and
//!    is not is a retraction, one that is and was not is an assertion, anything else is no fact
//!    at all (redundant assertions and assert-then-retract leave nothing). The net facts are then
//!    checked against unique constraints and the schema they define.
//!
//! Invariant: the planned facts, applied in order, never assert a current datom nor retract an
//! absent one, which is what [`super::disk::Writer::commit`] relies on.

use super::disk::Reader;
use super::{
    AttrSchema, EntityMap, EntityRef, Fact, Gid, IDENT0, Ids, Schema, TX0, TxError, TxOp, TxValue,
    Unique,
};
use cid::Cid;
use pomo_types::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// The database before the transaction, as the planner reads it. Reads cannot fail in the
/// middle of planning: the first index error is kept, lookups answer as if empty, and
/// [`plan`] reports the error instead of a plan.
pub(crate) struct Ix<'a> {
    r: &'a Reader<'a>,
    err: RefCell<Option<String>>,
    pub max_eid: i64,
    pub max_ident: i64,
}

impl<'a> Ix<'a> {
    pub fn new(r: &'a Reader<'a>, max_eid: i64, max_ident: i64) -> Ix<'a> {
        Ix {
            r,
            err: RefCell::new(None),
            max_eid,
            max_ident,
        }
    }

    fn ok<T: Default>(&self, x: Result<T, String>) -> T {
        x.unwrap_or_else(|e| {
            self.err.borrow_mut().get_or_insert(e);
            T::default()
        })
    }

    fn holders(&self, a: &str, v: &Value) -> Vec<i64> {
        self.ok(self.r.holders(a, v))
    }

    fn values(&self, e: i64, a: &str) -> Vec<Value> {
        self.ok(self.r.current_values(e, a))
    }

    fn current_cid(&self, e: i64, a: &str, v: &Value) -> Option<Cid> {
        self.ok(self.r.current_cid(e, a, v))
    }

    fn last_retraction(&self, e: i64, a: &str, v: &Value) -> Option<Cid> {
        self.ok(self.r.last_retraction(e, a, v))
    }

    fn refs_to(&self, v: &Value) -> Vec<(i64, Arc<str>)> {
        self.ok(self.r.refs_to(v))
    }

    fn entity_current(&self, e: i64) -> Vec<(Arc<str>, Value)> {
        self.ok(self.r.entity_current(e))
    }

    fn gid(&self, e: i64) -> Option<Gid> {
        self.ok(self.r.gid(e))
    }

    fn holds(&self, cid: &Cid) -> bool {
        self.ok(self.r.fact_at(cid)).is_some()
    }

    fn conflicts(&self, e: i64, a: &str) -> Vec<Cid> {
        let c = self.ok(self.r.conflicts(e, a));
        c.into_iter().map(|(_, cid)| cid).collect()
    }

    fn mint(&self, e: i64) -> Gid {
        self.r.inner.mint(e)
    }
}

/// The outcome of planning: what the commit appends.
pub(crate) struct Plan {
    pub t: u64,
    pub facts: Vec<Fact>,
    pub tempids: BTreeMap<String, i64>,
    /// Global ids minted for entities the store did not know.
    pub new_ids: Vec<(i64, Gid)>,
}

fn syntax(message: impl Into<String>) -> TxError {
    TxError::new("transact/syntax", message)
}

fn bad_spec(message: impl Into<String>) -> TxError {
    TxError::new("schema", message)
}

/// An entity in a statement: a known id or a tempid (an index into the planner's temps).
#[derive(Clone, Copy, Debug)]
enum E {
    Id(i64),
    Temp(usize),
}

/// A value in a statement: plain, or an entity still to be resolved (ref attributes).
#[derive(Clone, Debug)]
enum V {
    Val(Value),
    Ent(E),
}

#[derive(Debug)]
enum Stmt {
    Add(E, Arc<str>, V),
    Retract(E, Arc<str>, Option<V>),
    RetractEntity(E),
    RetractAttr(E, Arc<str>),
    Cas(E, Arc<str>, Option<Value>, V),
}

#[derive(Default)]
struct Temp {
    /// The user's name for it (None for a map without `:db/id`).
    name: Option<String>,
    id: Option<i64>,
    /// Another tempid this one is the same entity as (in-transaction upsert).
    alias: Option<usize>,
    /// Whether it asserts `:db/ident` (numbered from `IDENT0`).
    ident: bool,
}

/// The touched value set of one `(e, a)`.
struct Slot {
    e: i64,
    a: Arc<str>,
    before: Vec<Value>,
    now: BTreeSet<Value>,
}

struct Planner<'a> {
    ix: &'a Ix<'a>,
    schema: &'a Schema,
    tx: i64,
    temps: Vec<Temp>,
    by_name: HashMap<String, usize>,
    stmts: Vec<Stmt>,
    names: HashSet<Arc<str>>,
    slots: Vec<Slot>,
    by_key: HashMap<(i64, Arc<str>), usize>,
    /// Touched slots per entity, so retractEntity sees attributes added in this transaction.
    by_e: HashMap<i64, Vec<usize>>,
    /// Slots that received a ref value in this transaction, per target entity.
    incoming: HashMap<i64, Vec<usize>>,
    /// User causes (`:db/causes` in an entity map) per statement index, and per `[e a v]`
    /// once the statements are applied.
    stmt_causes: HashMap<usize, Arc<Vec<Cid>>>,
    user_causes: HashMap<(i64, Arc<str>, Value), Vec<Cid>>,
    /// Global ids minted in this transaction, and the idents that name new attributes.
    minted: HashMap<i64, Gid>,
    idents: HashMap<i64, String>,
    new_ids: Vec<(i64, Gid)>,
}

/// Plans a transaction at `t` against the current state of `ix`. An index that could not be
/// read fails the transaction (kind `"io"`), whatever the planning concluded from it.
pub(crate) fn plan(
    ix: &Ix,
    schema: &Schema,
    ops: Vec<TxOp>,
    t: u64,
    now_ms: i64,
) -> Result<Plan, TxError> {
    let planned = plan_on(ix, schema, ops, t, now_ms);
    match ix.err.borrow_mut().take() {
        Some(e) => Err(TxError::new("io", format!("reading the store failed: {e}"))),
        None => planned,
    }
}

fn plan_on(ix: &Ix, schema: &Schema, ops: Vec<TxOp>, t: u64, now_ms: i64) -> Result<Plan, TxError> {
    let tx = TX0 + t as i64;
    let mut p = Planner {
        ix,
        schema,
        tx,
        temps: Vec::new(),
        by_name: HashMap::new(),
        stmts: Vec::new(),
        names: HashSet::new(),
        slots: Vec::new(),
        by_key: HashMap::new(),
        by_e: HashMap::new(),
        incoming: HashMap::new(),
        stmt_causes: HashMap::new(),
        user_causes: HashMap::new(),
        minted: HashMap::new(),
        idents: HashMap::new(),
        new_ids: Vec::new(),
    };
    // The transaction entity's instant comes first, so an explicit `:db/txInstant` on the
    // transaction entity later in the tx-data replaces it (last assertion wins).
    let inst = p.name("db/txInstant");
    p.stmts
        .push(Stmt::Add(E::Id(tx), inst, V::Val(Value::Instant(now_ms))));
    for op in ops {
        p.expand(op)?;
    }
    p.upsert()?;
    p.allocate();
    let stmts = std::mem::take(&mut p.stmts);
    for (i, s) in stmts.into_iter().enumerate() {
        if let (Some(causes), Stmt::Add(e, a, v)) = (p.stmt_causes.remove(&i), &s) {
            let key = (p.id(*e), a.clone(), p.value(v.clone()));
            p.user_causes
                .entry(key)
                .or_default()
                .extend(causes.iter().copied());
        }
        p.apply(s)?;
    }
    p.maintain_tuples();
    let facts = p.diff()?;
    p.check_unique(&facts)?;
    p.check_schema(&facts)?;
    let mut tempids = BTreeMap::new();
    for i in 0..p.temps.len() {
        if let (Some(name), Some(id)) = (p.temps[i].name.clone(), p.temps[p.root(i)].id) {
            tempids.insert(name, id);
        }
    }
    Ok(Plan {
        t,
        facts,
        tempids,
        new_ids: p.new_ids,
    })
}

/// `ns/_name` → `ns/name` (and `_name` → `name`): the forward attribute of a reverse ref.
fn reverse_attr(a: &str) -> Option<String> {
    match a.rsplit_once('/') {
        Some((ns, name)) => name.strip_prefix('_').map(|n| format!("{ns}/{n}")),
        None => a.strip_prefix('_').map(str::to_string),
    }
}

/// Whether tx-data `items` is a lookup ref `[:attr value]` rather than a collection.
fn as_lookup_ref(items: &[TxValue]) -> Option<(String, Value)> {
    match items {
        [TxValue::Value(Value::Keyword(a)), TxValue::Value(v)]
            if !matches!(v, Value::Tuple(_) | Value::Set(_) | Value::Map(_)) =>
        {
            Some((a.clone(), v.clone()))
        }
        _ => None,
    }
}

/// A tx value that must be a plain value (no maps or entities), e.g. inside a tuple.
fn plain(v: TxValue) -> Result<Value, TxError> {
    match v {
        TxValue::Value(v) => Ok(v),
        TxValue::Many(items) => Ok(Value::Tuple(
            items.into_iter().map(plain).collect::<Result<_, _>>()?,
        )),
        other => Err(syntax(format!("expected a plain value, found {other:?}"))),
    }
}

impl Planner<'_> {
    fn name(&mut self, a: &str) -> Arc<str> {
        if let Some(x) = self.names.get(a) {
            return x.clone();
        }
        let x: Arc<str> = Arc::from(a);
        self.names.insert(x.clone());
        x
    }

    fn attr_name(&mut self, a: &str) -> Result<Arc<str>, TxError> {
        if a.is_empty() || a.starts_with(':') {
            return Err(syntax(format!(
                "Bad entity attribute {a:?}, expected a keyword"
            )));
        }
        Ok(self.name(a))
    }

    fn temp(&mut self, name: Option<String>) -> E {
        if let Some(n) = &name
            && let Some(&i) = self.by_name.get(n)
        {
            return E::Temp(i);
        }
        let i = self.temps.len();
        if let Some(n) = &name {
            self.by_name.insert(n.clone(), i);
        }
        self.temps.push(Temp {
            name,
            ..Temp::default()
        });
        E::Temp(i)
    }

    fn root(&self, mut i: usize) -> usize {
        while let Some(j) = self.temps[i].alias {
            i = j;
        }
        i
    }

    fn lookup(&self, a: &str, v: &Value) -> Result<i64, TxError> {
        if self.schema.attr(a).unique.is_none() {
            return Err(syntax(format!(
                "Lookup ref attribute should be marked as :db/unique: [:{a} {v}]"
            )));
        }
        self.ix.holders(a, v).first().copied().ok_or_else(|| {
            TxError::new(
                "transact/lookup",
                format!("Nothing found for lookup ref [:{a} {v}]"),
            )
        })
    }

    fn entity(&mut self, r: EntityRef) -> Result<E, TxError> {
        match r {
            EntityRef::Id(n) if n < 0 => Ok(self.temp(Some(n.to_string()))),
            EntityRef::Id(0) => Err(syntax("Expected a positive entity id, got 0")),
            EntityRef::Id(n) => Ok(E::Id(n)),
            EntityRef::TempId(s) if matches!(s.as_str(), "datomic.tx" | "db/current-tx") => {
                Ok(E::Id(self.tx))
            }
            EntityRef::TempId(s) => Ok(self.temp(Some(s))),
            EntityRef::LookupRef(a, v) => self.lookup(&a, &v).map(E::Id),
        }
    }

    /// A value in an entity position of a ref: an id, tempid, lookup ref or nested map.
    fn ent_value(&mut self, v: TxValue) -> Result<E, TxError> {
        match v {
            TxValue::Entity(r) => self.entity(r),
            TxValue::Map(m) => self.map(m),
            TxValue::Value(Value::Int(n)) => self.entity(EntityRef::Id(n)),
            TxValue::Value(Value::Ref(n)) => Ok(E::Id(n as i64)),
            TxValue::Value(Value::Str(s)) => self.entity(EntityRef::TempId(s)),
            TxValue::Value(Value::Tuple(items)) => match items.as_slice() {
                [Value::Keyword(a), v] => self.lookup(a, v).map(E::Id),
                _ => Err(syntax(format!(
                    "Expected an entity id or lookup ref, got {:?}",
                    Value::Tuple(items)
                ))),
            },
            TxValue::Many(items) => match as_lookup_ref(&items) {
                Some((a, v)) => self.lookup(&a, &v).map(E::Id),
                None => Err(syntax(format!(
                    "Expected an entity id or lookup ref, got {items:?}"
                ))),
            },
            TxValue::Value(other) => Err(syntax(format!(
                "Expected an entity id, tempid or lookup ref, got {other}"
            ))),
        }
    }

    /// The statement values of attribute `a` for one tx value (several for card-many).
    fn values(&mut self, a: &str, v: TxValue, out: &mut Vec<V>) -> Result<(), TxError> {
        let s = self.schema.attr(a);
        match v {
            TxValue::Many(items) if s.is_ref && as_lookup_ref(&items).is_some() => {
                out.push(V::Ent(self.ent_value(TxValue::Many(items))?));
            }
            TxValue::Many(items) if s.many => {
                for item in items {
                    self.values(a, item, out)?;
                }
            }
            // A vector under a card-one attribute is one value, a tuple (DataScript stores it).
            TxValue::Many(items) => out.push(V::Val(plain(TxValue::Many(items))?)),
            TxValue::Map(_) if !s.is_ref => {
                return Err(syntax(format!(
                    "Bad entity value: a nested map needs :{a} to be {{:db/valueType :db.type/ref}}"
                )));
            }
            v if s.is_ref => out.push(V::Ent(self.ent_value(v)?)),
            TxValue::Entity(EntityRef::Id(n)) => out.push(V::Val(Value::Int(n))),
            TxValue::Entity(EntityRef::TempId(t)) => out.push(V::Val(Value::Str(t))),
            TxValue::Entity(EntityRef::LookupRef(la, lv)) => {
                out.push(V::Val(Value::Tuple(vec![Value::Keyword(la), lv])))
            }
            TxValue::Value(v) => out.push(V::Val(v)),
            TxValue::Map(_) => unreachable!("handled above"),
        }
        Ok(())
    }

    /// Adds `[e a v]` for each value, reading `ns/_name` as the reverse of `ns/name`.
    fn add(&mut self, e: E, a: &str, v: TxValue) -> Result<(), TxError> {
        if let Some(fwd) = reverse_attr(a) {
            if !self.schema.attr(&fwd).is_ref {
                return Err(syntax(format!(
                    "Bad attribute :{a}: reverse attribute name requires {{:db/valueType :db.type/ref}} in schema"
                )));
            }
            let fwd = self.attr_name(&fwd)?;
            let sources = match v {
                TxValue::Many(items) if as_lookup_ref(&items).is_none() => items,
                v => vec![v],
            };
            for src in sources {
                let src = self.ent_value(src)?;
                self.stmts.push(Stmt::Add(src, fwd.clone(), V::Ent(e)));
            }
            return Ok(());
        }
        let name = self.attr_name(a)?;
        let mut vals = Vec::new();
        self.values(a, v, &mut vals)?;
        for v in vals {
            self.stmts.push(Stmt::Add(e, name.clone(), v));
        }
        Ok(())
    }

    fn map(&mut self, m: EntityMap) -> Result<E, TxError> {
        let mut id = m.id;
        let mut attrs = Vec::with_capacity(m.attrs.len());
        let mut causes: Vec<Cid> = Vec::new();
        for (a, v) in m.attrs {
            if a == "db/causes" {
                causes.extend(self.causes(v)?);
            } else if a == "db/id" && id.is_none() {
                id = Some(match v {
                    TxValue::Entity(r) => r,
                    TxValue::Value(Value::Int(n)) => EntityRef::Id(n),
                    TxValue::Value(Value::Str(s)) => EntityRef::TempId(s),
                    TxValue::Many(items) if as_lookup_ref(&items).is_some() => {
                        let (a, v) = as_lookup_ref(&items).unwrap();
                        EntityRef::LookupRef(a, v)
                    }
                    other => return Err(syntax(format!("Bad :db/id {other:?}"))),
                });
            } else {
                attrs.push((a, v));
            }
        }
        let e = match id {
            Some(r) => self.entity(r)?,
            None => self.temp(None),
        };
        let first = self.stmts.len();
        for (a, v) in attrs {
            self.add(e, &a, v)?;
        }
        if !causes.is_empty() {
            let causes = Arc::new(causes);
            for i in first..self.stmts.len() {
                self.stmt_causes.insert(i, causes.clone());
            }
        }
        Ok(e)
    }

    /// The facts a `:db/causes` entry names: CIDs (or their text) of facts the store holds.
    fn causes(&self, v: TxValue) -> Result<Vec<Cid>, TxError> {
        let items = match v {
            TxValue::Many(items) => items,
            TxValue::Value(Value::Tuple(xs) | Value::Set(xs)) => {
                xs.into_iter().map(TxValue::Value).collect()
            }
            v => vec![v],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let text = match &item {
                TxValue::Value(Value::Cid(s) | Value::Str(s)) => s.clone(),
                other => {
                    return Err(syntax(format!(
                        ":db/causes lists the CIDs of facts, found {other:?}"
                    )));
                }
            };
            let cid = Cid::try_from(text.as_str())
                .map_err(|e| syntax(format!(":db/causes: {text:?} is not a CID: {e}")))?;
            if !self.ix.holds(&cid) {
                return Err(TxError::new(
                    "transact/causes",
                    format!(":db/causes names {cid}, which is not a fact of this database"),
                ));
            }
            out.push(cid);
        }
        Ok(out)
    }

    fn expand(&mut self, op: TxOp) -> Result<(), TxError> {
        match op {
            TxOp::Add { e, a, v } => {
                let e = self.entity(e)?;
                self.add(e, &a, v)
            }
            TxOp::Retract { e, a, v } => {
                let e = self.entity(e)?;
                let name = self.attr_name(&a)?;
                match v {
                    None => self.stmts.push(Stmt::Retract(e, name, None)),
                    Some(v) => {
                        let mut vals = Vec::new();
                        self.values(&a, v, &mut vals)?;
                        for v in vals {
                            self.stmts.push(Stmt::Retract(e, name.clone(), Some(v)));
                        }
                    }
                }
                Ok(())
            }
            TxOp::RetractEntity(e) => {
                let e = self.entity(e)?;
                self.stmts.push(Stmt::RetractEntity(e));
                Ok(())
            }
            TxOp::RetractAttribute { e, a } => {
                let e = self.entity(e)?;
                let name = self.attr_name(&a)?;
                self.stmts.push(Stmt::RetractAttr(e, name));
                Ok(())
            }
            TxOp::Cas { e, a, old, new } => {
                let e = self.entity(e)?;
                let name = self.attr_name(&a)?;
                let mut vals = Vec::new();
                self.values(&a, new, &mut vals)?;
                let [v] = <[V; 1]>::try_from(vals)
                    .map_err(|_| syntax(format!(":db.fn/cas takes one new value for :{a}")))?;
                self.stmts.push(Stmt::Cas(e, name, old, v));
                Ok(())
            }
            TxOp::Map(m) => self.map(m).map(|_| ()),
        }
    }

    /// Phase 2: tempids that assert an existing unique-identity value become that entity.
    fn upsert(&mut self) -> Result<(), TxError> {
        let mut claims: HashMap<(Arc<str>, Value), usize> = HashMap::new();
        let mut resolve = |p: &mut Planner,
                           t: usize,
                           a: &Arc<str>,
                           v: &Value|
         -> Result<(), TxError> {
            let t = p.root(t);
            if let Some(&x) = p.ix.holders(a, v).first() {
                match p.temps[t].id {
                    Some(y) if y != x => {
                        return Err(TxError::new(
                            "transact/unique",
                            format!(
                                "Conflicting upserts: tempid resolves to both {y} and {x} (via [:{a} {v}])"
                            ),
                        ));
                    }
                    _ => p.temps[t].id = Some(x),
                }
            } else {
                match claims.get(&(a.clone(), v.clone())) {
                    Some(&other) if p.root(other) != t => p.temps[t].alias = Some(p.root(other)),
                    Some(_) => {}
                    None => {
                        claims.insert((a.clone(), v.clone()), t);
                    }
                }
            }
            Ok(())
        };
        let mut identity: Vec<(usize, Arc<str>, Value)> = Vec::new();
        for s in &self.stmts {
            if let Stmt::Add(E::Temp(t), a, V::Val(v)) = s
                && self.schema.attr(a).unique == Some(Unique::Identity)
            {
                identity.push((*t, a.clone(), v.clone()));
            }
        }
        // Composite unique-identity tuples are computed from the components a tempid asserts.
        let tuple_attrs: Vec<(String, Vec<String>)> = self
            .schema
            .attrs
            .iter()
            .filter(|(_, s)| s.unique == Some(Unique::Identity))
            .filter_map(|(a, s)| s.tuple_attrs.clone().map(|c| (a.clone(), c)))
            .collect();
        for (ta, comps) in tuple_attrs {
            let mut parts: HashMap<usize, Vec<Option<Value>>> = HashMap::new();
            for s in &self.stmts {
                if let Stmt::Add(E::Temp(t), a, V::Val(v)) = s
                    && let Some(i) = comps.iter().position(|c| **c == **a)
                {
                    parts.entry(*t).or_insert_with(|| vec![None; comps.len()])[i] = Some(v.clone());
                }
            }
            let ta = self.name(&ta);
            let mut temps: Vec<_> = parts.into_iter().collect();
            temps.sort_by_key(|(t, _)| *t);
            for (t, vals) in temps {
                if vals.iter().all(Option::is_some) {
                    identity.push((
                        t,
                        ta.clone(),
                        Value::Tuple(vals.into_iter().flatten().collect()),
                    ));
                }
            }
        }
        for (t, a, v) in identity {
            resolve(self, t, &a, &v)?;
        }
        // An alias of a resolved tempid shares its entity.
        for i in 0..self.temps.len() {
            let r = self.root(i);
            if let (Some(x), Some(y)) = (self.temps[i].id, self.temps[r].id)
                && x != y
            {
                return Err(TxError::new(
                    "transact/unique",
                    format!("Conflicting upserts: {x} and {y}"),
                ));
            }
            if self.temps[r].id.is_none() {
                self.temps[r].id = self.temps[i].id;
            }
        }
        Ok(())
    }

    /// Phase 3: ids for the unresolved tempids, in order of first appearance.
    fn allocate(&mut self) {
        for s in &self.stmts {
            if let Stmt::Add(E::Temp(t), a, _) = s
                && &**a == "db/ident"
            {
                let r = self.root(*t);
                self.temps[r].ident = true;
            }
        }
        let mut max = self.ix.max_eid;
        let mut max_ident = self.ix.max_ident.max(IDENT0 - 1);
        let mut visit = |p: &mut Planner, e: E| match e {
            E::Id(n) if n > 0 && n < TX0 => max = max.max(n),
            E::Id(_) => {}
            E::Temp(t) => {
                let r = p.root(t);
                if p.temps[r].id.is_none() {
                    p.temps[r].id = Some(if p.temps[r].ident {
                        max_ident += 1;
                        max_ident
                    } else {
                        max += 1;
                        max
                    });
                }
            }
        };
        let stmts = std::mem::take(&mut self.stmts);
        for s in &stmts {
            let (e, v) = match s {
                Stmt::Add(e, _, v) | Stmt::Cas(e, _, _, v) => (*e, Some(v)),
                Stmt::Retract(e, _, v) => (*e, v.as_ref()),
                Stmt::RetractEntity(e) | Stmt::RetractAttr(e, _) => (*e, None),
            };
            visit(self, e);
            if let Some(V::Ent(x)) = v {
                visit(self, *x);
            }
        }
        self.stmts = stmts;
    }

    fn id(&self, e: E) -> i64 {
        match e {
            E::Id(n) => n,
            E::Temp(t) => self.temps[self.root(t)].id.expect("allocated in phase 3"),
        }
    }

    fn value(&self, v: V) -> Value {
        match v {
            V::Val(v) => v,
            V::Ent(e) => Value::Int(self.id(e)),
        }
    }

    fn slot(&mut self, e: i64, a: &Arc<str>) -> usize {
        if let Some(&i) = self.by_key.get(&(e, a.clone())) {
            return i;
        }
        let before: Vec<Value> = self.ix.values(e, a);
        let i = self.slots.len();
        self.slots.push(Slot {
            e,
            a: a.clone(),
            now: before.iter().cloned().collect(),
            before,
        });
        self.by_key.insert((e, a.clone()), i);
        self.by_e.entry(e).or_default().push(i);
        i
    }

    fn assert(&mut self, e: i64, a: &Arc<str>, v: Value) -> Result<(), TxError> {
        if matches!(v, Value::Nil) {
            return Err(syntax(format!(
                "Cannot store nil as a value at [{e} :{a} nil]"
            )));
        }
        let s = self.schema.attr(a);
        if s.tuple_attrs.is_some() {
            return Err(syntax(format!(
                "Can’t modify tuple attrs directly: [{e} :{a} {v}]"
            )));
        }
        if s.is_ref {
            match v {
                Value::Int(target) => {
                    let i = self.slot(e, a);
                    self.incoming.entry(target).or_default().push(i);
                }
                _ => {
                    return Err(syntax(format!(
                        "Expected an entity id for ref :{a}, got {v}"
                    )));
                }
            }
        }
        let i = self.slot(e, a);
        let now = &mut self.slots[i].now;
        if !s.many {
            now.clear();
        }
        now.insert(v);
        Ok(())
    }

    /// Phase 4: one statement applied to the overlay.
    fn apply(&mut self, s: Stmt) -> Result<(), TxError> {
        match s {
            Stmt::Add(e, a, v) => {
                let (e, v) = (self.id(e), self.value(v));
                self.assert(e, &a, v)
            }
            Stmt::Retract(e, a, Some(v)) => {
                let (e, v) = (self.id(e), self.value(v));
                let i = self.slot(e, &a);
                self.slots[i].now.remove(&v);
                Ok(())
            }
            Stmt::Retract(e, a, None) | Stmt::RetractAttr(e, a) => {
                let i = self.slot(self.id(e), &a);
                self.slots[i].now.clear();
                Ok(())
            }
            Stmt::RetractEntity(e) => {
                let mut seen = HashSet::new();
                self.retract_entity(self.id(e), &mut seen);
                Ok(())
            }
            Stmt::Cas(e, a, old, v) => {
                let (e, v) = (self.id(e), self.value(v));
                let i = self.slot(e, &a);
                let now = &self.slots[i].now;
                let ok = match &old {
                    None => now.is_empty(),
                    Some(o) => now.contains(o),
                };
                if !ok {
                    let current = match now.len() {
                        0 => "nil".to_string(),
                        1 => now.first().unwrap().to_string(),
                        _ => format!("{:?}", now.iter().map(Value::to_string).collect::<Vec<_>>()),
                    };
                    let expected = old.map_or("nil".to_string(), |o| o.to_string());
                    return Err(TxError::new(
                        "transact/cas",
                        format!(
                            ":db.fn/cas failed on datom [{e} :{a} {current}], expected {expected}"
                        ),
                    ));
                }
                self.assert(e, &a, v)
            }
        }
    }

    /// Retracts every current datom of `e`, every ref to it, and recursively its components.
    fn retract_entity(&mut self, e: i64, seen: &mut HashSet<i64>) {
        if !seen.insert(e) {
            return;
        }
        let mut attrs: Vec<Arc<str>> = self
            .ix
            .entity_current(e)
            .into_iter()
            .map(|(a, _)| a)
            .collect();
        for &i in self.by_e.get(&e).into_iter().flatten() {
            attrs.push(self.slots[i].a.clone());
        }
        attrs.sort();
        attrs.dedup();
        let mut children = Vec::new();
        for a in attrs {
            let i = self.slot(e, &a);
            let now = std::mem::take(&mut self.slots[i].now);
            if self.schema.attr(&a).component {
                children.extend(now.iter().filter_map(|v| match v {
                    Value::Int(c) => Some(*c),
                    _ => None,
                }));
            }
        }
        let target = Value::Int(e);
        let mut sources: Vec<usize> = Vec::new();
        for (src, a) in self.ix.refs_to(&target) {
            if self.schema.attr(&a).is_ref {
                sources.push(self.slot(src, &a));
            }
        }
        sources.extend(self.incoming.get(&e).into_iter().flatten().copied());
        for i in sources {
            self.slots[i].now.remove(&target);
        }
        for c in children {
            self.retract_entity(c, seen);
        }
    }

    /// The current (overlay) value of a card-one attribute, or nil.
    fn current_one(&self, e: i64, a: &str) -> Value {
        let found = match self.by_key.get(&(e, Arc::from(a))) {
            Some(&i) => self.slots[i].now.first().cloned(),
            None => self.ix.values(e, a).into_iter().next(),
        };
        found.unwrap_or(Value::Nil)
    }

    /// Phase 4b: composite tuples follow their components.
    fn maintain_tuples(&mut self) {
        let tuples: Vec<(String, Vec<String>)> = self
            .schema
            .attrs
            .iter()
            .filter_map(|(a, s)| s.tuple_attrs.clone().map(|c| (a.clone(), c)))
            .collect();
        if tuples.is_empty() {
            return;
        }
        let mut todo: BTreeSet<(i64, usize)> = BTreeSet::new();
        for s in &self.slots {
            for (k, (_, comps)) in tuples.iter().enumerate() {
                if comps.iter().any(|c| **c == *s.a) {
                    todo.insert((s.e, k));
                }
            }
        }
        for (e, k) in todo {
            let (ta, comps) = &tuples[k];
            let vals: Vec<Value> = comps.iter().map(|c| self.current_one(e, c)).collect();
            let ta = self.name(ta);
            let i = self.slot(e, &ta);
            let now = &mut self.slots[i].now;
            now.clear();
            if vals.iter().any(|v| !matches!(v, Value::Nil)) {
                now.insert(Value::Tuple(vals));
            }
        }
    }

    /// Phase 5: the net facts, per touched `(e, a)` in order of first touch; retractions first.
    fn diff(&mut self) -> Result<Vec<Fact>, TxError> {
        let mut facts = Vec::new();
        // Entities that get an ident here: their global ids come from it (`gid`).
        self.idents = self
            .slots
            .iter()
            .filter(|s| &*s.a == "db/ident")
            .filter_map(|s| match s.now.first() {
                Some(Value::Keyword(k)) => Some((s.e, k.clone())),
                _ => None,
            })
            .collect();
        let slots = std::mem::take(&mut self.slots);
        for s in &slots {
            let before: BTreeSet<&Value> = s.before.iter().collect();
            let mut replaced: Vec<Cid> = Vec::new();
            for v in s.before.iter().filter(|v| !s.now.contains(*v)) {
                let Some(cause) = self.ix.current_cid(s.e, &s.a, v) else {
                    return Err(TxError::new(
                        "io",
                        format!("the index lost the current datom [{} :{} {v}]", s.e, s.a),
                    ));
                };
                replaced.push(cause);
                let f = self.fact(s.e, &s.a.clone(), v.clone(), false, vec![cause])?;
                facts.push(f);
            }
            let many = self.schema.attr(&s.a).many;
            for v in s.now.iter().filter(|v| !before.contains(v)) {
                // An assertion follows the retraction of the same datom (if it was ever
                // retracted) and, for card-one, the value it replaces.
                let mut causes: Vec<Cid> =
                    self.ix.last_retraction(s.e, &s.a, v).into_iter().collect();
                if let Some(user) = self.user_causes.get(&(s.e, s.a.clone(), v.clone())) {
                    causes.extend(user.iter().copied());
                }
                if !many {
                    // It follows the value it replaces and the concurrent writes a merge
                    // left beside it: a new write settles a conflict.
                    causes.extend(replaced.iter().copied());
                    causes.extend(self.ix.conflicts(s.e, &s.a));
                }
                let f = self.fact(s.e, &s.a.clone(), v.clone(), true, causes)?;
                facts.push(f);
            }
        }
        self.slots = slots;
        Ok(facts)
    }

    /// The global id of `e`: the store's, one minted earlier in this transaction, or a new one
    /// (derived from its `:db/ident` when the transaction gives it one, random otherwise).
    fn gid(&mut self, e: i64) -> Result<Gid, TxError> {
        if let Some(g) = self.minted.get(&e) {
            return Ok(*g);
        }
        if let Some(g) = self.ix.gid(e) {
            return Ok(g);
        }
        let g = match self.idents.get(&e) {
            Some(k) => Gid::of_ident(k),
            None => self.ix.mint(e),
        };
        self.minted.insert(e, g);
        self.new_ids.push((e, g));
        Ok(g)
    }

    /// A fact of this transaction, with the global ids of its entity and reference value.
    fn fact(
        &mut self,
        e: i64,
        a: &str,
        v: Value,
        added: bool,
        causes: Vec<Cid>,
    ) -> Result<Fact, TxError> {
        let is_ref = self.schema.attr(a).is_ref;
        let ids = Ids {
            e: self.gid(e)?,
            v: match (&v, is_ref) {
                (Value::Int(x), true) => Some(self.gid(*x)?),
                _ => None,
            },
        };
        Fact::new(e, a, v, added, causes, self.tx, ids)
            .map_err(|m| syntax(format!("Bad value at [{e} :{a}]: {m}")))
    }

    /// Whether `[e a v]` is current after the transaction (`e` holds it in the index).
    fn still_holds(&self, e: i64, a: &Arc<str>, v: &Value) -> bool {
        match self.by_key.get(&(e, a.clone())) {
            Some(&i) => self.slots[i].now.contains(v),
            None => true,
        }
    }

    fn check_unique(&self, facts: &[Fact]) -> Result<(), TxError> {
        let mut seen: HashMap<(&str, &Value), i64> = HashMap::new();
        for f in facts.iter().filter(|f| f.added) {
            if self.schema.attr(&f.a).unique.is_none() {
                continue;
            }
            let a = self
                .names
                .get(f.a.as_str())
                .expect("interned in expansion")
                .clone();
            let clash = self
                .ix
                .holders(&f.a, &f.v)
                .into_iter()
                .find(|&h| h != f.e && self.still_holds(h, &a, &f.v))
                .or_else(|| {
                    seen.get(&(f.a.as_str(), &f.v))
                        .copied()
                        .filter(|&h| h != f.e)
                });
            if let Some(h) = clash {
                return Err(TxError::new(
                    "transact/unique",
                    format!(
                        "Cannot add #datom [{} :{} {}] because of unique constraint: [{} :{} {}]",
                        f.e, f.a, f.v, h, f.a, f.v
                    ),
                ));
            }
            seen.insert((f.a.as_str(), &f.v), f.e);
        }
        Ok(())
    }

    /// Validates the attribute definitions this transaction changes.
    fn check_schema(&self, facts: &[Fact]) -> Result<(), TxError> {
        let entities: BTreeSet<i64> = facts
            .iter()
            .filter(|f| f.a.starts_with("db/") && f.a != "db/txInstant")
            .map(|f| f.e)
            .collect();
        for e in entities {
            let mut props: BTreeMap<String, Value> = BTreeMap::new();
            for (a, v) in self.ix.entity_current(e) {
                props.entry(a.to_string()).or_insert(v);
            }
            for &i in self.by_e.get(&e).into_iter().flatten() {
                let s = &self.slots[i];
                match s.now.first() {
                    Some(v) => props.insert(s.a.to_string(), v.clone()),
                    None => props.remove(&*s.a),
                };
            }
            if let Some(Value::Keyword(ident)) = props.get("db/ident") {
                attr_schema_from_props(&ident.clone(), &props)?;
            }
        }
        Ok(())
    }
}

/// The definition of attribute `attr` from its `:db/…` properties (keys without colon),
/// validated as DataScript validates a schema.
pub(crate) fn attr_schema_from_props(
    attr: &str,
    props: &BTreeMap<String, Value>,
) -> Result<AttrSchema, TxError> {
    let spec = |k: &str, v: &Value, expected: &str| {
        bad_spec(format!(
            "Bad attribute specification for {{:{attr} {{:{k} {v}}}}}, expected one of {expected}"
        ))
    };
    let mut s = AttrSchema::default();
    for (k, v) in props {
        match (k.as_str(), v) {
            ("db/cardinality", Value::Keyword(c)) if c == "db.cardinality/many" => s.many = true,
            ("db/cardinality", Value::Keyword(c)) if c == "db.cardinality/one" => s.many = false,
            ("db/cardinality", v) => {
                return Err(spec(k, v, "#{:db.cardinality/one :db.cardinality/many}"));
            }
            ("db/unique", Value::Keyword(u)) if u == "db.unique/identity" => {
                s.unique = Some(Unique::Identity)
            }
            ("db/unique", Value::Keyword(u)) if u == "db.unique/value" => {
                s.unique = Some(Unique::Value)
            }
            ("db/unique", v) => return Err(spec(k, v, "#{:db.unique/identity :db.unique/value}")),
            ("db/valueType", Value::Keyword(t)) if t == "db.type/ref" => s.is_ref = true,
            ("db/valueType", Value::Keyword(t)) if t == "db.type/tuple" => {}
            ("db/valueType", v) => return Err(spec(k, v, "#{:db.type/ref :db.type/tuple}")),
            ("db/isComponent", Value::Bool(b)) => s.component = *b,
            ("db/isComponent", v) => return Err(spec(k, v, "#{true false}")),
            ("db/tupleAttrs", Value::Tuple(items)) if !items.is_empty() => {
                let names = items
                    .iter()
                    .map(|i| match i {
                        Value::Keyword(n) => Ok(n.clone()),
                        other => Err(spec(k, other, "a vector of attribute keywords")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                s.tuple_attrs = Some(names);
            }
            ("db/tupleAttrs", v) => return Err(spec(k, v, "a vector of attribute keywords")),
            _ => {}
        }
    }
    if s.component && !s.is_ref {
        return Err(bad_spec(format!(
            "Bad attribute specification for :{attr}: {{:db/isComponent true}} should also have {{:db/valueType :db.type/ref}}"
        )));
    }
    if s.tuple_attrs.is_some() && s.many {
        return Err(bad_spec(format!(
            "Bad attribute specification for :{attr}: {{:db/tupleAttrs}} cannot be cardinality many"
        )));
    }
    Ok(s)
}

/// The tx-data that defines `schema` as data: one `:db/ident` entity map per attribute.
pub(crate) fn schema_ops(schema: &Schema) -> Vec<TxOp> {
    let kw = |s: &str| TxValue::Value(Value::Keyword(s.to_string()));
    schema
        .attrs
        .iter()
        .map(|(attr, s)| {
            let mut attrs = vec![
                ("db/ident".to_string(), kw(attr)),
                (
                    "db/cardinality".to_string(),
                    kw(if s.many {
                        "db.cardinality/many"
                    } else {
                        "db.cardinality/one"
                    }),
                ),
            ];
            if let Some(u) = s.unique {
                attrs.push((
                    "db/unique".into(),
                    kw(match u {
                        Unique::Identity => "db.unique/identity",
                        Unique::Value => "db.unique/value",
                    }),
                ));
            }
            if s.is_ref || s.component {
                attrs.push(("db/valueType".into(), kw("db.type/ref")));
            } else if s.tuple_attrs.is_some() {
                attrs.push(("db/valueType".into(), kw("db.type/tuple")));
            }
            if s.component {
                attrs.push(("db/isComponent".into(), TxValue::Value(Value::Bool(true))));
            }
            if let Some(comps) = &s.tuple_attrs {
                attrs.push((
                    "db/tupleAttrs".into(),
                    TxValue::Value(Value::Tuple(
                        comps.iter().map(|c| Value::Keyword(c.clone())).collect(),
                    )),
                ));
            }
            TxOp::Map(EntityMap { id: None, attrs })
        })
        .collect()
}

/// The schema defined by the current `:db/ident` entities of the indexes.
/// The schema defined by the current `:db/ident` entities of a snapshot.
pub(crate) fn schema_from(r: &Reader) -> Result<Schema, String> {
    let mut schema = Schema::default();
    for e in r.entities_with("db/ident")? {
        let mut props: BTreeMap<String, Value> = BTreeMap::new();
        for (a, v) in r.entity_current(e)? {
            if a.starts_with("db/") {
                props.entry(a.to_string()).or_insert(v);
            }
        }
        let Some(Value::Keyword(ident)) = props.get("db/ident").cloned() else {
            continue;
        };
        // Definitions were validated when they were transacted; one that no longer validates
        // (which only a hand-written log could hold) is left out rather than failing the open.
        if let Ok(s) = attr_schema_from_props(&ident, &props) {
            schema.attrs.insert(ident, s);
        }
    }
    Ok(schema)
}

/// The global ids of the entities some facts name, and those of them that are new.
pub(crate) type MintedIds = (HashMap<i64, Gid>, Vec<(i64, Gid)>);

/// Global ids for the entities `raw` facts name (their entities, and the values of reference
/// attributes): the store's (through `r`), or new ones (derived from an entity's `:db/ident`
/// among the facts, random otherwise). Returns the ids of every entity named and the new ones.
pub(crate) fn mint_ids<'v>(
    r: &Reader,
    raw: impl Iterator<Item = (i64, &'v str, &'v Value, bool)> + Clone,
) -> Result<MintedIds, String> {
    let idents: HashMap<i64, &str> = raw
        .clone()
        .filter_map(|(e, a, v, _)| match (a, v) {
            ("db/ident", Value::Keyword(k)) => Some((e, k.as_str())),
            _ => None,
        })
        .collect();
    let mut ids: HashMap<i64, Gid> = HashMap::new();
    let mut new = Vec::new();
    let mut need = |e: i64, ids: &mut HashMap<i64, Gid>| -> Result<(), String> {
        if ids.contains_key(&e) {
            return Ok(());
        }
        let g = match r.gid(e)? {
            Some(g) => g,
            None => {
                let g = idents
                    .get(&e)
                    .map_or_else(|| r.inner.mint(e), |k| Gid::of_ident(k));
                new.push((e, g));
                g
            }
        };
        ids.insert(e, g);
        Ok(())
    };
    for (e, _, v, is_ref) in raw {
        need(e, &mut ids)?;
        match (is_ref, v) {
            (true, Value::Int(x)) => need(*x, &mut ids)?,
            (true, Value::Ref(x)) => need(*x as i64, &mut ids)?,
            _ => {}
        }
    }
    Ok((ids, new))
}

/// The global ids of a fact's entity and (for a reference) value, from a map [`mint_ids`] made.
pub(crate) fn ids_in(ids: &HashMap<i64, Gid>, e: i64, v: &Value, is_ref: bool) -> Ids {
    Ids {
        e: ids[&e],
        v: match (is_ref, v) {
            (true, Value::Int(x)) => Some(ids[x]),
            (true, Value::Ref(x)) => Some(ids[&(*x as i64)]),
            _ => None,
        },
    }
}

/// Facts `[e a v added causes]` at transaction `tx`, with global ids (minted where new).
pub(crate) type RawFact = (i64, String, Value, bool, Vec<Cid>);

/// Facts with their global ids, and the ids that are new.
pub(crate) type FactsWithIds = (Vec<Fact>, Vec<(i64, Gid)>);

pub(crate) fn facts_with_ids(
    r: &Reader,
    raw: Vec<RawFact>,
    tx: i64,
    is_ref: &dyn Fn(&str) -> bool,
) -> Result<FactsWithIds, String> {
    let refs: Vec<bool> = raw
        .iter()
        .map(|(_, a, v, _, _)| is_ref(a) && matches!(v, Value::Int(_) | Value::Ref(_)))
        .collect();
    let (ids, new) = mint_ids(
        r,
        raw.iter()
            .zip(&refs)
            .map(|((e, a, v, _, _), r)| (*e, a.as_str(), v, *r)),
    )?;
    let facts = raw
        .into_iter()
        .zip(refs)
        .map(|((e, a, v, added, causes), is_ref)| {
            let i = ids_in(&ids, e, &v, is_ref);
            Fact::new(e, a, v, added, causes, tx, i)
        })
        .collect::<Result<_, _>>()?;
    Ok((facts, new))
}
