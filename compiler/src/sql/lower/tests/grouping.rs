//! Unit tests of the `grouping` step of the SQL lowering: GROUP BY, HAVING, aggregates without
//! GROUP BY, COUNT(DISTINCT) and refusals.
//!
//! Each case is DDL and a query in SQL text; the expected text is the printed PomoLogic program
//! or the refusal (see `super` for the helpers).

use super::{check, check_error};

#[test]
fn group_by_counts_each_group() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT b, count(*) FROM t GROUP BY b",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=b", "name=count(*)")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
b1(i0: ?t_1, g0: ?b_2) :- t__b(e: ?t_1, v: ?b_2).
g2(g0: ?g0, o0: ?o0) :- ?o0 := count(?i0) : b1(g0: ?g0, i0: ?i0).
s3(i0: ?Gg0, c0: ?Gg0, c1: ?Go0) :- g2(g0: ?Gg0, o0: ?Go0).
q(i0: ?i0, c0: ?c0, c1: ?c1) :- s3(i0: ?i0, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn having_tests_the_groups() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT b, sum(a) FROM t GROUP BY b HAVING sum(a) > 1",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=b", "name=sum(a)")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
b1(i0: ?t_1, g0: ?b_2, a0: ?a_3) :- t__b(e: ?t_1, v: ?b_2), t__a(e: ?t_1, v: ?a_3).
g2(g0: ?g0, o0: ?o0) :- ?o0 := sql_sum(?a0) : b1(g0: ?g0, i0: ?i0, a0: ?a0).
s3(i0: ?Gg0, c0: ?Gg0, c1: ?Go0) :- g2(g0: ?Gg0, o0: ?Go0), ?x4 := sql_gt(?Go0, 1), sql_true(?x4).
q(i0: ?i0, c0: ?c0, c1: ?c1) :- s3(i0: ?i0, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn aggregates_without_group_by_have_one_row() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT count(a), max(a) FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(c0, c1) relation sql("hidden=0", "name=count(a)", "name=max(a)")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
b1(i0: ?t_1, a0: ?a_2, a1: ?a_2) :- t__a(e: ?t_1, v: ?a_2).
g2(o0: ?o0, o1: ?o1) :-
    ?o0 := sql_count(?a0) : b1(i0: ?i0, a0: ?a0),
    ?o1 := sql_max(?a1) : b1(i0: ?i0, a1: ?a1).
ne3(k: 0) :- b1(i0: ?any).
g2(o0: 0, o1: nil) :- !ne3(k: 0).
s4(c0: ?Go0, c1: ?Go1) :- g2(o0: ?Go0, o1: ?Go1).
q(c0: ?c0, c1: ?c1) :- s4(c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn count_distinct_aggregates_distinct_values() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT count(DISTINCT a) FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(c0) relation sql("hidden=0", "name=count(DISTINCT a)")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
b1(i0: ?t_1, a0: ?a_2) :- t__a(e: ?t_1, v: ?a_2).
bd2(a0: ?a0) :- b1(a0: ?a0).
g3(o0: ?o0) :- ?o0 := sql_count(?a0) : bd2(a0: ?a0).
ne4(k: 0) :- b1(i0: ?any).
g3(o0: 0) :- !ne4(k: 0).
s5(c0: ?Go0) :- g3(o0: ?Go0).
q(c0: ?c0) :- s5(c0: ?c0).
"#,
    );
}

#[test]
fn a_column_not_grouped_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a, count(*) FROM t GROUP BY b",
        ),
        r#"
E0861: column `a` must appear in GROUP BY or be used in an aggregate function [a]
"#,
    );
}

#[test]
fn star_with_every_column_grouped_is_its_columns() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT * FROM t GROUP BY b, a"
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, i1, c0, c1) relation sql("hidden=2", "name=a", "name=b")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
b1(i0: ?t_1, g0: ?b_2, g1: ?a_3) :- t__b(e: ?t_1, v: ?b_2), t__a(e: ?t_1, v: ?a_3).
g2(g0: ?g0, g1: ?g1) :- b1(g0: ?g0, g1: ?g1).
s3(i0: ?Gg0, i1: ?Gg1, c0: ?Gg1, c1: ?Gg0) :- g2(g0: ?Gg0, g1: ?Gg1).
q(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1) :- s3(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn star_with_an_ungrouped_column_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT * FROM t GROUP BY b"
        ),
        r#"
E0861: column `a` must appear in GROUP BY or be used in an aggregate function [SELECT * FROM t GROUP BY b]
"#,
    );
}

#[test]
fn group_by_ordinal_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT b FROM t GROUP BY 1",
        ),
        r#"
E0856: GROUP BY takes expressions, not column numbers [1]
"#,
    );
}

#[test]
fn an_expression_null_whatever_its_columns_reads_none() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a, sum(b) FROM t GROUP BY a HAVING NULL = b"
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=a", "name=sum(b)")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
b1(i0: ?t_1, g0: ?a_2, a0: ?b_3) :- t__a(e: ?t_1, v: ?a_2), t__b(e: ?t_1, v: ?b_3).
g2(g0: ?g0, o0: ?o0) :- ?o0 := sql_sum(?a0) : b1(g0: ?g0, i0: ?i0, a0: ?a0).
s3(i0: ?Gg0, c0: ?Gg0, c1: ?Go0) :- g2(g0: ?Gg0, o0: ?Go0), 0 == 1.
q(i0: ?i0, c0: ?c0, c1: ?c1) :- s3(i0: ?i0, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn aggregates_do_not_nest() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT max(count(a)) FROM t",
        ),
        r#"
E0846: aggregate functions are not allowed in an aggregate's argument [count(a)]
"#,
    );
}
