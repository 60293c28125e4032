//! How PomoLogic programs print: the `Display` impls, whose text parses back to an equal tree
//! modulo spans (what `pomo explain --stage logic` shows).
//!
//! Names print bare when they lex back as one identifier and in backquotes otherwise; constants
//! print in EDN literal syntax.

use super::ast::{
    Arg, Atom, BindForm, CmpOp, Const, Ident, Item, Literal, OptArg, Program, Rule, Term,
};
use crate::lex::{escape_string, float_literal};
use std::fmt;

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
