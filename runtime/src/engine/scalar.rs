//! Scalar evaluation, shared by every backend: operands, formulas (the tests of a select or a
//! join), calls (the stdlib, host functions from the registry, and the database built-ins
//! `get-else`, `get-some` and `missing`), and the rows a map binding appends to a tuple. The JIT
//! and the dataflow engine call these on decoded rows so that every function behaves on them
//! exactly as on the reference evaluator. A nil result binds nothing (the tuple is dropped),
//! except for the SQL functions whose NULL is a value.

use super::env::{Context, err};
use pomo_stdlib::EvalError;
use pomo_types::Value;
use pomo_types::ra::{Attr, Callee, Formula, MapBind, MapRhs, Operand, Test};

impl Context<'_> {
    /// The value of an operand in the tuple `t` of attributes `attrs`.
    pub(crate) fn operand(
        &self,
        o: &Operand,
        attrs: &[Attr],
        t: &[Value],
    ) -> Result<Value, EvalError> {
        match o {
            Operand::Const(c) => Ok(c.clone()),
            Operand::Attr(a) => {
                let i = attrs
                    .iter()
                    .position(|x| x == a)
                    .ok_or_else(|| err(format!("attribute {a} is missing")))?;
                Ok(t[i].clone())
            }
        }
    }

    /// Whether a formula (in disjunctive normal form) holds of the tuple `t`.
    pub(crate) fn formula(
        &self,
        f: &Formula,
        attrs: &[Attr],
        t: &[Value],
    ) -> Result<bool, EvalError> {
        for d in &f.disjuncts {
            let mut all = true;
            for l in d {
                let holds = match &l.test {
                    Test::Cmp { op, lhs, rhs } => {
                        let name = op.builtin();
                        let args = [self.operand(lhs, attrs, t)?, self.operand(rhs, attrs, t)?];
                        self.call(&Callee::Builtin(name.into()), &args, attrs, t)?
                            .is_some_and(|v| pomo_stdlib::truthy(&v))
                    }
                    Test::Call { func, args } => {
                        let vals: Vec<Value> = args
                            .iter()
                            .map(|o| self.operand(o, attrs, t))
                            .collect::<Result<_, _>>()?;
                        self.call(func, &vals, attrs, t)?
                            .is_some_and(|v| pomo_stdlib::truthy(&v))
                    }
                };
                if holds == l.negated {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Calls a function: the database built-ins here, host functions through the registry,
    /// the rest through the stdlib.
    fn call(
        &self,
        func: &Callee,
        args: &[Value],
        attrs: &[Attr],
        t: &[Value],
    ) -> Result<Option<Value>, EvalError> {
        match func {
            Callee::Attr(a) => match self.operand(&Operand::Attr(a.clone()), attrs, t)? {
                Value::Fn(name) => {
                    let f = self
                        .env
                        .registry
                        .function(&name)
                        .ok_or_else(|| err(format!("no host function {name}")))?;
                    f(args)
                }
                other => Err(err(format!(
                    "{a} is a {}, not a function",
                    other.type_name()
                ))),
            },
            Callee::Builtin(name) => match name.as_str() {
                "get_else" | "get_some" | "missing" => self.db_call(name, args),
                _ => pomo_stdlib::call(name, args),
            },
        }
    }

    /// The database built-ins `missing`, `get_else` and `get_some`, over the database their
    /// first argument names.
    fn db_call(&self, name: &str, args: &[Value]) -> Result<Option<Value>, EvalError> {
        let src = match args.first() {
            Some(Value::Symbol(s)) => s.clone(),
            _ => {
                return Err(err(format!(
                    "{name} needs a database as its first argument"
                )));
            }
        };
        let db = self.db(&src)?;
        let entity = |v: &Value| match v {
            Value::Int(e) => Ok(Some(*e)),
            Value::Tuple(lr) if lr.len() == 2 => match &lr[0] {
                Value::Keyword(a) => Ok(db.resolve_lookup_ref(a, &lr[1])),
                _ => Err(err("a lookup ref is [attribute value]")),
            },
            other => Err(err(format!(
                "{name}: expected an entity id, got {}",
                other.type_name()
            ))),
        };
        let attr = |v: &Value| match v {
            Value::Keyword(a) => Ok(a.clone()),
            other => Err(err(format!(
                "{name}: expected an attribute keyword, got {}",
                other.type_name()
            ))),
        };
        let first = |e: Option<i64>, a: &str| -> Option<Value> {
            e.and_then(|e| {
                db.datoms_eavt(Some(e), Some(a), None)
                    .into_iter()
                    .next()
                    .map(|d| d.v)
            })
        };
        match name {
            "missing" => {
                let e = entity(&args[1])?;
                Ok(Some(Value::Bool(first(e, &attr(&args[2])?).is_none())))
            }
            "get_else" => {
                if args[3] == Value::Nil {
                    return Err(err("get-else: nil default value is not supported"));
                }
                let e = entity(&args[1])?;
                Ok(Some(
                    first(e, &attr(&args[2])?).unwrap_or_else(|| args[3].clone()),
                ))
            }
            _ => {
                let e = entity(&args[1])?;
                for a in &args[2..] {
                    let a = attr(a)?;
                    if let Some(v) = first(e, &a) {
                        return Ok(Some(Value::Tuple(vec![Value::Keyword(a), v])));
                    }
                }
                Ok(None)
            }
        }
    }

    /// The values a map appends to one tuple: one row per binding (none when the function
    /// gives nothing or nil).
    pub(crate) fn map_tuple(
        &self,
        bind: &MapBind,
        rhs: &MapRhs,
        attrs: &[Attr],
        t: &[Value],
    ) -> Result<Vec<Vec<Value>>, EvalError> {
        let v = match rhs {
            // A constant or an attribute is bound as it is, nil included (a `nil` in a rule's
            // head, SQL's NULL).
            MapRhs::Operand(o) => {
                if let MapBind::Scalar(_) = bind {
                    return Ok(vec![vec![self.operand(o, attrs, t)?]]);
                }
                Some(self.operand(o, attrs, t)?)
            }
            MapRhs::Call { func, args } => {
                let vals: Vec<Value> = args
                    .iter()
                    .map(|o| self.operand(o, attrs, t))
                    .collect::<Result<_, _>>()?;
                let v = self.call(func, &vals, attrs, t)?;
                // SQL functions' NULL is a value (SQL's NULL), bound like any other.
                if let Callee::Builtin(name) = func
                    && pomo_stdlib::binds_nil(name)
                {
                    return Ok(match bind {
                        MapBind::Scalar(_) => vec![vec![v.unwrap_or(Value::Nil)]],
                        _ => {
                            return Err(err(format!("`{name}` binds one value")));
                        }
                    });
                }
                v
            }
        };
        // A nil result binds nothing: the tuple is dropped.
        let Some(v) = v else { return Ok(Vec::new()) };
        if v == Value::Nil {
            return Ok(Vec::new());
        }
        let pick = |parts: &[Value], slots: &[Option<Attr>]| -> Option<Vec<Value>> {
            if parts.len() < slots.len() {
                return None;
            }
            Some(
                slots
                    .iter()
                    .zip(parts)
                    .filter(|(s, _)| s.is_some())
                    .map(|(_, v)| v.clone())
                    .collect(),
            )
        };
        Ok(match bind {
            MapBind::Scalar(_) => vec![vec![v]],
            MapBind::Tuple(slots) => match elements(&v) {
                Some(parts) => pick(&parts, slots).into_iter().collect(),
                None => return Err(err(format!("cannot bind a {} to a tuple", v.type_name()))),
            },
            MapBind::Coll(_) => match elements(&v) {
                Some(parts) => parts.into_iter().map(|x| vec![x]).collect(),
                None => {
                    return Err(err(format!(
                        "cannot bind a {} to a collection",
                        v.type_name()
                    )));
                }
            },
            MapBind::Rel(slots) => match elements(&v) {
                Some(parts) => parts
                    .iter()
                    .filter_map(|p| elements(p).and_then(|xs| pick(&xs, slots)))
                    .collect(),
                None => {
                    return Err(err(format!(
                        "cannot bind a {} to a relation",
                        v.type_name()
                    )));
                }
            },
        })
    }
}

/// The elements of a collection value.
pub(crate) fn elements(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Tuple(xs) | Value::Set(xs) => Some(xs.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Env;
    use pomo_types::ra::{CmpOp, FLit};

    fn attr(a: &str) -> Operand {
        Operand::Attr(a.to_string())
    }

    fn int(n: i64) -> Operand {
        Operand::Const(Value::Int(n))
    }

    fn cmp(op: CmpOp, lhs: Operand, rhs: Operand) -> FLit {
        FLit {
            negated: false,
            test: Test::Cmp { op, lhs, rhs },
        }
    }

    /// The tuple `(x, y)` every test reads.
    const ATTRS: [&str; 2] = ["x", "y"];

    fn attrs() -> Vec<Attr> {
        ATTRS.iter().map(|a| a.to_string()).collect()
    }

    /// Evaluates `formula` on `(x, y) = tuple` and prints the answer (or the error).
    fn check(formula: Formula, tuple: [i64; 2], expected: &str) {
        let env = Env::default();
        let t: Vec<Value> = tuple.iter().map(|&n| Value::Int(n)).collect();
        let printed = match Context::new(&env).formula(&formula, &attrs(), &t) {
            Ok(b) => b.to_string(),
            Err(e) => format!("error: {}", e.message),
        };
        assert_eq!(printed, expected);
    }

    /// The rows `bind := rhs` appends to `(x, y) = tuple`, printed (or the error).
    fn check_map(bind: MapBind, rhs: MapRhs, tuple: [i64; 2], expected: &str) {
        let env = Env::default();
        let t: Vec<Value> = tuple.iter().map(|&n| Value::Int(n)).collect();
        let printed = match Context::new(&env).map_tuple(&bind, &rhs, &attrs(), &t) {
            Ok(rows) => rows
                .iter()
                .map(|r| {
                    let vs: Vec<String> = r.iter().map(|v| v.to_string()).collect();
                    format!("[{}]", vs.join(" "))
                })
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("error: {}", e.message),
        };
        assert_eq!(printed, expected);
    }

    #[test]
    fn comparison_holds() {
        check(
            Formula::conj(vec![cmp(CmpOp::Lt, attr("x"), attr("y"))]),
            [1, 2],
            "true",
        );
    }

    #[test]
    fn comparison_fails() {
        check(
            Formula::conj(vec![cmp(CmpOp::Lt, attr("x"), attr("y"))]),
            [2, 1],
            "false",
        );
    }

    #[test]
    fn negated_literal_flips() {
        let mut lit = cmp(CmpOp::Eq, attr("x"), int(1));
        lit.negated = true;
        check(Formula::conj(vec![lit]), [1, 2], "false");
    }

    #[test]
    fn any_disjunct_suffices() {
        let formula = Formula {
            disjuncts: vec![
                vec![cmp(CmpOp::Eq, attr("x"), int(5))],
                vec![cmp(CmpOp::Eq, attr("y"), int(2))],
            ],
        };
        check(formula, [1, 2], "true");
    }

    #[test]
    fn empty_conjunction_is_true() {
        check(Formula::truth(), [1, 2], "true");
    }

    #[test]
    fn a_missing_attribute_is_an_error() {
        check(
            Formula::conj(vec![cmp(CmpOp::Eq, attr("z"), int(1))]),
            [1, 2],
            "error: attribute z is missing",
        );
    }

    #[test]
    fn map_binds_a_call() {
        let rhs = MapRhs::Call {
            func: Callee::Builtin("add".into()),
            args: vec![attr("x"), attr("y")],
        };
        check_map(MapBind::Scalar("z".into()), rhs, [1, 2], "[3]");
    }

    #[test]
    fn map_binds_an_operand() {
        let rhs = MapRhs::Operand(int(7));
        check_map(MapBind::Scalar("z".into()), rhs, [1, 2], "[7]");
    }

    #[test]
    fn map_binds_a_collection_one_row_per_element() {
        let rhs = MapRhs::Operand(Operand::Const(Value::Tuple(vec![
            Value::Int(1),
            Value::Int(2),
        ])));
        check_map(MapBind::Coll("z".into()), rhs, [0, 0], "[1] [2]");
    }

    #[test]
    fn map_of_a_scalar_to_a_tuple_is_an_error() {
        let rhs = MapRhs::Operand(int(7));
        let bind = MapBind::Tuple(vec![Some("a".into()), None]);
        check_map(bind, rhs, [1, 2], "error: cannot bind a integer to a tuple");
    }

    #[test]
    fn calling_an_attribute_that_holds_no_function_is_an_error() {
        let rhs = MapRhs::Call {
            func: Callee::Attr("x".into()),
            args: vec![],
        };
        check_map(
            MapBind::Scalar("z".into()),
            rhs,
            [1, 2],
            "error: x is a integer, not a function",
        );
    }
}
