//! Unit tests of the `query` step of the SQL lowering: the top query, ORDER BY/LIMIT, set
//! operations, VALUES, WITH and recursive CTEs.
//!
//! Each case is DDL and a query in SQL text; the expected text is the printed PomoLogic program
//! or the refusal (see `super` for the helpers).

use super::{check, check_error};

#[test]
fn select_list_is_the_output_relation() {
    check(
        concat!("CREATE TABLE t(a INTEGER, b TEXT);", "SELECT a, b FROM t",),
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
fn order_by_and_limit_shape_the_output() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM t ORDER BY b DESC LIMIT 2 OFFSET 1",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=a", "order=2 desc", "limit=2", "offset=1")

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
fn union_all_tags_its_branches() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT a FROM t UNION ALL SELECT c FROM u",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, i1, c0) relation sql("hidden=2", "name=a")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(i0: ?t_1, c0: ?a_2) :- t__a(e: ?t_1, v: ?a_2).
u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
s2(i0: ?u_3, c0: ?c_4) :- u__c(e: ?u_3, v: ?c_4).
u3(i0: 0, i1: ?i0, c0: ?c0) :- s1(c0: ?c0, i0: ?i0).
u3(i0: 1, i1: ?i0, c0: ?c0) :- s2(c0: ?c0, i0: ?i0).
q(i0: ?i0, i1: ?i1, c0: ?c0) :- u3(i0: ?i0, i1: ?i1, c0: ?c0).
"#,
    );
}

#[test]
fn intersect_and_except_are_sets_of_values() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT a FROM t INTERSECT SELECT a FROM u EXCEPT SELECT c FROM u",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(c0) relation sql("hidden=0", "name=a")

t__a(e: ?e, v: ?v) :- datom(e: ?e, a: :t/a, v: ?v).
t__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/t, v: true), !datom(e: ?e, a: :t/a).
s1(c0: ?a_2) :- t__a(e: ?t_1, v: ?a_2).
u__a(e: ?e, v: ?v) :- datom(e: ?e, a: :u/a, v: ?v).
u__a(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/a).
s2(c0: ?a_4) :- u__a(e: ?u_3, v: ?a_4).
u3(c0: ?c0) :- s1(c0: ?c0), s2(c0: ?c0).
u__c(e: ?e, v: ?v) :- datom(e: ?e, a: :u/c, v: ?v).
u__c(e: ?e, v: nil) :- datom(e: ?e, a: :sql.row/u, v: true), !datom(e: ?e, a: :u/c).
s4(c0: ?c_6) :- u__c(e: ?u_5, v: ?c_6).
u5(c0: ?c0) :- u3(c0: ?c0), !s4(c0: ?c0).
q(c0: ?c0) :- u5(c0: ?c0).
"#,
    );
}

#[test]
fn values_rows_are_facts() {
    check(
        "VALUES (1, 'x'), (2, NULL)",
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0, c1) relation sql("hidden=1", "name=column1", "name=column2")

v1(i0: 0, c0: 1, c1: "x").
v1(i0: 1, c0: 2, c1: nil).
q(i0: ?i0, c0: ?c0, c1: ?c1) :- v1(i0: ?i0, c0: ?c0, c1: ?c1).
"#,
    );
}

#[test]
fn a_cte_is_a_relation_source() {
    check(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "WITH w AS (SELECT a FROM t WHERE a > 1) SELECT a FROM w",
        ),
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=a")

s1(i0: ?t_1, c0: ?u2) :- datom(e: ?t_1, a: :t/a, v: ?u2), ?u2 > 1.
s2(i0: ?ri3, c0: ?rc4) :- s1(i0: ?ri3, c0: ?rc4).
q(i0: ?i0, c0: ?c0) :- s2(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn a_recursive_cte_is_a_recursive_relation() {
    check(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3) SELECT x FROM n",
        r#"
.decl datom(e, a, v, t, m, added)
.output q(i0, c0) relation sql("hidden=1", "name=x")

s1(c0: 1).
cte2(c0: ?c0) :- s1(c0: ?c0).
s3(c0: ?x2) :- cte2(c0: ?rc1), ?rc1 != nil, ?rc1 < 3, ?x2 := sql_add(?rc1, 1).
cte2(c0: ?c0) :- s3(c0: ?c0).
s4(i0: ?rc3, c0: ?rc3) :- cte2(c0: ?rc3).
q(i0: ?i0, c0: ?c0) :- s4(i0: ?i0, c0: ?c0).
"#,
    );
}

#[test]
fn order_by_ordinal_out_of_range_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM t ORDER BY 2",
        ),
        r#"
E0830: ORDER BY term 2 is out of range: the result has 1 column(s) [2]
"#,
    );
}

#[test]
fn limit_takes_an_integer_constant() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM t LIMIT 'x'",
        ),
        r#"
E0832: LIMIT and OFFSET take an integer constant ['x']
"#,
    );
}

#[test]
fn order_by_of_a_compound_select_names_a_result_column() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT a FROM t UNION SELECT c FROM u ORDER BY a + 1",
        ),
        r#"
E0831: an ORDER BY term of a compound SELECT must name a result column [a + 1]
"#,
    );
}

#[test]
fn union_all_in_a_recursive_cte_is_refused() {
    check_error(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n",
        r#"
E0835: UNION ALL in a recursive common table expression is outside the subset: it has no set-semantics fixpoint [UNION ALL]
"#,
    );
}

#[test]
fn intersect_all_is_refused_by_the_parser() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT a FROM t INTERSECT ALL SELECT c FROM u",
        ),
        r#"
E0803: `INTERSECT ALL` is not supported [INTERSECT ALL]
"#,
    );
}

#[test]
fn compound_parts_have_one_width() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT a, b FROM t UNION SELECT c FROM u",
        ),
        r#"
E0836: the parts of a compound SELECT have different numbers of columns [UNION]
"#,
    );
}

#[test]
fn order_by_in_a_subquery_is_refused() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT a FROM (SELECT a FROM t ORDER BY a) AS x",
        ),
        r#"
E0837: ORDER BY and LIMIT are allowed only on the outermost query [a]
"#,
    );
}

#[test]
fn cte_column_names_match_its_query() {
    check_error(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "WITH w(x, y) AS (SELECT a FROM t) SELECT x FROM w",
        ),
        r#"
E0833: `w` names 2 column(s) but its query has 1 [w(x, y) AS (SELECT a FROM t)]
"#,
    );
}

#[test]
fn values_rows_have_one_width() {
    check_error(
        "VALUES (1, 2), (3)",
        r#"
E0836: all VALUES rows must have the same number of values [(3)]
"#,
    );
}

#[test]
fn select_distinct_sorts_by_its_result_columns_only() {
    // A key beside the select list would keep apart rows DISTINCT merges: refused.
    check_error(
        concat!(
            "CREATE TABLE e(dept TEXT, pay INTEGER);",
            "SELECT DISTINCT dept FROM e ORDER BY pay",
        ),
        r#"
E0871: an ORDER BY term of a SELECT DISTINCT must be one of its result columns [pay]
"#,
    );
    // A result column, by name, qualified name or position, sorts as usual.
    for order in ["dept", "e.dept", "1"] {
        let sql = format!(
            "CREATE TABLE e(dept TEXT, pay INTEGER); SELECT DISTINCT dept FROM e ORDER BY {order}"
        );
        assert!(super::lower(&sql).is_ok(), "{sql}");
    }
}
