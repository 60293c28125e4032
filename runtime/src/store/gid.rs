//! Global entity ids: what a fact's content names an entity by, so that the same fact has the
//! same CID on every replica.
//!
//! Inside a store, indexes and queries number entities with compact local integers (`e`,
//! DataScript-style: `max-eid + 1` for a new entity, `TX0 + t` for a transaction, `IDENT0 + n`
//! for an attribute). Each local entity has a 128-bit global id (`Gid`) kept in the store's
//! `gids` table (and its inverse in `eids`); a fact's block encodes the global ids of its
//! entity and, for a reference value, of the entity it points at. Global ids are minted
//! without coordination:
//!
//! * a user or transaction entity gets 128 random bits when this replica first writes it;
//! * an attribute entity (one that asserts `:db/ident k`) gets the first 16 bytes of
//!   `sha2-256("pomo/ident\0" ++ k)`, so replicas that define the same attribute
//!   independently write the same schema facts;
//! * an entity first seen in a merged fact keeps the global id the fact names and gets a new
//!   local number.

use multihash_codetable::{Code, MultihashDigest};
use std::fmt;

/// A global entity id: 128 bits, random or derived from an ident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Gid(pub [u8; 16]);

impl Gid {
    /// 128 fresh random bits from the operating system.
    pub fn random() -> Gid {
        let mut b = [0u8; 16];
        // The OS random source failing is not something a store can work around; fall back to
        // a hash of the time and a counter so that ids stay distinct within the process.
        if getrandom::fill(&mut b).is_err() {
            use std::sync::atomic::{AtomicU64, Ordering};
            static N: AtomicU64 = AtomicU64::new(0);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let mut seed = now.to_be_bytes().to_vec();
            seed.extend_from_slice(&N.fetch_add(1, Ordering::Relaxed).to_be_bytes());
            seed.extend_from_slice(&std::process::id().to_be_bytes());
            b.copy_from_slice(&Code::Sha2_256.digest(&seed).digest()[..16]);
        }
        Gid(b)
    }

    /// A global id derived from a seed and a local number: reproducible ids for tests that
    /// compare the CIDs of two stores written alike.
    pub fn seeded(seed: u64, e: i64) -> Gid {
        let mut s = b"pomo/seeded\0".to_vec();
        s.extend_from_slice(&seed.to_be_bytes());
        s.extend_from_slice(&e.to_be_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&Code::Sha2_256.digest(&s).digest()[..16]);
        Gid(b)
    }

    /// The global id of the attribute entity that asserts `:db/ident ident` (no colon).
    pub fn of_ident(ident: &str) -> Gid {
        let mut seed = b"pomo/ident\0".to_vec();
        seed.extend_from_slice(ident.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&Code::Sha2_256.digest(&seed).digest()[..16]);
        Gid(b)
    }

    /// Parses the 32 hexadecimal digits [`Gid`]'s `Display` writes.
    pub fn parse(s: &str) -> Option<Gid> {
        let s = s.trim();
        if s.len() != 32 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut b = [0u8; 16];
        for (i, out) in b.iter_mut().enumerate() {
            *out = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Gid(b))
    }

    pub fn from_slice(b: &[u8]) -> Option<Gid> {
        Some(Gid(b.try_into().ok()?))
    }
}

impl fmt::Display for Gid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_back() {
        let g = Gid::random();
        assert_eq!(Gid::parse(&g.to_string()), Some(g));
        assert_ne!(Gid::random(), Gid::random());
        assert_eq!(Gid::of_ident("person/name"), Gid::of_ident("person/name"));
        assert_ne!(Gid::of_ident("person/name"), Gid::of_ident("person/age"));
        assert_eq!(Gid::parse("xyz"), None);
    }
}
