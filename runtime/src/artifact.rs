//! Compiled artifacts (ARCHITECTURE §8): a query compiled ahead of time, as one canonical DAG-CBOR
//! block named by its CID, in a CARv1 file of that one block.
//!
//! An artifact holds the optimized PomoRA plan and the flow and kernel plans lowered from it
//! (so every backend runs it without the compiler), the input signature (what each `:in`
//! position takes), and the stdlib version the plan's built-ins were resolved against.
//! Encoding is deterministic: the same source compiled by the same pomo gives the same bytes,
//! hence the same CID. Loading checks the CAR framing, that the block's data hashes to its CID,
//! the format and stdlib versions, and that the plans are consistent (the kernel plan
//! validates); a truncated or edited file is refused with a message that says which check
//! failed.

use crate::store::{cid_of, read_single_block_car, single_block_car};
use pomo_types::flow::FlowPlan;
use pomo_types::kernel::KernelPlan;
use pomo_types::ra::Plan;
use serde::{Deserialize, Serialize};

/// The artifact format this runtime reads and writes. Format 2: a store view is declared with
/// its own relation kind (`RelKind::View`) instead of as a base relation named `datom`.
pub const FORMAT: u32 = 2;

/// What one `:in` position takes, in order (defined with the plan types, which the compiler
/// returns it with; re-exported here, its older home).
pub use pomo_types::ra::InputSlot;

/// A compiled query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub format: u32,
    /// The `pomo-stdlib` version the plan was compiled against.
    pub stdlib: String,
    /// The source language: `edn`, `pomo` or `sql`.
    pub language: String,
    pub inputs: Vec<InputSlot>,
    pub plan: Plan,
    pub flow: FlowPlan,
    pub kernel: KernelPlan,
}

/// Why an artifact could not be loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct ArtifactError {
    pub message: String,
}

impl std::fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ArtifactError {}

fn err(message: impl Into<String>) -> ArtifactError {
    ArtifactError {
        message: message.into(),
    }
}

impl Artifact {
    /// The canonical DAG-CBOR block and its CID (CIDv1, dag-cbor, sha2-256).
    pub fn block(&self) -> Result<(String, Vec<u8>), ArtifactError> {
        let data = serde_ipld_dagcbor::to_vec(self)
            .map_err(|e| err(format!("the artifact does not encode as DAG-CBOR: {e}")))?;
        Ok((cid_of(&data).to_string(), data))
    }

    /// The artifact file: a CARv1 file whose one block is the artifact; and its CID.
    pub fn to_file_bytes(&self) -> Result<(String, Vec<u8>), ArtifactError> {
        let data = serde_ipld_dagcbor::to_vec(self)
            .map_err(|e| err(format!("the artifact does not encode as DAG-CBOR: {e}")))?;
        let cid = cid_of(&data);
        Ok((cid.to_string(), single_block_car(&cid, &data)))
    }

    /// Reads and checks an artifact file's bytes; returns the artifact and its CID.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<(Artifact, String), ArtifactError> {
        let (cid, data) = read_single_block_car(bytes)
            .map_err(|m| err(format!("not a valid artifact file: {m}")))?;
        // The format version comes first, so that an artifact of another format says so
        // instead of failing to decode.
        #[derive(Deserialize)]
        struct Head {
            format: u32,
            stdlib: String,
        }
        let head: Head = serde_ipld_dagcbor::from_slice(data)
            .map_err(|e| err(format!("the artifact block does not decode: {e}")))?;
        if head.format != FORMAT {
            return Err(err(format!(
                "artifact format {} is not supported (this runtime reads format {FORMAT})",
                head.format
            )));
        }
        if head.stdlib != pomo_stdlib::STDLIB_VERSION {
            return Err(err(format!(
                "the artifact needs stdlib {}, this runtime has stdlib {}: recompile it",
                head.stdlib,
                pomo_stdlib::STDLIB_VERSION
            )));
        }
        let a: Artifact = serde_ipld_dagcbor::from_slice(data)
            .map_err(|e| err(format!("the artifact block does not decode: {e}")))?;
        a.kernel
            .validate()
            .map_err(|m| err(format!("the artifact's kernel plan is invalid: {m}")))?;
        Ok((a, cid.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pomo_types::ra::BindKind;

    fn sample() -> Artifact {
        Artifact {
            format: FORMAT,
            stdlib: pomo_stdlib::STDLIB_VERSION.to_string(),
            language: "pomo".into(),
            inputs: vec![
                InputSlot::Source("$".into()),
                InputSlot::Relation {
                    name: "in1".into(),
                    kind: BindKind::Scalar,
                },
            ],
            plan: Plan::default(),
            flow: FlowPlan::default(),
            kernel: KernelPlan::default(),
        }
    }

    #[test]
    fn an_artifact_round_trips_with_a_stable_cid() {
        let a = sample();
        let (cid, bytes) = a.to_file_bytes().unwrap();
        assert_eq!(a.to_file_bytes().unwrap().1, bytes, "deterministic bytes");
        assert!(cid.starts_with("bafyrei"), "{cid}");
        let (back, cid2) = Artifact::from_file_bytes(&bytes).unwrap();
        assert_eq!(back, a);
        assert_eq!(cid2, cid);
        assert_eq!(a.block().unwrap().0, cid);
    }

    #[test]
    fn truncated_edited_or_foreign_files_are_refused() {
        let (_, bytes) = sample().to_file_bytes().unwrap();
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            let e = Artifact::from_file_bytes(&bytes[..cut]).unwrap_err();
            assert!(e.message.starts_with("not a valid artifact file"), "{e}");
        }
        let mut edited = bytes.clone();
        let last = edited.len() - 3;
        edited[last] ^= 0x01;
        let e = Artifact::from_file_bytes(&edited).unwrap_err();
        assert!(e.message.contains("does not match its data"), "{e}");
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Artifact::from_file_bytes(&longer).is_err());
        let mut other = sample();
        other.stdlib = "0.0.0-other".into();
        let (_, b) = other.to_file_bytes().unwrap();
        let e = Artifact::from_file_bytes(&b).unwrap_err();
        assert!(e.message.contains("needs stdlib 0.0.0-other"), "{e}");
        let mut newer = sample();
        newer.format = FORMAT + 1;
        let (_, b) = newer.to_file_bytes().unwrap();
        let e = Artifact::from_file_bytes(&b).unwrap_err();
        let unsupported = format!("format {} is not supported", FORMAT + 1);
        assert!(e.message.contains(&unsupported), "{e}");
    }
}
