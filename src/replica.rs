//! A store as a replica (`pomo-sync`'s [`Replica`]): CAR export and import, and two-way sync
//! over TCP, on the library's [`Store`]. The CLI's `export`, `import --car`, `serve`, `sync`
//! and `status` are these functions; [`crate::api::Pomo`] wraps them so that live
//! subscriptions see what a merge brought.

use cid::Cid;
use pomo_runtime::store::{Blocks, Datom, MergeReport, Store, commit_from_bytes};
use pomo_sync::Commit;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{Read, Write};

pub use pomo_sync::{
    ImportReport, Options, Replica, Report, ServeEvent, SyncError, check_listen_addr, generate_key,
    key_to_hex, load_key, serve,
};

enum Held<'s> {
    Ref(&'s Store),
    Mut(&'s mut Store),
    Owned(Box<Store>),
}

/// A store seen through the sync protocol's [`Replica`] trait.
pub struct StoreReplica<'s> {
    store: Held<'s>,
    /// The fact blocks of the commit read last: the protocol asks for a commit's facts one by
    /// one, and the store reads them a commit at a time.
    cache: RefCell<HashMap<Cid, Vec<u8>>>,
    /// What the merges through this replica brought, as datoms (for live queries).
    pub merged: Vec<Datom>,
    /// The merges' reports.
    pub reports: Vec<MergeReport>,
    /// Whether merges list their new facts as datoms in `merged` (for live queries).
    pub datoms: bool,
}

impl<'s> StoreReplica<'s> {
    /// A replica that merges into `store`.
    pub fn new(store: &'s mut Store) -> StoreReplica<'s> {
        StoreReplica::with(Held::Mut(store))
    }

    /// A replica that can be read (exported, pulled from) but refuses merges.
    pub fn reading(store: &'s Store) -> StoreReplica<'s> {
        StoreReplica::with(Held::Ref(store))
    }

    /// A replica that owns its store (what a server opens for each peer).
    pub fn owned(store: Store) -> StoreReplica<'static> {
        // Nobody reads a served replica's merged datoms.
        let mut r = StoreReplica::with(Held::Owned(Box::new(store)));
        r.datoms = false;
        r
    }

    fn with(store: Held<'s>) -> StoreReplica<'s> {
        StoreReplica {
            store,
            cache: RefCell::new(HashMap::new()),
            merged: Vec::new(),
            reports: Vec::new(),
            datoms: true,
        }
    }

    fn store(&self) -> &Store {
        match &self.store {
            Held::Ref(s) => s,
            Held::Mut(s) => s,
            Held::Owned(s) => s,
        }
    }

    /// Keeps the fact blocks of the commit read last (the protocol asks for facts in commit
    /// order, so one commit's blocks serve a run of requests; memory holds one commit).
    fn remember(&self, blocks: Blocks) {
        let mut c = self.cache.borrow_mut();
        c.clear();
        c.extend(blocks);
    }
}

fn msg(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Replica for StoreReplica<'_> {
    fn heads(&self) -> Result<Vec<Cid>, String> {
        Ok(self.store().state().map_err(msg)?.heads)
    }

    fn has_commit(&self, c: &Cid) -> Result<bool, String> {
        self.store().has_commit(c).map_err(msg)
    }

    fn commit(&self, c: &Cid) -> Result<Option<Commit>, String> {
        // Its fact blocks are read again when they are asked for (the protocol reads every
        // commit it sends before it sends any fact; keeping them all would hold the history).
        let Some((commit, _)) = self.store().commit_block(c).map_err(msg)? else {
            return Ok(None);
        };
        Ok(Some(Commit {
            cid: commit.cid,
            block: commit.block,
            parents: commit.parents,
            facts: commit.facts,
        }))
    }

    fn parents(&self, c: &Cid) -> Result<Option<Vec<Cid>>, String> {
        self.store().commit_parents(c).map_err(msg)
    }

    fn has_fact(&self, c: &Cid) -> Result<bool, String> {
        if self.cache.borrow().contains_key(c) {
            return Ok(true);
        }
        self.store().has_fact(c).map_err(msg)
    }

    fn fact(&self, c: &Cid) -> Result<Option<Vec<u8>>, String> {
        if let Some(b) = self.cache.borrow_mut().remove(c) {
            return Ok(Some(b));
        }
        let Some(blocks) = self.store().blocks_with_fact(c).map_err(msg)? else {
            return Ok(None);
        };
        self.remember(blocks);
        Ok(self.cache.borrow_mut().remove(c))
    }

    fn parse_commit(&self, block: &[u8]) -> Result<(Vec<Cid>, Vec<Cid>), String> {
        let c = commit_from_bytes(block)?;
        Ok((c.parents, c.facts))
    }

    fn merge_stream(&mut self, next: &mut pomo_sync::replica::CommitFeed) -> Result<u64, String> {
        let datoms = self.datoms;
        let store: &mut Store = match &mut self.store {
            Held::Mut(s) => s,
            Held::Owned(s) => s,
            Held::Ref(_) => return Err("this replica is open for reading only".into()),
        };
        let report = store.merge_stream(next, datoms).map_err(|e| e.message)?;
        let new = report.new_facts;
        self.merged.extend(report.datoms.iter().cloned());
        self.reports.push(report);
        Ok(new)
    }

    fn merge(
        &mut self,
        commits: Vec<(Cid, Vec<u8>)>,
        facts: Vec<(Cid, Vec<u8>)>,
    ) -> Result<u64, String> {
        let store: &mut Store = match &mut self.store {
            Held::Mut(s) => s,
            Held::Owned(s) => s,
            Held::Ref(_) => return Err("this replica is open for reading only".into()),
        };
        let report = store.merge(commits, facts).map_err(|e| e.message)?;
        let new = report.new_facts;
        self.merged.extend(report.datoms.iter().cloned());
        self.reports.push(report);
        Ok(new)
    }
}

/// Writes every commit and fact of `store` as a CARv1 file whose root is the store's state
/// CID; returns the bytes written.
pub fn export_car(store: &Store, w: impl Write) -> Result<u64, String> {
    let state = store.state().map_err(msg)?;
    let commits = store.commit_count().map_err(msg)?;
    // One commit at a time, in log order (parents first): each commit block, then the fact
    // blocks it brought; memory holds one commit.
    let mut failure = None;
    let blocks = (0..commits)
        .map_while(|seq| match store.commit_at_position(seq) {
            Ok((c, facts)) => Some(std::iter::once((c.cid, c.block)).chain(facts)),
            Err(e) => {
                failure = Some(e.message);
                None
            }
        })
        .flatten();
    let written = pomo_sync::write_car(w, &[state.cid], blocks);
    if let Some(e) = failure {
        return Err(format!("exporting: {e}; the CAR file is incomplete"));
    }
    written.map_err(|e| format!("writing the CAR file: {e}"))
}

/// Merges a CAR file written by [`export_car`] into `store`: every block verified, union by
/// CID, all or nothing. It is read as it merges, one commit at a time (each commit block
/// followed by the blocks of the facts it brings, parents before children, which is how
/// `export_car` writes it), so memory holds one commit. Returns the import's report and what
/// the merge brought, as datoms.
pub fn import_car(store: &mut Store, r: impl Read) -> Result<(ImportReport, Vec<Datom>), String> {
    import_car_with(store, r, true)
}

/// [`import_car`], listing the new facts as datoms only with `datoms` (for live queries).
pub fn import_car_with(
    store: &mut Store,
    r: impl Read,
    datoms: bool,
) -> Result<(ImportReport, Vec<Datom>), String> {
    let mut reader = pomo_sync::CarReader::new(r).map_err(|e| format!("import: {e}"))?;
    let mut report = ImportReport {
        roots: reader.roots().to_vec(),
        ..ImportReport::default()
    };
    // The commit being read: its CID and block, the facts it names, the fact blocks so far.
    type Reading = (Cid, Vec<u8>, std::collections::HashSet<Cid>, Blocks);
    let mut reading: Option<Reading> = None;
    let mut next = || -> Result<Option<(Cid, Vec<u8>, Blocks)>, String> {
        loop {
            let Some((cid, data)) = reader.next_block().map_err(|e| format!("import: {e}"))? else {
                return Ok(reading.take().map(|(c, b, _, f)| (c, b, f)));
            };
            if let Some((_, _, named, facts)) = &mut reading
                && named.contains(&cid)
            {
                report.facts += 1;
                facts.push((cid, data));
                continue;
            }
            let commit = commit_from_bytes(&data).map_err(|e| {
                format!("import: block {cid} is neither a fact of the commit before it nor a commit: {e}")
            })?;
            report.commits += 1;
            let named = commit.facts.into_iter().collect();
            if let Some((c, b, _, f)) = reading.replace((cid, data, named, Vec::new())) {
                return Ok(Some((c, b, f)));
            }
        }
    };
    let merged = store
        .merge_stream(&mut next, datoms)
        .map_err(|e| e.message)?;
    report.new_commits = merged.commits;
    report.new_facts = merged.new_facts;
    Ok((report, merged.datoms))
}

/// Syncs `store` with the peer at `addr` both ways (see `pomo-sync`), returning the report and
/// what the merge brought.
pub fn sync(
    store: &mut Store,
    addr: &str,
    opts: &Options,
) -> Result<(Report, Vec<Datom>), SyncError> {
    sync_with(store, addr, opts, true)
}

/// [`sync`], listing what the merge brought as datoms only with `datoms` (for live queries).
pub fn sync_with(
    store: &mut Store,
    addr: &str,
    opts: &Options,
    datoms: bool,
) -> Result<(Report, Vec<Datom>), SyncError> {
    let mut replica = StoreReplica::new(store);
    replica.datoms = datoms;
    let report = pomo_sync::sync_tcp(addr, &mut replica, opts)?;
    Ok((report, replica.merged))
}
