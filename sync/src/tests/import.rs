//! Export and import of whole replicas as CAR files, and the history walks under them.

use std::collections::HashMap;

use cid::Cid;

use super::mem::{MemReplica, commit_block, fact_block};
use crate::block::{DAG_CBOR, cid_of};
use crate::replica::{missing_between, topological};
use crate::{Replica, export, import, missing_for, write_car};

fn sample() -> MemReplica {
    let mut r = MemReplica::default();
    r.grow_chain("base", 3, 4);
    r
}

fn exported(r: &MemReplica) -> Vec<u8> {
    let mut out = Vec::new();
    let heads = r.heads().unwrap();
    let n = export(r, &heads, &mut out).unwrap();
    assert_eq!(n as usize, out.len());
    out
}

/// Imports `bytes` into a copy of `into`, expects failure mentioning `expected`, and checks
/// that nothing was merged.
fn check_import_refused(into: &MemReplica, bytes: &[u8], expected: &str) {
    let mut target = into.clone();
    let err = import(&mut target, bytes).unwrap_err().to_string();
    assert!(err.contains(expected), "{err} lacks {expected:?}");
    assert_eq!(target.state(), into.state());
    assert_eq!(target.merges, into.merges);
}

#[test]
fn export_then_import_reproduces_the_replica() {
    let source = sample();
    let bytes = exported(&source);
    let mut target = MemReplica::default();
    let report = import(&mut target, &bytes[..]).unwrap();
    assert_eq!(target.state(), source.state());
    assert_eq!(
        (
            report.commits,
            report.new_commits,
            report.facts,
            report.new_facts
        ),
        (3, 3, 12, 12)
    );
    assert_eq!(report.roots, source.heads().unwrap());
    assert_eq!(target.merges, 1);

    // A second import finds nothing new and does not merge.
    let again = import(&mut target, &bytes[..]).unwrap();
    assert_eq!((again.new_commits, again.new_facts), (0, 0));
    assert_eq!(target.merges, 1);
}

#[test]
fn import_onto_a_shared_base_merges_only_what_is_new() {
    let base = sample();
    let mut ahead = base.clone();
    ahead.grow("more", 5);
    let mut target = base.clone();
    let report = import(&mut target, &exported(&ahead)[..]).unwrap();
    assert_eq!((report.new_commits, report.new_facts), (1, 5));
    assert_eq!(target.state(), ahead.state());
}

#[test]
fn truncated_car_merges_nothing() {
    let bytes = exported(&sample());
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
        check_import_refused(&MemReplica::default(), &bytes[..cut], "");
    }
    check_import_refused(
        &MemReplica::default(),
        &bytes[..bytes.len() - 1],
        "truncated",
    );
}

#[test]
fn corrupted_block_merges_nothing() {
    let mut bytes = exported(&sample());
    let last = bytes.len() - 2;
    bytes[last] ^= 0x40;
    check_import_refused(&MemReplica::default(), &bytes, "refused");
}

#[test]
fn commit_without_its_fact_merges_nothing() {
    let fact = fact_block("f", 1);
    let block = commit_block(&[], &[cid_of(DAG_CBOR, &fact)]);
    let mut bytes = Vec::new();
    write_car(&mut bytes, &[], [(cid_of(DAG_CBOR, &block), block)]).unwrap();
    check_import_refused(
        &MemReplica::default(),
        &bytes,
        "neither in the file nor held",
    );
}

#[test]
fn commit_without_its_parent_merges_nothing() {
    let parent = cid_of(DAG_CBOR, &commit_block(&[], &[]));
    let block = commit_block(&[parent], &[]);
    let mut bytes = Vec::new();
    write_car(&mut bytes, &[], [(cid_of(DAG_CBOR, &block), block)]).unwrap();
    check_import_refused(
        &MemReplica::default(),
        &bytes,
        "neither earlier in the file nor held",
    );
}

#[test]
fn a_block_that_is_not_a_commit_merges_nothing() {
    let fact = fact_block("stray", 1);
    let mut bytes = Vec::new();
    write_car(&mut bytes, &[], [(cid_of(DAG_CBOR, &fact), fact)]).unwrap();
    check_import_refused(&MemReplica::default(), &bytes, "neither a fact");
    let raw = b"raw bytes".to_vec();
    let mut bytes = Vec::new();
    write_car(&mut bytes, &[], [(cid_of(crate::block::RAW, &raw), raw)]).unwrap();
    check_import_refused(&MemReplica::default(), &bytes, "must be a commit");
}

#[test]
fn missing_for_stops_at_what_the_peer_holds_and_orders_parents_first() {
    let mut r = MemReplica::default();
    r.grow_chain("a", 4, 1);
    let base = r.heads().unwrap();
    r.grow_chain("b", 3, 1);
    let missing = missing_for(&r, &base).unwrap();
    assert_eq!(missing.len(), 3);
    for (i, c) in missing.iter().enumerate() {
        for p in &c.parents {
            assert!(
                base.contains(p) || missing[..i].iter().any(|m| m.cid == *p),
                "parent after child"
            );
        }
    }
    assert_eq!(missing_for(&r, &[]).unwrap().len(), 7);
    let heads = r.heads().unwrap();
    assert!(missing_for(&r, &heads).unwrap().is_empty());
    // A CID the replica does not know tells it nothing.
    let unknown = cid_of(DAG_CBOR, b"unknown");
    assert_eq!(missing_between(&r, &heads, &[unknown]).unwrap().len(), 7);
}

#[test]
fn topological_order_handles_merges_and_long_chains() {
    let mut r = MemReplica::default();
    let root = r.add_commit(&[], vec![]);
    let left = r.add_commit(&[root], vec![fact_block("l", 0)]);
    let right = r.add_commit(&[root], vec![fact_block("r", 0)]);
    let join = r.add_commit(&[left, right], vec![]);
    let order: Vec<Cid> = missing_for(&r, &[])
        .unwrap()
        .iter()
        .map(|c| c.cid)
        .collect();
    assert_eq!(order.len(), 4);
    let pos = |c: &Cid| order.iter().position(|o| o == c).unwrap();
    assert!(pos(&root) < pos(&left) && pos(&root) < pos(&right));
    assert!(pos(&left) < pos(&join) && pos(&right) < pos(&join));

    // Fifty thousand commits in a chain: no recursion, so no stack overflow.
    let mut chain = HashMap::new();
    let mut prev: Vec<Cid> = vec![];
    for i in 0..50_000u64 {
        let block = commit_block(&prev, &[]);
        let cid = cid_of(DAG_CBOR, &[block.as_slice(), &i.to_le_bytes()].concat());
        chain.insert(
            cid,
            crate::Commit {
                cid,
                block,
                parents: prev.clone(),
                facts: vec![],
            },
        );
        prev = vec![cid];
    }
    let order = topological(chain, &prev);
    assert_eq!(order.len(), 50_000);
    assert!(order[0].parents.is_empty());
    assert_eq!(order.last().unwrap().cid, prev[0]);
}

#[test]
fn reading_damaged_car_files_never_panics_and_merges_nothing() {
    let bytes = exported(&sample());
    for seed in 0..3_000u64 {
        let mut damaged = bytes.clone();
        let noise = super::net::noise_bytes(seed, 4);
        let at = (u64::from(noise[0]) << 8 | u64::from(noise[1])) as usize % damaged.len();
        match seed % 3 {
            0 => damaged[at] ^= noise[2] | 1,
            1 => damaged.truncate(at),
            _ => damaged.insert(at, noise[3]),
        }
        let mut target = MemReplica::default();
        if import(&mut target, &damaged[..]).is_err() {
            assert_eq!(target.merges, 0);
            assert!(target.state().0.is_empty());
        }
    }
}
