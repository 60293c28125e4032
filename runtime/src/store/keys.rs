//! The binary keys of the persistent indexes: order-preserving, compact, self-delimiting.
//!
//! * An entity id is 8 bytes, big-endian, with the sign bit flipped (so negative ids sort
//!   first); an attribute is its interned `u32` id, big-endian; a `t` is a `u32`, big-endian.
//! * A value is a tag byte followed by a payload, so that byte order is value order within a
//!   kind and kinds sort in [`Value`]'s rank order — except that integers sort before all
//!   doubles (the index does not interleave `2` and `2.5`; no lookup depends on it, since an
//!   integer never equals a double).
//!   - integers: tag `0x20 ± n` and the `n` significant bytes (two's complement, big-endian),
//!     so small numbers take two or three bytes and the order is numeric;
//!   - doubles, instants, refs, uuids: fixed width, sign-flipped where signed;
//!   - strings, keywords, symbols, bytes, CIDs: the bytes with `00` escaped as `00 FF`, ended by
//!     `00 00`; anything else (tuples, sets, maps, functions) is its canonical DAG-CBOR bytes in
//!     that form.
//!   - A payload longer than [`LONG`] bytes keeps its first `LONG` bytes, then `00 01` and a
//!     16-byte digest of the whole payload; the whole value lives in the `longvals` table under
//!     that digest. Equal values have equal keys, so equality lookups work on every value.

use super::encode::{from_bytes, to_bytes, value_from_ipld, value_to_ipld};
use multihash_codetable::{Code, MultihashDigest};
use pomo_types::Value;

/// The payload bytes a key keeps of a long value.
pub(crate) const LONG: usize = 160;

const T_BOOL: u8 = 0x01;
const T_INT: u8 = 0x20; // 0x18..=0x28
const T_FLOAT: u8 = 0x30;
const T_STR: u8 = 0x40;
const T_KW: u8 = 0x50;
const T_REF: u8 = 0x60;
const T_INST: u8 = 0x70;
const T_UUID: u8 = 0x80;
const T_BYTES: u8 = 0x90;
const T_CID: u8 = 0xA0;
const T_SYM: u8 = 0xB0;
const T_OTHER: u8 = 0xC0;

/// The digest that names a long value in the `longvals` table.
pub(crate) type LongId = [u8; 16];

pub(crate) fn put_e(out: &mut Vec<u8>, e: i64) {
    out.extend_from_slice(&((e as u64) ^ (1 << 63)).to_be_bytes());
}

pub(crate) fn get_e(b: &[u8]) -> i64 {
    (u64::from_be_bytes(b[..8].try_into().expect("8 bytes")) ^ (1 << 63)) as i64
}

pub(crate) fn put_u32(out: &mut Vec<u8>, x: u32) {
    out.extend_from_slice(&x.to_be_bytes());
}

pub(crate) fn get_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().expect("4 bytes"))
}

fn put_int(out: &mut Vec<u8>, n: i64) {
    let bytes = n.to_be_bytes();
    if n >= 0 {
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(T_INT + (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    } else {
        // Keep one leading 0xFF byte only where the next byte's top bit is clear, so that the
        // truncated two's complement still reads as negative; longer (more negative) numbers
        // get smaller tags.
        let mut skip = bytes.iter().take_while(|&&b| b == 0xFF).count().min(7);
        if bytes[skip] & 0x80 == 0 {
            skip -= 1;
        }
        out.push(T_INT - (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn put_escaped(out: &mut Vec<u8>, payload: &[u8]) -> Option<LongId> {
    let (keep, long) = if payload.len() > LONG {
        (&payload[..LONG], true)
    } else {
        (payload, false)
    };
    for &b in keep {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    if long {
        let id = long_id(payload);
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&id);
        Some(id)
    } else {
        out.extend_from_slice(&[0, 0]);
        None
    }
}

fn long_id(payload: &[u8]) -> LongId {
    let d = Code::Sha2_256.digest(payload);
    d.digest()[..16].try_into().expect("sha2-256 has 32 bytes")
}

/// Appends the key form of `v`. Returns the digest and the whole payload of a long value,
/// which the writer stores in the `longvals` table.
pub(crate) fn put_value(out: &mut Vec<u8>, v: &Value) -> Result<Option<(LongId, Vec<u8>)>, String> {
    let escaped = |out: &mut Vec<u8>, tag: u8, payload: &[u8]| {
        out.push(tag);
        put_escaped(out, payload).map(|id| (id, payload.to_vec()))
    };
    Ok(match v {
        Value::Nil => return Err("nil cannot be stored".into()),
        Value::Bool(b) => {
            out.extend_from_slice(&[T_BOOL, *b as u8]);
            None
        }
        Value::Int(n) => {
            put_int(out, *n);
            None
        }
        Value::Float(x) => {
            if x.is_nan() {
                return Err("NaN cannot be stored".into());
            }
            let bits = x.to_bits();
            let flipped = if bits >> 63 == 1 {
                !bits
            } else {
                bits ^ (1 << 63)
            };
            out.push(T_FLOAT);
            out.extend_from_slice(&flipped.to_be_bytes());
            None
        }
        Value::Str(s) => escaped(out, T_STR, s.as_bytes()),
        Value::Keyword(s) => escaped(out, T_KW, s.as_bytes()),
        Value::Ref(r) => {
            out.push(T_REF);
            out.extend_from_slice(&r.to_be_bytes());
            None
        }
        Value::Instant(ms) => {
            out.push(T_INST);
            put_e(out, *ms);
            None
        }
        Value::Uuid(u) => {
            out.push(T_UUID);
            out.extend_from_slice(&u.to_be_bytes());
            None
        }
        Value::Bytes(b) => escaped(out, T_BYTES, b),
        Value::Cid(s) => escaped(out, T_CID, s.as_bytes()),
        Value::Symbol(s) => escaped(out, T_SYM, s.as_bytes()),
        Value::Tuple(_) | Value::Set(_) | Value::Map(_) | Value::Fn(_) => {
            let bytes = to_bytes(&value_to_ipld(v)?)?;
            escaped(out, T_OTHER, &bytes)
        }
    })
}

/// The key form of `v` alone.
pub(crate) fn value_key(v: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(16);
    put_value(&mut out, v)?;
    Ok(out)
}

/// A value read back from a key: complete, or a long value still to be fetched by its digest.
pub(crate) enum KeyValue {
    Value(Value),
    Long { tag: u8, id: LongId },
}

/// Reads one value at `b[*pos..]`, advancing `pos` past it.
pub(crate) fn get_value(b: &[u8], pos: &mut usize) -> Result<KeyValue, String> {
    let bad = || "a damaged index key".to_string();
    let tag = *b.get(*pos).ok_or_else(bad)?;
    *pos += 1;
    let fixed = |pos: &mut usize, n: usize| -> Result<&[u8], String> {
        let s = b.get(*pos..*pos + n).ok_or_else(bad)?;
        *pos += n;
        Ok(s)
    };
    let v = match tag {
        T_BOOL => Value::Bool(fixed(pos, 1)?[0] != 0),
        t if (T_INT - 8..=T_INT + 8).contains(&t) => {
            let n = (t as i16 - T_INT as i16).unsigned_abs() as usize;
            let s = fixed(pos, n)?;
            let fill = if t < T_INT { 0xFF } else { 0 };
            let mut bytes = [fill; 8];
            bytes[8 - n..].copy_from_slice(s);
            Value::Int(i64::from_be_bytes(bytes))
        }
        T_FLOAT => {
            let f = u64::from_be_bytes(fixed(pos, 8)?.try_into().expect("8"));
            let bits = if f >> 63 == 1 { f ^ (1 << 63) } else { !f };
            Value::Float(f64::from_bits(bits))
        }
        T_REF => Value::Ref(u64::from_be_bytes(fixed(pos, 8)?.try_into().expect("8"))),
        T_INST => Value::Instant(get_e(fixed(pos, 8)?)),
        T_UUID => Value::Uuid(u128::from_be_bytes(fixed(pos, 16)?.try_into().expect("16"))),
        T_STR | T_KW | T_BYTES | T_CID | T_SYM | T_OTHER => {
            let mut payload = Vec::new();
            loop {
                let x = *b.get(*pos).ok_or_else(bad)?;
                *pos += 1;
                if x != 0 {
                    payload.push(x);
                    continue;
                }
                let y = *b.get(*pos).ok_or_else(bad)?;
                *pos += 1;
                match y {
                    0xFF => payload.push(0),
                    0 => break,
                    1 => {
                        let id: LongId = fixed(pos, 16)?.try_into().expect("16");
                        return Ok(KeyValue::Long { tag, id });
                    }
                    _ => return Err(bad()),
                }
            }
            from_payload(tag, payload)?
        }
        _ => return Err(bad()),
    };
    Ok(KeyValue::Value(v))
}

/// The value of a tagged payload (a short one from a key, or a long one from `longvals`).
pub(crate) fn from_payload(tag: u8, payload: Vec<u8>) -> Result<Value, String> {
    let text = |p: Vec<u8>| String::from_utf8(p).map_err(|_| "a damaged text value".to_string());
    Ok(match tag {
        T_STR => Value::Str(text(payload)?),
        T_KW => Value::Keyword(text(payload)?),
        T_SYM => Value::Symbol(text(payload)?),
        T_CID => Value::Cid(text(payload)?),
        T_BYTES => Value::Bytes(payload),
        T_OTHER => value_from_ipld(&from_bytes(&payload)?)?,
        _ => return Err("a damaged long value".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(v: &Value) -> Vec<u8> {
        value_key(v).unwrap()
    }

    fn back(k: &[u8]) -> Value {
        let mut pos = 0;
        match get_value(k, &mut pos).unwrap() {
            KeyValue::Value(v) => {
                assert_eq!(pos, k.len());
                v
            }
            KeyValue::Long { .. } => panic!("long"),
        }
    }

    #[test]
    fn values_read_back_and_sort_as_values_do() {
        let mut vals = vec![
            Value::Bool(false),
            Value::Bool(true),
            Value::Str(String::new()),
            Value::Str("a".into()),
            Value::Str("a\0b".into()),
            Value::Str("ab".into()),
            Value::Keyword("x/y".into()),
            Value::Ref(3),
            Value::Instant(-5),
            Value::Instant(7),
            Value::Uuid(9),
            Value::Bytes(vec![0, 0, 1]),
            Value::Tuple(vec![Value::Int(1), Value::Str("z".into())]),
        ];
        for n in [
            i64::MIN,
            i64::MIN + 1,
            -65536,
            -257,
            -256,
            -255,
            -129,
            -128,
            -127,
            -1,
            0,
            1,
            127,
            128,
            255,
            256,
            65535,
            i64::MAX,
        ] {
            vals.push(Value::Int(n));
        }
        for x in [
            f64::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1e-300,
            3.5,
            f64::INFINITY,
        ] {
            vals.push(Value::Float(x));
        }
        for v in &vals {
            assert_eq!(&back(&key(v)), v, "{v:?}");
        }
        // Within a kind, key order is value order.
        for a in &vals {
            for b in &vals {
                if std::mem::discriminant(a) == std::mem::discriminant(b) {
                    assert_eq!(key(a).cmp(&key(b)), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn a_value_is_self_delimiting() {
        let mut k = key(&Value::Str("ab\0".into()));
        put_e(&mut k, 42);
        let mut pos = 0;
        get_value(&k, &mut pos).unwrap();
        assert_eq!(get_e(&k[pos..]), 42);
    }

    #[test]
    fn long_values_keep_a_prefix_and_a_digest() {
        let long = Value::Str("x".repeat(1000));
        let mut k = Vec::new();
        let (id, payload) = put_value(&mut k, &long).unwrap().unwrap();
        assert!(k.len() < LONG + 24);
        assert_eq!(payload.len(), 1000);
        let mut pos = 0;
        match get_value(&k, &mut pos).unwrap() {
            KeyValue::Long { tag, id: got } => {
                assert_eq!(got, id);
                assert_eq!(from_payload(tag, payload).unwrap(), long);
            }
            KeyValue::Value(_) => panic!("short"),
        }
        // A short string with the same start sorts first.
        assert!(key(&Value::Str("x".into())) < k);
    }

    #[test]
    fn damaged_keys_are_errors() {
        for k in [
            &[0xEEu8][..],
            &[T_STR, b'a'],
            &[T_STR, 0, 7],
            &[T_INT + 3, 1],
        ] {
            let mut pos = 0;
            assert!(get_value(k, &mut pos).is_err());
        }
    }
}
