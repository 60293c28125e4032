//! pomo-runtime: executes plans over the store. Issue 2 only re-exports the shared value and plan
//! types; the store, the reference evaluator and the dataflow and JIT backends (behind the
//! `dataflow` and `jit` features) come with issues 3 to 5. It never depends on the compiler, so an
//! app that runs precompiled artifacts needs only this crate and `pomo-stdlib`.

#[cfg(feature = "dataflow")]
pub mod dataflow;
pub mod pull;
pub mod reference;
pub mod results;
pub mod store;

pub use pomo_types::{Value, ra, value};
