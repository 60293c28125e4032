//! The replica trait the store implements, and the history walks built on it: what a peer is
//! missing, in parents-first order, and whole-replica export and import as CAR files.
//!
//! A replica's history is a DAG of commit blocks; each commit names its parent commits and the
//! fact blocks it adds. The trait is deliberately small and object safe (`&mut dyn Replica`) so
//! the store crate can implement it without this crate depending on the store. Every method
//! returns `Result<_, String>`: the store's errors only need to be reported, never matched on.
//!
//! Invariants the helpers rely on: a replica that holds a commit holds all of that commit's
//! ancestors and facts (merges are all-or-nothing and parents come first), so a walk may stop
//! at any commit the other side is known to hold.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};

use cid::Cid;

use crate::block::{DAG_CBOR, cid_of};
use crate::car::{CarError, CarReader, write_car};

/// A commit as the replica holds it: its CID, its encoded block, and what the block names.
/// `parents` and `facts` must be what [`Replica::parse_commit`] returns for `block`, in the
/// same order: the sync protocol indexes facts by their position in these lists. Commit
/// blocks are DAG-CBOR, so `cid` is the dag-cbor sha2-256 CIDv1 of `block`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    pub cid: Cid,
    pub block: Vec<u8>,
    pub parents: Vec<Cid>,
    pub facts: Vec<Cid>,
}

/// What a store offers to sync: read access to its commit DAG and fact blocks, decoding of
/// commit blocks, and one all-or-nothing merge.
pub trait Replica {
    /// The commits that no held commit names as a parent.
    fn heads(&self) -> Result<Vec<Cid>, String>;
    /// Whether the commit is held (and so, by the merge invariant, all its ancestors and facts).
    fn has_commit(&self, c: &Cid) -> Result<bool, String>;
    /// The commit, if held.
    fn commit(&self, c: &Cid) -> Result<Option<Commit>, String>;
    /// The commit's parents, if held: what walks of the history read, so a replica whose
    /// commits are costly to load whole can answer it cheaply.
    fn parents(&self, c: &Cid) -> Result<Option<Vec<Cid>>, String> {
        Ok(self.commit(c)?.map(|c| c.parents))
    }
    /// Whether the fact block is held.
    fn has_fact(&self, c: &Cid) -> Result<bool, String>;
    /// The fact block's bytes, if held.
    fn fact(&self, c: &Cid) -> Result<Option<Vec<u8>>, String>;
    /// Parents and fact CIDs of a commit block received from a peer (the receiver decodes,
    /// never trusts the sender's lists).
    fn parse_commit(&self, block: &[u8]) -> Result<(Vec<Cid>, Vec<Cid>), String>;
    /// Merges received commits (parents before children) and fact blocks, all-or-nothing: on
    /// error nothing is written. Every block has been verified against its CID, every commit's
    /// parents are earlier in `commits` or already held, and every commit's facts are in
    /// `facts` or already held. Returns how many facts were new.
    fn merge(
        &mut self,
        commits: Vec<(Cid, Vec<u8>)>,
        facts: Vec<(Cid, Vec<u8>)>,
    ) -> Result<u64, String>;

    /// Merges commits as `next` yields them, each with the fact blocks it brings (parents
    /// first), all or nothing: an error from `next` or from the merge writes nothing. A
    /// replica that can write as it reads keeps one commit in memory; the default collects
    /// everything and calls [`Replica::merge`].
    fn merge_stream(&mut self, next: &mut CommitFeed) -> Result<u64, String> {
        let (mut commits, mut facts) = (Vec::new(), Vec::new());
        while let Some((cid, block, f)) = next()? {
            commits.push((cid, block));
            facts.extend(f);
        }
        if commits.is_empty() {
            return Ok(0);
        }
        self.merge(commits, facts)
    }
}

/// A commit (CID, block) with the fact blocks it brings.
pub type CommitWithFacts = (Cid, Vec<u8>, Vec<(Cid, Vec<u8>)>);

/// What [`Replica::merge_stream`] reads: the next commit with its facts, or None at the end.
pub type CommitFeed<'a> = dyn FnMut() -> Result<Option<CommitWithFacts>, String> + 'a;

/// Loads a commit that the DAG says must be held; a hole is reported as a store error.
pub(crate) fn load_commit(replica: &dyn Replica, cid: &Cid) -> Result<Commit, String> {
    replica
        .commit(cid)?
        .ok_or_else(|| format!("the replica names commit {cid} but does not hold it"))
}

/// Every held commit reachable from `starts` (inclusive). CIDs the replica does not hold are
/// skipped: they are commits only the peer knows.
pub fn ancestors(replica: &dyn Replica, starts: &[Cid]) -> Result<HashSet<Cid>, String> {
    let mut seen = HashSet::new();
    let mut work = Vec::new();
    for c in starts {
        if replica.has_commit(c)? && seen.insert(*c) {
            work.push(*c);
        }
    }
    while let Some(c) = work.pop() {
        let parents = replica
            .parents(&c)?
            .ok_or_else(|| format!("the replica names commit {c} but does not hold it"))?;
        for p in parents {
            if seen.insert(p) {
                work.push(p);
            }
        }
    }
    Ok(seen)
}

/// The commits reachable from our heads that are not ancestors of the `remote` commits we
/// hold, parents first. Remote CIDs we do not hold tell us nothing and are ignored, so the
/// result may include commits the peer already has when histories diverged below every remote
/// CID we know; callers send a sample of ancestors along with heads to keep that small.
pub fn missing_for(replica: &dyn Replica, remote: &[Cid]) -> Result<Vec<Commit>, String> {
    let heads = replica.heads()?;
    missing_between(replica, &heads, remote)
}

/// [`missing_for`] from explicit `from` commits instead of the replica's heads.
pub fn missing_between(
    replica: &dyn Replica,
    from: &[Cid],
    remote: &[Cid],
) -> Result<Vec<Commit>, String> {
    let known = ancestors(replica, remote)?;
    let mut found: HashMap<Cid, Commit> = HashMap::new();
    let mut work: Vec<Cid> = Vec::new();
    for c in from {
        if !known.contains(c) && !found.contains_key(c) {
            found.insert(*c, load_commit(replica, c)?);
            work.push(*c);
        }
    }
    while let Some(c) = work.pop() {
        let parents = found[&c].parents.clone();
        for p in parents {
            if !known.contains(&p) && !found.contains_key(&p) {
                found.insert(p, load_commit(replica, &p)?);
                work.push(p);
            }
        }
    }
    Ok(topological(found, from))
}

/// Orders `commits` parents first. The order is deterministic for a given set and `from`
/// order: a depth-first post-order from each of `from` in turn, visiting parents in the order
/// the commit names them. Iterative, so a long chain cannot overflow the stack.
pub fn topological(mut commits: HashMap<Cid, Commit>, from: &[Cid]) -> Vec<Commit> {
    let mut order = Vec::with_capacity(commits.len());
    let mut done: HashSet<Cid> = HashSet::new();
    // Roots: the given starting points, then (for a set not closed under `from`) any leftovers
    // in CID order so the result still holds every commit.
    let mut roots: Vec<Cid> = from.to_vec();
    let mut rest: Vec<Cid> = commits.keys().copied().collect();
    rest.sort();
    roots.extend(rest);
    for root in roots {
        if !commits.contains_key(&root) || done.contains(&root) {
            continue;
        }
        // Each frame is a commit and the index of the next parent to visit.
        let mut stack: Vec<(Cid, usize)> = vec![(root, 0)];
        done.insert(root);
        while let Some((c, i)) = stack.pop() {
            let parents = &commits[&c].parents;
            if let Some(p) = parents.get(i).copied() {
                stack.push((c, i + 1));
                if commits.contains_key(&p) && done.insert(p) {
                    stack.push((p, 0));
                }
            } else {
                order.push(c);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|c| commits.remove(&c))
        .collect()
}

/// Writes every commit reachable from the replica's heads, parents first, each followed by
/// those of its facts not written before, as a CARv1 file with the given roots. Returns the
/// bytes written. [`import`] relies on this layout: every fact follows a commit that names it.
pub fn export(replica: &dyn Replica, roots: &[Cid], w: impl Write) -> Result<u64, String> {
    let commits = missing_for(replica, &[])?;
    // Blocks are produced lazily, so only one commit's facts are in memory at a time; a store
    // error stops the iteration and is reported after the writer returns.
    let mut failure: Option<String> = None;
    let mut written: HashSet<Cid> = HashSet::new();
    let blocks = commits.into_iter().map_while(|commit| {
        if failure.is_some() {
            return None;
        }
        let mut out = vec![(commit.cid, commit.block)];
        for f in &commit.facts {
            if !written.insert(*f) {
                continue;
            }
            match replica.fact(f) {
                Ok(Some(data)) => out.push((*f, data)),
                Ok(None) => {
                    failure = Some(format!(
                        "commit {} names fact {f}, which the replica does not hold",
                        commit.cid
                    ));
                    return None;
                }
                Err(e) => {
                    failure = Some(e);
                    return None;
                }
            }
        }
        Some(out)
    });
    let result = write_car(w, roots, blocks.flatten());
    if let Some(e) = failure {
        return Err(format!("exporting: {e}; the CAR file is incomplete"));
    }
    result.map_err(|e| format!("writing the CAR file: {e}"))
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The roots in the file's header.
    pub roots: Vec<Cid>,
    /// Commits in the file, and how many of them the replica did not hold.
    pub commits: u64,
    pub new_commits: u64,
    /// Fact blocks in the file, and how many the merge reported as new.
    pub facts: u64,
    pub new_facts: u64,
}

/// Why an import merged nothing.
#[derive(Debug)]
pub enum ImportError {
    /// The file could not be read or did not verify.
    Car(CarError),
    /// The file verified but its history is incomplete or malformed.
    Invalid(String),
    /// The replica failed.
    Replica(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Car(e) => write!(f, "import: {e}"),
            ImportError::Invalid(why) => write!(f, "import: {why}"),
            ImportError::Replica(why) => write!(f, "import: the replica failed: {why}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Reads a CAR file written by [`export`] and merges it in one call. Every block is verified
/// while reading; a block is a fact if an earlier commit in the file names it, and a commit
/// otherwise. Before merging, every new commit's parents must be earlier in the file or held,
/// and its facts in the file or held. Any failure — a bad or truncated file included — merges
/// nothing.
pub fn import(replica: &mut dyn Replica, r: impl Read) -> Result<ImportReport, ImportError> {
    let mut reader = CarReader::new(r).map_err(ImportError::Car)?;
    let mut report = ImportReport {
        roots: reader.roots().to_vec(),
        ..Default::default()
    };
    let mut named_facts: HashSet<Cid> = HashSet::new();
    let mut commits: Vec<Commit> = Vec::new();
    let mut facts: HashMap<Cid, Vec<u8>> = HashMap::new();
    while let Some((cid, data)) = reader.next_block().map_err(ImportError::Car)? {
        if named_facts.contains(&cid) {
            report.facts += 1;
            facts.insert(cid, data);
            continue;
        }
        if cid != cid_of(DAG_CBOR, &data) {
            return Err(ImportError::Invalid(format!(
                "block {cid} is named by no earlier commit, so it must be a commit, but it is not a dag-cbor block"
            )));
        }
        let (parents, fact_cids) = replica.parse_commit(&data).map_err(|e| {
            ImportError::Invalid(format!(
                "block {cid} is neither a fact named by an earlier commit nor a commit: {e}"
            ))
        })?;
        named_facts.extend(fact_cids.iter().copied());
        report.commits += 1;
        commits.push(Commit {
            cid,
            block: data,
            parents,
            facts: fact_cids,
        });
    }
    let mut merged_commits: Vec<(Cid, Vec<u8>)> = Vec::new();
    let mut new_in_file: HashSet<Cid> = HashSet::new();
    let mut needed_facts: HashSet<Cid> = HashSet::new();
    let replica_ro: &dyn Replica = replica;
    for Commit {
        cid,
        block: data,
        parents,
        facts: fact_cids,
    } in commits
    {
        if new_in_file.contains(&cid)
            || replica_ro.has_commit(&cid).map_err(ImportError::Replica)?
        {
            continue;
        }
        for p in &parents {
            if !new_in_file.contains(p)
                && !replica_ro.has_commit(p).map_err(ImportError::Replica)?
            {
                return Err(ImportError::Invalid(format!(
                    "commit {cid} names parent {p}, which is neither earlier in the file nor held"
                )));
            }
        }
        for f in &fact_cids {
            if !facts.contains_key(f) && !replica_ro.has_fact(f).map_err(ImportError::Replica)? {
                return Err(ImportError::Invalid(format!(
                    "commit {cid} names fact {f}, which is neither in the file nor held"
                )));
            }
            needed_facts.insert(*f);
        }
        new_in_file.insert(cid);
        merged_commits.push((cid, data));
    }
    report.new_commits = merged_commits.len() as u64;
    let mut merged_facts: Vec<(Cid, Vec<u8>)> = facts
        .into_iter()
        .filter(|(c, _)| needed_facts.contains(c))
        .collect();
    merged_facts.sort_by_key(|(c, _)| *c);
    if merged_commits.is_empty() && merged_facts.is_empty() {
        return Ok(report);
    }
    report.new_facts = replica
        .merge(merged_commits, merged_facts)
        .map_err(ImportError::Replica)?;
    Ok(report)
}
