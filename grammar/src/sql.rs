//! The SQL subset (ARCHITECTURE §6, the SQL conformance README): a logos lexer (`sql/lexer.rs`) and a
//! lalrpop grammar (`sql/sql.lalrpop`) producing the syntax tree below, with byte spans.
//!
//! The tree is what was written, nothing more: names are not resolved, types not checked, and
//! constructs that parse but lie outside the subset (RIGHT/FULL/NATURAL joins, `USING`, window
//! functions, `CREATE VIEW`, …) are kept in the tree so that the compiler can reject them with
//! a diagnostic that names them. What SQLite itself rejects as a syntax error (`INTERSECT ALL`,
//! `EXCEPT ALL`, `OFFSET` without `LIMIT`) is a parse error here too, with a message that names
//! it. Unquoted identifiers and keywords are case-insensitive: identifiers are kept in lower
//! case; quoted ones (`"Name"`, `` `Name` ``, `[Name]`) as written.
//!
//! Syntax and precedence are SQLite's (<https://www.sqlite.org/lang_expr.html>), lowest first:
//! `OR`; `AND`; prefix `NOT`; `= == != <> IS [NOT] [DISTINCT FROM] IN LIKE BETWEEN ISNULL
//! NOTNULL NOT NULL`; `< <= > >=`; `+ -`; `* / %`; `||`; prefix `- +`. Binary operators are
//! left-associative.
//!
//! Parsing ([`parse_script`], [`parse_statement`]) lexes the whole input, splits the tokens at
//! `;` (empty statements are dropped), and for each statement checks that parentheses balance
//! and that nothing nests too deeply — at most 256 nested parentheses and an estimated
//! [`MAX_EXPR_DEPTH`] levels of operators — so that no recursive walk over the tree (printing,
//! dropping, compiling) can overflow the stack; only then does the lalrpop parser run. Every
//! statement's first syntax error is reported. The tree prints back (`Display`) to SQL text
//! that parses to an equal tree modulo spans: operands are parenthesised where precedence
//! requires it (not everywhere: a fully parenthesised 300-term `OR` chain would nest deeper than
//! the input may), names are quoted where needed, `LIMIT m, n` prints as `LIMIT n OFFSET m`,
//! and a window prints as `OVER ()` (only its span is kept).
//!
//! Diagnostic codes (the shared lexer and bracket codes `E0001` unexpected character, `E0002`
//! unterminated string, `E0006` malformed number, `E0009` nesting too deep, `E0012` unclosed
//! and `E0013` unmatched parenthesis appear too):
//!
//! | code  | meaning |
//! |-------|---------|
//! | E0800 | syntax error: unexpected token (names what was expected; a reserved word used as a name gets a help line) |
//! | E0801 | unexpected end of statement |
//! | E0802 | unterminated quoted name (`"…`, `` `… ``, `[…`) |
//! | E0803 | `INTERSECT ALL` / `EXCEPT ALL` (not SQL that SQLite accepts) |
//! | E0804 | `OFFSET` without `LIMIT` |
//! | E0805 | [`parse_statement`]: no statement, or more than one |
//! | E0806 | an expression or compound query nests too deeply (more than [`MAX_EXPR_DEPTH`] operators along one path) |
//! | E0807 | a column constraint given twice (`DEFAULT`, `REFERENCES`) |

use crate::diag::Diagnostic;
use crate::lex::{Delim, LexError, check_delims, float_literal, snippet};
use crate::span::Span;
use lalrpop_util::ParseError;
use lexer::{Kw, Tok};

pub(crate) mod lexer;

lalrpop_util::lalrpop_mod!(
    // The generated parser imports `Kw` at its top level too, where only the token patterns of
    // the inner modules need it.
    #[allow(clippy::all, unused_parens, unused_imports)]
    grammar,
    "/sql/sql.rs"
);

/// A name (table, column, alias, function, index), lower-cased unless it was quoted.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One statement of a script, with the span of its whole text (without the `;`).
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub kind: Stmt,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    CreateTable(CreateTable),
    CreateIndex(CreateIndex),
    /// `CREATE VIEW name AS query`: parsed so that it can be refused by name.
    CreateView {
        name: Ident,
        query: Box<Query>,
    },
    /// `DROP TABLE [IF EXISTS] name` / `DROP INDEX [IF EXISTS] name`.
    Drop {
        what: DropKind,
        if_exists: bool,
        name: Ident,
    },
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    Query(Query),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropKind {
    Table,
    Index,
    View,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateTable {
    pub name: Ident,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnDef>,
    pub constraints: Vec<TableConstraint>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDef {
    pub name: Ident,
    pub ty: Option<TypeName>,
    pub primary_key: bool,
    pub not_null: bool,
    pub unique: bool,
    /// `REFERENCES table[(column)]`
    pub references: Option<(Ident, Option<Ident>)>,
    pub default: Option<Expr>,
    pub span: Span,
}

/// A type name as written: `INTEGER`, `VARCHAR(40)`, `DOUBLE PRECISION`. `name` is upper-case,
/// words joined by one space; `args` are the numbers in parentheses.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeName {
    pub name: String,
    pub args: Vec<i64>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TableConstraint {
    PrimaryKey(Vec<Ident>, Span),
    Unique(Vec<Ident>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateIndex {
    pub unique: bool,
    pub if_not_exists: bool,
    pub name: Ident,
    pub table: Ident,
    /// Indexed columns; `ASC`/`DESC` after a column are accepted and ignored.
    pub columns: Vec<Ident>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Insert {
    pub table: Ident,
    pub columns: Option<Vec<Ident>>,
    pub source: InsertSource,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InsertSource {
    /// `VALUES (…), (…)`: one vector per row, with the row's span.
    Values(Vec<(Vec<Expr>, Span)>),
    Query(Box<Query>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    pub table: Ident,
    pub sets: Vec<(Ident, Expr)>,
    pub where_: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Delete {
    pub table: Ident,
    pub where_: Option<Expr>,
}

/// A full query: `[WITH …] body [ORDER BY …] [LIMIT …]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub with: Option<With>,
    pub body: SetExpr,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<Limit>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct With {
    pub recursive: bool,
    pub ctes: Vec<Cte>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cte {
    pub name: Ident,
    pub columns: Option<Vec<Ident>>,
    pub query: Box<Query>,
    pub span: Span,
}

/// A compound select. Operators are left-associative with equal precedence (SQLite).
#[derive(Clone, Debug, PartialEq)]
pub enum SetExpr {
    Select(Box<Select>),
    /// `VALUES (…), (…)` as a query.
    Values(Vec<(Vec<Expr>, Span)>, Span),
    SetOp {
        op: SetOp,
        /// `UNION ALL`. (`INTERSECT ALL` / `EXCEPT ALL` are syntax errors, E0803, so a parsed tree
        /// has `all` only on `UNION`.)
        all: bool,
        left: Box<SetExpr>,
        right: Box<SetExpr>,
        /// The span of the operator keyword(s).
        op_span: Span,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Intersect,
    Except,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    pub distinct: bool,
    pub items: Vec<SelectItem>,
    /// The comma-separated FROM list; each element may carry a chain of joins.
    pub from: Vec<FromItem>,
    pub where_: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SelectItem {
    /// `*`
    Wildcard(Span),
    /// `t.*`
    QualifiedWildcard(Ident, Span),
    Expr {
        expr: Expr,
        alias: Option<Ident>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct FromItem {
    pub first: TableRef,
    pub joins: Vec<Join>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TableRef {
    Table {
        name: Ident,
        alias: Option<Ident>,
        span: Span,
    },
    /// `(query) [AS] alias`
    Derived {
        query: Box<Query>,
        alias: Option<Ident>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    pub kind: JoinKind,
    /// `NATURAL` was written.
    pub natural: bool,
    pub table: TableRef,
    pub on: Option<Expr>,
    /// `USING (a, b)`, refused by the compiler.
    pub using: Option<Vec<Ident>>,
    /// The span of the join keywords.
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// `JOIN` / `INNER JOIN`
    Inner,
    /// `LEFT [OUTER] JOIN`
    Left,
    /// `RIGHT [OUTER] JOIN` (refused)
    Right,
    /// `FULL [OUTER] JOIN` (refused)
    Full,
    /// `CROSS JOIN`
    Cross,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderItem {
    pub expr: Expr,
    pub desc: bool,
    pub span: Span,
}

/// `LIMIT n [OFFSET m]` or SQLite's `LIMIT m, n` (normalised to `limit = n`, `offset = m`).
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    pub limit: Expr,
    pub offset: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    /// `||`
    Concat,
    /// `=` or `==`
    Eq,
    /// `<>` or `!=`
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FuncArgs {
    /// `count(*)`
    Star,
    List(Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Lit(Lit),
    /// `[table.]name`
    Column {
        table: Option<Ident>,
        name: Ident,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `e IS [NOT] NULL`, `e ISNULL`, `e NOTNULL`
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `a IS [NOT] b` (null-safe equality) where `b` is not the literal NULL. SQLite's
    /// `a IS DISTINCT FROM b` is read as `a IS NOT b`, and `IS NOT DISTINCT FROM` as `IS`.
    Is {
        left: Box<Expr>,
        right: Box<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    InSubquery {
        expr: Box<Expr>,
        query: Box<Query>,
        negated: bool,
    },
    /// `EXISTS (query)`; `NOT EXISTS` is `Unary { Not, Exists }`.
    Exists(Box<Query>),
    /// A scalar subquery `(query)`.
    Subquery(Box<Query>),
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
        escape: Option<Box<Expr>>,
    },
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    Cast {
        expr: Box<Expr>,
        ty: TypeName,
    },
    Func {
        name: Ident,
        distinct: bool,
        args: FuncArgs,
        /// `OVER (…)` was written (a window function, refused by the compiler): its span.
        over: Option<Span>,
    },
}

// ---- parsing ---------------------------------------------------------------------------------

/// The most operators (and expression keywords such as `CASE`, `IN`, `UNION`) that may lie on one
/// path from a statement's root to a leaf, counted per parenthesis level before parsing; see
/// `check_depth`. The SQLite test corpora need about 130; SQLite's own expression depth limit
/// is 1000, but a debug build printing a 1000-deep expression overflows a 2 MB thread stack.
pub const MAX_EXPR_DEPTH: usize = 500;

type Spanned<'a> = (usize, Tok<'a>, usize);

/// Parses a script: statements separated by `;`, with an optional trailing `;`; empty
/// statements are ignored. Reports every lexer error, or for each statement its bracket and
/// depth errors or its first syntax error.
pub fn parse_script(src: &str) -> Result<Vec<Statement>, Vec<Diagnostic>> {
    let tokens = lex_all(src)?;
    let parser = grammar::StatementParser::new();
    let mut statements = Vec::new();
    let mut diags = Vec::new();
    for chunk in split_statements(tokens) {
        match parse_chunk(&parser, src, chunk) {
            Ok(s) => statements.push(s),
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        Ok(statements)
    } else {
        Err(diags)
    }
}

/// Parses exactly one statement (a trailing `;` is allowed).
pub fn parse_statement(src: &str) -> Result<Statement, Vec<Diagnostic>> {
    let tokens = lex_all(src)?;
    let mut chunks = split_statements(tokens);
    match chunks.len() {
        0 => Err(vec![
            Diagnostic::error("E0805", "expected a statement, found none")
                .with_label(0..src.len(), "no statement here"),
        ]),
        1 => {
            let parser = grammar::StatementParser::new();
            parse_chunk(&parser, src, chunks.pop().unwrap_or_default())
        }
        _ => {
            let first = chunk_span(&chunks[0]);
            let second = chunk_span(&chunks[1]);
            Err(vec![
                Diagnostic::error("E0805", "expected one statement, found several")
                    .with_label(second, "a second statement starts here")
                    .with_label(first, "the first statement")
                    .with_help("pass the statements one at a time, or parse them as a script"),
            ])
        }
    }
}

fn lex_all(src: &str) -> Result<Vec<Spanned<'_>>, Vec<Diagnostic>> {
    lexer::lex(src).map_err(|errs| errs.iter().map(|e| e.to_diagnostic(src)).collect())
}

/// Splits the tokens at `;`, dropping empty statements.
fn split_statements(tokens: Vec<Spanned<'_>>) -> Vec<Vec<Spanned<'_>>> {
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    for t in tokens {
        if t.1 == Tok::Semi {
            if !current.is_empty() {
                chunks.push(std::mem::take(&mut current));
            }
        } else {
            current.push(t);
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn chunk_span(chunk: &[Spanned<'_>]) -> Span {
    match (chunk.first(), chunk.last()) {
        (Some(first), Some(last)) => first.0..last.2,
        _ => 0..0,
    }
}

fn parse_chunk(
    parser: &grammar::StatementParser,
    src: &str,
    chunk: Vec<Spanned<'_>>,
) -> Result<Statement, Vec<Diagnostic>> {
    let delims = check_delims(
        src,
        chunk.iter().map(|(lo, t, hi)| {
            let d = match t {
                Tok::LParen => Delim::Open {
                    open: "(",
                    close: ")",
                },
                Tok::RParen => Delim::Close(")"),
                _ => Delim::Other,
            };
            (*lo..*hi, d)
        }),
    );
    if !delims.is_empty() {
        return Err(delims);
    }
    if let Some(d) = check_depth(&chunk) {
        return Err(vec![d]);
    }
    let mut diags = Vec::new();
    let result = parser.parse(
        src,
        &mut diags,
        chunk.iter().cloned().map(Ok::<_, LexError>),
    );
    match result {
        Ok(statement) if diags.is_empty() => Ok(statement),
        Ok(_) => Err(diags),
        Err(e) => {
            diags.push(syntax_error(parser, src, &chunk, e));
            Err(diags)
        }
    }
}

/// Bounds the depth of the tree a statement can produce, before it is built. Within one
/// parenthesis level, an expression never spans a comma (commas separate list elements), so
/// the operators of one comma-separated segment bound that segment's depth; compound-query
/// operators (`UNION` …) do span commas and are counted for the whole level. A closed inner
/// level adds its own bound to its segment. The estimate is an upper bound on the number of
/// nested operators, which is what the limit is about.
fn check_depth(chunk: &[Spanned<'_>]) -> Option<Diagnostic> {
    #[derive(Default)]
    struct Level {
        set_ops: usize,
        segment: usize,
        segment_children: usize,
        best_segment: usize,
    }
    impl Level {
        fn bound(&self) -> usize {
            self.set_ops + self.best_segment.max(self.segment + self.segment_children)
        }
    }
    let mut levels = vec![Level::default()];
    for (lo, tok, hi) in chunk {
        match tok {
            Tok::LParen => levels.push(Level::default()),
            // The brackets balance (checked before), so the outermost level is never popped.
            Tok::RParen if levels.len() > 1 => {
                let inner = levels.pop().map_or(0, |l| l.bound() + 1);
                if let Some(outer) = levels.last_mut() {
                    outer.segment_children = outer.segment_children.max(inner);
                }
            }
            Tok::Comma => {
                if let Some(l) = levels.last_mut() {
                    l.best_segment = l.best_segment.max(l.segment + l.segment_children);
                    l.segment = 0;
                    l.segment_children = 0;
                }
            }
            t if t.is_set_op() => {
                if let Some(l) = levels.last_mut() {
                    l.set_ops += 1;
                }
            }
            t if t.nests() => {
                if let Some(l) = levels.last_mut() {
                    l.segment += 1;
                }
            }
            _ => {}
        }
        let estimate: usize = levels.iter().map(|l| l.bound() + 1).sum();
        if estimate > MAX_EXPR_DEPTH {
            return Some(
                Diagnostic::error(
                    "E0806",
                    format!("the statement nests more than {MAX_EXPR_DEPTH} operators deep"),
                )
                .with_label(*lo..*hi, "too deeply nested here")
                .with_help(
                    "split the expression or the compound query; a WITH clause can name the parts",
                ),
            );
        }
    }
    None
}

/// Terminals that can start an expression (as lalrpop names them, without quotes).
const EXPR_START: &[&str] = &[
    "(",
    "+",
    "-",
    "integer",
    "float",
    "string",
    "NULL",
    "TRUE",
    "FALSE",
    "identifier",
    "quoted name",
    "KEY",
    "VIEW",
    "NOT",
    "EXISTS",
    "CASE",
    "CAST",
];

/// Terminals that can be a name.
const NAME_START: &[&str] = &["identifier", "quoted name", "KEY", "VIEW"];

/// Keywords that start a statement, for the "missing `;`" help.
fn starts_statement(t: &Tok<'_>) -> bool {
    matches!(
        t,
        Tok::Kw(
            Kw::Select
                | Kw::Values
                | Kw::With
                | Kw::Insert
                | Kw::Update
                | Kw::Delete
                | Kw::Create
                | Kw::Drop
        )
    )
}

/// Describes lalrpop's expected terminals: the terminals that start an expression collapse
/// into "an expression", those of a name into "a name"; keywords and punctuation are quoted.
fn expected_text(expected: &[String]) -> String {
    let bare: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
    let has = |t: &str| bare.contains(&t);
    let mut names: Vec<String> = Vec::new();
    let mut skip: &[&str] = &[];
    if has("integer") && has("CASE") && has("identifier") {
        names.push("an expression".into());
        skip = EXPR_START;
    } else if has("identifier") {
        names.push("a name".into());
        skip = NAME_START;
    }
    for t in bare {
        if skip.contains(&t) {
            continue;
        }
        if t.chars().all(|c| c.is_ascii_lowercase() || c == ' ') {
            names.push(match t {
                "integer" => "an integer".to_string(),
                other => format!("a {other}"),
            });
        } else {
            names.push(format!("`{t}`"));
        }
    }
    const MAX: usize = 12;
    if names.len() > MAX {
        names.truncate(MAX);
        names.push("…".into());
    }
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Whether the tokens of `chunk` before offset `end` form a whole statement.
fn is_statement(
    parser: &grammar::StatementParser,
    src: &str,
    chunk: &[Spanned<'_>],
    end: usize,
) -> bool {
    let before: Vec<Spanned<'_>> = chunk.iter().take_while(|t| t.0 < end).cloned().collect();
    let mut scratch = Vec::new();
    !before.is_empty()
        && parser
            .parse(src, &mut scratch, before.into_iter().map(Ok::<_, LexError>))
            .is_ok()
}

/// Converts a lalrpop error into an E0800 / E0801 diagnostic.
fn syntax_error(
    parser: &grammar::StatementParser,
    src: &str,
    chunk: &[Spanned<'_>],
    err: ParseError<usize, Tok<'_>, LexError>,
) -> Diagnostic {
    match err {
        ParseError::User { error } => error.to_diagnostic(src),
        ParseError::InvalidToken { location } => Diagnostic::error("E0800", "invalid token")
            .with_label(location..location, "invalid token"),
        ParseError::UnrecognizedEof { location, expected } => {
            let mut d = Diagnostic::error("E0801", "unexpected end of statement")
                .with_label(location..location, "the statement ends here");
            let text = expected_text(&expected);
            if !text.is_empty() {
                d = d.with_help(format!("expected {text}"));
            }
            d
        }
        ParseError::UnrecognizedToken {
            token: (lo, tok, hi),
            expected,
        } => {
            let text = snippet(src, &(lo..hi));
            let wanted = expected_text(&expected);
            let label = if wanted.is_empty() {
                "unexpected here".to_string()
            } else {
                format!("expected {wanted}")
            };
            let mut d = Diagnostic::error("E0800", format!("unexpected `{text}`"))
                .with_label(lo..hi, label);
            let name_expected = expected.iter().any(|e| e == "\"identifier\"");
            if starts_statement(&tok) && is_statement(parser, src, chunk, lo) {
                d = d.with_help("end the statement before this one with `;`");
            } else if let Tok::Kw(k) = &tok
                && name_expected
            {
                d = d.with_help(format!(
                    "`{}` is a reserved word; to use it as a name, quote it: \"{}\"",
                    k.as_str(),
                    text.to_ascii_lowercase()
                ));
            }
            d
        }
        ParseError::ExtraToken { token: (lo, _, hi) } => {
            let text = snippet(src, &(lo..hi));
            Diagnostic::error("E0800", format!("unexpected `{text}`"))
                .with_label(lo..hi, "extra token")
        }
    }
}

// ---- pieces the grammar builds with ----------------------------------------------------------

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
pub(crate) fn insert_source(query: Query) -> InsertSource {
    match query {
        Query {
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

// ---- helpers ---------------------------------------------------------------------------------

impl Ident {
    /// Whether the name prints without quotes: it lexes back as the same unquoted identifier.
    pub fn is_plain(&self) -> bool {
        let mut chars = self.name.chars();
        matches!(chars.next(), Some('a'..='z' | '_'))
            && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '$'))
            && Kw::from_word(&self.name).is_none()
    }
}

impl BinOp {
    /// The operator as the printer writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Concat => "||",
            BinOp::Eq => "=",
            BinOp::NotEq => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }
}

impl UnOp {
    /// The operator as the printer writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            UnOp::Neg => "-",
            UnOp::Plus => "+",
            UnOp::Not => "NOT",
        }
    }
}

impl SetOp {
    /// The operator keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::Intersect => "INTERSECT",
            SetOp::Except => "EXCEPT",
        }
    }
}

impl JoinKind {
    /// The join keywords as the printer writes them.
    pub fn keywords(self) -> &'static str {
        match self {
            JoinKind::Inner => "JOIN",
            JoinKind::Left => "LEFT JOIN",
            JoinKind::Right => "RIGHT JOIN",
            JoinKind::Full => "FULL JOIN",
            JoinKind::Cross => "CROSS JOIN",
        }
    }
}

mod print;

#[cfg(test)]
mod tests;
