//! The runtime-only app: its dependency tree has no parser or compiler, and it runs an
//! artifact that `pomo compile` made to the answer the query gives from source.

use std::process::Command;

/// The packages of the example's normal (non-dev) dependency tree.
fn normal_tree() -> String {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            "pomo-example-runtime-only",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_dependency_tree_has_no_parser_and_no_compiler() {
    let tree = normal_tree();
    assert!(tree.contains("pomo-runtime"), "{tree}");
    for banned in [
        "lalrpop",
        "logos",
        "pomo-grammar",
        "pomo-compiler",
        "ariadne",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(banned)),
            "{banned} is in the runtime-only tree:\n{tree}"
        );
    }
}

#[test]
fn it_runs_a_compiled_artifact_to_the_answer_from_source() {
    use pomo::query::{Arg, Backend};
    use pomo::runtime::store::Store;
    let dir = tempfile::tempdir().unwrap();
    // A store with people, written to disk.
    let db = dir.path().join("db");
    {
        let (mut store, _) = Store::open(&db).unwrap();
        let tx = pomo::grammar::edn::parse_one(
            r#"[[:db/add 1 :person/name "ann"] [:db/add 1 :person/age 30]
                [:db/add 2 :person/name "bob"] [:db/add 2 :person/age 12]]"#,
        )
        .unwrap();
        store
            .transact(pomo::edn_data::tx_data(store.db().schema(), &tx).unwrap())
            .unwrap();
    }
    // Compiled where the compiler is.
    let q = pomo::query::prepare(
        &pomo::Input::Edn {
            query: "[:find ?n :in $ ?min :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a ?min)]]",
            rules: None,
        },
        &pomo::Options::default(),
    )
    .unwrap();
    let (cid, bytes) = q.artifact().to_file_bytes().unwrap();
    let artifact = dir.path().join("adults.pomoc");
    std::fs::write(&artifact, bytes).unwrap();
    let (store, _) = Store::open_read_only(&db).unwrap();
    let from_source = q
        .run_on(
            vec![Arg::Db(store.db()), Arg::Value(pomo::types::Value::Int(18))],
            &pomo::stdlib::Registry::new(),
            &Backend::Reference,
        )
        .unwrap();
    drop(store);
    // Run by the app that has only the runtime.
    let out = Command::new(env!("CARGO_BIN_EXE_pomo-example-runtime-only"))
        .arg(&artifact)
        .arg(&db)
        .arg("18")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&cid), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        pomo::runtime::results::to_edn(&from_source)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "#{[\"ann\"]}");
    // A damaged artifact is refused.
    let mut bad = std::fs::read(&artifact).unwrap();
    bad.truncate(bad.len() - 5);
    std::fs::write(&artifact, bad).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pomo-example-runtime-only"))
        .arg(&artifact)
        .arg(&db)
        .arg("18")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid artifact file"));
}
