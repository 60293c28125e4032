//! Pass tests: each starts from PomoRA text, runs one pass, validates the result and
//! snapshots `changed: bool` and the printed plan (ARCHITECTURE, conventions 1–2). A new case is a copy and an
//! edit of a `check` call.

use crate::ra::parse::parse_plan;
use crate::ra::pipeline::PASSES;
use crate::ra::validate::validate;

const DECLS: &str = "
relation edge(from, to) base;
relation person(id, name, age) base;
relation likes(id, food) base;
relation out(x, y) derived;
relation one(x) derived;
";

fn check(pass: &str, stmts: &str) -> String {
    let text = format!("{DECLS}\nstratum 0 {{\n{stmts}\n}}\n");
    let mut plan = parse_plan(&text).unwrap_or_else(|d| panic!("bad test plan: {d:?}"));
    assert!(
        validate(&plan).is_empty(),
        "test input is invalid: {:?}",
        validate(&plan)
    );
    let p = PASSES
        .iter()
        .find(|p| p.name == pass)
        .expect("a pass of that name");
    let changed = (p.run)(&mut plan);
    let problems = validate(&plan);
    assert!(problems.is_empty(), "{pass} broke the plan: {problems:?}");
    plan.compact();
    // Print only the stratum: the declarations are the same for every test.
    let printed = plan.to_string();
    let body = printed
        .split_once("\n\n")
        .map(|(_, b)| b)
        .unwrap_or(&printed);
    format!("changed: {changed}\n{body}")
}

#[test]
fn fold_constants_removes_true_and_empties_false() {
    insta::assert_snapshot!(check(
        "fold_constants",
        "
        out := rename[from -> x, to -> y](select[1 < 2 and from = 3](edge));
        one := project[x](rename[id -> x](select[1 > 2](person)));
    "
    ));
}

#[test]
fn fold_constants_propagates_empty_through_joins_and_unions() {
    insta::assert_snapshot!(check(
        "fold_constants",
        "
        out := union(
            rename[from -> x, to -> y](edge),
            project[x, y](join(rename[from -> x, to -> y](edge), values[y]{})));
    "
    ));
}

#[test]
fn fold_constants_folds_same_attribute_comparisons() {
    insta::assert_snapshot!(check(
        "fold_constants",
        "
        one := project[x](rename[id -> x](select[id = id and age < age or age = 3](person)));
    "
    ));
}

#[test]
fn push_down_selection_splits_over_join() {
    insta::assert_snapshot!(check(
        "push_down_selection",
        "
        out := project[x, y](select[?a > 30 and y = \"ramen\" and ?i = 1](
            join(rename[id -> ?i, age -> ?a, name -> x](person),
                 rename[id -> ?i, food -> y](project[id, food](likes)))));
        one := project[x](select[x = 1](rename[from -> x, to -> y](edge)));
    "
    ));
}

#[test]
fn push_down_selection_turns_product_into_equijoin() {
    insta::assert_snapshot!(check(
        "push_down_selection",
        "
        out := project[x, y](select[?b = ?c](
            product(rename[from -> x, to -> ?b](edge), rename[from -> ?c, to -> y](edge))));
    "
    ));
}

#[test]
fn push_down_selection_makes_theta_join_and_keeps_disjunctions() {
    insta::assert_snapshot!(check(
        "push_down_selection",
        "
        out := project[x, y](select[?b < ?c](
            product(rename[from -> x, to -> ?b](edge), rename[from -> ?c, to -> y](edge))));
        one := select[x = 1 or x = 2](project[x](rename[from -> x](edge)));
    "
    ));
}

#[test]
fn push_down_selection_passes_union_diff_and_antijoin() {
    insta::assert_snapshot!(check("push_down_selection", "
        one := select[x > 0](union(project[x](rename[from -> x](edge)), project[x](rename[to -> x](edge))));
        out := select[x != y](antijoin(rename[from -> x, to -> y](edge), rename[id -> x](project[id](person))));
    "));
}

#[test]
fn push_down_selection_stops_at_computed_attributes() {
    insta::assert_snapshot!(check("push_down_selection", "
        out := select[x > 1 and y > 2](map[y := add(x, 1)](project[x](rename[from -> x](edge))));
        one := project[x](select[x = 3 and ?n > 1](group_by[x; ?n := count(?t)](rename[from -> x, to -> ?t](edge))));
    "));
}

#[test]
fn introduce_semijoin_when_right_adds_nothing() {
    insta::assert_snapshot!(check(
        "introduce_semijoin",
        "
        out := join(rename[from -> x, to -> y](edge), project[x](rename[id -> x](person)));
    "
    ));
}

#[test]
fn introduce_semijoin_when_projection_keeps_one_side() {
    insta::assert_snapshot!(check("introduce_semijoin", "
        one := project[x](join(rename[from -> x, to -> ?z](edge), rename[id -> ?z, name -> ?n](project[id, name](person))));
        out := project[x, y](join(rename[from -> x, to -> ?z](edge), rename[from -> ?z, to -> y](edge)));
    "));
}

#[test]
fn introduce_antijoin_from_difference_of_matches() {
    insta::assert_snapshot!(check("introduce_antijoin", "
        out := diff(rename[from -> x, to -> y](edge), semijoin(rename[from -> x, to -> y](edge), rename[id -> x](project[id](person))));
        one := diff(project[x](rename[from -> x](edge)), project[x](rename[to -> x](edge)));
    "));
}

#[test]
fn simplify_removes_identity_operators() {
    insta::assert_snapshot!(check("simplify", "
        out := project[x, y](rename[x -> x, y -> y](rename[from -> x, to -> y](project[from, to](edge))));
        one := union(union(project[x](rename[from -> x](edge))), project[x](project[x, y](rename[from -> x, to -> y](edge))));
    "));
}

#[test]
fn passes_report_no_change_on_optimal_plans() {
    for pass in PASSES {
        let out = check(pass.name, "out := rename[from -> x, to -> y](edge);");
        assert!(
            out.starts_with("changed: false"),
            "{} changed an optimal plan:\n{out}",
            pass.name
        );
    }
}

#[test]
fn simplify_composes_renames() {
    insta::assert_snapshot!(check(
        "simplify",
        "
        out := rename[?x -> x, ?y -> y](rename[from -> ?x, to -> ?y](edge));
        one := rename[?x -> x](project[?x](rename[from -> ?x, to -> ?y](edge)));
    "
    ));
}
