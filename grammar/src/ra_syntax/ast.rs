//! The syntax tree of PomoRA plan text: what [`parse_plan`](super::parse_plan) produces and
//! `print.rs` prints back.
//!
//! Relation names, attributes and constants reuse the PomoLogic types ([`Ident`], [`Const`],
//! [`CmpOp`]), so both syntaxes spell them alike. Declarations and strata each keep source
//! order, and every expression carries the byte span a diagnostic may point at.

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
    /// `[scalar]` after `input`, `[relation, with(?w), keys("a")]` after `output`.
    pub options: Vec<crate::logic_syntax::OutputOption>,
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
    Assign {
        target: RelRef,
        expr: Expr,
        span: Span,
    },
    /// `loop { stmt… } until empty(r, …);`
    Loop {
        body: Vec<Stmt>,
        until: Vec<RelRef>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Attr(Ident),
    Const(Const, Span),
}

/// One atom of a DNF formula.
#[derive(Clone, Debug, PartialEq)]
pub enum FAtom {
    Cmp {
        op: CmpOp,
        lhs: Operand,
        rhs: Operand,
        negated: bool,
        span: Span,
    },
    /// A predicate call `f(args)` (`?f(args)` when `callee_is_var`).
    Call {
        func: Ident,
        callee_is_var: bool,
        args: Vec<Operand>,
        negated: bool,
        span: Span,
    },
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
    Call {
        func: Ident,
        callee_is_var: bool,
        args: Vec<Operand>,
    },
    Operand(Operand),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Rel(RelRef),
    Project {
        attrs: Vec<Ident>,
        input: Box<Expr>,
        span: Span,
    },
    Rename {
        pairs: Vec<(Ident, Ident)>,
        input: Box<Expr>,
        span: Span,
    },
    Select {
        formula: Formula,
        input: Box<Expr>,
        span: Span,
    },
    Union {
        inputs: Vec<Expr>,
        span: Span,
    },
    Diff {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    Product {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    Join {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    ThetaJoin {
        formula: Formula,
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    EquiJoin {
        pairs: Vec<(Ident, Ident)>,
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    SemiJoin {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    AntiJoin {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    GroupBy {
        keys: Vec<Ident>,
        aggs: Vec<AggSpec>,
        input: Box<Expr>,
        span: Span,
    },
    Map {
        bind: MapBind,
        rhs: MapRhs,
        input: Box<Expr>,
        span: Span,
    },
    Values {
        attrs: Vec<Ident>,
        rows: Vec<Vec<Const>>,
        span: Span,
    },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Rel(r) => r.span.clone(),
            Expr::Project { span, .. }
            | Expr::Rename { span, .. }
            | Expr::Select { span, .. }
            | Expr::Union { span, .. }
            | Expr::Diff { span, .. }
            | Expr::Product { span, .. }
            | Expr::Join { span, .. }
            | Expr::ThetaJoin { span, .. }
            | Expr::EquiJoin { span, .. }
            | Expr::SemiJoin { span, .. }
            | Expr::AntiJoin { span, .. }
            | Expr::GroupBy { span, .. }
            | Expr::Map { span, .. }
            | Expr::Values { span, .. } => span.clone(),
        }
    }
}
