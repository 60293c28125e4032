//! Runs a compiled artifact on a store, with `pomo-runtime` alone (ARCHITECTURE §8): the app never
//! parses or compiles a query, so it builds without the front ends (no lalrpop, no logos, no
//! `pomo-grammar`).
//!
//! ```text
//! pomo compile adults.edn -o build/                 # once, where the compiler is
//! pomo-example-runtime-only build/adults.pomoc DB_DIR 18
//! ```
//!
//! Arguments: the artifact, the store directory, then one integer or string per input after
//! the database (this example reads only those two kinds of values; an app would build any
//! `Value` it needs).

use pomo_runtime::artifact::Artifact;
use pomo_runtime::query::{Arg, Backend, Query};
use pomo_runtime::store::Store;
use pomo_runtime::{Value, jit, results};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [artifact, db, inputs @ ..] = args.as_slice() else {
        eprintln!("usage: pomo-example-runtime-only ARTIFACT STORE_DIR [INPUT]...");
        return ExitCode::from(2);
    };
    match run(artifact, db, inputs) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(artifact: &str, db: &str, inputs: &[String]) -> Result<String, String> {
    let bytes = std::fs::read(artifact).map_err(|e| format!("{artifact}: {e}"))?;
    // Checks the CID, the artifact format and the stdlib version this runtime has.
    let (artifact, cid) = Artifact::from_file_bytes(&bytes).map_err(|e| e.to_string())?;
    eprintln!("running {cid} ({} query)", artifact.language);
    let query = Query::from_artifact(artifact);
    let (store, _warnings) =
        Store::open_read_only(std::path::Path::new(db)).map_err(|e| e.to_string())?;
    let mut args = vec![Arg::Db(store.db())];
    args.extend(inputs.iter().map(|s| match s.parse::<i64>() {
        Ok(i) => Arg::Value(Value::Int(i)),
        Err(_) => Arg::Value(Value::Str(s.clone())),
    }));
    let registry = pomo_stdlib::Registry::new();
    let answer = query
        .run_on(args, &registry, &Backend::Jit(jit::Mode::Native))
        .map_err(|e| e.to_string())?;
    Ok(results::to_edn(&answer))
}
