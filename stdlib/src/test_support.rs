//! Helpers shared by the unit tests: a reader for the value literals the tests are written in,
//! and the printed form of a call's outcome.
//!
//! The reader knows just enough EDN for the tests: `nil`, booleans, integers, doubles, strings
//! with the common escapes, keywords, bare words (symbols), `[…]` tuples, `#{…}` sets (sorted
//! and deduplicated, as the value type keeps them), `{…}` maps and `#ref N` entity references.

use crate::eval::EvalError;
use pomo_types::Value;
use std::iter::Peekable;
use std::str::Chars;

/// Reads the space-separated value literals of `src`.
pub(crate) fn parse(src: &str) -> Vec<Value> {
    let mut it = src.chars().peekable();
    let mut out = Vec::new();
    while let Some(v) = value(&mut it, None) {
        out.push(v);
    }
    out
}

/// Prints a call's outcome: the value, `nil`, or `error: <message>`.
pub(crate) fn show(r: Result<Option<Value>, EvalError>) -> String {
    match r {
        Ok(Some(v)) => v.to_string(),
        Ok(None) => "nil".into(),
        Err(e) => format!("error: {}", e.message),
    }
}

fn skip_space(it: &mut Peekable<Chars>) {
    while it.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
        it.next();
    }
}

/// Reads values up to the closing delimiter `close`.
fn seq(it: &mut Peekable<Chars>, close: char) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(v) = value(it, Some(close)) {
        out.push(v);
    }
    out
}

/// Reads one value, or `None` at the end of the input or at `close` (which it consumes).
fn value(it: &mut Peekable<Chars>, close: Option<char>) -> Option<Value> {
    skip_space(it);
    let c = *it.peek()?;
    if Some(c) == close {
        it.next();
        return None;
    }
    match c {
        '[' => {
            it.next();
            Some(Value::Tuple(seq(it, ']')))
        }
        '{' => {
            it.next();
            let xs = seq(it, '}');
            let pairs = xs.chunks(2).map(|p| (p[0].clone(), p[1].clone()));
            Some(Value::Map(pairs.collect()))
        }
        '"' => {
            it.next();
            let mut s = String::new();
            while let Some(c) = it.next() {
                match c {
                    '"' => break,
                    '\\' => match it.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some(e) => s.push(e),
                        None => break,
                    },
                    c => s.push(c),
                }
            }
            Some(Value::Str(s))
        }
        '#' => {
            it.next();
            if it.peek() == Some(&'{') {
                it.next();
                let mut xs = seq(it, '}');
                xs.sort();
                xs.dedup();
                return Some(Value::Set(xs));
            }
            let tag = word(it);
            assert_eq!(tag, "ref", "unknown tag #{tag}");
            skip_space(it);
            Some(Value::Ref(word(it).parse().expect("#ref takes a number")))
        }
        _ => {
            let w = word(it);
            Some(match w.as_str() {
                "nil" => Value::Nil,
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ if w.starts_with(':') => Value::Keyword(w[1..].to_string()),
                _ if w
                    .trim_start_matches(['-', '+'])
                    .starts_with(|c: char| c.is_ascii_digit()) =>
                {
                    if w.contains(['.', 'e', 'E']) {
                        Value::Float(w.parse().expect("a double"))
                    } else {
                        Value::Int(w.parse().expect("an integer"))
                    }
                }
                _ => Value::Symbol(w),
            })
        }
    }
}

/// Reads a bare word up to whitespace or a delimiter.
fn word(it: &mut Peekable<Chars>) -> String {
    let mut w = String::new();
    while let Some(&c) = it.peek() {
        if c.is_whitespace() || ",[]{}\"".contains(c) {
            break;
        }
        w.push(c);
        it.next();
    }
    w
}

#[test]
fn the_reader_reads_every_literal() {
    let vs = parse("nil true 1 -2.5 \"a\\\"b\" :k/v x [1 [2]] #{2 1 1} {:a 1} #ref 3");
    let printed: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        printed.join(" "),
        "nil true 1 -2.5 \"a\\\"b\" :k/v 'x [1, [2]] #{1, 2} {:a 1} #ref \"3\""
    );
}

/// Calls `name` on the space-separated value literals in `args` and compares the printed
/// outcome with `expected`: a value, `nil`, or `error: <substring of the message>`.
#[track_caller]
pub fn check_call(name: &str, args: &str, expected: &str) {
    let args = parse(args);
    let got = show(crate::eval::call(name, &args));
    if let Some(msg) = expected.strip_prefix("error: ") {
        assert!(
            got.starts_with("error: ") && got.contains(msg),
            "{name} {args:?}: got {got}, expected an error containing {msg:?}"
        );
    } else {
        assert_eq!(got, expected, "{name} {args:?}");
    }
}
