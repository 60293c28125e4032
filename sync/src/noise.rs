//! The encrypted channel: a Noise handshake with `snow`, then length-prefixed frames carried
//! in Noise transport messages.
//!
//! Phases, in order:
//! 1. Handshake. With a key, `Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s` with the key as the
//!    pre-shared key: both sides prove they hold the same 32-byte secret, and a peer with
//!    another key or none fails the first or second handshake message. Without a key,
//!    `Noise_NN_25519_ChaChaPoly_BLAKE2s`: encrypted against eavesdroppers but not
//!    authenticated, which is why the server accepts such peers only over loopback. The
//!    prologue names the protocol version, so peers of different versions fail here too.
//!    Handshake messages travel as `u16 big-endian length ‖ message`.
//! 2. Transport. A frame is `u32 big-endian length ‖ payload`, at most `max_message` payload
//!    bytes; the frame's bytes are cut into pieces of at most 65,519 bytes, each encrypted into
//!    one Noise transport message (≤ 65,535 bytes with its tag) sent as `u16 length ‖
//!    ciphertext`. The receiver checks the frame length against its own limit before reading
//!    the payload, so an oversized frame is refused before it is buffered.
//!
//! Every byte on the wire is counted, for the sync report.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use snow::{HandshakeState, TransportState};

use crate::SyncError;

/// Noise parameters with a pre-shared key.
const PARAMS_PSK: &str = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s";
/// Noise parameters without one (loopback only).
const PARAMS_NN: &str = "Noise_NN_25519_ChaChaPoly_BLAKE2s";
/// Mixed into the handshake hash: both sides must agree on it.
const PROLOGUE: &[u8] = b"pomo-sync/1";
/// Largest Noise message, and its authentication tag.
const NOISE_MAX: usize = 65535;
const TAG: usize = 16;
const CHUNK: usize = NOISE_MAX - TAG;

/// A stream that counts the bytes that go through it, and refuses to go on past a deadline
/// (so a peer that trickles bytes cannot hold a one-at-a-time server for ever: each read is
/// bounded by the socket timeout, the whole connection by the deadline).
pub(crate) struct Counted<S> {
    inner: S,
    pub sent: u64,
    pub received: u64,
    deadline: Option<Instant>,
}

impl<S> Counted<S> {
    fn check_deadline(&self) -> io::Result<()> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connection took longer than its deadline",
            )),
            _ => Ok(()),
        }
    }
}

impl<S: Read> Read for Counted<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check_deadline()?;
        let n = self.inner.read(buf)?;
        self.received += n as u64;
        Ok(n)
    }
}

impl<S: Write> Write for Counted<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_deadline()?;
        let n = self.inner.write(buf)?;
        self.sent += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// An established, encrypted, framed channel.
pub(crate) struct Channel<S> {
    pub stream: Counted<S>,
    /// How many times this side started sending after receiving (or at all): with a half
    /// duplex exchange, the number of round trips it drove.
    pub turns: u64,
    /// Whether the last frame went out (rather than came in).
    sending: bool,
    transport: TransportState,
    /// Decrypted bytes not yet consumed, from `pos` on.
    plain: Vec<u8>,
    pos: usize,
    max_message: usize,
}

fn noise_err(what: &str, e: snow::Error) -> SyncError {
    SyncError::Handshake(format!("{what}: {e}"))
}

fn builder(key: Option<&[u8; 32]>) -> Result<snow::Builder<'_>, SyncError> {
    let params = if key.is_some() { PARAMS_PSK } else { PARAMS_NN };
    let params = params
        .parse()
        .map_err(|e| noise_err("Noise parameters", e))?;
    let b = snow::Builder::new(params)
        .prologue(PROLOGUE)
        .map_err(|e| noise_err("Noise prologue", e))?;
    match key {
        Some(k) => b.psk(0, k).map_err(|e| noise_err("Noise key", e)),
        None => Ok(b),
    }
}

/// Reads one `u16 length ‖ message` Noise message; `None` at a clean end of stream.
fn read_noise(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<Option<()>> {
    let mut len = [0u8; 2];
    match r.read_exact(&mut len[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut len[1..])?;
    buf.resize(u16::from_be_bytes(len) as usize, 0);
    r.read_exact(buf)?;
    Ok(Some(()))
}

fn write_noise(out: &mut Vec<u8>, msg: &[u8]) {
    out.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    out.extend_from_slice(msg);
}

/// Runs the handshake over `stream` as initiator (client) or responder (server).
pub(crate) fn handshake<S: Read + Write>(
    stream: S,
    key: Option<&[u8; 32]>,
    initiator: bool,
    max_message: usize,
    max_duration: Option<Duration>,
) -> Result<Channel<S>, SyncError> {
    let mut stream = Counted {
        inner: stream,
        sent: 0,
        received: 0,
        deadline: max_duration.map(|d| Instant::now() + d),
    };
    let b = builder(key)?;
    let mut hs: HandshakeState = if initiator {
        b.build_initiator()
    } else {
        b.build_responder()
    }
    .map_err(|e| noise_err("starting the handshake", e))?;
    let mut msg = vec![0u8; NOISE_MAX];
    let mut wire = Vec::new();
    let mut payload = vec![0u8; NOISE_MAX];
    let closed = |role: &str| {
        SyncError::Handshake(format!(
            "the {role} closed the connection during the handshake (a different key, or a key on one side only?)"
        ))
    };
    let io_err = |e: io::Error| SyncError::Handshake(format!("during the handshake: {e}"));
    // NN and NNpsk0 both have two messages: initiator → responder, then back.
    for step in 0..2 {
        let we_write = (step == 0) == initiator;
        if we_write {
            let n = hs
                .write_message(&[], &mut msg)
                .map_err(|e| noise_err("writing a handshake message", e))?;
            wire.clear();
            write_noise(&mut wire, &msg[..n]);
            stream
                .write_all(&wire)
                .and_then(|()| stream.flush())
                .map_err(io_err)?;
        } else {
            let peer = if initiator { "server" } else { "client" };
            let got = read_noise(&mut stream, &mut msg).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => closed(peer),
                _ => io_err(e),
            })?;
            if got.is_none() {
                return Err(closed(peer));
            }
            hs.read_message(&msg, &mut payload).map_err(|e| {
                SyncError::Handshake(format!(
                    "the {peer}'s handshake message does not verify ({e}): it uses a different key, or none, or another protocol"
                ))
            })?;
            msg.resize(NOISE_MAX, 0);
        }
    }
    let transport = hs
        .into_transport_mode()
        .map_err(|e| noise_err("finishing the handshake", e))?;
    Ok(Channel {
        turns: 0,
        sending: false,
        stream,
        transport,
        plain: Vec::new(),
        pos: 0,
        max_message,
    })
}

impl<S: Read + Write> Channel<S> {
    /// Sends one frame. A payload over `max_message` is refused here too, so this side never
    /// sends what its own limit would make it refuse.
    pub fn send(&mut self, payload: &[u8]) -> Result<(), SyncError> {
        if payload.len() > self.max_message {
            return Err(SyncError::Protocol(format!(
                "refusing to send a frame of {} bytes, over the limit of {}",
                payload.len(),
                self.max_message
            )));
        }
        let mut framed = Vec::with_capacity(payload.len() + 4);
        framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        framed.extend_from_slice(payload);
        let mut wire = Vec::with_capacity(framed.len() + (framed.len() / CHUNK + 1) * (TAG + 2));
        let mut buf = vec![0u8; NOISE_MAX];
        for piece in framed.chunks(CHUNK) {
            let n = self
                .transport
                .write_message(piece, &mut buf)
                .map_err(|e| SyncError::Protocol(format!("encrypting a frame: {e}")))?;
            write_noise(&mut wire, &buf[..n]);
        }
        self.stream.write_all(&wire)?;
        self.stream.flush()?;
        if !self.sending {
            self.turns += 1;
            self.sending = true;
        }
        Ok(())
    }

    /// Reads `n` decrypted bytes, pulling Noise messages as needed.
    fn read_plain(&mut self, n: usize) -> Result<Vec<u8>, SyncError> {
        let mut out = Vec::with_capacity(n);
        let mut msg = Vec::new();
        while out.len() < n {
            if self.pos == self.plain.len() {
                let got = read_noise(&mut self.stream, &mut msg).map_err(|e| match e.kind() {
                    io::ErrorKind::UnexpectedEof => SyncError::Protocol(
                        "the peer closed the connection in the middle of a message".into(),
                    ),
                    _ => SyncError::Io(e),
                })?;
                match got {
                    Some(()) => {}
                    None => {
                        return Err(SyncError::Protocol(
                            "the peer closed the connection in the middle of the exchange".into(),
                        ));
                    }
                }
                self.plain.resize(msg.len(), 0);
                let len = self
                    .transport
                    .read_message(&msg, &mut self.plain)
                    .map_err(|e| {
                        SyncError::Protocol(format!(
                            "a message from the peer does not decrypt: {e}"
                        ))
                    })?;
                self.plain.truncate(len);
                self.pos = 0;
            }
            let take = (n - out.len()).min(self.plain.len() - self.pos);
            out.extend_from_slice(&self.plain[self.pos..self.pos + take]);
            self.pos += take;
        }
        Ok(out)
    }

    /// Receives one frame, refusing one whose announced length exceeds `max_message`.
    pub fn recv(&mut self) -> Result<Vec<u8>, SyncError> {
        self.sending = false;
        let header = self.read_plain(4)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len > self.max_message {
            return Err(SyncError::Protocol(format!(
                "the peer sent a frame of {len} bytes, over the limit of {}",
                self.max_message
            )));
        }
        self.read_plain(len)
    }
}
