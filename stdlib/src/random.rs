//! A small per-thread xorshift64* generator for `rand-int` and the `rand`/`sample` aggregates.
//!
//! Random built-ins are not `pure` in the table, so nothing folds or caches them; their answers
//! need to vary, not to be cryptographically strong. Each thread seeds its generator once from
//! the standard library's per-process random hash keys, which avoids a dependency.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // xorshift must never hold zero, hence the `| 1`.
    RandomState::new().hash_one(0x5eed_u64) | 1
}

/// The next 64 random bits.
pub(crate) fn next_u64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// A uniform double in [0, 1).
pub(crate) fn unit() -> f64 {
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A uniform index below `n` (which must be positive).
pub(crate) fn below(n: usize) -> usize {
    // The modulo bias is at most n / 2^64, far below anything a query could observe.
    (next_u64() % n as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_stays_in_range() {
        for _ in 0..1000 {
            let x = unit();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn below_reaches_every_index() {
        let mut seen = [false; 4];
        for _ in 0..1000 {
            seen[below(4)] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
