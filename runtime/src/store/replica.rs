//! A store as a replica: its state, its commits and fact blocks by CID, and merging the
//! blocks of another replica (union by CID).
//!
//! A replica's history is a DAG of commit blocks `{t, facts, parents}`; its *heads* are the
//! commits no other names as a parent. Merging takes commit blocks and fact blocks, verifies
//! each against its CID, and writes each commit the store does not hold (parents first) as
//! a commit of its own, at a new local `t`: its facts' entities are mapped from their global
//! ids to local numbers (new entities get new numbers), facts the store holds already are
//! listed but not applied again, and every `(e, a)` it touches is resolved from its causal
//! graph (`resolve.rs`: last writer wins by causes then CID for cardinality one, add-wins for
//! cardinality many). The whole merge is one write transaction: a block that does not verify,
//! a commit whose parents or facts are missing, or any other error writes nothing.

use super::disk::{self, NewCommit, Reader};
use super::encode::{self, FactContent, decode_fact, fact_from_bytes, verify_cid};
use super::log::{self, CommitContent, commit_from_bytes};
use super::{Fact, Gid, IDENT0, Ids, Store, TX0, TxError};
use cid::Cid;
use ipld_core::ipld::Ipld;
use pomo_types::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// What a replica holds, in brief: the number of facts and a CID that names the set of their
/// CIDs (the same on two replicas exactly when they hold the same facts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub facts: u64,
    pub cid: Cid,
    pub heads: Vec<Cid>,
}

/// Blocks with their CIDs.
pub type Blocks = Vec<(Cid, Vec<u8>)>;

/// The local form of a merged commit: its facts, which the store held, the new global ids.
type Localized = (Vec<Fact>, Vec<bool>, Vec<(i64, Gid)>);

/// A commit block with what it names.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitBlock {
    pub cid: Cid,
    pub block: Vec<u8>,
    pub parents: Vec<Cid>,
    pub facts: Vec<Cid>,
}

/// What a merge did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Commits written, and commits skipped because the store held them.
    pub commits: u64,
    pub known_commits: u64,
    /// Facts the store did not hold.
    pub new_facts: u64,
    /// The new facts as datoms at their local `t` (what live queries are told changed).
    pub datoms: Vec<super::Datom>,
}

fn bad(m: impl Into<String>) -> TxError {
    TxError::new("merge", m)
}

fn io(m: impl std::fmt::Display) -> TxError {
    TxError::new("io", m.to_string())
}

/// The state block `{facts: N, digest: <32 bytes>}` and its CID.
pub(crate) fn state_cid(facts: u64, sum: &[u8; 32]) -> Cid {
    let mut m = BTreeMap::new();
    m.insert("facts".to_string(), Ipld::Integer(i128::from(facts)));
    m.insert("digest".to_string(), Ipld::Bytes(sum.to_vec()));
    encode::cid_of(&encode::to_bytes(&Ipld::Map(m)).expect("a state block encodes"))
}

impl Store {
    /// This replica's id (minted when the store was created).
    pub fn replica_id(&self) -> Gid {
        self.inner.replica
    }

    fn reading<T>(&self, f: impl FnOnce(&Reader) -> Result<T, String>) -> Result<T, TxError> {
        let txn = self.inner.env.read_txn().map_err(io)?;
        let r = Reader {
            inner: &self.inner,
            txn: &txn,
        };
        f(&r).map_err(io)
    }

    /// The replica's state as committed now (by any process).
    pub fn state(&self) -> Result<State, TxError> {
        self.reading(|r| {
            let meta = disk::Meta::read(r.inner, r.txn)?;
            Ok(State {
                facts: meta.facts,
                cid: state_cid(meta.facts, &meta.sum),
                heads: meta.heads,
            })
        })
    }

    /// Whether the store holds the commit.
    pub fn has_commit(&self, c: &Cid) -> Result<bool, TxError> {
        self.reading(|r| Ok(r.commit_at(c)?.is_some()))
    }

    /// Whether the store holds the fact.
    pub fn has_fact(&self, c: &Cid) -> Result<bool, TxError> {
        self.reading(|r| Ok(r.fact_at(c)?.is_some()))
    }

    /// The commit block with this CID, and the blocks of its facts, if the store holds it.
    pub fn commit_block(&self, c: &Cid) -> Result<Option<(CommitBlock, Blocks)>, TxError> {
        self.reading(|r| {
            let Some(seq) = r.commit_at(c)? else {
                return Ok(None);
            };
            read_block(r, seq).map(Some)
        })
    }

    /// The parents of the commit with this CID, if the store holds it (read without the
    /// commit's facts).
    pub fn commit_parents(&self, c: &Cid) -> Result<Option<Vec<Cid>>, TxError> {
        self.reading(|r| {
            let Some(seq) = r.commit_at(c)? else {
                return Ok(None);
            };
            // Only the record's head is read (no copy of its facts).
            disk::read_parents(r.log_record(seq)?).map(Some)
        })
    }

    /// The fact blocks the commit that brought the fact with this CID brought (the fact's
    /// among them), if the store holds the fact: a reader of many facts of one commit reads
    /// the commit once.
    pub fn blocks_with_fact(&self, c: &Cid) -> Result<Option<Blocks>, TxError> {
        self.reading(|r| {
            let Some((seq, _)) = r.fact_at(c)? else {
                return Ok(None);
            };
            read_block(r, seq).map(|(_, blocks)| Some(blocks))
        })
    }

    /// The block of the fact with this CID, if the store holds it.
    pub fn fact_block(&self, c: &Cid) -> Result<Option<Vec<u8>>, TxError> {
        self.reading(|r| {
            let Some((seq, i)) = r.fact_at(c)? else {
                return Ok(None);
            };
            let raw = r.log_record(seq)?;
            let commit = disk::read_commit(r, seq, raw)?;
            Ok(commit.facts.get(i as usize).map(Fact::encode))
        })
    }

    /// The number of commits the store holds (log positions `0..n`).
    pub fn commit_count(&self) -> Result<u64, TxError> {
        self.reading(|r| Ok(disk::Meta::read(r.inner, r.txn)?.commits))
    }

    /// The commit at log position `seq` (parents come at earlier positions) and the fact
    /// blocks it brought.
    pub fn commit_at_position(&self, seq: u64) -> Result<(CommitBlock, Blocks), TxError> {
        self.reading(|r| read_block(r, seq))
    }

    /// Calls `f` with every commit (in log order, so parents first) and its fact blocks, each
    /// fact only with the first commit that brought it.
    pub fn for_each_commit(
        &self,
        mut f: impl FnMut(CommitBlock, Blocks) -> Result<(), String>,
    ) -> Result<(), TxError> {
        self.reading(|r| {
            let it = r.inner.t.log.iter(r.txn).map_err(disk::mdb_msg)?;
            for kv in it {
                let (k, _) = kv.map_err(disk::mdb_msg)?;
                let seq = u64::from_be_bytes(k.try_into().map_err(|_| "a damaged log key")?);
                let (c, facts) = read_block(r, seq)?;
                f(c, facts)?;
            }
            Ok(())
        })
    }

    /// Merges commit and fact blocks from another replica (see the module docs). Blocks the
    /// store holds are skipped; nothing is written unless all of it can be.
    pub fn merge(
        &mut self,
        commits: Vec<(Cid, Vec<u8>)>,
        facts: Vec<(Cid, Vec<u8>)>,
    ) -> Result<MergeReport, TxError> {
        if self.read_only {
            return Err(TxError::new("io", "the store was opened read-only"));
        }
        // Fact blocks are checked against their CIDs now and decoded commit by commit, so
        // that only one commit's facts are ever decoded at once.
        let mut blocks: HashMap<Cid, Vec<u8>> = HashMap::with_capacity(facts.len());
        // A fact block's CID is checked when the fact is rebuilt from what it decodes to
        // (`localize`), which also proves the block canonical.
        for (c, b) in facts {
            blocks.insert(c, b);
        }
        let mut decoded: HashMap<Cid, CommitContent> = HashMap::with_capacity(commits.len());
        for (c, b) in &commits {
            if !verify_cid(c, b) {
                return Err(bad(format!("commit block {c} does not match its CID")));
            }
            let d = commit_from_bytes(b).map_err(|m| bad(format!("commit block {c}: {m}")))?;
            decoded.insert(*c, d);
        }
        let inner = self.inner.clone();
        let mut w = inner.env.write_txn().map_err(io)?;
        let meta = self.meta.clone();
        let mut report = MergeReport::default();
        // The commits to write, parents first.
        let order = {
            let r = Reader {
                inner: &inner,
                txn: &w,
            };
            let mut held = |c: &Cid| r.commit_at(c).map(|s| s.is_some()).map_err(io);
            let mut todo: Vec<Cid> = Vec::new();
            for c in decoded.keys() {
                if held(c)? {
                    report.known_commits += 1;
                } else {
                    todo.push(*c);
                }
            }
            todo.sort();
            topological(&todo, &decoded, &mut held)?
        };
        let mut m = Merging {
            inner: &inner,
            meta,
            schema: self.schema.clone(),
            cache: HashMap::new(),
            report,
            datoms: true,
        };
        let result = (|| -> Result<(), TxError> {
            for cid in order {
                m.commit(&mut w, cid, &decoded[&cid], &mut blocks)?;
            }
            Ok(())
        })();
        self.finish_merge(w, m, result)
    }

    /// Merges another replica's commits one at a time as `next` yields them, each with the
    /// blocks of the facts it brings (a commit's other facts must be held, or brought by a
    /// commit before it), parents before children, in one write transaction: what is in memory
    /// is one commit. Commits the store holds are skipped. Any error — from `next`, a block
    /// that does not verify, a missing parent or fact — writes nothing. With `datoms`, the
    /// report lists the new facts as datoms (for live queries).
    pub fn merge_stream(
        &mut self,
        mut next: impl FnMut() -> Result<Option<(Cid, Vec<u8>, Blocks)>, String>,
        datoms: bool,
    ) -> Result<MergeReport, TxError> {
        if self.read_only {
            return Err(TxError::new("io", "the store was opened read-only"));
        }
        let inner = self.inner.clone();
        let mut w = inner.env.write_txn().map_err(io)?;
        let mut m = Merging {
            inner: &inner,
            meta: self.meta.clone(),
            schema: self.schema.clone(),
            cache: HashMap::new(),
            report: MergeReport::default(),
            datoms,
        };
        let result = (|| -> Result<(), TxError> {
            while let Some((cid, block, facts)) = next().map_err(bad)? {
                if !verify_cid(&cid, &block) {
                    return Err(bad(format!("commit block {cid} does not match its CID")));
                }
                let c = commit_from_bytes(&block)
                    .map_err(|e| bad(format!("commit block {cid}: {e}")))?;
                let r = Reader {
                    inner: &inner,
                    txn: &w,
                };
                if r.commit_at(&cid).map_err(io)?.is_some() {
                    m.report.known_commits += 1;
                    continue;
                }
                for p in &c.parents {
                    if r.commit_at(p).map_err(io)?.is_none() {
                        return Err(bad(format!(
                            "commit {cid} names parent {p}, which is neither held nor sent before it"
                        )));
                    }
                }
                let mut blocks: HashMap<Cid, Vec<u8>> = facts.into_iter().collect();
                m.commit(&mut w, cid, &c, &mut blocks)?;
            }
            Ok(())
        })();
        self.finish_merge(w, m, result)
    }

    /// Commits a merge's write transaction (or drops it after an error) and takes its state.
    fn finish_merge(
        &mut self,
        w: heed::RwTxn,
        m: Merging,
        result: Result<(), TxError>,
    ) -> Result<MergeReport, TxError> {
        let inner = self.inner.clone();
        if let Err(e) = result {
            drop(w);
            inner.forget_attrs();
            return Err(e);
        }
        if m.report.commits > 0 {
            if let Err(e) = w.commit() {
                inner.forget_attrs();
                return Err(io(e));
            }
            self.meta = m.meta;
            self.schema = m.schema;
            *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        Ok(m.report)
    }
}

/// A merge in progress: the state it writes, and what it found.
struct Merging<'i> {
    inner: &'i super::disk::Inner,
    meta: disk::Meta,
    schema: Arc<super::Schema>,
    /// Facts of commits the store held, read back for a commit that names them again.
    cache: HashMap<u64, Vec<Fact>>,
    report: MergeReport,
    /// Whether the report lists the new facts as datoms.
    datoms: bool,
}

impl Merging<'_> {
    /// Writes one commit the store does not hold (its parents are held) at the next local `t`.
    fn commit(
        &mut self,
        w: &mut heed::RwTxn,
        cid: Cid,
        c: &CommitContent,
        blocks: &mut HashMap<Cid, Vec<u8>>,
    ) -> Result<(), TxError> {
        let t = self.meta.last_t.map_or(1, |t| t + 1);
        let (local, present, new_ids) = {
            let r = Reader {
                inner: self.inner,
                txn: w,
            };
            localize(
                &r,
                &mut self.meta,
                c,
                &cid,
                blocks,
                &mut self.cache,
                t,
                &self.schema,
            )?
        };
        self.report.new_facts += present.iter().filter(|p| !**p).count() as u64;
        if self.datoms {
            self.report.datoms.extend(
                local
                    .iter()
                    .zip(&present)
                    .filter(|(_, p)| !**p)
                    .map(|(f, _)| f.datom()),
            );
        }
        let new_entities = new_ids.iter().map(|(e, _)| *e).collect();
        let nc = NewCommit {
            t,
            author_t: c.t,
            cid,
            parents: c.parents.clone(),
            facts: &local,
            present,
            new_ids: &new_ids,
            new_entities,
        };
        let mut wr = disk::Writer::new(self.inner, w, &mut self.meta);
        wr.set_merging(true);
        let changed = wr
            .commit(&nc, &self.schema)
            .and_then(|s| wr.finish().map(|_| s))
            .map_err(bad)?;
        if let Some(s) = changed {
            self.schema = Arc::new(s);
        }
        self.report.commits += 1;
        Ok(())
    }
}

/// The commit at log position `seq` as a block, with the blocks of the facts it brought.
fn read_block(r: &Reader, seq: u64) -> Result<(CommitBlock, Blocks), String> {
    let raw = r.log_record(seq)?;
    let c = disk::read_commit(r, seq, raw)?;
    let (cid, block) = log::commit_block(c.author_t, &c.facts, &c.parents);
    let blocks = c
        .facts
        .iter()
        .zip(&c.present)
        .filter(|(_, p)| !**p)
        .map(|(f, _)| (f.cid, f.encode()))
        .collect();
    Ok((
        CommitBlock {
            cid,
            block,
            parents: c.parents,
            facts: c.facts.iter().map(|f| f.cid).collect(),
        },
        blocks,
    ))
}

/// `todo` in an order where every commit comes after its parents; a parent neither held nor
/// in `todo` is an error.
fn topological(
    todo: &[Cid],
    decoded: &HashMap<Cid, CommitContent>,
    held: &mut dyn FnMut(&Cid) -> Result<bool, TxError>,
) -> Result<Vec<Cid>, TxError> {
    let pending: HashSet<Cid> = todo.iter().copied().collect();
    let mut done: HashSet<Cid> = HashSet::new();
    let mut out = Vec::with_capacity(todo.len());
    let mut state: HashMap<Cid, bool> = HashMap::new(); // false: on the stack
    for &root in todo {
        // Iterative depth-first post-order.
        let mut stack = vec![(root, false)];
        while let Some((c, expanded)) = stack.pop() {
            if done.contains(&c) {
                continue;
            }
            if expanded {
                done.insert(c);
                state.insert(c, true);
                out.push(c);
                continue;
            }
            if state.get(&c) == Some(&false) {
                return Err(bad(format!("commit {c} is its own ancestor")));
            }
            state.insert(c, false);
            stack.push((c, true));
            for p in &decoded[&c].parents {
                if pending.contains(p) {
                    if !done.contains(p) {
                        stack.push((*p, false));
                    }
                } else if !held(p)? {
                    return Err(bad(format!(
                        "commit {c} names parent {p}, which is neither held nor sent"
                    )));
                }
            }
        }
    }
    Ok(out)
}

/// The local form of a merged commit's facts at local `t`: entities mapped to local numbers
/// (new ones numbered as their facts suggest: an attribute from `IDENT0`, the commit's
/// transaction entity as `TX0 + t`, others after the largest user entity), which of them the
/// store holds already, and the global ids to record.
#[allow(clippy::too_many_arguments)]
fn localize(
    r: &Reader,
    meta: &mut disk::Meta,
    c: &CommitContent,
    cid: &Cid,
    blocks: &mut HashMap<Cid, Vec<u8>>,
    cache: &mut HashMap<u64, Vec<Fact>>,
    t: u64,
    schema: &super::Schema,
) -> Result<Localized, TxError> {
    let tx = TX0 + t as i64;
    let mut contents: Vec<FactContent> = Vec::with_capacity(c.facts.len());
    let mut present = Vec::with_capacity(c.facts.len());
    let mut known: HashMap<Gid, bool> = HashMap::new();
    let mut here: HashMap<Cid, usize> = HashMap::new();
    for f in &c.facts {
        // A fact the commit names twice is written once.
        if let Some(&i) = here.get(f) {
            let again = contents[i].clone();
            present.push(true);
            contents.push(again);
            continue;
        }
        here.insert(*f, contents.len());
        // A block sent is used once: a fact named again (by a later commit of the merge) is
        // held by then, and read back like any held fact.
        let sent = match blocks.remove(f) {
            Some(b) => Some(decode_fact(&b).map_err(|m| bad(format!("fact block {f}: {m}")))?),
            None => None,
        };
        // A fact whose entity the store does not know cannot be held: no lookup for it.
        let held = match &sent {
            Some(b) => {
                let knows = match known.get(&b.e) {
                    Some(k) => *k,
                    None => {
                        let k = r.eid(&b.e).map_err(io)?.is_some();
                        known.insert(b.e, k);
                        k
                    }
                };
                if knows {
                    r.fact_at(f).map_err(io)?
                } else {
                    None
                }
            }
            None => r.fact_at(f).map_err(io)?,
        };
        let content = match (sent, held) {
            (Some(b), _) => b,
            (None, Some((seq, i))) => {
                let cached = match cache.entry(seq) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        let raw = r.log_record(seq).map_err(io)?;
                        v.insert(disk::read_commit(r, seq, raw).map_err(io)?.facts)
                    }
                };
                let fact = cached
                    .get(i as usize)
                    .ok_or_else(|| io(format!("a damaged fact index entry for {f}")))?;
                fact_from_bytes(&fact.encode()).map_err(io)?
            }
            (None, None) => {
                return Err(bad(format!(
                    "commit {cid} names fact {f}, which is neither held nor sent"
                )));
            }
        };
        present.push(held.is_some());
        contents.push(content);
    }
    // New entities' numbers.
    let mut local: HashMap<Gid, i64> = HashMap::new();
    let mut new_ids = Vec::new();
    let idents: HashSet<Gid> = contents
        .iter()
        .filter(|f| f.a == "db/ident")
        .map(|f| f.e)
        .collect();
    let txs: HashSet<Gid> = contents
        .iter()
        .filter(|f| f.a == "db/txInstant")
        .map(|f| f.e)
        .collect();
    let mut tx_used = r.gid(tx).map_err(io)?.is_some();
    let mut number = |g: Gid, local: &mut HashMap<Gid, i64>| -> Result<i64, TxError> {
        if let Some(&e) = local.get(&g) {
            return Ok(e);
        }
        let e = match r.eid(&g).map_err(io)? {
            Some(e) => e,
            None => {
                let e = if idents.contains(&g) {
                    meta.max_ident = meta.max_ident.max(IDENT0 - 1) + 1;
                    meta.max_ident
                } else if txs.contains(&g) && !tx_used {
                    tx_used = true;
                    tx
                } else {
                    meta.max_eid += 1;
                    if meta.max_eid >= TX0 {
                        return Err(bad("the store has no entity numbers left below TX0"));
                    }
                    meta.max_eid
                };
                new_ids.push((e, g));
                e
            }
        };
        local.insert(g, e);
        Ok(e)
    };
    let mut facts = Vec::with_capacity(contents.len());
    for (f, want) in contents.into_iter().zip(&c.facts) {
        let e = number(f.e, &mut local)?;
        let v = match f.v_entity {
            Some(g) => Value::Int(number(g, &mut local)?),
            None => f.v.clone(),
        };
        if f.v_entity.is_none() && schema.attr(&f.a).is_ref && matches!(v, Value::Int(_)) {
            return Err(bad(format!(
                "fact {want} gives the reference attribute :{} a plain number",
                f.a
            )));
        }
        let ids = Ids {
            e: f.e,
            v: f.v_entity,
        };
        let fact = Fact::new(e, f.a, v, f.added, f.causes, tx, ids).map_err(bad)?;
        if fact.cid != *want {
            return Err(bad(format!(
                "fact block {want} does not match its CID (or is not in canonical form)"
            )));
        }
        facts.push(fact);
    }
    Ok((facts, present, new_ids))
}
