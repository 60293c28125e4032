//! The string, name and regex built-ins, and Clojure's printed forms of values (`str`, `pr-str`).
//!
//! Strings are indexed and counted by Unicode scalar values (`char`s); the JVM and JavaScript
//! count UTF-16 units, which differs only for characters outside the Basic Multilingual Plane.
//! There is no regex value kind, so `re-pattern` checks its pattern and returns it as a string,
//! and the regex functions accept a pattern string. Patterns use the `regex` crate's syntax,
//! which is Java's for everyday patterns but lacks backreferences, look-around and possessive
//! quantifiers (such a pattern is an error), and whose `$` matches only at the very end of the
//! text (Java's also matches before a final line terminator). Compiled patterns are cached per
//! thread.

use crate::eval::{EvalResult, err, type_err, unknown};
use pomo_types::Value;
use pomo_types::value::{format_instant, format_uuid};
use regex::{Captures, Regex};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;

/// The string built-ins; anything else is an unknown name.
pub(crate) fn dispatch(name: &str, a: &[Value]) -> EvalResult<Value> {
    let b = Value::Bool;
    Ok(match name {
        "starts_with" => b(s(name, &a[0])?.starts_with(s(name, &a[1])?)),
        "ends_with" => b(s(name, &a[0])?.ends_with(s(name, &a[1])?)),
        "includes" => b(s(name, &a[0])?.contains(s(name, &a[1])?)),
        "is_blank" => b(match &a[0] {
            Value::Nil => true,
            v => s(name, v)?.trim().is_empty(),
        }),
        "str" => {
            let mut out = String::new();
            for v in a {
                str_form(v, &mut out);
            }
            Value::Str(out)
        }
        "pr_str" => {
            let mut out = String::new();
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                pr_form(v, &mut out);
            }
            Value::Str(out)
        }
        "subs" => subs(a)?,
        "count_str" => Value::Int(count(&a[0])?),
        "upper_case" => Value::Str(s(name, &a[0])?.to_uppercase()),
        "lower_case" => Value::Str(s(name, &a[0])?.to_lowercase()),
        "trim" => Value::Str(s(name, &a[0])?.trim().to_string()),
        "join_str" => join(a)?,
        "split" => split(s(name, &a[0])?, &regex(name, &a[1])?),
        "re_pattern" => {
            regex(name, &a[0])?;
            a[0].clone()
        }
        "re_find" => {
            let text = s(name, &a[1])?;
            match regex(name, &a[0])?.captures(text) {
                Some(c) => match_value(&c),
                None => Value::Nil,
            }
        }
        "re_matches" => {
            let re = regex(name, &Value::Str(format!("\\A(?:{})\\z", s(name, &a[0])?)))?;
            match re.captures(s(name, &a[1])?) {
                Some(c) => match_value(&c),
                None => Value::Nil,
            }
        }
        "re_seq" => {
            let text = s(name, &a[1])?;
            let all: Vec<Value> = regex(name, &a[0])?
                .captures_iter(text)
                .map(|c| match_value(&c))
                .collect();
            // Clojure's `re-seq` is nil, not empty, when nothing matches.
            if all.is_empty() {
                Value::Nil
            } else {
                Value::Tuple(all)
            }
        }
        "name" => match &a[0] {
            Value::Str(x) => Value::Str(x.clone()),
            Value::Keyword(k) | Value::Symbol(k) => Value::Str(split_name(k).1.to_string()),
            other => return Err(type_err(name, "a string, keyword or symbol", other)),
        },
        "namespace" => match &a[0] {
            Value::Keyword(k) | Value::Symbol(k) => match split_name(k).0 {
                Some(ns) => Value::Str(ns.to_string()),
                None => Value::Nil,
            },
            other => return Err(type_err(name, "a keyword or symbol", other)),
        },
        "keyword" => named(name, a)?.map_or(Value::Nil, Value::Keyword),
        "symbol" => named(name, a)?.map_or(Value::Nil, Value::Symbol),
        _ => return Err(unknown(name)),
    })
}

/// A string argument of `name`.
fn s<'a>(name: &str, v: &'a Value) -> EvalResult<&'a str> {
    match v {
        Value::Str(x) => Ok(x),
        other => Err(type_err(name, "a string", other)),
    }
}

/// Splits a keyword or symbol into namespace and name at the first `/`, as Clojure's
/// `Symbol.intern` does (`/` alone is a name).
fn split_name(k: &str) -> (Option<&str>, &str) {
    match k.find('/') {
        Some(i) if k != "/" => (Some(&k[..i]), &k[i + 1..]),
        _ => (None, k),
    }
}

/// The text of a keyword or symbol built by `keyword`/`symbol`, or `None` for nil: one argument
/// converts a string, keyword or symbol (anything else is nil, as in Clojure); two join a
/// namespace (a string or nil) and a name.
fn named(name: &str, a: &[Value]) -> EvalResult<Option<String>> {
    match a {
        [Value::Str(x) | Value::Keyword(x) | Value::Symbol(x)] => Ok(Some(x.clone())),
        [_] => Ok(None),
        [Value::Nil, n] => Ok(Some(s(name, n)?.to_string())),
        [ns, n] => Ok(Some(format!("{}/{}", s(name, ns)?, s(name, n)?))),
        _ => Err(err(format!("`{name}` takes 1 to 2 argument(s)"))),
    }
}

/// `subs`: the characters from `start` up to `end` (default: the end); out of bounds is an error.
fn subs(a: &[Value]) -> EvalResult<Value> {
    let text = s("subs", &a[0])?;
    let len = text.chars().count() as i64;
    let start = crate::eval::integral("subs", &a[1])?;
    let end = match a.get(2) {
        Some(e) => crate::eval::integral("subs", e)?,
        None => len,
    };
    if !(0 <= start && start <= end && end <= len) {
        return Err(err(format!(
            "`subs` range {start}..{end} is out of bounds for a string of length {len}"
        )));
    }
    Ok(Value::Str(
        text.chars()
            .skip(start as usize)
            .take((end - start) as usize)
            .collect(),
    ))
}

/// `count`: the length of a string (in characters) or a collection; nil counts as empty.
fn count(v: &Value) -> EvalResult<i64> {
    let n = match v {
        Value::Nil => 0,
        Value::Str(x) => x.chars().count(),
        Value::Tuple(xs) | Value::Set(xs) => xs.len(),
        Value::Map(es) => es.len(),
        Value::Bytes(b) => b.len(),
        other => return Err(type_err("count_str", "a string or a collection", other)),
    };
    Ok(n as i64)
}

/// `clojure.string/join`: `(join coll)` or `(join separator coll)`, elements printed by `str`.
fn join(a: &[Value]) -> EvalResult<Value> {
    let (sep, coll) = match a {
        [coll] => (String::new(), coll),
        [sep, coll] => (str_of(sep), coll),
        _ => return Err(err("`join_str` takes 1 to 2 argument(s)")),
    };
    let items: Vec<String> = match coll {
        Value::Nil => Vec::new(),
        Value::Tuple(xs) | Value::Set(xs) => xs.iter().map(str_of).collect(),
        Value::Str(x) => x.chars().map(String::from).collect(),
        other => return Err(type_err("join_str", "a collection", other)),
    };
    Ok(Value::Str(items.join(&sep)))
}

/// `clojure.string/split` with Java's `String.split` rules: a zero-width match at the start
/// yields no leading empty string, trailing empty strings are dropped, and a string without a
/// match splits into itself.
fn split(text: &str, re: &Regex) -> Value {
    let mut parts = Vec::new();
    let mut last = 0;
    let mut matched = false;
    for m in re.find_iter(text) {
        if m.end() == 0 {
            continue;
        }
        matched = true;
        parts.push(&text[last..m.start()]);
        last = m.end();
    }
    if !matched {
        return Value::Tuple(vec![Value::Str(text.to_string())]);
    }
    parts.push(&text[last..]);
    while parts.last() == Some(&"") {
        parts.pop();
    }
    Value::Tuple(parts.into_iter().map(|p| Value::Str(p.into())).collect())
}

/// A match as Clojure returns it: the matched text without groups, else a vector of the whole
/// match and each group (nil for a group that did not take part).
fn match_value(c: &Captures) -> Value {
    let text = |m: Option<regex::Match>| m.map_or(Value::Nil, |m| Value::Str(m.as_str().into()));
    if c.len() == 1 {
        text(c.get(0))
    } else {
        Value::Tuple(c.iter().map(text).collect())
    }
}

thread_local! {
    static REGEXES: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

/// Compiles (or fetches from the per-thread cache) the pattern in a string argument.
fn regex(name: &str, v: &Value) -> EvalResult<Regex> {
    let pat = s(name, v)?;
    if let Some(re) = REGEXES.with(|c| c.borrow().get(pat).cloned()) {
        return Ok(re);
    }
    let re = Regex::new(pat).map_err(|e| err(format!("`{name}`: bad pattern: {e}")))?;
    REGEXES.with(|c| {
        let mut c = c.borrow_mut();
        // A query uses a handful of patterns; the bound only stops a pathological one from
        // growing the cache forever.
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(pat.to_string(), re.clone());
    });
    Ok(re)
}

/// A value as `str` prints it.
pub(crate) fn str_of(v: &Value) -> String {
    let mut out = String::new();
    str_form(v, &mut out);
    out
}

/// Appends the value as Clojure's `str` prints it: nil is empty, strings and symbols are
/// their text, everything else its readable form.
pub(crate) fn str_form(v: &Value, out: &mut String) {
    match v {
        Value::Nil => {}
        Value::Str(x) | Value::Symbol(x) | Value::Cid(x) | Value::Fn(x) => out.push_str(x),
        Value::Instant(ms) => out.push_str(&format_instant(*ms)),
        Value::Uuid(u) => out.push_str(&format_uuid(*u)),
        Value::Bytes(b) => b.iter().for_each(|x| {
            let _ = write!(out, "{x:02x}");
        }),
        other => pr_form(other, out),
    }
}

/// Appends the value as Clojure's `pr-str` prints it: strings quoted, collections with their
/// elements separated by spaces (map entries by commas), doubles as Java prints them.
pub(crate) fn pr_form(v: &Value, out: &mut String) {
    let seq = |out: &mut String, open: &str, xs: &[Value], close: &str| {
        out.push_str(open);
        for (i, x) in xs.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            pr_form(x, out);
        }
        out.push_str(close);
    };
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Ref(r) => {
            let _ = write!(out, "{r}");
        }
        Value::Float(x) => out.push_str(&java_double(*x)),
        Value::Keyword(k) => {
            out.push(':');
            out.push_str(k);
        }
        Value::Symbol(x) => out.push_str(x),
        Value::Tuple(xs) => seq(out, "[", xs, "]"),
        Value::Set(xs) => seq(out, "#{", xs, "}"),
        Value::Map(es) => {
            out.push('{');
            for (i, (k, x)) in es.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                pr_form(k, out);
                out.push(' ');
                pr_form(x, out);
            }
            out.push('}');
        }
        // Strings, instants, UUIDs, bytes, CIDs and host functions print as EDN literals.
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Formats a double as Java's `Double.toString`: the shortest digits that read back, in plain
/// notation for magnitudes in [1e-3, 1e7) and as `d.dddE±n` outside it.
pub(crate) fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = x.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        // Rust's shortest round-trip form is plain in this range; it lacks only the `.0`.
        let s = format!("{x:?}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{x:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    if mantissa.contains('.') {
        format!("{mantissa}E{exp}")
    } else {
        format!("{mantissa}.0E{exp}")
    }
}

#[cfg(test)]
mod tests {

    use crate::test_support::check_call as check;

    #[test]
    fn str_concatenates_printed_forms() {
        check("str", "1 \"a\" :k nil", "\"1a:k\"");
        check("str", "\"n\" 42", "\"n42\"");
        check("str", "", "\"\"");
        check(
            "str",
            "\"Dave\" \" from \" \"Quito\"",
            "\"Dave from Quito\"",
        );
    }

    #[test]
    fn str_prints_doubles_like_java() {
        check("str", "2.5", "\"2.5\"");
        check("str", "2.0", "\"2.0\"");
        check("str", "-0.0", "\"-0.0\"");
        check("str", "0.001", "\"0.001\"");
        check("str", "10000000.0", "\"1.0E7\"");
        check("str", "0.0001", "\"1.0E-4\"");
        check("str", "1.5e20", "\"1.5E20\"");
    }

    #[test]
    fn str_prints_collections_readably() {
        check("str", "[1 \"a\" :b]", "\"[1 \\\"a\\\" :b]\"");
        check("str", "true #{1 2}", "\"true#{1 2}\"");
        check("str", "{:a 1 :b nil}", "\"{:a 1, :b nil}\"");
        check("str", "#ref 7 x", "\"7x\"");
    }

    #[test]
    fn pr_str_quotes_strings() {
        check("pr_str", "[1 \"a\" :b]", "\"[1 \\\"a\\\" :b]\"");
        check("pr_str", "nil \"x\"", "\"nil \\\"x\\\"\"");
    }

    #[test]
    fn subs_by_character_positions() {
        check("subs", "\"datalog\" 2", "\"talog\"");
        check("subs", "\"datalog\" 0 3", "\"dat\"");
        check("subs", "\"héllo\" 1 2", "\"é\"");
        check("subs", "\"abc\" 3", "\"\"");
    }

    #[test]
    fn subs_out_of_bounds_is_an_error() {
        check("subs", "\"Ivan\" 10", "error: out of bounds");
        check("subs", "\"Ivan\" 2 1", "error: out of bounds");
        check("subs", "\"Ivan\" -1", "error: out of bounds");
        check("subs", "1 0", "error: expects a string");
    }

    #[test]
    fn count_of_strings_and_collections() {
        check("count_str", "\"Bob\"", "3");
        check("count_str", "[1 2 3 4]", "4");
        check("count_str", "#{1 2}", "2");
        check("count_str", "{:a 1}", "1");
        check("count_str", "nil", "0");
        check("count_str", "\"né\"", "2");
        check("count_str", "5", "error: expects a string or a collection");
    }

    #[test]
    fn case_and_trim() {
        check("upper_case", "\"abc\"", "\"ABC\"");
        check("lower_case", "\"AbC\"", "\"abc\"");
        check("trim", "\"  a b \\n\"", "\"a b\"");
        check("upper_case", ":a", "error: expects a string");
    }

    #[test]
    fn string_predicates() {
        check("starts_with", "\"dave@ex.org\" \"d\"", "true");
        check("starts_with", "\"dave@ex.org\" \"e\"", "false");
        check("ends_with", "\"dave@ex.org\" \"ex.org\"", "true");
        check("ends_with", "\"dave@ex.org\" \"d\"", "false");
        check("includes", "\"Carol\" \"a\"", "true");
        check("includes", "\"Bob\" \"a\"", "false");
        check("includes", "\"Bob\" nil", "error: expects a string");
    }

    #[test]
    fn blank() {
        check("is_blank", "\"\"", "true");
        check("is_blank", "\"  \"", "true");
        check("is_blank", "\"x\"", "false");
        check("is_blank", "nil", "true");
        check("is_blank", "1", "error: expects a string");
    }

    #[test]
    fn join_with_and_without_separator() {
        check("join_str", "[1 \"a\" :b]", "\"1a:b\"");
        check("join_str", "\", \" [\"x\" \"y\"]", "\"x, y\"");
        check("join_str", "\"-\" []", "\"\"");
        check("join_str", "\"-\" 5", "error: expects a collection");
    }

    #[test]
    fn split_follows_java() {
        check("split", "\"a,b,,c,,\" \",\"", "[\"a\", \"b\", \"\", \"c\"]");
        check("split", "\",a\" \",\"", "[\"\", \"a\"]");
        check("split", "\"abc\" \"\"", "[\"a\", \"b\", \"c\"]");
        check("split", "\"abc\" \",\"", "[\"abc\"]");
        check("split", "\"a1b22c\" \"[0-9]+\"", "[\"a\", \"b\", \"c\"]");
    }

    #[test]
    fn re_pattern_checks_the_pattern() {
        check("re_pattern", "\"^[A-C]\"", "\"^[A-C]\"");
        check("re_pattern", "\"(\"", "error: bad pattern");
        check("re_pattern", "\"(a)\\\\1\"", "error: bad pattern");
    }

    #[test]
    fn re_find_returns_the_first_match() {
        check("re_find", "\"[0-9]+\" \"ab12c\"", "\"12\"");
        check("re_find", "\"[0-9]+\" \"x\"", "nil");
        check("re_find", "\"^[A-C]\" \"Bob\"", "\"B\"");
        check("re_find", "\"(a)(x)?b\" \"zab\"", "[\"ab\", \"a\", nil]");
    }

    #[test]
    fn re_matches_needs_the_whole_string() {
        check("re_matches", "\"[0-9]+\" \"123\"", "\"123\"");
        check("re_matches", "\"[0-9]+\" \"123a\"", "nil");
        check("re_matches", "\"a|ab\" \"ab\"", "\"ab\"");
        check(
            "re_matches",
            "\"(\\\\w+)@(\\\\w+)\" \"me@host\"",
            "[\"me@host\", \"me\", \"host\"]",
        );
    }

    #[test]
    fn re_seq_returns_all_matches() {
        check(
            "re_seq",
            "\"[0-9]+\" \"a1b22c333d22\"",
            "[\"1\", \"22\", \"333\", \"22\"]",
        );
        check("re_seq", "\"[0-9]+\" \"abc\"", "nil");
    }

    #[test]
    fn name_and_namespace() {
        check("name", ":person/age", "\"age\"");
        check("name", ":age", "\"age\"");
        check("name", "\"s\"", "\"s\"");
        check("name", "a/b", "\"b\"");
        check("namespace", ":person/age", "\"person\"");
        check("namespace", ":age", "nil");
        check("name", "1", "error: expects a string, keyword or symbol");
        check("namespace", "\"a/b\"", "error: expects a keyword or symbol");
    }

    #[test]
    fn keyword_from_strings() {
        check("keyword", "\"person\" \"age\"", ":person/age");
        check("keyword", "\"age\"", ":age");
        check("keyword", "abc", ":abc");
        check("keyword", ":k", ":k");
        check("keyword", "nil \"age\"", ":age");
        check("keyword", "1", "nil");
        check("keyword", "1 \"a\"", "error: expects a string");
    }

    #[test]
    fn symbol_from_strings() {
        check("symbol", "\"person\" \"age\"", "'person/age");
        check("symbol", "\"x\"", "'x");
        check("symbol", ":a/b", "'a/b");
    }
}
