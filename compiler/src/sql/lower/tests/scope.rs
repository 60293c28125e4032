//! Unit tests of the `scope` step of the SQL lowering: column resolution, `id`, optional columns,
//! parameters and name refusals.
//!
//! Each case is DDL and a query in SQL text; the expected text is the printed PomoLogic program
//! or the refusal (see `super` for the helpers).

use super::{check, check_error};

#[test]
fn qualified_and_unqualified_columns_resolve() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT t.a, c FROM t, u WHERE t.a = u.a",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, i1, c0, c1) relation sql("hidden=2", "name=a", "name=c")

u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
s1(i0: ?t_1, i1: ?u_2, c0: ?u3, c1: ?c_4) :-
    datom(e: ?t_1, a: :t/a, v: ?u3),
    datom(e: ?u_2, a: :u/a, v: ?u3),
    u__c(e: ?u_2, v: ?c_4).
q(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1) :- s1(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn id_is_the_row_entity() {
    check(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT id, a FROM t",),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=id", "name=a")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?t_1, c1: ?a_2) :- t__a(e: ?t_1, v: ?a_2).
q(i0: ?i0, c0: ?c0, c1: ?c1) :- s1(i0: ?i0, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn a_nullable_column_reads_the_optional_value_relation() {
    check(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT b FROM t",),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=b")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(i0: ?t_1, c0: ?b_2) :- t__b(e: ?t_1, v: ?b_2).
q(i0: ?i0, c0: ?c0) :- s1(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn an_enclosing_column_is_a_parameter() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.c = t.a)",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=a")

s2(p0: ?p2_0, c0: 1) :- d1(p0: ?p2_0), datom(e: ?u_2, a: :u/c, v: ?u3), ?p2_0 != nil, ?u3 == ?p2_0.
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
d1(p0: ?a_4) :- t__a(e: ?t_1, v: ?a_4).
s3(i0: ?t_1, c0: ?a_5) :- t__a(e: ?t_1, v: ?a_5), s2(p0: ?a_5).
q(i0: ?i0, c0: ?c0) :- s3(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn an_ambiguous_column_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT a FROM t, u",
        ),
        r#"
E0850: ambiguous column name: a [a]
"#,
    );
}

#[test]
fn an_unknown_column_is_refused() {
    check_error(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT z FROM t",),
        r#"
E0851: no such column: z [z]
"#,
    );
}

#[test]
fn an_unknown_qualifier_is_refused() {
    check_error(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT x.a FROM t",),
        r#"
E0851: no such column: x.a [x.a]
"#,
    );
}

#[test]
fn a_derived_table_does_not_see_its_siblings() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT * FROM t, (SELECT c FROM u WHERE u.a = t.a) AS x",
        ),
        r#"
E0851: no such column: t.a [t.a]
"#,
    );
}
