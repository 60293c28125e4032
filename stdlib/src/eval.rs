//! Calls the built-in functions and predicates of the signature table on evaluated arguments.
//!
//! [`call`] dispatches on the canonical name, checks the arity against the table and returns
//! `Ok(None)` for a nil result. The semantics follow DataScript 1.8.1 as pinned down by the
//! conformance corpus, with Clojure on the JVM as the tie-breaker where JavaScript artefacts
//! would leak through: numbers compare and test equal by value across integers and doubles,
//! integer arithmetic is checked (overflow is an error, never a wrap), division by zero is an
//! error, and comparing values of incomparable kinds is an error rather than a silent answer.
//! An entity reference (`Value::Ref`) behaves as the integer it is, as entity ids do in DataScript.
//! The string and regex built-ins live in `text.rs`, the SQL ones (`sql_*`, with SQLite's
//! semantics instead) in `sql.rs`.

use crate::signatures::{Arity, Kind, builtin};
use crate::{sql_functions, text};
use pomo_types::Value;
use std::cmp::Ordering;

/// An error raised while evaluating a built-in (bad argument types, overflow, division by zero…).
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    pub message: String,
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// Builds an [`EvalError`].
pub(crate) fn err(message: impl Into<String>) -> EvalError {
    EvalError {
        message: message.into(),
    }
}

/// What a built-in returns: a value, or the error a failing call raises.
pub(crate) type EvalResult<T> = Result<T, EvalError>;

/// Truthiness as Clojure: nil and false are false, everything else true.
pub fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Nil | Value::Bool(false))
}

/// Calls a built-in function or predicate by canonical name on evaluated arguments.
///
/// `Ok(None)` means the result is nil (the evaluator drops the row); predicates return
/// `Value::Bool`. The database built-ins (`get_else`, `get_some`, `missing`) belong to the
/// evaluator and are an error here, as is an unknown name. Besides the table, `call` also
/// implements `get`, `is_empty` and `pr_str` (DataScript's `get`, `empty?` and `pr-str`, which
/// the conformance corpus uses) so that adding them to the table is all they need.
pub fn call(name: &str, args: &[Value]) -> Result<Option<Value>, EvalError> {
    let arity = match builtin(name, Kind::Function).or_else(|| builtin(name, Kind::Predicate)) {
        Some(b) if b.takes_source => {
            return Err(err(format!(
                "`{name}` needs the database and is evaluated by the query evaluator"
            )));
        }
        Some(b) => Some(b.arity),
        None => EXTRAS.iter().find(|(n, _)| *n == name).map(|e| e.1),
    };
    // The implementations index their arguments freely, so the arity check must come first.
    match arity {
        Some(a) if !a.accepts(args.len()) => {
            return Err(err(format!(
                "`{name}` takes {a} argument(s), got {}",
                args.len()
            )));
        }
        Some(_) => {}
        None => return Err(unknown(name)),
    }
    let v = dispatch(name, args)?;
    Ok(if matches!(v, Value::Nil) {
        None
    } else {
        Some(v)
    })
}

/// The functions implemented beyond the table, with their arities.
const EXTRAS: &[(&str, Arity)] = &[
    ("get", Arity::between(2, 3)),
    ("is_empty", Arity::exactly(1)),
    ("pr_str", Arity::at_least(0)),
];

/// The implementation behind [`call`]; a nil result is `Value::Nil` here.
fn dispatch(name: &str, a: &[Value]) -> EvalResult<Value> {
    let b = Value::Bool;
    Ok(match name {
        "eq" => b(a.windows(2).all(|w| eq_values(&w[0], &w[1]))),
        "ne" => b(!a.windows(2).all(|w| eq_values(&w[0], &w[1]))),
        "lt" => b(chain(a, Ordering::is_lt)?),
        "le" => b(chain(a, Ordering::is_le)?),
        "gt" => b(chain(a, Ordering::is_gt)?),
        "ge" => b(chain(a, Ordering::is_ge)?),
        "is_zero" => b(sign(name, &a[0])? == Ordering::Equal),
        "is_pos" => b(sign(name, &a[0])? == Ordering::Greater),
        "is_neg" => b(sign(name, &a[0])? == Ordering::Less),
        "is_even" => b(integral(name, &a[0])? % 2 == 0),
        "is_odd" => b(integral(name, &a[0])? % 2 != 0),
        "is_true" => b(matches!(a[0], Value::Bool(true))),
        "is_false" => b(matches!(a[0], Value::Bool(false))),
        "is_nil" => b(matches!(a[0], Value::Nil)),
        "is_some" => b(!matches!(a[0], Value::Nil)),
        "is_string" => b(matches!(a[0], Value::Str(_))),
        "is_keyword" => b(matches!(a[0], Value::Keyword(_))),
        "is_number" => b(matches!(
            a[0],
            Value::Int(_) | Value::Float(_) | Value::Ref(_)
        )),
        "is_int" => b(matches!(a[0], Value::Int(_) | Value::Ref(_))),
        "add" => fold(name, a, Num::I(0), add2)?,
        "mul" => fold(name, a, Num::I(1), mul2)?,
        "sub" if a.len() == 1 => sub2(Num::I(0), num(name, &a[0])?)?.value()?,
        "sub" => fold1(name, a, sub2)?,
        "div" if a.len() == 1 => div2(Num::I(1), num(name, &a[0])?)?.value()?,
        "div" => fold1(name, a, div2)?,
        "quot" => quot(num(name, &a[0])?, num(name, &a[1])?)?.value()?,
        "rem" => rem(num(name, &a[0])?, num(name, &a[1])?)?.value()?,
        "mod" => modulo(num(name, &a[0])?, num(name, &a[1])?)?.value()?,
        "inc" => add2(num(name, &a[0])?, Num::I(1))?.value()?,
        "dec" => sub2(num(name, &a[0])?, Num::I(1))?.value()?,
        "abs" => match num(name, &a[0])? {
            Num::I(i) => Value::Int(i.checked_abs().ok_or_else(|| overflow(name))?),
            Num::F(x) => Value::Float(x.abs()),
        },
        "max" => extremum(name, a, Ordering::Greater)?,
        "min" => extremum(name, a, Ordering::Less)?,
        "compare" => Value::Int(match compare_values(&a[0], &a[1], true)? {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }),
        "not" => b(!truthy(&a[0])),
        "vector" | "list" | "tuple" => Value::Tuple(a.to_vec()),
        "untuple" => match &a[0] {
            t @ Value::Tuple(_) => t.clone(),
            other => return Err(type_err(name, "a tuple", other)),
        },
        "ground" | "identity" => a[0].clone(),
        "type_name" => type_of(&a[0]),
        "rand_int" => rand_int(&a[0])?,
        "get" => get(a)?,
        "is_empty" => b(is_empty(&a[0])?),
        _ if name.starts_with("sql_") => return sql_functions::dispatch(name, a),
        _ => return text::dispatch(name, a),
    })
}

/// The error for an unknown name; the coverage test looks for its wording.
pub(crate) fn unknown(name: &str) -> EvalError {
    err(format!("unknown built-in function `{name}`"))
}

/// The error for an argument of the wrong type.
pub(crate) fn type_err(name: &str, expected: &str, got: &Value) -> EvalError {
    err(format!(
        "`{name}` expects {expected}, got {} {got}",
        article(got.type_name())
    ))
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn overflow(name: &str) -> EvalError {
    err(format!("integer overflow in `{name}`"))
}

/// A number taken apart: integers stay exact, doubles are doubles.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Num {
    I(i64),
    F(f64),
}

impl Num {
    /// Back to a value. NaN (from `inf - inf` and the like) is refused because it has no place
    /// in the value order; infinities are kept, as Clojure's doubles keep them.
    pub(crate) fn value(self) -> EvalResult<Value> {
        match self {
            Num::I(i) => Ok(Value::Int(i)),
            Num::F(x) if x.is_nan() => Err(err("arithmetic produced NaN")),
            Num::F(x) => Ok(Value::Float(x)),
        }
    }

    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(x) => x,
        }
    }
}

/// The number in a value, or `None` when it is not a number.
pub(crate) fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Int(i) => Some(Num::I(*i)),
        Value::Float(x) => Some(Num::F(*x)),
        Value::Ref(r) => i64::try_from(*r).ok().map(Num::I),
        _ => None,
    }
}

/// The number in an argument of `name`, or a type error.
pub(crate) fn num(name: &str, v: &Value) -> EvalResult<Num> {
    as_num(v).ok_or_else(|| type_err(name, "a number", v))
}

/// An integer argument: an integer, or a double with an integral value (JavaScript, where the
/// corpus was produced, cannot tell them apart).
pub(crate) fn integral(name: &str, v: &Value) -> EvalResult<i64> {
    match num(name, v)? {
        Num::I(i) => Ok(i),
        Num::F(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Ok(x as i64),
        Num::F(_) => Err(type_err(name, "an integer", v)),
    }
}

fn sign(name: &str, v: &Value) -> EvalResult<Ordering> {
    match num(name, v)? {
        Num::I(i) => Ok(i.cmp(&0)),
        Num::F(x) => x
            .partial_cmp(&0.0)
            .ok_or_else(|| err(format!("`{name}` of NaN"))),
    }
}

fn add2(a: Num, b: Num) -> EvalResult<Num> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => x.checked_add(y).map(Num::I).ok_or_else(|| overflow("+")),
        _ => Ok(Num::F(a.as_f64() + b.as_f64())),
    }
}

fn sub2(a: Num, b: Num) -> EvalResult<Num> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => x.checked_sub(y).map(Num::I).ok_or_else(|| overflow("-")),
        _ => Ok(Num::F(a.as_f64() - b.as_f64())),
    }
}

fn mul2(a: Num, b: Num) -> EvalResult<Num> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => x.checked_mul(y).map(Num::I).ok_or_else(|| overflow("*")),
        _ => Ok(Num::F(a.as_f64() * b.as_f64())),
    }
}

fn is_zero(n: Num) -> bool {
    match n {
        Num::I(i) => i == 0,
        Num::F(x) => x == 0.0,
    }
}

fn zero_divisor(name: &str) -> EvalError {
    err(format!("division by zero in `{name}`"))
}

/// Division: an integer when two integers divide exactly, otherwise a double (no ratios).
fn div2(a: Num, b: Num) -> EvalResult<Num> {
    if is_zero(b) {
        return Err(zero_divisor("/"));
    }
    match (a, b) {
        (Num::I(x), Num::I(y)) => match x.checked_rem(y) {
            Some(0) => x.checked_div(y).map(Num::I).ok_or_else(|| overflow("/")),
            Some(_) => Ok(Num::F(x as f64 / y as f64)),
            None => Err(overflow("/")),
        },
        _ => Ok(Num::F(a.as_f64() / b.as_f64())),
    }
}

/// Integer quotient truncated toward zero; on doubles, the truncated double quotient.
fn quot(a: Num, b: Num) -> EvalResult<Num> {
    if is_zero(b) {
        return Err(zero_divisor("quot"));
    }
    match (a, b) {
        (Num::I(x), Num::I(y)) => x.checked_div(y).map(Num::I).ok_or_else(|| overflow("quot")),
        _ => Ok(Num::F((a.as_f64() / b.as_f64()).trunc())),
    }
}

/// Remainder with the sign of the dividend.
fn rem(a: Num, b: Num) -> EvalResult<Num> {
    if is_zero(b) {
        return Err(zero_divisor("rem"));
    }
    match (a, b) {
        // `i64::MIN % -1` overflows in Rust but is mathematically (and on the JVM) zero.
        (Num::I(_), Num::I(-1)) => Ok(Num::I(0)),
        (Num::I(x), Num::I(y)) => Ok(Num::I(x % y)),
        _ => Ok(Num::F(a.as_f64() % b.as_f64())),
    }
}

/// Modulus with the sign of the divisor, as Clojure's `mod`.
fn modulo(a: Num, b: Num) -> EvalResult<Num> {
    let r = rem(a, b)?;
    let differs = |r: f64, d: f64| r != 0.0 && (r < 0.0) != (d < 0.0);
    Ok(match (r, b) {
        (Num::I(r), Num::I(d)) if differs(r as f64, d as f64) => Num::I(r + d),
        (Num::F(r), d) if differs(r, d.as_f64()) => Num::F(r + d.as_f64()),
        (r, _) => r,
    })
}

/// Folds a variadic arithmetic function from a starting value (`+` and `*`).
fn fold(
    name: &str,
    args: &[Value],
    start: Num,
    f: fn(Num, Num) -> EvalResult<Num>,
) -> EvalResult<Value> {
    let mut acc = start;
    for v in args {
        acc = f(acc, num(name, v)?)?;
    }
    acc.value()
}

/// Folds a variadic arithmetic function from its first argument (`-` and `/`).
fn fold1(name: &str, args: &[Value], f: fn(Num, Num) -> EvalResult<Num>) -> EvalResult<Value> {
    let mut acc = num(name, &args[0])?;
    for v in &args[1..] {
        acc = f(acc, num(name, v)?)?;
    }
    acc.value()
}

/// The `max`/`min` functions: numbers only, as in Clojure; the winning argument is returned
/// unchanged (so `(max 1 2.0)` is `2.0`).
fn extremum(name: &str, args: &[Value], want: Ordering) -> EvalResult<Value> {
    let mut best = &args[0];
    num(name, best)?;
    for v in &args[1..] {
        num(name, v)?;
        if compare_values(v, best, false)? == want {
            best = v;
        }
    }
    Ok(best.clone())
}

/// Whether each neighbouring pair of arguments compares as `ok` wants.
fn chain(args: &[Value], ok: fn(Ordering) -> bool) -> EvalResult<bool> {
    for w in args.windows(2) {
        if !ok(compare_values(&w[0], &w[1], false)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Compares an integer with a double exactly (no rounding of large integers).
fn cmp_int_float(i: i64, x: f64) -> Ordering {
    // 2^63 as a double; every double at or above it exceeds every i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if x >= LIMIT {
        return Ordering::Less;
    }
    if x < -LIMIT {
        return Ordering::Greater;
    }
    let t = x.trunc();
    match i.cmp(&(t as i64)) {
        Ordering::Equal => 0.0f64.partial_cmp(&(x - t)).unwrap_or(Ordering::Equal),
        o => o,
    }
}

/// Compares two numbers by value; NaN is incomparable.
pub(crate) fn cmp_num(a: Num, b: Num) -> EvalResult<Ordering> {
    let nan = || err("cannot compare NaN");
    match (a, b) {
        (Num::I(x), Num::I(y)) => Ok(x.cmp(&y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y).ok_or_else(nan),
        (Num::I(x), Num::F(y)) if !y.is_nan() => Ok(cmp_int_float(x, y)),
        (Num::F(x), Num::I(y)) if !x.is_nan() => Ok(cmp_int_float(y, x).reverse()),
        _ => Err(nan()),
    }
}

/// Compares two values as the comparison predicates, `compare` and the `min`/`max` aggregates
/// do: numbers (and entity ids) by value, strings, keywords, symbols and the other scalar kinds
/// of one kind by the value order, tuples as Clojure vectors (shorter first, then element by
/// element). Anything else, such as a string against a number, is an error. `nil` sorts before
/// everything when `allow_nil` is set (as `compare` does) and is an error otherwise (as `<` on
/// the JVM).
pub(crate) fn compare_values(a: &Value, b: &Value, allow_nil: bool) -> EvalResult<Ordering> {
    use Value::*;
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return cmp_num(x, y);
    }
    match (a, b) {
        (Nil, Nil) if allow_nil => Ok(Ordering::Equal),
        (Nil, _) if allow_nil => Ok(Ordering::Less),
        (_, Nil) if allow_nil => Ok(Ordering::Greater),
        (Str(_), Str(_))
        | (Keyword(_), Keyword(_))
        | (Symbol(_), Symbol(_))
        | (Bool(_), Bool(_))
        | (Instant(_), Instant(_))
        | (Uuid(_), Uuid(_))
        | (Bytes(_), Bytes(_))
        | (Cid(_), Cid(_)) => Ok(a.cmp(b)),
        (Tuple(x), Tuple(y)) => {
            if x.len() != y.len() {
                return Ok(x.len().cmp(&y.len()));
            }
            for (p, q) in x.iter().zip(y) {
                let o = compare_values(p, q, allow_nil)?;
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            Ok(Ordering::Equal)
        }
        _ => Err(err(format!(
            "cannot compare {} {a} with {} {b}",
            article(a.type_name()),
            article(b.type_name())
        ))),
    }
}

/// Equality as `=`: numbers (and entity ids) are equal when numerically equal, collections
/// when their elements are; other values by kind and content.
pub(crate) fn eq_values(a: &Value, b: &Value) -> bool {
    use Value::*;
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return matches!(cmp_num(x, y), Ok(Ordering::Equal));
    }
    match (a, b) {
        (Tuple(x), Tuple(y)) | (Set(x), Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq_values(p, q))
        }
        (Map(x), Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .any(|(k2, v2)| eq_values(k, k2) && eq_values(v, v2))
                })
        }
        _ => a == b,
    }
}

/// `type`: the JVM class name Clojure would print, as a symbol (nil for nil). Entity ids are
/// numbers in DataScript, hence `java.lang.Long` for a reference.
fn type_of(v: &Value) -> Value {
    let name = match v {
        Value::Nil => return Value::Nil,
        Value::Bool(_) => "java.lang.Boolean",
        Value::Int(_) | Value::Ref(_) => "java.lang.Long",
        Value::Float(_) => "java.lang.Double",
        Value::Str(_) => "java.lang.String",
        Value::Keyword(_) => "clojure.lang.Keyword",
        Value::Instant(_) => "java.util.Date",
        Value::Uuid(_) => "java.util.UUID",
        Value::Bytes(_) => "[B",
        Value::Cid(_) => "pomo.Cid",
        Value::Symbol(_) => "clojure.lang.Symbol",
        Value::Tuple(_) => "clojure.lang.PersistentVector",
        Value::Set(_) => "clojure.lang.PersistentHashSet",
        Value::Map(_) => "clojure.lang.PersistentArrayMap",
        Value::Fn(_) => "clojure.lang.IFn",
    };
    Value::Symbol(name.into())
}

/// `rand-int`: a random integer from 0 toward `n` (exclusive), as `(int (rand n))`.
fn rand_int(n: &Value) -> EvalResult<Value> {
    let n = num("rand_int", n)?.as_f64();
    Ok(Value::Int((crate::random::unit() * n) as i64))
}

/// `get`: a map's value for a key, a tuple's element at an index, a set's member; the default
/// (or nil) otherwise, as Clojure's `get` never fails.
fn get(a: &[Value]) -> EvalResult<Value> {
    let default = a.get(2).cloned().unwrap_or(Value::Nil);
    let found = match (&a[0], &a[1]) {
        (Value::Map(es), k) => es.iter().find(|(k2, _)| eq_values(k, k2)).map(|e| &e.1),
        (Value::Tuple(xs), Value::Int(i)) => usize::try_from(*i).ok().and_then(|i| xs.get(i)),
        (Value::Set(xs), k) => xs.iter().find(|x| eq_values(k, x)),
        _ => None,
    };
    Ok(found.cloned().unwrap_or(default))
}

/// `empty?`: nil and empty strings and collections.
fn is_empty(v: &Value) -> EvalResult<bool> {
    match v {
        Value::Nil => Ok(true),
        Value::Str(s) => Ok(s.is_empty()),
        Value::Tuple(xs) | Value::Set(xs) => Ok(xs.is_empty()),
        Value::Map(es) => Ok(es.is_empty()),
        Value::Bytes(b) => Ok(b.is_empty()),
        other => Err(type_err("is_empty", "a string or a collection", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::check_call as check;

    #[test]
    fn eq_is_numeric_across_kinds() {
        check("eq", "2 2.0", "true");
        check("eq", "1 1 1", "true");
        check("eq", "1 1 2", "false");
        check("eq", "1", "true");
        check("eq", "\"a\" :a", "false");
        check("eq", "[1 2] [1.0 2]", "true");
        check("eq", "#ref 4 4", "true");
        check("eq", "nil nil", "true");
    }

    #[test]
    fn eq_needs_an_argument() {
        check("eq", "", "error: takes at least 1");
    }

    #[test]
    fn ne_is_not_all_equal() {
        check("ne", "1 2", "true");
        check("ne", "2 2.0", "false");
        check("ne", "1 1 2", "true");
        check("ne", "\"Lima\" \"Lima\"", "false");
    }

    #[test]
    fn lt_is_variadic() {
        check("lt", "26 30 40", "true");
        check("lt", "26 26 40", "false");
        check("lt", "1", "true");
        check("lt", "1 1.5", "true");
    }

    #[test]
    fn le_ge_gt() {
        check("le", "1 1 2", "true");
        check("le", "2 1", "false");
        check("gt", "3 2 1", "true");
        check("gt", "3 3", "false");
        check("ge", "3 3 1.0", "true");
        check("ge", "1 3", "false");
    }

    #[test]
    fn comparisons_on_strings_and_keywords() {
        check("lt", "\"apple\" \"pear\"", "true");
        check("gt", ":b :a", "true");
        check("le", "\"b\" \"a\"", "false");
    }

    #[test]
    fn comparing_incomparable_kinds_is_an_error() {
        check("lt", "\"a\" 1", "error: cannot compare");
        check("lt", "nil 5", "error: cannot compare");
        check("ge", ":a \"a\"", "error: cannot compare");
    }

    #[test]
    fn large_integers_compare_exactly_with_doubles() {
        check("lt", "9007199254740993 9007199254740992.0", "false");
        check("gt", "9007199254740993 9007199254740992.0", "true");
        check("lt", "9223372036854775807 9223372036854775808.0", "true");
    }

    #[test]
    fn number_predicates() {
        check("is_zero", "0", "true");
        check("is_zero", "0.0", "true");
        check("is_zero", "3", "false");
        check("is_pos", "3", "true");
        check("is_pos", "0", "false");
        check("is_neg", "-2", "true");
        check("is_neg", "-0.5", "true");
        check("is_neg", "0", "false");
    }

    #[test]
    fn number_predicates_reject_non_numbers() {
        check("is_zero", "\"0\"", "error: expects a number");
        check("is_pos", "nil", "error: expects a number");
        check("is_even", ":a", "error: expects a number");
    }

    #[test]
    fn even_and_odd() {
        check("is_even", "2", "true");
        check("is_even", "-3", "false");
        check("is_odd", "-3", "true");
        check("is_odd", "4.0", "false");
        check("is_odd", "1.5", "error: expects an integer");
    }

    #[test]
    fn value_predicates() {
        check("is_true", "true", "true");
        check("is_true", "1", "false");
        check("is_false", "false", "true");
        check("is_false", "nil", "false");
        check("is_nil", "nil", "true");
        check("is_nil", "false", "false");
        check("is_some", "false", "true");
        check("is_some", "nil", "false");
    }

    #[test]
    fn type_predicates() {
        check("is_string", "\"a\"", "true");
        check("is_string", ":a", "false");
        check("is_keyword", ":a", "true");
        check("is_keyword", "\"a\"", "false");
        check("is_number", "1.5", "true");
        check("is_number", "\"1\"", "false");
        check("is_int", "1", "true");
        check("is_int", "1.0", "false");
    }

    #[test]
    fn add_and_mul() {
        check("add", "", "0");
        check("add", "1 2 3", "6");
        check("add", "1 2.5", "3.5");
        check("mul", "", "1");
        check("mul", "2 3 4", "24");
        check("mul", "2 1.5", "3.0");
    }

    #[test]
    fn sub_negates_with_one_argument() {
        check("sub", "5", "-5");
        check("sub", "10 3 2", "5");
        check("sub", "1 0.5", "0.5");
    }

    #[test]
    fn overflow_is_an_error() {
        check("add", "9223372036854775807 1", "error: overflow");
        check("mul", "9223372036854775807 2", "error: overflow");
        check("sub", "-9223372036854775808", "error: overflow");
        check("inc", "9223372036854775807", "error: overflow");
        check("dec", "-9223372036854775808", "error: overflow");
        check("abs", "-9223372036854775808", "error: overflow");
        check("div", "-9223372036854775808 -1", "error: overflow");
        check("quot", "-9223372036854775808 -1", "error: overflow");
    }

    #[test]
    fn arithmetic_rejects_non_numbers() {
        check("add", "\"a\" 1", "error: expects a number");
        check("mul", "nil", "error: expects a number");
    }

    #[test]
    fn div_is_integer_when_exact() {
        check("div", "12 4", "3");
        check("div", "7 2", "3.5");
        check("div", "2", "0.5");
        check("div", "7.0 2", "3.5");
        check("div", "60 2 3", "10");
    }

    #[test]
    fn division_by_zero_is_an_error() {
        check("div", "1 0", "error: division by zero");
        check("div", "1.0 0.0", "error: division by zero");
        check("div", "0", "error: division by zero");
        check("quot", "1 0", "error: division by zero");
        check("rem", "1 0", "error: division by zero");
        check("mod", "1 0", "error: division by zero");
    }

    #[test]
    fn quot_rem_mod_follow_clojure() {
        check("quot", "17 5", "3");
        check("rem", "17 5", "2");
        check("mod", "17 5", "2");
        check("quot", "-7 2", "-3");
        check("rem", "-7 2", "-1");
        check("mod", "-7 2", "1");
        check("mod", "7 -2", "-1");
        check("rem", "7 -2", "1");
        check("mod", "-8 2", "0");
        check("rem", "-9223372036854775808 -1", "0");
    }

    #[test]
    fn quot_rem_mod_on_doubles() {
        check("quot", "7.5 2", "3.0");
        check("rem", "7.5 2", "1.5");
        check("mod", "-7.5 2", "0.5");
    }

    #[test]
    fn inc_dec_abs() {
        check("inc", "45", "46");
        check("dec", "45", "44");
        check("inc", "1.5", "2.5");
        check("abs", "-3", "3");
        check("abs", "-2.5", "2.5");
    }

    #[test]
    fn max_and_min_functions() {
        check("max", "1 3 2", "3");
        check("min", "1 3 2", "1");
        check("max", "1 2.0", "2.0");
        check("min", "7", "7");
        check("max", "\"a\" \"b\"", "error: expects a number");
    }

    #[test]
    fn compare_gives_a_sign() {
        check("compare", "\"apple\" \"pear\"", "-1");
        check("compare", "\"pear\" \"apple\"", "1");
        check("compare", "\"apple\" \"apple\"", "0");
        check("compare", "2 2.0", "0");
        check("compare", "nil 1", "-1");
        check("compare", "[1 2 3] [2]", "1");
        check("compare", "[1 2] [1 3]", "-1");
        check("compare", "1 \"a\"", "error: cannot compare");
    }

    #[test]
    fn not_uses_truthiness() {
        check("not", "false", "true");
        check("not", "nil", "true");
        check("not", "0", "false");
    }

    #[test]
    fn truthiness() {
        assert!(!truthy(&Value::Nil));
        assert!(!truthy(&Value::Bool(false)));
        assert!(truthy(&Value::Int(0)));
        assert!(truthy(&Value::Str(String::new())));
    }

    #[test]
    fn collections_build_tuples() {
        check("vector", "1 :a", "[1, :a]");
        check("list", "", "[]");
        check("tuple", "\"Dave\" \"Quito\"", "[\"Dave\", \"Quito\"]");
    }

    #[test]
    fn untuple_returns_the_tuple() {
        check("untuple", "[1 \"x\"]", "[1, \"x\"]");
        check("untuple", "1", "error: expects a tuple");
    }

    #[test]
    fn ground_and_identity_return_their_argument() {
        check("ground", "[10 20]", "[10, 20]");
        check("ground", ":eng", ":eng");
        check("identity", "#ref 4", "#ref \"4\"");
        check("identity", "nil", "nil");
    }

    #[test]
    fn type_name_is_the_class() {
        check("type_name", "1", "'java.lang.Long");
        check("type_name", "\"a\"", "'java.lang.String");
        check("type_name", ":a", "'clojure.lang.Keyword");
        check("type_name", "nil", "nil");
    }

    #[test]
    fn rand_int_stays_below_n() {
        for _ in 0..100 {
            let Ok(Some(Value::Int(i))) = call("rand_int", &[Value::Int(5)]) else {
                panic!("rand_int did not return an integer");
            };
            assert!((0..5).contains(&i));
        }
        check("rand_int", "0", "0");
        check("rand_int", "\"5\"", "error: expects a number");
    }

    #[test]
    fn get_looks_up_maps_tuples_and_sets() {
        check("get", "{:a 1 :b 2} :b", "2");
        check("get", "{:a 1} :b :none", ":none");
        check("get", "{:a 1} :b", "nil");
        check("get", "[10 20] 1", "20");
        check("get", "#{1 2} 2", "2");
        check("get", "nil :a", "nil");
    }

    #[test]
    fn is_empty_on_strings_and_collections() {
        check("is_empty", "\"\"", "true");
        check("is_empty", "\"a\"", "false");
        check("is_empty", "[]", "true");
        check("is_empty", "nil", "true");
        check("is_empty", "1", "error: expects a string or a collection");
    }

    #[test]
    fn database_builtins_belong_to_the_evaluator() {
        check(
            "get_else",
            "$ 1 :a 0",
            "error: evaluated by the query evaluator",
        );
        check(
            "get_some",
            "$ 1 :a",
            "error: evaluated by the query evaluator",
        );
        check(
            "missing",
            "$ 1 :a",
            "error: evaluated by the query evaluator",
        );
    }

    #[test]
    fn unknown_names_and_bad_arities_are_errors() {
        check("no_such_fn", "1", "error: unknown built-in function");
        check("count", "[1]", "error: unknown built-in function");
        check("inc", "1 2", "error: takes 1 argument(s), got 2");
        check("subs", "\"a\"", "error: takes 2 to 3 argument(s)");
        check("get", "{}", "error: takes 2 to 3");
        check("is_empty", "", "error: takes 1 argument(s), got 0");
    }
}
