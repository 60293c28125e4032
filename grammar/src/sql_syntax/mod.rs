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
//!
//! The module is split by concern: `ast.rs` holds the syntax tree types; `parse.rs` the entry
//! points and the checks and diagnostics around the lalrpop parser, with `parse/actions.rs`
//! the helpers the grammar's actions build the tree with; `lexer.rs` the tokens; `print.rs` the
//! `Display` impls. Everything public is re-exported here, so `pomo_grammar::sql_syntax::X` names every
//! type and entry point.

mod ast;
pub(crate) mod lexer;
mod parse;
mod print;

pub use ast::{
    BinOp, ColumnDef, Conflict, CreateIndex, CreateTable, CreateTrigger, CreateView, Cte, Delete,
    DropKind, Expr, ExprKind, FromItem, FuncArgs, Ident, IndexHint, Insert, InsertSource, Join,
    JoinKind, Limit, Lit, OrderItem, Select, SelectItem, SetExpr, SetOp, SqlQuery, Statement, Stmt,
    TableConstraint, TableRef, TriggerEvent, TriggerTiming, TypeName, UnOp, Update, With,
    table_ref_span,
};
pub use parse::{MAX_EXPR_DEPTH, parse_script, parse_statement};

#[cfg(test)]
mod tests;
