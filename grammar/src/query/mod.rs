//! The Datomic query language read from EDN trees: `[:find … :in … :with … :keys … :where …]`
//! and the map form `{:find […] :in […] :where […]}`, plus rule sets `[[(name ?a [?b]) clause…]…]`.
//!
//! This is syntax only: it checks the shape of every clause (and reports malformed ones with
//! their spans) but not variable bindings, which the compiler checks.
//!
//! The parser walks the EDN tree by hand. Every function that meets a malformed piece pushes a
//! diagnostic and returns `None` (or skips the piece), and its caller carries on, so that one
//! call reports every shape error of a query rather than the first. Symbols keep their exact
//! spelling: variables keep their `?` and sources their `$`. Rules given inline with a `:rules`
//! key are not supported; rules come from `%` inputs (the CLI's `--rules FILE`).
//!
//! The module is split by concern: `ast.rs` holds the syntax tree types; `parse.rs` and its
//! children (`parse/find.rs`, `parse/inputs.rs`, `parse/clauses.rs`, `parse/rules.rs`) the
//! reader; `print.rs` the `Display` impls that print a tree back as query text. Everything
//! public is re-exported here, so `pomo_grammar::query::X` names every type and entry point.
//!
//! Codes: E0100–E0199 (see the table in [`crate::diag`]).

mod ast;
mod parse;
mod print;

pub use ast::{
    Binding, Callee, Clause, EdnQuery, FindElem, FindSpec, FnArg, Input, Name, PatTerm, ReturnKind,
    ReturnMap, Rule, RuleArg, SrcVar, Var,
};
pub use parse::{parse_query, parse_query_text, parse_rules, parse_rules_text};

#[cfg(test)]
mod tests;
