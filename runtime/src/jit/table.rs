//! Fixed-width relations for the JIT backend: the interner that turns values into 64-bit words
//! (encoding in [`super::abi`]), tables that keep each column in its own vector of words with a
//! hash set of row numbers for deduplication, and chained hash indexes over some columns.
//!
//! Tables only grow, except when the driver clears or moves them; each such reset bumps the
//! table's `epoch`, so an index knows to rebuild itself, and otherwise an index catches up by
//! indexing the rows appended since it last looked. Compiled kernels read columns and index
//! chains through raw pointers; the driver never mutates a table a running kernel reads.

use super::abi::{NONE, int_word};
use hashbrown::HashTable;
use pomo_types::Value;
use std::collections::HashMap;

/// Mixes the words of a row (or key) into a hash.
#[inline]
pub fn hash_words(ws: impl Iterator<Item = u64>) -> u64 {
    let mut h: u64 = 0x243f_6a88_85a3_08d3;
    for w in ws {
        h = (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    // A finalizer, so that the low bits hashbrown uses depend on every input bit.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Values to words and back. Integers that fit are inline; every other value gets a number.
#[derive(Default)]
pub struct Interner {
    ids: HashMap<Value, u64>,
    values: Vec<Value>,
}

impl Interner {
    pub fn encode(&mut self, v: &Value) -> u64 {
        if let Value::Int(i) = v
            && let Some(w) = int_word(*i)
        {
            return w;
        }
        if let Some(id) = self.ids.get(v) {
            return (id << 1) | 1;
        }
        let id = self.values.len() as u64;
        self.values.push(v.clone());
        self.ids.insert(v.clone(), id);
        (id << 1) | 1
    }

    /// The word of a value, if it has one (without interning).
    pub fn lookup(&self, v: &Value) -> Option<u64> {
        if let Value::Int(i) = v
            && let Some(w) = int_word(*i)
        {
            return Some(w);
        }
        self.ids.get(v).map(|id| (id << 1) | 1)
    }

    pub fn decode(&self, w: u64) -> Value {
        if w & 1 == 0 {
            Value::Int((w as i64) >> 1)
        } else {
            self.values[(w >> 1) as usize].clone()
        }
    }
}

/// A fresh epoch number: resets of tables never reuse one, so an index built over a table
/// that was since cleared or replaced always notices.
pub fn fresh_epoch() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A set of rows of words, column by column.
#[derive(Clone, Default)]
pub struct Table {
    pub arity: usize,
    pub cols: Vec<Vec<u64>>,
    pub len: usize,
    set: HashTable<u32>,
    /// How many rows the set covers: rows appended with [`Table::push_new`] join it lazily.
    set_len: usize,
    /// Bumped whenever rows are removed.
    pub epoch: u64,
}

fn row_hash(cols: &[Vec<u64>], r: u32) -> u64 {
    hash_words(cols.iter().map(|c| c[r as usize]))
}

fn row_eq(cols: &[Vec<u64>], r: u32, row: &[u64]) -> bool {
    cols.iter().zip(row).all(|(c, w)| c[r as usize] == *w)
}

impl Table {
    pub fn new(arity: usize) -> Table {
        Table {
            arity,
            cols: vec![Vec::new(); arity],
            epoch: fresh_epoch(),
            ..Table::default()
        }
    }

    /// Appends a row the caller knows is not in the table, without touching the set (it
    /// catches up before the next lookup): the rows a kernel found new in another table.
    pub fn push_new(&mut self, row: &[u64]) {
        if self.arity == 0 {
            self.len = 1;
            return;
        }
        for (c, w) in self.cols.iter_mut().zip(row) {
            c.push(*w);
        }
        self.len += 1;
    }

    /// Brings the set up to date with rows appended by [`Table::push_new`].
    pub fn catch_up(&mut self) {
        if self.arity == 0 || self.set_len == self.len {
            return;
        }
        let cols = &self.cols;
        self.set
            .reserve(self.len - self.set_len, |&x| row_hash(cols, x));
        for r in self.set_len as u32..self.len as u32 {
            self.set
                .insert_unique(row_hash(cols, r), r, |&x| row_hash(cols, x));
        }
        self.set_len = self.len;
    }

    /// Adds a row unless the table has it; whether it was added.
    pub fn insert(&mut self, row: &[u64]) -> bool {
        debug_assert_eq!(row.len(), self.arity);
        if self.arity == 0 {
            let added = self.len == 0;
            self.len = 1;
            return added;
        }
        self.catch_up();
        let h = hash_words(row.iter().copied());
        let cols = &self.cols;
        if self.set.find(h, |&r| row_eq(cols, r, row)).is_some() {
            return false;
        }
        let r = self.len as u32;
        for (c, w) in self.cols.iter_mut().zip(row) {
            c.push(*w);
        }
        let cols = &self.cols;
        self.set.insert_unique(h, r, |&x| row_hash(cols, x));
        self.len += 1;
        self.set_len = self.len;
        true
    }

    /// Whether the table has a row; the set must be caught up ([`Table::catch_up`]).
    pub fn contains(&self, row: &[u64]) -> bool {
        if self.arity == 0 {
            return self.len > 0;
        }
        debug_assert_eq!(self.set_len, self.len, "a lookup in a set that is behind");
        let h = hash_words(row.iter().copied());
        self.set.find(h, |&r| row_eq(&self.cols, r, row)).is_some()
    }

    pub fn clear(&mut self) {
        for c in &mut self.cols {
            c.clear();
        }
        self.set.clear();
        self.len = 0;
        self.set_len = 0;
        self.epoch = fresh_epoch();
    }

    /// Moves the rows out, leaving the table empty.
    pub fn take(&mut self) -> Table {
        std::mem::replace(self, Table::new(self.arity))
    }

    /// Adds every row of another table of the same arity.
    pub fn extend_from(&mut self, other: &Table) {
        if self.len == 0 && other.arity > 0 {
            // Rows of a set are distinct: copy columns and rebuild the set in one pass.
            self.cols.clone_from(&other.cols);
            self.len = other.len;
            self.set = HashTable::with_capacity(other.len);
            self.set_len = 0;
            self.catch_up();
            return;
        }
        let mut row = vec![0u64; other.arity];
        for r in 0..other.len {
            for (c, w) in row.iter_mut().enumerate() {
                *w = other.cols[c][r];
            }
            self.insert(&row);
        }
    }

    pub fn row(&self, r: usize) -> Vec<u64> {
        self.cols.iter().map(|c| c[r]).collect()
    }
}

/// A hash index of a table by some columns: the newest row of each key, and a chain from each
/// row to the next older row with the same key.
#[derive(Clone, Default)]
pub struct Index {
    pub key: Vec<usize>,
    heads: HashTable<u32>,
    pub next: Vec<u32>,
    done: usize,
    epoch: u64,
}

impl Index {
    pub fn new(key: Vec<usize>) -> Index {
        Index {
            key,
            ..Index::default()
        }
    }

    /// Indexes the rows the table gained since the last call (all of them after a reset).
    pub fn sync(&mut self, t: &Table) {
        if self.epoch != t.epoch || self.done > t.len {
            self.heads.clear();
            self.next.clear();
            self.done = 0;
            self.epoch = t.epoch;
        }
        if self.key.is_empty() {
            // Every row chains to the one before it; a probe starts at the last.
            self.next.clear();
            self.next
                .extend((0..t.len as u32).map(|r| r.checked_sub(1).unwrap_or(NONE)));
            self.done = t.len;
            return;
        }
        let key = &self.key;
        let cols = &t.cols;
        let khash = |r: u32| hash_words(key.iter().map(|&c| cols[c][r as usize]));
        let keq = |a: u32, b: u32| {
            key.iter()
                .all(|&c| cols[c][a as usize] == cols[c][b as usize])
        };
        self.next.reserve(t.len - self.done);
        for r in self.done as u32..t.len as u32 {
            let h = khash(r);
            match self.heads.find_mut(h, |&x| keq(x, r)) {
                Some(head) => {
                    self.next.push(*head);
                    *head = r;
                }
                None => {
                    self.next.push(NONE);
                    self.heads.insert_unique(h, r, |&x| khash(x));
                }
            }
        }
        self.done = t.len;
    }

    /// The newest row with the key, or [`NONE`].
    pub fn probe(&self, t: &Table, key: &[u64]) -> u32 {
        if self.key.is_empty() {
            return if t.len > 0 {
                // Every row, through the chain `sync` builds.
                (t.len - 1) as u32
            } else {
                NONE
            };
        }
        let h = hash_words(key.iter().copied());
        let cols = &t.cols;
        self.heads
            .find(h, |&r| {
                self.key
                    .iter()
                    .zip(key)
                    .all(|(&c, w)| cols[c][r as usize] == *w)
            })
            .copied()
            .unwrap_or(NONE)
    }
}
