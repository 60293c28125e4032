//! Pull expressions (`(pull ?e pattern)` in `:find`): DataScript's pattern grammar, read from a
//! pattern given as data, evaluated against a database value.
//!
//! Semantics pinned by the EDN corpus: absent attributes are omitted unless they have
//! `:default`; `*` includes `:db/id`, renders refs as `{:db/id n}` and pulls component entities
//! whole; `:as` renames (to any value, strings included); card-many values come in value order,
//! at most `:limit` of them (1000 by default, `nil` for all); `ns/_attr` follows a ref
//! backwards; a map `{attr sub-pattern}` pulls the referenced entities, and `{attr n}` /
//! `{attr ...}` recurses with the enclosing pattern, stopping at a cycle with `{:db/id n}`.

use crate::store::Db;
use pomo_stdlib::EvalError;
use pomo_types::Value;
use std::collections::BTreeSet;

fn err(m: impl Into<String>) -> EvalError {
    EvalError { message: m.into() }
}

const DEFAULT_LIMIT: usize = 1000;

/// One attribute of a pattern with its options.
#[derive(Clone, Debug)]
struct AttrSpec {
    /// The attribute without its leading colon, `ns/_name` for a reverse ref.
    attr: String,
    key: Value,
    default: Option<Value>,
    limit: Option<usize>,
    sub: Sub,
}

#[derive(Clone, Debug)]
enum Sub {
    None,
    Pattern(Vec<Item>),
    /// Recurse with the enclosing pattern, at most this many levels (`None`: no bound).
    Recurse(Option<usize>),
}

#[derive(Clone, Debug)]
enum Item {
    Wildcard,
    Attr(AttrSpec),
}

fn keyword(v: &Value) -> Option<&str> {
    match v {
        Value::Keyword(k) => Some(k),
        _ => None,
    }
}

fn attr_spec(v: &Value) -> Result<AttrSpec, EvalError> {
    let plain = |a: &str| AttrSpec {
        attr: a.to_string(),
        key: Value::Keyword(a.to_string()),
        default: None,
        limit: Some(DEFAULT_LIMIT),
        sub: Sub::None,
    };
    match v {
        Value::Keyword(k) => Ok(plain(k)),
        Value::Tuple(xs) if !xs.is_empty() => match &xs[0] {
            // Legacy forms (limit :attr n) and (default :attr v).
            Value::Symbol(s) if (s == "limit" || s == "default") && xs.len() == 3 => {
                let a =
                    keyword(&xs[1]).ok_or_else(|| err(format!("({s} …) takes an attribute")))?;
                let mut spec = plain(a);
                if s == "limit" {
                    spec.limit = limit(&xs[2])?;
                } else {
                    spec.default = Some(xs[2].clone());
                }
                Ok(spec)
            }
            Value::Keyword(a) => {
                let mut spec = plain(a);
                let opts = &xs[1..];
                if opts.len() % 2 != 0 {
                    return Err(err(format!("options of {v} come in pairs")));
                }
                for pair in opts.chunks(2) {
                    match keyword(&pair[0]) {
                        Some("as") => spec.key = pair[1].clone(),
                        Some("default") => spec.default = Some(pair[1].clone()),
                        Some("limit") => spec.limit = limit(&pair[1])?,
                        _ => return Err(err(format!("unknown pull option {}", pair[0]))),
                    }
                }
                Ok(spec)
            }
            _ => Err(err(format!("bad attribute spec {v}"))),
        },
        _ => Err(err(format!("bad attribute spec {v}"))),
    }
}

fn limit(v: &Value) -> Result<Option<usize>, EvalError> {
    match v {
        Value::Nil => Ok(None),
        Value::Int(n) if *n >= 0 => Ok(Some(*n as usize)),
        _ => Err(err(format!("a :limit is a number or nil, not {v}"))),
    }
}

fn pattern(v: &Value) -> Result<Vec<Item>, EvalError> {
    let Value::Tuple(xs) = v else {
        return Err(err(format!("a pull pattern is a vector, not {v}")));
    };
    let mut out = Vec::new();
    for x in xs {
        match x {
            Value::Symbol(s) | Value::Str(s) if s == "*" => out.push(Item::Wildcard),
            Value::Map(es) => {
                for (k, sub) in es {
                    let mut spec = attr_spec(k)?;
                    spec.sub = match sub {
                        Value::Tuple(_) => Sub::Pattern(pattern(sub)?),
                        Value::Int(n) if *n >= 0 => Sub::Recurse(Some(*n as usize)),
                        Value::Symbol(s) if s == "..." => Sub::Recurse(None),
                        other => return Err(err(format!("bad sub-pattern {other}"))),
                    };
                    out.push(Item::Attr(spec));
                }
            }
            other => out.push(Item::Attr(attr_spec(other)?)),
        }
    }
    Ok(out)
}

/// Pulls the entity `e` with a pattern given as data.
pub fn pull(db: &Db, pat: &Value, e: i64) -> Result<Value, EvalError> {
    let items = pattern(pat)?;
    let mut seen = BTreeSet::new();
    Puller { db }.entity(e, &items, &items, 0, &mut seen)
}

struct Puller<'a> {
    db: &'a Db,
}

impl Puller<'_> {
    /// `root` is the pattern recursion (`{attr n}`) repeats; `depth` counts its levels.
    fn entity(
        &self,
        e: i64,
        items: &[Item],
        root: &[Item],
        depth: usize,
        seen: &mut BTreeSet<i64>,
    ) -> Result<Value, EvalError> {
        seen.insert(e);
        let mut out: Vec<(Value, Value)> = Vec::new();
        let attrs = self.db.entity_attrs(e);
        let put = |out: &mut Vec<(Value, Value)>, k: Value, v: Value| {
            if let Some(slot) = out.iter_mut().find(|(x, _)| *x == k) {
                slot.1 = v;
            } else {
                out.push((k, v));
            }
        };
        for item in items {
            match item {
                Item::Wildcard => {
                    put(&mut out, Value::Keyword("db/id".into()), Value::Int(e));
                    let mut names: Vec<&String> = attrs.iter().map(|(a, _)| a).collect();
                    names.dedup();
                    for a in names {
                        let s = self
                            .db
                            .schema()
                            .attrs
                            .get(a.as_str())
                            .cloned()
                            .unwrap_or_default();
                        let vals: Vec<Value> = attrs
                            .iter()
                            .filter(|(x, _)| x == a)
                            .map(|(_, v)| v.clone())
                            .collect();
                        let render = |v: &Value, seen: &mut BTreeSet<i64>| match (s.is_ref, v) {
                            (true, Value::Int(t)) if s.component && !seen.contains(t) => {
                                self.entity(*t, &[Item::Wildcard], root, depth, &mut seen.clone())
                            }
                            (true, Value::Int(t)) => Ok(id_map(*t)),
                            _ => Ok(v.clone()),
                        };
                        let v = if s.many {
                            let mut xs: Vec<Value> = vals
                                .iter()
                                .map(|v| render(v, seen))
                                .collect::<Result<_, _>>()?;
                            xs.sort();
                            Value::Tuple(xs)
                        } else {
                            match vals.first() {
                                Some(v) => render(v, seen)?,
                                None => continue,
                            }
                        };
                        put(&mut out, Value::Keyword(a.clone()), v);
                    }
                }
                Item::Attr(spec) if spec.attr == "db/id" => {
                    put(&mut out, spec.key.clone(), Value::Int(e))
                }
                Item::Attr(spec) => {
                    let (name, reverse) = match spec.attr.rsplit_once('/') {
                        Some((ns, n)) if n.starts_with('_') => (format!("{ns}/{}", &n[1..]), true),
                        _ => (spec.attr.clone(), false),
                    };
                    let s = self
                        .db
                        .schema()
                        .attrs
                        .get(name.as_str())
                        .cloned()
                        .unwrap_or_default();
                    if !reverse && !s.is_ref && !matches!(spec.sub, Sub::None) {
                        return Err(err(format!(
                            "Expected attribute having :db.type/ref, got: :{name}"
                        )));
                    }
                    let mut vals: Vec<Value> = if reverse {
                        self.db
                            .reverse_refs(&name, e)
                            .into_iter()
                            .map(Value::Int)
                            .collect()
                    } else {
                        attrs
                            .iter()
                            .filter(|(x, _)| *x == name)
                            .map(|(_, v)| v.clone())
                            .collect()
                    };
                    vals.sort();
                    let many = if reverse { !s.component } else { s.many };
                    if let Some(n) = spec.limit {
                        vals.truncate(n);
                    }
                    if vals.is_empty() {
                        if let Some(d) = &spec.default {
                            put(&mut out, spec.key.clone(), d.clone());
                        }
                        continue;
                    }
                    let is_ref = reverse || s.is_ref;
                    let render =
                        |v: &Value, seen: &mut BTreeSet<i64>| -> Result<Value, EvalError> {
                            let Value::Int(t) = v else {
                                return Ok(v.clone());
                            };
                            if !is_ref {
                                return Ok(v.clone());
                            }
                            match &spec.sub {
                                Sub::None => Ok(id_map(*t)),
                                Sub::Pattern(p) => self.entity(*t, p, p, 0, &mut seen.clone()),
                                // A cycle ends with the entity's id; past the depth bound the
                                // reference is left out.
                                Sub::Recurse(_) if seen.contains(t) => Ok(id_map(*t)),
                                Sub::Recurse(Some(max)) if depth + 1 > *max => Ok(Value::Nil),
                                Sub::Recurse(_) => {
                                    self.entity(*t, root, root, depth + 1, &mut seen.clone())
                                }
                            }
                        };
                    let mut rendered: Vec<Value> = Vec::new();
                    for v in &vals {
                        let r = render(v, seen)?;
                        if r != Value::Nil {
                            rendered.push(r);
                        }
                    }
                    if rendered.is_empty() {
                        continue;
                    }
                    let v = if many {
                        Value::Tuple(rendered)
                    } else {
                        rendered[0].clone()
                    };
                    put(&mut out, spec.key.clone(), v);
                }
            }
        }
        Ok(Value::Map(out))
    }
}

fn id_map(e: i64) -> Value {
    Value::Map(vec![(Value::Keyword("db/id".into()), Value::Int(e))])
}
