//! The store commands as a user runs them: `transact`, `query` (formats, inputs, time views,
//! timing), `import` and `demo`, each on a store directory of its own.

use std::process::{Command, Output};

fn pomo(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pomo"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the pomo binary runs")
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const TX: &str = r#"
[{:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]
[[:db/add 1 :person/name "Ada"] [:db/add 1 :person/age 44]
 [:db/add 2 :person/name "Ben"] [:db/add 2 :person/age 31] [:db/add 2 :person/friend 1]]
[[:db/add 2 :person/age 32]]
"#;

#[test]
fn transact_then_query_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tx.edn"), TX).unwrap();
    let out = ok(&pomo(dir.path(), &["transact", "--db", "db", "tx.edn"]));
    assert_eq!(out.lines().count(), 3, "{out}");
    let q = "[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]";
    assert_eq!(
        ok(&pomo(dir.path(), &["query", "--db", "db", "-e", q])).trim(),
        r#"#{["Ada" 44] ["Ben" 32]}"#
    );
    assert_eq!(
        ok(&pomo(
            dir.path(),
            &["query", "--db", "db", "-e", q, "--format", "json"]
        ))
        .trim(),
        r#"[["Ada",44],["Ben",32]]"#
    );
    let table = ok(&pomo(
        dir.path(),
        &["query", "--db", "db", "-e", q, "--format", "table"],
    ));
    assert!(
        table.starts_with("n   | a\n")
            && table.contains("Ben | 32")
            && table.ends_with("(2 rows)\n"),
        "{table}"
    );
}

#[test]
fn inputs_time_views_and_timing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tx.edn"), TX).unwrap();
    ok(&pomo(dir.path(), &["transact", "--db", "db", "tx.edn"]));
    let q = "[:find ?a . :in $ ?n :where [?e :person/name ?n] [?e :person/age ?a]]";
    assert_eq!(
        ok(&pomo(
            dir.path(),
            &["query", "--db", "db", "-e", q, "--in", "\"Ben\""]
        ))
        .trim(),
        "32"
    );
    assert_eq!(
        ok(&pomo(
            dir.path(),
            &[
                "query", "--db", "db", "-e", q, "--in", "\"Ben\"", "--as-of", "2"
            ]
        ))
        .trim(),
        "31"
    );
    let hist = "[:find ?a ?added :where [2 :person/age ?a _ ?added]]";
    assert_eq!(
        ok(&pomo(
            dir.path(),
            &["query", "--db", "db", "-e", hist, "--history"]
        ))
        .trim(),
        "#{[31 false] [31 true] [32 true]}"
    );
    let out = pomo(
        dir.path(),
        &[
            "query", "--db", "db", "-e", q, "--in", "\"Ada\"", "--timing",
        ],
    );
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("timing: compile=") && err.contains(" run="),
        "{err}"
    );
}

#[test]
fn default_store_is_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tx.edn"), TX).unwrap();
    ok(&pomo(dir.path(), &["transact", "tx.edn"]));
    assert!(dir.path().join(".pomo").is_dir());
    let out = ok(&pomo(
        dir.path(),
        &[
            "query",
            "-e",
            "[:find (count ?e) . :where [?e :person/name]]",
        ],
    ));
    assert_eq!(out.trim(), "2");
}

#[test]
fn import_tsv_keeps_integers_and_strings() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (1..=500)
        .map(|i| format!("{i}\tname-{i}\t{}\n", i % 7))
        .collect();
    std::fs::write(dir.path().join("people.tsv"), rows).unwrap();
    let out = pomo(
        dir.path(),
        &[
            "import",
            "--db",
            "db",
            "--tsv",
            "people.tsv",
            "--attrs",
            ":p/name,:p/group",
        ],
    );
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("imported 1000 facts"));
    let q = "[:find ?g (count ?e) :where [?e :p/group ?g] [(= ?g 3)]]";
    assert_eq!(
        ok(&pomo(dir.path(), &["query", "--db", "db", "-e", q])).trim(),
        "#{[3 72]}"
    );
}

#[test]
fn pomologic_programs_run_over_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let tx = "[[:db/add 1 :edge/from 1] [:db/add 1 :edge/to 2] [:db/add 2 :edge/from 2] [:db/add 2 :edge/to 3]]";
    std::fs::write(dir.path().join("tx.edn"), tx).unwrap();
    ok(&pomo(dir.path(), &["transact", "--db", "db", "tx.edn"]));
    let prog = "path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\npath(from: ?x, to: ?z) :- path(from: ?x, to: ?y), edge(from: ?y, to: ?z).";
    let out = ok(&pomo(dir.path(), &["query", "--db", "db", "-e", prog]));
    assert_eq!(out.trim(), "{path #{[1 2] [1 3] [2 3]}}");
}

#[test]
fn demo_loads_the_example_data_and_runs_its_queries() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&pomo(dir.path(), &["demo"]));
    assert!(
        out.contains("loading") && out.contains("1-people.edn"),
        "{out}"
    );
    assert!(out.contains("Ada") && out.contains("Eun"), "{out}");
    // A second run reuses the store instead of loading the data again.
    let again = ok(&pomo(dir.path(), &["demo"]));
    assert!(!again.contains("loading"));
}
