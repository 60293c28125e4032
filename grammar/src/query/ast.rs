//! The syntax tree of EDN queries and rule sets: what [`parse_query`](super::parse_query) and
//! [`parse_rules`](super::parse_rules) produce and `print.rs` prints back.
//!
//! These types are kept apart from the reader so that the compiler-facing shape of a query can
//! be read in one place. The tree is syntax only: symbols keep their exact spelling (variables
//! their `?`, sources their `$`), constants stay EDN [`Node`]s, and every piece carries the byte
//! span of the text it came from. Nothing here checks bindings or resolves names.

use crate::edn::Node;
use crate::span::Span;

/// A variable `?name` (the name keeps its `?`).
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    pub name: String,
    pub span: Span,
}

/// A source variable: `$` or `$name` (the name keeps its `$`).
#[derive(Clone, Debug, PartialEq)]
pub struct SrcVar {
    pub name: String,
    pub span: Span,
}

/// A symbol with its span (function, predicate, rule and aggregate names).
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EdnQuery {
    pub find: FindSpec,
    /// `:keys` / `:strs` / `:syms`, when given.
    pub return_map: Option<ReturnMap>,
    pub with: Vec<Var>,
    /// The `:in` bindings; when `:in` is absent this is `[$]` with the span of `:find`.
    pub inputs: Vec<Input>,
    pub where_: Vec<Clause>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FindSpec {
    /// `:find ?a ?b`
    Relation(Vec<FindElem>, Span),
    /// `:find [?a ...]`
    Collection(FindElem, Span),
    /// `:find ?a .`
    Scalar(FindElem, Span),
    /// `:find [?a ?b]`
    Tuple(Vec<FindElem>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum FindElem {
    Var(Var),
    /// `(sum ?x)`, `(max 3 ?x)`, `(count-distinct ?x)`, `(aggregate ?f ?x)`: the name and its
    /// arguments (variables or constants).
    Agg {
        func: Name,
        args: Vec<FnArg>,
        span: Span,
    },
    /// `(pull ?e [*])`, `(pull $ ?e ?pattern)`; the pattern is a pattern form or a variable.
    Pull {
        src: Option<SrcVar>,
        var: Var,
        pattern: Node,
        span: Span,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnKind {
    Keys,
    Strs,
    Syms,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReturnMap {
    pub kind: ReturnKind,
    /// The names as written (symbols; `emp/name` keeps its namespace).
    pub names: Vec<Name>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// `$`, `$name`
    Source(SrcVar),
    /// `%`
    Rules(Span),
    /// A binding form (scalar, tuple, collection, relation or `_`).
    Binding(Binding),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    /// `?x`
    Var(Var),
    /// `_`
    Blank(Span),
    /// `[?a ?b]`
    Tuple(Vec<Binding>, Span),
    /// `[?a ...]`
    Collection(Box<Binding>, Span),
    /// `[[?a ?b]]`
    Relation(Vec<Binding>, Span),
}

impl Binding {
    pub fn span(&self) -> Span {
        match self {
            Binding::Var(v) => v.span.clone(),
            Binding::Blank(s)
            | Binding::Tuple(_, s)
            | Binding::Collection(_, s)
            | Binding::Relation(_, s) => s.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatTerm {
    Var(Var),
    /// `_`
    Blank(Span),
    /// A constant: any EDN form that is not a symbol (keywords, numbers, strings, booleans, nil,
    /// tagged literals, and vectors such as lookup refs `[:person/email "a@b"]`).
    Const(Node),
}

#[derive(Clone, Debug, PartialEq)]
pub enum FnArg {
    Var(Var),
    /// A source argument such as `$` (for `get-else`, `missing?`, …).
    Src(SrcVar),
    Const(Node),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Callee {
    /// A function or predicate named by a symbol (`<`, `str`, `clojure.string/includes?`).
    Named(Name),
    /// A function passed as an input: `[(?f ?x) ?y]`.
    Var(Var),
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleArg {
    Var(Var),
    Blank(Span),
    Const(Node),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `[$src? e a v tx added]` with 1 to 5 terms.
    Pattern {
        src: Option<SrcVar>,
        terms: Vec<PatTerm>,
        span: Span,
    },
    /// `[(pred args…)]`
    Pred {
        callee: Callee,
        args: Vec<FnArg>,
        span: Span,
    },
    /// `[(f args…) binding]`
    Fn {
        callee: Callee,
        args: Vec<FnArg>,
        binding: Binding,
        span: Span,
    },
    /// `($src? rule-name args…)`
    RuleCall {
        src: Option<SrcVar>,
        name: Name,
        args: Vec<RuleArg>,
        span: Span,
    },
    /// `($src? not clause…)`
    Not {
        src: Option<SrcVar>,
        clauses: Vec<Clause>,
        span: Span,
    },
    /// `($src? not-join [?a …] clause…)`
    NotJoin {
        src: Option<SrcVar>,
        vars: Vec<Var>,
        clauses: Vec<Clause>,
        span: Span,
    },
    /// `($src? or branch…)`; each branch is one clause or the clauses of an `(and …)`.
    Or {
        src: Option<SrcVar>,
        branches: Vec<Vec<Clause>>,
        span: Span,
    },
    /// `($src? or-join [[?req …] ?free …] branch…)`
    OrJoin {
        src: Option<SrcVar>,
        required: Vec<Var>,
        free: Vec<Var>,
        branches: Vec<Vec<Clause>>,
        span: Span,
    },
}

impl Clause {
    pub fn span(&self) -> Span {
        match self {
            Clause::Pattern { span, .. }
            | Clause::Pred { span, .. }
            | Clause::Fn { span, .. }
            | Clause::RuleCall { span, .. }
            | Clause::Not { span, .. }
            | Clause::NotJoin { span, .. }
            | Clause::Or { span, .. }
            | Clause::OrJoin { span, .. } => span.clone(),
        }
    }
}

/// One rule definition `[(name ?a [?req] ?b) clause…]`. Several definitions with the same name
/// are the branches of one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: Name,
    /// Variables in the head's leading vector `[?req …]` (required bindings).
    pub required: Vec<Var>,
    /// The other head variables, in order.
    pub free: Vec<Var>,
    pub body: Vec<Clause>,
    pub span: Span,
}
