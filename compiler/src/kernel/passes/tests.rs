//! Pass tests: each starts from PomoRA text, lowers it to a kernel plan without any pass, runs
//! one pass, checks the result with the runtime's own validator, and compares `changed` and the
//! printed kernel plan (ARCHITECTURE, conventions 1–2). The kernel stage has no text reader of its
//! own, so the PomoRA text stands for the lowered plan.

use crate::kernel::lower::lower;
use crate::kernel::pipeline::PASSES;
use crate::ra::parse::parse_plan;

const DECLS: &str = "
relation edge(from, to) base;
relation person(id, name, age) base;
relation likes(id, food) base;
relation out(x, y) derived;
relation one(x) derived;
relation path(from, to) derived;
";

/// The kernel plan of `stmts` after the named passes, in order.
fn run(passes: &[&str], stmts: &str) -> (bool, String) {
    let text = if stmts.trim_start().starts_with("stratum") {
        format!("{DECLS}\n{stmts}\n")
    } else {
        format!("{DECLS}\nstratum 0 {{\n{stmts}\n}}\n")
    };
    let plan = parse_plan(&text).unwrap_or_else(|d| panic!("bad test plan: {d:?}"));
    let mut k = lower(&plan);
    k.validate().expect("the lowered plan is valid");
    let mut changed = false;
    for name in passes {
        let p = PASSES
            .iter()
            .find(|p| p.name == *name)
            .expect("a pass of that name");
        changed = (p.run)(&mut k);
        if let Err(e) = k.validate() {
            panic!("{name} broke the plan: {e}");
        }
    }
    let printed = k.to_string();
    // Only the kernels and statements: the relation declarations are the same for every test.
    let body = printed
        .lines()
        .filter(|l| !l.starts_with("relation "))
        .collect::<Vec<_>>()
        .join("\n");
    (changed, body.trim().to_string())
}

/// Runs `before` (passes this one relies on), then `pass`, and compares.
fn check(before: &[&str], pass: &str, stmts: &str, expected: &str) {
    let mut all = before.to_vec();
    all.push(pass);
    let (changed, text) = run(&all, stmts);
    let got = format!("changed: {changed}\n{text}");
    assert_eq!(got.trim(), expected.trim(), "\n--- got ---\n{got}\n");
}

/// Linear transitive closure, semi-naive, as the PomoRA lowering writes it.
const TC: &str = "stratum 0 recursive {
  path := edge;
  path@delta := path;
  loop {
    path@new := diff(
      rename[?x -> from, ?z -> to](project[?x, ?z](join(
        rename[from -> ?x, to -> ?y](path@delta),
        rename[from -> ?y, to -> ?z](edge)))),
      path);
    path := union(path, path@new);
    path@delta := path@new;
  } until empty(path@delta);
}";

/// A join whose probe of `person` needs no column back, and a product with `likes`.
const UNUSED: &str = "
  one := project[x](join(rename[from -> x, to -> ?z](edge), rename[id -> ?z, name -> ?n, age -> ?a](person)));
  out := project[x, y](join(rename[from -> x, to -> y](edge), rename[id -> ?i, food -> ?f](likes)));
";

#[test]
fn prune_drops_columns_nobody_reads() {
    check(
        &[],
        "prune",
        UNUSED,
        r#"
changed: true
s0 = one (x) relation;
s1 = edge (from, to) relation;
s2 = person (id, name, age) relation;
s3 = out (x, y) relation;
s4 = likes (id, food) relation;

i0 = index person[#0];

kernel k0 -> one {
  scan edge(r0, r1)
    probe i0[r1](_, _, _)
      insert one(r0)
}

kernel k1 -> out {
  scan edge(r0, r1)
    scan likes(_, _)
      insert out(r0, r1)
}

stratum 0 {
  clear one;
  run k0;
  clear out;
  run k1;
}
"#,
    );
}

#[test]
fn prune_keeps_what_is_emitted_or_tested() {
    check(
        &[],
        "prune",
        "out := project[x, y](rename[from -> x, to -> y](edge));",
        r#"
changed: false
s0 = out (x, y) relation;
s1 = edge (from, to) relation;

stratum 0 {
  clear out;
  out += edge;
}
"#,
    );
}

#[test]
fn probes_to_tests_turns_loops_binding_nothing_into_tests() {
    check(
        &["prune"],
        "probes_to_tests",
        UNUSED,
        r#"
changed: true
s0 = one (x) relation;
s1 = edge (from, to) relation;
s2 = person (id, name, age) relation;
s3 = out (x, y) relation;
s4 = likes (id, food) relation;

i0 = index person[#0];
i1 = index likes[];

kernel k0 -> one {
  scan edge(r0, r1)
    exists i0[r1]
    insert one(r0)
}

kernel k1 -> out {
  scan edge(r0, r1)
    exists i1[]
    insert out(r0, r1)
}

stratum 0 {
  clear one;
  run k0;
  clear out;
  run k1;
}
"#,
    );
}

#[test]
fn probes_to_tests_needs_prune_first() {
    check(
        &[],
        "probes_to_tests",
        UNUSED,
        r#"
changed: false
s0 = one (x) relation;
s1 = edge (from, to) relation;
s2 = person (id, name, age) relation;
s3 = out (x, y) relation;
s4 = likes (id, food) relation;

i0 = index person[#0];

kernel k0 -> one {
  scan edge(r0, r1)
    probe i0[r1](_, r2, r3)
      insert one(r0)
}

kernel k1 -> out {
  scan edge(r0, r1)
    scan likes(r2, r3)
      insert out(r0, r1)
}

stratum 0 {
  clear one;
  run k0;
  clear out;
  run k1;
}
"#,
    );
}

#[test]
fn hoist_tests_moves_a_test_before_a_loop_it_does_not_need() {
    check(
        &["prune", "probes_to_tests"],
        "hoist_tests",
        "out := project[x, y](semijoin(join(rename[from -> x, to -> ?z](edge), rename[from -> ?z, to -> y](edge)), rename[id -> x](project[id](person))));",
        r#"
changed: true
s0 = out (x, y) relation;
s1 = edge (from, to) relation;
s2 = person (id, name, age) relation;

i0 = index edge[#0];
i1 = index person[#0];

kernel k0 -> out {
  scan edge(r0, r1)
    exists i1[r0]
    probe i0[r1](_, r2)
      insert out(r0, r2)
}

stratum 0 {
  clear out;
  run k0;
}
"#,
    );
}

#[test]
fn fuse_new_rows_inserts_into_the_total() {
    check(
        &["prune", "probes_to_tests", "hoist_tests"],
        "fuse_new_rows",
        TC,
        r#"
changed: true
s0 = path (from, to) relation;
s1 = edge (from, to) relation;
s2 = path@delta (from, to) relation;
s3 = path@new (from, to) relation;

i0 = index edge[#0];
i1 = index path[#0, #1];

kernel k0 -> path {
  scan path@delta(r0, r1)
    probe i0[r1](_, r2)
      insert path(r0, r2) new into path@new
}

stratum 0 recursive {
  clear path;
  path += edge;
  clear path@delta;
  path@delta += path;
  loop {
    clear path@new;
    run k0;
    move path@delta <- path@new;
  } until empty(path@delta);
}
"#,
    );
}

#[test]
fn partition_loops_marks_the_column_passed_through() {
    check(
        &["prune", "probes_to_tests", "hoist_tests", "fuse_new_rows"],
        "partition_loops",
        TC,
        r#"
changed: true
s0 = path (from, to) relation;
s1 = edge (from, to) relation;
s2 = path@delta (from, to) relation;
s3 = path@new (from, to) relation;

i0 = index edge[#0];
i1 = index path[#0, #1];

kernel k0 -> path {
  scan path@delta(r0, r1)
    probe i0[r1](_, r2)
      insert path(r0, r2) new into path@new
}

stratum 0 recursive {
  clear path;
  path += edge;
  clear path@delta;
  path@delta += path;
  loop by path#0 {
    clear path@new;
    run k0;
    move path@delta <- path@new;
  } until empty(path@delta);
}
"#,
    );
}

#[test]
fn partition_loops_needs_fused_loops() {
    check(
        &["prune", "probes_to_tests", "hoist_tests"],
        "partition_loops",
        TC,
        r#"
changed: false
s0 = path (from, to) relation;
s1 = edge (from, to) relation;
s2 = path@delta (from, to) relation;
s3 = path@new (from, to) relation;

i0 = index edge[#0];
i1 = index path[#0, #1];

kernel k0 -> path@new {
  scan path@delta(r0, r1)
    probe i0[r1](_, r2)
      not exists i1[r0, r2]
      insert path@new(r0, r2)
}

stratum 0 recursive {
  clear path;
  path += edge;
  clear path@delta;
  path@delta += path;
  loop {
    clear path@new;
    run k0;
    path += path@new;
    move path@delta <- path@new;
  } until empty(path@delta);
}
"#,
    );
}

#[test]
fn drop_unused_indexes_renumbers_the_rest() {
    check(
        &[
            "prune",
            "probes_to_tests",
            "hoist_tests",
            "fuse_new_rows",
            "partition_loops",
        ],
        "drop_unused_indexes",
        TC,
        r#"
changed: true
s0 = path (from, to) relation;
s1 = edge (from, to) relation;
s2 = path@delta (from, to) relation;
s3 = path@new (from, to) relation;

i0 = index edge[#0];

kernel k0 -> path {
  scan path@delta(r0, r1)
    probe i0[r1](_, r2)
      insert path(r0, r2) new into path@new
}

stratum 0 recursive {
  clear path;
  path += edge;
  clear path@delta;
  path@delta += path;
  loop by path#0 {
    clear path@new;
    run k0;
    move path@delta <- path@new;
  } until empty(path@delta);
}
"#,
    );
}

#[test]
fn drop_unused_indexes_without_unused_indexes() {
    check(
        &[],
        "drop_unused_indexes",
        "out := project[x, y](rename[from -> x, to -> y](edge));",
        r#"
changed: false
s0 = out (x, y) relation;
s1 = edge (from, to) relation;

stratum 0 {
  clear out;
  out += edge;
}
"#,
    );
}

fn lowered(stmts: &str) -> String {
    run(&[], stmts).1
}

#[test]
fn lowering_alone_keeps_every_column_and_probe() {
    assert_eq!(
        lowered(UNUSED),
        r#"s0 = one (x) relation;
s1 = edge (from, to) relation;
s2 = person (id, name, age) relation;
s3 = out (x, y) relation;
s4 = likes (id, food) relation;

i0 = index person[#0];

kernel k0 -> one {
  scan edge(r0, r1)
    probe i0[r1](_, r2, r3)
      insert one(r0)
}

kernel k1 -> out {
  scan edge(r0, r1)
    scan likes(r2, r3)
      insert out(r0, r1)
}

stratum 0 {
  clear one;
  run k0;
  clear out;
  run k1;
}"#
    );
}

#[test]
fn constant_relations_with_equal_rows_keep_their_own_columns() {
    // Two empty constant relations (what folding an always-false selection leaves) with other
    // column names: each gets a slot with its own names (SQLite's random/groupby suite
    // crashed the lowering with a shared one).
    let (_, printed) = run(
        &[],
        "stratum 0 {\n  out := values[x, y]{};\n}\nstratum 1 {\n  path := rename[x -> from, y -> to](values[x, y]{});\n  one := rename[z -> x](project[z](values[x, z]{}));\n}",
    );
    assert!(printed.contains("values"), "{printed}");
}
