//! The `sql_*` built-ins: the operators, functions and aggregates the SQL front end lowers to,
//! with SQLite's semantics (lang_expr, lang_corefunc and lang_aggfunc of sqlite.org).
//!
//! SQL's NULL is `Value::Nil`, and unlike the EDN built-ins a NULL result is a value to bind,
//! not a failed match (`binds_nil`). Each argument is first seen as one of SQLite's storage
//! classes: NULL, INTEGER (integers, booleans as 0/1 and entity ids), REAL, TEXT and BLOB
//! (`Value::Bytes`); a NaN double, which SQLite never stores, counts as NULL, and a NaN result
//! becomes NULL as it does in SQLite. Any other kind of value (keywords, tuples…) is an
//! [`EvalError`](crate::EvalError). Arithmetic reads text and blobs by their numeric prefix as
//! SQLite does (`'12abc' + 0` is 12, `'abc' + 0` is 0), and `sql_num_aff` / `sql_text_aff`
//! are the affinity conversions the compiler puts around comparison operands. Nothing here
//! panics or recurses on its input.
//!
//! Known differences from SQLite: booleans print as `1`/`0` (SQLite's TRUE is the integer 1);
//! doubles print as `%!.15g` (`1.0`, `0.3`, `1.0e+20`), as SQLite did before its default of 17
//! significant digits; `sum` of integers fails only when the exact total overflows, whatever the
//! order of the bag; and `round` rounds the 16-significant-digit decimal form of its argument
//! half away from zero, as current SQLite's printf-based `round` does.

use crate::eval::{EvalResult, Num, cmp_num, err, type_err, unknown};
use pomo_types::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

/// An argument as one of SQLite's storage classes.
#[derive(Clone, Copy, Debug)]
enum Sql<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// The storage class of an argument of `name`, or an error for a kind SQL does not have.
fn class<'a>(name: &str, v: &'a Value) -> EvalResult<Sql<'a>> {
    Ok(match v {
        Value::Nil => Sql::Null,
        Value::Float(x) if x.is_nan() => Sql::Null,
        Value::Bool(b) => Sql::Int(i64::from(*b)),
        Value::Int(i) => Sql::Int(*i),
        Value::Ref(r) => Sql::Int(i64::try_from(*r).map_err(|_| {
            err(format!(
                "entity id {r} in `{name}` is beyond SQL's integer range"
            ))
        })?),
        Value::Float(x) => Sql::Real(*x),
        Value::Str(s) => Sql::Text(s),
        Value::Bytes(b) => Sql::Blob(b),
        other => {
            return Err(type_err(
                name,
                "an SQL value (NULL, a number, text or a blob)",
                other,
            ));
        }
    })
}

/// Whether a value is SQL's NULL.
fn is_null(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Float(x) => x.is_nan(),
        _ => false,
    }
}

/// A value passed through unchanged, except that a NaN double becomes NULL.
fn pass(v: &Value) -> Value {
    if is_null(v) { Value::Nil } else { v.clone() }
}

/// A double result; NaN (from `inf - inf` and the like) is NULL, as SQLite stores it.
fn real(x: f64) -> Value {
    if x.is_nan() {
        Value::Nil
    } else {
        Value::Float(x)
    }
}

/// A three-valued result: `None` is NULL.
fn tri(b: Option<bool>) -> Value {
    b.map_or(Value::Nil, Value::Bool)
}

/// The `sql_*` functions and predicates; `call` has checked the arity.
pub(crate) fn dispatch(name: &str, a: &[Value]) -> EvalResult<Value> {
    let arg = |i: usize| a.get(i).unwrap_or(&Value::Nil);
    let b = Value::Bool;
    Ok(match name {
        "sql_add" => arith(name, arg(0), arg(1), i64::checked_add, |x, y| x + y)?,
        "sql_sub" => arith(name, arg(0), arg(1), i64::checked_sub, |x, y| x - y)?,
        "sql_mul" => arith(name, arg(0), arg(1), i64::checked_mul, |x, y| x * y)?,
        "sql_div" => div(name, arg(0), arg(1))?,
        "sql_mod" => modulo(name, arg(0), arg(1))?,
        "sql_neg" => match operand(name, arg(0))? {
            None => Value::Nil,
            Some(Num::I(i)) => i
                .checked_neg()
                .map_or(Value::Float(-(i as f64)), Value::Int),
            Some(Num::F(x)) => real(-x),
        },
        "sql_eq" => tri(compare(name, arg(0), arg(1))?.map(Ordering::is_eq)),
        "sql_ne" => tri(compare(name, arg(0), arg(1))?.map(Ordering::is_ne)),
        "sql_lt" => tri(compare(name, arg(0), arg(1))?.map(Ordering::is_lt)),
        "sql_le" => tri(compare(name, arg(0), arg(1))?.map(Ordering::is_le)),
        "sql_gt" => tri(compare(name, arg(0), arg(1))?.map(Ordering::is_gt)),
        "sql_ge" => tri(compare(name, arg(0), arg(1))?.map(Ordering::is_ge)),
        "sql_is" => b(is(name, arg(0), arg(1))?),
        "sql_is_not" => b(!is(name, arg(0), arg(1))?),
        "sql_and" => tri(match (truth(name, arg(0))?, truth(name, arg(1))?) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        }),
        "sql_or" => tri(match (truth(name, arg(0))?, truth(name, arg(1))?) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        }),
        "sql_not" => tri(truth(name, arg(0))?.map(|t| !t)),
        "sql_true" => b(truth(name, arg(0))? == Some(true)),
        "sql_is_null" => b(is_null(arg(0))),
        "sql_not_null" => b(!is_null(arg(0))),
        "sql_like" => like(name, a)?,
        "sql_concat" => match (text(name, arg(0))?, text(name, arg(1))?) {
            (Some(x), Some(y)) => Value::Str(format!("{x}{y}")),
            _ => Value::Nil,
        },
        "sql_case" => {
            let mut pairs = a.chunks_exact(2);
            for p in &mut pairs {
                if truth(name, &p[0])? == Some(true) {
                    return Ok(pass(&p[1]));
                }
            }
            pairs.remainder().first().map_or(Value::Nil, pass)
        }
        "sql_case_eq" => {
            let Some((x, rest)) = a.split_first() else {
                return Ok(Value::Nil);
            };
            let mut pairs = rest.chunks_exact(2);
            for p in &mut pairs {
                if compare(name, x, &p[0])? == Some(Ordering::Equal) {
                    return Ok(pass(&p[1]));
                }
            }
            pairs.remainder().first().map_or(Value::Nil, pass)
        }
        "sql_coalesce" | "sql_ifnull" => a.iter().find(|v| !is_null(v)).map_or(Value::Nil, pass),
        "sql_nullif" => match compare(name, arg(0), arg(1))? {
            Some(Ordering::Equal) => Value::Nil,
            _ => pass(arg(0)),
        },
        "sql_abs" => match class(name, arg(0))? {
            Sql::Text(t) => real(prefix_number(t.as_bytes()).as_f64().abs()),
            Sql::Blob(b) => real(prefix_number(b).as_f64().abs()),
            _ => match operand(name, arg(0))? {
                None => Value::Nil,
                Some(Num::I(i)) => Value::Int(
                    i.checked_abs()
                        .ok_or_else(|| err(format!("integer overflow in `{name}`")))?,
                ),
                Some(Num::F(x)) => real(x.abs()),
            },
        },
        "sql_upper" => map_text(name, arg(0), |t| t.to_ascii_uppercase())?,
        "sql_lower" => map_text(name, arg(0), |t| t.to_ascii_lowercase())?,
        "sql_trim" => map_text(name, arg(0), |t| t.trim_matches(' ').to_string())?,
        "sql_ltrim" => map_text(name, arg(0), |t| t.trim_start_matches(' ').to_string())?,
        "sql_rtrim" => map_text(name, arg(0), |t| t.trim_end_matches(' ').to_string())?,
        "sql_length" => match class(name, arg(0))? {
            Sql::Null => Value::Nil,
            Sql::Blob(bytes) => Value::Int(bytes.len() as i64),
            _ => {
                // SQLite counts the characters before the first NUL.
                let t = text(name, arg(0))?.unwrap_or_default();
                Value::Int(t.chars().take_while(|c| *c != '\0').count() as i64)
            }
        },
        "sql_substr" => substr(name, a)?,
        "sql_round" => round(name, a)?,
        "sql_typeof" => Value::Str(
            match class(name, arg(0))? {
                Sql::Null => "null",
                Sql::Int(_) => "integer",
                Sql::Real(_) => "real",
                Sql::Text(_) => "text",
                Sql::Blob(_) => "blob",
            }
            .into(),
        ),
        "sql_cast" => cast(name, arg(0), arg(1))?,
        "sql_tuple" => Value::Tuple(a.to_vec()),
        "sql_bitnot" => int_arg(name, arg(0))?.map_or(Value::Nil, |i| Value::Int(!i)),
        "sql_bitand" | "sql_bitor" | "sql_shl" | "sql_shr" => {
            match (int_arg(name, arg(0))?, int_arg(name, arg(1))?) {
                (Some(x), Some(y)) => Value::Int(bits(name, x, y)),
                _ => Value::Nil,
            }
        }
        "sql_num_aff" => match class(name, arg(0))? {
            Sql::Text(t) => numeric_affinity(t.as_bytes()).unwrap_or_else(|| pass(arg(0))),
            _ => pass(arg(0)),
        },
        "sql_text_aff" => match class(name, arg(0))? {
            Sql::Int(_) | Sql::Real(_) => {
                text(name, arg(0))?.map_or(Value::Nil, |t| Value::Str(t.into_owned()))
            }
            _ => pass(arg(0)),
        },
        _ => return Err(unknown(name)),
    })
}

// ---------------------------------------------------------------------------------------------
// Arithmetic.

/// A numeric operand: `None` for NULL; text and blobs are read by their numeric prefix.
fn operand(name: &str, v: &Value) -> EvalResult<Option<Num>> {
    match class(name, v)? {
        Sql::Null => Ok(None),
        Sql::Int(i) => Ok(Some(Num::I(i))),
        Sql::Real(x) => Ok(Some(Num::F(x))),
        Sql::Text(t) => Ok(Some(prefix_number(t.as_bytes()))),
        Sql::Blob(b) => Ok(Some(prefix_number(b))),
    }
}

/// Text as arithmetic reads it (SQLite's `computeNumericType`): the leading number, an integer
/// when it has neither a point nor an exponent and fits in an i64, else a double; 0 when the
/// text does not start with a number.
fn prefix_number(t: &[u8]) -> Num {
    let (x, integral) = real_prefix(t);
    if integral {
        let (i, saturated) = int_prefix(t);
        if !saturated {
            return Num::I(i);
        }
    }
    Num::F(x)
}

/// Numeric affinity applied to text (SQLite's `applyNumericAffinity`): the number when the
/// whole text (leading and trailing whitespace aside) is a well-formed integer or real literal,
/// an integer when it is one and fits; `None` when it is not a number.
fn numeric_affinity(t: &[u8]) -> Option<Value> {
    let start = t.iter().position(|b| !is_space(*b))?;
    let end = t.iter().rposition(|b| !is_space(*b))? + 1;
    let body = &t[start..end];
    let mut i = usize::from(matches!(body.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let from = *i;
        while body.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let mut n = digits(&mut i);
    let mut integral = true;
    if body.get(i) == Some(&b'.') {
        i += 1;
        n += digits(&mut i);
        integral = false;
    }
    if n == 0 {
        return None;
    }
    if matches!(body.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(body.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
        integral = false;
    }
    if i != body.len() {
        return None;
    }
    if integral {
        let (v, saturated) = int_prefix(body);
        if !saturated {
            return Some(Value::Int(v));
        }
    }
    Some(real(real_prefix(body).0))
}

/// Both operands of a binary operator, or `None` when either is NULL (NULL wins over a type
/// error in the other operand, as in SQLite).
fn operands(name: &str, a: &Value, b: &Value) -> EvalResult<Option<(Num, Num)>> {
    if matches!(class(name, a)?, Sql::Null) || matches!(class(name, b)?, Sql::Null) {
        return Ok(None);
    }
    Ok(operand(name, a)?.zip(operand(name, b)?))
}

/// `+`, `-`, `*`: exact on integers, a double when an operand is one or the integer result
/// overflows (SQLite's conversion to REAL).
fn arith(
    name: &str,
    a: &Value,
    b: &Value,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> EvalResult<Value> {
    Ok(match operands(name, a, b)? {
        None => Value::Nil,
        Some((Num::I(x), Num::I(y))) => {
            int(x, y).map_or_else(|| real(float(x as f64, y as f64)), Value::Int)
        }
        Some((x, y)) => real(float(x.as_f64(), y.as_f64())),
    })
}

/// `/`: truncating on integers; a zero divisor (0 or 0.0) gives NULL.
fn div(name: &str, a: &Value, b: &Value) -> EvalResult<Value> {
    Ok(match operands(name, a, b)? {
        None => Value::Nil,
        Some((_, Num::I(0))) => Value::Nil,
        // A float pattern compares with `==`, so it also catches -0.0.
        Some((_, Num::F(0.0))) => Value::Nil,
        // Only `i64::MIN / -1` fails, and SQLite makes it a double.
        Some((Num::I(x), Num::I(y))) => x
            .checked_div(y)
            .map_or_else(|| real(x as f64 / y as f64), Value::Int),
        Some((x, y)) => real(x.as_f64() / y.as_f64()),
    })
}

/// `%`: both operands are converted to integers (doubles truncated, saturating); the sign of
/// the result is the dividend's; a zero divisor gives NULL; a double operand makes the result
/// the double of the integer remainder (`7.5 % 2` is `1.0`).
fn modulo(name: &str, a: &Value, b: &Value) -> EvalResult<Value> {
    let Some((x, y)) = operands(name, a, b)? else {
        return Ok(Value::Nil);
    };
    let int = |n: Num| match n {
        Num::I(i) => i,
        // `as` saturates like SQLite's doubleToInt64.
        Num::F(f) => f as i64,
    };
    let (p, q) = (int(x), int(y));
    // `x % -1` is `x % 1`, and avoids the one overflowing case `i64::MIN % -1`.
    let r = match q {
        0 => return Ok(Value::Nil),
        -1 => 0,
        q => p % q,
    };
    Ok(match (x, y) {
        (Num::I(_), Num::I(_)) => Value::Int(r),
        _ => Value::Float(r as f64),
    })
}

// ---------------------------------------------------------------------------------------------
// Comparison and truth.

/// Compares in SQLite's order: NULL makes the answer unknown (`None`); numbers (integers and
/// doubles by exact value) sort before text, text (bytewise, the BINARY collation) before blobs.
fn compare(name: &str, a: &Value, b: &Value) -> EvalResult<Option<Ordering>> {
    let rank = |s: &Sql| match s {
        Sql::Null => 0,
        Sql::Int(_) | Sql::Real(_) => 1,
        Sql::Text(_) => 2,
        Sql::Blob(_) => 3,
    };
    let num = |s: Sql| match s {
        Sql::Int(i) => Num::I(i),
        Sql::Real(x) => Num::F(x),
        _ => Num::I(0),
    };
    let (x, y) = (class(name, a)?, class(name, b)?);
    Ok(Some(match (x, y) {
        (Sql::Null, _) | (_, Sql::Null) => return Ok(None),
        (Sql::Text(s), Sql::Text(t)) => s.as_bytes().cmp(t.as_bytes()),
        (Sql::Blob(s), Sql::Blob(t)) => s.cmp(t),
        // NaN is NULL here, so numbers always compare.
        (Sql::Int(_) | Sql::Real(_), Sql::Int(_) | Sql::Real(_)) => cmp_num(num(x), num(y))?,
        _ => rank(&x).cmp(&rank(&y)),
    }))
}

/// `IS`: equality in which NULL equals NULL and nothing else.
fn is(name: &str, a: &Value, b: &Value) -> EvalResult<bool> {
    Ok(match compare(name, a, b)? {
        Some(o) => o.is_eq(),
        None => is_null(a) && is_null(b),
    })
}

/// SQL truth: `None` for NULL; a number is true when nonzero; text and blobs are read as the
/// number they start with (text that does not start with one is 0, false).
fn truth(name: &str, v: &Value) -> EvalResult<Option<bool>> {
    Ok(match class(name, v)? {
        Sql::Null => None,
        Sql::Int(i) => Some(i != 0),
        Sql::Real(x) => Some(x != 0.0),
        Sql::Text(t) => Some(real_prefix(t.as_bytes()).0 != 0.0),
        Sql::Blob(bytes) => Some(real_prefix(bytes).0 != 0.0),
    })
}

// ---------------------------------------------------------------------------------------------
// Text.

/// The text form of a value (`None` for NULL): integers in decimal, doubles as
/// [`format_real`], a blob's bytes read as UTF-8 (invalid sequences replaced).
fn text<'a>(name: &str, v: &'a Value) -> EvalResult<Option<Cow<'a, str>>> {
    Ok(match class(name, v)? {
        Sql::Null => None,
        Sql::Int(i) => Some(Cow::Owned(i.to_string())),
        Sql::Real(x) => Some(Cow::Owned(format_real(x))),
        Sql::Text(t) => Some(Cow::Borrowed(t)),
        Sql::Blob(bytes) => Some(String::from_utf8_lossy(bytes)),
    })
}

/// A text function: NULL stays NULL, anything else is converted to text first.
fn map_text(name: &str, v: &Value, f: impl FnOnce(&str) -> String) -> EvalResult<Value> {
    Ok(text(name, v)?.map_or(Value::Nil, |t| Value::Str(f(&t))))
}

/// A double as SQLite's `%!.15g` prints it: 15 significant digits without trailing zeros but
/// with at least one digit after the point, in exponent form (two exponent digits at least)
/// when the decimal exponent is below -4 or at least 15. Infinities are `Inf` and `-Inf`.
pub(crate) fn format_real(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf" } else { "-Inf" }.into();
    }
    if x == 0.0 {
        return "0.0".into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust rounds correctly to 15 significant digits: `d.dddddddddddddde<exp>`.
    let sci = format!("{:.14e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    if !(-4..15).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}.{rest}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() > int_len {
        let (int, frac) = digits.split_at(int_len);
        format!("{sign}{int}.{frac}")
    } else {
        let zeros = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{zeros}.0")
    }
}

/// `LIKE`: `%` matches any sequence, `_` one character, letters match ignoring ASCII case; an
/// optional escape character (one character) makes the next pattern character literal. NULL
/// in any argument gives NULL; numbers are matched by their text form.
fn like(name: &str, a: &[Value]) -> EvalResult<Value> {
    let mut texts = Vec::with_capacity(a.len());
    for v in a {
        match text(name, v)? {
            Some(t) => texts.push(t),
            None => return Ok(Value::Nil),
        }
    }
    let escape = match texts.get(2) {
        None => None,
        Some(e) => {
            let mut cs = e.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => Some(c),
                _ => return Err(err("ESCAPE expression must be a single character")),
            }
        }
    };
    let (Some(subject), Some(pattern)) = (texts.first(), texts.get(1)) else {
        return Err(err(format!("`{name}` takes 2 to 3 argument(s)")));
    };
    Ok(Value::Bool(like_match(pattern, subject, escape)))
}

/// One element of a LIKE pattern.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    /// `%`.
    Any,
    /// `_`.
    One,
    Lit(char),
}

/// Matches `subject` against a LIKE pattern by the greedy wildcard algorithm with one
/// backtrack point, which is exact for `%` and `_` and takes O(pattern × subject) steps.
fn like_match(pattern: &str, subject: &str, escape: Option<char>) -> bool {
    let mut toks = Vec::new();
    let mut cs = pattern.chars();
    while let Some(c) = cs.next() {
        // The escape character takes precedence, even when it is `%` or `_` (as in SQLite).
        toks.push(if Some(c) == escape {
            match cs.next() {
                Some(e) => Tok::Lit(e),
                // An escape at the end of the pattern matches nothing.
                None => return false,
            }
        } else if c == '%' {
            Tok::Any
        } else if c == '_' {
            Tok::One
        } else {
            Tok::Lit(c)
        });
    }
    let s: Vec<char> = subject.chars().collect();
    let (mut pi, mut si) = (0, 0);
    // Where the last `%` was: the pattern position after it and the subject position it has
    // swallowed up to.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match toks.get(pi) {
            Some(Tok::Any) => {
                star = Some((pi + 1, si));
                pi += 1;
                continue;
            }
            Some(Tok::One) => {
                pi += 1;
                si += 1;
                continue;
            }
            Some(Tok::Lit(c)) if c.eq_ignore_ascii_case(&s[si]) => {
                pi += 1;
                si += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, ss)) => {
                pi = sp;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    toks.get(pi..)
        .is_some_and(|rest| rest.iter().all(|t| *t == Tok::Any))
}

/// `substr(x, start[, length])` as SQLite: positions count from 1, a negative start counts from
/// the end, a negative length takes the characters before the start, and position 0 is just
/// before the first character (so `substr('abc', 0, 2)` is `'a'`). Blobs are cut by bytes,
/// anything else by characters of its text form.
fn substr(name: &str, a: &[Value]) -> EvalResult<Value> {
    let subject = a.first().unwrap_or(&Value::Nil);
    let start = a.get(1).unwrap_or(&Value::Nil);
    let class0 = class(name, subject)?;
    if matches!(class0, Sql::Null) {
        return Ok(Value::Nil);
    }
    let Some(mut p1) = int_arg(name, start)? else {
        return Ok(Value::Nil);
    };
    let (mut p2, negative) = match a.get(2) {
        None => (i64::MAX, false),
        Some(v) => match int_arg(name, v)? {
            None => return Ok(Value::Nil),
            Some(n) => (n.saturating_abs(), n < 0),
        },
    };
    let t = match class0 {
        Sql::Blob(_) => None,
        _ => text(name, subject)?,
    };
    let len = match (&class0, &t) {
        (Sql::Blob(bytes), _) => bytes.len() as i64,
        (_, Some(t)) => t.chars().count() as i64,
        _ => 0,
    };
    // The arithmetic of SQLite's substrFunc, saturating where C would overflow.
    if p1 < 0 {
        p1 = p1.saturating_add(len);
        if p1 < 0 {
            p2 = p2.saturating_add(p1).max(0);
            p1 = 0;
        }
    } else if p1 > 0 {
        p1 -= 1;
    } else if p2 > 0 {
        p2 -= 1;
    }
    if negative {
        p1 = p1.saturating_sub(p2);
        if p1 < 0 {
            p2 = p2.saturating_add(p1).max(0);
            p1 = 0;
        }
    }
    let skip = usize::try_from(p1).unwrap_or(usize::MAX);
    let take = usize::try_from(p2).unwrap_or(usize::MAX);
    Ok(match (class0, t) {
        (Sql::Blob(bytes), _) => {
            Value::Bytes(bytes.iter().skip(skip).take(take).copied().collect())
        }
        (_, Some(t)) => Value::Str(t.chars().skip(skip).take(take).collect()),
        _ => Value::Nil,
    })
}

// ---------------------------------------------------------------------------------------------
// Numbers from text, rounding and CAST.

/// SQLite's whitespace (`sqlite3Isspace`).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The longest prefix of text (after leading whitespace) that reads as a real number, as
/// `sqlite3AtoF` reads it: the value (0.0 without digits) and whether the prefix has neither a
/// decimal point nor an exponent.
fn real_prefix(t: &[u8]) -> (f64, bool) {
    let digits_from = |mut i: usize| {
        while t.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = 0;
    while t.get(i).copied().is_some_and(is_space) {
        i += 1;
    }
    let start = i;
    if matches!(t.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_end = digits_from(i);
    let mut digits = int_end - i;
    let mut integral = true;
    i = int_end;
    if t.get(i) == Some(&b'.') {
        let frac_end = digits_from(i + 1);
        if digits > 0 || frac_end > i + 1 {
            digits += frac_end - (i + 1);
            integral = false;
            i = frac_end;
        }
    }
    if digits == 0 {
        return (0.0, true);
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        let mut k = i + 1;
        if matches!(t.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let exp_end = digits_from(k);
        if exp_end > k {
            integral = false;
            i = exp_end;
        }
    }
    // The prefix is ASCII, so it is valid UTF-8, and Rust reads every such form.
    let value = std::str::from_utf8(&t[start..i])
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0);
    (value, integral)
}

/// The leading integer of text (after whitespace and an optional sign), as `sqlite3Atoi64`
/// reads it: saturated to the i64 range, 0 without digits, and whether it was saturated.
fn int_prefix(t: &[u8]) -> (i64, bool) {
    let mut i = 0;
    while t.get(i).copied().is_some_and(is_space) {
        i += 1;
    }
    let negative = t.get(i) == Some(&b'-');
    if matches!(t.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    // Capped well above the i64 range, so that saturation is still visible.
    const CAP: i128 = 1 << 64;
    let mut acc: i128 = 0;
    while let Some(d) = t.get(i).filter(|b| b.is_ascii_digit()) {
        acc = (acc * 10 + i128::from(d - b'0')).min(CAP);
        i += 1;
    }
    let acc = if negative { -acc } else { acc };
    match i64::try_from(acc) {
        Ok(v) => (v, false),
        Err(_) => (if negative { i64::MIN } else { i64::MAX }, true),
    }
}

/// An integer argument as `sqlite3_value_int64` reads it (doubles truncated and saturated, text
/// by its leading integer); `None` for NULL.
fn int_arg(name: &str, v: &Value) -> EvalResult<Option<i64>> {
    Ok(match class(name, v)? {
        Sql::Null => None,
        Sql::Int(i) => Some(i),
        Sql::Real(x) => Some(x as i64),
        Sql::Text(t) => Some(int_prefix(t.as_bytes()).0),
        Sql::Blob(bytes) => Some(int_prefix(bytes).0),
    })
}

/// `round(x[, n])`: a double; `n` is clamped to 0..=30.
fn round(name: &str, a: &[Value]) -> EvalResult<Value> {
    let n = match a.get(1) {
        None => 0,
        Some(v) => match int_arg(name, v)? {
            None => return Ok(Value::Nil),
            Some(n) => n.clamp(0, 30),
        },
    };
    Ok(match operand(name, a.first().unwrap_or(&Value::Nil))? {
        None => Value::Nil,
        Some(x) => real(round_to(x.as_f64(), n)),
    })
}

/// Rounds half away from zero to `n` (0..=30) decimal places as SQLite's `roundFunc`: values
/// beyond 2^52 have no fraction to round; `n = 0` adds ±0.5 and truncates; otherwise the
/// 16-significant-digit decimal form is rounded (so `round(2.675, 2)` is 2.68, as in SQLite,
/// although the double 2.675 is slightly below it).
fn round_to(r: f64, n: i64) -> f64 {
    const LIMIT: f64 = 4_503_599_627_370_496.0;
    if !(-LIMIT..=LIMIT).contains(&r) {
        return r;
    }
    if n == 0 {
        return ((r + if r < 0.0 { -0.5 } else { 0.5 }) as i64) as f64;
    }
    let sci = format!("{:.15e}", r.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return r;
    };
    let Ok(exp) = exp.parse::<i64>() else {
        return r;
    };
    let digits: Vec<u64> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u64::from(b - b'0'))
        .collect();
    // The digit at index i stands for 10^(exp - i); the last one kept stands for 10^-n.
    let last = exp + n;
    let Ok(next) = usize::try_from(last + 1) else {
        // Everything is below half of 10^-n.
        return 0.0f64.copysign(r);
    };
    if next >= digits.len() {
        return r;
    }
    let kept = digits[..next].iter().fold(0u64, |acc, d| acc * 10 + d);
    let m = kept + u64::from(digits[next] >= 5);
    let v: f64 = format!("{m}e-{n}").parse().unwrap_or(r.abs());
    v.copysign(r)
}

/// `CAST(x AS type)` for the types INTEGER, REAL, TEXT, NUMERIC and BOOLEAN (any letter case).
fn cast(name: &str, v: &Value, target: &Value) -> EvalResult<Value> {
    let Value::Str(target) = target else {
        return Err(type_err(name, "a type name", target));
    };
    let target = target.to_ascii_uppercase();
    if !matches!(
        target.as_str(),
        "INTEGER" | "REAL" | "TEXT" | "NUMERIC" | "BOOLEAN"
    ) {
        return Err(err(format!(
            "`{name}` cannot cast to {target}; the types are INTEGER, REAL, TEXT, NUMERIC and \
             BOOLEAN"
        )));
    }
    let x = class(name, v)?;
    let bytes = match x {
        Sql::Null => return Ok(Value::Nil),
        Sql::Text(t) => t.as_bytes(),
        Sql::Blob(b) => b,
        Sql::Int(_) | Sql::Real(_) => &[],
    };
    Ok(match (target.as_str(), x) {
        ("INTEGER", Sql::Int(i)) => Value::Int(i),
        // `as` truncates toward zero and saturates, like SQLite's doubleToInt64.
        ("INTEGER", Sql::Real(f)) => Value::Int(f as i64),
        ("INTEGER", _) => Value::Int(int_prefix(bytes).0),
        ("REAL", Sql::Int(i)) => Value::Float(i as f64),
        ("REAL", Sql::Real(f)) => Value::Float(f),
        ("REAL", _) => real(real_prefix(bytes).0),
        ("NUMERIC", Sql::Int(i)) => Value::Int(i),
        ("NUMERIC", Sql::Real(f)) => Value::Float(f),
        ("NUMERIC", _) => numeric(bytes),
        ("BOOLEAN", _) => Value::Bool(truth(name, v)? == Some(true)),
        _ => text(name, v)?.map_or(Value::Nil, |t| Value::Str(t.into_owned())),
    })
}

/// Text cast to NUMERIC: an integer when the leading number has neither a point nor an
/// exponent and fits in an i64, or when it is a whole double below 2^51 in magnitude; otherwise
/// a double. Text without a leading number is 0.
fn numeric(t: &[u8]) -> Value {
    const LIMIT: f64 = 2_251_799_813_685_248.0;
    let (x, integral) = real_prefix(t);
    if integral {
        let (i, saturated) = int_prefix(t);
        if !saturated {
            return Value::Int(i);
        }
    }
    if x == 0.0 {
        Value::Int(0)
    } else if x.fract() == 0.0 && (-LIMIT..LIMIT).contains(&x) {
        Value::Int(x as i64)
    } else {
        real(x)
    }
}

// ---------------------------------------------------------------------------------------------
// Aggregates.

/// The `sql_*` aggregates over a bag that may hold NULLs, which they skip.
pub(crate) fn aggregate(name: &str, values: Vec<Value>) -> EvalResult<Value> {
    match name {
        "sql_count" => Ok(Value::Int(
            values.iter().filter(|v| !is_null(v)).count() as i64
        )),
        "sql_sum" | "sql_total" | "sql_avg" => sum(name, &values),
        "sql_group_concat" => group_concat(name, values, false),
        "sql_group_concat_distinct" => group_concat(name, values, true),
        "sql_min" => extremum(name, values, Ordering::Less),
        "sql_max" => extremum(name, values, Ordering::Greater),
        _ => Err(unknown(name)),
    }
}

/// `sum`, `total` and `avg`. Integers are summed exactly; with a double among the values the
/// sum is a double, added with Neumaier's compensation as SQLite does.
fn sum(name: &str, values: &[Value]) -> EvalResult<Value> {
    let mut count = 0i64;
    let mut ints: i128 = 0;
    let mut any_real = false;
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for v in values {
        // sumStep: a value whose numeric affinity is an integer adds exactly; any other
        // non-NULL value adds as a double (text by its numeric prefix).
        let n = match class(name, v)? {
            Sql::Null => continue,
            Sql::Text(t) => match numeric_affinity(t.as_bytes()) {
                Some(Value::Int(i)) => Num::I(i),
                _ => Num::F(prefix_number(t.as_bytes()).as_f64()),
            },
            Sql::Blob(b) => Num::F(prefix_number(b).as_f64()),
            _ => match operand(name, v)? {
                Some(n) => n,
                None => continue,
            },
        };
        count += 1;
        let x = match n {
            Num::I(i) => {
                ints += i128::from(i);
                i as f64
            }
            Num::F(x) => {
                any_real = true;
                x
            }
        };
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    let float_sum = if !any_real {
        ints as f64
    } else if s.is_finite() && c.is_finite() {
        s + c
    } else {
        s
    };
    Ok(match name {
        "sql_total" => real(float_sum),
        _ if count == 0 => Value::Nil,
        "sql_avg" => real(float_sum / count as f64),
        _ if any_real => real(float_sum),
        _ => Value::Int(
            i64::try_from(ints).map_err(|_| err(format!("integer overflow in `{name}`")))?,
        ),
    })
}

/// `group_concat`: each value is the tuple (row identities…, value, separator); the non-NULL
/// values' text in row order, each after the separator of its own row (none before the first;
/// a NULL separator is empty). With `distinct`, a value repeated keeps its first row.
fn group_concat(name: &str, mut values: Vec<Value>, distinct: bool) -> EvalResult<Value> {
    let mut items = Vec::with_capacity(values.len());
    for v in values.drain(..) {
        match v {
            Value::Tuple(mut t) if t.len() >= 2 => {
                let sep = t.pop().unwrap_or(Value::Nil);
                let x = t.pop().unwrap_or(Value::Nil);
                items.push((t, x, sep));
            }
            // A plain value: no row to order by, the default separator.
            other => items.push((Vec::new(), other, Value::Str(",".into()))),
        }
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Option<String> = None;
    let mut seen: Vec<Value> = Vec::new();
    for (_, x, sep) in items {
        let Some(t) = text(name, &x)? else {
            continue;
        };
        if distinct {
            if seen.iter().any(|s| is(name, s, &x).unwrap_or(false)) {
                continue;
            }
            seen.push(x.clone());
        }
        match &mut out {
            None => out = Some(t.into_owned()),
            Some(acc) => {
                if let Some(s) = text(name, &sep)? {
                    acc.push_str(&s);
                }
                acc.push_str(&t);
            }
        }
    }
    Ok(out.map_or(Value::Nil, Value::Str))
}

/// `min` and `max` of the non-NULL values in SQLite's order; the first of equal values wins.
fn extremum(name: &str, values: Vec<Value>, want: Ordering) -> EvalResult<Value> {
    let mut best: Option<Value> = None;
    for v in values {
        if matches!(class(name, &v)?, Sql::Null) {
            continue;
        }
        let better = match &best {
            None => true,
            Some(b) => compare(name, &v, b)? == Some(want),
        };
        if better {
            best = Some(v);
        }
    }
    Ok(best.unwrap_or(Value::Nil))
}

#[cfg(test)]
mod tests;

/// `&`, `|`, `<<` and `>>` on integers as SQLite computes them: a negative shift shifts the
/// other way, a shift by 64 or more gives 0 (-1 for a right shift of a negative number), and a
/// right shift is arithmetic.
fn bits(name: &str, x: i64, y: i64) -> i64 {
    match name {
        "sql_bitand" => x & y,
        "sql_bitor" => x | y,
        _ => {
            let (left, by) = match (name == "sql_shl", y < 0) {
                (left, false) => (left, y),
                (left, true) => (!left, y.checked_neg().unwrap_or(64)),
            };
            if by >= 64 {
                if left || x >= 0 { 0 } else { -1 }
            } else if left {
                ((x as u64) << by) as i64
            } else {
                x >> by
            }
        }
    }
}
