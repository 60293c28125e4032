//! The PomoRA text syntax (ARCHITECTURE §5), as printed by `pomo explain --stage ra`:
//!
//! ```text
//! relation datom(e, a, v, t, m, added) base
//! relation edge(from, to) derived
//! relation path(from, to) output
//!
//! stratum 0 {
//!   edge := rename[?x -> from, ?y -> to](
//!     project[?x, ?y](
//!       rename[e -> ?x, v -> ?y](
//!         select[a = :edge/to](datom))));
//! }
//! stratum 1 recursive {
//!   path := rename[?x -> from, ?y -> to](rename[from -> ?x, to -> ?y](edge));
//!   path@delta := path;
//!   loop {
//!     path@new := diff(project[from, to](join(path@delta, edge)), path);
//!     path := union(path, path@new);
//!     path@delta := path@new;
//!   } until empty(path@delta);
//! }
//! ```
//!
//! Operators: `project[attrs](e)`, `rename[a -> b, …](e)`, `select[formula](e)`,
//! `union(e, …)`, `diff(e, e)`, `product(e, e)`, `join(e, e)`, `theta_join[formula](e, e)`,
//! `equijoin[a = b, …](e, e)`, `semijoin(e, e)`, `antijoin(e, e)`,
//! `group_by[keys; out := agg(args), …](e)`, `map[bind := f(args)](e)` / `map[a := operand](e)`,
//! `values[attrs]{(c, …), …}`. Formulas are in DNF: `x = 1 and y < z or not p(x)`, `true`,
//! `false`. Attribute names are identifiers or `?vars`; the operator names and
//! `relation stratum recursive loop until empty and or not true false nil` are reserved and a
//! relation with such a name is written in backquotes.
//!
//! Parsing lexes the whole input (`ra_syntax/lexer.rs`), checks brackets, and runs the lalrpop
//! grammar (`ra_syntax/ra.lalrpop`). Declarations and strata may interleave in the text; the
//! plan keeps each list in source order. The syntax tree prints back (`Display`) to text that
//! parses to an equal tree modulo spans, one statement per line.
//!
//! The module is split by concern: `ast.rs` holds the syntax tree types; `parse.rs` the entry
//! point and the helpers the grammar's actions build with; `lexer.rs` the tokens; `print.rs`
//! the `Display` impls and the reserved words. Everything public is re-exported here, so
//! `pomo_grammar::ra_syntax::X` names every type, the entry point, [`RESERVED`] and [`RaName`].

mod ast;
pub(crate) mod lexer;
mod parse;
mod print;

pub use ast::{
    AggSpec, Expr, FAtom, Formula, MapBind, MapRhs, Operand, Plan, RelDecl, RelRef, Stmt, Stratum,
};
pub use parse::parse_plan;
pub use print::{RESERVED, RaName};

#[cfg(test)]
mod tests;
