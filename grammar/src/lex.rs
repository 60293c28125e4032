//! Lexing helpers shared by the text languages (EDN, PomoLogic, PomoRA, SQL): the lexer error
//! type, the string / character / number scanners that logos callbacks call, the delimiter
//! check that runs between lexing and parsing, and the conversion of lalrpop errors into
//! [`Diagnostic`]s.
//!
//! Every parser in this crate runs the same three steps: lex the whole input into a token
//! vector (collecting every lexer error), check that brackets balance and do not nest too
//! deeply (so that an unclosed bracket is reported at its opener, and so that no later
//! recursive walk over the tree can overflow the stack), and only then run the lalrpop parser.
//! Spans are byte offsets throughout; lexer errors carry their own span because lalrpop's
//! `ParseError::User` has no location of its own.

use crate::diag::Diagnostic;
use crate::span::Span;
use lalrpop_util::ParseError;

/// How deeply brackets may nest. Deeper input is rejected before parsing, which keeps every
/// recursive walk over the resulting trees (printing, dropping, the query parser) far away from
/// the stack limit.
pub(crate) const MAX_DEPTH: usize = 256;

/// What went wrong while lexing; the logos error type of every lexer in this crate.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LexErrorKind {
    /// No token starts here (logos' default error).
    #[default]
    UnexpectedChar,
    /// A string whose closing quote is missing.
    UnterminatedString,
    /// An unknown or malformed escape inside a string, with the escape's own span.
    BadEscape(Span, String),
    /// A malformed character literal such as `\foo`.
    BadChar(String),
    /// An integer literal that does not fit in an `i64`.
    IntOutOfRange,
    /// A malformed number such as `1.5x`, or a float that overflows.
    BadNumber,
    /// A backquoted name whose closing backquote is missing.
    UnterminatedName,
    /// A SQL string (`'…'`) whose closing quote is missing.
    UnterminatedSqlString,
    /// A quoted SQL name (`"…"`, `` `…` ``, `[…]`) whose closing quote (given) is missing.
    UnterminatedQuotedName(char),
    /// A SQL blob literal (`x'…'`) that is not an even number of hexadecimal digits, or whose
    /// closing quote is missing.
    BadBlob,
}

/// A lexer error with its byte span.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub kind: LexErrorKind,
    pub span: Span,
}

impl LexError {
    pub(crate) fn to_diagnostic(&self, src: &str) -> Diagnostic {
        let text = snippet(src, &self.span);
        match &self.kind {
            LexErrorKind::UnexpectedChar => {
                Diagnostic::error("E0001", format!("unexpected character `{text}`"))
                    .with_label(self.span.clone(), "no token starts with this character")
            }
            LexErrorKind::UnterminatedString => {
                let open = self.span.start..self.span.start + 1;
                Diagnostic::error("E0002", "unterminated string")
                    .with_label(src.len()..src.len(), "the input ends inside the string")
                    .with_label(open, "the string starts here")
                    .with_help("close the string with `\"`")
            }
            LexErrorKind::BadEscape(span, why) => Diagnostic::error("E0003", why.clone())
                .with_label(span.clone(), "invalid escape")
                .with_help(r#"the escapes are \n \t \r \b \f \" \\ and \uXXXX"#),
            LexErrorKind::BadChar(why) => Diagnostic::error("E0004", why.clone())
                .with_label(self.span.clone(), "invalid character literal")
                .with_help(
                    r"write a single character (\a), a name (\newline \space \tab \return \formfeed \backspace) or \uXXXX",
                ),
            LexErrorKind::IntOutOfRange => {
                Diagnostic::error("E0005", format!("integer `{text}` does not fit in 64 bits"))
                    .with_label(self.span.clone(), "out of range")
                    .with_help("integers must lie between -9223372036854775808 and 9223372036854775807")
            }
            LexErrorKind::BadNumber => Diagnostic::error("E0006", format!("invalid number `{text}`"))
                .with_label(self.span.clone(), "not a valid number"),
            LexErrorKind::UnterminatedName => {
                Diagnostic::error("E0007", "unterminated backquoted name")
                    .with_label(self.span.start..self.span.start + 1, "the name starts here")
                    .with_help("close the name with a backquote")
            }
            LexErrorKind::UnterminatedSqlString => {
                let open = self.span.start..self.span.start + 1;
                Diagnostic::error("E0002", "unterminated string")
                    .with_label(src.len()..src.len(), "the input ends inside the string")
                    .with_label(open, "the string starts here")
                    .with_help("close the string with `'`; inside a string, write `''` for one quote")
            }
            LexErrorKind::UnterminatedQuotedName(close) => {
                let open = self.span.start..self.span.start + 1;
                Diagnostic::error("E0802", "unterminated quoted name")
                    .with_label(src.len()..src.len(), "the input ends inside the name")
                    .with_label(open, "the name starts here")
                    .with_help(format!("close the name with `{close}`"))
            }
            LexErrorKind::BadBlob => {
                Diagnostic::error("E0808", format!("malformed blob literal `{text}`"))
                    .with_label(self.span.clone(), "not a blob")
                    .with_help("a blob literal is X'…' with an even number of hexadecimal digits")
            }
        }
    }
}

/// The source text of a span, shortened for messages (and empty when the span is out of range,
/// so that a bad span can never make a message panic).
pub(crate) fn snippet(src: &str, span: &Span) -> String {
    let text = src.get(span.clone()).unwrap_or("");
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Scans the rest of a string literal after its opening quote. Returns the number of bytes
/// consumed (up to and including the closing quote, or to the end of input) and the unescaped
/// text or the first error. `base` is the absolute offset of `rest`, for error spans.
pub(crate) fn scan_string(rest: &str, base: usize) -> (usize, Result<String, LexErrorKind>) {
    let mut out = String::new();
    let mut error: Option<LexErrorKind> = None;
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (i + 1, error.map_or(Ok(out), Err)),
            '\\' => {
                let Some((j, e)) = chars.next() else { break };
                let simple = match e {
                    'n' => Some('\n'),
                    't' => Some('\t'),
                    'r' => Some('\r'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                if e == 'u' {
                    let hex: String = rest[j + 1..].chars().take(4).collect();
                    let decoded = (hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                        .then(|| u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32))
                        .flatten();
                    match decoded {
                        Some(ch) => {
                            out.push(ch);
                            for _ in 0..4 {
                                chars.next();
                            }
                        }
                        None => {
                            let end = j + 1 + hex.len();
                            error.get_or_insert(LexErrorKind::BadEscape(
                                base + i..base + end,
                                "invalid unicode escape: expected four hex digits naming a character"
                                    .to_string(),
                            ));
                        }
                    }
                    continue;
                }
                error.get_or_insert(LexErrorKind::BadEscape(
                    base + i..base + j + e.len_utf8(),
                    format!("unknown escape `\\{e}` in string"),
                ));
            }
            _ => out.push(c),
        }
    }
    (rest.len(), Err(LexErrorKind::UnterminatedString))
}

/// Escapes a string for printing inside double quotes, so that [`scan_string`] reads it back.
pub(crate) fn escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `c` may continue an EDN symbol (and so may not directly follow a number).
pub(crate) fn is_symbol_char(c: char) -> bool {
    c.is_alphanumeric() || ".*+!-_?$%&=<>/:#'".contains(c)
}

/// The number of bytes at the start of `rest` that continue a malformed number (symbol
/// characters), so that `1.5x` is reported as one bad token rather than `1.5` then `x`.
pub(crate) fn trailing_junk(rest: &str) -> usize {
    rest.char_indices()
        .find(|&(_, c)| !is_symbol_char(c))
        .map_or(rest.len(), |(i, _)| i)
}

/// The number of bytes of letters, digits and `_` at the start of `rest`: in PomoLogic and
/// PomoRA a number directly followed by these (`12ab`) is malformed, while `1.` ends a fact.
pub(crate) fn trailing_word(rest: &str) -> usize {
    rest.char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(rest.len(), |(i, _)| i)
}

/// Scans a backquoted name after its opening backquote; returns the bytes consumed and the name.
pub(crate) fn scan_backquoted(rest: &str) -> (usize, Result<String, LexErrorKind>) {
    match rest.find('`') {
        Some(i) => (i + 1, Ok(rest[..i].to_string())),
        None => (rest.len(), Err(LexErrorKind::UnterminatedName)),
    }
}

/// Scans a character literal after its backslash: one character, or a name (`newline`,
/// `space`, `tab`, `return`, `formfeed`, `backspace`), or `uXXXX`. Returns the bytes consumed.
pub(crate) fn scan_char(rest: &str) -> (usize, Result<char, LexErrorKind>) {
    let Some(first) = rest.chars().next() else {
        return (
            0,
            Err(LexErrorKind::BadChar(
                "a backslash must be followed by a character".into(),
            )),
        );
    };
    if first.is_whitespace() {
        return (
            0,
            Err(LexErrorKind::BadChar(
                "a backslash must be followed by a character".into(),
            )),
        );
    }
    if !first.is_ascii_alphanumeric() {
        return (first.len_utf8(), Ok(first));
    }
    let len = rest
        .char_indices()
        .find(|&(_, c)| !c.is_ascii_alphanumeric())
        .map_or(rest.len(), |(i, _)| i);
    let word = &rest[..len];
    if word.len() == 1 {
        return (len, Ok(first));
    }
    let named = match word {
        "newline" => Some('\n'),
        "space" => Some(' '),
        "tab" => Some('\t'),
        "return" => Some('\r'),
        "formfeed" => Some('\u{c}'),
        "backspace" => Some('\u{8}'),
        _ => None,
    };
    if let Some(c) = named {
        return (len, Ok(c));
    }
    if let Some(hex) = word.strip_prefix('u')
        && hex.len() == 4
        && let Some(c) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
    {
        return (len, Ok(c));
    }
    (
        len,
        Err(LexErrorKind::BadChar(format!(
            "unknown character name `\\{word}`"
        ))),
    )
}

/// Prints a character literal so that [`scan_char`] reads it back.
pub(crate) fn char_literal(c: char) -> String {
    match c {
        '\n' => "\\newline".into(),
        ' ' => "\\space".into(),
        '\t' => "\\tab".into(),
        '\r' => "\\return".into(),
        '\u{c}' => "\\formfeed".into(),
        '\u{8}' => "\\backspace".into(),
        c if c.is_control() || c.is_whitespace() => format!("\\u{:04x}", c as u32),
        c => format!("\\{c}"),
    }
}

/// Prints a float so that it reads back as a float: always with a `.` or an exponent.
pub(crate) fn float_literal(f: f64) -> String {
    // `Debug` for f64 prints the shortest representation that round-trips and always includes
    // a `.` or an `e` for finite values; the readers reject non-finite floats.
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) || !f.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

/// How a token takes part in bracket matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delim {
    /// Opens a group that `close` closes; `open` is how the opener is written.
    Open {
        open: &'static str,
        close: &'static str,
    },
    Close(&'static str),
    Other,
}

/// Checks that brackets balance and nest at most [`MAX_DEPTH`] deep. `tokens` gives each token's
/// span and role; the returned diagnostics point at the offending bracket, and an unclosed
/// bracket also gets a label on its opener.
pub(crate) fn check_delims(
    src: &str,
    tokens: impl Iterator<Item = (Span, Delim)>,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut stack: Vec<(&'static str, &'static str, Span)> = Vec::new();
    for (span, delim) in tokens {
        match delim {
            Delim::Open { open, close } => {
                if stack.len() >= MAX_DEPTH {
                    diags.push(
                        Diagnostic::error(
                            "E0009",
                            format!("brackets nest more than {MAX_DEPTH} levels deep"),
                        )
                        .with_label(span, "too deeply nested"),
                    );
                    return diags;
                }
                stack.push((open, close, span));
            }
            Delim::Close(close) => match stack.pop() {
                Some((_, expected, _)) if expected == close => {}
                Some((open, expected, open_span)) => diags.push(
                    Diagnostic::error(
                        "E0014",
                        format!(
                            "mismatched closing delimiter: expected `{expected}`, found `{close}`"
                        ),
                    )
                    .with_label(span, format!("expected `{expected}`"))
                    .with_label(open_span, format!("`{open}` opened here")),
                ),
                None => diags.push(
                    Diagnostic::error("E0013", format!("unmatched `{close}`"))
                        .with_label(span, "no bracket to close here"),
                ),
            },
            Delim::Other => {}
        }
    }
    while let Some((open, close, open_span)) = stack.pop() {
        diags.push(
            Diagnostic::error("E0012", format!("unclosed `{open}`"))
                .with_label(
                    src.len()..src.len(),
                    format!("expected `{close}` before the end of input"),
                )
                .with_label(open_span, format!("this `{open}` is never closed")),
        );
    }
    diags
}

/// Turns lalrpop's list of expected terminals (`"\"]\""`) into readable text.
fn expected_text(expected: &[String]) -> String {
    let names: Vec<String> = expected
        .iter()
        .map(|e| {
            let bare = e.trim_matches('"');
            // Terminals that name a class of token read better without backquotes.
            if bare.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
                && bare.len() > 2
                && !is_reserved_name(bare)
            {
                bare.to_string()
            } else {
                format!("`{bare}`")
            }
        })
        .collect();
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        _ => format!("one of {}", names.join(", ")),
    }
}

/// Terminals spelled as words that are also literal keywords of a language (so they are quoted).
fn is_reserved_name(s: &str) -> bool {
    matches!(
        s,
        "nil"
            | "true"
            | "false"
            | "relation"
            | "stratum"
            | "recursive"
            | "loop"
            | "until"
            | "empty"
            | "and"
            | "or"
            | "not"
            | "project"
            | "rename"
            | "select"
            | "union"
            | "diff"
            | "product"
            | "join"
            | "theta_join"
            | "equijoin"
            | "semijoin"
            | "antijoin"
            | "group_by"
            | "map"
            | "values"
    )
}

/// Converts a lalrpop error into a diagnostic. `codes` gives the codes for an unexpected token
/// and an unexpected end of input in the calling language.
pub(crate) fn parse_error_to_diag<T>(
    src: &str,
    err: ParseError<usize, T, LexError>,
    codes: (&str, &str),
    what: &str,
) -> Diagnostic {
    match err {
        ParseError::User { error } => error.to_diagnostic(src),
        ParseError::InvalidToken { location } => Diagnostic::error(codes.0, "invalid token")
            .with_label(location..location, "invalid token"),
        ParseError::UnrecognizedEof { location, expected } => {
            let mut d = Diagnostic::error(codes.1, format!("unexpected end of {what}"))
                .with_label(location..location, "the input ends here");
            if !expected.is_empty() {
                d = d.with_help(format!("expected {}", expected_text(&expected)));
            }
            d
        }
        ParseError::UnrecognizedToken {
            token: (lo, _, hi),
            expected,
        } => {
            let text = snippet(src, &(lo..hi));
            let mut d = Diagnostic::error(codes.0, format!("unexpected `{text}`"));
            if expected.is_empty() {
                d = d.with_label(lo..hi, "unexpected here");
            } else {
                d = d.with_label(lo..hi, format!("expected {}", expected_text(&expected)));
            }
            d
        }
        ParseError::ExtraToken { token: (lo, _, hi) } => {
            let text = snippet(src, &(lo..hi));
            Diagnostic::error(codes.0, format!("unexpected `{text}`"))
                .with_label(lo..hi, "extra token")
        }
    }
}

/// A lexed token with its byte range, as the lalrpop parsers take them.
pub(crate) type Spanned<Tok> = (usize, Tok, usize);

/// What the lalrpop parsers of the bracketed languages (EDN, PomoLogic, PomoRA) share around the
/// generated parser: lexer errors become diagnostics (all of them); then brackets must balance
/// (`delim` gives each token's role; every bracket error is reported); then `parse` runs over
/// the tokens, collecting shape errors in its diagnostics, and a syntax error is added to those
/// found before it, with `codes` and `what` naming the language as in [`parse_error_to_diag`].
pub(crate) fn parse_bracketed<Tok, T>(
    src: &str,
    lexed: Result<Vec<Spanned<Tok>>, Vec<LexError>>,
    delim: impl Fn(&Tok) -> Delim,
    parse: impl FnOnce(
        &mut Vec<Diagnostic>,
        std::vec::IntoIter<Spanned<Tok>>,
    ) -> Result<T, ParseError<usize, Tok, LexError>>,
    codes: (&str, &str),
    what: &str,
) -> Result<T, Vec<Diagnostic>> {
    let tokens = lexed.map_err(|errs| {
        errs.iter()
            .map(|e| e.to_diagnostic(src))
            .collect::<Vec<_>>()
    })?;
    let delims = check_delims(src, tokens.iter().map(|(lo, t, hi)| (*lo..*hi, delim(t))));
    if !delims.is_empty() {
        return Err(delims);
    }
    let mut diags = Vec::new();
    match parse(&mut diags, tokens.into_iter()) {
        Ok(value) if diags.is_empty() => Ok(value),
        Ok(_) => Err(diags),
        Err(e) => {
            diags.push(parse_error_to_diag(src, e, codes, what));
            Err(diags)
        }
    }
}
