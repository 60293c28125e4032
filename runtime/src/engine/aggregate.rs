//! Aggregation, shared by every backend: the aggregate values of one group of distinct tuples,
//! with the stdlib's aggregates or host aggregates from the registry. The last operand of a
//! call is the aggregated attribute and constants before it are parameters (the n of
//! `max n ?x`); a call with no attribute (`count()`) counts tuples. Grouping itself is the
//! caller's: the reference evaluator groups a relation, the JIT and dataflow their own rows.

use super::env::{Context, err};
use pomo_stdlib::EvalError;
use pomo_types::Value;
use pomo_types::ra::{AggCall, Attr, Callee, Operand};

impl Context<'_> {
    /// The aggregates of one group of (distinct) tuples, in order.
    pub(crate) fn aggregate_group(
        &self,
        aggs: &[AggCall],
        attrs: &[Attr],
        tuples: &[&[Value]],
    ) -> Result<Vec<Value>, EvalError> {
        let col = |a: &str| {
            attrs
                .iter()
                .position(|x| x == a)
                .ok_or_else(|| err(format!("attribute {a} is not in ({})", attrs.join(", "))))
        };
        let mut row = Vec::new();
        for a in aggs {
            // The last operand is the aggregated attribute; constants before it are
            // parameters (the n of `max n ?x`). `count()` counts tuples.
            let (params, values): (Vec<Value>, Vec<Value>) = match a.args.split_last() {
                Some((Operand::Attr(x), params)) => {
                    let i = col(x)?;
                    let ps = params
                        .iter()
                        .map(|p| self.operand(p, attrs, tuples[0]))
                        .collect::<Result<_, _>>()?;
                    (ps, tuples.iter().map(|t| t[i].clone()).collect())
                }
                _ => (
                    Vec::new(),
                    tuples.iter().map(|_| Value::Bool(true)).collect(),
                ),
            };
            let v = match &a.func {
                Callee::Builtin(name) => pomo_stdlib::aggregate(name, &params, values)?,
                Callee::Attr(f) => {
                    match self.operand(&Operand::Attr(f.clone()), attrs, tuples[0])? {
                        Value::Fn(name) => {
                            let agg = self
                                .env
                                .registry
                                .aggregate(&name)
                                .ok_or_else(|| err(format!("no host aggregate {name}")))?;
                            agg(values)?
                        }
                        other => {
                            return Err(err(format!(
                                "{f} is a {}, not an aggregate",
                                other.type_name()
                            )));
                        }
                    }
                }
            };
            row.push(v);
        }
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Env;

    /// The aggregates `calls` (output name, builtin, operands) of the group of tuples `(x)`
    /// holding `xs`, printed (or the error).
    fn check(calls: &[(&str, &str, Vec<Operand>)], xs: &[i64], expected: &str) {
        let env = Env::default();
        let aggs: Vec<AggCall> = calls
            .iter()
            .map(|(out, func, args)| AggCall {
                out: out.to_string(),
                func: Callee::Builtin(func.to_string()),
                args: args.clone(),
            })
            .collect();
        let tuples: Vec<Vec<Value>> = xs.iter().map(|&n| vec![Value::Int(n)]).collect();
        let refs: Vec<&[Value]> = tuples.iter().map(|t| t.as_slice()).collect();
        let printed = match Context::new(&env).aggregate_group(&aggs, &["x".to_string()], &refs) {
            Ok(row) => row
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("error: {}", e.message),
        };
        assert_eq!(printed, expected);
    }

    fn x() -> Operand {
        Operand::Attr("x".to_string())
    }

    #[test]
    fn sum_and_count() {
        check(
            &[("s", "sum", vec![x()]), ("c", "count", vec![x()])],
            &[1, 2, 4],
            "7 3",
        );
    }

    #[test]
    fn count_without_an_attribute_counts_tuples() {
        check(&[("c", "count", vec![])], &[5, 6], "2");
    }

    #[test]
    fn constants_before_the_attribute_are_parameters() {
        check(
            &[("m", "max", vec![Operand::Const(Value::Int(2)), x()])],
            &[1, 3, 2],
            "[2, 3]",
        );
    }

    #[test]
    fn an_unknown_attribute_is_an_error() {
        check(
            &[("s", "sum", vec![Operand::Attr("y".into())])],
            &[1],
            "error: attribute y is not in (x)",
        );
    }
}
