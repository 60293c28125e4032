//! Golden tests of rendered diagnostics (ariadne, without colour): what a user sees for typical
//! mistakes in each language. One snapshot has non-ASCII text before the error, which proves
//! that spans are rendered as byte offsets.

use pomo_grammar::diag::{Diagnostic, Sources, render};
use pomo_grammar::{edn, logic_syntax, query, ra_syntax, sql_syntax};

/// Renders the diagnostics of a failed parse of `src` (named `name`).
fn rendered(name: &str, src: &str, diags: Vec<Diagnostic>) -> String {
    let mut sources = Sources::new();
    sources.add(name, src);
    render(&diags, &sources, false)
}

fn query_errors(src: &str) -> String {
    rendered(
        "q.edn",
        src,
        query::parse_query_text(src).expect_err("the query should not parse"),
    )
}

#[test]
fn edn_unclosed_bracket() {
    let src = "[:find ?e\n :where [?e :person/name \"Ann\"]\n";
    insta::assert_snapshot!(rendered("q.edn", src, edn::parse_forms(src).unwrap_err()));
}

#[test]
fn edn_unknown_escape_after_non_ascii() {
    let src = "[:find ?e :where [?e :person/name \"Zoë Ürün\\q\"]]";
    let out = rendered("q.edn", src, edn::parse_forms(src).unwrap_err());
    // The caret line must start under the backslash: the label column counts characters, while
    // the span counts bytes (ë and Ü are two bytes each).
    let source_line = out.lines().find(|l| l.contains("Zoë")).unwrap();
    let caret_line = out.lines().find(|l| l.contains('┬')).unwrap();
    let underline_start = caret_line
        .chars()
        .position(|x| x == '─' || x == '┬')
        .unwrap();
    assert_eq!(
        source_line.chars().position(|x| x == '\\').unwrap(),
        underline_start,
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn edn_unterminated_string() {
    let src = "[:find ?e :where [?e :name \"Ann]]\n";
    insta::assert_snapshot!(rendered("q.edn", src, edn::parse_forms(src).unwrap_err()));
}

#[test]
fn query_and_inside_not() {
    insta::assert_snapshot!(query_errors(
        "[:find ?e\n :where [?e :person/name]\n        (not (and [?e :person/age ?a] [(< ?a 18)]))]"
    ));
}

#[test]
fn query_keys_count_mismatch() {
    insta::assert_snapshot!(query_errors(
        "[:find ?name ?age\n :keys name\n :where [?e :person/name ?name] [?e :person/age ?age]]"
    ));
}

#[test]
fn query_all_errors() {
    insta::assert_snapshot!(query_errors(
        "[:find ?e :in $ foo :where [?e :a bar] (or) [(f) ?x ?y]]"
    ));
}

#[test]
fn logic_syntax_error() {
    let src = "path(from: ?x, to: ?z) :- edge(from: ?x, to: ?y) path(from: ?y, to: ?z).\n";
    insta::assert_snapshot!(rendered(
        "p.pomo",
        src,
        logic_syntax::parse_program(src).unwrap_err()
    ));
}

#[test]
fn ra_syntax_error() {
    let src = "stratum 0 {\n  path := join(edge, path;\n}\n";
    insta::assert_snapshot!(rendered(
        "plan.ra",
        src,
        ra_syntax::parse_plan(src).unwrap_err()
    ));
}

#[test]
fn sql_reserved_word_and_refused_syntax() {
    // Two statements, one error each: a reserved word as a table name, and `INTERSECT ALL`.
    let src = "SELECT name\n  FROM order\n WHERE qty > 1;\nSELECT a FROM t INTERSECT ALL SELECT a FROM u;\n";
    insta::assert_snapshot!(rendered(
        "q.sql",
        src,
        sql_syntax::parse_script(src).unwrap_err()
    ));
}

#[test]
fn sql_unterminated_string() {
    let src = "SELECT title FROM book WHERE author = 'Zoë;\n";
    insta::assert_snapshot!(rendered(
        "q.sql",
        src,
        sql_syntax::parse_script(src).unwrap_err()
    ));
}
