//! pomo-stdlib: the built-in functions, predicates and aggregates that queries may call.
//!
//! Issue 2 needs their *signatures*: the compiler resolves a name written in a query (EDN names
//! such as `clojure.string/starts-with?`, `+`, `count-distinct`) to one canonical snake_case name
//! (`starts_with`, `add`, `count_distinct`) that PomoLogic and PomoRA text print, checks arity,
//! and knows whether a call may be folded at compile time. Implementations arrive with issue 3 and
//! live beside these signatures. The table is the single place that lists the built-ins.

pub mod signatures;

pub use signatures::{Arity, Builtin, Kind, builtin, builtin_by_edn_name, builtins};

/// The version of the stdlib that compiled artifacts record (DESIGN §8).
pub const STDLIB_VERSION: &str = env!("CARGO_PKG_VERSION");
