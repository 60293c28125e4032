//! The TCP layer: connecting with timeouts, the listening policy, and a server that handles
//! peers one after another.
//!
//! For each accepted connection, in order: refuse a non-loopback peer when there is no key
//! (an unauthenticated server must not be reachable from elsewhere); set the socket's
//! timeouts; run the Noise handshake; only then open the replica through the caller's `open`
//! (so an unauthenticated peer never causes the store to be opened, and the store is not held
//! between peers); run the exchange. Every outcome goes to the `on_event` callback; a failing
//! peer never stops the server.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;

use crate::message::Msg;
use crate::noise::handshake;
use crate::protocol::serve_channel;
use crate::replica::Replica;
use crate::{Options, Report, SyncError};

/// What happened to one connection, reported by [`serve`].
#[derive(Debug)]
pub enum ServeEvent {
    /// The peer synced; the report is the server's view.
    Synced { peer: SocketAddr, report: Report },
    /// The peer was turned away before the handshake (not loopback, and the server has no key).
    Refused { peer: SocketAddr, reason: String },
    /// The connection failed: handshake, protocol, replica or I/O error.
    Failed { peer: SocketAddr, error: SyncError },
    /// `accept` itself failed; the server goes on.
    AcceptFailed { error: std::io::Error },
}

/// Whether the address is on this machine only (127.0.0.0/8, ::1, or an IPv4-mapped loopback).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Refuses to listen on a non-loopback address without a key: without one, the Noise
/// handshake encrypts but does not authenticate, so anyone who can reach the port could read
/// and write the replica. The command line calls this before binding.
pub fn check_listen_addr(addr: &SocketAddr, key: Option<&[u8; 32]>) -> Result<(), SyncError> {
    if key.is_none() && !is_loopback(addr.ip()) {
        return Err(SyncError::Refused(format!(
            "refusing to listen on {addr} without a sync key: without one any peer that reaches it could read and write the replica; listen on 127.0.0.1 or give a key"
        )));
    }
    Ok(())
}

/// Connects to a server with `opts.timeout` for the connection and for every read and write.
pub fn connect(addr: impl ToSocketAddrs, opts: &Options) -> Result<TcpStream, SyncError> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, opts.timeout) {
            Ok(s) => {
                s.set_read_timeout(Some(opts.timeout))?;
                s.set_write_timeout(Some(opts.timeout))?;
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(
        || SyncError::Refused("the address resolves to nothing".into()),
        SyncError::Io,
    ))
}

/// Connects to `addr` and runs [`crate::sync`] over the connection.
pub fn sync_tcp(
    addr: impl ToSocketAddrs,
    replica: &mut dyn Replica,
    opts: &Options,
) -> Result<Report, SyncError> {
    let stream = connect(addr, opts)?;
    crate::sync(stream, replica, opts)
}

/// Serves peers one after another on `listener`, opening the replica for each through `open`.
/// Runs until `opts.max_connections` connections were handled or `opts.stop` is set (checked
/// when a connection arrives and after each one, so a stopper sets the flag and then connects
/// once to wake the blocked `accept`); returns an error only if the listener's address is refused by
/// [`check_listen_addr`].
pub fn serve(
    listener: TcpListener,
    mut open: impl FnMut() -> Result<Box<dyn Replica>, String>,
    opts: &Options,
    mut on_event: impl FnMut(ServeEvent),
) -> Result<(), SyncError> {
    check_listen_addr(&listener.local_addr()?, opts.key.as_ref())?;
    let mut handled: u64 = 0;
    for conn in listener.incoming() {
        if opts.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
            break;
        }
        match conn {
            Ok(stream) => {
                handled += 1;
                if let Some(event) = serve_connection(stream, &mut open, opts) {
                    on_event(event);
                }
            }
            Err(error) => on_event(ServeEvent::AcceptFailed { error }),
        }
        let stop = opts.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst));
        if stop || opts.max_connections.is_some_and(|max| handled >= max) {
            break;
        }
    }
    Ok(())
}

fn serve_connection(
    stream: TcpStream,
    open: &mut impl FnMut() -> Result<Box<dyn Replica>, String>,
    opts: &Options,
) -> Option<ServeEvent> {
    let peer = match stream.peer_addr() {
        Ok(p) => p,
        Err(error) => return Some(ServeEvent::AcceptFailed { error }),
    };
    if opts.key.is_none() && !is_loopback(peer.ip()) {
        return Some(ServeEvent::Refused {
            peer,
            reason: "the server has no sync key, so it accepts loopback peers only".into(),
        });
    }
    let result = (|| {
        stream.set_read_timeout(Some(opts.timeout))?;
        stream.set_write_timeout(Some(opts.timeout))?;
        stream.set_nodelay(true)?;
        let mut ch = handshake(
            &stream,
            opts.key.as_ref(),
            false,
            opts.max_message,
            opts.max_duration,
        )?;
        let mut replica = match open() {
            Ok(r) => r,
            Err(e) => {
                // Tell the peer why, after reading its Hello so that closing with unread data
                // does not reset the connection before it reads the reason.
                let e = SyncError::Replica(format!("the server could not open its replica: {e}"));
                let _ = ch.recv();
                let _ = ch.send(
                    &Msg::Error {
                        message: e.to_string(),
                    }
                    .encode(),
                );
                return Err(e);
            }
        };
        serve_channel(&mut ch, replica.as_mut(), opts)
    })();
    Some(match result {
        Ok(report) => ServeEvent::Synced { peer, report },
        Err(error) => ServeEvent::Failed { peer, error },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_recognised_in_every_form() {
        for ip in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "192.0.2.1",
            "::",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }
}
