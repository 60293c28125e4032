//! Unit tests of the `select` step of the SQL lowering: joins (inner, comma, LEFT), derived tables,
//! `*`, DISTINCT and FROM refusals.
//!
//! Each case is DDL and a query in SQL text; the expected text is the printed PomoLogic program
//! or the refusal (see `super` for the helpers).

use super::{check, check_error};

#[test]
fn an_inner_join_unifies_equal_columns() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT t.b, u.c FROM t JOIN u ON t.a = u.a",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, i1, c0, c1) relation sql("hidden=2", "name=b", "name=c")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
s1(i0: ?t_1, i1: ?u_2, c0: ?b_4, c1: ?c_5) :-
    datom(e: ?t_1, a: :t/a, v: ?u3),
    datom(e: ?u_2, a: :u/a, v: ?u3),
    t__b(e: ?t_1, v: ?b_4),
    u__c(e: ?u_2, v: ?c_5).
q(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1) :- s1(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn a_comma_join_is_a_product() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT t.a, u.c FROM t, u",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, i1, c0, c1) relation sql("hidden=2", "name=a", "name=c")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
s1(i0: ?t_1, i1: ?u_2, c0: ?a_3, c1: ?c_4) :- t__a(e: ?t_1, v: ?a_3), u__c(e: ?u_2, v: ?c_4).
q(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1) :- s1(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn a_left_join_pads_unmatched_rows_with_null() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT t.b, u.c FROM t LEFT JOIN u ON t.a = u.a",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, i1, c0, c1) relation sql("hidden=2", "name=b", "name=c")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
m1(i0: ?t_1, c0: ?a_2, c1: ?b_3, c2: ?t_1) :- t__a(e: ?t_1, v: ?a_2), t__b(e: ?t_1, v: ?b_3).
u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
m2(i0: ?li4, i1: ?u_8, c0: ?lc5, c1: ?lc6, c2: ?lc7, c3: ?u9, c4: ?c_10, c5: ?u_8) :-
    m1(i0: ?li4, c0: ?lc5, c1: ?lc6, c2: ?lc7),
    datom(e: ?u_8, a: :u/a, v: ?u9),
    u__c(e: ?u_8, v: ?c_10),
    ?lc5 != nil,
    ?lc5 == ?u9.
lj3(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1, c2: ?c2, c3: ?c3, c4: ?c4, c5: ?c5) :-
    m2(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1, c2: ?c2, c3: ?c3, c4: ?c4, c5: ?c5).
ne4(k: 0, i0: ?i0) :- m2(i0: ?i0).
lj3(i0: ?i0, i1: nil, c0: ?c0, c1: ?c1, c2: ?c2, c3: nil, c4: nil, c5: nil) :-
    m1(i0: ?i0, c0: ?c0, c1: ?c1, c2: ?c2),
    !ne4(k: 0, i0: ?i0).
m5(i0: ?li11, i1: ?li12, c0: ?lc13, c1: ?lc14, c2: ?lc15, c3: ?lc16, c4: ?lc17, c5: ?lc18) :-
    lj3(i0: ?li11, i1: ?li12, c0: ?lc13, c1: ?lc14, c2: ?lc15, c3: ?lc16, c4: ?lc17, c5: ?lc18).
s6(i0: ?li19, i1: ?li20, c0: ?lc22, c1: ?lc25) :-
    m5(i0: ?li19, i1: ?li20, c0: ?lc21, c1: ?lc22, c2: ?lc23, c3: ?lc24, c4: ?lc25, c5: ?lc26).
q(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1) :- s6(i0: ?i0, i1: ?i1, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn a_derived_table_is_a_relation_source() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT x.a FROM (SELECT a FROM t) AS x",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=a")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?a_2) :- t__a(e: ?t_1, v: ?a_2).
s2(i0: ?ri3, c0: ?rc4) :- s1(i0: ?ri3, c0: ?rc4).
q(i0: ?i0, c0: ?c0) :- s2(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn star_expands_to_the_declared_columns() {
    check(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT * FROM t",),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=a", "name=b")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(i0: ?t_1, c0: ?a_2, c1: ?b_3) :- t__a(e: ?t_1, v: ?a_2), t__b(e: ?t_1, v: ?b_3).
q(i0: ?i0, c0: ?c0, c1: ?c1) :- s1(i0: ?i0, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn distinct_drops_identities() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT DISTINCT b FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(c0) relation sql("hidden=0", "name=b")

t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s1(c0: ?b_2) :- t__b(e: ?t_1, v: ?b_2).
q(c0: ?c0) :- s1(c0: ?c0).
"#,
    );
}

#[test]
fn natural_join_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT * FROM t NATURAL JOIN u",
        ),
        r#"
E0842: NATURAL JOIN is outside the subset: write the join condition with ON [NATURAL JOIN]
"#,
    );
}

#[test]
fn join_using_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT * FROM t JOIN u USING (a)",
        ),
        r#"
E0843: JOIN … USING is outside the subset: write the join condition with ON [JOIN]
"#,
    );
}

#[test]
fn right_join_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT * FROM t RIGHT JOIN u ON t.a = u.a",
        ),
        r#"
E0844: RIGHT OUTER JOIN is outside the subset [RIGHT JOIN]
"#,
    );
}

#[test]
fn an_unknown_table_is_refused() {
    check_error(
        "SELECT * FROM nowhere",
        r#"
E0847: no such table: nowhere [nowhere]
"#,
    );
}

#[test]
fn a_name_for_two_tables_is_refused() {
    check_error(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT * FROM t, t",),
        r#"
E0849: `t` names two tables in FROM; give one an alias [t]
"#,
    );
}

#[test]
fn star_needs_a_from_clause() {
    check_error(
        "SELECT *",
        r#"
E0841: `*` needs a FROM clause [*]
"#,
    );
}

#[test]
fn a_derived_table_cannot_read_the_enclosing_query() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT (SELECT count(*) FROM (SELECT c FROM u WHERE u.a = t.a) AS x) FROM t",
        ),
        r#"
E0851: no such column: t.a [t.a]
"#,
    );
}

#[test]
fn aggregates_in_where_are_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM t WHERE count(a) > 1",
        ),
        r#"
E0846: aggregate functions are not allowed in WHERE [count(a)]
"#,
    );
}
