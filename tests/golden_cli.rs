//! `pomo golden DIR [--update]` as a user runs it on their own queries: missing goldens fail,
//! `--update` writes them, a changed plan is caught with a diff and exit 1, `--update` fixes
//! it, and a query that does not compile is reported.

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
