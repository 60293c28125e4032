//! Values of the store and of query evaluation (ARCHITECTURE §3).
//!
//! Values have a total order (doubles compare by `f64::total_cmp`, NaN is rejected when a value
//! is built from text) so that relations can be kept in ordered sets and printed deterministically.
//! `Nil` exists only inside query evaluation (a constant `nil` in a query, SQL's NULL); the store
//! never holds it.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// A value. The order of the variants is the cross-type sort order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A keyword without its leading colon: `person/name` for `:person/name`.
    Keyword(String),
    /// An entity reference.
    Ref(u64),
    /// Milliseconds since the Unix epoch.
    Instant(i64),
    Uuid(u128),
    Bytes(Vec<u8>),
    /// A CID in its string form (`bafyrei…`).
    Cid(String),
    /// A symbol (only in query inputs and results, e.g. `:syms`).
    Symbol(String),
    /// A tuple value (tuple attributes, `tuple`, vector constants).
    Tuple(Vec<Value>),
    /// A set (only in query evaluation and results: `distinct`, pull); kept sorted and
    /// without duplicates.
    Set(Vec<Value>),
    /// A map (only in results: pull, `:keys`); entries in insertion order.
    Map(Vec<(Value, Value)>),
    /// A host function passed as a query input, by the name it is registered under.
    Fn(String),
}

impl Value {
    fn rank(&self) -> u8 {
        match self {
            Value::Nil => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) => 2,
            Value::Str(_) => 3,
            Value::Keyword(_) => 4,
            Value::Ref(_) => 5,
            Value::Instant(_) => 6,
            Value::Uuid(_) => 7,
            Value::Bytes(_) => 8,
            Value::Cid(_) => 9,
            Value::Symbol(_) => 10,
            Value::Tuple(_) => 11,
            Value::Set(_) => 12,
            Value::Map(_) => 13,
            Value::Fn(_) => 14,
        }
    }

    /// A short name of the value's type, for diagnostics.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "double",
            Value::Str(_) => "string",
            Value::Keyword(_) => "keyword",
            Value::Ref(_) => "ref",
            Value::Instant(_) => "instant",
            Value::Uuid(_) => "uuid",
            Value::Bytes(_) => "bytes",
            Value::Cid(_) => "cid",
            Value::Symbol(_) => "symbol",
            Value::Tuple(_) => "tuple",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Fn(_) => "function",
        }
    }

    /// Whether the value is an integer or a double.
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Float(_))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    /// Numbers compare by numeric value across integer and double (so `2` and `2.0` are equal,
    /// as in Datomic's and DataScript's comparisons); ties between an integer and an equal double
    /// are broken by kind so that the order stays total and consistent with `Eq` for sets.
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        match (self, other) {
            (Nil, Nil) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Int(a), Float(b)) => (*a as f64).total_cmp(b).then(Ordering::Less),
            (Float(a), Int(b)) => a.total_cmp(&(*b as f64)).then(Ordering::Greater),
            (Str(a), Str(b)) => a.cmp(b),
            (Keyword(a), Keyword(b)) => a.cmp(b),
            (Ref(a), Ref(b)) => a.cmp(b),
            (Instant(a), Instant(b)) => a.cmp(b),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (Cid(a), Cid(b)) => a.cmp(b),
            (Symbol(a), Symbol(b)) => a.cmp(b),
            (Tuple(a), Tuple(b)) => a.cmp(b),
            (Set(a), Set(b)) => a.cmp(b),
            (Map(a), Map(b)) => a.cmp(b),
            (Fn(a), Fn(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Value::Nil => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Float(f) => f.to_bits().hash(state),
            Value::Str(s) | Value::Keyword(s) | Value::Cid(s) | Value::Symbol(s) | Value::Fn(s) => {
                s.hash(state)
            }
            Value::Ref(r) => r.hash(state),
            Value::Instant(i) => i.hash(state),
            Value::Uuid(u) => u.hash(state),
            Value::Bytes(b) => b.hash(state),
            Value::Tuple(t) | Value::Set(t) => t.hash(state),
            Value::Map(m) => m.hash(state),
        }
    }
}

/// Writes a string literal with EDN/Rust-style escapes.
pub fn write_string_literal(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Formats a double so that it always reads back as a double (`1.0`, not `1`).
///
/// ```
/// assert_eq!(pomo_types::value::format_float(2.0), "2.0");
/// assert_eq!(pomo_types::Value::Keyword("person/name".into()).to_string(), ":person/name");
/// ```
pub fn format_float(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 {
            "##Inf".into()
        } else {
            "##-Inf".into()
        };
    }
    let s = format!("{x:?}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

/// Formats milliseconds since the epoch as an RFC 3339 UTC timestamp, as `#inst` prints it.
pub fn format_instant(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Parses an RFC 3339 timestamp (`2020-01-02`, `2020-01-02T03:04:05Z`, with optional fraction
/// and `±hh:mm` offset) into milliseconds since the epoch.
pub fn parse_instant(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) && !t.is_empty() {
            t.parse().ok()
        } else {
            None
        }
    };
    let y = num(0..4)?;
    let (mut mo, mut d) = (1, 1);
    let mut i = 4;
    if b.get(i) == Some(&b'-') {
        mo = num(5..7)?;
        i = 7;
        if b.get(i) == Some(&b'-') {
            d = num(8..10)?;
            i = 10;
        }
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut ms) = (0, 0, 0, 0i64);
    let mut offset_min = 0i64;
    if matches!(b.get(i), Some(b'T') | Some(b't')) {
        h = num(i + 1..i + 3)?;
        if b.get(i + 3) != Some(&b':') {
            return None;
        }
        mi = num(i + 4..i + 6)?;
        i += 6;
        if b.get(i) == Some(&b':') {
            sec = num(i + 1..i + 3)?;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                let frac = &s[start..end.min(start + 3)];
                ms = frac.parse::<i64>().ok()? * 10i64.pow(3 - frac.len() as u32);
                i = end;
            }
        }
        match b.get(i) {
            Some(b'Z') | Some(b'z') => i += 1,
            Some(c @ (b'+' | b'-')) => {
                let sign = if *c == b'+' { 1 } else { -1 };
                let oh = num(i + 1..i + 3)?;
                if b.get(i + 3) != Some(&b':') {
                    return None;
                }
                let om = num(i + 4..i + 6)?;
                offset_min = sign * (oh * 60 + om);
                i += 6;
            }
            None => {}
            _ => return None,
        }
    } else if i != b.len() {
        return None;
    }
    if i != b.len() || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + ms)
}

// Howard Hinnant's civil-calendar algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats a UUID in its canonical 8-4-4-4-12 form.
pub fn format_uuid(u: u128) -> String {
    let h = format!("{u:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Parses a canonical UUID string.
pub fn parse_uuid(s: &str) -> Option<u128> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 5
        || [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .any(|(n, p)| p.len() != *n)
    {
        return None;
    }
    u128::from_str_radix(&parts.concat(), 16).ok()
}

fn write_seq(f: &mut fmt::Formatter<'_>, open: &str, items: &[Value], close: &str) -> fmt::Result {
    f.write_str(open)?;
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_str(close)
}

impl fmt::Display for Value {
    /// The EDN form of the value; PomoLogic and PomoRA text use the same literal syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float(*x)),
            Value::Str(s) => write_string_literal(f, s),
            Value::Keyword(k) => write!(f, ":{k}"),
            Value::Ref(r) => write!(f, "#ref \"{r}\""),
            Value::Instant(ms) => write!(f, "#inst \"{}\"", format_instant(*ms)),
            Value::Uuid(u) => write!(f, "#uuid \"{}\"", format_uuid(*u)),
            Value::Bytes(b) => {
                f.write_str("#bytes \"")?;
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                f.write_str("\"")
            }
            Value::Cid(c) => write!(f, "#cid \"{c}\""),
            Value::Symbol(s) => write!(f, "'{s}"),
            Value::Tuple(items) => write_seq(f, "[", items, "]"),
            Value::Set(items) => write_seq(f, "#{", items, "}"),
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
            Value::Fn(name) => write!(f, "#fn \"{name}\""),
        }
    }
}

/// EDN text of a value (no commas, as Clojure prints).
pub fn to_edn(v: &Value) -> String {
    let mut out = String::new();
    write_edn(&mut out, v);
    out
}

fn write_edn(out: &mut String, v: &Value) {
    use std::fmt::Write as _;
    let seq = |out: &mut String, open: &str, xs: &[Value], close: &str| {
        out.push_str(open);
        for (i, x) in xs.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            write_edn(out, x);
        }
        out.push_str(close);
    };
    match v {
        Value::Tuple(xs) => seq(out, "[", xs, "]"),
        Value::Set(xs) => seq(out, "#{", xs, "}"),
        Value::Map(es) => {
            out.push('{');
            for (i, (k, x)) in es.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_edn(out, k);
                out.push(' ');
                write_edn(out, x);
            }
            out.push('}');
        }
        Value::Symbol(s) => out.push_str(s),
        Value::Ref(r) => {
            let _ = write!(out, "{r}");
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_across_kinds() {
        assert!(Value::Int(2) < Value::Float(2.5));
        assert!(Value::Float(1.5) < Value::Int(2));
        assert_ne!(Value::Int(2), Value::Float(2.0));
        assert!(Value::Int(2) < Value::Float(2.0));
    }

    #[test]
    fn instants_round_trip() {
        for s in [
            "1970-01-01T00:00:00.000Z",
            "2024-02-29T13:45:10.123Z",
            "1969-12-31T23:59:59.999Z",
        ] {
            let ms = parse_instant(s).unwrap();
            assert_eq!(format_instant(ms), s);
        }
        assert_eq!(
            parse_instant("2020-01-01"),
            parse_instant("2020-01-01T00:00:00Z")
        );
        assert_eq!(
            parse_instant("2020-01-01T01:00:00+01:00"),
            parse_instant("2020-01-01T00:00:00Z")
        );
        assert_eq!(parse_instant("2020-13-01"), None);
    }

    #[test]
    fn uuids_round_trip() {
        let s = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
        assert_eq!(format_uuid(parse_uuid(s).unwrap()), s);
        assert_eq!(parse_uuid("nope"), None);
    }

    #[test]
    fn floats_print_as_floats() {
        assert_eq!(Value::Float(1.0).to_string(), "1.0");
        assert_eq!(Value::Float(0.5).to_string(), "0.5");
    }
}
