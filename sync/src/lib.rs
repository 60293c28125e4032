//! pomo-sync: moving a pomo replica's history between stores, as CARv1 files and over a
//! two-way, Noise-encrypted TCP protocol.
//!
//! A replica's history is a DAG of commit blocks (DAG-CBOR, naming parent commits and fact
//! blocks), all content-addressed with CIDv1 and sha2-256. The store implements the small
//! [`Replica`] trait; this crate never depends on the store. Modules, in the order data flows:
//!
//! - [`block`]: computing and verifying CIDs; every block from outside passes through it.
//! - [`car`]: CARv1 writer and a streaming reader that verifies every block.
//! - [`replica`]: the trait, history walks ([`missing_for`], parents-first order), and
//!   [`export`]/[`import`] of a whole replica as a CAR file.
//! - `noise`, `message`, `protocol`: the handshake, framing, messages and the exchange
//!   ([`sync`] for the client, [`serve_one`] for the server), summarised below.
//! - [`server`]: TCP: [`connect`], [`sync_tcp`], [`serve`], and the listening policy
//!   [`check_listen_addr`].
//!
//! ```
//! use pomo_sync::{CarReader, block::{DAG_CBOR, cid_of}, write_car};
//!
//! let data = b"\xa1\x61a\x01".to_vec(); // DAG-CBOR {"a": 1}
//! let cid = cid_of(DAG_CBOR, &data);
//! let mut file = Vec::new();
//! write_car(&mut file, &[cid], [(cid, data.clone())])?;
//! let reader = CarReader::new(&file[..])?;
//! assert_eq!(reader.roots(), &[cid]);
//! let blocks = reader.collect::<Result<Vec<_>, _>>()?; // every block verified
//! assert_eq!(blocks, vec![(cid, data)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A client syncs a replica (any [`Replica`]) with a server in one call:
//!
//! ```text
//! let opts = Options { key: Some(load_key(path)?), ..Options::default() };
//! let report = sync_tcp("127.0.0.1:7420", &mut replica, &opts)?;
//! ```
//!
//! # Protocol (version 1)
//! Over any `Read + Write` stream: a Noise handshake (below), then frames of `u32 length ‖
//! payload` (at most [`Options::max_message`]) cut into Noise transport messages of at most
//! 65,535 bytes. Half duplex, client first:
//!
//! 1. → `Hello{version, heads, haves}` ← `Hello{version, read_only, heads, haves}`, where
//!    `haves` samples the sender's ancestors at distances 1, 2, 4, 8, … so the peer can find a
//!    common base below divergent heads in one go, git-style.
//! 2. Pull: ← `Blocks` (commits the client lacks, parents first, without CIDs), → `Want` (one
//!    bit per distinct fact those commits name: which the client lacks), ← `Blocks` (exactly
//!    those facts, in order). The client verifies all of it, then merges once.
//! 3. Push (unless the server is read-only, or lacks nothing): the same the other way, then
//!    ← `Done{new_facts}`; otherwise → `Bye`. A read-only server answers a push with
//!    `Error`.
//!
//! Any malformed, unexpected or oversized message, a commit that does not decode or arrives
//! before its parent, an announced head that never arrives, or a fact that does not hash to
//! the CID asked for aborts the connection (with an `Error` message to the peer where
//! possible) before `merge` is called, so nothing changes.

//! # Security: a shared secret
//! With a key (32 bytes; [`generate_key`], [`load_key`]), every connection runs
//! `Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s` with the key as the pre-shared key: the channel is
//! encrypted and both ends are known to hold the same secret. There are no per-peer
//! identities: anyone with the key may read the replica and (unless the server is read-only)
//! push to it. Without a key the handshake is `Noise_NN_25519_ChaChaPoly_BLAKE2s`, encrypted
//! but not authenticated, so [`serve`] accepts only loopback peers and
//! [`check_listen_addr`] refuses to listen on any other address. All cryptography is `snow`'s.
//!
//! # Choices
//! - **CAR framing is our own, not `iroh-car`.** iroh-car 0.5.1 is async only (tokio
//!   `AsyncRead`/`AsyncWrite`), so blocking use would need a tokio runtime or adapters; it
//!   brings tokio, futures, anyhow, thiserror 1 and a second `serde_ipld_dagcbor` (0.6,
//!   beside the 0.7 pomo uses) and `unsigned-varint` 0.7; it does not verify block digests
//!   and its 4 MiB section limit is a constant. The format is a varint, a CID and bytes: the
//!   whole of `car.rs`'s reader and writer is about 250 lines of code, blocking, verifying, with a
//!   configurable limit and errors that carry byte offsets.
//! - **snow without its `std` feature**: `std` enables `ring/std` unconditionally and so
//!   builds ring; the pure-Rust resolver with ChaChaPoly, BLAKE2s and X25519 is all the
//!   protocol uses.
//! - **Blocking `std::net`**, one peer at a time: a sync is a handful of round trips and the
//!   store is single-writer, so concurrency would buy little and cost a runtime.
//! - **Hand-written message encoding** (see `message.rs`): blocks travel as they are, and the
//!   decoder's bounds checks are explicit.
//!
//! # Efficiency
//! Blocks travel without their CIDs (the receiver computes a commit's CID from its bytes, and
//! knows which fact CID it asked for in each position), facts are requested with one bit
//! each, and the exchange takes at most four round trips whatever the history (three one
//! way, two when there is nothing to do). Measured by the test
//! `delta_sync_sends_little_more_than_the_new_blocks`: 1,000 new facts (about 40 bytes each)
//! in two commits on top of a 50-commit history, 73,340 bytes of new blocks, cost about
//! 75,250 bytes on the wire both ways, handshake and Noise tags included (ratio 1.03), in three
//! round trips. Divergent histories may resend a few commit blocks below the fork (at most
//! about as many as were made since it, because the ancestor sample is sparse); facts are
//! never resent.

pub mod block;
pub mod car;
mod key;
mod message;
mod noise;
mod protocol;
pub mod replica;
pub mod server;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub use car::{CarError, CarReader, write_car};
pub use key::{generate_key, key_to_hex, load_key, parse_key};
pub use message::VERSION;
pub use protocol::{serve_one, sync};
pub use replica::{Commit, ImportError, ImportReport, Replica, export, import, missing_for};
pub use server::{ServeEvent, check_listen_addr, connect, serve, sync_tcp};

/// Settings for both sides of a sync.
#[derive(Clone)]
pub struct Options {
    /// The pre-shared key; `None` means unauthenticated, loopback only.
    pub key: Option<[u8; 32]>,
    /// Server: refuse pushes (a push is answered with an error and changes nothing).
    pub read_only: bool,
    /// Client: push what the server lacks (when the server allows it).
    pub push: bool,
    /// Connect, read and write timeout on TCP sockets.
    pub timeout: Duration,
    /// Largest message payload either side sends or accepts; also bounds a block's size.
    pub max_message: usize,
    /// Largest total of block bytes accepted from the peer in one connection: everything
    /// received is buffered until it is verified and merged, so this bounds that buffer.
    pub max_transfer: u64,
    /// Longest a whole connection may take, handshake included (checked at every read and
    /// write, each of which is bounded by `timeout`); `None` for no limit. The server's
    /// default keeps one slow peer from holding it for long, as it serves one at a time.
    pub max_duration: Option<Duration>,
    /// Server: stop after this many connections (tests; `None` serves forever).
    pub max_connections: Option<u64>,
    /// Server: stop once this is set (checked after each connection).
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            key: None,
            read_only: false,
            push: true,
            timeout: Duration::from_secs(30),
            max_message: 1 << 20,
            max_transfer: 1 << 30,
            max_duration: Some(Duration::from_secs(600)),
            max_connections: None,
            stop: None,
        }
    }
}

impl fmt::Debug for Options {
    /// Never prints the key itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("key", &self.key.map(|_| "<set>"))
            .field("read_only", &self.read_only)
            .field("push", &self.push)
            .field("timeout", &self.timeout)
            .field("max_message", &self.max_message)
            .field("max_transfer", &self.max_transfer)
            .field("max_duration", &self.max_duration)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// What one sync did, from one side's point of view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub commits_sent: u64,
    pub facts_sent: u64,
    pub commits_received: u64,
    pub facts_received: u64,
    /// Facts that were new to this side's replica (from its merge).
    pub new_facts: u64,
    /// Client: facts the server reported as new after our push.
    pub peer_new_facts: u64,
    /// Block payload bytes, without framing or encryption.
    pub block_bytes_sent: u64,
    pub block_bytes_received: u64,
    /// Everything on the wire, handshake included.
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Times this side sent after receiving: the round trips of the half-duplex exchange
    /// (at most four, whatever the shape of the history).
    pub round_trips: u64,
    /// Client: whether it pushed; false only when the server is read-only or `push` is off
    /// (true when the server lacked nothing). Server: whether the client pushed commits.
    pub pushed: bool,
}

/// Why a sync failed. Whatever the variant, nothing was merged from the failing direction.
#[derive(Debug)]
pub enum SyncError {
    /// The connection failed or timed out.
    Io(std::io::Error),
    /// The Noise handshake failed: most often a different key, or a key on one side only.
    Handshake(String),
    /// The peer sent something malformed, unexpected, oversized or unverifiable.
    Protocol(String),
    /// The peer gave up and sent this reason.
    Peer(String),
    /// Policy refused the operation (read-only server, unauthenticated non-loopback address).
    Refused(String),
    /// The local replica failed.
    Replica(String),
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::Io(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                write!(f, "sync: the peer did not answer in time ({e})")
            }
            SyncError::Io(e) => write!(f, "sync: connection failed: {e}"),
            SyncError::Handshake(why) => write!(f, "sync: handshake failed: {why}"),
            SyncError::Protocol(why) => write!(f, "sync: protocol error: {why}"),
            SyncError::Peer(why) => write!(f, "sync: the peer gave up: {why}"),
            SyncError::Refused(why) => write!(f, "sync: refused: {why}"),
            SyncError::Replica(why) => write!(f, "sync: replica error: {why}"),
        }
    }
}

impl std::error::Error for SyncError {}

impl From<std::io::Error> for SyncError {
    fn from(e: std::io::Error) -> Self {
        SyncError::Io(e)
    }
}
