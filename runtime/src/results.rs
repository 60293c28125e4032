//! Query results shaped by the find spec (ARCHITECTURE §6, the EDN conformance README's table), and
//! printed as EDN, JSON or a text table.
//!
//! The output relation holds the find columns followed by the `:with` columns. A relation find
//! is a set of tuples; with `:with` columns (and no aggregate) it is the bag of find tuples, one
//! per distinct find+with tuple; a collection find is a vector of values (deduplicated unless
//! `:with`); scalar and tuple finds take the single row or nil; `:keys`/`:strs`/`:syms` turn rows
//! into maps.

use crate::engine::Relation;
use pomo_types::Value;
use pomo_types::ra::{FindKind, OutputSpec, ReturnKind, SqlShape};
use std::fmt::Write;

/// Shapes the output relation as the query's result value.
pub fn shape(spec: &OutputSpec, rel: Relation) -> Value {
    if let Some(sql) = &spec.sql {
        return Value::Tuple(
            sql_rows(sql, rel.tuples.into_iter().collect())
                .into_iter()
                .map(Value::Tuple)
                .collect(),
        );
    }
    let n_find = rel.attrs.len() - spec.with.len().min(rel.attrs.len());
    // The common case moves the tuples: a relation of distinct tuples, without `:with` or a
    // return map, comes out of the set already sorted (tuples order element by element).
    if spec.find == FindKind::Relation && spec.with.is_empty() && spec.ret.is_none() {
        return Value::Set(rel.tuples.into_iter().map(Value::Tuple).collect());
    }
    let rows: Vec<Vec<Value>> = rel.tuples.iter().map(|t| t[..n_find].to_vec()).collect();
    let bag = !spec.with.is_empty();
    let as_map = |row: &[Value]| -> Value {
        let (kind, names) = spec.ret.as_ref().expect("only called with a return map");
        Value::Map(
            names
                .iter()
                .zip(row)
                .map(|(n, v)| {
                    let k = match kind {
                        ReturnKind::Keys => Value::Keyword(n.clone()),
                        ReturnKind::Strs => Value::Str(n.clone()),
                        ReturnKind::Syms => Value::Symbol(n.clone()),
                    };
                    (k, v.clone())
                })
                .collect(),
        )
    };
    let row_value = |row: &[Value]| -> Value {
        if spec.ret.is_some() {
            as_map(row)
        } else {
            Value::Tuple(row.to_vec())
        }
    };
    match spec.find {
        FindKind::Relation => {
            let vals: Vec<Value> = rows.iter().map(|r| row_value(r)).collect();
            if bag { Value::Tuple(vals) } else { set(vals) }
        }
        FindKind::Collection => {
            let mut vals: Vec<Value> = rows.iter().filter_map(|r| r.first().cloned()).collect();
            if !bag {
                vals.sort();
                vals.dedup();
            }
            Value::Tuple(vals)
        }
        FindKind::Scalar => rows
            .first()
            .and_then(|r| r.first().cloned())
            .unwrap_or(Value::Nil),
        FindKind::Tuple => rows.first().map(|r| row_value(r)).unwrap_or(Value::Nil),
    }
}

fn set(mut vals: Vec<Value>) -> Value {
    vals.sort();
    vals.dedup();
    Value::Set(vals)
}

pub use pomo_types::value::to_edn;

/// JSON text of a value: numbers, strings, booleans and null as themselves; keywords as
/// `":ns/name"` strings; tuples, sets and results as arrays; maps as objects with string keys.
pub fn to_json(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, v);
    out
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) if f.is_finite() => {
            let _ = write!(out, "{}", pomo_types::value::format_float(*f));
        }
        Value::Float(_) => out.push_str("null"),
        Value::Str(s) | Value::Cid(s) | Value::Symbol(s) | Value::Fn(s) => json_string(out, s),
        Value::Keyword(k) => json_string(out, &format!(":{k}")),
        Value::Ref(r) => {
            let _ = write!(out, "{r}");
        }
        Value::Instant(ms) => json_string(out, &pomo_types::value::format_instant(*ms)),
        Value::Uuid(u) => json_string(out, &pomo_types::value::format_uuid(*u)),
        Value::Bytes(b) => json_string(
            out,
            &b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
        ),
        Value::Tuple(xs) | Value::Set(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, x);
            }
            out.push(']');
        }
        Value::Map(es) => {
            out.push('{');
            for (i, (k, x)) in es.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let key = match k {
                    Value::Str(s) => s.clone(),
                    Value::Keyword(s) => s.clone(),
                    other => to_edn(other),
                };
                json_string(out, &key);
                out.push(':');
                write_json(out, x);
            }
            out.push('}');
        }
    }
}

/// A table cell: strings without their quotes, everything else as EDN.
fn cell(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => to_edn(other),
    }
}

/// A text table: one column per find element, one line per row.
pub fn to_table(columns: &[String], v: &Value) -> String {
    let rows: Vec<Vec<String>> = match v {
        Value::Set(xs) | Value::Tuple(xs) => xs
            .iter()
            .map(|x| match x {
                Value::Tuple(cells) => cells.iter().map(cell).collect(),
                Value::Map(es) => es.iter().map(|(_, c)| cell(c)).collect(),
                other => vec![cell(other)],
            })
            .collect(),
        Value::Map(es) => vec![es.iter().map(|(_, c)| cell(c)).collect()],
        Value::Nil => Vec::new(),
        other => vec![vec![cell(other)]],
    };
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| -> String {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
            .collect();
        parts.join(" | ").trim_end().to_string()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", line(columns));
    let _ = writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    );
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    let _ = writeln!(
        out,
        "({} row{})",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    out
}

/// The rows of a SQL result (see [`SqlShape`]): the output relation's tuples sorted by the
/// shape's keys (NULLs first ascending, SQLite's order), cut by offset and limit, projected on
/// the printed columns. Without sort keys the rows keep the relation's (sorted) order.
pub fn sql_rows(shape: &SqlShape, mut tuples: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    if !shape.order.is_empty() {
        tuples.sort_by(|a, b| {
            for &(c, desc) in &shape.order {
                let o = sql_cmp(&a[c], &b[c]);
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let start = (shape.offset as usize).min(tuples.len());
    let end = match shape.limit {
        Some(l) => start.saturating_add(l as usize).min(tuples.len()),
        None => tuples.len(),
    };
    let cols = shape.hidden..shape.hidden + shape.names.len();
    tuples[start..end]
        .iter()
        .map(|t| t[cols.clone()].to_vec())
        .collect()
}

/// SQLite's sort order: NULL, then numbers (integers, reals and booleans by numeric value),
/// then text, then anything else by the value order.
pub fn sql_cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(*b as i64 as f64),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) if *b != Value::Nil => std::cmp::Ordering::Less,
            (None, Some(_)) if *a != Value::Nil => std::cmp::Ordering::Greater,
            _ => a.cmp(b),
        },
    }
}
