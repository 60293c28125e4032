//! pomo: a query-compiler toolchain. Queries in Datomic-style EDN Datalog (and PomoLogic text)
//! compile to one Datalog IR (PomoLogic), are stratified and optimized into relational-algebra
//! plans (PomoRA), and run on the backends of `pomo-runtime` (from issue 3 on).
//!
//! This facade re-exports the crates and offers the one-call entry points the CLI uses.
//!
//! ```
//! use pomo::{Input, Stage, explain, Options};
//! let q = "[:find ?n :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 30)]]";
//! let text = explain(&Input::Edn { query: q, rules: None }, Stage::Ra, &Options::default()).unwrap();
//! // The test moved into the scan of the age attribute.
//! assert!(text.contains("select[a = :person/age and v > 30](datom)"));
//! ```

pub mod conformance;
pub mod edn_data;
pub mod query;
pub mod slt;
pub mod sql;

pub use pomo_compiler as compiler;
pub use pomo_compiler::explain::{
    Ast, Compilation, Input, Options, Stage, compile, explain, lower, parse, plan, sources,
    stratify,
};
pub use pomo_grammar as grammar;
pub use pomo_grammar::diag::{Sources, render};
pub use pomo_runtime as runtime;
pub use pomo_stdlib as stdlib;
pub use pomo_types as types;

/// How a source text is read, by file name: `.edn` is an EDN query, `.pomo` PomoLogic.
pub fn input_kind(path: &str) -> Option<InputKind> {
    if path.ends_with(".edn") {
        Some(InputKind::Edn)
    } else if path.ends_with(".pomo") {
        Some(InputKind::Logic)
    } else {
        None
    }
}

/// The language of a source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Edn,
    Logic,
}

/// Guesses the language of a query given inline (`-e`): EDN queries are vectors or maps.
pub fn guess_kind(text: &str) -> InputKind {
    let t = text.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        InputKind::Edn
    } else {
        InputKind::Logic
    }
}
