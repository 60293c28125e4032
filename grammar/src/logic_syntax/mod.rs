//! The PomoLogic text syntax (ARCHITECTURE §4, the PomoLogic spec's notation), as written by people and
//! printed by `pomo explain --stage logic`:
//!
//! ```text
//! // a comment
//! .decl edge(from, to)                     // optional: a base relation's attributes
//! .input in1(name) scalar                  // a query input: scalar | tuple | collection | relation
//! .output q(name, n) relation with(w) keys("name", "n")
//! path(from: ?x, to: ?z) :- edge(from: ?x, to: ?y), path(from: ?y, to: ?z).
//! big(x: X) :- num(v: X), X > 10, !small(v: X).
//! cnt(c: ?c, n: ?n) :- ?n := count(?x) : q(c: ?c, x: ?x).
//! r(y: ?y) :- in1(name: ?n), ?y := str(?n, "!"), [?a, ?b] := split(?y), starts_with(?y, "a").
//! c(id: C) :- C := point(x: 1).            // binds the CID of the matched fact
//! checkbox(id: I, state: S)@next :- checkbox(id: I, state: S), !clicks(id: I).
//! ```
//!
//! Variables are `?name` or identifiers starting with an upper-case letter; `_` is a wildcard.
//! Identifiers may contain `-`, `$` and end in `?` or `!`; any other name is written in
//! backquotes. Constants use EDN literal syntax. Whether `name(…)` is an atom or a function call
//! is resolved by the compiler (atoms have named arguments, calls positional ones).
//!
//! Parsing lexes the whole input (`logic_syntax/lexer.rs`), checks brackets, and runs the
//! lalrpop grammar (`logic_syntax/logic.lalrpop`), which reads a flat list of pieces that
//! `build_program` assembles into items, reporting shape errors the grammar cannot express
//! (a bare identifier where a term belongs, an output option with no `.output`). The syntax
//! tree prints back (`Display`) to text that parses to an equal tree modulo spans.
//!
//! The module is split by concern: `ast.rs` holds the syntax tree types; `parse.rs` the entry
//! point, the raw pieces the grammar reads and `build_program`; `lexer.rs` the tokens;
//! `print.rs` the `Display` impls. Everything public is re-exported here, so
//! `pomo_grammar::logic_syntax::X` names every type and the entry point.

mod ast;
pub(crate) mod lexer;
mod parse;
mod print;

pub use ast::{
    Arg, Atom, BindForm, CmpOp, Const, Ident, Item, Literal, OptArg, OutputOption, Program, Rule,
    Term,
};
pub use parse::parse_program;

#[cfg(test)]
mod tests;
