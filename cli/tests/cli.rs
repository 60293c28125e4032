//! The `pomo` binary as a user runs it: exit codes (0 fine, 1 input errors, 2 usage errors),
//! the stratification error, `-e`, `--rules`, `--trace`, and the logic round trip through the CLI.

use std::process::{Command, Output};

fn pomo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pomo"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("NO_COLOR", "1")
        .output()
        .expect("the pomo binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn corpus(name: &str) -> String {
    format!("tests/corpus/queries/{name}")
}

#[test]
fn check_is_silent_and_exits_0_on_good_input() {
    let out = pomo(&["check", &corpus("pattern-self-join.edn")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn unstratifiable_program_exits_1_and_names_the_cycle() {
    let out = pomo(&["check", "-e", "p(x: ?x) :- q(x: ?x), !p(x: ?x)."]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("E0301"), "{err}");
    assert!(
        err.contains("`p` depends on itself through negation of `p`"),
        "{err}"
    );
    assert!(err.contains("dependency cycle: p -> p"), "{err}");
    assert!(err.contains("!p(x: ?x)"), "the negation is shown: {err}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        pomo(&["explain", "--stage", "nope", "-e", "[:find ?x]"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(pomo(&["check", "no-such-file.edn"]).status.code(), Some(2));
    assert_eq!(pomo(&["check", "Cargo.toml"]).status.code(), Some(2));
    assert_eq!(
        pomo(&[
            "explain",
            "--stage",
            "strata",
            "--trace",
            &corpus("find-relation.edn")
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        pomo(&[
            "explain",
            "--stage",
            "ra",
            "--disable-pass",
            "nope",
            &corpus("find-relation.edn")
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(pomo(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn bad_query_exits_1_with_a_rendered_diagnostic() {
    let out = pomo(&["check", "-e", "[:find ?x :where [?e :a ?y]]"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("E0202") && err.contains("?x") && err.contains("<expr>:1:8"),
        "{err}"
    );
    assert!(err.ends_with("1 error found\n"), "{err}");
}

#[test]
fn explain_logic_output_reads_back_to_itself() {
    let first = pomo(&[
        "explain",
        "--stage",
        "logic",
        &corpus("rec-odd-even.edn"),
        "--rules",
        &corpus("rec-odd-even.rules.edn"),
    ]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let logic = text(&first.stdout);
    let second = pomo(&["explain", "--stage", "logic", "-e", &logic]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(text(&second.stdout), logic);
}

#[test]
fn plans_show_loops_antijoins_and_group_bys() {
    let ra = |args: &[&str]| {
        let mut all = vec!["explain", "--stage", "ra"];
        all.extend_from_slice(args);
        let out = pomo(&all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let linear = ra(&[&corpus("pomo-tc-linear.pomo")]);
    assert!(
        linear.contains("stratum 0 recursive")
            && linear.contains("loop {")
            && linear.contains("path@delta")
    );
    assert!(linear.contains("until empty(path@delta)"));
    let nonlinear = ra(&[&corpus("pomo-tc-nonlinear.pomo")]);
    assert_eq!(
        nonlinear.matches("](path@delta)").count(),
        2,
        "one variant per recursive atom:\n{nonlinear}"
    );
    let sg = ra(&[&corpus("pomo-same-generation.pomo")]);
    assert!(sg.contains("loop {") && sg.contains("sg@delta"), "{sg}");
    let neg = ra(&[&corpus("pomo-unreachable.pomo")]);
    assert!(
        neg.contains("antijoin(") && neg.contains("stratum 1 {"),
        "{neg}"
    );
    let agg = ra(&[&corpus("pomo-agg-count.pomo")]);
    assert!(agg.contains("group_by["), "{agg}");
}

#[test]
fn trace_prints_every_pass() {
    let out = pomo(&[
        "explain",
        "--stage",
        "ra",
        "--trace",
        &corpus("pred-lt.edn"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    for pass in [
        "fold_constants",
        "push_down_selection",
        "introduce_semijoin",
        "introduce_antijoin",
        "simplify",
    ] {
        assert!(t.contains(pass), "{pass} missing from the trace");
    }
    assert!(t.starts_with("== lowered ==") && t.contains("== optimized =="));
}

#[test]
fn disabling_a_pass_changes_the_plan() {
    let on = pomo(&["explain", "--stage", "ra", &corpus("pred-lt.edn")]);
    let off = pomo(&[
        "explain",
        "--stage",
        "ra",
        "--disable-pass",
        "push_down_selection",
        &corpus("pred-lt.edn"),
    ]);
    assert_eq!(off.status.code(), Some(0));
    assert_ne!(on.stdout, off.stdout);
}

/// A PomoLogic rule that needs its caller's binding of `?min`: the logic trace shows
/// `magic_sets` giving it one, and without the pass the check refuses the program.
#[test]
fn logic_trace_shows_magic_sets_and_it_can_be_disabled() {
    let program = ".input in1(min) scalar
.decl emp(e, salary)
.output find(e) relation
earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
find(e: ?e) :- in1(min: ?min), earns(a0: ?e, a1: ?min).
";
    let out = pomo(&["explain", "--stage", "logic", "--trace", "-e", program]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(t.starts_with("== lowered =="), "{t}");
    assert!(
        t.contains("== magic_sets ==") && t.contains("magic_earns_fb"),
        "{t}"
    );
    let off = pomo(&[
        "explain",
        "--stage",
        "logic",
        "--disable-pass",
        "magic_sets",
        "-e",
        program,
    ]);
    assert_eq!(off.status.code(), Some(1));
}

#[test]
fn every_stage_prints() {
    for stage in [
        "ast", "logic", "strata", "ra-raw", "ra", "flow", "kernel", "clif",
    ] {
        let out = pomo(&[
            "explain",
            "--stage",
            stage,
            &corpus("rec-ancestor.edn"),
            "--rules",
            &corpus("rec-ancestor.rules.edn"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{stage}: {}", text(&out.stderr));
        assert!(!out.stdout.is_empty(), "{stage} printed nothing");
    }
}

/// `pomo query … | head`: a reader that closes the pipe early ends pomo quietly (status 141,
/// as a Unix tool killed by SIGPIPE), never with a panic.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let tsv = dir.path().join("rows.tsv");
    let rows: String = (1..=20_000).map(|e| format!("{e}\tname{e}\n")).collect();
    std::fs::write(&tsv, rows).unwrap();
    let out = pomo(&[
        "import",
        "--db",
        db.to_str().unwrap(),
        "--tsv",
        tsv.to_str().unwrap(),
        "--attrs",
        "name",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_pomo"))
        .args([
            "query",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "table",
            "-e",
        ])
        .arg("[:find ?e ?n :where [?e :name ?n]]")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then hang up.
    let mut first = [0u8; 1];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}
