//! Fixed-width relations for the JIT backend: the interner that turns values into 64-bit words
//! (encoding in [`super::abi`]), tables that keep each column in its own vector of words with a
//! deduplication set (of the rows themselves, packed into one word, when they fit; of row
//! numbers otherwise), and chained hash indexes over some columns (arrays for small integer
//! keys).
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

/// The deduplication set of a table.
///
/// Rows of one or two words that fit in 32 bits each (every integer below 2^31, and most
/// interned values) are **packed** into one `u64` key kept in the set itself, so a lookup never
/// touches the columns (a cache miss per column in a large table) and growing the set never
/// reads them either. Past [`SHARD_AT`] rows the packed set is split into [`SHARDS`] tables by
/// hash, so that growing one shard copies a small table: a single table holds its old and new
/// buckets at once while it grows, which for a table of millions of rows is the run's peak
/// memory. Small sets stay one table, cheap to create and to fill. Any other row
/// turns the set into row numbers hashed through the columns.
#[derive(Clone)]
enum RowSet {
    Packed(Vec<KeySet>),
    Ids(HashTable<u32>),
}

/// A set of packed keys by linear probing: the key itself marks its slot, so a lookup or an
/// insert touches one cache line of the table (hashbrown's separate control bytes make that
/// two), which is what a semi-naive loop's millions of inserts into a large total pay.
#[derive(Clone, Default)]
struct KeySet {
    slots: Vec<u64>,
    len: usize,
    /// Whether the key equal to the empty marker is in the set.
    has_empty: bool,
}

/// The mark of a free slot.
const EMPTY: u64 = u64::MAX;

/// Linear probing from a hash's slot: `Ok` with the slot holding the key, or `Err` with the
/// free slot where it would go. The table is never full (it grows at 70 %).
#[inline]
fn probe(slots: &[u64], h: u64, k: u64) -> Result<usize, usize> {
    let mask = slots.len() - 1;
    let mut i = (h as usize) & mask;
    loop {
        match slots[i] {
            s if s == k => return Ok(i),
            EMPTY => return Err(i),
            _ => i = (i + 1) & mask,
        }
    }
}

impl KeySet {
    fn len(&self) -> usize {
        self.len
    }

    fn with_capacity(n: usize) -> KeySet {
        let mut s = KeySet::default();
        if n > 0 {
            s.slots = vec![EMPTY; (n * 2).next_power_of_two().max(16)];
        }
        s
    }

    /// Adds a key (with its hash); whether it was new.
    #[inline]
    fn insert(&mut self, h: u64, k: u64) -> bool {
        if k == EMPTY {
            let added = !self.has_empty;
            self.has_empty = true;
            self.len += added as usize;
            return added;
        }
        // At most 70 % full, so probe runs stay short.
        if (self.len + 1) * 10 > self.slots.len() * 7 {
            self.grow();
        }
        match probe(&self.slots, h, k) {
            Ok(_) => false,
            Err(i) => {
                self.slots[i] = k;
                self.len += 1;
                true
            }
        }
    }

    #[inline]
    fn contains(&self, h: u64, k: u64) -> bool {
        if k == EMPTY {
            return self.has_empty;
        }
        !self.slots.is_empty() && probe(&self.slots, h, k).is_ok()
    }

    #[inline]
    fn prefetch(&self, h: u64) {
        if self.slots.is_empty() {
            return;
        }
        let p = &self.slots[(h as usize) & (self.slots.len() - 1)] as *const u64;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch of a valid address; it reads nothing architecturally.
        unsafe {
            std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = p;
    }

    #[cold]
    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; cap]);
        for k in old.into_iter().filter(|&k| k != EMPTY) {
            if let Err(i) = probe(&self.slots, mix(k), k) {
                self.slots[i] = k;
            }
        }
    }

    fn clear(&mut self) {
        self.slots.fill(EMPTY);
        self.len = 0;
        self.has_empty = false;
    }

    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots
            .iter()
            .copied()
            .filter(|&k| k != EMPTY)
            .chain(self.has_empty.then_some(EMPTY))
    }
}

/// Shards of a packed set.
const SHARDS: usize = 64;

/// The size at which a packed set splits into shards.
const SHARD_AT: usize = 1 << 16;

impl Default for RowSet {
    fn default() -> RowSet {
        RowSet::Packed(vec![KeySet::default()])
    }
}

/// The packed key of a row, if it has one.
#[inline]
fn pack(row: &[u64]) -> Option<u64> {
    match row {
        [a] => Some(*a),
        [a, b] if *a < (1 << 32) && *b < (1 << 32) => Some((a << 32) | b),
        _ => None,
    }
}

#[inline]
fn mix(k: u64) -> u64 {
    let mut h = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

/// The shard of a packed key's hash: bits the shards do not use for their slots (low bits).
#[inline]
fn shard(h: u64, shards: usize) -> usize {
    ((h >> 40) as usize) & (shards - 1)
}

/// Splits a packed set that outgrew one table into [`SHARDS`] tables.
#[cold]
fn split(shards: &mut Vec<KeySet>) {
    let one = std::mem::take(&mut shards[0]);
    let per = one.len() / SHARDS * 2;
    *shards = (0..SHARDS).map(|_| KeySet::with_capacity(per)).collect();
    for k in one.keys() {
        let h = mix(k);
        shards[shard(h, SHARDS)].insert(h, k);
    }
}

/// A set of rows of words, column by column.
#[derive(Clone, Default)]
pub struct Table {
    pub arity: usize,
    pub cols: Vec<Vec<u64>>,
    pub len: usize,
    set: RowSet,
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

    /// Turns a packed set into row numbers (a row that does not pack arrived).
    fn unpack(&mut self) {
        let mut ids = HashTable::with_capacity(self.set_len);
        let cols = &self.cols;
        for r in 0..self.set_len as u32 {
            ids.insert_unique(row_hash(cols, r), r, |&x| row_hash(cols, x));
        }
        self.set = RowSet::Ids(ids);
    }

    /// Adds row `r` (already in the columns, known to be new) to the set.
    fn set_add(&mut self, r: u32) {
        let key = match (&self.set, self.cols.as_slice()) {
            (RowSet::Packed(_), [a]) => pack(&[a[r as usize]]),
            (RowSet::Packed(_), [a, b]) => pack(&[a[r as usize], b[r as usize]]),
            _ => None,
        };
        if key.is_none() && matches!(self.set, RowSet::Packed(_)) {
            self.unpack();
        }
        let cols = &self.cols;
        match &mut self.set {
            RowSet::Packed(shards) => {
                let k = key.expect("packed above");
                let h = mix(k);
                if shards.len() == 1 && shards[0].len() >= SHARD_AT {
                    split(shards);
                }
                let n = shards.len();
                shards[shard(h, n)].insert(h, k);
            }
            RowSet::Ids(ids) => {
                ids.insert_unique(row_hash(cols, r), r, |&x| row_hash(cols, x));
            }
        }
    }

    /// Whether rows appended by [`Table::push_new`] are missing from the set.
    pub fn is_behind(&self) -> bool {
        self.arity > 0 && self.set_len < self.len
    }

    /// Brings the set up to date with rows appended by [`Table::push_new`].
    pub fn catch_up(&mut self) {
        if self.arity == 0 || self.set_len == self.len {
            return;
        }
        if let RowSet::Ids(ids) = &mut self.set {
            let cols = &self.cols;
            ids.reserve(self.len - self.set_len, |&x| row_hash(cols, x));
        }
        for r in self.set_len..self.len {
            self.set_add(r as u32);
            self.set_len = r + 1;
        }
    }

    /// Adds a row unless the table has it; whether it was added.
    #[inline]
    pub fn insert(&mut self, row: &[u64]) -> bool {
        debug_assert_eq!(row.len(), self.arity);
        if self.arity == 0 {
            let added = self.len == 0;
            self.len = 1;
            return added;
        }
        self.catch_up();
        if let RowSet::Packed(shards) = &mut self.set
            && let Some(k) = pack(row)
        {
            let h = mix(k);
            if shards.len() == 1 && shards[0].len() >= SHARD_AT {
                split(shards);
            }
            let n = shards.len();
            if !shards[shard(h, n)].insert(h, k) {
                return false;
            }
            for (c, w) in self.cols.iter_mut().zip(row) {
                c.push(*w);
            }
            self.len += 1;
            self.set_len = self.len;
            return true;
        }
        if matches!(self.set, RowSet::Packed(_)) {
            self.unpack();
        }
        let RowSet::Ids(ids) = &mut self.set else {
            unreachable!("unpacked above")
        };
        let h = hash_words(row.iter().copied());
        let cols = &self.cols;
        if ids.find(h, |&r| row_eq(cols, r, row)).is_some() {
            return false;
        }
        let r = self.len as u32;
        for (c, w) in self.cols.iter_mut().zip(row) {
            c.push(*w);
        }
        let cols = &self.cols;
        ids.insert_unique(h, r, |&x| row_hash(cols, x));
        self.len += 1;
        self.set_len = self.len;
        true
    }

    /// Adds a packed row to the set only, when the set is packed and caught up: whether it
    /// was new, or `None` when the row must go through [`Table::insert`]. The caller appends
    /// the rows that were new to the columns later ([`Table::append_rows`]), in order, before
    /// anything else reads or changes the table.
    #[inline]
    pub fn insert_deferred(&mut self, row: &[u64]) -> Option<bool> {
        if self.set_len != self.len {
            return None;
        }
        let RowSet::Packed(shards) = &mut self.set else {
            return None;
        };
        let k = pack(row)?;
        let h = mix(k);
        if shards.len() == 1 && shards[0].len() >= SHARD_AT {
            split(shards);
        }
        let n = shards.len();
        Some(shards[shard(h, n)].insert(h, k))
    }

    /// Asks the processor to fetch the set slot a row's insert will read (a hint only).
    #[inline]
    pub fn prefetch(&self, row: &[u64]) {
        if let RowSet::Packed(shards) = &self.set
            && let Some(k) = pack(row)
        {
            let h = mix(k);
            shards[shard(h, shards.len())].prefetch(h);
        }
    }

    /// Appends rows `from..` of another table (rows already in this table's set, added by
    /// [`Table::insert_deferred`]) to the columns.
    pub fn append_rows(&mut self, other: &Table, from: usize) {
        if from >= other.len {
            return;
        }
        for (c, o) in self.cols.iter_mut().zip(&other.cols) {
            c.extend_from_slice(&o[from..other.len]);
        }
        self.len += other.len - from;
        self.set_len = self.len;
    }

    /// Whether the table has a row; the set must be caught up ([`Table::catch_up`]).
    pub fn contains(&self, row: &[u64]) -> bool {
        if self.arity == 0 {
            return self.len > 0;
        }
        debug_assert_eq!(self.set_len, self.len, "a lookup in a set that is behind");
        match &self.set {
            RowSet::Packed(shards) => match pack(row) {
                Some(k) => {
                    let h = mix(k);
                    shards[shard(h, shards.len())].contains(h, k)
                }
                // A row that does not pack is not in a set of rows that all do.
                None => false,
            },
            RowSet::Ids(ids) => {
                let h = hash_words(row.iter().copied());
                ids.find(h, |&r| row_eq(&self.cols, r, row)).is_some()
            }
        }
    }

    /// Empties the table, keeping its allocations for the rows to come (loops clear and
    /// refill the same tables every iteration).
    pub fn clear(&mut self) {
        for c in &mut self.cols {
            c.clear();
        }
        match &mut self.set {
            RowSet::Packed(shards) => shards.iter_mut().for_each(KeySet::clear),
            RowSet::Ids(_) => self.set = RowSet::default(),
        }
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
            // Rows of a set are distinct: copy the columns, then build the set.
            self.cols.clone_from(&other.cols);
            self.len = other.len;
            self.set = RowSet::default();
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
///
/// An index over one column of inline integers in a small range (node and entity ids) keeps
/// its heads in an array instead, indexed by the integer: a probe is a subtraction and a load.
/// A later row outside the range turns it into the hash form.
#[derive(Clone, Default)]
pub struct Index {
    pub key: Vec<usize>,
    heads: HashTable<u32>,
    dense: Option<Dense>,
    pub next: Vec<u32>,
    done: usize,
    epoch: u64,
}

/// Heads by integer key: `heads[(word - base) / 2]`.
#[derive(Clone)]
struct Dense {
    base: u64,
    heads: Vec<u32>,
}

impl Dense {
    #[inline]
    fn slot(&self, w: u64) -> Option<usize> {
        let d = w.wrapping_sub(self.base);
        (d & 1 == 0 && ((d >> 1) as usize) < self.heads.len()).then_some((d >> 1) as usize)
    }
}

impl Index {
    pub fn new(key: Vec<usize>) -> Index {
        Index {
            key,
            ..Index::default()
        }
    }

    /// The dense form's slot count, base word and heads (`(0, 0, null)` for a hash index), for
    /// compiled probes that read the array themselves.
    pub fn dense_parts(&self) -> (u64, u64, u64) {
        match &self.dense {
            Some(d) => (d.heads.len() as u64, d.base, d.heads.as_ptr() as u64),
            None => (0, 0, 0),
        }
    }

    /// Whether the index covers every row of the table as it is.
    pub fn is_synced(&self, t: &Table) -> bool {
        self.epoch == t.epoch && self.done == t.len
    }

    /// Indexes the rows the table gained since the last call (all of them after a reset).
    pub fn sync(&mut self, t: &Table) {
        if self.epoch != t.epoch || self.done > t.len {
            self.heads.clear();
            self.dense = None;
            self.next.clear();
            self.done = 0;
            self.epoch = t.epoch;
        }
        if self.done == 0 && t.len > 0 && self.key.len() == 1 {
            self.dense = dense_range(&t.cols[self.key[0]][..t.len]).map(|(base, span)| Dense {
                base,
                heads: vec![NONE; span],
            });
        }
        if let Some(d) = &mut self.dense {
            let col = &t.cols[self.key[0]];
            let mut r = self.done;
            while r < t.len {
                let Some(i) = d.slot(col[r]) else { break };
                self.next.push(d.heads[i]);
                d.heads[i] = r as u32;
                r += 1;
            }
            self.done = r;
            if r == t.len {
                return;
            }
            // A key outside the range: move the heads into the hash form and go on there.
            let d = self.dense.take().expect("dense above");
            let cols = &t.cols;
            let c = self.key[0];
            for &h in d.heads.iter().filter(|&&h| h != NONE) {
                let kh = hash_words(std::iter::once(cols[c][h as usize]));
                self.heads
                    .insert_unique(kh, h, |&x| hash_words(std::iter::once(cols[c][x as usize])));
            }
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
        if let Some(d) = &self.dense {
            return d.slot(key[0]).map_or(NONE, |i| d.heads[i]);
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

/// The base word and the number of slots of a dense index over these key words, when they
/// are all inline integers and their range is small next to their number.
fn dense_range(words: &[u64]) -> Option<(u64, usize)> {
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for &w in words {
        if w & 1 != 0 {
            return None;
        }
        lo = lo.min(w as i64);
        hi = hi.max(w as i64);
    }
    let span = ((hi as i128 - lo as i128) / 2 + 1) as u128;
    // Room for keys a little past the range, for tables that grow.
    let limit = (4 * words.len()).max(1024) as u128;
    (span <= limit).then(|| (lo as u64, (span as usize) * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts rows (a `true` after a row says it must be new), then checks membership of
    /// every row inserted and of a row never inserted.
    fn check(arity: usize, rows: &[(&[u64], bool)]) {
        let mut t = Table::new(arity);
        for (r, new) in rows {
            assert_eq!(t.insert(r), *new, "insert {r:?}");
        }
        for (r, _) in rows {
            assert!(t.contains(r), "contains {r:?}");
        }
        let absent = vec![7777u64; arity];
        assert!(!t.contains(&absent));
        let distinct = rows.iter().filter(|(_, n)| *n).count();
        assert_eq!(t.len, distinct);
    }

    #[test]
    fn packed_rows() {
        check(2, &[(&[2, 4], true), (&[4, 2], true), (&[2, 4], false)]);
        check(
            1,
            &[(&[u64::MAX], true), (&[3], true), (&[u64::MAX], false)],
        );
    }

    #[test]
    fn a_large_packed_set_splits_into_shards() {
        let mut t = Table::new(2);
        for i in 0..(SHARD_AT as u64 + 5000) {
            assert!(t.insert(&[i * 2, i * 4]));
        }
        assert!(!t.insert(&[2, 4]));
        assert!(t.contains(&[(SHARD_AT as u64 + 10) * 2, (SHARD_AT as u64 + 10) * 4]));
        assert!(!t.contains(&[2, 6]));
        t.insert(&[u64::MAX - 1, 0]);
        assert!(t.contains(&[4, 8]) && !t.insert(&[4, 8]));
    }

    #[test]
    fn a_wide_word_unpacks_the_set() {
        check(
            2,
            &[
                (&[2, 4], true),
                (&[u64::MAX - 1, 4], true),
                (&[2, 4], false),
                (&[u64::MAX - 1, 4], false),
                (&[6, 8], true),
            ],
        );
        check(
            3,
            &[(&[1, 2, 3], true), (&[1, 2, 3], false), (&[3, 2, 1], true)],
        );
    }

    #[test]
    fn pushed_rows_join_the_set_before_a_lookup() {
        let mut t = Table::new(2);
        t.insert(&[2, 4]);
        t.push_new(&[6, 8]);
        t.push_new(&[u64::MAX - 1, 8]);
        t.catch_up();
        assert!(t.contains(&[6, 8]) && t.contains(&[u64::MAX - 1, 8]) && t.contains(&[2, 4]));
        assert!(!t.insert(&[6, 8]));
        let mut u = Table::new(2);
        u.extend_from(&t);
        assert!(u.contains(&[u64::MAX - 1, 8]) && u.len == 3);
        u.extend_from(&t);
        assert_eq!(u.len, 3);
    }

    #[test]
    fn an_index_follows_appends_and_resets() {
        let mut t = Table::new(2);
        for r in [[2u64, 4], [2, 6], [4, 6]] {
            t.insert(&r);
        }
        let mut ix = Index::new(vec![0]);
        ix.sync(&t);
        let chain = |ix: &Index, t: &Table, k: u64| {
            let mut out = Vec::new();
            let mut r = ix.probe(t, &[k]);
            while r != NONE {
                out.push(t.cols[1][r as usize]);
                r = ix.next[r as usize];
            }
            out
        };
        assert_eq!(chain(&ix, &t, 2), vec![6, 4]);
        t.insert(&[2, 8]);
        ix.sync(&t);
        assert_eq!(chain(&ix, &t, 2), vec![8, 6, 4]);
        t.clear();
        t.insert(&[2, 10]);
        ix.sync(&t);
        assert_eq!(chain(&ix, &t, 2), vec![10]);
        assert_eq!(chain(&ix, &t, 4), Vec::<u64>::new());
        // Keys far outside the dense range, and an interned (odd) word: the hash form.
        t.insert(&[2_000_000, 12]);
        t.insert(&[7, 14]);
        t.insert(&[2, 16]);
        ix.sync(&t);
        assert_eq!(chain(&ix, &t, 2), vec![16, 10]);
        assert_eq!(chain(&ix, &t, 2_000_000), vec![12]);
        assert_eq!(chain(&ix, &t, 7), vec![14]);
        assert_eq!(chain(&ix, &t, 9), Vec::<u64>::new());
    }
}
