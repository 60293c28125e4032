//! The contract between compiled kernels and the runtime that calls them: how values are
//! encoded in 64-bit words, the parameter block a kernel reads, and the helpers it calls.
//!
//! **Words.** Every value is one `u64`. An integer `i` with `-2^62 <= i < 2^62` is `i << 1`
//! (even words; signed order of the words is the integers' order); every other value is
//! `id << 1 | 1` with `id` its number in the run's interner. The encoding is canonical: two
//! values are equal exactly when their words are, so joins, deduplication and `Bind::Check`
//! compare words.
//!
//! **Parameters.** A kernel is `extern "C" fn(ctx, params) -> i64` (0: done, -1: a helper
//! failed and left its error in the context). `params` points at one word per [`Param`] of the
//! kernel's [`layout`], filled by the driver just before the call: table lengths, column base
//! pointers, index chain pointers and encoded constants. Compiled code therefore holds no data
//! and is reused for every run of the same kernel.
//!
//! **Helpers.** Index lookups, inserts and stdlib calls go through the `extern "C"` functions
//! whose signatures are listed in [`HELPERS`]; each takes the opaque context first.

use pomo_types::Value;
use pomo_types::kernel::*;

/// The word for "no row" in index chains and probe results.
pub const NONE: u32 = u32::MAX;

/// The word of an integer, when it fits inline.
pub fn int_word(i: i64) -> Option<u64> {
    if (-(1i64 << 62)..(1i64 << 62)).contains(&i) {
        Some((i << 1) as u64)
    } else {
        None
    }
}

/// One parameter of a kernel.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// The number of rows of a slot.
    Len(SlotId),
    /// The base pointer of a slot's column (`*const u64`, one word per row).
    Col(SlotId, usize),
    /// The chain of an index (`*const u32`): for a row, the next row with the same key, or
    /// [`NONE`].
    Next(IndexId),
    /// A constant that is not an inline integer, encoded.
    Const(Value),
    /// For an index over one column kept as an array (small integer keys): the number of
    /// array slots (0 when the index is a hash index), the word of slot 0, and the array of
    /// first rows (`*const u32`). A probe then reads `heads[(key - base) / 2]` itself when the
    /// key is even and in range, and calls `pomo_probe` only for a hash index.
    DenseLen(IndexId),
    DenseBase(IndexId),
    DenseHeads(IndexId),
}

/// The parameters of a kernel, in order: for each operation, what it reads.
pub fn layout(plan: &KernelPlan, k: KernelId) -> Vec<Param> {
    let kernel = &plan.kernels[k.0 as usize];
    let mut out: Vec<Param> = Vec::new();
    let add = |p: Param, out: &mut Vec<Param>| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    let term = |t: &Term, out: &mut Vec<Param>| {
        if let Term::Const(v) = t
            && !matches!(v, Value::Int(i) if int_word(*i).is_some())
            && !out.contains(&Param::Const(v.clone()))
        {
            out.push(Param::Const(v.clone()));
        }
    };
    let binds = |slot: SlotId, cols: &[Bind], out: &mut Vec<Param>| {
        for (c, b) in cols.iter().enumerate() {
            match b {
                Bind::Skip => {}
                Bind::Store(_) => {
                    if !out.contains(&Param::Col(slot, c)) {
                        out.push(Param::Col(slot, c));
                    }
                }
                Bind::Check(t) => {
                    if !out.contains(&Param::Col(slot, c)) {
                        out.push(Param::Col(slot, c));
                    }
                    if let Term::Const(v) = t
                        && !matches!(v, Value::Int(i) if int_word(*i).is_some())
                        && !out.contains(&Param::Const(v.clone()))
                    {
                        out.push(Param::Const(v.clone()));
                    }
                }
            }
        }
    };
    for op in &kernel.ops {
        match op {
            Op::Scan { slot, cols } => {
                add(Param::Len(*slot), &mut out);
                binds(*slot, cols, &mut out);
            }
            Op::Probe { index, key, cols } => {
                let slot = plan.indexes[index.0 as usize].slot;
                add(Param::Next(*index), &mut out);
                if key.len() == 1 {
                    add(Param::DenseLen(*index), &mut out);
                    add(Param::DenseBase(*index), &mut out);
                    add(Param::DenseHeads(*index), &mut out);
                }
                key.iter().for_each(|t| term(t, &mut out));
                binds(slot, cols, &mut out);
            }
            Op::Exists { key, .. } => key.iter().for_each(|t| term(t, &mut out)),
            Op::Same(a, b) => {
                term(a, &mut out);
                term(b, &mut out);
            }
            Op::Filter { disjuncts } => {
                for l in disjuncts.iter().flatten() {
                    if let Some((_, a, b)) = &l.cmp {
                        term(a, &mut out);
                        term(b, &mut out);
                    }
                    for t in &plan.calls[l.call.0 as usize].args {
                        term(t, &mut out);
                    }
                }
            }
            Op::Map { call, .. } => {
                for t in &plan.calls[call.0 as usize].args {
                    term(t, &mut out);
                }
            }
        }
    }
    for t in &kernel.emit {
        term(t, &mut out);
    }
    out
}

/// The helpers compiled kernels call, by symbol name. All take the context pointer first.
///
/// - `pomo_probe(ctx, index: u32, key: *const u64) -> u32`: the first row of the index's slot
///   whose key columns equal `key` (then follow `Next`), or [`NONE`].
/// - `pomo_exists(ctx, index: u32, key: *const u64) -> u32`: 1 when a row has the key, else 0
///   (an index over no columns: whether the slot has a row).
/// - `pomo_insert(ctx, slot: u32, row: *const u64) -> u32`: adds a row to the kernel's target
///   slot unless it is there. The runtime may queue the row and insert it later in the same
///   kernel run (kernels never read their target), so the result says nothing about the row.
/// - `pomo_test(ctx, call: u32, args: *const u64) -> i32`: evaluates a test call on the words
///   of its arguments: 1 holds, 0 does not, -1 failed.
/// - `pomo_map(ctx, call: u32, buf: u32, args: *const u64) -> *const u64`: evaluates a map
///   call; the result is `[n, row0…, row1…]` (each row as many words as the op has `outs`),
///   valid until the next call with the same `buf` (the op's position in its kernel), or null
///   when the call failed.
pub const HELPERS: &[&str] = &[
    "pomo_probe",
    "pomo_exists",
    "pomo_insert",
    "pomo_test",
    "pomo_map",
];

/// A compiled kernel's entry point.
pub type KernelFn = unsafe extern "C" fn(ctx: *mut std::ffi::c_void, params: *const u64) -> i64;
