//! pomo: a query-compiler toolchain. Queries in Datomic-style EDN Datalog (and PomoLogic text)
//! compile to one Datalog IR (PomoLogic), are stratified and optimized into relational-algebra
//! plans (PomoRA), and run on the backends of `pomo-runtime` (from issue 3 on).
//!
//! This facade re-exports the crates and offers the one-call entry points apps and the CLI
//! (the `pomo-cli` crate) use. It carries no command-line or test-harness dependency.
//!
//! ```
//! use pomo::{Input, Stage, explain, Options};
//! let q = "[:find ?n :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 30)]]";
//! let text = explain(&Input::Edn { query: q, rules: None }, Stage::Ra, &Options::default()).unwrap();
//! // The test moved into the scan of the age attribute.
//! assert!(text.contains("select[a = :person/age and v > 30](datom)"));
//! ```

pub mod api;
pub mod edn_data;
pub mod golden;
pub mod query;
pub mod replica;
pub mod sql;

pub use pomo_compiler as compiler;
pub use pomo_compiler::driver::{
    Ast, Compilation, Input, Options, Stage, compile, explain, lower, parse, plan, sources,
    stratify,
};
pub use pomo_grammar as grammar;
pub use pomo_grammar::diag::{Sources, render};
pub use pomo_runtime as runtime;
pub use pomo_stdlib as stdlib;
pub use pomo_types as types;

/// How a source text is read, by file name: `.edn` is an EDN query, `.pomo` PomoLogic, `.sql`
/// a SQL script.
pub fn input_kind(path: &str) -> Option<InputKind> {
    if path.ends_with(".edn") {
        Some(InputKind::Edn)
    } else if path.ends_with(".pomo") {
        Some(InputKind::Logic)
    } else if path.ends_with(".sql") {
        Some(InputKind::Sql)
    } else {
        None
    }
}

/// The language of a source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Edn,
    Logic,
    Sql,
}

/// The words a SQL statement starts with, for [`guess_kind`].
const SQL_STARTS: &[&str] = &[
    "select", "with", "values", "insert", "update", "delete", "create", "drop",
];

/// Guesses the language of a query given inline (`-e`): EDN queries are vectors or maps; SQL
/// starts with a statement keyword (`SELECT`, `WITH`, `VALUES`, `INSERT`, `UPDATE`, `DELETE`,
/// `CREATE`, `DROP`, in any case) or a `--` comment; anything else is PomoLogic.
///
/// PomoLogic cannot start with an upper-case word (that is a variable) nor with `--`, so those
/// are SQL outright. A lower-case keyword might be a PomoLogic relation (`select(x: 1).`), so it
/// counts as SQL only when the next thing after it is not a `(`.
pub fn guess_kind(text: &str) -> InputKind {
    let t = text.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        return InputKind::Edn;
    }
    if t.starts_with("--") {
        return InputKind::Sql;
    }
    // The first word as PomoLogic reads a name, so that `update-log(…)` is not `UPDATE`.
    let end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || "_$-?!".contains(c)))
        .unwrap_or(t.len());
    let (word, rest) = t.split_at(end);
    if !SQL_STARTS.iter().any(|k| word.eq_ignore_ascii_case(k)) {
        return InputKind::Logic;
    }
    if word.starts_with(|c: char| c.is_ascii_uppercase()) || !rest.trim_start().starts_with('(') {
        InputKind::Sql
    } else {
        InputKind::Logic
    }
}

#[cfg(test)]
mod tests {
    use super::{InputKind, guess_kind};

    fn check(text: &str, expected: InputKind) {
        assert_eq!(guess_kind(text), expected, "{text}");
    }

    #[test]
    fn inline_queries_are_guessed_by_their_start() {
        check("[:find ?x :where [?x :a 1]]", InputKind::Edn);
        check(" {:find [?x]}", InputKind::Edn);
        check("p(x: ?x) :- q(x: ?x).", InputKind::Logic);
        check("SELECT 1", InputKind::Sql);
        check("select a from t", InputKind::Sql);
        check("  With r AS (SELECT 1) SELECT * FROM r", InputKind::Sql);
        check("INSERT INTO t VALUES (1)", InputKind::Sql);
        check("create table t(a int); select a from t", InputKind::Sql);
        check("-- a comment\nSELECT 1", InputKind::Sql);
        check("SELECT(1)", InputKind::Sql);
        check("VALUES (1), (2)", InputKind::Sql);
    }

    #[test]
    fn pomologic_relations_named_like_keywords_stay_pomologic() {
        check("select(x: 1).", InputKind::Logic);
        check("select (x: 1).", InputKind::Logic);
        check("update-log(x: ?x) :- q(x: ?x).", InputKind::Logic);
        check("selection(x: ?x) :- q(x: ?x).", InputKind::Logic);
        check("drop?(x: 1).", InputKind::Logic);
    }
}
