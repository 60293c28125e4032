//! The PomoRA text syntax (DESIGN §5), as printed by `pomo explain --stage ra`:
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

use crate::logic_syntax::{CmpOp, Const, Ident};
use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub decls: Vec<RelDecl>,
    pub strata: Vec<Stratum>,
}

/// `relation name(a, b) kind` where kind is an identifier (`base`, `input`, `derived`, `output`).
#[derive(Clone, Debug, PartialEq)]
pub struct RelDecl {
    pub name: Ident,
    pub attrs: Vec<Ident>,
    pub kind: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stratum {
    pub index: i64,
    pub recursive: bool,
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

/// `name` or `name@version` (`delta`, `new`, `next`).
#[derive(Clone, Debug, PartialEq)]
pub struct RelRef {
    pub name: Ident,
    pub version: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `target := expr;`
    Assign { target: RelRef, expr: Expr, span: Span },
    /// `loop { stmt… } until empty(r, …);`
    Loop { body: Vec<Stmt>, until: Vec<RelRef>, span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Attr(Ident),
    Const(Const, Span),
}

/// One atom of a DNF formula.
#[derive(Clone, Debug, PartialEq)]
pub enum FAtom {
    Cmp { op: CmpOp, lhs: Operand, rhs: Operand, negated: bool, span: Span },
    /// A predicate call `f(args)` (`?f(args)` when `callee_is_var`).
    Call { func: Ident, callee_is_var: bool, args: Vec<Operand>, negated: bool, span: Span },
}

/// A formula in disjunctive normal form. `true` is one empty conjunction; `false` is none.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    pub disjuncts: Vec<Vec<FAtom>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AggSpec {
    pub out: Ident,
    pub func: Ident,
    pub func_is_var: bool,
    pub args: Vec<Operand>,
    pub span: Span,
}

/// The left side of a `map`: one attribute, `[a, b]`, `[a ...]` or `[[a, b]]` (`_` allowed
/// inside brackets, kept as an `Ident` named `_`).
#[derive(Clone, Debug, PartialEq)]
pub enum MapBind {
    Scalar(Ident),
    Tuple(Vec<Ident>, Span),
    Coll(Ident, Span),
    Rel(Vec<Ident>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapRhs {
    Call { func: Ident, callee_is_var: bool, args: Vec<Operand> },
    Operand(Operand),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Rel(RelRef),
    Project { attrs: Vec<Ident>, input: Box<Expr>, span: Span },
    Rename { pairs: Vec<(Ident, Ident)>, input: Box<Expr>, span: Span },
    Select { formula: Formula, input: Box<Expr>, span: Span },
    Union { inputs: Vec<Expr>, span: Span },
    Diff { left: Box<Expr>, right: Box<Expr>, span: Span },
    Product { left: Box<Expr>, right: Box<Expr>, span: Span },
    Join { left: Box<Expr>, right: Box<Expr>, span: Span },
    ThetaJoin { formula: Formula, left: Box<Expr>, right: Box<Expr>, span: Span },
    EquiJoin { pairs: Vec<(Ident, Ident)>, left: Box<Expr>, right: Box<Expr>, span: Span },
    SemiJoin { left: Box<Expr>, right: Box<Expr>, span: Span },
    AntiJoin { left: Box<Expr>, right: Box<Expr>, span: Span },
    GroupBy { keys: Vec<Ident>, aggs: Vec<AggSpec>, input: Box<Expr>, span: Span },
    Map { bind: MapBind, rhs: MapRhs, input: Box<Expr>, span: Span },
    Values { attrs: Vec<Ident>, rows: Vec<Vec<Const>>, span: Span },
}

// Entry point (implemented with the lexer and grammar in `ra_syntax/`):
//
// pub fn parse_plan(src: &str) -> Result<Plan, Vec<Diagnostic>>
