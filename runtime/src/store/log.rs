//! The on-disk log: one append-only file in the CARv1 layout.
//!
//! The file `facts.car` starts with a CARv1 header (`varint length | DAG-CBOR {roots, version:
//! 1}`) whose single root is a constant *genesis* block `{format: "pomo-fact-log", version: 1}`
//! written right after it, so a fresh log is a valid CAR file. Every other block is
//! `varint(length of cid + data) | CID bytes | DAG-CBOR data`, the CARv1 block layout. A
//! transaction is written as its fact blocks (each named by the fact's own CID) followed by one
//! *commit* block `{t, facts: [links], prev: link | null}` that lists the facts in log order and
//! links the previous commit, chaining all commits. The whole transaction is written with one
//! `write_all` and made durable with `fsync` before `transact` returns.
//!
//! On open every block's CID is recomputed from its data. Blocks after the last valid commit
//! belong to a transaction that was never acknowledged (a crash mid-write): they are truncated
//! with a warning. Damage (a bad length, a CID that does not match its data) is a torn or corrupt
//! *tail* when no valid commit follows it, or when the only one that follows is the commit of
//! the damaged transaction itself, chained to the last good commit and ending the file; the tail
//! is truncated and reported. Damage followed by any other valid commit is
//! [`StoreError::Corrupt`]: the store refuses to open rather than drop acknowledged data.

use super::encode::{self, from_bytes, to_bytes, verify_cid};
use super::{Fact, StoreError};
use cid::Cid;
use ipld_core::ipld::Ipld;
use pomo_types::Value;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The name of the log file inside a store directory.
pub const LOG_FILE: &str = "facts.car";

/// One replayed transaction.
pub(crate) struct ReplayCommit {
    pub t: u64,
    pub facts: Vec<LegacyFact>,
    /// Where its commit block starts (for error reports).
    pub offset: u64,
}

/// An open log file, locked against other writers for as long as the store lives.
pub(crate) struct LogFile {
    file: File,
    len: u64,
}

fn put_varint(out: &mut Vec<u8>, n: u64) {
    let mut buf = unsigned_varint::encode::u64_buffer();
    out.extend_from_slice(unsigned_varint::encode::u64(n, &mut buf));
}

/// Appends one block in the CARv1 layout.
fn put_block(out: &mut Vec<u8>, cid: &Cid, data: &[u8]) {
    let cid_bytes = cid.to_bytes();
    put_varint(out, (cid_bytes.len() + data.len()) as u64);
    out.extend_from_slice(&cid_bytes);
    out.extend_from_slice(data);
}

fn genesis() -> (Cid, Vec<u8>) {
    let mut m = BTreeMap::new();
    m.insert("format".to_string(), Ipld::String("pomo-fact-log".into()));
    m.insert("version".to_string(), Ipld::Integer(1));
    let data = to_bytes(&Ipld::Map(m)).expect("constant block encodes");
    (encode::cid_of(&data), data)
}

/// The constant start of every log: the CAR header and the genesis block.
fn preamble() -> Vec<u8> {
    let (root, data) = genesis();
    let mut m = BTreeMap::new();
    m.insert("roots".to_string(), Ipld::List(vec![Ipld::Link(root)]));
    m.insert("version".to_string(), Ipld::Integer(1));
    let header = to_bytes(&Ipld::Map(m)).expect("constant header encodes");
    let mut out = Vec::new();
    put_varint(&mut out, header.len() as u64);
    out.extend_from_slice(&header);
    put_block(&mut out, &root, &data);
    out
}

/// A commit block: `{t, facts: [links], parents: [links]}`, where `t` is the writer's local
/// number of the transaction and `parents` the commits the writer held as heads (sorted).
pub(crate) fn commit_block(t: u64, facts: &[Fact], parents: &[Cid]) -> (Cid, Vec<u8>) {
    commit_block_of(t, facts.iter().map(|f| f.cid), parents)
}

pub(crate) fn commit_block_of(
    t: u64,
    facts: impl Iterator<Item = Cid>,
    parents: &[Cid],
) -> (Cid, Vec<u8>) {
    let mut m = BTreeMap::new();
    m.insert("t".to_string(), Ipld::Integer(i128::from(t)));
    m.insert(
        "facts".to_string(),
        Ipld::List(facts.map(Ipld::Link).collect()),
    );
    m.insert(
        "parents".to_string(),
        Ipld::List(parents.iter().map(|c| Ipld::Link(*c)).collect()),
    );
    let data = to_bytes(&Ipld::Map(m)).expect("a commit encodes");
    (encode::cid_of(&data), data)
}

/// A decoded commit block: the author's `t`, its facts and its parents.
pub struct CommitContent {
    pub t: u64,
    pub facts: Vec<Cid>,
    pub parents: Vec<Cid>,
}

fn links(i: Option<&Ipld>, what: &str) -> Result<Vec<Cid>, String> {
    match i {
        Some(Ipld::List(items)) => items
            .iter()
            .map(|i| match i {
                Ipld::Link(c) => Ok(*c),
                _ => Err(format!("a commit's {what} are links")),
            })
            .collect(),
        _ => Err(format!("a commit without {what}")),
    }
}

/// Decodes a commit block; fails unless it has exactly the keys of one, sorted distinct
/// parents, and is in canonical form.
pub fn commit_from_bytes(bytes: &[u8]) -> Result<CommitContent, String> {
    let ipld = from_bytes(bytes)?;
    let Ipld::Map(m) = &ipld else {
        return Err("a commit is a map".into());
    };
    if m.len() != 3 {
        return Err(format!("a commit has 3 keys, found {}", m.len()));
    }
    let t = match m.get("t") {
        Some(Ipld::Integer(t)) => u64::try_from(*t).map_err(|e| e.to_string())?,
        _ => return Err("a commit without t".into()),
    };
    let facts = links(m.get("facts"), "facts")?;
    let parents = links(m.get("parents"), "parents")?;
    if parents.windows(2).any(|w| w[0] >= w[1]) {
        return Err("a commit's parents are not sorted and distinct".into());
    }
    if commit_block_of(t, facts.iter().copied(), &parents).1 != bytes {
        return Err("a commit block is not in canonical form".into());
    }
    Ok(CommitContent { t, facts, parents })
}

/// A fact of a log written before global ids: its entity is the local number.
#[derive(Clone, Debug)]
pub(crate) struct LegacyFact {
    pub e: i64,
    pub a: String,
    pub v: Value,
    pub added: bool,
    pub causes: Vec<Cid>,
    /// Its old-format CID.
    pub cid: Cid,
}

fn legacy_fact_ipld(
    e: i64,
    a: &str,
    v: &Value,
    added: bool,
    causes: &[Cid],
) -> Result<Ipld, String> {
    let mut m = BTreeMap::new();
    m.insert("e".to_string(), Ipld::Integer(i128::from(e)));
    m.insert("a".to_string(), Ipld::String(a.to_string()));
    m.insert("v".to_string(), encode::value_to_ipld(v)?);
    m.insert("added".to_string(), Ipld::Bool(added));
    m.insert(
        "causes".to_string(),
        Ipld::List(causes.iter().map(|c| Ipld::Link(*c)).collect()),
    );
    Ok(Ipld::Map(m))
}

/// The CID a fact had before global ids.
pub(crate) fn legacy_cid(
    e: i64,
    a: &str,
    v: &Value,
    added: bool,
    causes: &[Cid],
) -> Result<Cid, String> {
    Ok(encode::cid_of(&to_bytes(&legacy_fact_ipld(
        e, a, v, added, causes,
    )?)?))
}

fn legacy_fact(data: &[u8], cid: Cid) -> Result<LegacyFact, String> {
    let Ipld::Map(m) = from_bytes(data)? else {
        return Err("a fact is a map".into());
    };
    if m.len() != 5 {
        return Err(format!("a fact has 5 keys, found {}", m.len()));
    }
    let get = |k: &str| m.get(k).ok_or_else(|| format!("fact without key {k:?}"));
    Ok(LegacyFact {
        e: match get("e")? {
            Ipld::Integer(n) => i64::try_from(*n).map_err(|e| e.to_string())?,
            other => return Err(format!("expected an entity id, found {other:?}")),
        },
        a: match get("a")? {
            Ipld::String(s) => s.clone(),
            other => return Err(format!("expected an attribute, found {other:?}")),
        },
        v: encode::value_from_ipld(get("v")?)?,
        added: match get("added")? {
            Ipld::Bool(b) => *b,
            other => return Err(format!("expected a boolean, found {other:?}")),
        },
        causes: links(Some(get("causes")?), "causes")?,
        cid,
    })
}

fn legacy_commit_block(t: u64, facts: &[Cid], prev: Option<Cid>) -> (Cid, Vec<u8>) {
    let mut m = BTreeMap::new();
    m.insert("t".to_string(), Ipld::Integer(i128::from(t)));
    m.insert(
        "facts".to_string(),
        Ipld::List(facts.iter().map(|c| Ipld::Link(*c)).collect()),
    );
    m.insert("prev".to_string(), prev.map_or(Ipld::Null, Ipld::Link));
    let data = to_bytes(&Ipld::Map(m)).expect("a commit encodes");
    (encode::cid_of(&data), data)
}

/// A parsed block: its CID, its data and where the next block starts.
struct Block<'a> {
    cid: Cid,
    data: &'a [u8],
    next: usize,
}

fn parse_block(buf: &[u8], pos: usize) -> Result<Block<'_>, String> {
    let (len, rest) =
        unsigned_varint::decode::u64(&buf[pos..]).map_err(|e| format!("bad block length: {e}"))?;
    let header = buf.len() - pos - rest.len();
    let len = usize::try_from(len).map_err(|_| "block length overflows".to_string())?;
    if len > rest.len() {
        return Err(format!(
            "block of {len} bytes runs past the end of the file"
        ));
    }
    let mut body = &rest[..len];
    let cid = Cid::read_bytes(&mut body).map_err(|e| format!("bad block CID: {e}"))?;
    if !verify_cid(&cid, body) {
        return Err(format!("block {cid} does not match its data"));
    }
    Ok(Block {
        cid,
        data: body,
        next: pos + header + len,
    })
}

/// A decoded block of the log.
enum Decoded {
    Fact(LegacyFact),
    Commit {
        t: u64,
        facts: Vec<Cid>,
        prev: Option<Cid>,
    },
}

fn decode(block: &Block) -> Result<Decoded, String> {
    let ipld = from_bytes(block.data)?;
    let Ipld::Map(m) = &ipld else {
        return Err("a block is a map".into());
    };
    if m.contains_key("facts") {
        let t = match m.get("t") {
            Some(Ipld::Integer(t)) => u64::try_from(*t).map_err(|e| e.to_string())?,
            _ => return Err("commit without t".into()),
        };
        let facts = match m.get("facts") {
            Some(Ipld::List(items)) => items
                .iter()
                .map(|i| match i {
                    Ipld::Link(c) => Ok(*c),
                    _ => Err("a commit lists fact links".to_string()),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err("commit without facts".into()),
        };
        let prev = match m.get("prev") {
            Some(Ipld::Link(c)) => Some(*c),
            Some(Ipld::Null) => None,
            _ => return Err("commit without prev".into()),
        };
        Ok(Decoded::Commit { t, facts, prev })
    } else {
        legacy_fact(block.data, block.cid).map(Decoded::Fact)
    }
}

/// The first valid commit block that starts after `pos`, with its start offset. Block starts
/// are found by searching for the fixed CIDv1/dag-cbor/sha2-256 prefix and reading the varint
/// in front of it, so the scan is cheap even in a large file.
fn next_commit(buf: &[u8], pos: usize) -> Option<(usize, Block<'_>, Option<Cid>)> {
    const PREFIX: [u8; 4] = [0x01, 0x71, 0x12, 0x20];
    let mut p = pos + 1;
    while p + PREFIX.len() <= buf.len() {
        if buf[p..p + 4] == PREFIX {
            for k in 1..=9 {
                let Some(start) = p.checked_sub(k) else { break };
                if start <= pos {
                    break;
                }
                if let Ok(b) = parse_block(buf, start)
                    && b.next - b.data.len() - b.cid.encoded_len() == p
                    && let Ok(Decoded::Commit { prev, .. }) = decode(&b)
                {
                    return Some((start, b, prev));
                }
            }
        }
        p += 1;
    }
    None
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    // Making a new file durable needs its directory entry synced too (POSIX).
    File::open(dir)?.sync_all()
}

impl LogFile {
    /// Opens or creates the log in `dir`, returning the transactions to replay and warnings.
    pub fn open(dir: &Path) -> Result<(LogFile, Vec<ReplayCommit>, Vec<String>), StoreError> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(LOG_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        super::lock_exclusively(&file, &path)?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        let mut warnings = Vec::new();
        let pre = preamble();
        if buf.len() < pre.len() && pre.starts_with(&buf) {
            // A new log, or one whose creation was interrupted: (re)write the preamble.
            if !buf.is_empty() {
                warnings.push(format!(
                    "{}: incomplete header ({} bytes) rewritten",
                    path.display(),
                    buf.len()
                ));
            }
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&pre)?;
            file.sync_all()?;
            sync_dir(dir)?;
            let len = pre.len() as u64;
            return Ok((LogFile { file, len }, Vec::new(), warnings));
        }
        if let Some(i) = (0..pre.len()).find(|&i| buf.get(i) != Some(&pre[i])) {
            return Err(StoreError::Corrupt {
                offset: i as u64,
                message: "the CAR header or genesis block is damaged".into(),
            });
        }
        let (commits, good) = scan(&buf, pre.len())?;
        if good < buf.len() {
            warnings.push(format!(
                "{}: truncated {} bytes after byte {good}: an incomplete or damaged last transaction (never read as data)",
                path.display(),
                buf.len() - good
            ));
            file.set_len(good as u64)?;
            file.sync_all()?;
        }
        let len = good as u64;
        Ok((LogFile { file, len }, commits, warnings))
    }

    /// Reads the log in `dir` without locking or changing it (see `Store::open_read_only`).
    pub fn read(dir: &Path) -> Result<(Vec<ReplayCommit>, Vec<String>), StoreError> {
        let path = dir.join(LOG_FILE);
        let buf = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Vec::new(), Vec::new()));
            }
            Err(e) => return Err(e.into()),
        };
        let pre = preamble();
        if buf.len() < pre.len() && pre.starts_with(&buf) {
            return Ok((Vec::new(), Vec::new()));
        }
        if let Some(i) = (0..pre.len()).find(|&i| buf.get(i) != Some(&pre[i])) {
            return Err(StoreError::Corrupt {
                offset: i as u64,
                message: "the CAR header or genesis block is damaged".into(),
            });
        }
        let (commits, good) = scan(&buf, pre.len())?;
        let mut warnings = Vec::new();
        if good < buf.len() {
            warnings.push(format!(
                "{}: ignored {} bytes after byte {good}: an incomplete or damaged last transaction (never read as data)",
                path.display(),
                buf.len() - good
            ));
        }
        Ok((commits, warnings))
    }

    /// Appends one transaction in the old format (its fact blocks, then its commit) and fsyncs
    /// it; `renamed` maps the facts' CIDs to their old-format CIDs (for causes). On failure
    /// the file is cut back to its previous length, so a later append does not follow garbage.
    pub fn append(
        &mut self,
        t: u64,
        facts: &[Fact],
        prev: Option<Cid>,
        renamed: &mut HashMap<Cid, Cid>,
    ) -> std::io::Result<Cid> {
        let mut out = Vec::new();
        let mut cids = Vec::new();
        for f in facts {
            let causes: Vec<Cid> = f
                .causes
                .iter()
                .map(|c| *renamed.get(c).unwrap_or(c))
                .collect();
            let data = to_bytes(
                &legacy_fact_ipld(f.e, &f.a, &f.v, f.added, &causes)
                    .map_err(std::io::Error::other)?,
            )
            .map_err(std::io::Error::other)?;
            let cid = encode::cid_of(&data);
            renamed.insert(f.cid, cid);
            put_block(&mut out, &cid, &data);
            cids.push(cid);
        }
        let (cid, data) = legacy_commit_block(t, &cids, prev);
        put_block(&mut out, &cid, &data);
        let result = self
            .file
            .seek(SeekFrom::Start(self.len))
            .and_then(|_| self.file.write_all(&out))
            .and_then(|_| self.file.sync_data());
        if let Err(e) = result {
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        self.len += out.len() as u64;
        Ok(cid)
    }
}

/// Reads the blocks after the preamble. Returns the complete transactions and the offset
/// where the good part of the log ends (everything after it is a tail to truncate).
fn scan(buf: &[u8], start: usize) -> Result<(Vec<ReplayCommit>, usize), StoreError> {
    let mut commits = Vec::new();
    let mut pending: HashMap<Cid, LegacyFact> = HashMap::new();
    let mut pos = start;
    let mut good = start;
    let mut last: Option<Cid> = None;
    let mut last_t: Option<u64> = None;
    while pos < buf.len() {
        let step = parse_block(buf, pos).and_then(|b| {
            let d = decode(&b)?;
            Ok((b, d))
        });
        let (block, decoded) = match step {
            Ok(x) => x,
            Err(message) => return damage(buf, pos, good, last, message, commits),
        };
        match decoded {
            Decoded::Fact(f) => {
                pending.insert(block.cid, f);
            }
            Decoded::Commit { t, facts, prev } => {
                let problem = if prev != last {
                    Some("the commit does not follow the previous commit".to_string())
                } else if last_t.is_some_and(|l| t < l) {
                    Some(format!("commit t {t} goes back in time"))
                } else {
                    facts.iter().find(|c| !pending.contains_key(c)).map(|c| {
                        format!("the commit names fact {c}, which its transaction does not hold")
                    })
                };
                if let Some(message) = problem {
                    return damage(buf, pos, good, last, message, commits);
                }
                let facts = facts.iter().map(|c| pending[c].clone()).collect();
                commits.push(ReplayCommit {
                    t,
                    facts,
                    offset: pos as u64,
                });
                pending.clear();
                last = Some(block.cid);
                last_t = Some(t);
                good = block.next;
            }
        }
        pos = block.next;
    }
    Ok((commits, good))
}

/// Decides what damage at `pos` means: a tail to truncate (returns the good prefix) or
/// corruption followed by valid data (an error).
fn damage(
    buf: &[u8],
    pos: usize,
    good: usize,
    last: Option<Cid>,
    message: String,
    commits: Vec<ReplayCommit>,
) -> Result<(Vec<ReplayCommit>, usize), StoreError> {
    match next_commit(buf, pos) {
        None => Ok((commits, good)),
        Some((_, b, prev)) if prev == last && b.next == buf.len() => Ok((commits, good)),
        Some((start, _, _)) => Err(StoreError::Corrupt {
            offset: pos as u64,
            message: format!("{message}; valid data follows at byte {start}"),
        }),
    }
}

/// A CARv1 file of one block, which is also its root: `header {roots: [cid], version: 1}`,
/// then the block. (Compiled artifacts are stored this way.)
pub(crate) fn single_block_car(cid: &Cid, data: &[u8]) -> Vec<u8> {
    let mut m = BTreeMap::new();
    m.insert("roots".to_string(), Ipld::List(vec![Ipld::Link(*cid)]));
    m.insert("version".to_string(), Ipld::Integer(1));
    let header = to_bytes(&Ipld::Map(m)).expect("a CAR header encodes");
    let mut out = Vec::new();
    put_varint(&mut out, header.len() as u64);
    out.extend_from_slice(&header);
    put_block(&mut out, cid, data);
    out
}

/// Reads a [`single_block_car`]: the root's CID and data. The block must be the root, its
/// data must hash to its CID, and nothing may follow it.
pub(crate) fn read_single_block_car(buf: &[u8]) -> Result<(Cid, &[u8]), String> {
    let (len, rest) =
        unsigned_varint::decode::u64(buf).map_err(|e| format!("bad CAR header length: {e}"))?;
    let len = usize::try_from(len).map_err(|_| "CAR header length overflows".to_string())?;
    if len > rest.len() {
        return Err("the CAR header runs past the end of the file".into());
    }
    let header: Ipld =
        serde_ipld_dagcbor::from_slice(&rest[..len]).map_err(|e| format!("bad CAR header: {e}"))?;
    let root = match &header {
        Ipld::Map(m) => match (m.get("roots"), m.get("version")) {
            (Some(Ipld::List(roots)), Some(Ipld::Integer(1))) => match roots.as_slice() {
                [Ipld::Link(c)] => *c,
                _ => return Err("the CAR header must name exactly one root".into()),
            },
            _ => return Err("not a CARv1 header".into()),
        },
        _ => return Err("not a CARv1 header".into()),
    };
    let pos = buf.len() - rest.len() + len;
    if pos >= buf.len() {
        return Err("the file ends before its block".into());
    }
    let b = parse_block(buf, pos)?;
    if b.cid != root {
        return Err(format!(
            "the block is {} but the header names {root}",
            b.cid
        ));
    }
    if b.next != buf.len() {
        return Err(format!("{} bytes follow the block", buf.len() - b.next));
    }
    Ok((b.cid, b.data))
}
