//! What only the command line needs beside the `pomo` library: the conformance runner behind
//! `pomo-conformance` and the tests ([`conformance`], the EDN corpora; [`slt`], sqllogictest
//! files through the `sqllogictest` crate). The binaries are `src/main.rs` (`pomo`) and
//! `src/bin/pomo-conformance.rs`.

pub mod conformance;
pub mod slt;
