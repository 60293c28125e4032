//! Writing commits into the indexes (`Writer`), inside one LMDB write transaction: a local
//! transaction's facts, a bulk import's (with its keys gathered in sorted runs, `Deferred`),
//! and a merge's facts from another replica, with the resolution of every `(e, a)` a merge
//! touches (`resolve.rs`). The tables, keys and readers are `disk.rs`'s.

use super::disk::{
    EavtVal, F_SUPERSEDED, Inner, Meta, Order, Reader, Stats, Table, mdb_msg, put_cid, put_cids,
    retraction_of, side_value, span_key,
};
use super::gid::Gid;
use super::keys;
use super::{Fact, IDENT0, Schema, TX0};
use cid::Cid;
use heed::RwTxn;
use pomo_types::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The AEVT and AVET keys of a bulk import, gathered in sorted runs and merged into their
/// indexes at its end ([`Writer::merge`]).
pub(crate) struct Deferred {
    aevt: super::runs::Runs,
    avet: super::runs::Runs,
    /// EAVT keys of transaction entities (their instants, without causes), which sort after
    /// every user entity: written at the end, they leave EAVT's user spans to append mode.
    eavt_tx: super::runs::Runs,
    /// The fact index's entries (`digest · commit · position`) and the global ids' inverse
    /// (`gid · e`): both keyed by hashes, so written in key order at the end.
    fcids: super::runs::Runs,
    eids: super::runs::Runs,
    /// EAVT writes of the import, and how many of them could not be appended (input not in
    /// entity order: the pages they split are half full until the store is compacted).
    pub eavt_puts: u64,
    pub eavt_inserts: u64,
}

impl Deferred {
    /// Runs spilled into `dir`.
    pub fn new(dir: PathBuf) -> Deferred {
        Deferred {
            aevt: super::runs::Runs::new(dir.clone(), "aevt"),
            avet: super::runs::Runs::new(dir.clone(), "avet"),
            eavt_tx: super::runs::Runs::new(dir.clone(), "eavt-tx"),
            fcids: super::runs::Runs::new(dir.clone(), "fcids"),
            eids: super::runs::Runs::new(dir, "eids"),
            eavt_puts: 0,
            eavt_inserts: 0,
        }
    }
}

/// Puts `k → v` into `table`, appended past its end when `k` sorts last (full pages), inserted
/// otherwise.
fn append(w: &mut RwTxn, table: Table, k: &[u8], v: &[u8]) -> Result<(), String> {
    match table.put_with_flags(w, heed::PutFlags::APPEND, k, v) {
        Ok(()) => Ok(()),
        Err(heed::Error::Mdb(heed::MdbError::KeyExist)) => table.put(w, k, v).map_err(mdb_msg),
        Err(e) => Err(mdb_msg(e)),
    }
}

/// The AEVT prefix of `(e, a)` and the AVET prefix of `(a, v)`: whether an entity or a value
/// still has an open span of the attribute.
fn entity_and_value_prefixes(e: i64, aid: u32, vkey: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut ae = Vec::with_capacity(12);
    keys::put_u32(&mut ae, aid);
    keys::put_e(&mut ae, e);
    let mut av = Vec::with_capacity(4 + vkey.len());
    keys::put_u32(&mut av, aid);
    av.extend_from_slice(vkey);
    (ae, av)
}

/// Writes commits into the indexes inside one write transaction.
pub(crate) struct Writer<'a, 'w> {
    pub inner: &'a Inner,
    pub w: &'a mut RwTxn<'w>,
    pub meta: &'a mut Meta,
    stats: BTreeMap<u32, Stats>,
    /// Assertions of user entities open the first span of their `(e, a)` (bulk import).
    fresh: bool,
    /// Where assertions put their AEVT and AVET keys instead (bulk import); their distinct
    /// values are counted when the keys are merged.
    deferred: Option<&'a mut Deferred>,
    /// Facts from another replica: an assertion of a datom that is current opens a span
    /// closed as superseded, a retraction closes the span of the assertion it names, and every
    /// `(e, a)` touched is resolved from its causal graph (`resolve.rs`).
    merging: bool,
}

impl<'a, 'w> Writer<'a, 'w> {
    pub fn new(inner: &'a Inner, w: &'a mut RwTxn<'w>, meta: &'a mut Meta) -> Writer<'a, 'w> {
        Writer {
            inner,
            w,
            meta,
            stats: BTreeMap::new(),
            fresh: false,
            deferred: None,
            merging: false,
        }
    }

    /// Switches the merge mode on (see the `merging` field).
    pub fn set_merging(&mut self, on: bool) {
        self.merging = on;
    }

    /// Gathers the AEVT and AVET keys of assertions in `d` instead of writing them; the
    /// caller merges them ([`Writer::merge`]) before anything reads those indexes.
    pub fn defer(&mut self, d: &'a mut Deferred) {
        self.deferred = Some(d);
    }

    /// Writes the gathered AEVT and AVET keys into their indexes in key order (appended past
    /// the end where they can be), and counts the distinct values they add.
    pub fn merge(&mut self, d: Deferred) -> Result<(), String> {
        let Deferred {
            aevt,
            avet,
            eavt_tx,
            fcids,
            eids,
            ..
        } = d;
        let fcid_table = self.inner.t.fcids;
        fcids.merge(|k| append(self.w, fcid_table, &k[..32], &k[32..]))?;
        let eid_table = self.inner.t.eids;
        eids.merge(|k| append(self.w, eid_table, &k[..16], &k[16..]))?;
        let no_causes = EavtVal::default().encode();
        eavt_tx.merge(|k| self.put(Order::Eavt, k, &no_causes))?;
        aevt.merge(|k| self.put(Order::Aevt, k, &[]))?;
        // AVET keys are `aid value e t`: a new `aid value` prefix is a new value, unless the
        // attribute had values before the import and this one among them.
        let mut prev: Vec<u8> = Vec::new();
        let mut attr: Option<(u32, bool)> = None;
        avet.merge(|k| {
            let prefix = &k[..k.len().saturating_sub(12)];
            if prefix != prev.as_slice() {
                let aid = u32::from_be_bytes(
                    k.get(..4)
                        .and_then(|b| b.try_into().ok())
                        .ok_or("a damaged AVET key")?,
                );
                let had = match attr {
                    Some((a, had)) if a == aid => had,
                    _ => {
                        let had = self.stat(aid)?.values > 0;
                        attr = Some((aid, had));
                        had
                    }
                };
                if !had || !self.any_open(Order::Avet, prefix)? {
                    self.stat(aid)?.values += 1;
                }
                prev.clear();
                prev.extend_from_slice(prefix);
            }
            self.put(Order::Avet, k, &[])
        })
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            inner: self.inner,
            txn: self.w,
        }
    }

    fn stat(&mut self, aid: u32) -> Result<&mut Stats, String> {
        if !self.stats.contains_key(&aid) {
            let s = self.reader().stats(aid)?;
            self.stats.insert(aid, s);
        }
        Ok(self.stats.get_mut(&aid).expect("inserted"))
    }

    /// Whether any span under `prefix` in `order` is open (its index value is empty).
    fn any_open(&self, order: Order, prefix: &[u8]) -> Result<bool, String> {
        let mut open = false;
        self.reader().scan_raw(order, prefix, |_, val| {
            open = retraction_of(order, val)?.0.is_none();
            Ok(!open)
        })?;
        Ok(open)
    }

    fn put(&mut self, order: Order, key: &[u8], val: &[u8]) -> Result<(), String> {
        let table = self.reader().table(order);
        if self.fresh {
            // A bulk import mostly writes past the end of a table (new entities in EAVT):
            // LMDB's append mode then fills pages instead of splitting them in half. A key
            // that is not past the end is refused by it and written normally.
            let eavt = matches!(order, Order::Eavt);
            if eavt && let Some(d) = self.deferred.as_mut() {
                d.eavt_puts += 1;
            }
            match table.put_with_flags(self.w, heed::PutFlags::APPEND, key, val) {
                Ok(()) => return Ok(()),
                Err(heed::Error::Mdb(heed::MdbError::KeyExist)) => {
                    if eavt && let Some(d) = self.deferred.as_mut() {
                        d.eavt_inserts += 1;
                    }
                }
                Err(e) => return Err(mdb_msg(e)),
            }
        }
        table.put(self.w, key, val).map_err(mdb_msg)
    }

    /// Applies the facts of one commit at local `t` and appends its log record. Datoms of
    /// reference attributes (by `schema`, or by the schema the commit itself defines) go to
    /// VAET too. Facts marked present (held already, from another commit) are listed in the
    /// record, so the commit block can be regenerated, but not applied again. Returns the new
    /// schema when the commit changed it. Fails on a fact that contradicts the indexes (which
    /// only a damaged source can hold).
    pub fn commit(&mut self, c: &NewCommit, schema: &Schema) -> Result<Option<Schema>, String> {
        let t32 =
            u32::try_from(c.t).map_err(|_| format!("transaction t {} is out of range", c.t))?;
        for (e, g) in c.new_ids {
            let mut k = Vec::with_capacity(8);
            keys::put_e(&mut k, *e);
            if let Some(d) = self.deferred.as_mut() {
                // New entities mostly come in increasing order: appended to `gids`.
                append(self.w, self.inner.t.gids, &k, &g.0)?;
                let mut entry = g.0.to_vec();
                entry.extend_from_slice(&k);
                d.eids.push(&entry)?;
            } else {
                self.inner.t.gids.put(self.w, &k, &g.0).map_err(mdb_msg)?;
                self.inner.t.eids.put(self.w, &g.0, &k).map_err(mdb_msg)?;
            }
        }
        let facts = c.facts;
        let present = |i: usize| c.present.get(i).copied().unwrap_or(false);
        let seq = self.meta.commits;
        let mut record = Vec::with_capacity(96 + facts.len() * 24);
        record.extend_from_slice(&c.t.to_be_bytes());
        put_cid(&mut record, Some(&c.cid));
        record.extend_from_slice(&c.author_t.to_be_bytes());
        put_cids(&mut record, &c.parents);
        record.extend_from_slice(&(facts.len() as u32).to_be_bytes());
        let is_schema = |f: &Fact| f.a.starts_with("db/") && f.a != "db/txInstant";
        let mut encoded = Vec::with_capacity(facts.len());
        for (i, f) in facts.iter().enumerate() {
            let aid = self.inner.intern(self.w, self.meta, &f.a)?;
            let mut vkey = Vec::with_capacity(16);
            if let Some((id, payload)) = keys::put_value(&mut vkey, &f.v)? {
                self.inner
                    .t
                    .longvals
                    .put(self.w, &id, &payload)
                    .map_err(mdb_msg)?;
            }
            keys::put_e(&mut record, f.e);
            keys::put_u32(&mut record, aid);
            record.push(f.added as u8 | (f.ids.v.is_some() as u8) << 1 | (present(i) as u8) << 2);
            record.extend_from_slice(&vkey);
            put_cids(&mut record, &f.causes);
            encoded.push((aid, vkey));
            if !present(i) {
                let mut entry = [0u8; 44];
                let digest = f.cid.hash().digest();
                if digest.len() != 32 {
                    return Err(format!("fact {} is not addressed by sha2-256", f.cid));
                }
                entry[..32].copy_from_slice(digest);
                entry[32..40].copy_from_slice(&seq.to_be_bytes());
                entry[40..].copy_from_slice(&(i as u32).to_be_bytes());
                let at = &entry[32..];
                if let Some(d) = self.deferred.as_mut() {
                    d.fcids.push(&entry)?;
                } else {
                    self.inner
                        .t
                        .fcids
                        .put(self.w, &entry[..32], at)
                        .map_err(mdb_msg)?;
                }
                self.meta.add_fact(&f.cid);
            }
        }
        // Schema facts first (they are datoms of their own, so the order between them and the
        // others does not matter to the indexes), so that the others see the new schema.
        let mut new_schema = None;
        let applied = |i: &usize| !present(*i);
        if facts.iter().any(is_schema) {
            for i in (0..facts.len())
                .filter(applied)
                .filter(|&i| is_schema(&facts[i]))
            {
                let (aid, vkey) = &encoded[i];
                self.apply(&facts[i], *aid, vkey, t32, false)?;
            }
            new_schema = Some(super::tx::schema_from(&self.reader())?);
        }
        let refs = new_schema.as_ref().unwrap_or(schema);
        let mut order: Vec<usize> = (0..facts.len())
            .filter(applied)
            .filter(|&i| !is_schema(&facts[i]))
            .collect();
        if self.fresh {
            // In EAVT order, so that appends past the end of EAVT fill its pages.
            order.sort_by(|&x, &y| (facts[x].e, &encoded[x]).cmp(&(facts[y].e, &encoded[y])));
        }
        let mut touched: Vec<(i64, u32, &str)> = Vec::new();
        // A merge's facts on entities new to the store: the first assertion of each `(e, a)`
        // opens its first span (no lookups), and an `(e, a)` with that one fact needs no
        // resolution.
        let mut first: std::collections::HashMap<(i64, u32), bool> =
            std::collections::HashMap::new();
        for (f, (aid, vkey)) in order.into_iter().map(|i| (&facts[i], &encoded[i])) {
            let r = refs.attr(&f.a).is_ref && matches!(f.v, Value::Int(_) | Value::Ref(_));
            let new = self.merging && c.new_entities.contains(&f.e);
            let seen = new && first.insert((f.e, *aid), false).is_some();
            if new && f.added && !seen {
                first.insert((f.e, *aid), true);
                self.assert_as(f, *aid, vkey, t32, r, true)?;
            } else {
                self.apply(f, *aid, vkey, t32, r)?;
            }
            if !self.fresh {
                touched.push((f.e, *aid, &f.a));
            }
        }
        if !self.fresh {
            touched.sort_unstable();
            touched.dedup();
            for (e, aid, a) in touched {
                if first.get(&(e, aid)) == Some(&true) {
                    continue;
                }
                self.resolve(e, aid, a, refs.attr(a).many, t32)?;
            }
        }
        self.inner
            .t
            .log
            .put(self.w, &seq.to_be_bytes(), &record)
            .map_err(mdb_msg)?;
        self.inner
            .t
            .ccids
            .put(self.w, c.cid.hash().digest(), &seq.to_be_bytes())
            .map_err(mdb_msg)?;
        self.meta.commits += 1;
        if new_schema.is_some() {
            self.meta.schema_commit = self.meta.commits;
        }
        self.meta.last_t = Some(c.t);
        self.meta.last_commit = Some(c.cid);
        self.meta.heads.retain(|h| !c.parents.contains(h));
        self.meta.heads.push(c.cid);
        self.meta.heads.sort();
        Ok(new_schema)
    }

    fn apply(
        &mut self,
        f: &Fact,
        aid: u32,
        vkey: &[u8],
        t: u32,
        is_ref: bool,
    ) -> Result<(), String> {
        match (f.added, self.merging) {
            (true, false) => self.assert(f, aid, vkey, t, is_ref),
            (false, false) => self.retract(f, aid, vkey, t),
            (true, true) => self.merge_assert(f, aid, vkey, t, is_ref),
            (false, true) => self.merge_retract(f, aid, vkey, t),
        }
    }

    /// A merged assertion: a new span, closed as superseded at once when its datom is current
    /// already (the resolution may open it later). A second assertion of the same datom in
    /// one commit has no span of its own (it stays in the log).
    fn merge_assert(
        &mut self,
        f: &Fact,
        aid: u32,
        vkey: &[u8],
        t: u32,
        is_ref: bool,
    ) -> Result<(), String> {
        let spans = self.reader().spans_of(f.e, aid, &f.v)?;
        if spans.iter().any(|(at, _)| *at == t) {
            return Ok(());
        }
        if !spans.iter().any(|(_, s)| s.rt.is_none()) {
            return self.assert(f, aid, vkey, t, is_ref);
        }
        let val = EavtVal {
            rt: Some(t),
            causes: f.causes.clone(),
            is_ref: f.ids.v.is_some(),
            superseded: true,
            rcauses: None,
        };
        self.put(
            Order::Eavt,
            &span_key(Order::Eavt, f.e, aid, vkey, t),
            &val.encode(),
        )?;
        for order in [Order::Aevt, Order::Avet] {
            self.put(order, &span_key(order, f.e, aid, vkey, t), &t.to_be_bytes())?;
        }
        if is_ref {
            self.put(
                Order::Vaet,
                &span_key(Order::Vaet, f.e, aid, vkey, t),
                &t.to_be_bytes(),
            )?;
        }
        Ok(())
    }

    /// A merged retraction closes the span whose assertion it names as a cause (if that span
    /// is open or only superseded); with no such span it stays in the log only.
    fn merge_retract(&mut self, f: &Fact, aid: u32, vkey: &[u8], t: u32) -> Result<(), String> {
        let spans = self.reader().spans_of(f.e, aid, &f.v)?;
        for (at, val) in spans {
            if val.rt.is_some() && !val.superseded {
                continue;
            }
            let acid = self.reader().assertion(f.e, &f.a, &f.v, at, &val)?.cid;
            if !f.causes.contains(&acid) {
                continue;
            }
            let was_open = val.rt.is_none();
            let new = EavtVal {
                rt: Some(t),
                superseded: false,
                rcauses: (f.causes != [acid]).then(|| f.causes.clone()),
                ..val
            };
            return self.set_span(f.e, aid, vkey, at, &new, was_open);
        }
        Ok(())
    }

    /// Rewrites a span's entries in the four indexes with `new` (open or closed), keeping the
    /// statistics: `was_open` says whether it was open before.
    fn set_span(
        &mut self,
        e: i64,
        aid: u32,
        vkey: &[u8],
        at: u32,
        new: &EavtVal,
        was_open: bool,
    ) -> Result<(), String> {
        let (ae, av) = entity_and_value_prefixes(e, aid, vkey);
        let now_open = new.rt.is_none();
        let (new_entity, new_value) = if now_open && !was_open {
            (
                !self.any_open(Order::Aevt, &ae)?,
                !self.any_open(Order::Avet, &av)?,
            )
        } else {
            (false, false)
        };
        let side = side_value(new.rt, new.superseded);
        self.put(
            Order::Eavt,
            &span_key(Order::Eavt, e, aid, vkey, at),
            &new.encode(),
        )?;
        for order in [Order::Aevt, Order::Avet] {
            self.put(order, &span_key(order, e, aid, vkey, at), &side)?;
        }
        // VAET holds the span when its value is a reference (by the fact, or by the schema
        // the assertion was written under).
        let vaet = span_key(Order::Vaet, e, aid, vkey, at);
        if new.is_ref
            || self
                .inner
                .t
                .vaet
                .get(self.w, &vaet)
                .map_err(mdb_msg)?
                .is_some()
        {
            self.put(Order::Vaet, &vaet, &side)?;
        }
        if now_open && !was_open {
            let s = self.stat(aid)?;
            s.datoms += 1;
            s.entities += new_entity as u64;
            s.values += new_value as u64;
        } else if was_open && !now_open {
            let gone_entity = !self.any_open(Order::Aevt, &ae)?;
            let gone_value = !self.any_open(Order::Avet, &av)?;
            let s = self.stat(aid)?;
            s.datoms = s.datoms.saturating_sub(1);
            s.entities = s.entities.saturating_sub(gone_entity as u64);
            s.values = s.values.saturating_sub(gone_value as u64);
        }
        Ok(())
    }

    /// Makes the open spans of `(e, a)` those its causal graph says are current
    /// (`resolve.rs`): spans that lose are closed as superseded at `t`, superseded spans that
    /// win are opened again. Outside a merge, only an `(e, a)` with superseded spans (a
    /// conflict a merge left) needs it.
    fn resolve(&mut self, e: i64, aid: u32, a: &str, many: bool, t: u32) -> Result<(), String> {
        // A first look at the raw entries: how many spans, and whether a merge superseded any.
        // One span that no merge superseded is its own head (what most of an initial sync
        // writes), and outside a merge only superseded spans call for a resolution.
        let (mut count, mut superseded) = (0usize, false);
        {
            let r = self.reader();
            r.scan_raw(Order::Eavt, &r.prefix_ea(e, aid), |_, val| {
                count += 1;
                superseded |= val.first().is_some_and(|f| f & F_SUPERSEDED != 0);
                Ok(true)
            })?;
        }
        if count == 0 || (count == 1 && !superseded) || (!self.merging && !superseded) {
            return Ok(());
        }
        let spans = self.reader().ea_spans(e, aid)?;
        let nodes =
            self.reader()
                .graph_nodes(e, a, spans.iter().map(|(v, _, at, val)| (v, *at, val)))?;
        let values: Vec<&[u8]> = spans.iter().map(|s| s.1.as_slice()).collect();
        let open: Vec<bool> = spans.iter().map(|s| s.3.rt.is_none()).collect();
        let want = super::resolve::current_spans(&nodes, &values, &open, many);
        for (i, (_, vkey, at, val)) in spans.iter().enumerate() {
            if open[i] && !want[i] {
                let new = EavtVal {
                    rt: Some(t),
                    superseded: true,
                    ..val.clone()
                };
                self.set_span(e, aid, vkey, *at, &new, true)?;
            } else if !open[i] && want[i] && val.superseded {
                let new = EavtVal {
                    rt: None,
                    superseded: false,
                    ..val.clone()
                };
                self.set_span(e, aid, vkey, *at, &new, false)?;
            }
        }
        Ok(())
    }

    /// Marks the assertions of `e` (user entities) as known to be new: no span of their
    /// `(e, a)` exists, which a bulk import has checked, so the writer skips those lookups.
    pub fn set_fresh(&mut self, fresh: bool) {
        self.fresh = fresh;
    }

    fn assert(
        &mut self,
        f: &Fact,
        aid: u32,
        vkey: &[u8],
        t: u32,
        is_ref: bool,
    ) -> Result<(), String> {
        let fresh = self.fresh && f.e > 0 && f.e < TX0;
        self.assert_as(f, aid, vkey, t, is_ref, fresh)
    }

    /// An assertion; `fresh` when its `(e, a)` is known to have no span yet (a bulk import's
    /// new entities, a merge's new entities), which skips the writer's lookups.
    fn assert_as(
        &mut self,
        f: &Fact,
        aid: u32,
        vkey: &[u8],
        t: u32,
        is_ref: bool,
        fresh: bool,
    ) -> Result<(), String> {
        if !fresh {
            let spans = self.reader().spans_of(f.e, aid, &f.v)?;
            if spans.iter().any(|(_, s)| s.rt.is_none()) {
                return Err(format!("fact {} asserts a current datom", f.cid));
            }
            if spans.iter().any(|(at, _)| *at == t) {
                return Err(format!(
                    "fact {} asserts a datom twice in one transaction",
                    f.cid
                ));
            }
        }
        let (ae, av) = entity_and_value_prefixes(f.e, aid, vkey);
        let new_entity = fresh || !self.any_open(Order::Aevt, &ae)?;
        // Deferred values are counted when their keys are merged.
        let new_value = self.deferred.is_none() && !self.any_open(Order::Avet, &av)?;
        let val = EavtVal {
            causes: f.causes.clone(),
            is_ref: f.ids.v.is_some(),
            ..EavtVal::default()
        }
        .encode();
        match self.deferred.as_mut() {
            Some(d) if f.e >= TX0 && val.is_empty() => {
                d.eavt_tx.push(&span_key(Order::Eavt, f.e, aid, vkey, t))?
            }
            _ => self.put(Order::Eavt, &span_key(Order::Eavt, f.e, aid, vkey, t), &val)?,
        }
        if let Some(d) = self.deferred.as_mut() {
            d.aevt.push(&span_key(Order::Aevt, f.e, aid, vkey, t))?;
            d.avet.push(&span_key(Order::Avet, f.e, aid, vkey, t))?;
        } else {
            for order in [Order::Aevt, Order::Avet] {
                self.put(order, &span_key(order, f.e, aid, vkey, t), &[])?;
            }
        }
        if is_ref {
            self.put(Order::Vaet, &span_key(Order::Vaet, f.e, aid, vkey, t), &[])?;
        }
        let s = self.stat(aid)?;
        s.datoms += 1;
        s.entities += new_entity as u64;
        s.values += new_value as u64;
        if f.e > 0 && f.e < TX0 {
            self.meta.max_eid = self.meta.max_eid.max(f.e);
        } else if f.e >= IDENT0 {
            self.meta.max_ident = self.meta.max_ident.max(f.e);
        }
        Ok(())
    }

    /// A local retraction closes the open span of its datom.
    fn retract(&mut self, f: &Fact, aid: u32, vkey: &[u8], t: u32) -> Result<(), String> {
        let spans = self.reader().spans_of(f.e, aid, &f.v)?;
        let Some((at, val)) = spans.into_iter().find(|(_, s)| s.rt.is_none()) else {
            return Err(format!(
                "fact {} retracts a datom that is not current",
                f.cid
            ));
        };
        let new = EavtVal { rt: Some(t), ..val };
        self.set_span(f.e, aid, vkey, at, &new, true)
    }

    /// Writes the statistics and the state; the caller commits the transaction.
    pub fn finish(self) -> Result<(), String> {
        for (aid, s) in &self.stats {
            self.inner
                .t
                .stats
                .put(self.w, &aid.to_be_bytes(), &s.encode())
                .map_err(mdb_msg)?;
        }
        self.meta.write(self.inner, self.w)
    }
}

/// A commit to write: its local `t`, its block's fields (the author's `t`, the parents, the
/// facts) and CID, which facts the store holds already, and the global ids it mints.
pub(crate) struct NewCommit<'f> {
    pub t: u64,
    pub author_t: u64,
    pub cid: Cid,
    pub parents: Vec<Cid>,
    pub facts: &'f [Fact],
    /// Per fact, whether the store already holds it (empty: none).
    pub present: Vec<bool>,
    pub new_ids: &'f [(i64, Gid)],
    /// Entities new to the store that no earlier commit named (a merge's new entities).
    pub new_entities: std::collections::HashSet<i64>,
}
