//! The rows of dataflow collections.
//!
//! Most tuples a Datalog program moves are one or two integers (entity ids, numbers), and a
//! dataflow copies, sorts, merges and hashes every tuple many times, so the row type decides the
//! speed. Measured on the transitive closure of a 2,000-node chain with the hand-written
//! differential program: `(u32, u32)` 2.0 s, `(i64, i64)` 2.9 s, a `Copy` enum of integer rows
//! 3.5 s, and the same enum with one boxed variant 5.5 s.
//!
//! So a [`Row`] is 8 bytes and `Copy`: a row of at most two integers that fit in 32 bits is held
//! inline (unused positions are zero), and every other row is the id of its values in a
//! process-wide interner, marked by `i32::MIN` in the first position (an integer row that starts
//! with `i32::MIN` is interned too). The representation is canonical, so equality is structural.
//! A row does not know its arity: every collection's rows have the arity of its plan node, and
//! readers pass it in. Rows hash by their values and travel between processes as values
//! (re-interned on arrival), so partitioning agrees across a cluster; their order is total
//! within a process, which is all a dataflow needs. Interned rows live as long as the process.

use pomo_types::Value;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, RwLock};

const INTERNED: i32 = i32::MIN;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub struct Row([i32; 2]);

/// How a row travels between processes: by value.
#[derive(Serialize, Deserialize)]
enum Wire {
    Inline([i32; 2]),
    Interned(Vec<Value>),
}

impl From<Wire> for Row {
    fn from(w: Wire) -> Row {
        match w {
            Wire::Inline(a) => Row(a),
            Wire::Interned(v) => Row::from_values(&v),
        }
    }
}

impl From<Row> for Wire {
    fn from(r: Row) -> Wire {
        match r.interned() {
            Some(id) => Wire::Interned(lookup(id).to_vec()),
            None => Wire::Inline(r.0),
        }
    }
}

impl Hash for Row {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.interned() {
            Some(id) => lookup(id).hash(state),
            None => self.0.hash(state),
        }
    }
}

type Values = Arc<[Value]>;

#[derive(Default)]
struct Interner {
    ids: HashMap<Values, u32, foldhash::fast::FixedState>,
    rows: Vec<Values>,
}

static INTERNER: LazyLock<RwLock<Interner>> = LazyLock::new(Default::default);

fn intern(values: &[Value]) -> u32 {
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
    let id = u32::try_from(w.rows.len()).expect("more than 2^32 distinct non-integer rows");
    let v: Values = values.into();
    w.rows.push(v.clone());
    w.ids.insert(v, id);
    id
}

fn lookup(id: u32) -> Values {
    INTERNER.read().expect("row interner poisoned").rows[id as usize].clone()
}

impl Row {
    /// The empty row.
    pub fn new() -> Row {
        Row([0, 0])
    }

    /// The row of these values.
    pub fn from_values(v: &[Value]) -> Row {
        let small = |x: &Value| match x {
            Value::Int(i) => i32::try_from(*i).ok(),
            _ => None,
        };
        match v {
            [] => return Row([0, 0]),
            [a] => {
                if let Some(a) = small(a).filter(|a| *a != INTERNED) {
                    return Row([a, 0]);
                }
            }
            [a, b] => {
                if let (Some(a), Some(b)) = (small(a).filter(|a| *a != INTERNED), small(b)) {
                    return Row([a, b]);
                }
            }
            _ => {}
        }
        Row([INTERNED, intern(v) as i32])
    }

    /// A row of two integers.
    #[inline]
    pub fn ints(a: i64, b: i64) -> Row {
        match (i32::try_from(a), i32::try_from(b)) {
            (Ok(x), Ok(y)) if x != INTERNED => Row([x, y]),
            _ => Row::from_values(&[Value::Int(a), Value::Int(b)]),
        }
    }

    /// A row of one integer.
    #[inline]
    pub fn int1(a: i64) -> Row {
        match i32::try_from(a) {
            Ok(x) if x != INTERNED => Row([x, 0]),
            _ => Row::from_values(&[Value::Int(a)]),
        }
    }

    fn interned(&self) -> Option<u32> {
        (self.0[0] == INTERNED).then_some(self.0[1] as u32)
    }

    /// Column `i`.
    pub fn get(&self, i: usize) -> Value {
        match self.interned() {
            Some(id) => lookup(id)[i].clone(),
            None => Value::Int(self.0[i] as i64),
        }
    }

    /// Column `i` of an inline (integer) row.
    #[inline]
    pub fn int(&self, i: usize) -> Option<i64> {
        match self.interned() {
            Some(_) => None,
            None => Some(self.0[i] as i64),
        }
    }

    /// Calls `f` with the row's `arity` values.
    pub fn with_values<R>(&self, arity: usize, f: impl FnOnce(&[Value]) -> R) -> R {
        match self.interned() {
            Some(id) => f(&lookup(id)),
            None => {
                let v = [Value::Int(self.0[0] as i64), Value::Int(self.0[1] as i64)];
                f(&v[..arity.min(2)])
            }
        }
    }

    pub fn to_vec(&self, arity: usize) -> Vec<Value> {
        self.with_values(arity, |v| v.to_vec())
    }

    /// The columns `cols`, in that order.
    pub fn project(&self, cols: &[usize]) -> Row {
        match self.interned() {
            None => match cols {
                [] => Row([0, 0]),
                [a] => Row::int1(self.0[*a] as i64),
                [a, b] => Row::ints(self.0[*a] as i64, self.0[*b] as i64),
                _ => Row::from_values(
                    &cols
                        .iter()
                        .map(|&c| Value::Int(self.0[c] as i64))
                        .collect::<SmallVec<[Value; 4]>>(),
                ),
            },
            Some(id) => {
                let v = lookup(id);
                Row::from_values(
                    &cols
                        .iter()
                        .map(|&c| v[c].clone())
                        .collect::<SmallVec<[Value; 4]>>(),
                )
            }
        }
    }

    /// The row's `arity` values followed by `more`.
    pub fn extended(&self, arity: usize, more: impl IntoIterator<Item = Value>) -> Row {
        self.with_values(arity, |v| v.iter().cloned().chain(more).collect())
    }
}

impl FromIterator<Value> for Row {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Row {
        let vals: SmallVec<[Value; 4]> = iter.into_iter().collect();
        Row::from_values(&vals)
    }
}

impl From<Vec<Value>> for Row {
    fn from(v: Vec<Value>) -> Row {
        Row::from_values(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(xs: &[i64]) -> Vec<Value> {
        xs.iter().map(|x| Value::Int(*x)).collect()
    }

    #[test]
    fn rows_are_canonical_copy_and_small() {
        assert_eq!(std::mem::size_of::<Row>(), 8);
        let a: Row = ints(&[1, 2]).into();
        let b: Row = ints(&[1, 2]).into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(a, Row::ints(1, 2));
        assert_eq!(a.project(&[1]), Row::int1(2));
        assert_eq!(a.project(&[1, 0]), Row::ints(2, 1));
        assert_eq!(a.extended(2, [Value::Int(3)]).to_vec(3), ints(&[1, 2, 3]));
        assert_eq!(Row::new().to_vec(0), Vec::<Value>::new());
        let s: Row = vec![Value::Int(1), Value::Str("x".into())].into();
        let t: Row = vec![Value::Int(1), Value::Str("x".into())].into();
        assert_eq!(s, t);
        assert!(s.int(0).is_none());
        assert_eq!(s.project(&[0]), Row::int1(1));
        assert_eq!(s.get(1), Value::Str("x".into()));
        assert_eq!(s.to_vec(2).len(), 2);
    }

    #[test]
    fn integers_outside_32_bits_and_the_marker_value_are_interned() {
        let big: Row = ints(&[1 << 40, 2]).into();
        assert!(big.int(0).is_none());
        assert_eq!(big.to_vec(2), ints(&[1 << 40, 2]));
        assert_eq!(big.project(&[1]), Row::int1(2));
        assert_eq!(big.project(&[1, 1]), Row::ints(2, 2));
        let marker: Row = ints(&[i32::MIN as i64, 7]).into();
        assert_eq!(marker.to_vec(2), ints(&[i32::MIN as i64, 7]));
        // A projection that would start with the marker value stays canonical.
        let r = Row::ints(7, i32::MIN as i64);
        assert_eq!(r.project(&[1, 0]), marker);
        assert_eq!(Row::ints(i32::MIN as i64, 7), marker);
        assert_eq!(Row::int1(1 << 40).to_vec(1), ints(&[1 << 40]));
    }

    #[test]
    fn rows_hash_and_travel_by_value() {
        use std::hash::BuildHasher;
        let h = foldhash::fast::FixedState::default();
        let s: Row = vec![Value::Str("a".into()), Value::Int(2), Value::Int(3)].into();
        let values = [Value::Str("a".into()), Value::Int(2), Value::Int(3)];
        assert_eq!(h.hash_one(s), h.hash_one(&values[..]));
        let wire: Wire = s.into();
        assert!(matches!(&wire, Wire::Interned(v) if v.len() == 3));
        assert_eq!(Row::from(wire), s);
        let i = Row::ints(4, 5);
        let wire: Wire = i.into();
        assert!(matches!(wire, Wire::Inline([4, 5])));
    }
}
