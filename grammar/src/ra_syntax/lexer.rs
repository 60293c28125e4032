//! The PomoRA lexer (logos).
//!
//! Invariants: the operator names and `relation stratum recursive loop until empty and or not
//! true false nil` are reserved words (a relation with such a name is written in backquotes);
//! an identifier never ends in `-`, so `a->b` is `a`, `->`, `b`; `_` is an identifier (it
//! names a discarded column in a `map` binding); variables keep their `?` and never end in `.`.

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
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":=")]
    Assign,
    #[token("->")]
    Arrow,
    #[token("=")]
    Eq,
    #[token("==")]
    EqEq,
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
    #[token("@")]
    At,
    #[token("project")]
    Project,
    #[token("rename")]
    Rename,
    #[token("select")]
    Select,
    #[token("union")]
    Union,
    #[token("diff")]
    Diff,
    #[token("product")]
    Product,
    #[token("join")]
    Join,
    #[token("theta_join")]
    ThetaJoin,
    #[token("equijoin")]
    EquiJoin,
    #[token("semijoin")]
    SemiJoin,
    #[token("antijoin")]
    AntiJoin,
    #[token("group_by")]
    GroupBy,
    #[token("map")]
    Map,
    #[token("values")]
    Values,
    #[token("relation")]
    Relation,
    #[token("stratum")]
    Stratum,
    #[token("recursive")]
    Recursive,
    #[token("loop")]
    Loop,
    #[token("until")]
    Until,
    #[token("empty")]
    Empty,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("not")]
    Not,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("nil")]
    Nil,
    #[regex(r"[A-Za-z_]([A-Za-z0-9_$\-]*[A-Za-z0-9_$])?[?!]?", |lex| lex.slice().to_string())]
    #[token("`", backquoted)]
    Ident(String),
    #[regex(r"\?[A-Za-z0-9_\-*+!<>=/.]*[A-Za-z0-9_\-*+!<>=/]", |lex| lex.slice().to_string())]
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
