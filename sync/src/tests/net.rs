//! The protocol over loopback TCP: honest peers converge, dishonest or mis-keyed peers are
//! cut off with an error and change nothing, and the server outlives its failing peers.
//! Socket timeouts only keep a broken test from hanging; no assertion depends on time.

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use cid::Cid;

use super::mem::{MemReplica, Shared, commit_block};
use crate::block::{DAG_CBOR, cid_of};
use crate::message::{Msg, VERSION};
use crate::noise::{Channel, handshake};
use crate::{
    Options, Replica, Report, ServeEvent, SyncError, check_listen_addr, serve, serve_one, sync,
    sync_tcp,
};

fn opts() -> Options {
    Options {
        timeout: Duration::from_secs(30),
        ..Options::default()
    }
}

fn keyed(key: [u8; 32]) -> Options {
    Options {
        key: Some(key),
        ..opts()
    }
}

fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A server thread's outcome: its result and its replica afterwards.
type ServerThread = thread::JoinHandle<(Result<Report, SyncError>, MemReplica)>;

/// Runs `serve_one` for one connection on a thread; the result comes back with the replica.
fn spawn_server(mut replica: MemReplica, opts: Options) -> (SocketAddr, ServerThread) {
    let (listener, addr) = listen();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(opts.timeout)).unwrap();
        let result = serve_one(&stream, &mut replica, &opts);
        (result, replica)
    });
    (addr, handle)
}

struct Outcome {
    server: MemReplica,
    client: MemReplica,
    server_result: Result<Report, SyncError>,
    client_result: Result<Report, SyncError>,
}

/// One honest client against one server.
fn run(
    server: MemReplica,
    server_opts: Options,
    mut client: MemReplica,
    client_opts: Options,
) -> Outcome {
    let (addr, handle) = spawn_server(server, server_opts);
    let client_result = sync_tcp(addr, &mut client, &client_opts);
    let (server_result, server) = handle.join().unwrap();
    Outcome {
        server,
        client,
        server_result,
        client_result,
    }
}

/// A client that drives the connection by hand, against one server; returns the server's
/// result and replica.
fn run_raw(
    server: MemReplica,
    server_opts: Options,
    client: impl FnOnce(TcpStream),
) -> (Result<Report, SyncError>, MemReplica) {
    let (addr, handle) = spawn_server(server, server_opts);
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    client(stream);
    handle.join().unwrap()
}

fn err_text<T: std::fmt::Debug>(r: &Result<T, SyncError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn send(ch: &mut Channel<TcpStream>, msg: Msg) {
    ch.send(&msg.encode()).unwrap();
}

fn recv(ch: &mut Channel<TcpStream>) -> Msg {
    Msg::decode(&ch.recv().unwrap()).unwrap()
}

/// Says hello announcing `heads` (the server's own, so there is nothing to pull) and runs the
/// empty pull, leaving the server waiting for `Bye` or a push.
fn raw_hello(stream: TcpStream, heads: Vec<Cid>) -> Channel<TcpStream> {
    let mut ch = handshake(stream, None, true, 1 << 20, None).unwrap();
    send(
        &mut ch,
        Msg::Hello {
            version: VERSION,
            read_only: false,
            heads,
            haves: vec![],
        },
    );
    assert!(matches!(recv(&mut ch), Msg::Hello { .. }));
    // No commits to pull, so no Want and no facts.
    assert_eq!(
        recv(&mut ch),
        Msg::Blocks {
            last: true,
            blocks: vec![]
        }
    );
    ch
}

/// Two replicas with a shared base of three commits.
fn base() -> MemReplica {
    let mut r = MemReplica::default();
    r.grow_chain("base", 3, 5);
    r
}

#[test]
fn divergent_replicas_converge_and_a_second_sync_moves_nothing() {
    let mut a = base();
    let mut b = base();
    a.grow_chain("a", 3, 4);
    b.grow_chain("b", 2, 6);
    let out = run(a.clone(), opts(), b.clone(), opts());
    let report = out.client_result.unwrap();
    out.server_result.unwrap();
    assert_eq!(out.server.state(), out.client.state());
    assert_eq!(out.client.commit_count(), 3 + 3 + 2);
    assert_eq!(
        (
            report.commits_received,
            report.facts_received,
            report.new_facts
        ),
        (3, 12, 12)
    );
    assert_eq!(
        (
            report.commits_sent,
            report.facts_sent,
            report.peer_new_facts
        ),
        (2, 12, 12)
    );
    assert!(report.pushed);
    assert_eq!(report.round_trips, 4);

    let again = run(out.server, opts(), out.client, opts());
    let report = again.client_result.unwrap();
    assert_eq!(
        (
            report.commits_sent,
            report.facts_sent,
            report.commits_received,
            report.facts_received,
            report.new_facts
        ),
        (0, 0, 0, 0, 0)
    );
    assert_eq!((again.server.merges, again.client.merges), (1, 1));
    assert_eq!(report.round_trips, 2);
}

#[test]
fn empty_replicas_and_one_sided_histories_sync() {
    let out = run(MemReplica::default(), opts(), MemReplica::default(), opts());
    assert!(out.client_result.unwrap().bytes_sent > 0);
    let out = run(base(), opts(), MemReplica::default(), opts());
    out.client_result.unwrap();
    assert_eq!(out.client.state(), base().state());
    let out = run(MemReplica::default(), opts(), base(), opts());
    out.client_result.unwrap();
    assert_eq!(out.server.state(), base().state());
}

#[test]
fn long_divergent_chains_converge_with_few_extra_commits() {
    let mut common = MemReplica::default();
    common.grow_chain("base", 200, 1);
    let mut a = common.clone();
    let mut b = common.clone();
    a.grow_chain("a", 40, 2);
    b.grow_chain("b", 30, 2);
    let out = run(a, opts(), b, opts());
    let report = out.client_result.unwrap();
    assert_eq!(out.server.state(), out.client.state());
    // Commits below the fork may be resent (the sample of ancestors is sparse), facts never.
    assert_eq!((report.facts_received, report.facts_sent), (80, 60));
    assert!(report.commits_received <= 40 + 40, "{report:?}");
    assert!(report.commits_sent <= 30 + 30, "{report:?}");
    assert_eq!(report.round_trips, 4);
}

/// Pushes or pulls 1,000 new facts in two commits and compares the bytes on the wire (both
/// ways, handshake and all) with the bytes of the new blocks.
fn check_delta_ratio(push: bool) -> f64 {
    let mut common = MemReplica::default();
    common.grow_chain("base", 50, 20);
    let mut ahead = common.clone();
    ahead.grow("new1", 600);
    ahead.grow("new2", 400);
    let (ahead_commits, _) = ahead.state();
    let (common_commits, _) = common.state();
    let new: std::collections::BTreeSet<Cid> =
        ahead_commits.difference(&common_commits).copied().collect();
    let new_bytes = ahead.block_bytes(&new);
    let out = if push {
        run(common, opts(), ahead, opts())
    } else {
        run(ahead, opts(), common, opts())
    };
    let report = out.client_result.unwrap();
    assert_eq!(out.server.state(), out.client.state());
    assert_eq!(report.round_trips, 3);
    let wire = report.bytes_sent + report.bytes_received;
    let ratio = wire as f64 / new_bytes as f64;
    eprintln!(
        "delta {}: {wire} bytes on the wire for {new_bytes} bytes of new blocks (ratio {ratio:.3})",
        if push { "push" } else { "pull" }
    );
    ratio
}

#[test]
fn delta_sync_sends_little_more_than_the_new_blocks() {
    assert!(check_delta_ratio(true) < 1.5);
    assert!(check_delta_ratio(false) < 1.5);
}

#[test]
fn keyed_peers_sync() {
    let key = crate::generate_key().unwrap();
    let mut b = base();
    b.grow("b", 3);
    let out = run(base(), keyed(key), b, keyed(key));
    out.client_result.unwrap();
    assert_eq!(out.server.state(), out.client.state());
}

#[test]
fn wrong_key_or_no_key_is_refused_and_changes_nothing() {
    let key = [7u8; 32];
    let mut client = base();
    client.grow("c", 3);
    let cases = [
        ("wrong key", keyed(key), keyed([8u8; 32])),
        ("no client key", keyed(key), opts()),
        ("no server key", opts(), keyed(key)),
    ];
    for (name, server_opts, client_opts) in cases {
        let out = run(base(), server_opts, client.clone(), client_opts);
        let text = err_text(&out.client_result);
        assert!(text.contains("handshake"), "{name}: {text}");
        assert!(out.server_result.is_err(), "{name}: the server accepted");
        assert_eq!(out.server.state(), base().state(), "{name}");
        assert_eq!(out.client.state(), client.state(), "{name}");
    }
}

#[test]
fn read_only_server_is_pulled_from_but_not_pushed_to() {
    let mut server = base();
    server.grow("s", 4);
    let mut client = base();
    client.grow("c", 3);
    let out = run(
        server.clone(),
        Options {
            read_only: true,
            ..opts()
        },
        client,
        opts(),
    );
    let report = out.client_result.unwrap();
    assert!(!report.pushed);
    assert_eq!(report.new_facts, 4);
    assert_eq!(out.server.state(), server.state());
    assert_eq!(out.server.merges, 0);
}

#[test]
fn read_only_server_answers_a_push_with_an_error() {
    let server = base();
    let heads = server.heads().unwrap();
    let (result, after) = run_raw(
        server.clone(),
        Options {
            read_only: true,
            ..opts()
        },
        |stream| {
            let mut ch = raw_hello(stream, heads.clone());
            let block = commit_block(&heads, &[]);
            send(
                &mut ch,
                Msg::Blocks {
                    last: true,
                    blocks: vec![block],
                },
            );
            match Msg::decode(&ch.recv().unwrap()).unwrap() {
                Msg::Error { message } => assert!(message.contains("read-only"), "{message}"),
                other => panic!("expected an error, got {other:?}"),
            }
        },
    );
    assert!(err_text(&result).contains("read-only"));
    assert_eq!(after.state(), server.state());
}

#[test]
fn random_bytes_after_connect_are_refused() {
    let server = base();
    let garbage = |mut stream: TcpStream| {
        let mut x: u32 = 12345;
        let noise: Vec<u8> = (0..300)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        // A first length of 64 bytes, then garbage: a handshake message that does not verify.
        stream.write_all(&[0, 64]).unwrap();
        stream.write_all(&noise).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
    };
    let (result, after) = run_raw(server.clone(), keyed([3; 32]), garbage);
    assert!(
        err_text(&result).contains("handshake"),
        "{}",
        err_text(&result)
    );
    assert_eq!(after.state(), server.state());
    let (result, after) = run_raw(server.clone(), opts(), garbage);
    // Without a key the first handshake message is not authenticated, so the garbage is
    // caught at the first transport message instead.
    assert!(
        matches!(result, Err(SyncError::Protocol(_))),
        "{}",
        err_text(&result)
    );
    assert_eq!(after.state(), server.state());
}

#[test]
fn malformed_frame_after_a_valid_handshake_is_refused() {
    let server = base();
    let (result, after) = run_raw(server.clone(), opts(), |stream| {
        let mut ch = handshake(stream, None, true, 1 << 20, None).unwrap();
        ch.send(b"\x01\x01\xff\xff").unwrap();
        // The server says why before it hangs up.
        match Msg::decode(&ch.recv().unwrap()).unwrap() {
            Msg::Error { message } => assert!(message.contains("malformed"), "{message}"),
            other => panic!("expected an error, got {other:?}"),
        }
    });
    assert!(err_text(&result).contains("malformed message"));
    assert_eq!(after.state(), server.state());
}

#[test]
fn unexpected_message_is_refused() {
    let server = base();
    let (result, after) = run_raw(server.clone(), opts(), |stream| {
        let mut ch = handshake(stream, None, true, 1 << 20, None).unwrap();
        send(&mut ch, Msg::Bye);
        let _ = ch.recv();
    });
    assert!(err_text(&result).contains("expected Hello from the peer, got Bye"));
    assert_eq!(after.state(), server.state());
}

#[test]
fn oversized_frame_is_refused() {
    let server = base();
    let (result, after) = run_raw(server.clone(), opts(), |stream| {
        let mut ch = handshake(stream, None, true, 4 << 20, None).unwrap();
        let _ = ch.send(&vec![0u8; (1 << 20) + 1]);
        let _ = ch.recv();
    });
    assert!(err_text(&result).contains("over the limit of 1048576"));
    assert_eq!(after.state(), server.state());
}

#[test]
fn wrong_protocol_version_is_refused() {
    let server = base();
    let (result, _) = run_raw(server, opts(), |stream| {
        let mut ch = handshake(stream, None, true, 1 << 20, None).unwrap();
        send(
            &mut ch,
            Msg::Hello {
                version: 99,
                read_only: false,
                heads: vec![],
                haves: vec![],
            },
        );
        let _ = ch.recv();
    });
    assert!(err_text(&result).contains("version 99"));
}

#[test]
fn pushed_commit_without_its_parent_or_undecodable_is_refused() {
    let server = base();
    let heads = server.heads().unwrap();
    let orphan = commit_block(&[cid_of(DAG_CBOR, b"nowhere")], &[]);
    let cases = [
        (orphan, "without) its parent"),
        (b"\xa0".to_vec(), "does not decode"),
    ];
    for (block, expected) in cases {
        let (result, after) = run_raw(server.clone(), opts(), |stream| {
            let mut ch = raw_hello(stream, heads.clone());
            send(
                &mut ch,
                Msg::Blocks {
                    last: true,
                    blocks: vec![block.clone()],
                },
            );
            let _ = ch.recv();
        });
        assert!(
            err_text(&result).contains(expected),
            "{}",
            err_text(&result)
        );
        assert_eq!(after.state(), server.state());
    }
}

#[test]
fn facts_that_do_not_match_their_cids_are_refused_both_ways() {
    // A lying client pushes corrupted facts.
    let mut liar = base();
    liar.grow("lie", 3);
    liar.corrupt_facts = true;
    let out = run(base(), opts(), liar.clone(), opts());
    assert!(err_text(&out.server_result).contains("does not match the CID"));
    assert!(err_text(&out.client_result).contains("does not match the CID"));
    assert_eq!(out.server.state(), base().state());

    // A lying server serves corrupted facts: the client merges nothing.
    let out = run(liar, opts(), base(), opts());
    assert!(err_text(&out.client_result).contains("does not match the CID"));
    assert_eq!(out.client.state(), base().state());
    assert_eq!(out.client.merges, 0);
}

#[test]
fn serve_handles_peers_one_after_another_and_survives_a_bad_one() {
    let store = Shared::default();
    store.0.lock().unwrap().grow_chain("server", 2, 3);
    let (listener, addr) = listen();
    let served = store.clone();
    let options = Options {
        max_connections: Some(3),
        ..opts()
    };
    let server = thread::spawn(move || {
        let mut events = Vec::new();
        let open = || Ok(Box::new(served.clone()) as Box<dyn Replica>);
        serve(listener, open, &options, |e| events.push(e)).unwrap();
        events
    });

    // A garbage peer first, then two honest ones.
    let mut bad = TcpStream::connect(addr).unwrap();
    bad.write_all(b"\x00\x05hello").unwrap();
    bad.shutdown(Shutdown::Write).unwrap();
    let _ = std::io::Read::read(&mut bad, &mut [0u8; 16]);

    let mut first = MemReplica::default();
    first.grow("first", 2);
    let mut second = MemReplica::default();
    second.grow("second", 5);
    sync_tcp(addr, &mut first, &opts()).unwrap();
    sync_tcp(addr, &mut second, &opts()).unwrap();

    let events = server.join().unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        matches!(
            &events[0],
            ServeEvent::Failed {
                error: SyncError::Handshake(_),
                ..
            }
        ),
        "{events:?}"
    );
    assert!(matches!(&events[1], ServeEvent::Synced { report, .. } if report.new_facts == 2));
    assert!(matches!(&events[2], ServeEvent::Synced { report, .. } if report.new_facts == 5));
    // The second peer got what the first pushed; the server has everything.
    assert_eq!(second.state(), store.get().state());
    assert_eq!(store.get().state().1.len(), 6 + 2 + 5);
}

#[test]
fn serve_reports_a_replica_that_fails_to_open_and_goes_on() {
    let (listener, addr) = listen();
    let options = Options {
        max_connections: Some(2),
        ..opts()
    };
    let server = thread::spawn(move || {
        let mut events = Vec::new();
        let mut opened = 0;
        let open = || {
            opened += 1;
            if opened == 1 {
                Err("store locked".to_string())
            } else {
                Ok(Box::new(MemReplica::default()) as Box<dyn Replica>)
            }
        };
        serve(listener, open, &options, |e| events.push(e)).unwrap();
        events
    });
    let mut client = base();
    let err = sync_tcp(addr, &mut client, &opts()).unwrap_err();
    assert!(err.to_string().contains("store locked"), "{err}");
    sync_tcp(addr, &mut client, &opts()).unwrap();
    let events = server.join().unwrap();
    assert!(
        matches!(
            &events[0],
            ServeEvent::Failed {
                error: SyncError::Replica(_),
                ..
            }
        ),
        "{events:?}"
    );
    assert!(
        matches!(&events[1], ServeEvent::Synced { .. }),
        "{events:?}"
    );
}

#[test]
fn listening_without_a_key_is_loopback_only() {
    let check =
        |addr: &str, key: Option<&[u8; 32]>| check_listen_addr(&addr.parse().unwrap(), key).is_ok();
    assert!(check("127.0.0.1:7000", None));
    assert!(check("[::1]:7000", None));
    assert!(!check("0.0.0.0:7000", None));
    assert!(!check("[::]:7000", None));
    assert!(!check("192.0.2.1:7000", None));
    assert!(check("0.0.0.0:7000", Some(&[1; 32])));
    let err = check_listen_addr(&"0.0.0.0:7000".parse().unwrap(), None).unwrap_err();
    assert!(err.to_string().contains("without a sync key"), "{err}");
}

#[test]
fn sync_works_over_any_stream() {
    // The generic entry points over a plain TCP stream, without the TCP helpers.
    let mut b = base();
    b.grow("b", 2);
    let (addr, handle) = spawn_server(base(), opts());
    let stream = TcpStream::connect(addr).unwrap();
    let report = sync(stream, &mut b, &opts()).unwrap();
    let (server_result, server) = handle.join().unwrap();
    assert!(server_result.unwrap().pushed && report.pushed);
    assert_eq!(server.state(), b.state());
}

#[test]
fn a_block_larger_than_a_message_travels_in_parts() {
    // A push of a block of 2.5 messages (a commit of many facts is such a block).
    let mut client = base();
    client.add_commit(&client.heads().unwrap(), vec![vec![7u8; 2_600_000]]);
    let out = run(base(), opts(), client, opts());
    out.client_result.unwrap();
    assert_eq!(out.server.state(), out.client.state());
    // And a pull of one, beside small blocks in the same batch.
    let mut server = base();
    server.grow("small", 3);
    server.add_commit(&server.heads().unwrap(), vec![vec![9u8; 1_200_000]]);
    server.grow("after", 2);
    let out = run(server, opts(), base(), opts());
    out.client_result.unwrap();
    assert_eq!(out.server.state(), out.client.state());
    // The parts count against the transfer limit as they arrive.
    let mut client = base();
    client.add_commit(&client.heads().unwrap(), vec![vec![7u8; 2_600_000]]);
    let small = Options {
        max_transfer: 1_500_000,
        ..opts()
    };
    let out = run(base(), small, client, opts());
    assert!(err_text(&out.server_result).contains("limit of 1500000 bytes"));
    assert_eq!(out.server.state(), base().state());
}

#[test]
fn a_peer_over_the_transfer_limit_is_cut_off() {
    let mut client = base();
    client.grow("many", 200);
    let server_opts = Options {
        max_transfer: 1000,
        ..opts()
    };
    let out = run(base(), server_opts, client, opts());
    assert!(err_text(&out.server_result).contains("limit of 1000 bytes"));
    assert_eq!(out.server.state(), base().state());
}

#[test]
fn a_connection_past_its_deadline_is_ended() {
    // A zero deadline has passed by the first write, whatever the clock: no timing involved.
    let client_opts = Options {
        max_duration: Some(Duration::ZERO),
        ..opts()
    };
    let out = run(base(), opts(), base(), client_opts);
    assert!(
        err_text(&out.client_result).contains("deadline"),
        "{}",
        err_text(&out.client_result)
    );
    assert!(out.server_result.is_err());
}

/// A tiny deterministic generator for the no-panic tests.
pub(super) fn noise_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn decoding_arbitrary_frames_never_panics() {
    let a = cid_of(DAG_CBOR, b"a");
    let valid = [
        Msg::Hello {
            version: VERSION,
            read_only: false,
            heads: vec![a],
            haves: vec![a],
        },
        Msg::Blocks {
            last: true,
            blocks: vec![vec![1, 2, 3]],
        },
        Msg::Want {
            count: 3,
            bitmap: vec![5],
        },
    ];
    for seed in 0..20_000u64 {
        let mut frame = noise_bytes(seed, (seed % 64) as usize);
        // Half the cases start from a valid message with one byte changed or cut short.
        if seed % 2 == 0 {
            let base = valid[(seed / 2 % 3) as usize].encode();
            frame = base.clone();
            let at = (seed as usize / 6) % base.len();
            if seed % 4 == 0 {
                frame[at] ^= (seed >> 3) as u8 | 1;
            } else {
                frame.truncate(at);
            }
        }
        let _ = Msg::decode(&frame);
    }
}
