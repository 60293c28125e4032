//! SQL through the `pomo` binary: `explain` of a `.sql` file at every stage, diagnostics,
//! `pomo query` on a SQL script and `--sql -e` on every engine, and the `pomo sql` shell fed
//! from a pipe (dot commands, output modes, a failing statement that writes nothing).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `pomo` in `dir`, with `stdin` piped in.
fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pomo"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pomo binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("pomo reads its stdin");
    child.wait_with_output().expect("pomo finishes")
}

fn pomo(dir: &Path, args: &[&str]) -> Output {
    run(dir, args, "")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The stdout of a run that must succeed.
fn ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    text(&out.stdout)
}

const SCRIPT: &str = "\
CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, age INTEGER);
CREATE TABLE friend(a INTEGER, b INTEGER);
INSERT INTO person VALUES (1, 'Ada', 44), (2, 'Ben', 31), (3, 'Cy', NULL);
INSERT INTO friend VALUES (1, 2), (2, 3);
";

const QUERY: &str = "\
SELECT p.name, q.name AS friend, p.age FROM person p JOIN friend f ON f.a = p.id
JOIN person q ON q.id = f.b ORDER BY p.name";

/// A temporary directory with the script loaded into the store `db` by `pomo query`.
fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("setup.sql"), SCRIPT).unwrap();
    let out = ok(&pomo(dir.path(), &["query", "--db", "db", "setup.sql"]));
    assert_eq!(out, "", "a script that only writes prints nothing");
    dir
}

#[test]
fn explain_prints_every_stage_of_a_sql_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("q.sql"), format!("{SCRIPT}{QUERY};\n")).unwrap();
    for stage in [
        "ast", "logic", "strata", "ra-raw", "ra", "flow", "kernel", "clif",
    ] {
        let first = ok(&pomo(dir.path(), &["explain", "--stage", stage, "q.sql"]));
        assert!(!first.trim().is_empty(), "{stage} is empty");
        let again = ok(&pomo(dir.path(), &["explain", "--stage", stage, "q.sql"]));
        assert_eq!(first, again, "{stage} is not deterministic");
    }
}

#[test]
fn explain_knows_the_tables_of_a_store_given_with_db() {
    let dir = store();
    std::fs::write(dir.path().join("q.sql"), format!("{SCRIPT}{QUERY};\n")).unwrap();
    let from_file = ok(&pomo(dir.path(), &["explain", "--stage", "ra", "q.sql"]));
    let from_store = ok(&pomo(
        dir.path(),
        &[
            "explain", "--stage", "ra", "--db", "db", "--sql", "-e", QUERY,
        ],
    ));
    assert_eq!(from_file, from_store);
    // Without the store the table is unknown.
    let out = pomo(
        dir.path(),
        &["explain", "--stage", "ra", "--sql", "-e", QUERY],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no such table: person"));
}

#[test]
fn a_compile_error_is_rendered_with_its_code_and_span() {
    let dir = store();
    let out = pomo(
        dir.path(),
        &[
            "explain",
            "--stage",
            "logic",
            "--db",
            "db",
            "-e",
            "SELECT nam FROM person",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("[E0851] Error: no such column: nam"), "{err}");
    assert!(err.contains("<expr>:1:8"), "{err}");
    assert!(err.contains("unknown column"), "{err}");
    assert!(err.ends_with("1 error found\n"), "{err}");
    let out = pomo(dir.path(), &["check", "--sql", "-e", "SELECT 1 +"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("E0801"), "{}", text(&out.stderr));
}

#[test]
fn query_runs_sql_on_every_engine() {
    let dir = store();
    for engine in ["reference", "jit", "dataflow"] {
        let out = ok(&pomo(
            dir.path(),
            &[
                "query", "--db", "db", "--sql", "-e", QUERY, "--engine", engine, "--format", "csv",
            ],
        ));
        assert_eq!(out, "name,friend,age\nAda,Ben,44\nBen,Cy,31\n", "{engine}");
    }
    // Bags: duplicates survive, and the guess reads SELECT as SQL without --sql.
    let out = ok(&pomo(
        dir.path(),
        &[
            "query",
            "--db",
            "db",
            "-e",
            "SELECT age IS NULL FROM person",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(out, "age IS NULL\n0\n0\n1\n");
}

#[test]
fn query_prints_sql_rows_in_every_format() {
    let dir = store();
    let q = "SELECT name, age FROM person ORDER BY age DESC";
    let format = |f: &str| {
        ok(&pomo(
            dir.path(),
            &["query", "--db", "db", "-e", q, "--format", f],
        ))
    };
    let table = "\
+------+------+
| name | age  |
+------+------+
| Ada  |   44 |
| Ben  |   31 |
| Cy   | NULL |
+------+------+
";
    assert_eq!(format("table"), table);
    assert_eq!(
        ok(&pomo(dir.path(), &["query", "--db", "db", "-e", q])),
        table,
        "table is SQL's default"
    );
    assert_eq!(format("csv"), "name,age\nAda,44\nBen,31\nCy,\n");
    assert_eq!(
        format("json"),
        "[{\"name\":\"Ada\",\"age\":44},\n{\"name\":\"Ben\",\"age\":31},\n{\"name\":\"Cy\",\"age\":null}]\n"
    );
    assert_eq!(format("edn"), "[[\"Ada\" 44] [\"Ben\" 31] [\"Cy\" nil]]\n");
    let timed = pomo(dir.path(), &["query", "--db", "db", "-e", q, "--timing"]);
    ok(&timed);
    assert!(text(&timed.stderr).starts_with("timing: compile="));
}

#[test]
fn a_script_prints_its_last_query_and_writes_in_order() {
    let dir = store();
    std::fs::write(
        dir.path().join("more.sql"),
        "SELECT 1; INSERT INTO person(name) VALUES ('Dee'); SELECT count(*) AS n FROM person;",
    )
    .unwrap();
    let out = ok(&pomo(
        dir.path(),
        &["query", "--db", "db", "more.sql", "--format", "csv"],
    ));
    assert_eq!(out, "n\n4\n");
}

#[test]
fn a_script_that_only_reads_runs_beside_a_writer() {
    let dir = store();
    // This process holds the writer's lock.
    let (_writer, _) = pomo::runtime::store::Store::open(&dir.path().join("db")).unwrap();
    let out = ok(&pomo(
        dir.path(),
        &[
            "query",
            "--db",
            "db",
            "--format",
            "csv",
            "-e",
            "SELECT count(*) AS n FROM person",
        ],
    ));
    assert_eq!(out, "n\n3\n");
    let out = pomo(
        dir.path(),
        &["query", "--db", "db", "-e", "DELETE FROM person"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a writing script needs the lock"
    );
    assert!(
        text(&out.stderr).contains("in use"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sql_options_that_do_not_fit_are_usage_errors() {
    let dir = store();
    let edn = "[:find ?n :where [_ :person/name ?n]]";
    let out = pomo(
        dir.path(),
        &["query", "--db", "db", "-e", edn, "--format", "csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = pomo(
        dir.path(),
        &["query", "--db", "db", "--as-of", "1", "-e", "SELECT 1"],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = pomo(dir.path(), &["watch", "--db", "db", "-e", "SELECT 1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = pomo(
        dir.path(),
        &["explain", "--stage", "ra", "--db", "nope", "-e", "SELECT 1"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_shell_reads_piped_statements_and_dot_commands() {
    let dir = store();
    let input = "\
.tables
CREATE UNIQUE INDEX person_age ON person(age);
.schema person
.mode csv
SELECT name, age
  FROM person   -- a comment; not the end
  WHERE age > 40;
.mode json
SELECT 'a;b' AS s; SELECT 2 AS n;
.mode
";
    let out = run(dir.path(), &["sql", "--db", "db"], input);
    assert_eq!(
        ok(&out),
        "\
friend
person
CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, age INTEGER);
CREATE UNIQUE INDEX person_age ON person(age);
name,age
Ada,44
[{\"s\":\"a;b\"}]
[{\"n\":2}]
json
"
    );
    // Each table's CREATE TABLE, then its indexes, in the order the tables were made.
    let schema = ok(&run(dir.path(), &["sql", "--db", "db"], ".schema\n"));
    assert_eq!(
        schema,
        "\
CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, age INTEGER);
CREATE UNIQUE INDEX person_age ON person(age);
CREATE TABLE friend(a INTEGER, b INTEGER);
"
    );
}

#[test]
fn the_shell_times_statements_and_runs_a_last_statement_without_semicolon() {
    let dir = store();
    let out = ok(&run(
        dir.path(),
        &["sql", "--db", "db", "--engine", "reference"],
        ".timer on\n.mode csv\nSELECT count(*) AS n FROM friend",
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["n", "2"], "{out}");
    assert!(
        lines[2].starts_with("Run Time: real ") && lines[2].len() > "Run Time: real ".len(),
        "{out}"
    );
    assert_eq!(lines.len(), 3, "{out}");
}

#[test]
fn a_failing_statement_prints_its_error_and_writes_nothing() {
    let dir = store();
    let db = dir.path().join("db");
    let state = || {
        let (st, _) = pomo::runtime::store::Store::open_read_only(&db).unwrap();
        (st.last_t(), st.facts().count())
    };
    let before = state();
    let input = "\
INSERT INTO person(name, age) VALUES ('Eve', 20), ('Ada', 21);
INSERT INTO friend VALUES (1, 2), (3, 4, 5);
.nope
.mode csv
SELECT count(*) AS n FROM person;
";
    let out = run(dir.path(), &["sql", "--db", "db"], input);
    assert_eq!(out.status.code(), Some(1), "errors in piped input exit 1");
    let err = text(&out.stderr);
    assert!(
        err.contains("[E0881] Error: UNIQUE constraint failed: person.name"),
        "{err}"
    );
    assert!(err.contains("<stdin>:1:"), "{err}");
    assert!(
        err.contains("[E0878] Error: 3 values for 2 columns"),
        "{err}"
    );
    assert!(err.contains("unknown command `.nope`"), "{err}");
    assert_eq!(text(&out.stdout), "n\n3\n", "the shell went on");
    assert_eq!(state(), before, "nothing was written");
}
