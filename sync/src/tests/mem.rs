//! An in-memory [`Replica`] for tests. Commit blocks are DAG-CBOR `{facts, parents}`, facts
//! small DAG-CBOR maps. `merge` checks what the trait promises (verified CIDs, parents first,
//! facts present) and is all-or-nothing, like the real store. A replica can be told to lie
//! (`corrupt_facts`) so tests can play a dishonest peer with the real protocol code.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use cid::Cid;
use serde::{Deserialize, Serialize};

use crate::block::{DAG_CBOR, cid_of, verify_block};
use crate::{Commit, Replica};

#[derive(Serialize, Deserialize)]
struct CommitBody {
    facts: Vec<Cid>,
    parents: Vec<Cid>,
}

#[derive(Clone, Debug, Default)]
pub struct MemReplica {
    commits: BTreeMap<Cid, Commit>,
    facts: BTreeMap<Cid, Vec<u8>>,
    /// How many merges wrote something.
    pub merges: usize,
    /// Serve every fact with its last byte flipped.
    pub corrupt_facts: bool,
}

/// A fact block of a realistic size (about 40 bytes): `{a: tag, e: i, v: "…"}`.
pub fn fact_block(tag: &str, i: u64) -> Vec<u8> {
    let mut m = BTreeMap::new();
    m.insert("a", ipld_core::ipld::Ipld::String(tag.to_string()));
    m.insert("e", ipld_core::ipld::Ipld::Integer(i128::from(i)));
    m.insert(
        "v",
        ipld_core::ipld::Ipld::String(format!("value {i} of {tag}")),
    );
    serde_ipld_dagcbor::to_vec(&m).unwrap()
}

pub fn commit_block(parents: &[Cid], facts: &[Cid]) -> Vec<u8> {
    serde_ipld_dagcbor::to_vec(&CommitBody {
        facts: facts.to_vec(),
        parents: parents.to_vec(),
    })
    .unwrap()
}

impl MemReplica {
    /// Adds a commit on top of the current heads with `n` new facts tagged `tag`.
    pub fn grow(&mut self, tag: &str, n: u64) -> Cid {
        let parents = self.heads().unwrap();
        let blocks: Vec<Vec<u8>> = (0..n).map(|i| fact_block(tag, i)).collect();
        self.add_commit(&parents, blocks)
    }

    /// Adds `commits` commits in a chain, each with `facts` facts.
    pub fn grow_chain(&mut self, tag: &str, commits: u64, facts: u64) {
        for c in 0..commits {
            self.grow(&format!("{tag}{c}"), facts);
        }
    }

    pub fn add_commit(&mut self, parents: &[Cid], facts: Vec<Vec<u8>>) -> Cid {
        let fact_cids: Vec<Cid> = facts.iter().map(|f| cid_of(DAG_CBOR, f)).collect();
        for (c, f) in fact_cids.iter().zip(facts) {
            self.facts.insert(*c, f);
        }
        let block = commit_block(parents, &fact_cids);
        let cid = cid_of(DAG_CBOR, &block);
        self.commits.insert(
            cid,
            Commit {
                cid,
                block,
                parents: parents.to_vec(),
                facts: fact_cids,
            },
        );
        cid
    }

    /// The commit and fact sets, for comparing replicas.
    pub fn state(&self) -> (BTreeSet<Cid>, BTreeSet<Cid>) {
        (
            self.commits.keys().copied().collect(),
            self.facts.keys().copied().collect(),
        )
    }

    pub fn commit_count(&self) -> usize {
        self.commits.len()
    }

    /// Total bytes of the given commits' blocks and of their facts' blocks.
    pub fn block_bytes(&self, commits: &BTreeSet<Cid>) -> u64 {
        let mut facts = BTreeSet::new();
        let mut total = 0;
        for c in commits {
            let commit = &self.commits[c];
            total += commit.block.len() as u64;
            facts.extend(commit.facts.iter().copied());
        }
        total
            + facts
                .iter()
                .map(|f| self.facts[f].len() as u64)
                .sum::<u64>()
    }
}

impl Replica for MemReplica {
    fn heads(&self) -> Result<Vec<Cid>, String> {
        let named: BTreeSet<Cid> = self
            .commits
            .values()
            .flat_map(|c| c.parents.iter().copied())
            .collect();
        Ok(self
            .commits
            .keys()
            .filter(|c| !named.contains(c))
            .copied()
            .collect())
    }

    fn has_commit(&self, c: &Cid) -> Result<bool, String> {
        Ok(self.commits.contains_key(c))
    }

    fn commit(&self, c: &Cid) -> Result<Option<Commit>, String> {
        Ok(self.commits.get(c).cloned())
    }

    fn has_fact(&self, c: &Cid) -> Result<bool, String> {
        Ok(self.facts.contains_key(c))
    }

    fn fact(&self, c: &Cid) -> Result<Option<Vec<u8>>, String> {
        let mut data = self.facts.get(c).cloned();
        if self.corrupt_facts
            && let Some(last) = data.as_mut().and_then(|d| d.last_mut())
        {
            *last ^= 1;
        }
        Ok(data)
    }

    fn parse_commit(&self, block: &[u8]) -> Result<(Vec<Cid>, Vec<Cid>), String> {
        let body: CommitBody = serde_ipld_dagcbor::from_slice(block)
            .map_err(|e| format!("not a commit block: {e}"))?;
        Ok((body.parents, body.facts))
    }

    fn merge(
        &mut self,
        commits: Vec<(Cid, Vec<u8>)>,
        facts: Vec<(Cid, Vec<u8>)>,
    ) -> Result<u64, String> {
        // Check everything first: nothing is written unless all of it is sound.
        let incoming: BTreeMap<Cid, &Vec<u8>> = facts.iter().map(|(c, d)| (*c, d)).collect();
        for (c, d) in &facts {
            verify_block(c, d)?;
        }
        let mut parsed = Vec::new();
        let mut earlier = BTreeSet::new();
        for (cid, block) in &commits {
            verify_block(cid, block)?;
            let (parents, fact_cids) = self.parse_commit(block)?;
            for p in &parents {
                if !earlier.contains(p) && !self.commits.contains_key(p) {
                    return Err(format!("merge: commit {cid} before its parent {p}"));
                }
            }
            for f in &fact_cids {
                if !incoming.contains_key(f) && !self.facts.contains_key(f) {
                    return Err(format!("merge: commit {cid} names missing fact {f}"));
                }
            }
            earlier.insert(*cid);
            parsed.push(Commit {
                cid: *cid,
                block: block.clone(),
                parents,
                facts: fact_cids,
            });
        }
        let mut new = 0;
        for (c, d) in facts {
            if self.facts.insert(c, d).is_none() {
                new += 1;
            }
        }
        for commit in parsed {
            self.commits.insert(commit.cid, commit);
        }
        self.merges += 1;
        Ok(new)
    }
}

/// A replica shared between a test and the server's `open`, as a store on disk would be.
#[derive(Clone, Default)]
pub struct Shared(pub Arc<Mutex<MemReplica>>);

impl Shared {
    pub fn get(&self) -> MemReplica {
        self.0.lock().unwrap().clone()
    }
}

impl Replica for Shared {
    fn heads(&self) -> Result<Vec<Cid>, String> {
        self.0.lock().unwrap().heads()
    }
    fn has_commit(&self, c: &Cid) -> Result<bool, String> {
        self.0.lock().unwrap().has_commit(c)
    }
    fn commit(&self, c: &Cid) -> Result<Option<Commit>, String> {
        self.0.lock().unwrap().commit(c)
    }
    fn has_fact(&self, c: &Cid) -> Result<bool, String> {
        self.0.lock().unwrap().has_fact(c)
    }
    fn fact(&self, c: &Cid) -> Result<Option<Vec<u8>>, String> {
        self.0.lock().unwrap().fact(c)
    }
    fn parse_commit(&self, block: &[u8]) -> Result<(Vec<Cid>, Vec<Cid>), String> {
        self.0.lock().unwrap().parse_commit(block)
    }
    fn merge(
        &mut self,
        commits: Vec<(Cid, Vec<u8>)>,
        facts: Vec<(Cid, Vec<u8>)>,
    ) -> Result<u64, String> {
        self.0.lock().unwrap().merge(commits, facts)
    }
}
