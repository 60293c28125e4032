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
    BinOp, ColumnDef, Expr, ExprKind, Ident, InsertSource, Limit, Lit, SetExpr, SetOp, SqlQuery,
    TypeName, UnOp,
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
