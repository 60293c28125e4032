//! The EDN reader: a logos lexer and a lalrpop grammar for the whole of EDN (nil, booleans,
//! integers, floats, strings with escapes, characters, keywords, symbols, lists, vectors, maps,
//! sets, tagged literals such as `#inst` / `#uuid`, `;` comments and `#_` discard).
//!
//! Every node carries its byte span. Commas are whitespace.
//!
//! Reading runs in three steps: the logos lexer (`edn/lexer.rs`) turns the whole input into
//! tokens and collects every lexer error; a bracket check reports unbalanced or too deeply
//! nested brackets at the bracket itself (and at the opener of an unclosed one); then the
//! lalrpop grammar (`edn/edn.lalrpop`) builds the tree. Maps and sets are checked for duplicates
//! as they are built. Any input gives a tree or diagnostics, never a panic. [`Node`]'s `Display`
//! prints canonical EDN that reads back to an equal tree modulo spans.

use crate::diag::Diagnostic;
use crate::lex::{Delim, char_literal, escape_string, float_literal};
use crate::span::Span;
use std::collections::HashMap;
use std::fmt;

pub(crate) mod lexer;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused_parens)]
    grammar,
    "/edn/edn.rs"
);

/// One EDN form.
#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Char(char),
    /// A keyword without its leading colon: `person/name` for `:person/name`.
    Keyword(String),
    /// A symbol, including `?x` variables, `$` sources, `_` and `...`.
    Symbol(String),
    List(Vec<Node>),
    Vector(Vec<Node>),
    /// Entries in source order (duplicate keys are a parse error).
    Map(Vec<(Node, Node)>),
    /// Elements in source order (duplicates are a parse error).
    Set(Vec<Node>),
    /// A tagged literal `#tag form`; the tag without `#` (`inst`, `uuid`, `my/tag`).
    Tagged(String, Box<Node>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub form: Form,
    pub span: Span,
}

impl Node {
    /// The symbol's name, if this node is a symbol.
    pub fn as_symbol(&self) -> Option<&str> {
        match &self.form {
            Form::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// The keyword's name without its colon, if this node is a keyword.
    pub fn as_keyword(&self) -> Option<&str> {
        match &self.form {
            Form::Keyword(k) => Some(k),
            _ => None,
        }
    }

    /// Equality of the forms, ignoring every span.
    pub fn same_form(&self, other: &Node) -> bool {
        self.form.same_form(&other.form)
    }
}

impl Form {
    /// A short description of the kind of form, for error messages ("a vector", "a keyword").
    pub fn kind_name(&self) -> &'static str {
        match self {
            Form::Nil => "nil",
            Form::Bool(_) => "a boolean",
            Form::Int(_) => "an integer",
            Form::Float(_) => "a float",
            Form::Str(_) => "a string",
            Form::Char(_) => "a character",
            Form::Keyword(_) => "a keyword",
            Form::Symbol(_) => "a symbol",
            Form::List(_) => "a list",
            Form::Vector(_) => "a vector",
            Form::Map(_) => "a map",
            Form::Set(_) => "a set",
            Form::Tagged(..) => "a tagged literal",
        }
    }

    /// Equality ignoring spans (two forms print the same exactly when they are equal this way,
    /// except that floats compare numerically).
    pub fn same_form(&self, other: &Form) -> bool {
        fn all(a: &[Node], b: &[Node]) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_form(y))
        }
        match (self, other) {
            (Form::List(a), Form::List(b))
            | (Form::Vector(a), Form::Vector(b))
            | (Form::Set(a), Form::Set(b)) => all(a, b),
            (Form::Map(a), Form::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((k1, v1), (k2, v2))| k1.same_form(k2) && v1.same_form(v2))
            }
            (Form::Tagged(t1, a), Form::Tagged(t2, b)) => t1 == t2 && a.same_form(b),
            _ => self == other,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.form.fmt(f)
    }
}

impl fmt::Display for Form {
    /// Canonical EDN: one space between elements, no commas, floats always with a `.` or an
    /// exponent, strings and characters escaped so that they read back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(f: &mut fmt::Formatter<'_>, open: &str, items: &[Node], close: &str) -> fmt::Result {
            f.write_str(open)?;
            for (i, n) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{n}")?;
            }
            f.write_str(close)
        }
        match self {
            Form::Nil => f.write_str("nil"),
            Form::Bool(b) => write!(f, "{b}"),
            Form::Int(i) => write!(f, "{i}"),
            Form::Float(x) => f.write_str(&float_literal(*x)),
            Form::Str(s) => f.write_str(&escape_string(s)),
            Form::Char(c) => f.write_str(&char_literal(*c)),
            Form::Keyword(k) => write!(f, ":{k}"),
            Form::Symbol(s) => f.write_str(s),
            Form::List(items) => seq(f, "(", items, ")"),
            Form::Vector(items) => seq(f, "[", items, "]"),
            Form::Set(items) => seq(f, "#{", items, "}"),
            Form::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
            Form::Tagged(tag, form) => write!(f, "#{tag} {form}"),
        }
    }
}

/// Builds a map from the forms between its braces, reporting an odd count and duplicate keys.
pub(crate) fn make_map(forms: Vec<Node>, span: Span, diags: &mut Vec<Diagnostic>) -> Form {
    let mut entries = Vec::with_capacity(forms.len() / 2);
    let mut seen: HashMap<String, Span> = HashMap::new();
    let mut it = forms.into_iter();
    while let Some(key) = it.next() {
        let Some(value) = it.next() else {
            diags.push(
                Diagnostic::error("E0015", "a map needs an even number of forms")
                    .with_label(key.span.clone(), "this key has no value")
                    .with_label(span.clone(), "in this map"),
            );
            break;
        };
        let text = key.to_string();
        if let Some(first) = seen.get(&text) {
            diags.push(
                Diagnostic::error("E0016", format!("duplicate map key `{text}`"))
                    .with_label(key.span.clone(), "duplicate key")
                    .with_label(first.clone(), "first used here"),
            );
        } else {
            seen.insert(text, key.span.clone());
        }
        entries.push((key, value));
    }
    Form::Map(entries)
}

/// Builds a set, reporting duplicate elements.
pub(crate) fn make_set(items: Vec<Node>, diags: &mut Vec<Diagnostic>) -> Form {
    let mut seen: HashMap<String, Span> = HashMap::new();
    for item in &items {
        let text = item.to_string();
        if let Some(first) = seen.get(&text) {
            diags.push(
                Diagnostic::error("E0017", format!("duplicate set element `{text}`"))
                    .with_label(item.span.clone(), "duplicate element")
                    .with_label(first.clone(), "first given here"),
            );
        } else {
            seen.insert(text, item.span.clone());
        }
    }
    Form::Set(items)
}

/// Reads zero or more forms.
pub fn parse_forms(src: &str) -> Result<Vec<Node>, Vec<Diagnostic>> {
    use lexer::Tok;
    crate::lex::parse_bracketed(
        src,
        lexer::lex(src),
        |t| match t {
            Tok::LParen => Delim::Open {
                open: "(",
                close: ")",
            },
            Tok::LBracket => Delim::Open {
                open: "[",
                close: "]",
            },
            Tok::LBrace => Delim::Open {
                open: "{",
                close: "}",
            },
            Tok::SetOpen => Delim::Open {
                open: "#{",
                close: "}",
            },
            Tok::RParen => Delim::Close(")"),
            Tok::RBracket => Delim::Close("]"),
            Tok::RBrace => Delim::Close("}"),
            _ => Delim::Other,
        },
        |diags, tokens| grammar::FormsParser::new().parse(diags, tokens.map(Ok)),
        ("E0010", "E0011"),
        "input",
    )
}

/// Reads exactly one form; no form, or more than one, is an error.
pub fn parse_one(src: &str) -> Result<Node, Vec<Diagnostic>> {
    let mut forms = parse_forms(src)?;
    match forms.len() {
        0 => Err(vec![
            Diagnostic::error("E0018", "expected one form, found none")
                .with_label(src.len()..src.len(), "the input ends here"),
        ]),
        1 => Ok(forms.remove(0)),
        _ => {
            let extra = forms[1].span.start..forms[forms.len() - 1].span.end;
            Err(vec![
                Diagnostic::error("E0018", "expected one form, found more")
                    .with_label(extra, "unexpected extra form")
                    .with_label(forms[0].span.clone(), "the form")
                    .with_help("a query or rule set is a single vector or map"),
            ])
        }
    }
}

#[cfg(test)]
mod tests;
