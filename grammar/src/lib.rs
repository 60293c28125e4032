//! pomo-grammar: the lexers (logos), grammars (lalrpop) and syntax trees of pomo's text
//! languages, and the diagnostics type that every stage reports errors with.
//!
//! * [`edn`]: the whole EDN reader, producing [`edn::Node`] trees with byte spans.
//! * [`query`]: the Datomic query language (vector and map forms) and rule sets, read from EDN trees.
//! * [`logic_syntax`]: the PomoLogic text syntax (ARCHITECTURE §4).
//! * [`ra_syntax`]: the PomoRA text syntax (ARCHITECTURE §5).
//! * [`sql`]: the SQL subset in SQLite syntax (ARCHITECTURE §6), producing [`sql::Statement`] trees.
//! * [`diag`]: diagnostics (code, message, labelled spans, help) and their ariadne rendering.
//!
//! This crate knows no IR: it produces syntax trees only, and the compiler resolves them.

pub mod diag;
pub mod edn;
mod lex;
pub mod logic_syntax;
pub mod query;
pub mod ra_syntax;
pub mod span;
pub mod sql_syntax;

pub use diag::{Diagnostic, Label, Severity};
pub use span::Span;
