//! pomo-runtime: executes plans over the store: the content-addressed store, the engine room every
//! backend shares (environment, view loading, formulas, aggregates), the reference
//! evaluator of PomoRA plans, the incremental dataflow engine for flow plans (feature
//! `dataflow`), the JIT backend for kernel plans (feature `jit`: Cranelift), pull and result
//! shaping. It never depends on the compiler, so an app that runs precompiled plans needs only this crate
//! and `pomo-stdlib`.

pub mod artifact;
#[cfg(feature = "dataflow")]
pub mod dataflow;
pub mod engine;
#[cfg(feature = "jit")]
pub mod jit;
pub mod pull;
pub mod query;
pub mod reference;
pub mod results;
pub mod store;

pub use pomo_types::{Value, ra, value};
