//! Unit tests of the `conditions` step of the SQL lowering: WHERE conjuncts: unified equalities,
//! constraints, truth tests, per-table filters.
//!
//! Each case is DDL and a query in SQL text; the expected text is the printed PomoLogic program
//! or the refusal (see `super` for the helpers).

use super::check;

#[test]
fn equality_with_a_constant_probes_the_value() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT b FROM t WHERE a = 1",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=b")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(i0: ?t_1, c0: ?b_2) :- datom(e: ?t_1, a: :t/a, v: 1), t__b(e: ?t_1, v: ?b_2).
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn a_comparison_of_one_type_is_a_constraint() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT b FROM t WHERE a > 1",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=b")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(i0: ?t_1, c0: ?b_3) :- datom(e: ?t_1, a: :t/a, v: ?u2), t__b(e: ?t_1, v: ?b_3), ?u2 > 1.
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn a_comparison_of_mixed_types_is_a_truth_test() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT b FROM t WHERE a > 1.5",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=b")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(i0: ?t_1, c0: ?b_4) :-
    datom(e: ?t_1, a: :t/a, v: ?u2),
    t__b(e: ?t_1, v: ?b_4),
    ?x3 := sql_gt(?u2, 1.5),
    sql_true(?x3).
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn a_one_table_conjunct_filters_before_the_join() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT t.b FROM t, u WHERE t.b LIKE 'x%' AND t.a = u.a",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, i1, c0) relation sql("hidden=2", "name=b")

f1(e: ?t_1) :- datom(e: ?t_1, a: :t/b, v: ?u3), ?x4 := sql_like(?u3, "x%"), sql_true(?x4).
s2(i0: ?t_1, i1: ?u_2, c0: ?u3) :-
    f1(e: ?t_1),
    datom(e: ?t_1, a: :t/a, v: ?u5),
    datom(e: ?u_2, a: :u/a, v: ?u5),
    datom(e: ?t_1, a: :t/b, v: ?u3).
q(i0: ?i0, i1: ?i1, c0: ?c0) :- s2(i0: ?i0, i1: ?i1, c0: ?c0).
"#,
    );
}

#[test]
fn is_null_is_a_truth_test() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM t WHERE b IS NULL",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=a")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?a_4) :-
    t__b(e: ?t_1, v: ?b_2),
    t__a(e: ?t_1, v: ?a_4),
    ?x3 := sql_is_null(?b_2),
    sql_true(?x3).
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn a_false_constant_conjunct_is_an_empty_body() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM t WHERE 1 = 2",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=a")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?a_2) :- t__a(e: ?t_1, v: ?a_2), 0 == 1.
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn any_value_is_a_condition() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM t WHERE a"
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=a")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?a_2) :- t__a(e: ?t_1, v: ?a_2), sql_true(?a_2).
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn a_number_column_compared_with_a_text_column_reads_the_text_as_a_number() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM t WHERE a = b"
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=a")

s1(i0: ?t_1, c0: ?u2) :-
    datom(e: ?t_1, a: :t/a, v: ?u2),
    datom(e: ?t_1, a: :t/b, v: ?u3),
    ?x4 := sql_num_aff(?u3),
    ?x5 := sql_eq(?u2, ?x4),
    sql_true(?x5).
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}
