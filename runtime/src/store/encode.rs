//! The canonical DAG-CBOR encoding of values and facts, and the CIDs computed from it.
//!
//! A fact's CID is CIDv1 (codec dag-cbor 0x71, multihash sha2-256) of the DAG-CBOR map
//! `{a, e, v, added, causes}`; serde_ipld_dagcbor writes map keys in DAG-CBOR's canonical order
//! (length first, then bytewise), so equal facts have equal bytes and equal CIDs wherever they
//! are written. The encoding must therefore never change for an existing value: a change would
//! give every stored fact a new CID.
//!
//! Values use CBOR's own types where DAG-CBOR has one (boolean, integer, finite double, text,
//! bytes, null) and a CID link (tag 42) for `Value::Cid`. DAG-CBOR allows no other tag, so every
//! other kind is a two-element array `[kind, payload]`; no native value is an array, so the
//! encoding is unambiguous. The kinds are: `"kw"` keyword (text, no leading colon), `"ref"`
//! (unsigned integer), `"inst"` (milliseconds since the epoch), `"uuid"` (16 bytes, big-endian),
//! `"sym"` symbol (text), `"tuple"` (array of values), `"set"` (array of values, sorted and
//! deduplicated before encoding), `"map"` (array of `[key, value]` pairs, in order), `"fn"`
//! (text) and `"double"` (the text `"Infinity"` or `"-Infinity"`, because DAG-CBOR forbids
//! non-finite floats, or `"-0"`, because the encoder does not keep the sign of zero). NaN has
//! no encoding and is rejected.

use super::gid::Gid;
use cid::Cid;
use ipld_core::ipld::Ipld;
use multihash_codetable::{Code, MultihashDigest};
use pomo_types::Value;
use std::collections::BTreeMap;

/// The multicodec of DAG-CBOR.
pub const DAG_CBOR: u64 = 0x71;
/// The multihash code of sha2-256.
pub const SHA2_256: u64 = 0x12;

/// The CID (v1, dag-cbor, sha2-256) of an encoded block.
pub fn cid_of(bytes: &[u8]) -> Cid {
    Cid::new_v1(DAG_CBOR, Code::Sha2_256.digest(bytes))
}

/// Whether `cid` is the CID of `bytes` (the check made on every block read from disk).
pub fn verify_cid(cid: &Cid, bytes: &[u8]) -> bool {
    cid.version() == cid::Version::V1
        && cid.codec() == DAG_CBOR
        && cid.hash().code() == SHA2_256
        && *cid == cid_of(bytes)
}

fn kinded(kind: &str, payload: Ipld) -> Ipld {
    Ipld::List(vec![Ipld::String(kind.to_string()), payload])
}

/// The IPLD form of a value; fails on NaN and on a `Value::Cid` that is not a valid CID.
pub fn value_to_ipld(v: &Value) -> Result<Ipld, String> {
    Ok(match v {
        Value::Nil => Ipld::Null,
        Value::Bool(b) => Ipld::Bool(*b),
        Value::Int(i) => Ipld::Integer(i128::from(*i)),
        Value::Float(x) if x.is_nan() => return Err("NaN cannot be stored".into()),
        Value::Float(x) if x.is_infinite() => kinded(
            "double",
            Ipld::String(if *x > 0.0 { "Infinity" } else { "-Infinity" }.into()),
        ),
        // serde_ipld_dagcbor writes -0.0 so that it reads back as 0.0; the two are distinct
        // values (total order), so -0.0 gets its own kinded form.
        Value::Float(x) if *x == 0.0 && x.is_sign_negative() => {
            kinded("double", Ipld::String("-0".into()))
        }
        Value::Float(x) => Ipld::Float(*x),
        Value::Str(s) => Ipld::String(s.clone()),
        Value::Bytes(b) => Ipld::Bytes(b.clone()),
        Value::Cid(s) => Ipld::Link(
            Cid::try_from(s.as_str()).map_err(|e| format!("invalid CID value {s:?}: {e}"))?,
        ),
        Value::Keyword(k) => kinded("kw", Ipld::String(k.clone())),
        Value::Ref(r) => kinded("ref", Ipld::Integer(i128::from(*r))),
        Value::Instant(ms) => kinded("inst", Ipld::Integer(i128::from(*ms))),
        Value::Uuid(u) => kinded("uuid", Ipld::Bytes(u.to_be_bytes().to_vec())),
        Value::Symbol(s) => kinded("sym", Ipld::String(s.clone())),
        Value::Fn(s) => kinded("fn", Ipld::String(s.clone())),
        Value::Tuple(items) => kinded("tuple", list(items)?),
        Value::Set(items) => {
            // A set is encoded in its canonical (sorted, deduplicated) form so that two equal
            // sets built in different orders hash alike.
            let mut sorted = items.clone();
            sorted.sort();
            sorted.dedup();
            kinded("set", list(&sorted)?)
        }
        Value::Map(entries) => kinded(
            "map",
            Ipld::List(
                entries
                    .iter()
                    .map(|(k, v)| Ok(Ipld::List(vec![value_to_ipld(k)?, value_to_ipld(v)?])))
                    .collect::<Result<_, String>>()?,
            ),
        ),
    })
}

fn list(items: &[Value]) -> Result<Ipld, String> {
    Ok(Ipld::List(
        items.iter().map(value_to_ipld).collect::<Result<_, _>>()?,
    ))
}

fn int(i: &Ipld) -> Result<i64, String> {
    match i {
        Ipld::Integer(n) => i64::try_from(*n).map_err(|_| format!("integer {n} out of range")),
        other => Err(format!("expected an integer, found {other:?}")),
    }
}

fn text(i: &Ipld) -> Result<String, String> {
    match i {
        Ipld::String(s) => Ok(s.clone()),
        other => Err(format!("expected a string, found {other:?}")),
    }
}

fn values(i: &Ipld) -> Result<Vec<Value>, String> {
    match i {
        Ipld::List(items) => items.iter().map(value_from_ipld).collect(),
        other => Err(format!("expected an array, found {other:?}")),
    }
}

/// The value of an IPLD form written by [`value_to_ipld`].
pub fn value_from_ipld(i: &Ipld) -> Result<Value, String> {
    Ok(match i {
        Ipld::Null => Value::Nil,
        Ipld::Bool(b) => Value::Bool(*b),
        Ipld::Integer(_) => Value::Int(int(i)?),
        Ipld::Float(x) => Value::Float(*x),
        Ipld::String(s) => Value::Str(s.clone()),
        Ipld::Bytes(b) => Value::Bytes(b.clone()),
        Ipld::Link(c) => Value::Cid(c.to_string()),
        Ipld::Map(_) => return Err("a map is not a value encoding".into()),
        Ipld::List(parts) => {
            let [kind, payload] = parts.as_slice() else {
                return Err(format!(
                    "a kinded value has 2 elements, found {}",
                    parts.len()
                ));
            };
            match text(kind)?.as_str() {
                "kw" => Value::Keyword(text(payload)?),
                "ref" => match payload {
                    Ipld::Integer(n) => Value::Ref(u64::try_from(*n).map_err(|e| e.to_string())?),
                    other => return Err(format!("expected a ref id, found {other:?}")),
                },
                "inst" => Value::Instant(int(payload)?),
                "uuid" => match payload {
                    Ipld::Bytes(b) if b.len() == 16 => {
                        Value::Uuid(u128::from_be_bytes(b.as_slice().try_into().unwrap()))
                    }
                    other => return Err(format!("expected 16 uuid bytes, found {other:?}")),
                },
                "sym" => Value::Symbol(text(payload)?),
                "fn" => Value::Fn(text(payload)?),
                "tuple" => Value::Tuple(values(payload)?),
                "set" => Value::Set(values(payload)?),
                "map" => match payload {
                    Ipld::List(pairs) => Value::Map(
                        pairs
                            .iter()
                            .map(|p| match p {
                                Ipld::List(kv) if kv.len() == 2 => {
                                    Ok((value_from_ipld(&kv[0])?, value_from_ipld(&kv[1])?))
                                }
                                other => Err(format!("expected a map entry, found {other:?}")),
                            })
                            .collect::<Result<_, String>>()?,
                    ),
                    other => return Err(format!("expected map entries, found {other:?}")),
                },
                "double" => match text(payload)?.as_str() {
                    "Infinity" => Value::Float(f64::INFINITY),
                    "-Infinity" => Value::Float(f64::NEG_INFINITY),
                    "-0" => Value::Float(-0.0),
                    other => return Err(format!("unknown special double {other:?}")),
                },
                other => return Err(format!("unknown value kind {other:?}")),
            }
        }
    })
}

/// The canonical DAG-CBOR bytes of a value on its own (used by tests and tools).
pub fn encode_value(v: &Value) -> Result<Vec<u8>, String> {
    to_bytes(&value_to_ipld(v)?)
}

/// The value of bytes written by [`encode_value`].
pub fn decode_value(bytes: &[u8]) -> Result<Value, String> {
    value_from_ipld(&from_bytes(bytes)?)
}

/// Encodes an IPLD tree as DAG-CBOR.
pub fn to_bytes(i: &Ipld) -> Result<Vec<u8>, String> {
    serde_ipld_dagcbor::to_vec(i).map_err(|e| format!("DAG-CBOR encoding failed: {e}"))
}

/// Decodes DAG-CBOR bytes into an IPLD tree.
pub fn from_bytes(bytes: &[u8]) -> Result<Ipld, String> {
    serde_ipld_dagcbor::from_slice(bytes).map_err(|e| format!("invalid DAG-CBOR: {e}"))
}

/// The content of a fact that its CID covers, as an IPLD map: `e` is the entity's global id
/// (16 bytes) and a reference value is `["eid", <16 bytes>]`, the global id of the entity it
/// names, so the same fact has the same bytes on every replica.
pub fn fact_ipld(
    e: &Gid,
    a: &str,
    v: &Value,
    v_entity: Option<&Gid>,
    added: bool,
    causes: &[Cid],
) -> Result<Ipld, String> {
    let mut m = BTreeMap::new();
    m.insert("e".to_string(), Ipld::Bytes(e.0.to_vec()));
    m.insert("a".to_string(), Ipld::String(a.to_string()));
    let v = match v_entity {
        Some(g) => kinded("eid", Ipld::Bytes(g.0.to_vec())),
        None => value_to_ipld(v)?,
    };
    m.insert("v".to_string(), v);
    m.insert("added".to_string(), Ipld::Bool(added));
    m.insert(
        "causes".to_string(),
        Ipld::List(causes.iter().map(|c| Ipld::Link(*c)).collect()),
    );
    Ok(Ipld::Map(m))
}

/// A decoded fact block: the global ids it names, not yet mapped to a store's local numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct FactContent {
    pub e: Gid,
    pub a: String,
    /// The value; for a reference, `Value::Nil` and the target in `v_entity`.
    pub v: Value,
    pub v_entity: Option<Gid>,
    pub added: bool,
    pub causes: Vec<Cid>,
}

fn gid_of(i: &Ipld) -> Result<Gid, String> {
    match i {
        Ipld::Bytes(b) => Gid::from_slice(b)
            .ok_or_else(|| format!("an entity id has 16 bytes, found {}", b.len())),
        other => Err(format!("expected an entity id, found {other:?}")),
    }
}

/// Decodes a fact block; fails unless it has exactly the five keys of a fact, its causes are
/// sorted and distinct, and it is in canonical form (it encodes back to the same bytes).
pub fn fact_from_bytes(bytes: &[u8]) -> Result<FactContent, String> {
    let fact = decode_fact(bytes)?;
    let again = to_bytes(&fact_ipld(
        &fact.e,
        &fact.a,
        &fact.v,
        fact.v_entity.as_ref(),
        fact.added,
        &fact.causes,
    )?)?;
    if again != bytes {
        return Err("a fact block is not in canonical form".into());
    }
    Ok(fact)
}

/// Decodes a fact block without the canonical-form check: for a caller that computes the
/// fact's CID from what it decoded and compares it with the block's (which checks both).
pub(crate) fn decode_fact(bytes: &[u8]) -> Result<FactContent, String> {
    let i = from_bytes(bytes)?;
    let Ipld::Map(m) = &i else {
        return Err("a fact is a map".into());
    };
    if m.len() != 5 {
        return Err(format!("a fact has 5 keys, found {}", m.len()));
    }
    let get = |k: &str| m.get(k).ok_or_else(|| format!("fact without key {k:?}"));
    let added = match get("added")? {
        Ipld::Bool(b) => *b,
        other => return Err(format!("expected a boolean, found {other:?}")),
    };
    let causes: Vec<Cid> = match get("causes")? {
        Ipld::List(items) => items
            .iter()
            .map(|c| match c {
                Ipld::Link(c) => Ok(*c),
                other => Err(format!("expected a CID link, found {other:?}")),
            })
            .collect::<Result<_, String>>()?,
        other => return Err(format!("expected a list of causes, found {other:?}")),
    };
    if causes.windows(2).any(|w| w[0] >= w[1]) {
        return Err("a fact's causes are not sorted and distinct".into());
    }
    let (v, v_entity) = match get("v")? {
        Ipld::List(parts) if parts.len() == 2 && parts[0] == Ipld::String("eid".into()) => {
            (Value::Nil, Some(gid_of(&parts[1])?))
        }
        other => (value_from_ipld(other)?, None),
    };
    if matches!(v, Value::Nil) && v_entity.is_none() {
        return Err("a fact's value is nil".into());
    }
    Ok(FactContent {
        e: gid_of(get("e")?)?,
        a: text(get("a")?)?,
        v,
        v_entity,
        added,
        causes,
    })
}
