//! Block identity: how a CID is computed for a block and how a received block is checked against
//! the CID it claims.
//!
//! pomo's blocks are CIDv1 with multihash sha2-256 and codec dag-cbor (commits and facts) or raw
//! (accepted for facts that are opaque bytes). Every block that crosses a trust boundary — read
//! from a CAR file or received from a peer — goes through [`verify_block`] before anything else
//! looks at it, so the rest of the crate may assume that a CID names exactly the bytes it holds.

use cid::Cid;
use multihash_codetable::{Code, MultihashDigest};

/// Multicodec of DAG-CBOR blocks (commits and structured facts).
pub const DAG_CBOR: u64 = 0x71;
/// Multicodec of raw blocks (opaque bytes).
pub const RAW: u64 = 0x55;
/// Multihash code of sha2-256, the only hash pomo accepts.
pub const SHA2_256: u64 = 0x12;

/// The CIDv1 of `data` under `codec`, hashed with sha2-256.
pub fn cid_of(codec: u64, data: &[u8]) -> Cid {
    Cid::new_v1(codec, Code::Sha2_256.digest(data))
}

/// Checks that `cid` is a CID pomo accepts (v1, dag-cbor or raw, sha2-256) and that it names
/// exactly `data`. The error says which of these failed, so a corrupt file or a lying peer is
/// diagnosed rather than just refused.
pub fn verify_block(cid: &Cid, data: &[u8]) -> Result<(), String> {
    if cid.version() != cid::Version::V1 {
        return Err(format!("block {cid}: only CIDv1 is accepted"));
    }
    if cid.codec() != DAG_CBOR && cid.codec() != RAW {
        return Err(format!(
            "block {cid}: codec {:#x} is neither dag-cbor (0x71) nor raw (0x55)",
            cid.codec()
        ));
    }
    let hash = cid.hash();
    if hash.code() != SHA2_256 || hash.size() != 32 {
        return Err(format!(
            "block {cid}: multihash {:#x} of {} bytes is not sha2-256",
            hash.code(),
            hash.size()
        ));
    }
    let actual = Code::Sha2_256.digest(data);
    if actual.digest() != hash.digest() {
        return Err(format!(
            "block {cid}: its {} bytes hash to {}, not to the CID's digest",
            data.len(),
            Cid::new_v1(cid.codec(), actual)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_verifies_against_its_own_cid_only() {
        let cid = cid_of(DAG_CBOR, b"\xa0");
        assert!(verify_block(&cid, b"\xa0").is_ok());
        let err = verify_block(&cid, b"\xa1").unwrap_err();
        assert!(err.contains("hash to"), "{err}");
    }

    #[test]
    fn foreign_codecs_and_hashes_are_refused() {
        let cid = Cid::new_v1(0x70, Code::Sha2_256.digest(b"x"));
        assert!(verify_block(&cid, b"x").unwrap_err().contains("codec"));
        let cid = Cid::new_v1(RAW, Code::Sha2_512.digest(b"x"));
        assert!(verify_block(&cid, b"x").unwrap_err().contains("sha2-256"));
        let v0 = Cid::new_v0(Code::Sha2_256.digest(b"x")).unwrap();
        assert!(verify_block(&v0, b"x").unwrap_err().contains("CIDv1"));
    }
}
