//! Host functions and aggregates that an embedding application registers by name.
//!
//! A query receives them as inputs (`Value::Fn(name)`) and the evaluator looks the name up here.
//! The maps are ordered so that listing them (in `Debug`, say) is deterministic.

use crate::eval::EvalError;
use pomo_types::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A host function or predicate: evaluated arguments in, a value (or nil) out.
pub type HostFn = Arc<dyn Fn(&[Value]) -> Result<Option<Value>, EvalError> + Send + Sync>;

/// A host aggregate: the bag of aggregated values (with `:with` multiplicities) in, a value out.
pub type HostAgg = Arc<dyn Fn(Vec<Value>) -> Result<Value, EvalError> + Send + Sync>;

/// The host functions and aggregates of an embedding application.
#[derive(Clone, Default)]
pub struct Registry {
    functions: BTreeMap<String, HostFn>,
    aggregates: BTreeMap<String, HostAgg>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) a function under `name`.
    pub fn register_fn(&mut self, name: &str, f: HostFn) {
        self.functions.insert(name.to_string(), f);
    }

    /// Registers (or replaces) an aggregate under `name`.
    pub fn register_aggregate(&mut self, name: &str, f: HostAgg) {
        self.aggregates.insert(name.to_string(), f);
    }

    pub fn function(&self, name: &str) -> Option<&HostFn> {
        self.functions.get(name)
    }

    pub fn aggregate(&self, name: &str) -> Option<&HostAgg> {
        self.aggregates.get(name)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field("aggregates", &self.aggregates.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.register_fn(
            "twice",
            Arc::new(|a: &[Value]| match a {
                [Value::Int(i)] => Ok(Some(Value::Int(2 * i))),
                _ => Err(crate::eval::err("twice takes one integer")),
            }),
        );
        r.register_aggregate(
            "size",
            Arc::new(|vs: Vec<Value>| Ok(Value::Int(vs.len() as i64))),
        );
        r
    }

    #[test]
    fn registered_functions_are_found_by_name() {
        let r = registry();
        let f = r.function("twice").unwrap();
        assert_eq!(f(&[Value::Int(4)]), Ok(Some(Value::Int(8))));
        assert!(f(&[]).is_err());
        assert!(r.function("size").is_none());
    }

    #[test]
    fn registered_aggregates_are_found_by_name() {
        let r = registry().clone();
        let agg = r.aggregate("size").unwrap();
        assert_eq!(agg(vec![Value::Nil, Value::Nil]), Ok(Value::Int(2)));
        assert!(r.aggregate("twice").is_none());
    }

    #[test]
    fn registering_again_replaces() {
        let mut r = registry();
        r.register_fn("twice", Arc::new(|_: &[Value]| Ok(None)));
        assert_eq!(r.function("twice").unwrap()(&[Value::Int(1)]), Ok(None));
        assert_eq!(
            format!("{r:?}"),
            "Registry { functions: [\"twice\"], aggregates: [\"size\"] }"
        );
    }
}
