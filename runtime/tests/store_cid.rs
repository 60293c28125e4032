//! Content addressing: the canonical DAG-CBOR encoding of every value kind round-trips, the same
//! fact always has the same CID (wherever and whenever it is written), causes are a set, and
//! values with no DAG-CBOR encoding (NaN) are rejected.

use pomo_runtime::Value;
use pomo_runtime::store::{Fact, Gid, Ids, decode_value, encode_value, fact_from_bytes};

/// The ids of a fact about entity `n` (a fixed global id per local number, as a store keeps).
fn ids(n: i64) -> Ids {
    let mut b = [0u8; 16];
    b[8..].copy_from_slice(&n.to_be_bytes());
    Ids { e: Gid(b), v: None }
}

fn every_kind() -> Vec<Value> {
    vec![
        Value::Nil,
        Value::Bool(true),
        Value::Int(-42),
        Value::Int(i64::MAX),
        Value::Float(2.5),
        Value::Float(-0.0),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
        Value::Str("héllo".into()),
        Value::Keyword("person/name".into()),
        Value::Ref(7),
        Value::Instant(1_700_000_000_123),
        Value::Uuid(0xf81d4fae_7dec_11d0_a765_00a0c91e6bf6),
        Value::Bytes(vec![0, 1, 255]),
        Value::Cid("bafyreighwy7ue6twtfjunqslrabbhdmhz7l66h6ghcm7lqmyxdspvhb6se".into()),
        Value::Symbol("?x".into()),
        Value::Tuple(vec![Value::Int(1), Value::Nil, Value::Str("a".into())]),
        Value::Set(vec![Value::Int(1), Value::Int(2)]),
        Value::Map(vec![(Value::Keyword("a".into()), Value::Int(1))]),
        Value::Fn("twice".into()),
    ]
}

#[test]
fn every_value_kind_round_trips() {
    for v in every_kind() {
        let bytes = encode_value(&v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
        let back = decode_value(&bytes).unwrap();
        assert_eq!(back, v, "{v:?}");
        // -0.0 and 0.0 are different values and must stay different.
        if let (Value::Float(x), Value::Float(y)) = (back, v) {
            assert_eq!(x.to_bits(), y.to_bits());
        }
    }
}

#[test]
fn distinct_kinds_have_distinct_encodings() {
    let kinds = [
        Value::Str("a".into()),
        Value::Keyword("a".into()),
        Value::Symbol("a".into()),
        Value::Fn("a".into()),
        Value::Int(1),
        Value::Float(1.0),
        Value::Ref(1),
        Value::Instant(1),
    ];
    let encodings: std::collections::BTreeSet<Vec<u8>> =
        kinds.iter().map(|v| encode_value(v).unwrap()).collect();
    assert_eq!(encodings.len(), kinds.len());
}

#[test]
fn sets_encode_canonically() {
    let a = Value::Set(vec![Value::Int(2), Value::Int(1)]);
    let b = Value::Set(vec![Value::Int(1), Value::Int(2), Value::Int(1)]);
    assert_eq!(encode_value(&a).unwrap(), encode_value(&b).unwrap());
}

#[test]
fn nan_and_bad_cids_are_rejected() {
    assert!(encode_value(&Value::Float(f64::NAN)).is_err());
    assert!(encode_value(&Value::Tuple(vec![Value::Float(f64::NAN)])).is_err());
    assert!(encode_value(&Value::Cid("nope".into())).is_err());
    assert!(Fact::new(1, "x", Value::Float(f64::NAN), true, vec![], 0, ids(1)).is_err());
}

#[test]
fn the_same_fact_has_the_same_cid() {
    let v = Value::Str("Alice".into());
    let a = Fact::new(1, "person/name", v.clone(), true, vec![], 5, ids(1)).unwrap();
    let b = Fact::new(1, "person/name", v.clone(), true, vec![], 99, ids(1)).unwrap();
    assert_eq!(a.cid, b.cid, "the tx is not part of a fact's content");
    assert!(a.cid.to_string().starts_with("bafyrei"));
    assert_eq!(a.cid.codec(), 0x71);
    assert_eq!(a.cid.hash().code(), 0x12);
    // Every part of the content matters.
    let others = [
        Fact::new(2, "person/name", v.clone(), true, vec![], 5, ids(2)).unwrap(),
        Fact::new(1, "person/nick", v.clone(), true, vec![], 5, ids(1)).unwrap(),
        Fact::new(
            1,
            "person/name",
            Value::Keyword("Alice".into()),
            true,
            vec![],
            5,
            ids(1),
        )
        .unwrap(),
        Fact::new(1, "person/name", v.clone(), false, vec![], 5, ids(1)).unwrap(),
        Fact::new(1, "person/name", v.clone(), true, vec![a.cid], 5, ids(1)).unwrap(),
    ];
    for o in &others {
        assert_ne!(o.cid, a.cid, "{o:?}");
    }
    // Causes are a set: order and duplicates do not change the CID.
    let (c1, c2) = (others[0].cid, others[1].cid);
    let x = Fact::new(1, "r", Value::Int(1), false, vec![c2, c1, c2], 5, ids(1)).unwrap();
    let y = Fact::new(1, "r", Value::Int(1), false, vec![c1, c2], 5, ids(1)).unwrap();
    assert_eq!(x.cid, y.cid);
    assert_eq!(x.causes.len(), 2);
    assert!(x.causes.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_fact_block_decodes_to_the_same_fact() {
    for v in every_kind()
        .into_iter()
        .filter(|v| !matches!(v, Value::Nil))
    {
        let cause = Fact::new(9, "c", Value::Int(0), true, vec![], 1, ids(9))
            .unwrap()
            .cid;
        let f = Fact::new(-3, "k/v", v, false, vec![cause], 7, ids(-3)).unwrap();
        let back = fact_from_bytes(&f.encode()).unwrap();
        assert_eq!(
            (back.e, back.a.as_str(), &back.v, back.added, &back.causes),
            (f.ids.e, f.a.as_str(), &f.v, f.added, &f.causes)
        );
    }
    assert!(fact_from_bytes(b"\xa0").is_err());
    assert!(fact_from_bytes(b"garbage").is_err());
    // A reference value is named by its target's global id.
    let target = Gid([7; 16]);
    let r = Fact::new(
        1,
        "p/friend",
        Value::Int(2),
        true,
        vec![],
        3,
        Ids {
            e: ids(1).e,
            v: Some(target),
        },
    )
    .unwrap();
    let back = fact_from_bytes(&r.encode()).unwrap();
    assert_eq!(back.v_entity, Some(target));
    // The CID is over global ids: another local number for the same entities, the same CID.
    let other = Fact::new(
        44,
        "p/friend",
        Value::Int(45),
        true,
        vec![],
        3,
        Ids {
            e: ids(1).e,
            v: Some(target),
        },
    )
    .unwrap();
    assert_eq!(other.cid, r.cid);
}

#[test]
fn a_known_fact_has_a_pinned_cid() {
    // Pinning one CID guards the encoding itself: any change to it would re-address every
    // stored fact, so it must be deliberate.
    let f = Fact::new(
        1,
        "person/name",
        Value::Str("Alice".into()),
        true,
        vec![],
        0,
        ids(1),
    )
    .unwrap();
    let pinned = f.cid.to_string();
    assert_eq!(pinned, PINNED, "the fact encoding changed");
    let hex: String = f.encode().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, PINNED_HEX);
}

const PINNED: &str = "bafyreihanb6mocwgrpjniemfzfyjzx4mxo22kqfi52ezpbjdixavmnef7a";
const PINNED_HEX: &str = "a561616b706572736f6e2f6e616d6561655000000000000000000000000000000001617665416c696365656164646564f56663617573657380";
