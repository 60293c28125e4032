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

use crate::diag::Diagnostic;
use crate::lex::{Delim, check_delims, escape_string, float_literal, parse_error_to_diag};
use crate::span::Span;
use std::fmt;

pub(crate) mod lexer;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused_parens)]
    grammar,
    "/logic_syntax/logic.rs"
);

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

/// Parses a PomoLogic program. Reports every lexer error, or every bracket error, or the first
/// syntax error together with every shape error found before it.
pub fn parse_program(src: &str) -> Result<Program, Vec<Diagnostic>> {
    use lexer::Tok;
    let tokens = lexer::lex(src).map_err(|errs| {
        errs.iter()
            .map(|e| e.to_diagnostic(src))
            .collect::<Vec<_>>()
    })?;
    let delims = check_delims(
        src,
        tokens.iter().map(|(lo, t, hi)| {
            let d = match t {
                Tok::LParen => Delim::Open {
                    open: "(",
                    close: ")",
                },
                Tok::LBracket => Delim::Open {
                    open: "[",
                    close: "]",
                },
                Tok::RParen => Delim::Close(")"),
                Tok::RBracket => Delim::Close("]"),
                _ => Delim::Other,
            };
            (*lo..*hi, d)
        }),
    );
    if !delims.is_empty() {
        return Err(delims);
    }
    let mut diags = Vec::new();
    let result = grammar::ProgramParser::new().parse(
        &mut diags,
        tokens.into_iter().map(Ok::<_, crate::lex::LexError>),
    );
    match result {
        Ok(program) if diags.is_empty() => Ok(program),
        Ok(_) => Err(diags),
        Err(e) => {
            diags.push(parse_error_to_diag(src, e, ("E0020", "E0021"), "program"));
            Err(diags)
        }
    }
}

// ---- raw pieces, as the grammar reads them ---------------------------------------------------

/// An argument as written: `attr: term`, `term`, or a bare identifier (valid only in output
/// options such as `with(w)`).
pub(crate) enum RawArg {
    Named(Ident, Term),
    Pos(Term),
    Bare(Ident),
}

pub(crate) struct RawAtom {
    pub(crate) name: Ident,
    pub(crate) callee_is_var: bool,
    pub(crate) args: Vec<RawArg>,
    pub(crate) span: Span,
}

pub(crate) enum RawLit {
    Pos(RawAtom),
    Neg(RawAtom, Span),
    Cmp {
        op: CmpOp,
        lhs: Term,
        rhs: Term,
        span: Span,
    },
    /// `lhs := rhs`, or an aggregate `lhs := rhs : agg` when `agg` is present.
    Bind {
        lhs: BindForm,
        rhs: RawAtom,
        agg: Option<RawAtom>,
        span: Span,
    },
    /// `lhs := count : atom` / `lhs := sum ?x : atom`.
    AggSpec {
        lhs: BindForm,
        func: Ident,
        args: Vec<Term>,
        atom: RawAtom,
        span: Span,
    },
}

pub(crate) enum Piece {
    Decl {
        name: Ident,
        attrs: Vec<Ident>,
        span: Span,
    },
    Input {
        name: Ident,
        attrs: Vec<Ident>,
        kind: Ident,
        span: Span,
    },
    OutputHead {
        name: Ident,
        attrs: Vec<Ident>,
        kind: Ident,
        span: Span,
    },
    Opt(RawAtom),
    Rule {
        head: RawAtom,
        next: bool,
        body: Vec<RawLit>,
        span: Span,
    },
}

/// Assembles pieces into items: options join the `.output` before them, raw atoms and literals
/// become checked atoms and literals. Problems are pushed to `diags`.
pub(crate) fn build_program(pieces: Vec<Piece>, diags: &mut Vec<Diagnostic>) -> Program {
    let mut items: Vec<Item> = Vec::new();
    // Whether the last item is an `.output` that may still take options.
    let mut open_output = false;
    for piece in pieces {
        match piece {
            Piece::Decl { name, attrs, span } => {
                open_output = false;
                items.push(Item::Decl { name, attrs, span });
            }
            Piece::Input { name, attrs, kind, span } => {
                open_output = false;
                items.push(Item::Input { name, attrs, kind, span });
            }
            Piece::OutputHead { name, attrs, kind, span } => {
                open_output = true;
                items.push(Item::Output { name, attrs, kind, options: Vec::new(), span });
            }
            Piece::Opt(raw) => match items.last_mut() {
                Some(Item::Output { options, span, .. }) if open_output => {
                    let option = output_option(raw, diags);
                    span.end = option.span.end;
                    options.push(option);
                }
                _ => diags.push(
                    Diagnostic::error("E0022", format!("`{}(…)` is not followed by `:-` or `.`", raw.name.name))
                        .with_label(raw.span.clone(), "expected `:-` or `.` after this")
                        .with_help(
                            "a rule is `head :- body.` and a fact `head.`; options such as `with(w)` only follow `.output`",
                        ),
                ),
            },
            Piece::Rule { head, next, body, span } => {
                open_output = false;
                if head.callee_is_var {
                    diags.push(
                        Diagnostic::error("E0025", "a rule head must name a relation, not a variable")
                            .with_label(head.name.span.clone(), "variable"),
                    );
                }
                let head = atom(head, diags);
                let body = body.into_iter().filter_map(|l| literal(l, diags)).collect();
                items.push(Item::Rule(Rule { head, next, body, span }));
            }
        }
    }
    Program { items }
}

fn output_option(raw: RawAtom, diags: &mut Vec<Diagnostic>) -> OutputOption {
    if raw.callee_is_var {
        diags.push(
            Diagnostic::error("E0022", "an output option must be named by an identifier")
                .with_label(raw.name.span.clone(), "variable"),
        );
    }
    let mut args = Vec::new();
    for arg in raw.args {
        match arg {
            RawArg::Bare(id) => args.push(OptArg::Ident(id)),
            RawArg::Pos(Term::Const(Const::Str(s), span)) => args.push(OptArg::Str(s, span)),
            RawArg::Pos(t) | RawArg::Named(_, t) => diags.push(
                Diagnostic::error(
                    "E0022",
                    "an output option takes identifiers and strings only",
                )
                .with_label(t.span(), "not an identifier or a string"),
            ),
        }
    }
    OutputOption {
        name: raw.name,
        args,
        span: raw.span,
    }
}

fn atom(raw: RawAtom, diags: &mut Vec<Diagnostic>) -> Atom {
    let args = raw
        .args
        .into_iter()
        .filter_map(|a| match a {
            RawArg::Named(name, term) => Some(Arg::Named(name, term)),
            RawArg::Pos(term) => Some(Arg::Pos(term)),
            RawArg::Bare(id) => {
                diags.push(bare_ident(&id));
                None
            }
        })
        .collect();
    Atom {
        name: raw.name,
        callee_is_var: raw.callee_is_var,
        args,
        span: raw.span,
    }
}

fn bare_ident(id: &Ident) -> Diagnostic {
    Diagnostic::error("E0023", format!("`{}` is not a term", id.name))
        .with_label(id.span.clone(), "expected a variable, `_` or a constant")
        .with_help(format!(
            "variables are written ?{0} or with an upper-case letter; a named argument is `{0}: term`",
            id.name
        ))
}

/// The aggregate's output variable: the left side must be a plain variable.
fn agg_out(lhs: &BindForm, span: &Span, diags: &mut Vec<Diagnostic>) -> Option<Ident> {
    match lhs {
        BindForm::Scalar(Term::Var(v)) => Some(v.clone()),
        other => {
            let s = match other {
                BindForm::Scalar(t) => t.span(),
                BindForm::Tuple(_, s) | BindForm::Coll(_, s) | BindForm::Rel(_, s) => s.clone(),
            };
            diags.push(
                Diagnostic::error("E0024", "an aggregate's result must be a single variable")
                    .with_label(s, "expected a variable such as ?n")
                    .with_label(span.clone(), "in this aggregate"),
            );
            None
        }
    }
}

fn literal(raw: RawLit, diags: &mut Vec<Diagnostic>) -> Option<Literal> {
    match raw {
        RawLit::Pos(a) => Some(Literal::Pos(atom(a, diags))),
        RawLit::Neg(a, span) => Some(Literal::Neg(atom(a, diags), span)),
        RawLit::Cmp { op, lhs, rhs, span } => Some(Literal::Cmp { op, lhs, rhs, span }),
        RawLit::Bind {
            lhs,
            rhs,
            agg: None,
            span,
        } => {
            if let BindForm::Scalar(t @ Term::Const(..)) = &lhs {
                diags.push(
                    Diagnostic::error("E0026", "a constant cannot be bound with `:=`")
                        .with_label(t.span(), "expected a variable, `_` or a binding form"),
                );
                return None;
            }
            Some(Literal::Bind {
                lhs,
                rhs: atom(rhs, diags),
                span,
            })
        }
        RawLit::Bind {
            lhs,
            rhs,
            agg: Some(over),
            span,
        } => {
            let out = agg_out(&lhs, &span, diags);
            let mut args = Vec::new();
            for a in rhs.args {
                match a {
                    RawArg::Pos(t) => args.push(t),
                    RawArg::Named(name, _) => diags.push(
                        Diagnostic::error("E0024", "aggregate arguments are positional")
                            .with_label(name.span.clone(), "named argument")
                            .with_help("write count(?x), not count(x: ?x)"),
                    ),
                    RawArg::Bare(id) => diags.push(bare_ident(&id)),
                }
            }
            let atom = atom(over, diags);
            Some(Literal::Agg {
                out: out?,
                func: rhs.name,
                func_is_var: rhs.callee_is_var,
                args,
                atom,
                span,
            })
        }
        RawLit::AggSpec {
            lhs,
            func,
            args,
            atom: over,
            span,
        } => {
            let out = agg_out(&lhs, &span, diags);
            let atom = atom(over, diags);
            Some(Literal::Agg {
                out: out?,
                func,
                func_is_var: false,
                args,
                atom,
                span,
            })
        }
    }
}

// ---- printing --------------------------------------------------------------------------------

/// Whether `name` can be printed without backquotes (it lexes back as one identifier).
fn is_plain_ident(name: &str) -> bool {
    let body = name.strip_suffix(['?', '!']).unwrap_or(name);
    let mut chars = body.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || "_$-".contains(c))
        && !matches!(name, "_" | "true" | "false" | "nil")
}

impl fmt::Display for Ident {
    /// Variables print as `?name`; other names print bare when they lex back as one
    /// identifier and in backquotes otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.starts_with('?') || is_plain_ident(&self.name) {
            f.write_str(&self.name)
        } else {
            write!(f, "`{}`", self.name)
        }
    }
}

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

impl fmt::Display for Program {
    /// One item per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(f, "{item}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Decl { name, attrs, .. } => {
                write!(f, ".decl {name}(")?;
                commas(f, attrs)?;
                f.write_str(")")
            }
            Item::Input {
                name, attrs, kind, ..
            } => {
                write!(f, ".input {name}(")?;
                commas(f, attrs)?;
                write!(f, ") {kind}")
            }
            Item::Output {
                name,
                attrs,
                kind,
                options,
                ..
            } => {
                write!(f, ".output {name}(")?;
                commas(f, attrs)?;
                write!(f, ") {kind}")?;
                for o in options {
                    write!(f, " {}(", o.name)?;
                    commas(f, &o.args)?;
                    f.write_str(")")?;
                }
                Ok(())
            }
            Item::Rule(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Display for OptArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptArg::Ident(i) => write!(f, "{i}"),
            OptArg::Str(s, _) => f.write_str(&escape_string(s)),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.head)?;
        if self.next {
            f.write_str("@next")?;
        }
        if !self.body.is_empty() {
            f.write_str(" :- ")?;
            commas(f, &self.body)?;
        }
        f.write_str(".")
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        commas(f, &self.args)?;
        f.write_str(")")
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Named(name, term) => write!(f, "{name}: {term}"),
            Arg::Pos(term) => write!(f, "{term}"),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Var(v) => write!(f, "{v}"),
            Term::Wild(_) => f.write_str("_"),
            Term::Const(c, _) => write!(f, "{c}"),
        }
    }
}

impl fmt::Display for Const {
    /// EDN literal syntax, as the PomoLogic and PomoRA lexers read it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Const::Nil => f.write_str("nil"),
            Const::Bool(b) => write!(f, "{b}"),
            Const::Int(i) => write!(f, "{i}"),
            Const::Float(x) => f.write_str(&float_literal(*x)),
            Const::Str(s) => f.write_str(&escape_string(s)),
            Const::Keyword(k) => write!(f, ":{k}"),
            Const::Tagged(tag, text) => write!(f, "#{tag} {}", escape_string(text)),
            Const::Symbol(s) => write!(f, "'{s}"),
            Const::Vector(items) => {
                f.write_str("[")?;
                commas(f, items)?;
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl fmt::Display for BindForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindForm::Scalar(t) => write!(f, "{t}"),
            BindForm::Tuple(ts, _) => {
                f.write_str("[")?;
                commas(f, ts)?;
                f.write_str("]")
            }
            BindForm::Coll(t, _) => write!(f, "[{t} ...]"),
            BindForm::Rel(ts, _) => {
                f.write_str("[[")?;
                commas(f, ts)?;
                f.write_str("]]")
            }
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Pos(a) => write!(f, "{a}"),
            Literal::Bind { lhs, rhs, .. } => write!(f, "{lhs} := {rhs}"),
            Literal::Neg(a, _) => write!(f, "!{a}"),
            Literal::Cmp { op, lhs, rhs, .. } => write!(f, "{lhs} {op} {rhs}"),
            Literal::Agg {
                out,
                func,
                args,
                atom,
                ..
            } => {
                write!(f, "{out} := {func}(")?;
                commas(f, args)?;
                write!(f, ") : {atom}")
            }
        }
    }
}

#[cfg(test)]
mod tests;
