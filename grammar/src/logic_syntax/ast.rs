//! The syntax tree of PomoLogic text: what [`parse_program`](super::parse_program) produces
//! and `print.rs` prints back.
//!
//! The tree is syntax only: whether `name(…)` is an atom or a function call is left to the
//! compiler, which tells them apart by named and positional arguments. Variables are normalised
//! to start with `?` (`X` becomes `?X`), and every piece a diagnostic may point at carries its
//! byte span.

use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `.decl name(a, b)`
    Decl {
        name: Ident,
        attrs: Vec<Ident>,
        span: Span,
    },
    /// `.input name(a, b) kind`
    Input {
        name: Ident,
        attrs: Vec<Ident>,
        kind: Ident,
        span: Span,
    },
    /// `.output name(a, b) kind option(args)…`, options such as `with(w)` (identifiers) or
    /// `keys("a", "b")` (string or identifier arguments, kept as [`OptArg`]s).
    Output {
        name: Ident,
        attrs: Vec<Ident>,
        kind: Ident,
        options: Vec<OutputOption>,
        span: Span,
    },
    Rule(Rule),
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutputOption {
    pub name: Ident,
    pub args: Vec<OptArg>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OptArg {
    Ident(Ident),
    Str(String, Span),
}

impl OptArg {
    /// The argument's text: the identifier's name or the string's contents.
    pub fn text(&self) -> String {
        match self {
            OptArg::Ident(i) => i.name.clone(),
            OptArg::Str(s, _) => s.clone(),
        }
    }
}

/// An identifier or a variable; variables are normalised to start with `?` (`X` becomes `?X`).
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub head: Atom,
    /// `@next`: an inductive rule.
    pub next: bool,
    /// Empty for a fact `p(a: 1).`
    pub body: Vec<Literal>,
    pub span: Span,
}

/// `name(args)`, an atom or a call. `callee_is_var` is set for `?f(args)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Atom {
    pub name: Ident,
    pub callee_is_var: bool,
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// `attr: term`
    Named(Ident, Term),
    /// `term`
    Pos(Term),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Var(Ident),
    Wild(Span),
    Const(Const, Span),
}

impl Term {
    pub fn span(&self) -> Span {
        match self {
            Term::Var(i) => i.span.clone(),
            Term::Wild(s) | Term::Const(_, s) => s.clone(),
        }
    }
}

/// A literal constant in EDN syntax.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Without the colon.
    Keyword(String),
    /// `#tag "text"`: `#inst`, `#uuid`, `#ref` (integer payload as text), `#cid`, `#bytes`.
    Tagged(String, String),
    /// `'sym`
    Symbol(String),
    /// `[c1, c2]` (commas optional)
    Vector(Vec<Const>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// The left side of `:=` in a function application.
#[derive(Clone, Debug, PartialEq)]
pub enum BindForm {
    /// `?y` (or `_`)
    Scalar(Term),
    /// `[?a, ?b]`
    Tuple(Vec<Term>, Span),
    /// `[?a ...]`
    Coll(Term, Span),
    /// `[[?a, ?b]]`
    Rel(Vec<Term>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `name(args)`: an atom (named args) or a predicate call (positional args).
    Pos(Atom),
    /// `lhs := name(args)`: a CID-bound atom (scalar lhs, named args) or a function application.
    Bind {
        lhs: BindForm,
        rhs: Atom,
        span: Span,
    },
    /// `!name(args)`
    Neg(Atom, Span),
    /// `term op term`, op one of `== = != < <= > >=`
    Cmp {
        op: CmpOp,
        lhs: Term,
        rhs: Term,
        span: Span,
    },
    /// `?out := func(args) : atom` or the spec's `?out := count : atom` / `?out := sum ?x : atom`.
    Agg {
        out: Ident,
        func: Ident,
        func_is_var: bool,
        args: Vec<Term>,
        atom: Atom,
        span: Span,
    },
}
