//! Types shared by every layer below the front ends: values and the serializable plan types
//! (PomoRA, flow and kernel plans).
//!
//! This crate sits under `pomo-runtime`, `pomo-stdlib` and `pomo-compiler` so that the stdlib can
//! implement functions over [`Value`] while the runtime calls the stdlib, and the compiler never
//! pulls in a backend. It has no dependency heavier than serde.

pub mod flow;
pub mod kernel;
pub mod ra;
pub mod ra_print;
pub mod value;

pub use value::Value;
