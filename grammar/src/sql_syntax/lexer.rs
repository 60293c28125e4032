//! The SQL lexer (logos), following SQLite's tokenizer where the subset needs it.
//!
//! Words are lexed as one raw token and classified afterwards ([`lex`]): a word that is a
//! keyword (in any letter case) becomes [`Tok::Kw`], any other word an [`Tok::Ident`] in ASCII
//! lower case. `KEY`, `VIEW`, `INDEXED`, `REPLACE`, `TEMP`, `TEMPORARY`, `TRIGGER` and
//! `REINDEX` are non-reserved: the grammar also accepts them as names (its
//! `Name` rule); every other keyword must be quoted to be used as a name. Quoted names (`"x"`,
//! `` `x` ``, `[x]`) keep their text as written; a doubled quote inside `"…"` or `` `…` `` stands for one. Strings are `'…'` with `''` for a quote.
//! An integer literal that does not fit in an `i64` becomes a float, as in SQLite; a number
//! directly followed by a letter or `_` (`12ab`, `1.5x`) is one malformed-number error.
//! Comments are `-- …` to the end of the line and `/* … */`; like SQLite, an unterminated
//! `/*` comment runs to the end of the input.
//!
//! Invariant: [`lex`] never returns [`Tok::Word`] or [`Tok::Number`]; the parser sees
//! keywords, identifiers, integers and floats only.

use crate::lex::{LexError, LexErrorKind, trailing_word};
use logos::{Lexer, Logos, Skip};

macro_rules! keywords {
    ($($variant:ident $text:literal,)*) => {
        /// A reserved or non-reserved keyword of the SQL subset.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kw {
            $($variant,)*
        }

        impl Kw {
            /// The keyword for a word written in any letter case, if it is one.
            pub fn from_word(word: &str) -> Option<Kw> {
                // Keywords are short ASCII words; longer or non-ASCII words are identifiers.
                if word.len() > 10 || !word.is_ascii() {
                    return None;
                }
                match word.to_ascii_uppercase().as_str() {
                    $($text => Some(Kw::$variant),)*
                    _ => None,
                }
            }

            /// The keyword in upper case, as the printer writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kw::$variant => $text,)*
                }
            }
        }
    };
}

keywords! {
    All "ALL",
    And "AND",
    As "AS",
    Asc "ASC",
    Begin "BEGIN",
    Between "BETWEEN",
    By "BY",
    Case "CASE",
    Cast "CAST",
    Create "CREATE",
    Cross "CROSS",
    Default "DEFAULT",
    Delete "DELETE",
    Desc "DESC",
    Distinct "DISTINCT",
    Drop "DROP",
    Else "ELSE",
    End "END",
    Escape "ESCAPE",
    Except "EXCEPT",
    Exists "EXISTS",
    False "FALSE",
    From "FROM",
    Full "FULL",
    Group "GROUP",
    Having "HAVING",
    If "IF",
    In "IN",
    Index "INDEX",
    Indexed "INDEXED",
    Inner "INNER",
    Insert "INSERT",
    Intersect "INTERSECT",
    Into "INTO",
    Is "IS",
    IsNull "ISNULL",
    Join "JOIN",
    Key "KEY",
    Left "LEFT",
    Like "LIKE",
    Limit "LIMIT",
    Natural "NATURAL",
    Not "NOT",
    NotNull "NOTNULL",
    Null "NULL",
    Offset "OFFSET",
    On "ON",
    Or "OR",
    Order "ORDER",
    Outer "OUTER",
    Over "OVER",
    Primary "PRIMARY",
    Recursive "RECURSIVE",
    References "REFERENCES",
    Reindex "REINDEX",
    Replace "REPLACE",
    Right "RIGHT",
    Select "SELECT",
    Set "SET",
    Table "TABLE",
    Temp "TEMP",
    Temporary "TEMPORARY",
    Then "THEN",
    Trigger "TRIGGER",
    True "TRUE",
    Union "UNION",
    Unique "UNIQUE",
    Update "UPDATE",
    Using "USING",
    Values "VALUES",
    View "VIEW",
    When "WHEN",
    Where "WHERE",
    With "WITH",
}

/// A numeric literal as lexed: integers that do not fit in an `i64` are floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error = LexErrorKind)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"--[^\n]*", allow_greedy = true))]
pub enum Tok<'input> {
    /// A `/* … */` comment; the callback skips it, so it is never produced.
    #[token("/*", block_comment)]
    Comment,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token(";")]
    Semi,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("||")]
    Concat,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("&")]
    BitAnd,
    #[token("|")]
    BitOr,
    #[token("~")]
    Tilde,
    #[token("=")]
    Eq,
    #[token("==")]
    EqEq,
    #[token("<>")]
    LtGt,
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
    /// A raw word, classified by [`lex`] into [`Tok::Kw`] or [`Tok::Ident`].
    #[regex(r"([A-Za-z_]|[^\x00-\x7F])([A-Za-z0-9_$]|[^\x00-\x7F])*", |lex| lex.slice())]
    Word(&'input str),
    /// A keyword (from a [`Tok::Word`]).
    Kw(Kw),
    /// An unquoted identifier in ASCII lower case (from a [`Tok::Word`]).
    Ident(String),
    /// A quoted identifier, as written between the quotes.
    #[token("\"", |lex| quoted(lex, '"'))]
    #[token("`", |lex| quoted(lex, '`'))]
    #[token("[", bracketed)]
    QuotedIdent(String),
    /// A raw number, split by [`lex`] into [`Tok::Int`] and [`Tok::Float`].
    #[regex(r"[0-9]+", integer)]
    #[regex(r"[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?", float)]
    #[regex(r"\.[0-9]+([eE][+-]?[0-9]+)?", float)]
    #[regex(r"[0-9]+[eE][+-]?[0-9]+", float)]
    Number(Number),
    Int(i64),
    Float(f64),
    #[token("'", string)]
    Str(String),
    /// A blob literal `x'…'` (either letter case), its bytes.
    #[regex(r"[xX]'", blob)]
    Blob(Vec<u8>),
}

impl Tok<'_> {
    /// Whether the token can add a level of nesting to the syntax tree without a parenthesis
    /// (an operator, or a keyword that starts or continues an expression or a compound query).
    /// The depth check before parsing counts these.
    pub(crate) fn nests(&self) -> bool {
        match self {
            Tok::Plus
            | Tok::Minus
            | Tok::Star
            | Tok::Slash
            | Tok::Percent
            | Tok::Concat
            | Tok::Shl
            | Tok::Shr
            | Tok::BitAnd
            | Tok::BitOr
            | Tok::Tilde
            | Tok::Eq
            | Tok::EqEq
            | Tok::LtGt
            | Tok::Ne
            | Tok::Lt
            | Tok::Le
            | Tok::Gt
            | Tok::Ge => true,
            Tok::Kw(k) => matches!(
                k,
                Kw::And
                    | Kw::Or
                    | Kw::Not
                    | Kw::Is
                    | Kw::IsNull
                    | Kw::NotNull
                    | Kw::In
                    | Kw::Like
                    | Kw::Escape
                    | Kw::Between
                    | Kw::Case
                    | Kw::Cast
                    | Kw::Exists
                    | Kw::Union
                    | Kw::Intersect
                    | Kw::Except
            ),
            _ => false,
        }
    }

    /// Whether the token joins two selects of a compound query (such a chain spans commas).
    pub(crate) fn is_set_op(&self) -> bool {
        matches!(self, Tok::Kw(Kw::Union | Kw::Intersect | Kw::Except))
    }
}

fn block_comment<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Skip {
    let rest = lex.remainder();
    let consumed = rest.find("*/").map_or(rest.len(), |i| i + 2);
    lex.bump(consumed);
    Skip
}

/// Scans a quoted name after its opening quote; a doubled `close` stands for one.
fn quoted<'a>(lex: &mut Lexer<'a, Tok<'a>>, close: char) -> Result<String, LexErrorKind> {
    let rest = lex.remainder();
    let mut out = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == close {
            if chars.peek().map(|&(_, n)| n) == Some(close) {
                chars.next();
                out.push(close);
                continue;
            }
            lex.bump(i + 1);
            return Ok(out);
        }
        out.push(c);
    }
    lex.bump(rest.len());
    Err(LexErrorKind::UnterminatedQuotedName(close))
}

/// Scans a `[name]` after its `[`; there is no escape for `]`.
fn bracketed<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<String, LexErrorKind> {
    let rest = lex.remainder();
    match rest.find(']') {
        Some(i) => {
            lex.bump(i + 1);
            Ok(rest[..i].to_string())
        }
        None => {
            lex.bump(rest.len());
            Err(LexErrorKind::UnterminatedQuotedName(']'))
        }
    }
}

/// Scans a string literal after its opening `'`; `''` stands for one quote.
fn string<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<String, LexErrorKind> {
    let rest = lex.remainder();
    let mut out = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|&(_, n)| n) == Some('\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            lex.bump(i + 1);
            return Ok(out);
        }
        out.push(c);
    }
    lex.bump(rest.len());
    Err(LexErrorKind::UnterminatedSqlString)
}

/// Scans a blob literal after its `x'`: an even number of hexadecimal digits, then `'`.
fn blob<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<Vec<u8>, LexErrorKind> {
    let rest = lex.remainder();
    let Some(end) = rest.find('\'') else {
        lex.bump(rest.len());
        return Err(LexErrorKind::BadBlob);
    };
    lex.bump(end + 1);
    let hex = rest[..end].as_bytes();
    if hex.len() % 2 != 0 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return Err(LexErrorKind::BadBlob);
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    };
    Ok(hex
        .chunks_exact(2)
        .map(|p| digit(p[0]) * 16 + digit(p[1]))
        .collect())
}

/// Consumes letters, digits and `_` directly after a number, reporting them as part of one
/// malformed number.
fn reject_junk<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<(), LexErrorKind> {
    let junk = trailing_word(lex.remainder());
    if junk > 0 {
        lex.bump(junk);
        return Err(LexErrorKind::BadNumber);
    }
    Ok(())
}

fn integer<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<Number, LexErrorKind> {
    reject_junk(lex)?;
    if let Ok(i) = lex.slice().parse::<i64>() {
        return Ok(Number::Int(i));
    }
    // SQLite reads an integer literal that does not fit in 64 bits as a float.
    match lex.slice().parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Number::Float(f)),
        _ => Err(LexErrorKind::BadNumber),
    }
}

fn float<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<Number, LexErrorKind> {
    reject_junk(lex)?;
    match lex.slice().parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Number::Float(f)),
        _ => Err(LexErrorKind::BadNumber),
    }
}

/// Lexes the whole input; returns the tokens (words classified, numbers split), or every lexer
/// error.
pub fn lex(src: &str) -> Result<Vec<(usize, Tok<'_>, usize)>, Vec<LexError>> {
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    for (tok, span) in Tok::lexer(src).spanned() {
        match tok {
            Ok(t) => {
                let t = match t {
                    Tok::Word(w) => match Kw::from_word(w) {
                        Some(k) => Tok::Kw(k),
                        None => Tok::Ident(w.to_ascii_lowercase()),
                    },
                    Tok::Number(Number::Int(i)) => Tok::Int(i),
                    Tok::Number(Number::Float(f)) => Tok::Float(f),
                    t => t,
                };
                tokens.push((span.start, t, span.end));
            }
            Err(kind) => errors.push(LexError { kind, span }),
        }
    }
    if errors.is_empty() {
        Ok(tokens)
    } else {
        Err(errors)
    }
}
