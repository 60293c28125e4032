//! The two-way sync exchange between a client ([`sync`]) and a server ([`serve_one`]) over an
//! established [`Channel`](crate::noise::Channel).
//!
//! The exchange, in order (→ client to server, ← server to client), half duplex so neither
//! side ever writes while the other is writing:
//!
//! 1. → `Hello{heads, haves}`; ← `Hello{heads, haves, read_only}`. `haves` samples each side's
//!    ancestors at distances 1, 2, 4, 8, … from its heads, so the peer can find a common base
//!    below divergent heads without a round trip per commit.
//! 2. Pull. ← `Blocks` (the commits the client lacks: reachable from the server's heads, not
//!    ancestors of any client CID the server holds, parents first, in as many frames as
//!    needed); → `Want` (a bitmap over the distinct facts those commits name: which the client
//!    lacks); ← `Blocks` (exactly those facts, in order, without their CIDs).
//! 3. Push, unless the server is read-only, the client was told not to, or the server lacks
//!    nothing: the same three messages the other way, then ← `Done{new_facts}` once the
//!    server merged. Otherwise → `Bye`.
//!
//! When a `Blocks` list of commits is empty, the `Want` and the fact `Blocks` after it are
//! skipped by both sides. So a two-way sync takes at most four round trips whatever the
//! history's shape, a one-way one three, and one with nothing to do two. The receiving side verifies everything
//! before it merges: each commit block's CID is computed from its bytes, the commit is decoded
//! by the receiver's own `parse_commit`, every parent is earlier in the batch or held, every
//! head the peer announced arrives or is held, and each fact block must hash to the CID the
//! receiver asked for in that position. Only then is `merge` called, once per direction; any
//! failure before it aborts the connection (with an `Error` message to the peer where
//! possible) and changes nothing.

use std::collections::HashSet;
use std::io::{Read, Write};

use cid::Cid;

use crate::block::{DAG_CBOR, cid_of, verify_block};
use crate::message::{Msg, VERSION};
use crate::noise::{Channel, handshake};
use crate::replica::{Commit, CommitWithFacts, Replica, missing_between};
use crate::{Options, Report, SyncError};

/// How many ancestors a `Hello` samples at most.
const MAX_HAVES: usize = 24;

/// Room left in a frame for the `Blocks` header and one block's length varint.
const BLOCKS_OVERHEAD: usize = 32;

/// Runs the client side: pulls what the server has and we lack, merges it (once everything
/// pulled is verified), then pushes what the server lacks unless it is read-only or
/// `opts.push` is false, in which case the report says `pushed: false`. The stream should
/// already have read and write timeouts set (see [`connect`](crate::connect)).
pub fn sync<S: Read + Write>(
    stream: S,
    replica: &mut dyn Replica,
    opts: &Options,
) -> Result<Report, SyncError> {
    let mut ch = handshake(
        stream,
        opts.key.as_ref(),
        true,
        opts.max_message,
        opts.max_duration,
    )?;
    let mut report = Report::default();
    let result = run_client(&mut ch, replica, opts, &mut report);
    finish(&mut ch, result, report)
}

/// Runs the server side for one peer: sends what the client lacks, and accepts its push unless
/// `opts.read_only` (then a push is answered with an error and changes nothing). In the report,
/// `pushed` says whether the client pushed.
pub fn serve_one<S: Read + Write>(
    stream: S,
    replica: &mut dyn Replica,
    opts: &Options,
) -> Result<Report, SyncError> {
    let mut ch = handshake(
        stream,
        opts.key.as_ref(),
        false,
        opts.max_message,
        opts.max_duration,
    )?;
    serve_channel(&mut ch, replica, opts)
}

/// The server side after the handshake (the TCP server opens the replica only after it).
pub(crate) fn serve_channel<S: Read + Write>(
    ch: &mut Channel<S>,
    replica: &mut dyn Replica,
    opts: &Options,
) -> Result<Report, SyncError> {
    let mut report = Report::default();
    let result = run_server(ch, replica, opts, &mut report);
    finish(ch, result, report)
}

/// Tells the peer why we give up (when the failure was ours or its data's, and the channel
/// still works), and fills in the byte counts.
fn finish<S: Read + Write>(
    ch: &mut Channel<S>,
    result: Result<(), SyncError>,
    mut report: Report,
) -> Result<Report, SyncError> {
    report.bytes_sent = ch.stream.sent;
    report.bytes_received = ch.stream.received;
    report.round_trips = ch.turns;
    match result {
        Ok(()) => Ok(report),
        Err(e) => {
            if matches!(
                e,
                SyncError::Protocol(_) | SyncError::Refused(_) | SyncError::Replica(_)
            ) {
                let _ = ch.send(
                    &Msg::Error {
                        message: e.to_string(),
                    }
                    .encode(),
                );
            }
            Err(e)
        }
    }
}

fn send<S: Read + Write>(ch: &mut Channel<S>, msg: &Msg) -> Result<(), SyncError> {
    ch.send(&msg.encode())
}

/// Receives one message; an `Error` from the peer becomes [`SyncError::Peer`].
fn recv<S: Read + Write>(ch: &mut Channel<S>) -> Result<Msg, SyncError> {
    let frame = ch.recv()?;
    match Msg::decode(&frame)
        .map_err(|e| SyncError::Protocol(format!("malformed message from the peer: {e}")))?
    {
        Msg::Error { message } => Err(SyncError::Peer(message)),
        msg => Ok(msg),
    }
}

fn unexpected(expected: &str, got: &Msg) -> SyncError {
    SyncError::Protocol(format!(
        "expected {expected} from the peer, got {}",
        got.name()
    ))
}

fn replica_err(e: String) -> SyncError {
    SyncError::Replica(e)
}

fn hello(replica: &dyn Replica, read_only: bool) -> Result<(Msg, Vec<Cid>), SyncError> {
    let mut heads = replica.heads().map_err(replica_err)?;
    heads.sort();
    let haves = sample_ancestors(replica, &heads).map_err(replica_err)?;
    Ok((
        Msg::Hello {
            version: VERSION,
            read_only,
            heads: heads.clone(),
            haves,
        },
        heads,
    ))
}

/// Checks a peer's `Hello` and returns (read_only, heads, heads ∪ haves).
fn check_hello(msg: Msg) -> Result<(bool, Vec<Cid>, Vec<Cid>), SyncError> {
    match msg {
        Msg::Hello {
            version,
            read_only,
            heads,
            haves,
        } => {
            if version != VERSION {
                return Err(SyncError::Protocol(format!(
                    "the peer speaks sync protocol version {version}; this side speaks {VERSION}"
                )));
            }
            let mut known = heads.clone();
            known.extend(haves);
            Ok((read_only, heads, known))
        }
        other => Err(unexpected("Hello", &other)),
    }
}

fn run_client<S: Read + Write>(
    ch: &mut Channel<S>,
    replica: &mut dyn Replica,
    opts: &Options,
    report: &mut Report,
) -> Result<(), SyncError> {
    let (msg, my_heads) = hello(replica, false)?;
    send(ch, &msg)?;
    let (read_only, server_heads, server_known) = check_hello(recv(ch)?)?;
    let pulled = receive_commits(ch, replica, None, &server_heads, opts, report)?;
    report.new_facts = receive_and_merge(ch, replica, pulled, opts, report)?;
    // After the merge we hold every server head and so know the server's whole history: the
    // push set, from the heads we announced, is exact.
    if read_only || !opts.push {
        return send(ch, &Msg::Bye);
    }
    let commits = missing_between(replica, &my_heads, &server_known).map_err(replica_err)?;
    report.pushed = true;
    if commits.is_empty() {
        return send(ch, &Msg::Bye);
    }
    send_history(ch, replica, &commits, opts, report)?;
    match recv(ch)? {
        Msg::Done { new_facts } => report.peer_new_facts = new_facts,
        other => return Err(unexpected("Done", &other)),
    }
    Ok(())
}

fn run_server<S: Read + Write>(
    ch: &mut Channel<S>,
    replica: &mut dyn Replica,
    opts: &Options,
    report: &mut Report,
) -> Result<(), SyncError> {
    let (_, client_heads, client_known) = check_hello(recv(ch)?)?;
    let (msg, my_heads) = hello(replica, opts.read_only)?;
    send(ch, &msg)?;
    let commits = missing_between(replica, &my_heads, &client_known).map_err(replica_err)?;
    send_history(ch, replica, &commits, opts, report)?;
    match recv(ch)? {
        Msg::Bye => Ok(()),
        first @ (Msg::Blocks { .. } | Msg::Part { .. }) => {
            if opts.read_only {
                return Err(SyncError::Refused(
                    "this server is read-only: push refused".into(),
                ));
            }
            report.pushed = true;
            let pushed = receive_commits(ch, replica, Some(first), &client_heads, opts, report)?;
            report.new_facts = receive_and_merge(ch, replica, pushed, opts, report)?;
            send(
                ch,
                &Msg::Done {
                    new_facts: report.new_facts,
                },
            )
        }
        other => Err(unexpected("Bye or Blocks", &other)),
    }
}

/// CIDs of our ancestors at BFS positions 1, 2, 4, 8, … from the (sorted) heads, at most
/// [`MAX_HAVES`]. A peer whose history forked from ours d commits back finds a common commit
/// among them within about 2·d commits of the fork, so it oversends at most that many commit
/// blocks (never facts: those are asked for one by one).
fn sample_ancestors(replica: &dyn Replica, heads: &[Cid]) -> Result<Vec<Cid>, String> {
    let mut seen: HashSet<Cid> = heads.iter().copied().collect();
    let mut queue: std::collections::VecDeque<Cid> = heads.iter().copied().collect();
    let mut index: u64 = 0;
    let mut next_sample: u64 = 1;
    let mut out = Vec::new();
    while let Some(c) = queue.pop_front() {
        if out.len() >= MAX_HAVES {
            break;
        }
        if index == next_sample {
            out.push(c);
            next_sample *= 2;
        }
        index += 1;
        let parents = replica
            .parents(&c)?
            .ok_or_else(|| format!("the replica names commit {c} but does not hold it"))?;
        for p in parents {
            if seen.insert(p) {
                queue.push_back(p);
            }
        }
    }
    Ok(out)
}

/// The distinct facts the commits name, in commit order then name order: the list a `Want`
/// bitmap indexes. Both sides compute it; the sender from its commits, the receiver from its
/// own decoding of the blocks.
fn fact_list<'a>(facts: impl IntoIterator<Item = &'a Vec<Cid>>) -> Vec<Cid> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for list in facts {
        for f in list {
            if seen.insert(*f) {
                out.push(*f);
            }
        }
    }
    out
}

/// Sends blocks in `Blocks` frames of at most `max_message` bytes, the last one marked.
fn send_blocks<S: Read + Write>(
    ch: &mut Channel<S>,
    blocks: impl IntoIterator<Item = Result<(Cid, Vec<u8>), SyncError>>,
    opts: &Options,
    report: &mut Report,
) -> Result<u64, SyncError> {
    let room = opts.max_message.saturating_sub(BLOCKS_OVERHEAD);
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut size = 0;
    let mut count = 0;
    for block in blocks {
        let (_cid, data) = block?;
        if data.len() > room {
            // A block larger than a message (a commit of many facts) goes as `Part`s, then
            // its tail as the first block of a new batch.
            if !batch.is_empty() {
                send(
                    ch,
                    &Msg::Blocks {
                        last: false,
                        blocks: std::mem::take(&mut batch),
                    },
                )?;
                size = 0;
            }
            report.block_bytes_sent += data.len() as u64;
            let mut rest = data.as_slice();
            while rest.len() > room {
                send(
                    ch,
                    &Msg::Part {
                        data: rest[..room].to_vec(),
                    },
                )?;
                rest = &rest[room..];
            }
            size += rest.len() + 10;
            batch.push(rest.to_vec());
            count += 1;
            continue;
        }
        if size + data.len() + 10 > room && !batch.is_empty() {
            send(
                ch,
                &Msg::Blocks {
                    last: false,
                    blocks: std::mem::take(&mut batch),
                },
            )?;
            size = 0;
        }
        size += data.len() + 10;
        report.block_bytes_sent += data.len() as u64;
        batch.push(data);
        count += 1;
    }
    send(
        ch,
        &Msg::Blocks {
            last: true,
            blocks: batch,
        },
    )?;
    Ok(count)
}

/// The blocks of `Blocks` frames (and the `Part`s of large ones), read one at a time up to
/// the frame marked last (`first` may already hold the first frame), keeping the total under
/// `opts.max_transfer`.
struct BlockFeed {
    first: Option<Msg>,
    queue: std::collections::VecDeque<Vec<u8>>,
    /// The parts of a large block so far.
    pending: Vec<u8>,
    done: bool,
    count: u64,
}

impl BlockFeed {
    fn new(first: Option<Msg>) -> BlockFeed {
        BlockFeed {
            first,
            queue: std::collections::VecDeque::new(),
            pending: Vec::new(),
            done: false,
            count: 0,
        }
    }

    fn next<S: Read + Write>(
        &mut self,
        ch: &mut Channel<S>,
        opts: &Options,
        report: &mut Report,
    ) -> Result<Option<Vec<u8>>, SyncError> {
        loop {
            if let Some(b) = self.queue.pop_front() {
                return Ok(Some(b));
            }
            if self.done {
                return Ok(None);
            }
            let msg = match self.first.take() {
                Some(m) => m,
                None => recv(ch)?,
            };
            let (last, mut blocks) = match msg {
                Msg::Blocks { last, blocks } => (last, blocks),
                Msg::Part { data } => {
                    // Part of a large block: held against the transfer limit as it arrives,
                    // and counted once whole.
                    let held = (self.pending.len() + data.len()) as u64 + self.count;
                    if report.block_bytes_received + held > opts.max_transfer {
                        return Err(SyncError::Protocol(format!(
                            "the peer sent more than the limit of {} bytes of blocks",
                            opts.max_transfer
                        )));
                    }
                    if data.is_empty() {
                        return Err(SyncError::Protocol(
                            "the peer sent an empty block part".into(),
                        ));
                    }
                    self.pending.extend_from_slice(&data);
                    continue;
                }
                other => return Err(unexpected("Blocks", &other)),
            };
            if !self.pending.is_empty() {
                let Some(first) = blocks.first_mut() else {
                    return Err(SyncError::Protocol(
                        "the peer sent parts of a block but not its end".into(),
                    ));
                };
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(first);
                *first = whole;
            }
            // The sender only sends an empty batch as the last one; refusing others keeps a
            // peer from holding the connection open with frames that carry nothing.
            if blocks.is_empty() && !last {
                return Err(SyncError::Protocol(
                    "the peer sent an empty batch of blocks that is not the last".into(),
                ));
            }
            for b in blocks {
                // Each block counts at least one byte, so empty blocks cannot evade the limit.
                report.block_bytes_received += b.len() as u64;
                self.count += 1;
                if report.block_bytes_received + self.count > opts.max_transfer {
                    return Err(SyncError::Protocol(format!(
                        "the peer sent more than the limit of {} bytes of blocks",
                        opts.max_transfer
                    )));
                }
                self.queue.push_back(b);
            }
            self.done = last;
        }
    }
}

/// Receives `Blocks` frames up to the one marked last (`first` may already hold one), keeping
/// the total under `opts.max_transfer`.
fn recv_blocks<S: Read + Write>(
    ch: &mut Channel<S>,
    first: Option<Msg>,
    opts: &Options,
    report: &mut Report,
) -> Result<Vec<Vec<u8>>, SyncError> {
    let mut feed = BlockFeed::new(first);
    let mut out = Vec::new();
    while let Some(b) = feed.next(ch, opts, report)? {
        out.push(b);
    }
    Ok(out)
}

/// Sends `commits` (the peer lacks them), then the facts the peer asks for.
fn send_history<S: Read + Write>(
    ch: &mut Channel<S>,
    replica: &dyn Replica,
    commits: &[Commit],
    opts: &Options,
    report: &mut Report,
) -> Result<(), SyncError> {
    let sent = send_blocks(
        ch,
        commits.iter().map(|c| Ok((c.cid, c.block.clone()))),
        opts,
        report,
    )?;
    report.commits_sent += sent;
    if commits.is_empty() {
        // No commits, no facts: both sides skip the Want and the fact batch.
        return Ok(());
    }
    let facts = fact_list(commits.iter().map(|c| &c.facts));
    let bitmap = match recv(ch)? {
        Msg::Want { count, bitmap } => {
            if count != facts.len() as u64 || bitmap.len() != facts.len().div_ceil(8) {
                return Err(SyncError::Protocol(format!(
                    "the peer's Want covers {count} facts in {} bytes, but the commits sent name {} facts",
                    bitmap.len(),
                    facts.len()
                )));
            }
            let spare = facts.len() % 8;
            if spare != 0 && bitmap.last().is_some_and(|b| b >> spare != 0) {
                return Err(SyncError::Protocol(
                    "the peer's Want sets bits past the end of the fact list".into(),
                ));
            }
            bitmap
        }
        other => return Err(unexpected("Want", &other)),
    };
    let wanted = facts
        .iter()
        .enumerate()
        .filter(|(i, _)| bitmap[i / 8] & (1 << (i % 8)) != 0);
    let blocks = wanted.map(|(_, f)| match replica.fact(f) {
        Ok(Some(data)) => Ok((*f, data)),
        Ok(None) => Err(SyncError::Replica(format!(
            "a commit names fact {f}, which the replica does not hold"
        ))),
        Err(e) => Err(SyncError::Replica(e)),
    });
    let sent = send_blocks(ch, blocks, opts, report)?;
    report.facts_sent += sent;
    Ok(())
}

/// What the peer's commit blocks brought: the commits we lack (parents first), each with the
/// facts it names first among those we asked for, in the order the peer sends them.
struct Incoming {
    commits: Vec<(Cid, Vec<u8>, Vec<Cid>)>,
    /// Whether the peer sent commits at all (without, both sides skip the fact batch).
    any: bool,
}

/// Receives commits and asks for the facts we lack (the `Want`). Merges nothing.
fn receive_commits<S: Read + Write>(
    ch: &mut Channel<S>,
    replica: &dyn Replica,
    first: Option<Msg>,
    peer_heads: &[Cid],
    opts: &Options,
    report: &mut Report,
) -> Result<Incoming, SyncError> {
    let blocks = recv_blocks(ch, first, opts, report)?;
    report.commits_received += blocks.len() as u64;
    let mut received: HashSet<Cid> = HashSet::new();
    let mut commits: Vec<(Cid, Vec<u8>, Vec<Cid>)> = Vec::new();
    let mut fact_lists = Vec::new();
    // Which new commit (an index into `commits`) each received block is, if it is new.
    let mut owner: Vec<Option<usize>> = Vec::new();
    for block in blocks {
        let cid = cid_of(DAG_CBOR, &block);
        let (parents, facts) = replica.parse_commit(&block).map_err(|e| {
            SyncError::Protocol(format!(
                "the peer sent commit {cid}, which does not decode: {e}"
            ))
        })?;
        for p in &parents {
            if !received.contains(p) && !replica.has_commit(p).map_err(replica_err)? {
                return Err(SyncError::Protocol(format!(
                    "the peer sent commit {cid} before (or without) its parent {p}"
                )));
            }
        }
        let new = received.insert(cid) && !replica.has_commit(&cid).map_err(replica_err)?;
        owner.push(new.then_some(commits.len()));
        if new {
            commits.push((cid, block, Vec::new()));
        }
        fact_lists.push(facts);
    }
    for h in peer_heads {
        if !received.contains(h) && !replica.has_commit(h).map_err(replica_err)? {
            return Err(SyncError::Protocol(format!(
                "the peer announced head {h} but did not send it"
            )));
        }
    }
    if fact_lists.is_empty() {
        // No commits, no facts: both sides skip the Want and the fact batch.
        return Ok(Incoming {
            commits: Vec::new(),
            any: false,
        });
    }
    // The distinct facts in commit order (the list `fact_list` gives the sender), each with
    // the commit block that names it first.
    let mut seen = HashSet::new();
    let mut facts = Vec::new();
    for (list, owner) in fact_lists.iter().zip(&owner) {
        for f in list {
            if seen.insert(*f) {
                facts.push((*f, *owner));
            }
        }
    }
    let mut bitmap = vec![0u8; facts.len().div_ceil(8)];
    for (i, (f, owner)) in facts.iter().enumerate() {
        if !replica.has_fact(f).map_err(replica_err)? {
            // A held commit's facts are held: a fact we lack is first named by a new commit.
            let Some(k) = owner else {
                return Err(SyncError::Replica(format!(
                    "the replica holds a commit that names fact {f} but not the fact"
                )));
            };
            bitmap[i / 8] |= 1 << (i % 8);
            commits[*k].2.push(*f);
        }
    }
    send(
        ch,
        &Msg::Want {
            count: facts.len() as u64,
            bitmap,
        },
    )?;
    Ok(Incoming { commits, any: true })
}

/// Receives the facts asked for and merges the new commits as each one's facts complete, in
/// one [`Replica::merge_stream`]: a fact that does not match the CID asked for, too few or too
/// many facts, or any other error merges nothing.
fn receive_and_merge<S: Read + Write>(
    ch: &mut Channel<S>,
    replica: &mut dyn Replica,
    incoming: Incoming,
    opts: &Options,
    report: &mut Report,
) -> Result<u64, SyncError> {
    if !incoming.any {
        return Ok(0);
    }
    let mut feed = BlockFeed::new(None);
    let mut failure: Option<SyncError> = None;
    let mut commits = incoming.commits.into_iter();
    let merged = {
        let mut next = || -> Result<Option<CommitWithFacts>, String> {
            let mut fail = |e: SyncError| -> Result<_, String> {
                let m = e.to_string();
                failure = Some(e);
                Err(m)
            };
            let Some((cid, block, wanted)) = commits.next() else {
                // Every commit has its facts: the peer must have sent no more.
                return match feed.next(ch, opts, report) {
                    Ok(None) => Ok(None),
                    Ok(Some(_)) => fail(SyncError::Protocol(
                        "the peer sent more facts than were asked for".into(),
                    )),
                    Err(e) => fail(e),
                };
            };
            let mut facts = Vec::with_capacity(wanted.len());
            for f in wanted {
                match feed.next(ch, opts, report) {
                    Ok(Some(data)) => {
                        if let Err(e) = verify_block(&f, &data) {
                            return fail(SyncError::Protocol(format!(
                                "the peer sent a fact that does not match the CID asked for: {e}"
                            )));
                        }
                        report.facts_received += 1;
                        facts.push((f, data));
                    }
                    Ok(None) => {
                        return fail(SyncError::Protocol(
                            "the peer sent fewer facts than were asked for".into(),
                        ));
                    }
                    Err(e) => return fail(e),
                }
            }
            Ok(Some((cid, block, facts)))
        };
        replica.merge_stream(&mut next)
    };
    merged.map_err(|e| failure.take().unwrap_or(SyncError::Replica(e)))
}
