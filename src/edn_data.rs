//! EDN data to runtime values: query inputs, tx-data and schema maps, read with the grammar's
//! EDN reader. This sits in the facade because the runtime must not depend on the parsers
//! (an app that only runs artifacts builds without them).

use pomo_grammar::edn::{Form, Node};
use pomo_runtime::store::{AttrSchema, EntityMap, EntityRef, Schema, TxOp, TxValue, Unique};
use pomo_types::Value;

/// A conversion error, with the span of the offending form.
#[derive(Clone, Debug, PartialEq)]
pub struct DataError {
    pub message: String,
    pub span: std::ops::Range<usize>,
}

fn bad(n: &Node, message: impl Into<String>) -> DataError {
    DataError {
        message: message.into(),
        span: n.span.clone(),
    }
}

/// Converts an EDN form to a value: vectors and lists are tuples, sets are sets, maps are maps.
pub fn value(n: &Node) -> Result<Value, DataError> {
    Ok(match &n.form {
        Form::Nil => Value::Nil,
        Form::Bool(b) => Value::Bool(*b),
        Form::Int(i) => Value::Int(*i),
        Form::Float(f) if f.is_nan() => return Err(bad(n, "NaN is not a value")),
        Form::Float(f) => Value::Float(*f),
        Form::Str(s) => Value::Str(s.clone()),
        Form::Char(c) => Value::Str(c.to_string()),
        Form::Keyword(k) => Value::Keyword(k.clone()),
        Form::Symbol(s) => Value::Symbol(s.clone()),
        Form::Vector(xs) | Form::List(xs) => {
            Value::Tuple(xs.iter().map(value).collect::<Result<_, _>>()?)
        }
        Form::Set(xs) => {
            let mut v: Vec<Value> = xs.iter().map(value).collect::<Result<_, _>>()?;
            v.sort();
            v.dedup();
            Value::Set(v)
        }
        Form::Map(es) => Value::Map(
            es.iter()
                .map(|(k, v)| Ok((value(k)?, value(v)?)))
                .collect::<Result<_, _>>()?,
        ),
        Form::Tagged(tag, inner) => match (tag.as_str(), &inner.form) {
            ("inst", Form::Str(s)) => Value::Instant(
                pomo_types::value::parse_instant(s)
                    .ok_or_else(|| bad(n, format!("invalid #inst {s:?}")))?,
            ),
            ("uuid", Form::Str(s)) => Value::Uuid(
                pomo_types::value::parse_uuid(s)
                    .ok_or_else(|| bad(n, format!("invalid #uuid {s:?}")))?,
            ),
            _ => return Err(bad(n, format!("unsupported tagged literal #{tag}"))),
        },
    })
}

fn keyword(n: &Node) -> Option<&str> {
    match &n.form {
        Form::Keyword(k) => Some(k),
        _ => None,
    }
}

/// Reads a DataScript-style schema map `{:attr {:db/cardinality :db.cardinality/many …}}`.
pub fn schema(n: &Node) -> Result<Schema, DataError> {
    let Form::Map(entries) = &n.form else {
        return Err(bad(n, "a schema is a map of attributes to maps"));
    };
    let mut out = Schema::default();
    for (k, v) in entries {
        let attr = keyword(k).ok_or_else(|| bad(k, "schema keys are attribute keywords"))?;
        let Form::Map(props) = &v.form else {
            return Err(bad(v, "an attribute's schema is a map"));
        };
        let mut s = AttrSchema::default();
        for (pk, pv) in props {
            match (keyword(pk), &pv.form) {
                (Some("db/cardinality"), Form::Keyword(c)) => match c.as_str() {
                    "db.cardinality/many" => s.many = true,
                    "db.cardinality/one" => s.many = false,
                    other => return Err(bad(pv, format!("unknown cardinality :{other}"))),
                },
                (Some("db/unique"), Form::Keyword(u)) => match u.as_str() {
                    "db.unique/identity" => s.unique = Some(Unique::Identity),
                    "db.unique/value" => s.unique = Some(Unique::Value),
                    other => return Err(bad(pv, format!("unknown uniqueness :{other}"))),
                },
                (Some("db/valueType"), Form::Keyword(t)) => match t.as_str() {
                    "db.type/ref" => s.is_ref = true,
                    "db.type/tuple" => {}
                    other => {
                        return Err(bad(
                            pv,
                            format!(
                                "bad attribute specification for :{attr}: {{:db/valueType :{other}}}; only :db.type/ref and :db.type/tuple are supported"
                            ),
                        ));
                    }
                },
                (Some("db/isComponent"), Form::Bool(b)) => s.component = *b,
                (Some("db/tupleAttrs"), Form::Vector(xs)) => {
                    s.tuple_attrs = Some(
                        xs.iter()
                            .map(|x| {
                                keyword(x)
                                    .map(String::from)
                                    .ok_or_else(|| bad(x, "tuple attributes are keywords"))
                            })
                            .collect::<Result<_, _>>()?,
                    );
                }
                (Some("db/doc"), _) | (Some("db/index"), _) | (Some("db/noHistory"), _) => {}
                _ => return Err(bad(pk, "unknown schema property")),
            }
        }
        out.attrs.insert(attr.to_string(), s);
    }
    Ok(out)
}

fn entity(n: &Node) -> Result<EntityRef, DataError> {
    match &n.form {
        Form::Int(i) if *i >= 0 => Ok(EntityRef::Id(*i)),
        Form::Int(i) => Ok(EntityRef::TempId(i.to_string())),
        Form::Str(s) => Ok(EntityRef::TempId(s.clone())),
        Form::Vector(xs) if xs.len() == 2 => match keyword(&xs[0]) {
            Some(a) => Ok(EntityRef::LookupRef(a.to_string(), value(&xs[1])?)),
            None => Err(bad(n, "a lookup ref is [:attribute value]")),
        },
        _ => Err(bad(n, "an entity is an id, a tempid or a lookup ref")),
    }
}

/// A value in tx-data for attribute `attr`: refs may be tempids, lookup refs or nested maps.
fn tx_value(schema: &Schema, attr: &str, n: &Node, in_map: bool) -> Result<TxValue, DataError> {
    let s = schema
        .attrs
        .get(attr.strip_prefix('_').unwrap_or(attr))
        .cloned()
        .unwrap_or_default();
    let reverse = attr
        .split('/')
        .next_back()
        .is_some_and(|x| x.starts_with('_'));
    let is_ref = s.is_ref || reverse;
    match &n.form {
        Form::Vector(xs) | Form::List(xs) | Form::Set(xs)
            if in_map && (s.many || reverse) && !is_lookup_ref(n, is_ref) =>
        {
            Ok(TxValue::Many(
                xs.iter()
                    .map(|x| tx_value(schema, attr, x, false))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Form::Map(_) if is_ref => Ok(TxValue::Map(entity_map(schema, n)?)),
        Form::Str(_) | Form::Vector(_) if is_ref => Ok(TxValue::Entity(entity(n)?)),
        Form::Int(i) if is_ref && *i < 0 => Ok(TxValue::Entity(EntityRef::TempId(i.to_string()))),
        _ => Ok(TxValue::Value(value(n)?)),
    }
}

fn is_lookup_ref(n: &Node, is_ref: bool) -> bool {
    matches!(&n.form, Form::Vector(xs) if is_ref && xs.len() == 2 && keyword(&xs[0]).is_some())
}

fn entity_map(schema: &Schema, n: &Node) -> Result<EntityMap, DataError> {
    let Form::Map(entries) = &n.form else {
        return Err(bad(n, "expected an entity map"));
    };
    let mut m = EntityMap {
        id: None,
        attrs: Vec::new(),
    };
    for (k, v) in entries {
        let a = keyword(k).ok_or_else(|| bad(k, "entity map keys are attribute keywords"))?;
        if a == "db/id" {
            m.id = Some(entity(v)?);
        } else {
            m.attrs.push((a.to_string(), tx_value(schema, a, v, true)?));
        }
    }
    Ok(m)
}

/// Reads one transaction's tx-data (a vector of list forms and entity maps).
pub fn tx_data(schema: &Schema, n: &Node) -> Result<Vec<TxOp>, DataError> {
    let (Form::Vector(items) | Form::List(items)) = &n.form else {
        return Err(bad(n, "tx-data is a vector of statements"));
    };
    let mut ops = Vec::new();
    for it in items {
        match &it.form {
            Form::Map(_) => ops.push(TxOp::Map(entity_map(schema, it)?)),
            Form::Vector(xs) | Form::List(xs) if !xs.is_empty() => {
                let op = keyword(&xs[0])
                    .ok_or_else(|| bad(&xs[0], "a statement starts with an operation keyword"))?;
                let arity = |n: usize| -> Result<(), DataError> {
                    if xs.len() == n {
                        Ok(())
                    } else {
                        Err(bad(it, format!(":{op} takes {} arguments", n - 1)))
                    }
                };
                let attr = |x: &Node| {
                    keyword(x)
                        .map(String::from)
                        .ok_or_else(|| bad(x, "expected an attribute keyword"))
                };
                match op {
                    "db/add" => {
                        arity(4)?;
                        let a = attr(&xs[2])?;
                        ops.push(TxOp::Add {
                            e: entity(&xs[1])?,
                            v: tx_value(schema, &a, &xs[3], false)?,
                            a,
                        });
                    }
                    "db/retract" => {
                        if xs.len() != 3 && xs.len() != 4 {
                            return Err(bad(
                                it,
                                ":db/retract takes an entity, an attribute and optionally a value",
                            ));
                        }
                        let a = attr(&xs[2])?;
                        let v = match xs.get(3) {
                            Some(v) => Some(tx_value(schema, &a, v, false)?),
                            None => None,
                        };
                        ops.push(TxOp::Retract {
                            e: entity(&xs[1])?,
                            a,
                            v,
                        });
                    }
                    "db/retractEntity" | "db.fn/retractEntity" => {
                        arity(2)?;
                        ops.push(TxOp::RetractEntity(entity(&xs[1])?));
                    }
                    "db.fn/retractAttribute" | "db/retractAttribute" => {
                        arity(3)?;
                        ops.push(TxOp::RetractAttribute {
                            e: entity(&xs[1])?,
                            a: attr(&xs[2])?,
                        });
                    }
                    "db/cas" | "db.fn/cas" => {
                        arity(5)?;
                        let a = attr(&xs[2])?;
                        let old = match value(&xs[3])? {
                            Value::Nil => None,
                            v => Some(v),
                        };
                        ops.push(TxOp::Cas {
                            e: entity(&xs[1])?,
                            old,
                            new: tx_value(schema, &a, &xs[4], false)?,
                            a,
                        });
                    }
                    other => return Err(bad(&xs[0], format!("unknown operation :{other}"))),
                }
            }
            _ => {
                return Err(bad(
                    it,
                    "a statement is a vector like [:db/add e a v] or an entity map",
                ));
            }
        }
    }
    Ok(ops)
}
