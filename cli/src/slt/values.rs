//! Result values printed by a query's type letters, the way SQLite's own sqllogictest runner
//! (`slt_sqlite.c`) prints them, so that sorting and md5 hashing see the same text SQLite's
//! runner saw when it wrote the expected results.
//!
//! The runner reads each column through `sqlite3_column_*` for the column's letter: `I` is
//! `sqlite3_column_int` printed with `%d` (a real truncated toward zero, a text's leading integer
//! as `atoi` reads it, 0 for a text that does not start with one, then narrowed to 32 bits as C's
//! `int` is), `R` is `sqlite3_column_double` printed with `%.3f`, `T` is `sqlite3_column_text`
//! (`(empty)` for the empty string, every byte outside printable ASCII replaced by `@`, a real in
//! SQLite's `%!.15g` form). NULL prints `NULL` whatever the letter. Values SQL never produces
//! (keywords, references, …) print as [`pomo::sql::render`] prints them.

use pomo::sql::render;
use pomo_types::Value;

/// One value as SQLite's runner prints it for the type letter `letter` (`I`, `R` or `T`);
/// `None` for any other letter, which SQLite's runner refuses.
pub fn format_value(value: &Value, letter: char) -> Option<String> {
    if let Value::Nil = value {
        return Some("NULL".into());
    }
    Some(match letter {
        'I' => format!("{}", as_integer(value) as i32),
        'R' => fixed_three_decimals(as_real(value)),
        'T' => as_text(value),
        _ => return None,
    })
}

/// `sqlite3_column_int64`: integers as they are, reals truncated toward zero (clamped to the
/// 64-bit range), texts by their leading integer.
fn as_integer(value: &Value) -> i64 {
    match value {
        Value::Bool(b) => i64::from(*b),
        Value::Int(i) => *i,
        Value::Float(f) => real_to_integer(*f),
        Value::Str(s) => text_to_integer(s),
        _ => 0,
    }
}

/// `sqlite3RealToI64`: truncation toward zero, clamped at the ends of the 64-bit range (Rust's
/// `as` clamps the same way and maps NaN to 0).
fn real_to_integer(r: f64) -> i64 {
    r as i64
}

/// `sqlite3Atoi64`: leading white space, an optional sign, then as many digits as there are;
/// whatever follows is ignored, and a value out of range is clamped.
fn text_to_integer(text: &str) -> i64 {
    let rest = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (negative, digits) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let mut magnitude: i128 = 0;
    for d in digits.bytes().take_while(u8::is_ascii_digit) {
        magnitude = (magnitude * 10 + i128::from(d - b'0')).min(1 << 64);
    }
    let signed = if negative { -magnitude } else { magnitude };
    signed.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `sqlite3_column_double`: texts by their leading number (`sqlite3AtoF`), 0.0 without one.
fn as_real(value: &Value) -> f64 {
    match value {
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Str(s) => text_to_real(s),
        _ => 0.0,
    }
}

/// The longest prefix of `text` (after white space) that reads as a decimal number with an
/// optional fraction and exponent.
fn text_to_real(text: &str) -> f64 {
    let rest = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let bytes = rest.as_bytes();
    let digits_from = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut end = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let integer_end = digits_from(end);
    let mut has_digits = integer_end > end;
    end = integer_end;
    if bytes.get(end) == Some(&b'.') {
        let fraction_end = digits_from(end + 1);
        has_digits |= fraction_end > end + 1;
        end = fraction_end;
    }
    if !has_digits {
        return 0.0;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'-' | b'+')));
        let exponent_end = digits_from(end + 1 + sign);
        if exponent_end > end + 1 + sign {
            end = exponent_end;
        }
    }
    rest[..end].parse().unwrap_or(0.0)
}

/// SQLite's `%.3f`: the value's first 16 significant digits, rounded half away from zero at the
/// third decimal (SQLite's printf rounds the decimal digits it decoded, not the binary value,
/// so a value printed as `…5` exactly rounds up where exact rounding might not).
fn fixed_three_decimals(r: f64) -> String {
    if r.is_nan() {
        return "NaN".into();
    }
    if r.is_infinite() {
        return if r > 0.0 { "Inf" } else { "-Inf" }.into();
    }
    let sign = if r < 0.0 { "-" } else { "" };
    // `d.ddddddddddddddde±x`: sixteen significant digits and the decimal exponent.
    let scientific = format!("{:.15e}", r.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|d| d - b'0')
        .collect();
    // The digits are 0.d1d2… × 10^(exponent + 1); keep those down to the third decimal.
    let kept = exponent + 1 + 3;
    if kept < 0 {
        return format!("{sign}0.000");
    }
    let kept = kept as usize;
    let round_up = digits.get(kept).is_some_and(|d| *d >= 5);
    digits.resize(kept, 0);
    // Thousandths as a number: at most 17 digits before rounding, so it fits in a u128.
    let mut thousandths: u128 = digits.iter().fold(0, |n, d| n * 10 + u128::from(*d));
    if round_up {
        thousandths += 1;
    }
    format!("{sign}{}.{:03}", thousandths / 1000, thousandths % 1000)
}

/// `sqlite3_column_text`, then the runner's `(empty)` and `@` replacements.
fn as_text(value: &Value) -> String {
    let text = match value {
        Value::Bool(b) => u8::from(*b).to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => real_as_text(*f),
        Value::Str(s) => s.clone(),
        other => render(other),
    };
    if text.is_empty() {
        return "(empty)".into();
    }
    // The runner replaces bytes, not characters: a two-byte UTF-8 character prints `@@`.
    text.bytes()
        .map(|b| {
            if (b' '..=b'~').contains(&b) {
                b as char
            } else {
                '@'
            }
        })
        .collect()
}

/// SQLite's text of a real, `%!.15g`: fifteen significant digits, trailing zeros dropped but
/// one kept after the point (`1.0`), exponent form below 1e-4 and from 1e15 (`1.0e+15`).
fn real_as_text(r: f64) -> String {
    if r.is_nan() {
        return "NaN".into();
    }
    if r.is_infinite() {
        return if r > 0.0 { "Inf" } else { "-Inf" }.into();
    }
    let scientific = format!("{r:.14e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    if !(-4..15).contains(&exponent) {
        let mantissa = without_trailing_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let decimals = (14 - exponent) as usize;
    without_trailing_zeros(&format!("{r:.decimals$}"))
}

/// `1.2300` → `1.23`, `4.000` → `4.0`, `5` → `5.0`.
fn without_trailing_zeros(number: &str) -> String {
    if !number.contains('.') {
        return format!("{number}.0");
    }
    let trimmed = number.trim_end_matches('0');
    if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prints each value with `letter`, one per line.
    fn check(letter: char, values: &[Value], expected: &str) {
        let printed: Vec<String> = values
            .iter()
            .map(|v| format_value(v, letter).unwrap_or_else(|| "refused".into()))
            .collect();
        assert_eq!(printed.join("\n"), expected.trim());
    }

    fn text(s: &str) -> Value {
        Value::Str(s.into())
    }

    #[test]
    fn null_prints_null_for_every_letter() {
        check('I', &[Value::Nil], "NULL");
        check('R', &[Value::Nil], "NULL");
        check('T', &[Value::Nil], "NULL");
    }

    #[test]
    fn integer_letter_of_integers_and_booleans() {
        check(
            'I',
            &[Value::Int(-42), Value::Bool(true), Value::Bool(false)],
            "-42\n1\n0",
        );
    }

    #[test]
    fn integer_letter_truncates_reals_toward_zero() {
        check(
            'I',
            &[Value::Float(2.9), Value::Float(-2.9), Value::Float(0.4)],
            "2\n-2\n0",
        );
    }

    #[test]
    fn integer_letter_reads_a_texts_leading_integer() {
        check(
            'I',
            &[text("12abc"), text("  -7"), text("+3.9"), text("1e5")],
            "12\n-7\n3\n1",
        );
    }

    #[test]
    fn integer_letter_of_a_text_without_a_number_is_zero() {
        check('I', &[text("ygjce"), text(""), text("-x")], "0\n0\n0");
    }

    #[test]
    fn integer_letter_narrows_to_32_bits_as_c_int_does() {
        check(
            'I',
            &[Value::Int(4_294_967_297), Value::Int(2_147_483_648)],
            "1\n-2147483648",
        );
    }

    #[test]
    fn integer_letter_clamps_huge_texts_and_reals_before_narrowing() {
        check(
            'I',
            &[text("99999999999999999999"), Value::Float(1e300)],
            "-1\n-1",
        );
    }

    #[test]
    fn real_letter_prints_three_decimals() {
        check(
            'R',
            &[Value::Float(2.5), Value::Int(7), Value::Float(-0.25)],
            "2.500\n7.000\n-0.250",
        );
    }

    #[test]
    fn real_letter_rounds_half_away_from_zero() {
        check(
            'R',
            &[
                Value::Float(1.0625),
                Value::Float(-1.0625),
                Value::Float(0.0004),
            ],
            "1.063\n-1.063\n0.000",
        );
    }

    #[test]
    fn real_letter_rounds_the_decoded_digits() {
        // 2.0005 is stored as 2.000499999999999989…; SQLite decodes 2.000500000000000 first.
        check(
            'R',
            &[Value::Float(2.0005), Value::Float(999.9996)],
            "2.001\n1000.000",
        );
    }

    #[test]
    fn real_letter_of_texts_reads_their_leading_number() {
        check(
            'R',
            &[text("3.25xyz"), text("abc"), text("-1e2"), text(".5")],
            "3.250\n0.000\n-100.000\n0.500",
        );
    }

    #[test]
    fn real_letter_of_large_values() {
        check('R', &[Value::Float(1e20)], "100000000000000000000.000");
    }

    #[test]
    fn text_letter_of_texts() {
        check(
            'T',
            &[text("abc"), text(""), text("a b")],
            "abc\n(empty)\na b",
        );
    }

    #[test]
    fn text_letter_replaces_bytes_outside_printable_ascii() {
        check('T', &[text("tab\there"), text("é")], "tab@here\n@@");
    }

    #[test]
    fn text_letter_of_numbers() {
        check(
            'T',
            &[
                Value::Int(-3),
                Value::Float(2.5),
                Value::Float(4.0),
                Value::Bool(true),
            ],
            "-3\n2.5\n4.0\n1",
        );
    }

    #[test]
    fn text_letter_of_reals_uses_fifteen_digits_and_exponents_at_the_ends() {
        check(
            'T',
            &[
                Value::Float(0.1 + 0.2),
                Value::Float(1e15),
                Value::Float(0.00001),
                Value::Float(123456.789),
            ],
            "0.3\n1.0e+15\n1.0e-05\n123456.789",
        );
    }

    #[test]
    fn other_letters_are_refused() {
        check('?', &[Value::Int(1)], "refused");
    }
}
