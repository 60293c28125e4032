//! The ahead-of-time commands as a user runs them on their own queries. `pomo golden DIR
//! [--update]`: missing goldens fail, `--update` writes them, a changed plan is caught with a
//! diff and exit 1, `--update` fixes it, and a query that does not compile is reported.
//! `pomo compile`: `FILE -> CID`, the same CID every time, an artifact that reads back.

use std::path::Path;
use std::process::{Command, Output};

fn golden(dir: &Path, update: bool) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pomo"));
    c.arg("golden").arg(dir).env("NO_COLOR", "1");
    if update {
        c.arg("--update");
    }
    c.output().expect("the pomo binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn golden_catches_a_plan_change_and_update_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("adults.edn");
    std::fs::write(
        &q,
        "[:find ?n :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a 18)]]",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("sql")).unwrap();
    std::fs::write(
        dir.path().join("sql/names.sql"),
        "CREATE TABLE person(name TEXT, age INTEGER);\nSELECT name FROM person WHERE age > 30 ORDER BY name;\n",
    )
    .unwrap();

    // No golden files yet: every stage is missing.
    let out = golden(dir.path(), false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("0 same, 8 different or missing"));

    let out = golden(dir.path(), true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("8 golden file(s) written"));
    for stage in ["logic", "ra", "flow", "kernel"] {
        let g = dir.path().join(format!("adults.edn.{stage}.golden"));
        assert!(std::fs::read_to_string(&g).unwrap().contains("person/age"));
        assert!(
            dir.path()
                .join(format!("sql/names.sql.{stage}.golden"))
                .exists()
        );
    }
    let out = golden(dir.path(), false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("8 same, 0 different"));

    // A change of the query changes its plans: caught, with a diff of the old and new lines.
    std::fs::write(
        &q,
        "[:find ?n :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 18)]]",
    )
    .unwrap();
    let out = golden(dir.path(), false);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(
        diff.contains("--- ") && diff.contains("adults.edn.ra.golden (golden)"),
        "{diff}"
    );
    assert!(diff.contains("-") && diff.contains("v >= 18"), "{diff}");
    assert!(diff.contains("+") && diff.contains("v > 18"), "{diff}");
    assert!(diff.contains("4 same, 4 different"), "{diff}");

    let out = golden(dir.path(), true);
    assert_eq!(out.status.code(), Some(0));
    let out = golden(dir.path(), false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // The library gives the same texts (for insta).
    let texts = pomo::golden::stage_texts(&q).unwrap();
    let ra = std::fs::read_to_string(dir.path().join("adults.edn.ra.golden")).unwrap();
    assert_eq!(texts[1], ("ra", ra));
}

#[test]
fn golden_reports_a_query_that_does_not_compile() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.edn"), "[:find ?x :where [?e :a]] ]").unwrap();
    let out = golden(dir.path(), true);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.edn: does not compile"), "{err}");
    assert!(err.contains("Error"), "{err}");
}

#[test]
fn golden_on_a_missing_directory_is_a_usage_error() {
    let out = golden(Path::new("/nonexistent/pomo-golden"), false);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn compile_names_each_artifact_by_its_cid_and_the_cid_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("adults.edn");
    std::fs::write(
        &q,
        "[:find ?n :in $ ?min :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a ?min)]]",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_pomo"))
            .arg("compile")
            .arg(&q)
            .arg("-o")
            .arg(&out_dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let line = text(&first.stdout);
    let (file, cid) = line.trim().split_once(" -> ").expect("FILE -> CID");
    assert!(file.ends_with("adults.edn"));
    assert!(cid.starts_with("bafyrei"), "{cid}");
    let bytes = std::fs::read(out_dir.join("adults.pomoc")).unwrap();
    let (artifact, read_cid) = pomo::runtime::artifact::Artifact::from_file_bytes(&bytes).unwrap();
    assert_eq!(read_cid, cid);
    assert_eq!(artifact.language, "edn");
    assert_eq!(artifact.inputs.len(), 2, "$ and ?min");
    // Compiling the same file again gives the same CID.
    let second = run();
    assert_eq!(text(&second.stdout), line);
    // A file that does not compile is reported, and the exit code says so.
    let bad = dir.path().join("bad.edn");
    std::fs::write(&bad, "[:find ?x :where").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pomo"))
        .args(["compile"])
        .arg(&bad)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("E0012"), "{}", text(&out.stderr));
}

#[test]
fn run_gives_the_answer_of_the_query_from_source_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let tx = dir.path().join("tx.edn");
    std::fs::write(
        &tx,
        r#"[[:db/add 1 :person/name "ann"] [:db/add 1 :person/age 30] [:db/add 2 :person/name "bob"] [:db/add 2 :person/age 12]]"#,
    )
    .unwrap();
    let pomo = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_pomo"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let out = pomo(&[&os("transact"), &os("--db"), db.as_os_str(), tx.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let q = dir.path().join("adults.edn");
    std::fs::write(
        &q,
        "[:find ?n :in $ ?min :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a ?min)]]",
    )
    .unwrap();
    let out = pomo(&[&os("compile"), q.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let artifact = dir.path().join("adults.pomoc");
    let from_source = pomo(&[
        &os("query"),
        &os("--db"),
        db.as_os_str(),
        q.as_os_str(),
        &os("--in"),
        &os("18"),
        &os("--engine"),
        &os("reference"),
    ]);
    assert_eq!(text(&from_source.stdout), "#{[\"ann\"]}\n");
    for engine in ["reference", "jit", "dataflow"] {
        let out = pomo(&[
            &os("run"),
            artifact.as_os_str(),
            &os("--db"),
            db.as_os_str(),
            &os("--in"),
            &os("18"),
            &os("--engine"),
            &os(engine),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{engine}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), text(&from_source.stdout), "{engine}");
    }
    // A missing input is a usage error; a truncated or edited artifact is refused.
    let out = pomo(&[
        &os("run"),
        artifact.as_os_str(),
        &os("--db"),
        db.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let bytes = std::fs::read(&artifact).unwrap();
    let bad = dir.path().join("bad.pomoc");
    for damaged in [bytes[..bytes.len() / 2].to_vec(), {
        let mut b = bytes.clone();
        let i = b.len() - 10;
        b[i] ^= 0x04;
        b
    }] {
        std::fs::write(&bad, &damaged).unwrap();
        let out = pomo(&[
            &os("run"),
            bad.as_os_str(),
            &os("--db"),
            db.as_os_str(),
            &os("--in"),
            &os("18"),
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("not a valid artifact file"),
            "{}",
            text(&out.stderr)
        );
    }
}
