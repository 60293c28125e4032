//! Pass tests: each starts from PomoRA text, lowers it to a flow plan without any pass, runs one
//! pass and compares `changed` and the printed flow plan (ARCHITECTURE, conventions 1–2). The
//! flow stage has no text reader of its own, so the PomoRA text stands for the lowered plan.

use crate::flow::lower::lower;
use crate::flow::pipeline::PASSES;
use crate::ra::parse::parse_plan;

const DECLS: &str = "
relation edge(from, to) base;
relation person(id, name, age) base;
relation out(x, y) derived;
relation path(from, to) derived;
";

fn check(pass: &str, stmts: &str, expected: &str) {
    let text = format!("{DECLS}\nstratum 0 {{\n{stmts}\n}}\n");
    let plan = parse_plan(&text).unwrap_or_else(|d| panic!("bad test plan: {d:?}"));
    let mut flow = lower(&plan);
    let p = PASSES
        .iter()
        .find(|p| p.name == pass)
        .expect("a pass of that name");
    let changed = (p.run)(&mut flow);
    let printed = flow.to_string();
    let body = printed
        .lines()
        .filter(|l| !l.starts_with("relation "))
        .collect::<Vec<_>>()
        .join("\n");
    let got = format!("changed: {changed}\n{}", body.trim());
    assert_eq!(got.trim(), expected.trim(), "\n--- got ---\n{got}\n");
}

#[test]
fn narrow_leaves_a_plain_copy_alone() {
    check(
        "narrow",
        "out := project[x, y](rename[from -> x, to -> y](edge));",
        r#"
changed: false
n0 = source edge;
n1 = distinct(n0);

stratum 0 {
  out = n1;
}
"#,
    );
}

#[test]
fn narrow_fuses_a_projection_into_its_join() {
    check(
        "narrow",
        "out := project[x, y](join(rename[from -> x, to -> ?z](edge), rename[from -> ?z, to -> y](edge)));",
        r#"
changed: true
n0 = source edge;
n1 = join(a0, a1) -> [l0, r0];
n2 = distinct(n1);

a0 = arrange(n0) key[#1];  // read by n1
a1 = arrange(n0) key[#0];  // read by n1

stratum 0 {
  out = n2;
}
"#,
    );
}

#[test]
fn narrow_prunes_arranged_columns_nobody_reads() {
    check(
        "narrow",
        "out := project[x, y](join(rename[from -> x, to -> ?z](edge), rename[id -> ?z, name -> y, age -> ?a](person)));",
        r#"
changed: true
n0 = source edge;
n1 = source person;
n2 = project[#0, #1](n1);
n3 = join(a0, a1) -> [l0, r0];
n4 = distinct(n3);

a0 = arrange(n0) key[#1];  // read by n3
a1 = arrange(n2) key[#0];  // read by n3

stratum 0 {
  out = n4;
}
"#,
    );
}
