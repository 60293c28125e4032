//! The EDN lexer (logos). Tokens borrow symbol, keyword and tag text from the input; strings
//! and characters are unescaped by callbacks that scan by hand, so that an unknown escape is
//! reported with the escape's own span.
//!
//! Invariants: `-1` and `+5` are integers while `-`, `+`, `-foo` and `...` are symbols (a symbol
//! never starts with a sign or `.` followed by a digit); a number directly followed by symbol
//! characters (`1.5x`, `0x10`) is one malformed-number error rather than two tokens; `nil`,
//! `true` and `false` win over the symbol pattern. Symbols and keywords may contain Unicode letters.

use crate::lex::{LexError, LexErrorKind, scan_char, scan_string, trailing_junk};
use logos::{Lexer, Logos};

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error = LexErrorKind)]
#[logos(skip r"[ \t\r\n\f,]+")]
#[logos(skip(r";[^\n]*", allow_greedy = true))]
pub enum Tok<'input> {
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("#{")]
    SetOpen,
    #[token("#_")]
    Discard,
    #[token("nil")]
    Nil,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[regex(r"[+-]?[0-9]+N?", int)]
    Int(i64),
    #[regex(r"[+-]?[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?M?", float)]
    #[regex(r"[+-]?[0-9]+[eE][+-]?[0-9]+M?", float)]
    #[regex(r"[+-]?[0-9]+M", float)]
    Float(f64),
    #[token("\"", string)]
    Str(String),
    #[token("\\", character)]
    Char(char),
    #[regex(r":[\p{L}0-9.*+!\-_?$%&=<>/][\p{L}0-9.*+!\-_?$%&=<>/:#']*", |lex| &lex.slice()[1..])]
    Keyword(&'input str),
    #[regex(r"[\p{L}*!_?$%&=<>/][\p{L}0-9.*+!\-_?$%&=<>/:#']*", |lex| lex.slice())]
    #[regex(r"[+\-.]([\p{L}*!_?$%&=<>/+\-.:#'][\p{L}0-9.*+!\-_?$%&=<>/:#']*)?", |lex| lex.slice())]
    Symbol(&'input str),
    #[regex(r"#[A-Za-z][A-Za-z0-9.*+!\-_?$%&=<>/:#']*", |lex| &lex.slice()[1..])]
    Tag(&'input str),
}

/// Rejects a number directly followed by symbol characters, consuming them into the error.
fn reject_junk<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<(), LexErrorKind> {
    let junk = trailing_junk(lex.remainder());
    if junk > 0 {
        lex.bump(junk);
        return Err(LexErrorKind::BadNumber);
    }
    Ok(())
}

fn int<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<i64, LexErrorKind> {
    reject_junk(lex)?;
    let text = lex.slice().trim_end_matches('N');
    text.parse::<i64>().map_err(|_| LexErrorKind::IntOutOfRange)
}

fn float<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<f64, LexErrorKind> {
    reject_junk(lex)?;
    let text = lex.slice().trim_end_matches('M');
    match text.parse::<f64>() {
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

fn character<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<char, LexErrorKind> {
    let (consumed, result) = scan_char(lex.remainder());
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
