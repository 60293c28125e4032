//! pomo-compiler: the front ends, the PomoLogic IR and its checks, stratification, lowering to
//! PomoRA and the optimizer pipeline (ARCHITECTURE §1, §4–§6).
//!
//! Every stage is a pure function from one value to the next and every value prints
//! deterministically; [`driver`] runs them and prints any of them by name. The compiler depends on no backend.

// Diagnostics are large values returned on cold paths; boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod driver;
pub mod edn;
pub mod flow;
pub mod kernel;
pub mod logic;
pub mod pass;
pub mod ra;
pub mod sql;
pub mod strata;

pub use driver::{Compilation, Input, Stage, compile};
