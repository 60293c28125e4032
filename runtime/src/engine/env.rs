//! What every backend reads besides the plan itself: the [`Env`] (sources bound to `$` names,
//! input values, host functions), the [`Relation`] value the reference evaluator and the
//! result shaping pass around, and [`Context`], the handle through which the backends reach the
//! shared services (view loading, formulas, maps, aggregates) of the sibling modules.
//! A [`Context`] only borrows its environment and holds no state, so every backend can make one
//! per run and two engines over the same environment always answer alike.

use crate::store::Db;
use pomo_stdlib::{EvalError, Registry};
use pomo_types::Value;
use pomo_types::ra::Attr;
use std::collections::{BTreeMap, BTreeSet};

/// A relation: named attributes and a set of tuples in that attribute order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relation {
    pub attrs: Vec<Attr>,
    pub tuples: BTreeSet<Vec<Value>>,
}

impl Relation {
    pub fn new(attrs: Vec<Attr>) -> Relation {
        Relation {
            attrs,
            tuples: BTreeSet::new(),
        }
    }

    pub(crate) fn col(&self, a: &str) -> Result<usize, EvalError> {
        self.attrs.iter().position(|x| x == a).ok_or_else(|| {
            err(format!(
                "attribute {a} is not in ({})",
                self.attrs.join(", ")
            ))
        })
    }

    /// The tuples with their columns reordered to `attrs`.
    pub fn reorder(&self, attrs: &[Attr]) -> Result<Relation, EvalError> {
        let idx: Vec<usize> = attrs
            .iter()
            .map(|a| self.col(a))
            .collect::<Result<_, _>>()?;
        Ok(Relation {
            attrs: attrs.to_vec(),
            tuples: self
                .tuples
                .iter()
                .map(|t| idx.iter().map(|&i| t[i].clone()).collect())
                .collect(),
        })
    }
}

pub(crate) fn err(message: impl Into<String>) -> EvalError {
    EvalError {
        message: message.into(),
    }
}

/// What a source name (`$`, `$name`) is bound to.
#[derive(Clone)]
pub enum Source {
    Db(Db),
    /// A collection of tuples used as a database (`[[1 :color "red"] …]`).
    Coll(Vec<Vec<Value>>),
}

/// Everything a plan reads besides itself.
#[derive(Clone, Default)]
pub struct Env {
    /// Sources by name (`$`, `$2`, `$hr`).
    pub sources: BTreeMap<String, Source>,
    /// Input relations by name, each bound to the value given for it.
    pub inputs: BTreeMap<String, Value>,
    /// Host functions and aggregates.
    pub registry: Registry,
}

/// How many loop iterations a recursive stratum may take before evaluation gives up; a program
/// whose functions keep inventing new values (`?y := add(?x, 1)` in a cycle) never converges.
pub const MAX_ITERATIONS: usize = 1_000_000;

/// The shared services over one environment: every backend evaluates formulas, maps and
/// aggregates and loads base relations through it, so they all behave as the reference does.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub(crate) env: &'a Env,
}

impl<'a> Context<'a> {
    pub(crate) fn new(env: &'a Env) -> Context<'a> {
        Context { env }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reorders a relation of `attrs` holding `rows` to `to` and prints its tuples (or the error).
    fn check(attrs: &[&str], rows: &[&[i64]], to: &[&str], expected: &str) {
        let mut r = Relation::new(attrs.iter().map(|a| a.to_string()).collect());
        for row in rows {
            r.tuples
                .insert(row.iter().map(|&x| Value::Int(x)).collect());
        }
        let to: Vec<Attr> = to.iter().map(|a| a.to_string()).collect();
        let printed = match r.reorder(&to) {
            Ok(r) => format!(
                "({}) {}",
                r.attrs.join(", "),
                r.tuples
                    .iter()
                    .map(|t| format!("{t:?}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Err(e) => e.message,
        };
        assert_eq!(printed, expected);
    }

    #[test]
    fn reorder_swaps_columns() {
        check(
            &["x", "y"],
            &[&[1, 2], &[3, 4]],
            &["y", "x"],
            "(y, x) [Int(2), Int(1)] [Int(4), Int(3)]",
        );
    }

    #[test]
    fn reorder_projects_columns() {
        check(&["x", "y"], &[&[1, 2], &[1, 3]], &["x"], "(x) [Int(1)]");
    }

    #[test]
    fn reorder_to_an_unknown_attribute_is_an_error() {
        check(&["x"], &[&[1]], &["z"], "attribute z is not in (x)");
    }

    #[test]
    fn reorder_of_nothing_is_empty() {
        check(&["x", "y"], &[], &["y", "x"], "(y, x) ");
    }
}
