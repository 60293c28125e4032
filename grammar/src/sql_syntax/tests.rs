//! Unit tests of the SQL parser: the conformance corpora parse and print back, precedence and
//! every expression form, statements, spans, and the error paths.

use super::*;
use crate::diag::{Diagnostic, summary};
use std::path::{Path, PathBuf};

/// Parses one statement and returns its printed form, or the diagnostics summary.
fn check(input: &str, expected: &str) {
    let actual = match parse_statement(input) {
        Ok(s) => {
            assert_round_trip(&s);
            s.to_string()
        }
        Err(diags) => summary(&diags),
    };
    assert_eq!(actual, expected, "input: {input}");
}

/// Checks the printed form of the expression `input` (the only item of `SELECT input`).
fn check_expr(input: &str, expected: &str) {
    let src = format!("SELECT {input}");
    let actual = match parse_statement(&src) {
        Ok(s) => {
            assert_round_trip(&s);
            let printed = s.to_string();
            printed
                .strip_prefix("SELECT ")
                .unwrap_or(&printed)
                .to_string()
        }
        Err(diags) => summary(&diags),
    };
    assert_eq!(actual, expected, "input: {input}");
}

fn statement(input: &str) -> Statement {
    parse_statement(input).unwrap_or_else(|d| panic!("{input}: {}", summary(&d)))
}

/// The first item of `SELECT input`.
fn expr(input: &str) -> Expr {
    let s = statement(&format!("SELECT {input}"));
    let Stmt::Query(q) = s.kind else { panic!() };
    let SetExpr::Select(sel) = q.body else {
        panic!()
    };
    let Some(SelectItem::Expr { expr, .. }) = sel.items.into_iter().next() else {
        panic!()
    };
    expr
}

/// The printed statement parses back and prints the same text: the printer loses nothing the
/// parser reads (trees are compared through their printed form, which has no spans).
fn assert_round_trip(s: &Statement) {
    let printed = s.to_string();
    let again = parse_statement(&printed)
        .unwrap_or_else(|d| panic!("printed form does not parse: {printed}\n{}", summary(&d)));
    assert_eq!(again.to_string(), printed, "round trip changed the tree");
}

// ---- conformance corpora -----------------------------------------------------------------------

/// One record of a sqllogictest file.
struct Record {
    line: usize,
    /// `statement ok`, `statement error`, `query …`
    header: String,
    /// The comment lines just before the record.
    comments: Vec<String>,
    sql: String,
}

/// Reads the records of a sqllogictest file: a record starts with `statement …` or `query …`
/// and its SQL runs until `----` or a blank line. Comment lines and the `hash-threshold`,
/// `skipif`, `onlyif` and `halt` lines are skipped.
fn records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut comments = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let t = line.trim();
        if t.starts_with('#') {
            comments.push(t.to_string());
            continue;
        }
        if t.starts_with("statement ") || t.starts_with("query ") {
            let mut sql = Vec::new();
            for (_, l) in lines.by_ref() {
                if l.trim().is_empty() || l.starts_with("----") {
                    break;
                }
                sql.push(l);
            }
            out.push(Record {
                line: i + 1,
                header: t.to_string(),
                comments: std::mem::take(&mut comments),
                sql: sql.join("\n"),
            });
            continue;
        }
        if t.is_empty() {
            comments.clear();
        }
        // `hash-threshold`, `skipif`, `onlyif`, `halt` and result lines need nothing.
    }
    out
}

fn corpus_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
    let mut files: Vec<PathBuf> = (1..=5)
        .map(|i| root.join(format!("sqllogictest/select{i}.test")))
        .collect();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join("sql/cases"))
        .expect("the SQL conformance cases are missing")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    cases.sort();
    files.extend(cases);
    files
}

/// Whether the record is one that SQLite itself rejects as a syntax error (reject.test says so
/// in the comment before it).
fn sqlite_syntax_error(r: &Record) -> bool {
    r.header == "statement error" && r.comments.iter().any(|c| c.contains("syntax error"))
}

#[test]
fn conformance_corpora_parse_and_print_back() {
    let mut parsed = 0;
    let mut refused = 0;
    let mut failures = Vec::new();
    for file in corpus_files() {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for r in records(&text) {
            let result = parse_statement(&r.sql);
            let here = format!("{}:{}", file.display(), r.line);
            match (sqlite_syntax_error(&r), result) {
                (false, Ok(s)) => {
                    assert_round_trip(&s);
                    parsed += 1;
                }
                (false, Err(d)) => failures.push(format!("{here}: {}\n{}", r.sql, summary(&d))),
                (true, Ok(_)) => failures.push(format!("{here}: should not parse: {}", r.sql)),
                (true, Err(d)) => {
                    assert!(
                        d.iter().all(|d| d.code == "E0803" || d.code == "E0804"),
                        "{here}: {}",
                        summary(&d)
                    );
                    refused += 1;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    // select1–5 hold 8,884 queries and their statements; the cases add a few hundred more.
    assert!(parsed > 10_000, "only {parsed} statements parsed");
    assert_eq!(
        refused, 3,
        "INTERSECT ALL, EXCEPT ALL, OFFSET without LIMIT"
    );
}

#[test]
fn records_reader() {
    let text = "hash-threshold 8\n\n# a comment\nstatement ok\nCREATE TABLE t(a INT)\n\nskipif sqlite\nquery I rowsort label\nSELECT a\n  FROM t\n----\n1\n\nhalt\n";
    let rs = records(text);
    assert_eq!(rs.len(), 2);
    assert_eq!(rs[0].sql, "CREATE TABLE t(a INT)");
    assert_eq!(rs[0].comments, vec!["# a comment".to_string()]);
    assert_eq!(rs[1].sql, "SELECT a\n  FROM t");
    assert_eq!(rs[1].line, 8);
}

// ---- precedence and expression forms ---------------------------------------------------------

/// The tree of an expression as a fully parenthesised prefix form (operators first), so that
/// tests see the shape the parser built rather than the printer's minimal parentheses.
fn shape(e: &Expr) -> String {
    let neg = |n: bool, yes: &str, no: &str| if n { yes.to_string() } else { no.to_string() };
    match &e.kind {
        ExprKind::Binary { op, left, right } => {
            format!("({} {} {})", op.symbol(), shape(left), shape(right))
        }
        ExprKind::Unary { op, expr } => format!("({} {})", op.symbol(), shape(expr)),
        ExprKind::IsNull { expr, negated } => {
            format!("({} {})", neg(*negated, "notnull", "isnull"), shape(expr))
        }
        ExprKind::Is {
            left,
            right,
            negated,
        } => format!(
            "({} {} {})",
            neg(*negated, "is-not", "is"),
            shape(left),
            shape(right)
        ),
        ExprKind::Between {
            expr,
            low,
            high,
            negated,
        } => format!(
            "({} {} {} {})",
            neg(*negated, "not-between", "between"),
            shape(expr),
            shape(low),
            shape(high)
        ),
        ExprKind::InList {
            expr,
            list,
            negated,
        } => format!(
            "({} {} [{}])",
            neg(*negated, "not-in", "in"),
            shape(expr),
            list.iter().map(shape).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::InSubquery {
            expr,
            query,
            negated,
        } => format!(
            "({} {} {{{query}}})",
            neg(*negated, "not-in", "in"),
            shape(expr)
        ),
        ExprKind::Like {
            expr,
            pattern,
            negated,
            escape,
        } => {
            let esc = escape
                .as_ref()
                .map(|e| format!(" {}", shape(e)))
                .unwrap_or_default();
            format!(
                "({} {} {}{esc})",
                neg(*negated, "not-like", "like"),
                shape(expr),
                shape(pattern)
            )
        }
        _ => e.to_string(),
    }
}

/// Checks the shape of the expression `input` (see [`shape`]); the statement must also print
/// back.
fn check_shape(input: &str, expected: &str) {
    let e = expr(input);
    assert_round_trip(&statement(&format!("SELECT {input}")));
    assert_eq!(shape(&e), expected, "input: {input}");
}

#[test]
fn precedence() {
    check_shape("a OR b AND NOT c = d", "(OR a (AND b (NOT (= c d))))");
    check_shape("-a*b", "(* (- a) b)");
    check_shape("a || b + c", "(+ (|| a b) c)");
    check_shape("a * b || c", "(* a (|| b c))");
    check_shape("-a || b", "(|| (- a) b)");
    check_shape("a + b * c - d", "(- (+ a (* b c)) d)");
    check_shape("a % b / c", "(/ (% a b) c)");
    check_shape("a - (b - c)", "(- a (- b c))");
    check_shape("a = b = c", "(= (= a b) c)");
    check_shape("a < b = c < d", "(= (< a b) (< c d))");
    check_shape(
        "a <> b OR a != b OR a == b",
        "(OR (OR (<> a b) (<> a b)) (= a b))",
    );
    check_shape("NOT a AND b", "(AND (NOT a) b)");
    check_shape("NOT NOT a", "(NOT (NOT a))");
    check_shape("a OR b OR c", "(OR (OR a b) c)");
    check_shape("a AND b OR c AND d", "(OR (AND a b) (AND c d))");
    check_shape("- - 1", "(- (- 1))");
    check_shape("+a - -b", "(- (+ a) (- b))");
    check_shape("(a OR b) AND c", "(AND (OR a b) c)");
    check_shape("a >= 1 AND b <= 2", "(AND (>= a 1) (<= b 2))");
    check_shape("NOT a = b IS NULL", "(NOT (isnull (= a b)))");
}

#[test]
fn printing_uses_minimal_parentheses() {
    check_expr("((a + b)) * c", "(a + b) * c");
    check_expr("a - (b - c)", "a - (b - c)");
    check_expr("(a - b) - c", "a - b - c");
    check_expr("a = (b = c)", "a = (b = c)");
    check_expr("(NOT a) = b", "(NOT a) = b");
    check_expr("NOT (a OR b)", "NOT (a OR b)");
    check_expr("-(a + b)", "-(a + b)");
    check_expr("- - 1", "- -1");
    check_expr("-(-1)", "- -1");
    check_expr("- -9223372036854775808", "- -9223372036854775808");
    check_expr("a - -1", "a - -1");
    check_expr("(a BETWEEN 1 AND 2) AND b", "a BETWEEN 1 AND 2 AND b");
    check_expr("a BETWEEN (1 AND 2) AND b", "a BETWEEN (1 AND 2) AND b");
    check_expr("(a IS NULL) IS NOT (b = c)", "a IS NULL IS NOT (b = c)");
    check_expr("a || (b || c)", "a || (b || c)");
}

#[test]
fn between() {
    check_shape("a BETWEEN 1 AND 2 AND b", "(AND (between a 1 2) b)");
    check_shape(
        "a NOT BETWEEN b + 1 AND c * 2",
        "(not-between a (+ b 1) (* c 2))",
    );
    check_shape("a BETWEEN 1 AND 2 = x", "(= (between a 1 2) x)");
    check_shape("NOT a BETWEEN 1 AND 2", "(NOT (between a 1 2))");
    check_shape(
        "x BETWEEN a AND b OR y BETWEEN c AND d",
        "(OR (between x a b) (between y c d))",
    );
    check_expr("a NOT BETWEEN b + 1 AND c", "a NOT BETWEEN b + 1 AND c");
}

#[test]
fn in_and_exists() {
    check_shape("a NOT IN (1, 2)", "(not-in a [1 2])");
    check_shape("a IN (SELECT b FROM t)", "(in a {SELECT b FROM t})");
    check_shape("a NOT IN (SELECT b FROM t)", "(not-in a {SELECT b FROM t})");
    check_shape("a IN ()", "(in a [])");
    check_shape("NOT a IN (1)", "(NOT (in a [1]))");
    check_shape("a + 1 IN (2, (3))", "(in (+ a 1) [2 3])");
    check_expr("a IN ()", "a IN ()");
    check_expr("a NOT IN (1, (2))", "a NOT IN (1, 2)");
    check_expr("EXISTS (SELECT 1)", "EXISTS (SELECT 1)");
    check_expr("NOT EXISTS (SELECT 1)", "NOT EXISTS (SELECT 1)");
    let e = expr("NOT EXISTS (SELECT 1)");
    let ExprKind::Unary {
        op: UnOp::Not,
        expr: inner,
    } = e.kind
    else {
        panic!()
    };
    assert!(matches!(inner.kind, ExprKind::Exists(_)));
    assert!(matches!(
        expr("a IN (SELECT 1)").kind,
        ExprKind::InSubquery { negated: false, .. }
    ));
    check_expr("(SELECT max(a) FROM t) + 1", "(SELECT max(a) FROM t) + 1");
}

#[test]
fn is_and_null_tests() {
    check_shape("a IS NULL", "(isnull a)");
    check_shape("a IS NOT NULL", "(notnull a)");
    check_shape("a ISNULL", "(isnull a)");
    check_shape("a NOTNULL", "(notnull a)");
    check_shape("a NOT NULL", "(notnull a)");
    check_shape("a IS (NULL)", "(isnull a)");
    check_shape("a IS b", "(is a b)");
    check_shape("a IS NOT b + 1", "(is-not a (+ b 1))");
    check_shape("a IS DISTINCT FROM b", "(is-not a b)");
    check_shape("a IS NOT DISTINCT FROM NULL", "(isnull a)");
    check_shape("a IS NULL = 0", "(= (isnull a) 0)");
    check_shape("a + 1 IS NOT NULL AND b", "(AND (notnull (+ a 1)) b)");
    check_expr("a NOTNULL", "a IS NOT NULL");
    check_expr("a IS NOT b", "a IS NOT b");
}

#[test]
fn like() {
    check_shape(r"a NOT LIKE 'x\%%' ESCAPE '\'", r"(not-like a 'x\%%' '\')");
    check_shape("a LIKE b || c", "(like a (|| b c))");
    check_shape("a LIKE 'x' AND b", "(AND (like a 'x') b)");
    check_expr(r"a LIKE 'x!%' ESCAPE '!'", r"a LIKE 'x!%' ESCAPE '!'");
}

#[test]
fn case_forms() {
    check_expr(
        "CASE WHEN a THEN 1 ELSE 2 END",
        "CASE WHEN a THEN 1 ELSE 2 END",
    );
    check_expr(
        "case a when 1 then 'x' when 2 then 'y' end",
        "CASE a WHEN 1 THEN 'x' WHEN 2 THEN 'y' END",
    );
    check_expr(
        "CASE a + 1 WHEN b THEN c END",
        "CASE a + 1 WHEN b THEN c END",
    );
    check_expr(
        "CASE WHEN a > 1 THEN CASE WHEN b THEN 1 END END",
        "CASE WHEN a > 1 THEN CASE WHEN b THEN 1 END END",
    );
    let ExprKind::Case {
        operand,
        whens,
        else_,
    } = expr("CASE x WHEN 1 THEN 2 WHEN 3 THEN 4 END").kind
    else {
        panic!()
    };
    assert!(operand.is_some() && else_.is_none());
    assert_eq!(whens.len(), 2);
}

#[test]
fn casts_and_functions() {
    check_expr("CAST(a AS varchar(10))", "CAST(a AS VARCHAR(10))");
    check_expr("cast(x as double precision)", "CAST(x AS DOUBLE PRECISION)");
    check_expr("CAST(x AS decimal(10, -2))", "CAST(x AS DECIMAL(10, -2))");
    check_expr("count(*)", "count(*)");
    check_expr("COUNT(DISTINCT a)", "count(DISTINCT a)");
    check_expr("random()", "random()");
    check_expr("coalesce(a, b + 1, 'x')", "coalesce(a, b + 1, 'x')");
    check_expr(
        "ROW_NUMBER() OVER (PARTITION BY a ORDER BY (b + 1) DESC)",
        "row_number() OVER ()",
    );
    let src = "SELECT sum(x) OVER (ORDER BY y ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t";
    let Stmt::Query(q) = statement(src).kind else {
        panic!()
    };
    let SetExpr::Select(s) = q.body else { panic!() };
    let SelectItem::Expr { expr, .. } = &s.items[0] else {
        panic!()
    };
    let ExprKind::Func { over, args, .. } = &expr.kind else {
        panic!()
    };
    assert_eq!(
        &src[over.clone().unwrap()],
        "OVER (ORDER BY y ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)"
    );
    assert!(matches!(args, FuncArgs::List(a) if a.len() == 1));
}

#[test]
fn literals() {
    check_expr("9223372036854775807", "9223372036854775807");
    check_expr("9223372036854775808", "9.223372036854776e18");
    check_expr("-9223372036854775808", "-9223372036854775808");
    assert_eq!(
        expr("-9223372036854775808").kind,
        ExprKind::Lit(Lit::Int(i64::MIN))
    );
    check_expr("-(9223372036854775808)", "-9.223372036854776e18");
    check_expr("-9223372036854775809", "-9.223372036854776e18");
    check_expr("-5", "-5");
    assert!(matches!(
        expr("-5").kind,
        ExprKind::Unary { op: UnOp::Neg, .. }
    ));
    check_expr("1.5", "1.5");
    check_expr(".5", "0.5");
    check_expr("1e3", "1000.0");
    check_expr("1.5E-2", "0.015");
    check_expr("1.", "1.0");
    check_expr("'it''s'", "'it''s'");
    check_expr("''", "''");
    check_expr("NULL", "NULL");
    check_expr("true", "TRUE");
    check_expr("False", "FALSE");
    assert_eq!(expr("'a''b'").kind, ExprKind::Lit(Lit::Str("a'b".into())));
    assert_eq!(expr("1e3").kind, ExprKind::Lit(Lit::Float(1000.0)));
    assert_eq!(expr("42").kind, ExprKind::Lit(Lit::Int(42)));
}

#[test]
fn comments_and_whitespace() {
    check(
        "SELECT a -- the column\n FROM /* the table */ t/* unterminated",
        "SELECT a FROM t",
    );
    check("SELECT 2--1", "SELECT 2");
    check("SELECT 2 - -1", "SELECT 2 - -1");
    check("SELECT 2 - - 1", "SELECT 2 - -1");
}

// ---- names -------------------------------------------------------------------------------------

#[test]
fn quoted_identifiers() {
    check(
        "SELECT \"Mixed Case\", `b``c`, [x y], \"a\"\"b\", \"plain\" FROM \"select\"",
        "SELECT \"Mixed Case\", \"b`c\", \"x y\", \"a\"\"b\", plain FROM \"select\"",
    );
    check("SELECT Foo FROM Bar", "SELECT foo FROM bar");
    let Stmt::Query(q) = statement("SELECT \"Foo\", Foo, [Bar]").kind else {
        panic!()
    };
    let SetExpr::Select(s) = q.body else { panic!() };
    let names: Vec<String> = s
        .items
        .iter()
        .map(|i| match i {
            SelectItem::Expr {
                expr:
                    Expr {
                        kind: ExprKind::Column { name, .. },
                        ..
                    },
                ..
            } => name.name.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["Foo", "foo", "Bar"]);
}

#[test]
fn case_insensitive_keywords() {
    check(
        "sElEcT DiStInCt a FrOm t wHeRe b iS nOt NuLl OrDeR bY a dEsC lImIt 1",
        "SELECT DISTINCT a FROM t WHERE b IS NOT NULL ORDER BY a DESC LIMIT 1",
    );
}

#[test]
fn non_reserved_keywords_are_names() {
    check(
        "CREATE TABLE kv (key TEXT, view INT)",
        "CREATE TABLE kv (\"key\" TEXT, \"view\" INT)",
    );
    check(
        "SELECT key FROM kv AS view",
        "SELECT \"key\" FROM kv AS \"view\"",
    );
}

#[test]
fn aliases() {
    check(
        "SELECT a AS x, b y, t.*, *, 1 AS 'one' FROM t u, v AS w",
        "SELECT a AS x, b AS y, t.*, *, 1 AS one FROM t AS u, v AS w",
    );
    // Reserved words end the table reference instead of naming an alias.
    check("SELECT a FROM t WHERE x", "SELECT a FROM t WHERE x");
    check(
        "SELECT a FROM t LEFT JOIN u ON 1 GROUP BY a",
        "SELECT a FROM t LEFT JOIN u ON 1 GROUP BY a",
    );
}

// ---- queries -----------------------------------------------------------------------------------

#[test]
fn select_clauses() {
    check(
        "SELECT ALL a, count(*) FROM t WHERE b > 1 GROUP BY a, c HAVING count(*) > 1 ORDER BY 2 DESC, a ASC",
        "SELECT a, count(*) FROM t WHERE b > 1 GROUP BY a, c HAVING count(*) > 1 ORDER BY 2 DESC, a",
    );
    check("SELECT 1", "SELECT 1");
    check("VALUES (1, 2), (3, 4)", "VALUES (1, 2), (3, 4)");
    check(
        "SELECT * FROM (VALUES (1)) AS v",
        "SELECT * FROM (VALUES (1)) AS v",
    );
}

#[test]
fn limit_forms() {
    check(
        "SELECT a FROM t LIMIT 5, 10",
        "SELECT a FROM t LIMIT 10 OFFSET 5",
    );
    let Stmt::Query(q) = statement("SELECT a FROM t LIMIT 5, 10").kind else {
        panic!()
    };
    let limit = q.limit.unwrap();
    assert_eq!(limit.limit.kind, ExprKind::Lit(Lit::Int(10)));
    assert_eq!(limit.offset.unwrap().kind, ExprKind::Lit(Lit::Int(5)));
    assert_eq!(limit.span, 16..27);
    check(
        "SELECT a FROM t ORDER BY a LIMIT 1 OFFSET 2",
        "SELECT a FROM t ORDER BY a LIMIT 1 OFFSET 2",
    );
    check(
        "SELECT a FROM t LIMIT -1 OFFSET 2 + 1",
        "SELECT a FROM t LIMIT -1 OFFSET 2 + 1",
    );
}

#[test]
fn compound_queries() {
    let src = "SELECT 1 UNION SELECT 2 EXCEPT SELECT 3 INTERSECT SELECT 4 UNION ALL SELECT 5";
    check(src, src);
    let Stmt::Query(q) = statement(src).kind else {
        panic!()
    };
    // Left-associative, equal precedence: (((1 ∪ 2) − 3) ∩ 4) ∪all 5.
    let SetExpr::SetOp {
        op: SetOp::Union,
        all: true,
        left,
        op_span,
        ..
    } = q.body
    else {
        panic!()
    };
    assert_eq!(&src[op_span], "UNION ALL");
    let SetExpr::SetOp {
        op: SetOp::Intersect,
        left,
        ..
    } = *left
    else {
        panic!()
    };
    let SetExpr::SetOp {
        op: SetOp::Except,
        left,
        ..
    } = *left
    else {
        panic!()
    };
    assert!(matches!(
        *left,
        SetExpr::SetOp {
            op: SetOp::Union,
            all: false,
            ..
        }
    ));
    check(
        "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 3",
        "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 3",
    );
    check("VALUES (1) UNION VALUES (2)", "VALUES (1) UNION VALUES (2)");
}

#[test]
fn with_clauses() {
    check(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3) SELECT x FROM n",
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3) SELECT x FROM n",
    );
    check(
        "with a as (select 1), b as (select * from a) select * from b",
        "WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b",
    );
    check(
        "SELECT (WITH c AS (SELECT 2) SELECT * FROM c)",
        "SELECT (WITH c AS (SELECT 2) SELECT * FROM c)",
    );
}

#[test]
fn joins() {
    check(
        "SELECT * FROM a JOIN b ON a.x = b.x LEFT OUTER JOIN c USING (y, z) NATURAL JOIN d \
         CROSS JOIN e, f AS g INNER JOIN (SELECT 1) h ON TRUE RIGHT JOIN i ON 1 \
         FULL OUTER JOIN j ON 1 NATURAL LEFT JOIN k",
        "SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c USING (y, z) NATURAL JOIN d \
         CROSS JOIN e, f AS g JOIN (SELECT 1) AS h ON TRUE RIGHT JOIN i ON 1 \
         FULL JOIN j ON 1 NATURAL LEFT JOIN k",
    );
    let src = "SELECT * FROM a NATURAL LEFT OUTER JOIN b, c";
    let Stmt::Query(q) = statement(src).kind else {
        panic!()
    };
    let SetExpr::Select(s) = q.body else { panic!() };
    assert_eq!(s.from.len(), 2);
    let j = &s.from[0].joins[0];
    assert_eq!((j.kind, j.natural), (JoinKind::Left, true));
    assert_eq!(&src[j.span.clone()], "NATURAL LEFT OUTER JOIN");
    assert!(s.from[1].joins.is_empty());
}

// ---- statements --------------------------------------------------------------------------------

#[test]
fn create_table() {
    check(
        "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name VARCHAR(30) NOT NULL UNIQUE, \
         price decimal(10, 2) DEFAULT 0, r REAL DEFAULT -1.5, d double precision, \
         o INT REFERENCES other(id), p REFERENCES q, k TEXT NULL DEFAULT ('a' || 'b'), \
         s TEXT DEFAULT 'x' NOT NULL, n, PRIMARY KEY (id, name DESC), UNIQUE (name))",
        "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name VARCHAR(30) NOT NULL UNIQUE, \
         price DECIMAL(10, 2) DEFAULT 0, r REAL DEFAULT (-1.5), d DOUBLE PRECISION, \
         o INT REFERENCES other(id), p REFERENCES q, k TEXT DEFAULT ('a' || 'b'), \
         s TEXT NOT NULL DEFAULT 'x', n, PRIMARY KEY (id, name), UNIQUE (name))",
    );
    let Stmt::CreateTable(t) =
        statement("create table T (A int primary key desc, B text default null)").kind
    else {
        panic!()
    };
    assert_eq!(t.name.name, "t");
    assert!(t.columns[0].primary_key && !t.columns[0].not_null);
    let ty = t.columns[0].ty.as_ref().unwrap();
    assert_eq!((ty.name.as_str(), &ty.args[..]), ("INT", &[][..]));
    assert_eq!(
        t.columns[1].default.as_ref().unwrap().kind,
        ExprKind::Lit(Lit::Null)
    );
    assert_eq!(t.columns[1].span, 40..59);
}

#[test]
fn other_ddl() {
    check(
        "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a ASC, b DESC)",
        "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a, b)",
    );
    check("CREATE INDEX i ON t(a)", "CREATE INDEX i ON t (a)");
    check(
        "CREATE VIEW v AS SELECT a FROM t",
        "CREATE VIEW v AS SELECT a FROM t",
    );
    check("DROP TABLE IF EXISTS t", "DROP TABLE IF EXISTS t");
    check("drop index i", "DROP INDEX i");
    check("DROP VIEW v", "DROP VIEW v");
}

#[test]
fn dml() {
    check(
        "INSERT INTO t VALUES (1, 'a'), (2, NULL)",
        "INSERT INTO t VALUES (1, 'a'), (2, NULL)",
    );
    check(
        "INSERT INTO t(e,c) VALUES(103,102)",
        "INSERT INTO t (e, c) VALUES (103, 102)",
    );
    check(
        "INSERT INTO t (a, b) SELECT x, y FROM u",
        "INSERT INTO t (a, b) SELECT x, y FROM u",
    );
    check(
        "INSERT INTO t VALUES (1) UNION VALUES (2)",
        "INSERT INTO t VALUES (1) UNION VALUES (2)",
    );
    let Stmt::Insert(i) = statement("INSERT INTO t VALUES (1), (2)").kind else {
        panic!()
    };
    let InsertSource::Values(rows) = i.source else {
        panic!()
    };
    assert_eq!(rows[1].1, 26..29);
    let Stmt::Insert(i) = statement("INSERT INTO t VALUES (1) UNION VALUES (2)").kind else {
        panic!()
    };
    assert!(matches!(i.source, InsertSource::Query(_)));
    check(
        "UPDATE t SET a = a + 1, b = 'x' WHERE c IS NULL",
        "UPDATE t SET a = a + 1, b = 'x' WHERE c IS NULL",
    );
    check("DELETE FROM t WHERE a > 1", "DELETE FROM t WHERE a > 1");
    check("DELETE FROM t", "DELETE FROM t");
}

// ---- spans and scripts -------------------------------------------------------------------------

#[test]
fn spans() {
    let src = "SELECT a + 1 AS x FROM t WHERE (b)";
    let s = statement(src);
    assert_eq!(s.span, 0..src.len());
    let Stmt::Query(q) = s.kind else { panic!() };
    assert_eq!(q.span, 0..src.len());
    let SetExpr::Select(sel) = q.body else {
        panic!()
    };
    assert_eq!(sel.span, 0..src.len());
    let SelectItem::Expr { expr, alias } = &sel.items[0] else {
        panic!()
    };
    assert_eq!(&src[expr.span.clone()], "a + 1");
    let ExprKind::Binary { left, right, .. } = &expr.kind else {
        panic!()
    };
    assert_eq!((left.span.clone(), right.span.clone()), (7..8, 11..12));
    assert_eq!(alias.as_ref().unwrap().span, 16..17);
    let TableRef::Table { span, .. } = &sel.from[0].first else {
        panic!()
    };
    assert_eq!(&src[span.clone()], "t");
    // A parenthesised expression's span includes the parentheses.
    assert_eq!(&src[sel.where_.as_ref().unwrap().span.clone()], "(b)");
    let src = "WITH c AS (SELECT 1) SELECT * FROM c ORDER BY 1 DESC";
    let Stmt::Query(q) = statement(src).kind else {
        panic!()
    };
    let with = q.with.unwrap();
    assert_eq!(&src[with.span], "WITH c AS (SELECT 1)");
    assert_eq!(&src[with.ctes[0].span.clone()], "c AS (SELECT 1)");
    assert_eq!(&src[with.ctes[0].query.span.clone()], "SELECT 1");
    assert_eq!(&src[q.order_by[0].span.clone()], "1 DESC");
}

#[test]
fn scripts() {
    let src = ";; SELECT 1;\n select 2 ;;";
    let stmts = parse_script(src).unwrap();
    assert_eq!(stmts.len(), 2);
    assert_eq!(&src[stmts[0].span.clone()], "SELECT 1");
    assert_eq!(&src[stmts[1].span.clone()], "select 2");
    assert_eq!(parse_script("").unwrap(), Vec::new());
    assert_eq!(parse_script(" -- nothing\n ; ").unwrap(), Vec::new());
    assert!(parse_statement("SELECT 1;").is_ok());
    // Every statement's first error is reported.
    let diags = parse_script("SELECT FROM; SELECT 1; SELECT (").unwrap_err();
    assert_eq!(
        summary(&diags),
        "E0800 7..11: unexpected `FROM`\nE0012 31..31: unclosed `(`"
    );
}

// ---- errors ------------------------------------------------------------------------------------

#[test]
fn error_codes_and_spans() {
    check("SELECT FROM t", "E0800 7..11: unexpected `FROM`");
    check("SELECT 'abc", "E0002 11..11: unterminated string");
    check("SELECT (1", "E0012 9..9: unclosed `(`");
    check("SELECT 1)", "E0013 8..9: unmatched `)`");
    check("SELECT \"abc", "E0802 11..11: unterminated quoted name");
    check("SELECT [abc", "E0802 11..11: unterminated quoted name");
    check(
        "SELECT a FROM t INTERSECT ALL SELECT b FROM u",
        "E0803 16..29: `INTERSECT ALL` is not supported",
    );
    check(
        "SELECT a FROM t EXCEPT ALL SELECT b FROM u",
        "E0803 16..26: `EXCEPT ALL` is not supported",
    );
    check(
        "SELECT a FROM t ORDER BY a OFFSET 1",
        "E0804 27..33: `OFFSET` without `LIMIT`",
    );
    check(
        "SELECT 1; SELECT 2",
        "E0805 10..18: expected one statement, found several",
    );
    check("", "E0805 0..0: expected a statement, found none");
    check(" ; -- x", "E0805 0..7: expected a statement, found none");
    check(
        "CREATE TABLE t (a INT DEFAULT 1 DEFAULT 2)",
        "E0807 32..41: column `a` has more than one DEFAULT clause",
    );
    check("SELECT a FROM", "E0801 13..13: unexpected end of statement");
    check("SELECT 12ab", "E0006 7..11: invalid number `12ab`");
    check("SELECT 1.5x", "E0006 7..11: invalid number `1.5x`");
    check("SELECT a # b", "E0001 9..10: unexpected character `#`");
    check(
        "SELECT x'abc'",
        "E0808 7..13: malformed blob literal `x'abc'`",
    );
    check(
        "SELECT X'zz'",
        "E0808 7..12: malformed blob literal `X'zz'`",
    );
    check(
        "CREATE TABLE t (a INT) STRICTLY",
        "E0800 23..31: unexpected `strictly`",
    );
    check(
        "INSERT OR SOMETIMES INTO t VALUES (1)",
        "E0800 10..19: unexpected `sometimes`",
    );
    check("SELECT a FROM order", "E0800 14..19: unexpected `order`");
    check("SELECT 1 SELECT 2", "E0800 9..15: unexpected `SELECT`");
    check(
        "SELECT a FROM t LIMIT",
        "E0801 21..21: unexpected end of statement",
    );
    check("INSERT INTO t", "E0801 13..13: unexpected end of statement");
}

/// The whole diagnostic of `input`: message, labels and help.
fn diagnostic(input: &str) -> Diagnostic {
    let mut d = parse_statement(input).unwrap_err();
    assert_eq!(d.len(), 1, "{}", summary(&d));
    d.remove(0)
}

#[test]
fn error_messages() {
    let d = diagnostic("SELECT FROM t");
    assert_eq!(
        d.labels[0].message,
        "expected an expression, `*`, `ALL` or `DISTINCT`"
    );
    let d = diagnostic("SELECT a FROM order");
    assert_eq!(d.labels[0].message, "expected a name or `(`");
    assert_eq!(
        d.help.as_deref(),
        Some("`ORDER` is a reserved word; to use it as a name, quote it: \"order\"")
    );
    let d = diagnostic("SELECT 1 SELECT 2");
    assert_eq!(
        d.help.as_deref(),
        Some("end the statement before this one with `;`")
    );
    let d = diagnostic("SELECT a FROM");
    assert_eq!(d.help.as_deref(), Some("expected a name or `(`"));
    let d = diagnostic("SELECT 'abc");
    assert_eq!(d.labels[1].span, 7..8);
    let d = diagnostic("SELECT a FROM t INTERSECT ALL SELECT b FROM u");
    assert!(d.help.unwrap().contains("only `UNION ALL`"));
    let d = diagnostic("SELECT name FROM r_emp ORDER BY name OFFSET 1");
    assert!(d.help.unwrap().contains("LIMIT -1 OFFSET"));
}

#[test]
fn depth_limits() {
    let deep = format!("SELECT {}1{}", "(".repeat(300), ")".repeat(300));
    check(
        &deep,
        "E0009 263..264: brackets nest more than 256 levels deep",
    );
    let ok = format!("SELECT {}1{}", "(".repeat(250), ")".repeat(250));
    check(&ok, "SELECT 1");
    let long = format!("SELECT 1{}", " + 1".repeat(600));
    assert!(summary(&parse_statement(&long).unwrap_err()).starts_with("E0806"));
    let nots = format!("SELECT {}1", "NOT ".repeat(2000));
    assert!(summary(&parse_statement(&nots).unwrap_err()).starts_with("E0806"));
    let unions = format!("SELECT 1{}", " UNION SELECT 1".repeat(600));
    assert!(summary(&parse_statement(&unions).unwrap_err()).starts_with("E0806"));
    // Operators inside parentheses add to those outside.
    let nested = format!("SELECT {}1{}", "1 + 1 + 1 + (".repeat(200), ")".repeat(200));
    assert!(summary(&parse_statement(&nested).unwrap_err()).starts_with("E0806"));
    // The deepest accepted trees print, compare, clone and drop within a test thread's stack
    // (2 MB by default), also in a debug build.
    for fine in [
        format!("SELECT 1{}", " + 1".repeat(MAX_EXPR_DEPTH - 2)),
        format!(
            "SELECT 1{}",
            " UNION SELECT 1, 2".repeat(MAX_EXPR_DEPTH - 2)
        ),
        format!("SELECT {}1{}", "(SELECT ".repeat(250), ")".repeat(250)),
        format!("SELECT {}1{}", "- (".repeat(240), ")".repeat(240)),
    ] {
        assert_round_trip(&statement(&fine));
    }
    // Long lists are not deep.
    let wide = format!("SELECT {}", vec!["a + 1"; 3000].join(", "));
    assert!(parse_statement(&wide).is_ok());
    let rows = format!(
        "INSERT INTO t VALUES {}",
        vec!["(1 + 2, 'x')"; 3000].join(", ")
    );
    assert!(parse_statement(&rows).is_ok());
}

#[test]
fn no_panics() {
    let garbage = [
        "",
        ";",
        "(",
        ")",
        "'",
        "\"",
        "`",
        "[",
        "]",
        "--",
        "/*",
        "*/",
        "-",
        ".",
        "..",
        "1.2.3",
        "SELECT",
        "SELECT *",
        "SELECT * FROM",
        "SELECT a.",
        "SELECT a.*.b",
        "CASE",
        "CASE END",
        "SELECT CASE WHEN",
        "SELECT f(",
        "SELECT f(*",
        "SELECT count(DISTINCT)",
        "CREATE TABLE",
        "CREATE TABLE t (",
        "CREATE TABLE t ()",
        "INSERT INTO t VALUES",
        "INSERT INTO t VALUES ()",
        "UPDATE t SET",
        "WITH",
        "WITH a AS",
        "SELECT 1 OVER",
        "SELECT f() OVER (",
        "é",
        "SELECT é",
        "SELECT \u{0}",
        "SELECT 99999999999999999999999999999999999999",
        "SELECT 1e999",
        "SELECT x'00'",
        "SELECT ?",
        "SELECT a IS",
        "SELECT a NOT",
        "SELECT a BETWEEN 1",
        "SELECT a IN",
        "SELECT a IN (",
        "LIMIT 1",
        "OFFSET 1",
        "ORDER BY a",
        "DROP",
        "DROP TABLE",
        "SELECT 1 UNION",
        "VALUES",
        "VALUES (",
        "SELECT * FROM a JOIN",
        "SELECT * FROM a JOIN b USING",
    ];
    for g in garbage {
        for f in [parse_statement, |s: &str| {
            parse_script(s).map(|_| Statement {
                kind: Stmt::Query(SqlQuery {
                    with: None,
                    body: SetExpr::Values(Vec::new(), 0..0),
                    order_by: Vec::new(),
                    limit: None,
                    span: 0..0,
                }),
                span: 0..0,
            })
        }] {
            if let Err(d) = f(g) {
                for d in &d {
                    assert!(
                        d.code.starts_with('E') && !d.labels.is_empty(),
                        "{g:?}: {d:?}"
                    );
                    for l in &d.labels {
                        assert!(
                            l.span.start <= l.span.end && l.span.end <= g.len(),
                            "{g:?}: {d:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn prefixes_and_corruptions_never_panic() {
    let sample = "WITH RECURSIVE n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3)\n\
        SELECT DISTINCT t.*, -a * b AS c, CASE WHEN a BETWEEN 1 AND 2 THEN 'x''y' ELSE NULL END,\n\
        count(*) OVER (ORDER BY a), CAST(b AS VARCHAR(3)) FROM t LEFT JOIN \"U\" u USING (a)\n\
        WHERE a NOT IN (SELECT b FROM [v]) AND b IS NOT NULL OR c LIKE '%' ESCAPE '!' /* c */\n\
        GROUP BY a HAVING count(*) > 1.5e1 ORDER BY 1 DESC LIMIT 3, 4; -- done\n\
        CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT DEFAULT 'x' NOT NULL, UNIQUE (b));\n\
        INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b'); UPDATE t SET b = b || '!' WHERE a = 1;";
    assert_eq!(parse_script(sample).unwrap().len(), 4);
    for (i, c) in sample.char_indices() {
        let _ = parse_script(&sample[..i]);
        for replacement in ["", "'", "(", ")", "\"", "[", "-", "é", "`", ";", "NOT "] {
            let mut s = String::with_capacity(sample.len() + 4);
            s.push_str(&sample[..i]);
            s.push_str(replacement);
            s.push_str(&sample[i + c.len_utf8()..]);
            if let Ok(stmts) = parse_script(&s) {
                for st in &stmts {
                    assert_round_trip(st);
                }
            }
        }
    }
}

#[test]
fn references_given_twice() {
    check(
        "CREATE TABLE t (a INT REFERENCES u REFERENCES v(x))",
        "E0807 35..50: column `a` has more than one REFERENCES clause",
    );
}

/// Each statement of a script is parsed on its own, so every statement reports its first
/// error and the good statements between them do not hide them.
#[test]
fn script_reports_each_statements_first_error() {
    let actual = match parse_script("SELECT 1 +; SELECT 2; SELECT FROM t; SELECT (1") {
        Ok(stmts) => format!("{} statements", stmts.len()),
        Err(diags) => summary(&diags),
    };
    assert_eq!(
        actual,
        "E0801 10..10: unexpected end of statement\nE0800 29..33: unexpected `FROM`\nE0012 46..46: unclosed `(`"
    );
}

#[test]
fn sqlite_suite_syntax_parses_and_prints_back() {
    check_expr("COUNT(ALL x)", "count(x)");
    check_expr("x'303132'", "X'303132'");
    check_expr("1 << 63 | 2 & ~ 3 >> 1", "1 << 63 | 2 & ~3 >> 1");
    check_expr("a + 1 << 2 < 3", "a + 1 << 2 < 3");
    check_expr("(a < b) & 1", "(a < b) & 1");
    check_expr("replace(a, 'x', 'y')", "\"replace\"(a, 'x', 'y')");
    check(
        "SELECT * FROM ( tab1 AS cor0 CROSS JOIN tab2 AS cor1 )",
        "SELECT * FROM (tab1 AS cor0 CROSS JOIN tab2 AS cor1)",
    );
    check(
        "SELECT * FROM (a, b JOIN (c) ON 1) LEFT JOIN d ON 2",
        "SELECT * FROM (a CROSS JOIN b JOIN (c) ON 1) LEFT JOIN d ON 2",
    );
    check(
        "SELECT x FROM t1 NOT INDEXED WHERE x IN t2",
        "SELECT x FROM t1 NOT INDEXED WHERE x IN (SELECT * FROM t2)",
    );
    check(
        "SELECT x FROM t1 AS a INDEXED BY i1",
        "SELECT x FROM t1 AS a INDEXED BY i1",
    );
    check(
        "CREATE TEMPORARY VIEW IF NOT EXISTS v (a, b) AS SELECT 1, 2",
        "CREATE TEMP VIEW IF NOT EXISTS v (a, b) AS SELECT 1, 2",
    );
    check("DROP TRIGGER IF EXISTS t1r1", "DROP TRIGGER IF EXISTS t1r1");
    check("REINDEX", "REINDEX");
    check("REINDEX t1i1", "REINDEX t1i1");
    check(
        "REPLACE INTO t1 VALUES (2, 'replace')",
        "INSERT OR REPLACE INTO t1 VALUES (2, 'replace')",
    );
    check(
        "INSERT OR IGNORE INTO t1 (x) VALUES (2)",
        "INSERT OR IGNORE INTO t1 (x) VALUES (2)",
    );
    check(
        "CREATE TABLE r (name TEXT, pay INTEGER) STRICT",
        "CREATE TABLE r (name TEXT, pay INTEGER) STRICT",
    );
}

#[test]
fn a_trigger_keeps_the_semicolons_of_its_body() {
    let script = "CREATE TRIGGER t1r1 BEFORE UPDATE OF x, y ON t1 FOR EACH ROW WHEN 1 BEGIN \
                  SELECT CASE 1 WHEN 1 THEN 2 END; SELECT 2; END; SELECT 3";
    let statements = parse_script(script).unwrap_or_else(|d| panic!("{}", summary(&d)));
    assert_eq!(statements.len(), 2);
    assert_eq!(
        statements[0].to_string(),
        "CREATE TRIGGER t1r1 BEFORE UPDATE OF x, y ON t1 FOR EACH ROW WHEN 1 BEGIN \
         SELECT CASE 1 WHEN 1 THEN 2 END; SELECT 2; END"
    );
    assert_round_trip(&statements[0]);
    let Stmt::CreateTrigger(t) = &statements[0].kind else {
        panic!("not a trigger")
    };
    assert_eq!(t.body.len(), 2);
    check(
        "CREATE TEMP TRIGGER t AFTER DELETE ON t1 BEGIN SELECT 1; END",
        "CREATE TEMP TRIGGER t AFTER DELETE ON t1 BEGIN SELECT 1; END",
    );
    check(
        "CREATE TRIGGER t INSTEAD OF INSERT ON v BEGIN SELECT 1; END",
        "CREATE TRIGGER t INSTEAD OF INSERT ON v BEGIN SELECT 1; END",
    );
    assert!(
        summary(
            &parse_statement("CREATE TRIGGER t SOON DELETE ON t1 BEGIN SELECT 1; END").unwrap_err()
        )
        .starts_with("E0800")
    );
}
