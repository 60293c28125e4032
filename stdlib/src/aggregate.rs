//! The built-in aggregates: `count`, `count_distinct`, `sum`, `avg`, `median`, `variance`,
//! `stddev`, `min`, `max` (optionally of n values), `distinct`, `rand` and `sample`.
//!
//! The evaluator passes the bag of values to aggregate (with `:with` multiplicities) and the
//! constant parameters written before the variable (the n of `(max n ?x)`). Values are distinct
//! when they are not `=`: an integer and a double of the same value count once, as in DataScript,
//! which ran on JavaScript. On an empty bag, `count`, `count_distinct` and `sum` give 0,
//! `distinct` the empty set and `min`/`max` of n and `sample` the empty tuple; `avg`, `median`,
//! `variance`, `stddev`, plain `min`/`max` and `rand` have no value to give and are errors.
//! The SQL aggregates (`sql_count`, `sql_sum`, `sql_total`, `sql_avg`, `sql_min`, `sql_max`)
//! live in `sql.rs`: they skip NULLs and give NULL rather than an error on an empty bag.

use crate::eval::{
    EvalError, EvalResult, Num, as_num, cmp_num, compare_values, err, integral, num, unknown,
};
use crate::signatures::{Kind, builtin};
use pomo_types::Value;
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Runs an aggregate by canonical name over `values`, with the constant `params` before the
/// aggregated variable. Returns a `Value::Tuple` for min/max of n, `sample` and `rand` of n,
/// and a `Value::Set` for `distinct`.
pub fn aggregate(name: &str, params: &[Value], values: Vec<Value>) -> Result<Value, EvalError> {
    let b = builtin(name, Kind::Aggregate).ok_or_else(|| unknown(name))?;
    if !b.arity.accepts(params.len() + 1) {
        return Err(err(format!(
            "aggregate `{name}` takes {} argument(s) including the aggregated variable, got {}",
            b.arity,
            params.len() + 1
        )));
    }
    let n = match params.first() {
        Some(p) => Some(count_param(name, p)?),
        None => None,
    };
    match (name, n) {
        ("count", _) => Ok(Value::Int(values.len() as i64)),
        ("count_distinct", _) => Ok(Value::Int(distinct(values).len() as i64)),
        ("sum", _) => sum(&values),
        ("avg", _) => Ok(Value::Float(mean(name, &values)?)),
        ("median", _) => median(&values),
        ("variance", _) => Ok(Value::Float(variance(name, &values)?)),
        ("stddev", _) => Ok(Value::Float(variance(name, &values)?.sqrt())),
        ("min", None) => extremum(name, values, Ordering::Less),
        ("max", None) => extremum(name, values, Ordering::Greater),
        ("min", Some(n)) => {
            let mut v = sort(distinct(values))?;
            v.truncate(n);
            Ok(Value::Tuple(v))
        }
        ("max", Some(n)) => {
            let mut v = sort(distinct(values))?;
            Ok(Value::Tuple(v.split_off(v.len().saturating_sub(n))))
        }
        ("distinct", _) => {
            let mut v = distinct(values);
            v.sort();
            Ok(Value::Set(v))
        }
        ("rand", _) if values.is_empty() => Err(empty(name)),
        ("rand", None) => Ok(values[crate::random::below(values.len())].clone()),
        ("rand", Some(n)) => Ok(Value::Tuple(
            (0..n)
                .map(|_| values[crate::random::below(values.len())].clone())
                .collect(),
        )),
        ("sample", n) => {
            let mut v = distinct(values);
            let n = n.unwrap_or(0).min(v.len());
            // A partial Fisher–Yates shuffle: the first n places get a uniform random sample.
            for i in 0..n {
                let j = i + crate::random::below(v.len() - i);
                v.swap(i, j);
            }
            v.truncate(n);
            Ok(Value::Tuple(v))
        }
        (sql, _) if sql.starts_with("sql_") => crate::sql_functions::aggregate(sql, values),
        _ => Err(unknown(name)),
    }
}

fn empty(name: &str) -> EvalError {
    err(format!("aggregate `{name}` of no values"))
}

/// The n of `(max n ?x)`, `(rand n ?x)` and `(sample n ?x)`: a non-negative integer.
fn count_param(name: &str, v: &Value) -> EvalResult<usize> {
    let n = integral(name, v)?;
    usize::try_from(n).map_err(|_| err(format!("`{name}` needs a non-negative count, got {n}")))
}

/// A value that stands for every value `=` to it: integral doubles and entity ids become
/// integers, recursively, so that equal values have equal keys.
fn key(v: &Value) -> Value {
    match v {
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Value::Int(*x as i64),
        Value::Ref(r) => i64::try_from(*r).map_or(v.clone(), Value::Int),
        Value::Tuple(xs) => Value::Tuple(xs.iter().map(key).collect()),
        Value::Set(xs) => {
            let mut ks: Vec<Value> = xs.iter().map(key).collect();
            ks.sort();
            ks.dedup();
            Value::Set(ks)
        }
        Value::Map(es) => {
            let mut ks: Vec<(Value, Value)> = es.iter().map(|(k, x)| (key(k), key(x))).collect();
            ks.sort();
            Value::Map(ks)
        }
        other => other.clone(),
    }
}

/// The first value of each `=` class, in the order first seen.
fn distinct(values: Vec<Value>) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    values.into_iter().filter(|v| seen.insert(key(v))).collect()
}

/// Sorts by [`compare_values`], which may fail (mixed kinds), hence a merge sort that stops at
/// the first incomparable pair instead of `sort_by` with a comparator that cannot fail.
fn sort(mut v: Vec<Value>) -> EvalResult<Vec<Value>> {
    if v.len() <= 1 {
        return Ok(v);
    }
    let right = sort(v.split_off(v.len() / 2))?;
    let left = sort(v)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        if compare_values(b, a, false)? == Ordering::Less {
            out.extend(r.next());
        } else {
            out.extend(l.next());
        }
    }
    out.extend(l);
    out.extend(r);
    Ok(out)
}

/// Plain `min`/`max`: the first value that no other beats.
fn extremum(name: &str, values: Vec<Value>, want: Ordering) -> EvalResult<Value> {
    let mut it = values.into_iter();
    let mut best = it.next().ok_or_else(|| empty(name))?;
    for v in it {
        if compare_values(&v, &best, false)? == want {
            best = v;
        }
    }
    Ok(best)
}

/// The numbers of the bag, or a type error.
fn nums(name: &str, values: &[Value]) -> EvalResult<Vec<Num>> {
    values.iter().map(|v| num(name, v)).collect()
}

/// `sum`: an integer when every value is one (overflow is an error), else a double.
fn sum(values: &[Value]) -> EvalResult<Value> {
    let ns = nums("sum", values)?;
    if ns.iter().all(|n| matches!(n, Num::I(_))) {
        let mut acc = 0i64;
        for n in ns {
            if let Num::I(i) = n {
                acc = acc
                    .checked_add(i)
                    .ok_or_else(|| err("integer overflow in `sum`"))?;
            }
        }
        Ok(Value::Int(acc))
    } else {
        Num::F(ns.iter().map(|n| n.as_f64()).sum()).value()
    }
}

/// The mean as a double; integers are summed exactly first.
fn mean(name: &str, values: &[Value]) -> EvalResult<f64> {
    let ns = nums(name, values)?;
    if ns.is_empty() {
        return Err(empty(name));
    }
    let total = if ns.iter().all(|n| matches!(n, Num::I(_))) {
        ns.iter()
            .map(|n| match n {
                Num::I(i) => *i as i128,
                Num::F(_) => 0,
            })
            .sum::<i128>() as f64
    } else {
        ns.iter().map(|n| n.as_f64()).sum()
    };
    Ok(total / ns.len() as f64)
}

/// `median`: the middle value, or the mean of the middle pair for an even count (an integer
/// when two integers average exactly, else a double).
fn median(values: &[Value]) -> EvalResult<Value> {
    let mut ns = nums("median", values)?;
    if ns.is_empty() {
        return Err(empty("median"));
    }
    // Checking for NaN first makes the comparator below total.
    for n in &ns {
        cmp_num(*n, *n)?;
    }
    ns.sort_by(|a, b| cmp_num(*a, *b).unwrap_or(Ordering::Equal));
    let m = ns.len() / 2;
    if ns.len() % 2 == 1 {
        return ns[m].value();
    }
    match (ns[m - 1], ns[m]) {
        (Num::I(a), Num::I(b)) => {
            let s = a as i128 + b as i128;
            if s % 2 == 0 {
                Ok(Value::Int((s / 2) as i64))
            } else {
                Ok(Value::Float(s as f64 / 2.0))
            }
        }
        (a, b) => Num::F((a.as_f64() + b.as_f64()) / 2.0).value(),
    }
}

/// The population variance.
fn variance(name: &str, values: &[Value]) -> EvalResult<f64> {
    let m = mean(name, values)?;
    let squares: f64 = values
        .iter()
        .filter_map(as_num)
        .map(|n| (n.as_f64() - m).powi(2))
        .sum();
    Ok(squares / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::parse;

    /// Runs aggregate `name` with the value literals in `params` over those in `values` and
    /// compares the printed outcome with `expected`: a value or `error: <message substring>`.
    #[track_caller]
    fn check(name: &str, params: &str, values: &str, expected: &str) {
        let got = match aggregate(name, &parse(params), parse(values)) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {}", e.message),
        };
        if let Some(msg) = expected.strip_prefix("error: ") {
            assert!(
                got.starts_with("error: ") && got.contains(msg),
                "{name}: got {got}, expected an error containing {msg:?}"
            );
        } else {
            assert_eq!(got, expected, "{name} {params} over {values}");
        }
    }

    #[test]
    fn count_is_the_bag_size() {
        check("count", "", "1 1 2", "3");
        check("count", "", "", "0");
    }

    #[test]
    fn count_distinct_counts_equal_values_once() {
        check("count_distinct", "", "1 1 2", "2");
        check("count_distinct", "", "2 2.0 \"2\"", "2");
        check("count_distinct", "", "", "0");
    }

    #[test]
    fn sum_of_integers_is_an_integer() {
        check("sum", "", "100 80 80", "260");
        check("sum", "", "", "0");
    }

    #[test]
    fn sum_with_a_double_is_a_double() {
        check("sum", "", "1.5 2.25 3", "6.75");
    }

    #[test]
    fn sum_errors() {
        check("sum", "", "9223372036854775807 1", "error: overflow");
        check("sum", "", "1 \"a\"", "error: expects a number");
    }

    #[test]
    fn avg_is_a_double() {
        check("avg", "", "1 2 3", "2.0");
        check("avg", "", "1 2 4", "2.3333333333333335");
        check("avg", "", "100 80 80", "86.66666666666667");
        check("avg", "", "", "error: of no values");
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        check("median", "", "9 1 5", "5");
        check("median", "", "1 2 3 10", "2.5");
        check("median", "", "1 3 5 10", "4");
        check("median", "", "1.0 3", "2.0");
        check("median", "", "", "error: of no values");
    }

    #[test]
    fn variance_and_stddev_are_population_statistics() {
        check("variance", "", "60 90 60", "200.0");
        check("variance", "", "100 80 80", "88.8888888888889");
        check("stddev", "", "2 4 4 4 5 5 7 9", "2.0");
        check("stddev", "", "", "error: of no values");
        check("variance", "", ":a", "error: expects a number");
    }

    #[test]
    fn min_and_max_of_numbers_by_value() {
        check("min", "", "80 100 80", "80");
        check("max", "", "80 100 80", "100");
        check("max", "", "1 2.5 2", "2.5");
        check("min", "", "", "error: of no values");
    }

    #[test]
    fn min_and_max_of_strings() {
        check("min", "", "\"Bob\" \"Alice\" \"Frank\"", "\"Alice\"");
        check("max", "", "\"Bob\" \"Alice\" \"Frank\"", "\"Frank\"");
    }

    #[test]
    fn min_and_max_of_mixed_kinds_are_errors() {
        check("min", "", "1 \"a\"", "error: cannot compare");
        check("max", "2", "1 \"a\" 2", "error: cannot compare");
    }

    #[test]
    fn min_n_and_max_n_are_distinct_and_ascending() {
        check("min", "3", "70 50 60 50 80", "[50, 60, 70]");
        check("max", "2", "70 100 90 100", "[90, 100]");
        check("max", "3", "100 80 80 90", "[80, 90, 100]");
        check("max", "5", "2 1", "[1, 2]");
        check("min", "0", "2 1", "[]");
        check("max", "2", "", "[]");
    }

    #[test]
    fn the_count_parameter_must_be_a_non_negative_integer() {
        check("max", "-1", "1", "error: non-negative");
        check("max", "\"2\"", "1", "error: expects a number");
        check("sample", "", "1", "error: takes 2 argument(s)");
        check("count", "1", "1", "error: takes 1 argument(s)");
    }

    #[test]
    fn distinct_is_a_sorted_set() {
        check(
            "distinct",
            "",
            "\"Oslo\" \"Lima\" \"Oslo\" \"Quito\"",
            "#{\"Lima\", \"Oslo\", \"Quito\"}",
        );
        check("distinct", "", "2 2.0 1", "#{1, 2}");
        check("distinct", "", "", "#{}");
    }

    #[test]
    fn rand_picks_from_the_bag() {
        check("rand", "", "7", "7");
        check("rand", "3", "7", "[7, 7, 7]");
        check("rand", "", "", "error: of no values");
        for _ in 0..20 {
            let v = aggregate("rand", &[], parse("1 2 3")).unwrap();
            assert!(matches!(v, Value::Int(1..=3)), "{v}");
        }
    }

    #[test]
    fn sample_is_distinct() {
        check("sample", "3", ":eng", "[:eng]");
        check("sample", "3", "", "[]");
        for _ in 0..20 {
            let Value::Tuple(mut v) = aggregate("sample", &parse("2"), parse("1 1 2 3")).unwrap()
            else {
                panic!("sample did not return a tuple");
            };
            assert_eq!(v.len(), 2);
            v.dedup();
            assert_eq!(v.len(), 2);
            assert!(v.iter().all(|x| matches!(x, Value::Int(1..=3))));
        }
    }

    #[test]
    fn unknown_aggregates_are_errors() {
        check("no_such_agg", "", "1", "error: unknown built-in");
        check("add", "", "1", "error: unknown built-in");
    }
}
