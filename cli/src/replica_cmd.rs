//! The replica commands: `status`, `export`, `import --car`, `serve`, `sync` and `keygen`
//! (`pomo::replica` does the work).

use crate::store_cmd::{open, open_for_reading};
use crate::{StoreArg, usage};
use pomo::replica::{Options, ServeEvent, StoreReplica};
use std::process::ExitCode;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(1)
}

/// `pomo status`: the replica's id, facts, state CID and heads.
pub fn status(store: &StoreArg) -> ExitCode {
    let s = match open_for_reading(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match s.state() {
        Ok(st) => {
            outln!("replica: {}", s.replica_id());
            outln!("facts: {}", st.facts);
            outln!("state: {}", st.cid);
            outln!("heads: {}", st.heads.len());
            for h in &st.heads {
                outln!("  {h}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot read the store in {}: {e}", store.dir())),
    }
}

/// `pomo export --car FILE`: the whole replica as a CARv1 file (written beside, then renamed,
/// so a failed export leaves no partial file under the name).
pub fn export(store: &StoreArg, car: &str) -> ExitCode {
    let s = match open_for_reading(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let tmp = format!("{car}.partial");
    let file = match std::fs::File::create(&tmp) {
        Ok(f) => f,
        Err(e) => return usage(&format!("cannot write {tmp}: {e}")),
    };
    let mut w = std::io::BufWriter::new(file);
    let written = pomo::replica::export_car(&s, &mut w).and_then(|n| {
        use std::io::Write;
        w.flush().map_err(|e| e.to_string())?;
        w.get_ref().sync_all().map_err(|e| e.to_string())?;
        Ok(n)
    });
    match written.and_then(|n| {
        std::fs::rename(&tmp, car)
            .map(|_| n)
            .map_err(|e| e.to_string())
    }) {
        Ok(n) => {
            let st = s.state().map(|st| st.cid.to_string()).unwrap_or_default();
            eprintln!("{car}: {n} bytes, state {st}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            fail(format!("export: {e}"))
        }
    }
}

/// `pomo import --car FILE`: merges another replica's CAR file (all or nothing).
pub fn import_car(store: &StoreArg, car: &str) -> ExitCode {
    let file = match std::fs::File::open(car) {
        Ok(f) => f,
        Err(e) => return usage(&format!("cannot read {car}: {e}")),
    };
    // A store that does not exist yet is not left behind by an import that fails.
    let existed = std::path::Path::new(&store.dir()).exists();
    let mut s = match open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let imported = pomo::replica::import_car_with(&mut s, std::io::BufReader::new(file), false);
    if imported.is_err() && !existed {
        drop(s);
        let _ = std::fs::remove_dir_all(store.dir());
    }
    match imported {
        Ok((r, _)) => {
            eprintln!(
                "{car}: {} commits ({} new), {} facts ({} new)",
                r.commits, r.new_commits, r.facts, r.new_facts
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{car}: {e}; nothing was written")),
    }
}

fn options(key: Option<&str>, read_only: bool) -> Result<Options, ExitCode> {
    let key = match key {
        Some(path) => Some(
            pomo::replica::load_key(std::path::Path::new(path))
                .map_err(|e| usage(&format!("--key {path}: {e}")))?,
        ),
        None => None,
    };
    Ok(Options {
        key,
        read_only,
        ..Options::default()
    })
}

/// `pomo serve --listen ADDR`: serves peers one after another, opening the store for each.
pub fn serve(
    store: &StoreArg,
    listen: &str,
    key: Option<&str>,
    read_only: bool,
    max: Option<u64>,
) -> ExitCode {
    let mut opts = match options(key, read_only) {
        Ok(o) => o,
        Err(c) => return c,
    };
    opts.max_connections = max;
    let addr: std::net::SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(e) => return usage(&format!("--listen {listen}: not a socket address: {e}")),
    };
    if let Err(e) = pomo::replica::check_listen_addr(&addr, opts.key.as_ref()) {
        return usage(&format!("--listen {listen}: {e}"));
    }
    // The store must open now, so that a wrong --db is reported before anyone connects.
    match open(store) {
        Ok(s) => drop(s),
        Err(c) => return c,
    }
    let listener = match std::net::TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {listen}: {e}")),
    };
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    eprintln!(
        "serving {} on {local}{}",
        store.dir(),
        if read_only { " (read-only)" } else { "" }
    );
    let dir = std::path::PathBuf::from(store.dir());
    let open_replica = move || -> Result<Box<dyn pomo::replica::Replica>, String> {
        let (s, _) = if read_only {
            pomo::runtime::store::Store::open_read_only(&dir)
        } else {
            pomo::runtime::store::Store::open(&dir)
        }
        .map_err(|e| e.to_string())?;
        Ok(Box::new(StoreReplica::owned(s)))
    };
    let result = pomo::replica::serve(listener, open_replica, &opts, |event| match event {
        ServeEvent::Synced { peer, report } => eprintln!(
            "{peer}: sent {} commits, {} facts; received {} commits, {} facts ({} new)",
            report.commits_sent,
            report.facts_sent,
            report.commits_received,
            report.facts_received,
            report.new_facts
        ),
        ServeEvent::Refused { peer, reason } => eprintln!("{peer}: refused: {reason}"),
        ServeEvent::Failed { peer, error } => eprintln!("{peer}: failed: {error}"),
        ServeEvent::AcceptFailed { error } => eprintln!("accept failed: {error}"),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// `pomo sync --peer ADDR`: two-way sync with a server.
pub fn sync(store: &StoreArg, peer: &str, key: Option<&str>) -> ExitCode {
    let opts = match options(key, false) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut s = match open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match pomo::replica::sync_with(&mut s, peer, &opts, false) {
        Ok((r, _)) => {
            eprintln!(
                "{peer}: received {} commits, {} facts ({} new); sent {} commits, {} facts{}",
                r.commits_received,
                r.facts_received,
                r.new_facts,
                r.commits_sent,
                r.facts_sent,
                if r.pushed {
                    ""
                } else {
                    " (the peer is read-only: nothing pushed)"
                }
            );
            match s.state() {
                Ok(st) => outln!("state: {}", st.cid),
                Err(e) => return fail(e),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("sync with {peer}: {e}; nothing was merged")),
    }
}

/// `pomo keygen FILE`: a new 32-byte sync key, written as 64 hex digits (mode 0600).
pub fn keygen(path: &str) -> ExitCode {
    let key = match pomo::replica::generate_key() {
        Ok(k) => k,
        Err(e) => return fail(e),
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts.open(path).and_then(|mut f| {
        use std::io::Write;
        writeln!(f, "{}", pomo::replica::key_to_hex(&key))
    });
    match written {
        Ok(()) => {
            eprintln!("wrote a new sync key to {path}; give the same file to every peer");
            ExitCode::SUCCESS
        }
        Err(e) => usage(&format!("cannot create {path}: {e}")),
    }
}
