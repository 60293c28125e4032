//! The rows of dataflow collections.
//!
//! Most tuples a Datalog program moves are one or two integers (entity ids, numbers), and a
//! dataflow copies, sorts and hashes every tuple several times, so their size decides the speed.
//! A [`Row`] keeps up to two integers inline in 24 bytes and anything else as a boxed slice of
//! values. The representation is canonical: a row of at most two `Value::Int`s is always one of
//! the integer variants, so equal rows are equal values of the type (joins and hashing need
//! that); the order between rows of different variants is arbitrary but total, which is all a
//! dataflow needs.

use pomo_types::Value;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Row {
    #[default]
    I0,
    I1(i64),
    I2(i64, i64),
    /// Every other row.
    V(Box<[Value]>),
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
            Row::V(v) => v.len(),
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
            (Row::V(v), i) => v[i].clone(),
            _ => panic!("column {i} of a row of {}", self.len()),
        }
    }

    /// Calls `f` with the row as a slice of values (integer rows are expanded on the stack).
    pub fn with_values<R>(&self, f: impl FnOnce(&[Value]) -> R) -> R {
        match self {
            Row::I0 => f(&[]),
            Row::I1(a) => f(&[Value::Int(*a)]),
            Row::I2(a, b) => f(&[Value::Int(*a), Value::Int(*b)]),
            Row::V(v) => f(v),
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
            (Row::V(v), cols) => cols.iter().map(|&c| v[c].clone()).collect(),
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
        match vals.as_slice() {
            [] => Row::I0,
            [Value::Int(a)] => Row::I1(*a),
            [Value::Int(a), Value::Int(b)] => Row::I2(*a, *b),
            _ => Row::V(vals.into_vec().into_boxed_slice()),
        }
    }
}

impl From<Vec<Value>> for Row {
    fn from(v: Vec<Value>) -> Row {
        match v.as_slice() {
            [] => Row::I0,
            [Value::Int(a)] => Row::I1(*a),
            [Value::Int(a), Value::Int(b)] => Row::I2(*a, *b),
            _ => Row::V(v.into_boxed_slice()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_rows_are_inline_and_canonical() {
        let a: Row = vec![Value::Int(1), Value::Int(2)].into();
        let b: Row = [Value::Int(1), Value::Int(2)].into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(a, Row::I2(1, 2));
        assert_eq!(a.project(&[1]), Row::I1(2));
        assert_eq!(a.project(&[1, 0]), Row::I2(2, 1));
        assert_eq!(a.extended([Value::Int(3)]).to_vec().len(), 3);
        let s: Row = vec![Value::Int(1), Value::Str("x".into())].into();
        assert!(matches!(s, Row::V(_)));
        assert_eq!(s.project(&[0]), Row::I1(1));
        assert_eq!(s.get(1), Value::Str("x".into()));
        assert!(std::mem::size_of::<Row>() <= 24);
    }
}
