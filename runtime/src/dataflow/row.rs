//! The rows of dataflow collections.
//!
//! Most tuples a Datalog program moves are one or two integers (entity ids, numbers), and a
//! dataflow copies, sorts, merges and hashes every tuple many times, so the row type decides the
//! speed. Measured on the transitive closure of a 2,000-node chain with the hand-written
//! differential program: `(u32, u32)` 2.0 s, `(i64, i64)` 2.9 s, a `Copy` enum of integer rows
//! 3.5 s, and the same enum with one boxed variant 5.5 s — a type with drop glue is what costs.
//!
//! So a [`Row`] is `Copy`: up to two integers inline, and every other row as the id of its
//! values in a process-wide interner. The representation is canonical (a row of at most two
//! `Value::Int`s is always an integer variant, and equal value rows get one id), so equality is
//! structural. Rows hash by their values and travel between processes as values (re-interned on
//! arrival), so partitioning agrees across a cluster; their order is total within a process,
//! which is all a dataflow needs. Interned rows live as long as the process.

use pomo_types::Value;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, RwLock};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub enum Row {
    #[default]
    I0,
    I1(i64),
    I2(i64, i64),
    /// Every other row: an interned id.
    V(u64),
}

/// How a row travels between processes: by value.
#[derive(Serialize, Deserialize)]
enum Wire {
    I0,
    I1(i64),
    I2(i64, i64),
    V(Vec<Value>),
}

impl From<Wire> for Row {
    fn from(w: Wire) -> Row {
        match w {
            Wire::I0 => Row::I0,
            Wire::I1(a) => Row::I1(a),
            Wire::I2(a, b) => Row::I2(a, b),
            Wire::V(v) => Row::from(v),
        }
    }
}

impl From<Row> for Wire {
    fn from(r: Row) -> Wire {
        match r {
            Row::I0 => Wire::I0,
            Row::I1(a) => Wire::I1(a),
            Row::I2(a, b) => Wire::I2(a, b),
            Row::V(id) => Wire::V(lookup(id).to_vec()),
        }
    }
}

impl Hash for Row {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Row::I0 => 0u8.hash(state),
            Row::I1(a) => {
                1u8.hash(state);
                a.hash(state);
            }
            Row::I2(a, b) => {
                2u8.hash(state);
                a.hash(state);
                b.hash(state);
            }
            Row::V(id) => {
                3u8.hash(state);
                lookup(*id).hash(state);
            }
        }
    }
}

type Values = Arc<[Value]>;

#[derive(Default)]
struct Interner {
    ids: HashMap<Values, u64, foldhash::fast::FixedState>,
    rows: Vec<Values>,
}

static INTERNER: LazyLock<RwLock<Interner>> = LazyLock::new(Default::default);

fn intern(values: &[Value]) -> u64 {
    if let Some(id) = INTERNER
        .read()
        .expect("row interner poisoned")
        .ids
        .get(values)
    {
        return *id;
    }
    let mut w = INTERNER.write().expect("row interner poisoned");
    if let Some(id) = w.ids.get(values) {
        return *id;
    }
    let id = w.rows.len() as u64;
    let v: Values = values.into();
    w.rows.push(v.clone());
    w.ids.insert(v, id);
    id
}

fn lookup(id: u64) -> Values {
    INTERNER.read().expect("row interner poisoned").rows[id as usize].clone()
}

impl Row {
    pub fn new() -> Row {
        Row::I0
    }

    pub fn len(&self) -> usize {
        match self {
            Row::I0 => 0,
            Row::I1(_) => 1,
            Row::I2(..) => 2,
            Row::V(id) => lookup(*id).len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column `i`.
    pub fn get(&self, i: usize) -> Value {
        match (self, i) {
            (Row::I1(a), 0) | (Row::I2(a, _), 0) => Value::Int(*a),
            (Row::I2(_, b), 1) => Value::Int(*b),
            (Row::V(id), i) => lookup(*id)[i].clone(),
            _ => panic!("column {i} of a row of {}", self.len()),
        }
    }

    /// Column `i` when it holds an integer of an integer row.
    #[inline]
    pub fn int(&self, i: usize) -> Option<i64> {
        match (self, i) {
            (Row::I1(a), 0) | (Row::I2(a, _), 0) => Some(*a),
            (Row::I2(_, b), 1) => Some(*b),
            _ => None,
        }
    }

    /// Calls `f` with the row as a slice of values (integer rows are expanded on the stack).
    pub fn with_values<R>(&self, f: impl FnOnce(&[Value]) -> R) -> R {
        match self {
            Row::I0 => f(&[]),
            Row::I1(a) => f(&[Value::Int(*a)]),
            Row::I2(a, b) => f(&[Value::Int(*a), Value::Int(*b)]),
            Row::V(id) => f(&lookup(*id)),
        }
    }

    pub fn to_vec(&self) -> Vec<Value> {
        self.with_values(|v| v.to_vec())
    }

    /// The columns `cols`, in that order.
    pub fn project(&self, cols: &[usize]) -> Row {
        match (self, cols) {
            (_, []) => Row::I0,
            (Row::I1(a), [0]) | (Row::I2(a, _), [0]) => Row::I1(*a),
            (Row::I2(_, b), [1]) => Row::I1(*b),
            (Row::I2(a, b), [0, 1]) => Row::I2(*a, *b),
            (Row::I2(a, b), [1, 0]) => Row::I2(*b, *a),
            (Row::I2(a, _), [0, 0]) => Row::I2(*a, *a),
            (Row::I2(_, b), [1, 1]) => Row::I2(*b, *b),
            (Row::I1(a), [0, 0]) => Row::I2(*a, *a),
            (Row::V(id), cols) => {
                let v = lookup(*id);
                cols.iter().map(|&c| v[c].clone()).collect()
            }
            _ => cols.iter().map(|&c| self.get(c)).collect(),
        }
    }

    /// The row followed by `more`.
    pub fn extended(&self, more: impl IntoIterator<Item = Value>) -> Row {
        self.with_values(|v| v.iter().cloned().chain(more).collect())
    }
}

impl FromIterator<Value> for Row {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Row {
        let vals: SmallVec<[Value; 4]> = iter.into_iter().collect();
        from_slice(&vals)
    }
}

impl From<Vec<Value>> for Row {
    fn from(v: Vec<Value>) -> Row {
        from_slice(&v)
    }
}

fn from_slice(v: &[Value]) -> Row {
    match v {
        [] => Row::I0,
        [Value::Int(a)] => Row::I1(*a),
        [Value::Int(a), Value::Int(b)] => Row::I2(*a, *b),
        _ => Row::V(intern(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_canonical_and_copy() {
        let a: Row = vec![Value::Int(1), Value::Int(2)].into();
        let b: Row = [Value::Int(1), Value::Int(2)].into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(a, Row::I2(1, 2));
        assert_eq!(a.project(&[1]), Row::I1(2));
        assert_eq!(a.project(&[1, 0]), Row::I2(2, 1));
        assert_eq!(a.extended([Value::Int(3)]).to_vec().len(), 3);
        let s: Row = vec![Value::Int(1), Value::Str("x".into())].into();
        let t: Row = vec![Value::Int(1), Value::Str("x".into())].into();
        assert!(matches!(s, Row::V(_)));
        assert_eq!(s, t);
        assert_eq!(s.project(&[0]), Row::I1(1));
        assert_eq!(s.get(1), Value::Str("x".into()));
        assert_eq!(s.len(), 2);
        assert!(std::mem::size_of::<Row>() <= 24);
    }

    #[test]
    fn rows_hash_and_travel_by_value() {
        use std::hash::BuildHasher;
        let s: Row = vec![Value::Str("a".into()), Value::Int(2), Value::Int(3)].into();
        let h = foldhash::fast::FixedState::default();
        let expected = {
            let mut x = h.build_hasher();
            3u8.hash(&mut x);
            lookup(match s {
                Row::V(id) => id,
                _ => unreachable!(),
            })
            .hash(&mut x);
            x.finish()
        };
        assert_eq!(h.hash_one(s), expected);
        let wire: Wire = s.into();
        assert!(matches!(&wire, Wire::V(v) if v.len() == 3));
        assert_eq!(Row::from(wire), s);
    }
}
