//! The syntax tree of the SQL subset: what [`parse_script`](super::parse_script) and
//! [`parse_statement`](super::parse_statement) produce and `print.rs` prints back.
//!
//! The tree is what was written, nothing more: names are not resolved and types not checked,
//! and constructs outside the subset are kept so that the compiler can refuse them by name.
//! Unquoted names are lower-cased; every node that a diagnostic may point at carries its byte
//! span. Besides the types, this file holds the small facts the printer needs about them (the
//! spelling of operators and join keywords, whether a name needs quotes).

use super::lexer::Kw;
use crate::span::Span;

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
    /// `CREATE [TEMP] VIEW [IF NOT EXISTS] name [(columns)] AS query`.
    CreateView(CreateView),
    /// `CREATE [TEMP] TRIGGER …`.
    CreateTrigger(CreateTrigger),
    /// `DROP TABLE|INDEX|VIEW|TRIGGER [IF EXISTS] name`.
    Drop {
        what: DropKind,
        if_exists: bool,
        name: Ident,
    },
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    /// `REINDEX [name]`.
    Reindex(Option<Ident>),
    Query(SqlQuery),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateView {
    /// `TEMP` or `TEMPORARY` was written.
    pub temp: bool,
    pub if_not_exists: bool,
    pub name: Ident,
    pub columns: Option<Vec<Ident>>,
    pub query: Box<SqlQuery>,
}

/// `CREATE [TEMP] TRIGGER [IF NOT EXISTS] name [BEFORE|AFTER|INSTEAD OF] event ON table
/// [FOR EACH ROW] [WHEN expr] BEGIN stmt; … END`.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateTrigger {
    pub temp: bool,
    pub if_not_exists: bool,
    pub name: Ident,
    pub timing: TriggerTiming,
    pub event: TriggerEvent,
    pub table: Ident,
    pub for_each_row: bool,
    pub when: Option<Expr>,
    pub body: Vec<Statement>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerTiming {
    /// No timing written (SQLite's default, BEFORE).
    Default,
    Before,
    After,
    InsteadOf,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TriggerEvent {
    Delete,
    Insert,
    /// `UPDATE [OF columns]`.
    Update(Option<Vec<Ident>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropKind {
    Table,
    Index,
    View,
    Trigger,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateTable {
    pub name: Ident,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnDef>,
    pub constraints: Vec<TableConstraint>,
    /// `STRICT` after the column list (SQLite 3.37): values must fit the declared types.
    pub strict: bool,
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
    /// `INSERT OR …` / `REPLACE INTO` (`None`: plain INSERT, SQLite's ABORT).
    pub conflict: Option<Conflict>,
    pub table: Ident,
    pub columns: Option<Vec<Ident>>,
    pub source: InsertSource,
}

/// The conflict resolution of `INSERT OR <conflict>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    Replace,
    Ignore,
    Abort,
    Fail,
    Rollback,
}

impl Conflict {
    /// The keyword, upper-case.
    pub fn as_str(self) -> &'static str {
        match self {
            Conflict::Replace => "REPLACE",
            Conflict::Ignore => "IGNORE",
            Conflict::Abort => "ABORT",
            Conflict::Fail => "FAIL",
            Conflict::Rollback => "ROLLBACK",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum InsertSource {
    /// `VALUES (…), (…)`: one vector per row, with the row's span.
    Values(Vec<(Vec<Expr>, Span)>),
    Query(Box<SqlQuery>),
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
pub struct SqlQuery {
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
    pub query: Box<SqlQuery>,
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
        /// `INDEXED BY name` / `NOT INDEXED`: a hint to SQLite's planner, checked and ignored.
        indexed: Option<IndexHint>,
        span: Span,
    },
    /// `(query) [AS] alias`
    Derived {
        query: Box<SqlQuery>,
        alias: Option<Ident>,
        span: Span,
    },
    /// A parenthesised join tree: `(a CROSS JOIN b)`.
    Nested { from: Box<FromItem>, span: Span },
}

/// `INDEXED BY name` or `NOT INDEXED` after a table name.
#[derive(Clone, Debug, PartialEq)]
pub enum IndexHint {
    IndexedBy(Ident),
    NotIndexed,
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
    /// `x'…'`
    Blob(Vec<u8>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    /// `~`
    BitNot,
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
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
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
        query: Box<SqlQuery>,
        negated: bool,
    },
    /// `EXISTS (query)`; `NOT EXISTS` is `Unary { Not, Exists }`.
    Exists(Box<SqlQuery>),
    /// A scalar subquery `(query)`.
    Subquery(Box<SqlQuery>),
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

// ---- facts the printer needs -----------------------------------------------------------------

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
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
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
            UnOp::BitNot => "~",
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

/// The span of a table reference.
pub fn table_ref_span(t: &TableRef) -> Span {
    match t {
        TableRef::Table { span, .. }
        | TableRef::Derived { span, .. }
        | TableRef::Nested { span, .. } => span.clone(),
    }
}
