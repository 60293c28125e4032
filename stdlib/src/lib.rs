//! pomo-stdlib: the built-in functions, predicates and aggregates that queries may call.
//!
//! The compiler resolves a name written in a query (EDN names such as
//! `clojure.string/starts-with?`, `+`, `count-distinct`) to one canonical snake_case name
//! (`starts_with`, `add`, `count_distinct`) that PomoLogic and PomoRA text print, checks arity,
//! and knows whether a call may be folded at compile time; the table in `signatures.rs` is the
//! single place that lists the built-ins. The evaluator then runs them by canonical name:
//! [`call`] for functions and predicates, [`aggregate()`] for aggregates, and a [`Registry`] for
//! the host functions and aggregates an embedding application passes to queries. The database
//! built-ins (`get_else`, `get_some`, `missing`) are the evaluator's own. The `sql_*` built-ins
//! (`sql_functions.rs`) are what the SQL front end lowers to; they have no EDN spelling, and a nil result
//! of theirs is SQL's NULL, a value to bind ([`binds_nil`]).

pub mod aggregate;
pub mod eval;
mod random;
pub mod registry;
pub mod signatures;
mod sql_functions;
#[cfg(test)]
mod test_support;
mod text;

pub use aggregate::aggregate;
pub use eval::{EvalError, call, truthy};
pub use registry::{HostAgg, HostFn, Registry};
pub use signatures::{Arity, Builtin, Kind, builtin, builtin_by_edn_name, builtins};

/// The PomoLogic prelude: rules over a store's causal graph (ancestors, heads, concurrent
/// writes) and the conflict-free data types replicas resolve with (last-writer-wins and
/// multi-value registers, an add-wins set, a counter), with the `conflicts` a merge leaves.
/// See `prelude.pomo` for each rule.
pub const PRELUDE: &str = include_str!("prelude.pomo");

/// The same rules as an EDN rule set, for an EDN query's `%` input (`ancestor`, `head`,
/// `concurrent`, `mv`, `lww`, `conflicts`, `aw-set`, `increment`; EDN rules have no
/// aggregates, so the counter is `increment` summed by the query).
pub const PRELUDE_EDN: &str = include_str!("prelude.edn");

/// The version of the stdlib that compiled artifacts record (ARCHITECTURE §8).
pub const STDLIB_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Whether a nil result of the built-in `name` is a value to bind (SQL's NULL) rather than a
/// failed match that drops the row, as it is for the EDN built-ins: true for the `sql_*`
/// built-ins of the table, whatever their kind.
pub fn binds_nil(name: &str) -> bool {
    name.starts_with("sql_") && builtins().iter().any(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pomo_types::Value;

    /// Whether an outcome shows that the name was dispatched (any answer, or an error other
    /// than "unknown").
    fn dispatched<T>(r: Result<T, EvalError>) -> bool {
        r.err()
            .is_none_or(|e| !e.message.contains("unknown built-in"))
    }

    #[test]
    fn every_function_and_predicate_is_implemented() {
        for b in builtins().iter().filter(|b| b.kind != Kind::Aggregate) {
            let args = vec![Value::Int(1); b.arity.min];
            let r = call(b.name, &args);
            if b.takes_source {
                assert!(r.is_err(), "{} belongs to the evaluator", b.name);
            } else {
                assert!(dispatched(r), "`{}` is not implemented", b.name);
            }
        }
    }

    #[test]
    fn every_aggregate_is_implemented() {
        for b in builtins().iter().filter(|b| b.kind == Kind::Aggregate) {
            let params = vec![Value::Int(1); b.arity.min - 1];
            let r = aggregate(b.name, &params, vec![Value::Int(1), Value::Int(2)]);
            assert!(r.is_ok(), "`{}` failed: {:?}", b.name, r.err());
        }
    }

    #[test]
    fn sql_builtins_bind_nil() {
        assert!(binds_nil("sql_add"));
        assert!(binds_nil("sql_sum"));
        assert!(!binds_nil("add"));
        assert!(!binds_nil("sql_no_such_fn"));
        assert_eq!(call("sql_add", &[Value::Nil, Value::Int(1)]), Ok(None));
        for b in builtins().iter().filter(|b| b.name.starts_with("sql_")) {
            assert!(b.edn_names.is_empty() && b.pure, "{}", b.name);
            assert!(binds_nil(b.name), "{}", b.name);
        }
    }

    #[test]
    fn the_corpus_host_functions_can_be_registered() {
        use std::sync::Arc;
        let mut r = Registry::new();
        r.register_fn("str-length", Arc::new(|a: &[Value]| call("count_str", a)));
        r.register_aggregate(
            "sum-of-squares",
            Arc::new(|vs: Vec<Value>| {
                let squares = vs
                    .iter()
                    .map(|v| call("mul", &[v.clone(), v.clone()]).map(|x| x.unwrap_or(Value::Nil)))
                    .collect::<Result<Vec<_>, _>>()?;
                aggregate("sum", &[], squares)
            }),
        );
        let len = r.function("str-length").unwrap();
        assert_eq!(len(&[Value::Str("Alice".into())]), Ok(Some(Value::Int(5))));
        let ss = r.aggregate("sum-of-squares").unwrap();
        assert_eq!(
            ss(vec![Value::Int(1), Value::Int(2), Value::Int(2)]),
            Ok(Value::Int(9))
        );
    }
}
