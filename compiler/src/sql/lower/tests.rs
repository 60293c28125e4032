//! The helpers the lowering's unit tests share, and the tests of the lowering as a whole (spans).
//!
//! A case is SQL text: CREATE TABLE statements for its catalog, then one query. It is parsed
//! with the real parser and lowered as `pomo explain` lowers a `.sql` file
//! ([`crate::sql::lower_script`]); [`check`] compares the printed PomoLogic program,
//! [`check_error`] the refusals (`code: message [label text]`, one a line), and [`check_spans`]
//! the SQL text each rule's span covers. Expected texts are compared with surrounding blank
//! lines trimmed, so they can be written as raw strings that start on their own line.

mod conditions;
mod expr;
mod grouping;
mod query;
mod scope;
mod select;
mod subquery;

use crate::logic::ir::Program;
use crate::logic::print;
use crate::sql::{Catalog, lower_script};
use pomo_grammar::Diagnostic;

/// Lowers the last query of `sql` over the tables the text creates.
pub(super) fn lower(sql: &str) -> Result<Program, Vec<Diagnostic>> {
    let statements = pomo_grammar::sql_syntax::parse_script(sql)?;
    lower_script(&statements, &Catalog::default()).map(|(program, _)| program)
}

/// The text a span covers, or a note that it is out of range (so a bad span fails a test
/// instead of panicking in it).
fn slice(sql: &str, span: &std::ops::Range<usize>) -> String {
    sql.get(span.clone())
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| format!("<out of range {span:?}>"))
}

/// Asserts that `sql` lowers to the program `expected` (printed PomoLogic).
#[track_caller]
pub(super) fn check(sql: &str, expected: &str) {
    let program = match lower(sql) {
        Ok(p) => p,
        Err(d) => panic!("{sql}\ndid not lower:\n{}", diagnostics(sql, &d)),
    };
    assert_eq!(
        print::program(&program).trim(),
        expected.trim(),
        "lowering {sql}"
    );
}

/// Asserts that `sql` is refused with the diagnostics `expected`.
#[track_caller]
pub(super) fn check_error(sql: &str, expected: &str) {
    match lower(sql) {
        Ok(p) => panic!("{sql}\nlowered but should fail:\n{}", print::program(&p)),
        Err(d) => assert_eq!(diagnostics(sql, &d), expected.trim(), "lowering {sql}"),
    }
}

/// Diagnostics as `code: message [the text of each label]`, one a line.
fn diagnostics(sql: &str, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let labels: Vec<String> = d.labels.iter().map(|l| slice(sql, &l.span)).collect();
            format!("{}: {} [{}]", d.code, d.message, labels.join("; "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each rule's head relation and the SQL text its span covers, then for each literal with a
/// span of its own the literal's index and text: `s1 <- SELECT …` / `  1: a > 1`.
fn spans_text(sql: &str, program: &Program) -> String {
    let mut out = Vec::new();
    for (i, rule) in program.rules.iter().enumerate() {
        let rel = &program.rel(rule.head.rel).name;
        let text = match program.rule_span(i) {
            Some((0, span)) => slice(sql, &span),
            Some((file, _)) => format!("<file {file}>"),
            None => "<no span>".to_string(),
        };
        out.push(format!("{rel} <- {text}"));
        for (li, span) in program.spans.literals[i].iter().enumerate() {
            if let Some((_, span)) = span {
                out.push(format!("  {li}: {}", slice(sql, span)));
            }
        }
    }
    out.join("\n")
}

/// Asserts the spans of the rules of `sql`'s program (see [`spans_text`]).
#[track_caller]
pub(super) fn check_spans(sql: &str, expected: &str) {
    let program = lower(sql).unwrap_or_else(|d| panic!("{}", diagnostics(sql, &d)));
    assert_eq!(spans_text(sql, &program), expected.trim(), "lowering {sql}");
}

#[test]
fn every_rule_of_the_sql_corpus_spans_its_query() {
    let cases = [
        include_str!("../../../../tests/corpus/queries/sql-correlated.sql"),
        include_str!("../../../../tests/corpus/queries/sql-exists-value.sql"),
        include_str!("../../../../tests/corpus/queries/sql-group-having.sql"),
        include_str!("../../../../tests/corpus/queries/sql-in-subquery.sql"),
        include_str!("../../../../tests/corpus/queries/sql-join-chain.sql"),
        include_str!("../../../../tests/corpus/queries/sql-left-join.sql"),
        include_str!("../../../../tests/corpus/queries/sql-recursive-cte.sql"),
        include_str!("../../../../tests/corpus/queries/sql-setops.sql"),
        include_str!("../../../../tests/corpus/queries/sql-where-null.sql"),
    ];
    for sql in cases {
        let program = lower(sql).unwrap_or_else(|d| panic!("{}", diagnostics(sql, &d)));
        for i in 0..program.rules.len() {
            let (file, span) = program.rule_span(i).expect("every rule has a span");
            assert_eq!(file, 0, "SQL is file 0");
            assert!(
                span.start < span.end && span.end <= sql.len(),
                "{span:?} in {sql}"
            );
        }
        assert_eq!(program.spans.literals.len(), program.rules.len());
        for (rule, spans) in program.rules.iter().zip(&program.spans.literals) {
            assert_eq!(rule.body.len(), spans.len(), "one span slot per literal");
        }
    }
}

#[test]
fn a_select_spans_its_rule_and_a_where_conjunct_its_literals() {
    check_spans(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "SELECT b FROM t WHERE a + 1 > 2 AND b IS NOT NULL",
        ),
        r#"
s1 <- SELECT b FROM t WHERE a + 1 > 2 AND b IS NOT NULL
  0: a
  1: b IS NOT NULL
  2: a + 1
  3: a + 1 > 2
  4: a + 1 > 2
q <- SELECT b FROM t WHERE a + 1 > 2 AND b IS NOT NULL
"#,
    );
}

#[test]
fn subqueries_joins_and_set_operations_span_their_rules() {
    check_spans(
        concat!(
            "CREATE TABLE t(a INTEGER, b TEXT);",
            "CREATE TABLE u(a INTEGER, c INTEGER);",
            "SELECT t.b FROM t LEFT JOIN u ON t.a = u.a WHERE EXISTS (SELECT 1 FROM u AS v WHERE v.c = t.a) UNION SELECT 'x'",
        ),
        r#"
t__a <- LEFT JOIN
t__a <- LEFT JOIN
t__b <- LEFT JOIN
t__b <- LEFT JOIN
m1 <- LEFT JOIN
u__c <- LEFT JOIN
u__c <- LEFT JOIN
m2 <- LEFT JOIN
  0: t.a
  1: u.a
  3: t.a = u.a
  4: t.a = u.a
lj3 <- LEFT JOIN
ne4 <- LEFT JOIN
lj3 <- LEFT JOIN
m5 <- SELECT t.b FROM t LEFT JOIN u ON t.a = u.a WHERE EXISTS (SELECT 1 FROM u AS v WHERE v.c = t.a)
s7 <- SELECT 1 FROM u AS v WHERE v.c = t.a
  1: v.c
  2: v.c = t.a
  3: v.c = t.a
d6 <- SELECT 1 FROM u AS v WHERE v.c = t.a
s8 <- SELECT t.b FROM t LEFT JOIN u ON t.a = u.a WHERE EXISTS (SELECT 1 FROM u AS v WHERE v.c = t.a)
  0: EXISTS (SELECT 1 FROM u AS v WHERE v.c = t.a)
  1: EXISTS (SELECT 1 FROM u AS v WHERE v.c = t.a)
s9 <- SELECT 'x'
u10 <- UNION
u10 <- UNION
q <- SELECT t.b FROM t LEFT JOIN u ON t.a = u.a WHERE EXISTS (SELECT 1 FROM u AS v WHERE v.c = t.a) UNION SELECT 'x'
"#,
    );
}

#[test]
fn a_recursive_cte_spans_its_rules() {
    check_spans(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3) SELECT x FROM n",
        r#"
s1 <- SELECT 1
cte2 <- n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3)
s3 <- SELECT x + 1 FROM n WHERE x < 3
  0: x
  1: x < 3
  2: x < 3
  3: x + 1
cte2 <- n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3)
s4 <- SELECT x FROM n
  0: x
q <- WITH RECURSIVE n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3) SELECT x FROM n
"#,
    );
}
