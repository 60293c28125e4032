//! The engine room: what every backend (the reference evaluator, the JIT, the dataflow engine)
//! shares, so that the backends and the evaluator that checks them visibly run the same code
//! for everything that is not plan evaluation proper. [`env`] holds the environment a plan reads
//! and the relation value, [`views`] loads base relations, store views and inputs, [`scalar`]
//! evaluates operands, formulas, calls and map bindings, and [`aggregate`] the aggregates of a
//! group. Backends reach all of it through a [`Context`] over their [`Env`]; nothing here
//! knows about plans' statements or expressions.

mod aggregate;
mod env;
mod scalar;
mod views;

pub(crate) use env::Context;
pub use env::{Env, MAX_ITERATIONS, Relation, Source};
// Only the JIT and the dataflow engine read views outside this module.
#[cfg_attr(not(any(feature = "dataflow", feature = "jit")), allow(unused_imports))]
pub(crate) use views::{datom_relation, resolve_lookup_ref};
