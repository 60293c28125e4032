//! Unit tests of the `expr` step of the SQL lowering: expressions: operators, folding, CASE, CAST,
//! BETWEEN/IN/LIKE/IS, functions, refusals.
//!
//! Each case is DDL and a query in SQL text; the expected text is the printed PomoLogic program
//! or the refusal (see `super` for the helpers).

use super::{check, check_error};

#[test]
fn arithmetic_and_concatenation_are_sql_calls() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a * 2 + 1, b || 'x' FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=a * 2 + 1", "name=b || 'x'")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(i0: ?t_1, c0: ?x4, c1: ?x6) :-
    t__a(e: ?t_1, v: ?a_2),
    t__b(e: ?t_1, v: ?b_5),
    ?x3 := sql_mul(?a_2, 2),
    ?x4 := sql_add(?x3, 1),
    ?x6 := sql_concat(?b_5, "x").
q(i0: ?i0, c0: ?c0, c1: ?c1) :- s1(i0: ?i0, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn constant_expressions_are_folded() {
    check(
        "SELECT 1 + 2, 7 / 2, NULL, 'a' || 'b'",
        r#"
.decl datom(e, a, v, t, m, added)
.output q(c0, c1, c2, c3) relation sql("hidden=0", "name=1 + 2", "name=7 / 2", "name=NULL", "name='a' || 'b'")

s1(c0: 3, c1: 3, c2: nil, c3: "ab").
q(c0: ?c0, c1: ?c1, c2: ?c2, c3: ?c3) :- s1(c0: ?c0, c1: ?c1, c2: ?c2, c3: ?c3).
"#,
    );
}

#[test]
fn case_when_is_sql_case() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT CASE WHEN a > 1 THEN 'big' ELSE 'small' END FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=CASE WHEN a > 1 THEN 'big' ELSE 'small' END")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?x4) :-
    t__a(e: ?t_1, v: ?a_2),
    ?x3 := sql_gt(?a_2, 1),
    ?x4 := sql_case(?x3, "big", "small").
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn case_with_operand_is_sql_case_eq() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT CASE a WHEN 1 THEN 'one' END FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=CASE a WHEN 1 THEN 'one' END")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?x3) :- t__a(e: ?t_1, v: ?a_2), ?x3 := sql_case_eq(?a_2, 1, "one").
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn cast_names_its_target_type() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT CAST(a AS TEXT) FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=CAST(a AS TEXT)")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?x3) :- t__a(e: ?t_1, v: ?a_2), ?x3 := sql_cast(?a_2, "TEXT").
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn between_in_list_like_and_is() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a BETWEEN 1 AND 3, a IN (1, 2), b LIKE 'x%', b IS NOT 'y' FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1, c2, c3) relation sql("hidden=1", "name=a BETWEEN 1 AND 3", "name=a IN (1, 2)", "name=b LIKE 'x%'", "name=b IS NOT 'y'")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(i0: ?t_1, c0: ?x5, c1: ?x8, c2: ?x10, c3: ?x11) :-
    t__a(e: ?t_1, v: ?a_2),
    t__b(e: ?t_1, v: ?b_9),
    ?x3 := sql_ge(?a_2, 1),
    ?x4 := sql_le(?a_2, 3),
    ?x5 := sql_and(?x3, ?x4),
    ?x6 := sql_eq(?a_2, 1),
    ?x7 := sql_eq(?a_2, 2),
    ?x8 := sql_or(?x6, ?x7),
    ?x10 := sql_like(?b_9, "x%"),
    ?x11 := sql_is_not(?b_9, "y").
q(i0: ?i0, c0: ?c0, c1: ?c1, c2: ?c2, c3: ?c3) :- s1(i0: ?i0, c0: ?c0, c1: ?c1, c2: ?c2, c3: ?c3).
"#,
    );
}

#[test]
fn scalar_functions_are_sql_calls() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT coalesce(b, 'none'), length(b), abs(a) FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1, c2) relation sql("hidden=1", "name=coalesce(b, 'none')", "name=length(b)", "name=abs(a)")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?x3, c1: ?x4, c2: ?x6) :-
    t__b(e: ?t_1, v: ?b_2),
    t__a(e: ?t_1, v: ?a_5),
    ?x3 := sql_coalesce(?b_2, "none"),
    ?x4 := sql_length(?b_2),
    ?x6 := sql_abs(?a_5).
q(i0: ?i0, c0: ?c0, c1: ?c1, c2: ?c2) :- s1(i0: ?i0, c0: ?c0, c1: ?c1, c2: ?c2).
"#,
    );
}

#[test]
fn an_unknown_function_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT frobnicate(a) FROM t",
        ),
        r#"
E0865: no such function: frobnicate [frobnicate]
"#,
    );
}

#[test]
fn a_function_checks_its_arity() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT length(a, b) FROM t",
        ),
        r#"
E0866: wrong number of arguments to function length() [length(a, b)]
"#,
    );
}

#[test]
fn window_functions_are_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT length(b) OVER () FROM t",
        ),
        r#"
E0863: window functions are outside the subset [OVER ()]
"#,
    );
}

#[test]
fn distinct_is_only_for_aggregates() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT length(DISTINCT b) FROM t",
        ),
        r#"
E0864: DISTINCT is only for aggregates, not length() [length(DISTINCT b)]
"#,
    );
}

#[test]
fn arithmetic_on_text_reads_its_numeric_prefix() {
    check(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT b + 1 FROM t"),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=b + 1")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(i0: ?t_1, c0: ?x3) :- t__b(e: ?t_1, v: ?b_2), ?x3 := sql_add(?b_2, 1).
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn not_takes_any_value() {
    check(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT NOT a FROM t"),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=NOT a")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?x3) :- t__a(e: ?t_1, v: ?a_2), ?x3 := sql_not(?a_2).
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn a_case_branch_decided_at_compile_time_is_dropped() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT CASE 1 WHEN 2 THEN b WHEN 1 THEN a ELSE b END, COALESCE(NULL, 3, b) FROM t"
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=CASE 1 WHEN 2 THEN b WHEN 1 THEN a ELSE b END", "name=coalesce(NULL, 3, b)")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?a_2, c1: 3) :- t__a(e: ?t_1, v: ?a_2).
q(i0: ?i0, c0: ?c0, c1: ?c1) :- s1(i0: ?i0, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn an_aggregate_outside_a_select_list_is_refused() {
    check_error(
        "VALUES (count(1))",
        r#"
E0846: aggregate function count() is not allowed here [count(1)]
"#,
    );
}

#[test]
fn window_aggregates_are_refused_not_grouped() {
    // `count(a) OVER ()` keeps every row (SQLite prints the count once per row): lowering it
    // as a grouped aggregate would print one row.
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT count(a) OVER () FROM t",
        ),
        r#"
E0863: window functions are outside the subset [OVER ()]
"#,
    );
}
