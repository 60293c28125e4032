//! The PomoLogic lexer (logos).
//!
//! Invariants: a lone `_` is the wildcard, not an identifier; identifiers starting with an
//! upper-case letter are variables and come out as `?Name`; a variable, keyword or quoted
//! symbol never ends in `.` (so `X > ?y.` ends the rule rather than extending the variable);
//! `:` directly followed by a letter or `_` starts a keyword while a lone `:` is the colon of a
//! named argument or an aggregate (`:=` and `:-` are their own tokens); a number directly
//! followed by a letter is one malformed-number error.

use crate::lex::{LexError, LexErrorKind, scan_backquoted, scan_string, trailing_word};
use logos::{Lexer, Logos};

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error = LexErrorKind)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Tok<'input> {
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token(":")]
    Colon,
    #[token(":=")]
    Assign,
    #[token(":-")]
    Turnstile,
    #[token("!")]
    Bang,
    #[token("==")]
    EqEq,
    #[token("=")]
    Eq,
    #[token("!=")]
    Ne,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("...")]
    Ellipsis,
    #[token("@next")]
    AtNext,
    #[token(".decl")]
    Decl,
    #[token(".input")]
    Input,
    #[token(".output")]
    Output,
    #[token("_", priority = 10)]
    Wild,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("nil")]
    Nil,
    #[regex(r"[a-z_][A-Za-z0-9_$\-]*[?!]?", |lex| lex.slice().to_string())]
    #[token("`", backquoted)]
    Ident(String),
    #[regex(r"\?[A-Za-z0-9_\-*+!<>=/.]*[A-Za-z0-9_\-*+!<>=/]", |lex| lex.slice().to_string())]
    #[regex(r"[A-Z][A-Za-z0-9_$\-]*", |lex| format!("?{}", lex.slice()))]
    Var(String),
    #[regex(r"-?[0-9]+", int)]
    Int(i64),
    #[regex(r"-?[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?", float)]
    #[regex(r"-?[0-9]+[eE][+-]?[0-9]+", float)]
    Float(f64),
    #[token("\"", string)]
    Str(String),
    #[regex(r":[A-Za-z_]([A-Za-z0-9_\-.*+!?$%&=<>/]*[A-Za-z0-9_\-*+!?$%&=<>/])?", |lex| &lex.slice()[1..])]
    Keyword(&'input str),
    #[regex(r"#[A-Za-z][A-Za-z0-9_\-./]*", |lex| &lex.slice()[1..])]
    Tag(&'input str),
    #[regex(r"'[A-Za-z_*+!\-?<>=/$]([A-Za-z0-9_\-.*+!?$%&=<>/]*[A-Za-z0-9_\-*+!?$%&=<>/])?", |lex| &lex.slice()[1..])]
    Symbol(&'input str),
}

fn int<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<i64, LexErrorKind> {
    let junk = trailing_word(lex.remainder());
    if junk > 0 {
        lex.bump(junk);
        return Err(LexErrorKind::BadNumber);
    }
    lex.slice()
        .parse::<i64>()
        .map_err(|_| LexErrorKind::IntOutOfRange)
}

fn float<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<f64, LexErrorKind> {
    let junk = trailing_word(lex.remainder());
    if junk > 0 {
        lex.bump(junk);
        return Err(LexErrorKind::BadNumber);
    }
    match lex.slice().parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(f),
        _ => Err(LexErrorKind::BadNumber),
    }
}

fn string<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<String, LexErrorKind> {
    let base = lex.span().end;
    let (consumed, result) = scan_string(lex.remainder(), base);
    lex.bump(consumed);
    result
}

fn backquoted<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<String, LexErrorKind> {
    let (consumed, result) = scan_backquoted(lex.remainder());
    lex.bump(consumed);
    result
}

/// Lexes the whole input; returns the tokens, or every lexer error.
pub fn lex(src: &str) -> Result<Vec<(usize, Tok<'_>, usize)>, Vec<LexError>> {
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    for (tok, span) in Tok::lexer(src).spanned() {
        match tok {
            Ok(t) => tokens.push((span.start, t, span.end)),
            Err(kind) => errors.push(LexError { kind, span }),
        }
    }
    if errors.is_empty() {
        Ok(tokens)
    } else {
        Err(errors)
    }
}
