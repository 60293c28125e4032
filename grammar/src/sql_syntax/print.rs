//! How SQL statements print: the `Display` impls, whose text parses back.

use super::*;
use crate::lex::float_literal;
use crate::span::Span;
use std::fmt;

/// Writes items separated by `, `.
fn commas<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

/// Writes `(a, b), (c, d)`.
fn rows(f: &mut fmt::Formatter<'_>, rows: &[(Vec<Expr>, Span)]) -> fmt::Result {
    for (i, (row, _)) in rows.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str("(")?;
        commas(f, row)?;
        f.write_str(")")?;
    }
    Ok(())
}

impl fmt::Display for Ident {
    /// Plain lower-case names that are not keywords print bare; every other name prints in
    /// double quotes (a `"` inside doubled), which the lexer reads back as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_plain() {
            f.write_str(&self.name)
        } else {
            write!(f, "\"{}\"", self.name.replace('"', "\"\""))
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)
    }
}

impl fmt::Display for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stmt::CreateTable(t) => write!(f, "{t}"),
            Stmt::CreateIndex(i) => write!(f, "{i}"),
            Stmt::CreateView(v) => write!(f, "{v}"),
            Stmt::CreateTrigger(t) => write!(f, "{t}"),
            Stmt::Reindex(None) => f.write_str("REINDEX"),
            Stmt::Reindex(Some(name)) => write!(f, "REINDEX {name}"),
            Stmt::Drop {
                what,
                if_exists,
                name,
            } => {
                let what = match what {
                    DropKind::Table => "TABLE",
                    DropKind::Index => "INDEX",
                    DropKind::View => "VIEW",
                    DropKind::Trigger => "TRIGGER",
                };
                let if_exists = if *if_exists { " IF EXISTS" } else { "" };
                write!(f, "DROP {what}{if_exists} {name}")
            }
            Stmt::Insert(i) => write!(f, "{i}"),
            Stmt::Update(u) => write!(f, "{u}"),
            Stmt::Delete(d) => write!(f, "{d}"),
            Stmt::Query(q) => write!(f, "{q}"),
        }
    }
}

impl fmt::Display for CreateTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CREATE TABLE ")?;
        if self.if_not_exists {
            f.write_str("IF NOT EXISTS ")?;
        }
        write!(f, "{} (", self.name)?;
        commas(f, &self.columns)?;
        for c in &self.constraints {
            write!(f, ", {c}")?;
        }
        f.write_str(")")?;
        if self.strict {
            f.write_str(" STRICT")?;
        }
        Ok(())
    }
}

impl fmt::Display for CreateView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.temp {
            "CREATE TEMP VIEW "
        } else {
            "CREATE VIEW "
        })?;
        if self.if_not_exists {
            f.write_str("IF NOT EXISTS ")?;
        }
        write!(f, "{}", self.name)?;
        if let Some(cols) = &self.columns {
            f.write_str(" (")?;
            commas(f, cols)?;
            f.write_str(")")?;
        }
        write!(f, " AS {}", self.query)
    }
}

impl fmt::Display for CreateTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.temp {
            "CREATE TEMP TRIGGER "
        } else {
            "CREATE TRIGGER "
        })?;
        if self.if_not_exists {
            f.write_str("IF NOT EXISTS ")?;
        }
        write!(f, "{} ", self.name)?;
        match self.timing {
            TriggerTiming::Default => {}
            TriggerTiming::Before => f.write_str("BEFORE ")?,
            TriggerTiming::After => f.write_str("AFTER ")?,
            TriggerTiming::InsteadOf => f.write_str("INSTEAD OF ")?,
        }
        match &self.event {
            TriggerEvent::Delete => f.write_str("DELETE")?,
            TriggerEvent::Insert => f.write_str("INSERT")?,
            TriggerEvent::Update(None) => f.write_str("UPDATE")?,
            TriggerEvent::Update(Some(cols)) => {
                f.write_str("UPDATE OF ")?;
                commas(f, cols)?;
            }
        }
        write!(f, " ON {}", self.table)?;
        if self.for_each_row {
            f.write_str(" FOR EACH ROW")?;
        }
        if let Some(w) = &self.when {
            write!(f, " WHEN {w}")?;
        }
        f.write_str(" BEGIN")?;
        for st in &self.body {
            write!(f, " {st};")?;
        }
        f.write_str(" END")
    }
}

impl fmt::Display for ColumnDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(ty) = &self.ty {
            write!(f, " {ty}")?;
        }
        if self.primary_key {
            f.write_str(" PRIMARY KEY")?;
        }
        if self.not_null {
            f.write_str(" NOT NULL")?;
        }
        if self.unique {
            f.write_str(" UNIQUE")?;
        }
        if let Some((table, column)) = &self.references {
            write!(f, " REFERENCES {table}")?;
            if let Some(c) = column {
                write!(f, "({c})")?;
            }
        }
        if let Some(d) = &self.default {
            // DEFAULT takes a literal bare and any other expression in parentheses.
            if matches!(d.kind, ExprKind::Lit(_)) && d.level() == level::PRIMARY {
                write!(f, " DEFAULT {d}")?;
            } else {
                write!(f, " DEFAULT ({d})")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.args.is_empty() {
            f.write_str("(")?;
            commas(f, &self.args)?;
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for TableConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, cols) = match self {
            TableConstraint::PrimaryKey(cols, _) => ("PRIMARY KEY", cols),
            TableConstraint::Unique(cols, _) => ("UNIQUE", cols),
        };
        write!(f, "{what} (")?;
        commas(f, cols)?;
        f.write_str(")")
    }
}

impl fmt::Display for CreateIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CREATE ")?;
        if self.unique {
            f.write_str("UNIQUE ")?;
        }
        f.write_str("INDEX ")?;
        if self.if_not_exists {
            f.write_str("IF NOT EXISTS ")?;
        }
        write!(f, "{} ON {} (", self.name, self.table)?;
        commas(f, &self.columns)?;
        f.write_str(")")
    }
}

impl fmt::Display for Insert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.conflict {
            None => f.write_str("INSERT")?,
            Some(c) => write!(f, "INSERT OR {}", c.as_str())?,
        }
        write!(f, " INTO {}", self.table)?;
        if let Some(cols) = &self.columns {
            f.write_str(" (")?;
            commas(f, cols)?;
            f.write_str(")")?;
        }
        match &self.source {
            InsertSource::Values(values) => {
                f.write_str(" VALUES ")?;
                rows(f, values)
            }
            InsertSource::Query(q) => write!(f, " {q}"),
        }
    }
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UPDATE {} SET ", self.table)?;
        for (i, (c, e)) in self.sets.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{c} = {e}")?;
        }
        if let Some(w) = &self.where_ {
            write!(f, " WHERE {w}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Delete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DELETE FROM {}", self.table)?;
        if let Some(w) = &self.where_ {
            write!(f, " WHERE {w}")?;
        }
        Ok(())
    }
}

impl fmt::Display for SqlQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(w) = &self.with {
            write!(f, "{w} ")?;
        }
        write!(f, "{}", self.body)?;
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            commas(f, &self.order_by)?;
        }
        if let Some(l) = &self.limit {
            write!(f, " {l}")?;
        }
        Ok(())
    }
}

impl fmt::Display for With {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WITH ")?;
        if self.recursive {
            f.write_str("RECURSIVE ")?;
        }
        commas(f, &self.ctes)
    }
}

impl fmt::Display for Cte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(cols) = &self.columns {
            f.write_str("(")?;
            commas(f, cols)?;
            f.write_str(")")?;
        }
        write!(f, " AS ({})", self.query)
    }
}

impl fmt::Display for SetExpr {
    /// Compound queries print left to right without parentheses, which SQL has none of; a
    /// tree whose right operand is itself compound (the parser never builds one) does not
    /// read back the same.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetExpr::Select(s) => write!(f, "{s}"),
            SetExpr::Values(values, _) => {
                f.write_str("VALUES ")?;
                rows(f, values)
            }
            SetExpr::SetOp {
                op,
                all,
                left,
                right,
                ..
            } => {
                write!(f, "{left} {}", op.keyword())?;
                if *all {
                    f.write_str(" ALL")?;
                }
                write!(f, " {right}")
            }
        }
    }
}

impl fmt::Display for Select {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        if self.distinct {
            f.write_str("DISTINCT ")?;
        }
        commas(f, &self.items)?;
        if !self.from.is_empty() {
            f.write_str(" FROM ")?;
            commas(f, &self.from)?;
        }
        if let Some(w) = &self.where_ {
            write!(f, " WHERE {w}")?;
        }
        if !self.group_by.is_empty() {
            f.write_str(" GROUP BY ")?;
            commas(f, &self.group_by)?;
        }
        if let Some(h) = &self.having {
            write!(f, " HAVING {h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for SelectItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Wildcard(_) => f.write_str("*"),
            SelectItem::QualifiedWildcard(t, _) => write!(f, "{t}.*"),
            SelectItem::Expr { expr, alias } => {
                write!(f, "{expr}")?;
                if let Some(a) = alias {
                    write!(f, " AS {a}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for FromItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        for j in &self.joins {
            write!(f, " {j}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TableRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alias = match self {
            TableRef::Table {
                name,
                alias,
                indexed,
                ..
            } => {
                write!(f, "{name}")?;
                if let Some(a) = alias {
                    write!(f, " AS {a}")?;
                }
                match indexed {
                    None => {}
                    Some(IndexHint::IndexedBy(i)) => write!(f, " INDEXED BY {i}")?,
                    Some(IndexHint::NotIndexed) => f.write_str(" NOT INDEXED")?,
                }
                return Ok(());
            }
            TableRef::Derived { query, alias, .. } => {
                write!(f, "({query})")?;
                alias
            }
            TableRef::Nested { from, .. } => return write!(f, "({from})"),
        };
        if let Some(a) = alias {
            write!(f, " AS {a}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Join {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.natural {
            f.write_str("NATURAL ")?;
        }
        write!(f, "{} {}", self.kind.keywords(), self.table)?;
        if let Some(on) = &self.on {
            write!(f, " ON {on}")?;
        }
        if let Some(cols) = &self.using {
            f.write_str(" USING (")?;
            commas(f, cols)?;
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for OrderItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if self.desc {
            f.write_str(" DESC")?;
        }
        Ok(())
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LIMIT {}", self.limit)?;
        if let Some(o) = &self.offset {
            write!(f, " OFFSET {o}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Lit {
    /// SQL literal syntax; floats always carry a `.` or an exponent so that they read back as
    /// floats (non-finite floats, which the lexer never produces, do not read back).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Null => f.write_str("NULL"),
            Lit::Bool(true) => f.write_str("TRUE"),
            Lit::Bool(false) => f.write_str("FALSE"),
            Lit::Int(i) => write!(f, "{i}"),
            Lit::Float(x) => f.write_str(&float_literal(*x)),
            Lit::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Lit::Blob(b) => {
                f.write_str("X'")?;
                for byte in b {
                    write!(f, "{byte:02X}")?;
                }
                f.write_str("'")
            }
        }
    }
}

/// Binding strengths of the grammar's expression levels (higher binds tighter).
mod level {
    pub const OR: u8 = 1;
    pub const AND: u8 = 2;
    pub const NOT: u8 = 3;
    /// `= == != <> IS IN LIKE BETWEEN ISNULL NOTNULL`
    pub const EQ: u8 = 4;
    pub const CMP: u8 = 5;
    /// `& | << >>`
    pub const BIT: u8 = 6;
    pub const ADD: u8 = 7;
    pub const MUL: u8 = 8;
    pub const CONCAT: u8 = 9;
    pub const UNARY: u8 = 10;
    pub const PRIMARY: u8 = 11;
}

impl BinOp {
    /// The operator's precedence level.
    fn level(self) -> u8 {
        match self {
            BinOp::Or => level::OR,
            BinOp::And => level::AND,
            BinOp::Eq | BinOp::NotEq => level::EQ,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => level::CMP,
            BinOp::BitAnd | BinOp::BitOr | BinOp::Shl | BinOp::Shr => level::BIT,
            BinOp::Add | BinOp::Sub => level::ADD,
            BinOp::Mul | BinOp::Div | BinOp::Mod => level::MUL,
            BinOp::Concat => level::CONCAT,
        }
    }
}

impl Expr {
    /// The precedence level of the expression's outermost form, as printed.
    fn level(&self) -> u8 {
        match &self.kind {
            ExprKind::Binary { op, .. } => op.level(),
            ExprKind::Unary { op: UnOp::Not, .. } => level::NOT,
            ExprKind::Unary { .. } => level::UNARY,
            ExprKind::IsNull { .. }
            | ExprKind::Is { .. }
            | ExprKind::Between { .. }
            | ExprKind::InList { .. }
            | ExprKind::InSubquery { .. }
            | ExprKind::Like { .. } => level::EQ,
            // A negative number prints with a sign, which reads back as a negation.
            ExprKind::Lit(Lit::Int(i)) if *i < 0 => level::UNARY,
            ExprKind::Lit(Lit::Float(x)) if x.is_sign_negative() => level::UNARY,
            _ => level::PRIMARY,
        }
    }

    /// Whether the printed expression starts with `-` (so that a `-` before it needs a space).
    fn prints_minus_first(&self) -> bool {
        match &self.kind {
            ExprKind::Unary { op: UnOp::Neg, .. } => true,
            ExprKind::Lit(Lit::Int(i)) => *i < 0,
            ExprKind::Lit(Lit::Float(x)) => x.is_sign_negative(),
            _ => false,
        }
    }
}

/// An operand printed in parentheses when it binds less tightly than its position requires.
struct Operand<'a>(&'a Expr, u8);

impl fmt::Display for Operand<'_> {
    // Calls `Expr::fmt` directly rather than through `write!`, which keeps the stack used per
    // level of a deep expression small.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.level() < self.1 {
            f.write_str("(")?;
            fmt::Display::fmt(self.0, f)?;
            f.write_str(")")
        } else {
            fmt::Display::fmt(self.0, f)
        }
    }
}

impl fmt::Display for Expr {
    /// Operands are parenthesised only where the grammar's precedence requires it (binary
    /// operators are left-associative, so a right operand at the same level gets parentheses).
    /// Minimal parentheses keep the printed text as shallow as the input, so that a long
    /// operator chain that parsed also parses back within the bracket-depth limit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use level::{CMP, EQ, NOT, UNARY};
        let not = |negated: bool| if negated { " NOT" } else { "" };
        match &self.kind {
            ExprKind::Lit(l) => write!(f, "{l}"),
            ExprKind::Column { table, name } => {
                if let Some(t) = table {
                    write!(f, "{t}.")?;
                }
                write!(f, "{name}")
            }
            ExprKind::Unary {
                op: UnOp::Not,
                expr,
            } => write!(f, "NOT {}", Operand(expr, NOT)),
            ExprKind::Unary { op, expr } => {
                let operand = Operand(expr, UNARY);
                // `- -1` must not become the comment `--1`.
                if expr.level() >= UNARY && expr.prints_minus_first() {
                    write!(f, "{} {operand}", op.symbol())
                } else {
                    write!(f, "{}{operand}", op.symbol())
                }
            }
            ExprKind::Binary { op, left, right } => {
                let l = op.level();
                Operand(left, l).fmt(f)?;
                f.write_str(" ")?;
                f.write_str(op.symbol())?;
                f.write_str(" ")?;
                Operand(right, l + 1).fmt(f)
            }
            ExprKind::IsNull { expr, negated } => {
                write!(f, "{} IS{} NULL", Operand(expr, EQ), not(*negated))
            }
            ExprKind::Is {
                left,
                right,
                negated,
            } => write!(
                f,
                "{} IS{} {}",
                Operand(left, EQ),
                not(*negated),
                Operand(right, CMP)
            ),
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => write!(
                f,
                "{}{} BETWEEN {} AND {}",
                Operand(expr, EQ),
                not(*negated),
                Operand(low, CMP),
                Operand(high, CMP)
            ),
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                write!(f, "{}{} IN (", Operand(expr, EQ), not(*negated))?;
                commas(f, list)?;
                f.write_str(")")
            }
            ExprKind::InSubquery {
                expr,
                query,
                negated,
            } => write!(f, "{}{} IN ({query})", Operand(expr, EQ), not(*negated)),
            ExprKind::Exists(q) => write!(f, "EXISTS ({q})"),
            ExprKind::Subquery(q) => write!(f, "({q})"),
            ExprKind::Like {
                expr,
                pattern,
                negated,
                escape,
            } => {
                write!(
                    f,
                    "{}{} LIKE {}",
                    Operand(expr, EQ),
                    not(*negated),
                    Operand(pattern, CMP)
                )?;
                if let Some(e) = escape {
                    write!(f, " ESCAPE {}", Operand(e, CMP))?;
                }
                Ok(())
            }
            ExprKind::Case {
                operand,
                whens,
                else_,
            } => {
                f.write_str("CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = else_ {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            ExprKind::Cast { expr, ty } => write!(f, "CAST({expr} AS {ty})"),
            ExprKind::Func {
                name,
                distinct,
                args,
                over,
            } => {
                write!(f, "{name}(")?;
                match args {
                    FuncArgs::Star => f.write_str("*")?,
                    FuncArgs::List(args) => {
                        if *distinct {
                            f.write_str("DISTINCT ")?;
                        }
                        commas(f, args)?;
                    }
                }
                f.write_str(")")?;
                if over.is_some() {
                    // Only the window's span is kept; `OVER ()` reads back as a window function.
                    f.write_str(" OVER ()")?;
                }
                Ok(())
            }
        }
    }
}
