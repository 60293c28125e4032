//! The pieces the SQL grammar's actions build the tree with (`sql.lalrpop` imports them):
//! folding column constraints, telling `IS NULL` from `IS`, splitting `INSERT … VALUES`, and
//! reporting the syntax SQLite refuses (`INTERSECT ALL`, `EXCEPT ALL`, `OFFSET` without `LIMIT`,
//! a column constraint given twice) while still returning a tree.
//!
//! They live outside the grammar file so that they are ordinary, checked Rust. A function that
//! reports pushes onto the parser's `diags`, and the statement then fails as a whole.

use crate::diag::Diagnostic;
use crate::span::Span;
use crate::sql_syntax::ast::{
    BinOp, ColumnDef, Conflict, Expr, ExprKind, FromItem, Ident, InsertSource, Limit, Lit, Select,
    SelectItem, SetExpr, SetOp, SqlQuery, TableRef, TriggerTiming, TypeName, UnOp,
};

/// A column constraint as written; [`build_column`] folds a list of them into a [`ColumnDef`].
pub(crate) enum ColCons {
    PrimaryKey,
    NotNull,
    /// `NULL`: allowed, and the default.
    Null,
    Unique,
    References(Ident, Option<Ident>, Span),
    Default(Expr, Span),
}

pub(crate) fn build_column(
    name: Ident,
    ty: Option<TypeName>,
    constraints: Vec<ColCons>,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> ColumnDef {
    let mut col = ColumnDef {
        name,
        ty,
        primary_key: false,
        not_null: false,
        unique: false,
        references: None,
        default: None,
        span,
    };
    let twice = |what: &str, span: Span, col: &Ident| {
        Diagnostic::error(
            "E0807",
            format!("column `{}` has more than one {what} clause", col.name),
        )
        .with_label(span, "second clause")
        .with_help(format!("keep one {what} clause"))
    };
    for c in constraints {
        match c {
            ColCons::PrimaryKey => col.primary_key = true,
            ColCons::NotNull => col.not_null = true,
            ColCons::Null => {}
            ColCons::Unique => col.unique = true,
            ColCons::References(table, column, span) => {
                if col.references.is_some() {
                    diags.push(twice("REFERENCES", span, &col.name));
                }
                col.references = Some((table, column));
            }
            ColCons::Default(e, span) => {
                if col.default.is_some() {
                    diags.push(twice("DEFAULT", span, &col.name));
                }
                col.default = Some(e);
            }
        }
    }
    col
}

/// `INSERT … VALUES (…)` is read as a query (so that `VALUES` can also start a compound query
/// there); a plain `VALUES` list becomes [`InsertSource::Values`].
pub(crate) fn insert_source(query: SqlQuery) -> InsertSource {
    match query {
        SqlQuery {
            with: None,
            body: SetExpr::Values(rows, _),
            order_by,
            limit: None,
            ..
        } if order_by.is_empty() => InsertSource::Values(rows),
        q => InsertSource::Query(Box::new(q)),
    }
}

pub(crate) fn bin(op: BinOp, left: Expr, right: Expr, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    }
}

/// `a IS [NOT] b`: an [`ExprKind::IsNull`] when `b` is NULL (also `(NULL)`), else an
/// [`ExprKind::Is`].
pub(crate) fn is_expr(left: Expr, right: Expr, negated: bool, span: Span) -> Expr {
    let kind = if right.kind == ExprKind::Lit(Lit::Null) {
        ExprKind::IsNull {
            expr: Box::new(left),
            negated,
        }
    } else {
        ExprKind::Is {
            left: Box::new(left),
            right: Box::new(right),
            negated,
        }
    };
    Expr { kind, span }
}

/// `- e`. The literal `9223372036854775808` lexes as a float (it does not fit in an `i64`);
/// directly negated it is `i64::MIN`, as in SQLite, so `-9223372036854775808` is
/// `Lit::Int(i64::MIN)`. Every other negation stays a [`UnOp::Neg`].
pub(crate) fn negate(src: &str, e: Expr, span: Span) -> Expr {
    if matches!(e.kind, ExprKind::Lit(Lit::Float(_)))
        && src.get(e.span.clone()) == Some("9223372036854775808")
    {
        return Expr {
            kind: ExprKind::Lit(Lit::Int(i64::MIN)),
            span,
        };
    }
    Expr {
        kind: ExprKind::Unary {
            op: UnOp::Neg,
            expr: Box::new(e),
        },
        span,
    }
}

/// Reports `INTERSECT ALL` / `EXCEPT ALL` (E0803) and returns the operator for the tree.
pub(crate) fn refused_all(
    op: SetOp,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> (SetOp, bool, Span) {
    let name = match op {
        SetOp::Union => "UNION",
        SetOp::Intersect => "INTERSECT",
        SetOp::Except => "EXCEPT",
    };
    diags.push(
        Diagnostic::error("E0803", format!("`{name} ALL` is not supported"))
            .with_label(span.clone(), format!("`{name} ALL` here"))
            .with_help(format!(
                "SQLite has no `{name} ALL` (only `UNION ALL`); `{name}` removes duplicates"
            )),
    );
    (op, true, span)
}

/// Reports `OFFSET` without `LIMIT` (E0804) and returns a limit for the tree.
pub(crate) fn offset_without_limit(
    offset: Expr,
    keyword: Span,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Limit {
    diags.push(
        Diagnostic::error("E0804", "`OFFSET` without `LIMIT`")
            .with_label(keyword.clone(), "`OFFSET` needs a `LIMIT` before it")
            .with_help("write `LIMIT -1 OFFSET n` to skip rows without limiting them"),
    );
    Limit {
        limit: Expr {
            kind: ExprKind::Lit(Lit::Null),
            span: keyword.start..keyword.start,
        },
        offset: Some(offset),
        span,
    }
}

/// Checks that the contextual words in `words` (identifiers such as `before`, `each`, `strict`)
/// are `expected`, in order; reports the first that is not (E0800) and returns whether all were.
pub(crate) fn words_are(
    words: &[(usize, String, usize)],
    expected: &[&str],
    diags: &mut Vec<Diagnostic>,
) -> bool {
    for (i, (lo, w, hi)) in words.iter().enumerate() {
        if expected.get(i).is_none_or(|e| !w.eq_ignore_ascii_case(e)) {
            let want = expected.get(i).map_or("nothing more".to_string(), |e| {
                format!("`{}`", e.to_uppercase())
            });
            diags.push(
                Diagnostic::error("E0800", format!("unexpected `{w}`"))
                    .with_label(*lo..*hi, format!("expected {want} here")),
            );
            return false;
        }
    }
    if words.len() < expected.len() {
        let at = words.last().map_or(0, |w| w.2);
        diags.push(
            Diagnostic::error(
                "E0800",
                format!("expected `{}`", expected[words.len()].to_uppercase()),
            )
            .with_label(at..at, "missing here"),
        );
        return false;
    }
    true
}

/// The timing words of a trigger (`BEFORE`, `AFTER`, `INSTEAD OF`, or none).
pub(crate) fn trigger_timing(
    words: &[(usize, String, usize)],
    diags: &mut Vec<Diagnostic>,
) -> TriggerTiming {
    match words.first().map(|w| w.1.as_str()) {
        None => TriggerTiming::Default,
        Some("before") if words_are(words, &["before"], diags) => TriggerTiming::Before,
        Some("after") if words_are(words, &["after"], diags) => TriggerTiming::After,
        Some("instead") if words_are(words, &["instead", "of"], diags) => TriggerTiming::InsteadOf,
        Some(_) => {
            if diags.is_empty() {
                words_are(&words[..1], &["before"], diags);
            }
            TriggerTiming::Default
        }
    }
}

/// The conflict clause word after `INSERT OR` (`IGNORE`, `ABORT`, `FAIL`, `ROLLBACK`).
pub(crate) fn conflict_word(
    lo: usize,
    word: &str,
    hi: usize,
    diags: &mut Vec<Diagnostic>,
) -> Conflict {
    match word {
        "ignore" => Conflict::Ignore,
        "abort" => Conflict::Abort,
        "fail" => Conflict::Fail,
        "rollback" => Conflict::Rollback,
        _ => {
            diags.push(
                Diagnostic::error("E0800", format!("unexpected `{word}`")).with_label(
                    lo..hi,
                    "expected REPLACE, IGNORE, ABORT, FAIL or ROLLBACK after INSERT OR",
                ),
            );
            Conflict::Abort
        }
    }
}

/// `x [NOT] IN table`: SQLite's shorthand for `x [NOT] IN (SELECT * FROM table)`.
pub(crate) fn in_table(expr: Expr, table: Ident, negated: bool, span: Span) -> Expr {
    let tspan = table.span.clone();
    let select = Select {
        distinct: false,
        items: vec![SelectItem::Wildcard(tspan.clone())],
        from: vec![FromItem {
            first: TableRef::Table {
                name: table,
                alias: None,
                indexed: None,
                span: tspan.clone(),
            },
            joins: Vec::new(),
        }],
        where_: None,
        group_by: Vec::new(),
        having: None,
        span: tspan.clone(),
    };
    let query = SqlQuery {
        with: None,
        body: SetExpr::Select(Box::new(select)),
        order_by: Vec::new(),
        limit: None,
        span: tspan,
    };
    Expr {
        kind: ExprKind::InSubquery {
            expr: Box::new(expr),
            query: Box::new(query),
            negated,
        },
        span,
    }
}
