//! Unit tests of the `subquery` step of the SQL lowering: EXISTS, NOT EXISTS, IN (as conjuncts and
//! as values) and scalar subqueries.
//!
//! Each case is DDL and a query in SQL text; the expected text is the printed PomoLogic program
//! or the refusal (see `super` for the helpers).

use super::{check, check_error};

#[test]
fn exists_is_a_semijoin() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT b FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=b")

s2(p0: ?p2_0, c0: 1) :- d1(p0: ?p2_0), datom(e: ?u_2, a: :u/a, v: ?u3), ?p2_0 != nil, ?u3 == ?p2_0.
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
d1(p0: ?a_4) :- t__a(e: ?t_1, v: ?a_4).
t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s3(i0: ?t_1, c0: ?b_6) :- t__a(e: ?t_1, v: ?a_5), s2(p0: ?a_5), t__b(e: ?t_1, v: ?b_6).
q(i0: ?i0, c0: ?c0) :- s3(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn not_exists_is_an_antijoin() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT b FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.a = t.a)",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=b")

s2(p0: ?p2_0, c0: 1) :- d1(p0: ?p2_0), datom(e: ?u_2, a: :u/a, v: ?u3), ?p2_0 != nil, ?u3 == ?p2_0.
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
d1(p0: ?a_4) :- t__a(e: ?t_1, v: ?a_4).
ne3(k: 0, p0: ?p0) :- s2(p0: ?p0).
t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s4(i0: ?t_1, c0: ?b_6) :- t__a(e: ?t_1, v: ?a_5), t__b(e: ?t_1, v: ?b_6), !ne3(k: 0, p0: ?a_5).
q(i0: ?i0, c0: ?c0) :- s4(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn in_is_a_semijoin_on_the_value() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT b FROM t WHERE a IN (SELECT c FROM u)",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=b")

u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
s1(c0: ?c_3) :- u__c(e: ?u_2, v: ?c_3).
t__b(e: ?e, v: ?v) :- datom(e: ?e, a: :t/b, v: ?v).
t__b(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/b).
s2(i0: ?t_1, c0: ?b_5) :- datom(e: ?t_1, a: :t/a, v: ?u4), s1(c0: ?u4), t__b(e: ?t_1, v: ?b_5).
q(i0: ?i0, c0: ?c0) :- s2(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn exists_as_a_value_is_a_truth_relation() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT EXISTS (SELECT 1 FROM u WHERE u.a = t.a) FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=EXISTS (SELECT 1 FROM u WHERE u.a = t.a)")

s2(p0: ?p2_0, c0: 1) :- d1(p0: ?p2_0), datom(e: ?u_2, a: :u/a, v: ?u3), ?p2_0 != nil, ?u3 == ?p2_0.
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
d1(p0: ?a_4) :- t__a(e: ?t_1, v: ?a_4).
ex3(p0: ?p0, b: true) :- s2(p0: ?p0).
ne4(k: 0, p0: ?p0) :- s2(p0: ?p0).
ex3(p0: ?p0, b: false) :- d1(p0: ?p0), !ne4(k: 0, p0: ?p0).
s5(i0: ?t_1, c0: ?ex6) :- t__a(e: ?t_1, v: ?a_5), ex3(p0: ?a_5, b: ?ex6).
q(i0: ?i0, c0: ?c0) :- s5(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn in_as_a_value_is_three_valued() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT a IN (SELECT c FROM u) FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=a IN (SELECT c FROM u)")

u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
s1(c0: ?c_3) :- u__c(e: ?u_2, v: ?c_3).
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
dx2(x: ?a_5) :- t__a(e: ?t_1, v: ?a_5).
hit3(x: ?x) :- dx2(x: ?x), s1(c0: ?x), ?x != nil.
ne4(k: 0, x: ?x) :- hit3(x: ?x).
ne5(k: 0) :- s1(c0: ?any).
ne6(k: 0) :- s1(c0: nil).
in7(x: ?x, b: true) :- dx2(x: ?x), hit3(x: ?x).
in7(x: ?x, b: false) :- dx2(x: ?x), !ne5(k: 0).
nonempty8(k: 0) :- s1(c0: ?any).
in7(x: ?x, b: nil) :- dx2(x: ?x), nonempty8(k: 0), !ne4(k: 0, x: ?x), ?x == nil.
in7(x: ?x, b: nil) :- dx2(x: ?x), nonempty8(k: 0), !ne4(k: 0, x: ?x), s1(c0: nil).
in7(x: ?x, b: false) :- dx2(x: ?x), nonempty8(k: 0), !ne4(k: 0, x: ?x), ?x != nil, !ne6(k: 0).
s9(i0: ?t_1, c0: ?in6) :- t__a(e: ?t_1, v: ?a_4), in7(x: ?a_4, b: ?in6).
q(i0: ?i0, c0: ?c0) :- s9(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn a_scalar_subquery_is_one_aggregate_row() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT (SELECT max(c) FROM u WHERE u.a = t.a) FROM t",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=(SELECT max(c) FROM u WHERE u.a = t.a)")

u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
b2(p0: ?p2_0, i0: ?u_2, a0: ?c_4) :-
    d1(p0: ?p2_0),
    datom(e: ?u_2, a: :u/a, v: ?u3),
    u__c(e: ?u_2, v: ?c_4),
    ?p2_0 != nil,
    ?u3 == ?p2_0.
g3(p0: ?p0, o0: ?o0) :- ?o0 := sql_max(?a0) : b2(p0: ?p0, i0: ?i0, a0: ?a0).
ne4(k: 0, p0: ?p0) :- b2(p0: ?p0, i0: ?any).
g3(p0: ?p0, o0: nil) :- d1(p0: ?p0), !ne4(k: 0, p0: ?p0).
s5(p0: ?Gp0, c0: ?Go0) :- g3(p0: ?Gp0, o0: ?Go0).
t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
d1(p0: ?a_5) :- t__a(e: ?t_1, v: ?a_5).
s6(i0: ?t_1, c0: ?sq7) :- t__a(e: ?t_1, v: ?a_6), s5(p0: ?a_6, c0: ?sq7).
q(i0: ?i0, c0: ?c0) :- s6(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn in_takes_one_column() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT b FROM t WHERE a IN (SELECT a, c FROM u)",
        ),
        r#"
E0854: the subquery of IN returns 2 columns; it must return one [SELECT a, c FROM u]
"#,
    );
}

#[test]
fn a_scalar_subquery_must_be_an_aggregate() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT (SELECT c FROM u) FROM t",
        ),
        r#"
E0867: a scalar subquery must be one aggregate without GROUP BY (it could return several rows) [SELECT c FROM u]
"#,
    );
}

#[test]
fn a_correlated_compound_subquery_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT b FROM t WHERE EXISTS (SELECT c FROM u WHERE u.a = t.a UNION SELECT c FROM u)",
        ),
        r#"
E0839: a compound SELECT inside a correlated subquery is outside the subset [UNION]
"#,
    );
}
