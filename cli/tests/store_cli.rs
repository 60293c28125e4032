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
fn import_csv_quotes_headers_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("id,name,city\n");
    for i in 1..=300 {
        rows.push_str(&format!("{i},\"Doe, {i}\",c{}\n", i % 4));
    }
    rows.push_str("301,,c9\n");
    std::fs::write(dir.path().join("people.csv"), rows).unwrap();
    let args = [
        "import",
        "--db",
        "db",
        "--csv",
        "people.csv",
        "--attrs",
        ":p/name,:p/city",
    ];
    let out = pomo(dir.path(), &args);
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("imported 601 facts from 301 rows"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let q = r#"[:find ?e :where [?e :p/name "Doe, 7"]]"#;
    assert_eq!(
        ok(&pomo(dir.path(), &["query", "--db", "db", "-e", q])).trim(),
        "#{[7]}"
    );
    // Importing the same file again changes nothing (the values are already there).
    ok(&pomo(dir.path(), &args));
    let stats = ok(&pomo(dir.path(), &["stats", "--db", "db"]));
    assert!(stats.contains(":p/name\t300\t300\t300\n"), "{stats}");
    assert!(stats.contains(":p/city\t301\t301\t5\n"), "{stats}");
    // A row whose entity id is not an integer is an error with its line.
    std::fs::write(dir.path().join("bad.csv"), "1,a\nx,b\n").unwrap();
    let out = pomo(
        dir.path(),
        &[
            "import", "--db", "db", "--csv", "bad.csv", "--attrs", ":p/name",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.csv:2:"));
}

#[test]
fn an_old_log_store_is_converted_on_first_use() {
    use pomo::runtime::store::{EntityRef, Store, TxOp, TxValue, write_legacy_log};
    let dir = tempfile::tempdir().unwrap();
    let mut mem = Store::in_memory();
    for e in 1..=3 {
        mem.transact(vec![TxOp::Add {
            e: EntityRef::Id(e),
            a: "p/n".into(),
            v: TxValue::Value(pomo_types::Value::Int(e * 10)),
        }])
        .unwrap();
    }
    let commits: Vec<(u64, Vec<_>)> = (1..=3)
        .map(|t| {
            (
                t,
                mem.facts()
                    .filter(|f| f.tx == pomo::runtime::store::TX0 + t as i64)
                    .collect(),
            )
        })
        .collect();
    write_legacy_log(&dir.path().join("db"), &commits).unwrap();
    let out = pomo(
        dir.path(),
        &[
            "query",
            "--db",
            "db",
            "-e",
            "[:find (sum ?n) . :where [_ :p/n ?n]]",
        ],
    );
    assert_eq!(ok(&out).trim(), "60");
    assert!(String::from_utf8_lossy(&out.stderr).contains("converted 6 facts"));
    assert!(dir.path().join("db/facts.car.converted").exists());
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

fn watch(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pomo"))
        .arg("watch")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the pomo binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn watch_prints_the_result_then_each_epochs_changes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tx.edn"), TX).unwrap();
    ok(&pomo(dir.path(), &["transact", "--db", "db", "tx.edn"]));
    let q = "[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]";
    let out = watch(
        dir.path(),
        &["--db", "db", "-e", q],
        "[[:db/add 3 :person/name \"Cy\"] [:db/add 3 :person/age 20]]\n\
         [[:db/add 2 :person/age 33]]\n\
         not edn (\n\
         [[:db/retractEntity 1]]\n",
    );
    // The bad line is reported and skipped; the others are applied in order.
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("<stdin:3>"), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "#{[\"Ada\" 44] [\"Ben\" 32]}\n\
         + [\"Cy\" 20]\n\
         - [\"Ben\" 32]\n\
         + [\"Ben\" 33]\n\
         - [\"Ada\" 44]\n"
    );
    // The transactions were written to the store.
    assert_eq!(
        ok(&pomo(dir.path(), &["query", "--db", "db", "-e", q])).trim(),
        "#{[\"Ben\" 33] [\"Cy\" 20]}"
    );
}

#[test]
fn watch_runs_inductive_rules_epoch_by_epoch() {
    // The PomoLogic spec's checkbox: a click flips a box at the next epoch; `[]` is an epoch
    // without data.
    let dir = tempfile::tempdir().unwrap();
    let program = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/corpus/queries/pomo-checkbox-next.pomo"
    );
    let out = watch(
        dir.path(),
        &["--db", "db", program],
        "[[:db/add 100 :clicks/id 1]]\n\
         [[:db/retract 100 :clicks/id 1]]\n\
         []\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{checkbox #{[1 false] [2 true]}, checkbox@next #{[1 false] [2 true]}}\n\
         - [checkbox@next [1 false]]\n\
         + [checkbox@next [1 true]]\n\
         - [checkbox [1 false]]\n\
         + [checkbox [1 true]]\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn query_on_every_engine_gives_the_reference_answer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tx.edn"), TX).unwrap();
    ok(&pomo(dir.path(), &["transact", "--db", "db", "tx.edn"]));
    let q = "[:find ?n (count ?f) :where [?e :person/name ?n] [?e :person/friend ?f]]";
    let reference = ok(&pomo(
        dir.path(),
        &["query", "--db", "db", "-e", q, "--engine", "reference"],
    ));
    for args in [
        vec![],
        vec!["--engine", "auto"],
        vec!["--engine", "jit"],
        vec!["--engine", "jit", "--as-of", "2"],
        vec!["--engine", "dataflow"],
        vec!["--workers", "2"],
        vec!["--engine", "dataflow", "--as-of", "2"],
    ] {
        let mut all = vec!["query", "--db", "db", "-e", q];
        all.extend(args.iter().copied());
        assert_eq!(ok(&pomo(dir.path(), &all)), reference, "{args:?}");
    }
    let out = pomo(
        dir.path(),
        &[
            "query",
            "--db",
            "db",
            "-e",
            q,
            "--engine",
            "reference",
            "--workers",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = pomo(
        dir.path(),
        &["query", "--db", "db", "-e", q, "--engine", "jit", "-w", "2"],
    );
    assert_eq!(out.status.code(), Some(2), "the jit runs in one process");
}

#[test]
fn a_collection_source_matches_numbers_by_value_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    let q = "[:find ?e :in $ $2 :where [$2 ?e :a 2]]";
    let coll = "[[1 :a 2.0] [2 :a 2] [3 :a 3]]";
    for engine in ["reference", "jit", "dataflow"] {
        let out = ok(&pomo(
            dir.path(),
            &["query", "-e", q, "--in", coll, "--engine", engine],
        ));
        assert_eq!(out.trim(), "#{[1] [2]}", "{engine}");
    }
}
