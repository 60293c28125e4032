//! Expressions: literals, columns, operators, CASE, CAST, functions and subquery values, each
//! kind in its own method, and the free helpers over [`Expr`] the other steps use.
//!
//! * NULL is `nil` and expressions are calls to the stdlib's `sql_*` functions, which follow
//!   SQLite (three-valued logic, integer division, `x/0` is NULL). Calls whose arguments are
//!   all constants are folded.
//! * An expression's type is the [`SqlType`] its value has where it is not NULL; operators
//!   refuse operand types they cannot take (E0852, E0853, E0862) rather than guess.
//!
//! Invariants: subexpressions are lowered left to right, so fresh variables are numbered in
//! source order.

use super::grouping::is_aggregate_call;
use super::{Body, Lowered, Lowering};
use crate::logic::ir::{Bind, Callee, Literal, Term};
use crate::sql::catalog::SqlType;
use pomo_grammar::span::Span;
use pomo_grammar::sql_syntax::{BinOp, Expr, ExprKind, FuncArgs, Ident, Lit, TypeName, UnOp};
use pomo_types::Value;
use pomo_types::ra::CmpOp;

impl Lowering<'_> {
    /// `func(args…)` as a term: its value when every argument is a constant and the call
    /// succeeds (constant folding), else a fresh variable the literal `?x := func(args…)` binds.
    pub(super) fn apply(&mut self, func: &str, args: Vec<Term>, body: &mut Body) -> Term {
        if args.iter().all(|a| matches!(a, Term::Const(_))) {
            let vals: Vec<Value> = args
                .iter()
                .map(|a| match a {
                    Term::Const(v) => v.clone(),
                    _ => unreachable!(),
                })
                .collect();
            if let Ok(v) = pomo_stdlib::call(func, &vals) {
                return Term::Const(v.unwrap_or(Value::Nil));
            }
        }
        let out = self.fresh("x");
        body.lits.push(Literal::Apply {
            bind: Bind::Scalar(Term::Var(out.clone())),
            func: Callee::Builtin(func.to_string()),
            args,
        });
        Term::Var(out)
    }

    /// The term and type of an expression, adding the literals it needs to `body`, each spanned
    /// by the innermost expression it comes from.
    pub(super) fn expr(&mut self, e: &Expr, body: &mut Body) -> Lowered<(Term, SqlType)> {
        let start = body.lits.len();
        let out = self.expr_unspanned(e, body)?;
        body.mark_spans(start, &e.span);
        Ok(out)
    }

    /// [`Self::expr`] without the spans: one method per kind of expression.
    fn expr_unspanned(&mut self, e: &Expr, body: &mut Body) -> Lowered<(Term, SqlType)> {
        if body.grouped
            && let Some(found) = self.grouped_term(e, body)?
        {
            return Ok(found);
        }
        match &e.kind {
            ExprKind::Lit(l) => Ok(Self::literal_expr(l)),
            ExprKind::Column { .. } => self.column_expr(e, body),
            ExprKind::Unary { op, expr } => self.unary_expr(e, *op, expr, body),
            ExprKind::Binary { op, left, right } => self.binary_expr(e, *op, left, right, body),
            ExprKind::IsNull { expr, negated } => self.is_null_expr(expr, *negated, body),
            ExprKind::Is {
                left,
                right,
                negated,
            } => self.is_expr(e, left, right, *negated, body),
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => self.between_expr(e, expr, low, high, *negated, body),
            ExprKind::InList {
                expr,
                list,
                negated,
            } => self.in_list_expr(expr, list, *negated, body),
            ExprKind::Like {
                expr,
                pattern,
                negated,
                escape,
            } => self.like_expr(expr, pattern, escape.as_deref(), *negated, body),
            ExprKind::Case {
                operand,
                whens,
                else_,
            } => self.case_expr(operand.as_deref(), whens, else_.as_deref(), body),
            ExprKind::Cast { expr, ty } => self.cast_expr(expr, ty, body),
            ExprKind::Func {
                name,
                args,
                over,
                distinct,
            } => self.function_call_expr(e, name, args, over.as_ref(), *distinct, body),
            ExprKind::Exists(q) => {
                let t = self.within(&e.span, |lw| lw.exists_value(q, body))?;
                Ok((t, SqlType::Bool))
            }
            ExprKind::InSubquery {
                expr,
                query,
                negated,
            } => {
                let t = self.within(&e.span, |lw| lw.in_value(expr, query, body))?;
                let t = if *negated {
                    self.apply("sql_not", vec![t], body)
                } else {
                    t
                };
                Ok((t, SqlType::Bool))
            }
            ExprKind::Subquery(q) => self.within(&e.span, |lw| lw.scalar_subquery(q, body)),
        }
    }

    /// In the body of a grouped select list: the term a group key or an aggregate stands for,
    /// `None` for other expressions, and an error for a column of the frame that is not grouped.
    fn grouped_term(&mut self, e: &Expr, body: &Body) -> Lowered<Option<(Term, SqlType)>> {
        let k = self.canon(e);
        if let Some((_, t, ty)) = body.subst.iter().find(|(c, _, _)| *c == k) {
            return Ok(Some((t.clone(), *ty)));
        }
        if let ExprKind::Column { name, .. } = &e.kind {
            // Outer columns are fine (params); this frame's are not grouped.
            let k = self.resolve_expr_col(e)?;
            if k.0 == self.depth() {
                self.err(
                    "E0861",
                    format!(
                        "column `{}` must appear in GROUP BY or be used in an aggregate function",
                        name.name
                    ),
                    &e.span,
                    "not grouped",
                );
                return Err(());
            }
        }
        Ok(None)
    }

    /// A literal: its value and the type of that value.
    fn literal_expr(l: &Lit) -> (Term, SqlType) {
        let v = lit_value(l);
        let ty = match &v {
            Value::Int(_) => SqlType::Int,
            Value::Float(_) => SqlType::Real,
            Value::Str(_) => SqlType::Text,
            Value::Bool(_) => SqlType::Bool,
            _ => SqlType::Null,
        };
        (Term::Const(v), ty)
    }

    /// A column reference: the term of the column in `body`.
    fn column_expr(&mut self, e: &Expr, body: &mut Body) -> Lowered<(Term, SqlType)> {
        let k = self.resolve_expr_col(e)?;
        let ty = self.key_type(k);
        let t = self.col_term(k, body, false)?;
        Ok((t, ty))
    }

    /// Negation, unary plus and NOT.
    fn unary_expr(
        &mut self,
        e: &Expr,
        op: UnOp,
        expr: &Expr,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (t, ty) = self.expr(expr, body)?;
        match op {
            UnOp::Neg | UnOp::Plus => {
                if !ty.is_numeric() {
                    self.err(
                        "E0862",
                        format!("type error: arithmetic on {}", ty.name()),
                        &e.span,
                        "not a number",
                    );
                    return Err(());
                }
                if op == UnOp::Plus {
                    return Ok((t, ty));
                }
                let ty = if ty == SqlType::Bool {
                    SqlType::Int
                } else {
                    ty
                };
                Ok((self.apply("sql_neg", vec![t], body), ty))
            }
            UnOp::Not => {
                self.check_bool(ty, expr, "NOT")?;
                Ok((self.apply("sql_not", vec![t], body), SqlType::Bool))
            }
        }
    }

    /// AND/OR, `||`, comparisons (three-valued, as functions) and arithmetic.
    fn binary_expr(
        &mut self,
        e: &Expr,
        op: BinOp,
        left: &Expr,
        right: &Expr,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (lt, lty) = self.expr(left, body)?;
        let (rt, rty) = self.expr(right, body)?;
        match op {
            BinOp::And | BinOp::Or => {
                self.check_bool(lty, left, if op == BinOp::And { "AND" } else { "OR" })?;
                self.check_bool(rty, right, if op == BinOp::And { "AND" } else { "OR" })?;
                let f = if op == BinOp::And {
                    "sql_and"
                } else {
                    "sql_or"
                };
                Ok((self.apply(f, vec![lt, rt], body), SqlType::Bool))
            }
            BinOp::Concat => Ok((self.apply("sql_concat", vec![lt, rt], body), SqlType::Text)),
            op if is_cmp(op) => {
                self.check_comparable(lty, rty, e)?;
                Ok((
                    self.apply(sql_cmp_fn(op), vec![lt, rt], body),
                    SqlType::Bool,
                ))
            }
            _ => {
                for (ty, side) in [(lty, left), (rty, right)] {
                    if !ty.is_numeric() {
                        self.err(
                            "E0862",
                            format!("type error: arithmetic on {}", ty.name()),
                            &side.span,
                            "not a number",
                        );
                        return Err(());
                    }
                }
                let f = match op {
                    BinOp::Add => "sql_add",
                    BinOp::Sub => "sql_sub",
                    BinOp::Mul => "sql_mul",
                    BinOp::Div => "sql_div",
                    _ => "sql_mod",
                };
                let ty = match (lty, rty) {
                    (SqlType::Real, _) | (_, SqlType::Real) => SqlType::Real,
                    (SqlType::Null, SqlType::Null) => SqlType::Null,
                    _ => SqlType::Int,
                };
                let ty = if op == BinOp::Mod && ty == SqlType::Real {
                    SqlType::Real
                } else {
                    ty
                };
                Ok((self.apply(f, vec![lt, rt], body), ty))
            }
        }
    }

    /// `x IS [NOT] NULL`.
    fn is_null_expr(
        &mut self,
        expr: &Expr,
        negated: bool,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (t, _) = self.expr(expr, body)?;
        let f = if negated {
            "sql_not_null"
        } else {
            "sql_is_null"
        };
        Ok((self.apply(f, vec![t], body), SqlType::Bool))
    }

    /// `x IS [NOT] y` (NULL-safe equality).
    fn is_expr(
        &mut self,
        e: &Expr,
        left: &Expr,
        right: &Expr,
        negated: bool,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (lt, lty) = self.expr(left, body)?;
        let (rt, rty) = self.expr(right, body)?;
        self.check_comparable(lty, rty, e)?;
        let f = if negated { "sql_is_not" } else { "sql_is" };
        Ok((self.apply(f, vec![lt, rt], body), SqlType::Bool))
    }

    /// `x [NOT] BETWEEN low AND high` as `x >= low AND x <= high`.
    fn between_expr(
        &mut self,
        e: &Expr,
        expr: &Expr,
        low: &Expr,
        high: &Expr,
        negated: bool,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (x, xty) = self.expr(expr, body)?;
        let (lo, loty) = self.expr(low, body)?;
        let (hi, hity) = self.expr(high, body)?;
        self.check_comparable(xty, loty, e)?;
        self.check_comparable(xty, hity, e)?;
        let a = self.apply("sql_ge", vec![x.clone(), lo], body);
        let b = self.apply("sql_le", vec![x, hi], body);
        let t = self.apply("sql_and", vec![a, b], body);
        let t = if negated {
            self.apply("sql_not", vec![t], body)
        } else {
            t
        };
        Ok((t, SqlType::Bool))
    }

    /// `x [NOT] IN (a, b, …)` as a disjunction of equalities (FALSE for an empty list).
    fn in_list_expr(
        &mut self,
        expr: &Expr,
        list: &[Expr],
        negated: bool,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (x, xty) = self.expr(expr, body)?;
        let mut acc: Option<Term> = None;
        for item in list {
            let (t, ty) = self.expr(item, body)?;
            self.check_comparable(xty, ty, item)?;
            let eq = self.apply("sql_eq", vec![x.clone(), t], body);
            acc = Some(match acc {
                None => eq,
                Some(a) => self.apply("sql_or", vec![a, eq], body),
            });
        }
        let t = acc.unwrap_or(Term::Const(Value::Bool(false)));
        let t = if negated {
            self.apply("sql_not", vec![t], body)
        } else {
            t
        };
        Ok((t, SqlType::Bool))
    }

    /// `x [NOT] LIKE pattern [ESCAPE c]`.
    fn like_expr(
        &mut self,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<&Expr>,
        negated: bool,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (x, _) = self.expr(expr, body)?;
        let (p, _) = self.expr(pattern, body)?;
        let mut args = vec![x, p];
        if let Some(esc) = escape {
            args.push(self.expr(esc, body)?.0);
        }
        let t = self.apply("sql_like", args, body);
        let t = if negated {
            self.apply("sql_not", vec![t], body)
        } else {
            t
        };
        Ok((t, SqlType::Bool))
    }

    /// `CASE [operand] WHEN … THEN … [ELSE …] END`; its type unifies the branches'.
    fn case_expr(
        &mut self,
        operand: Option<&Expr>,
        whens: &[(Expr, Expr)],
        else_: Option<&Expr>,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let mut args = Vec::new();
        let mut ty = SqlType::Null;
        let f = if let Some(op) = operand {
            let (x, xty) = self.expr(op, body)?;
            args.push(x);
            for (w, v) in whens {
                let (wt, wty) = self.expr(w, body)?;
                self.check_comparable(xty, wty, w)?;
                let (vt, vty) = self.expr(v, body)?;
                ty = ty.unify(vty);
                args.push(wt);
                args.push(vt);
            }
            "sql_case_eq"
        } else {
            for (w, v) in whens {
                let (wt, wty) = self.expr(w, body)?;
                self.check_bool(wty, w, "WHEN")?;
                let (vt, vty) = self.expr(v, body)?;
                ty = ty.unify(vty);
                args.push(wt);
                args.push(vt);
            }
            "sql_case"
        };
        if let Some(el) = else_ {
            let (t, ety) = self.expr(el, body)?;
            ty = ty.unify(ety);
            args.push(t);
        }
        Ok((self.apply(f, args, body), ty))
    }

    /// `CAST(x AS type)`.
    fn cast_expr(
        &mut self,
        expr: &Expr,
        ty: &TypeName,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (t, _) = self.expr(expr, body)?;
        let target = SqlType::from_name(ty);
        Ok((
            self.apply(
                "sql_cast",
                vec![t, Term::Const(Value::Str(target.name().into()))],
                body,
            ),
            target,
        ))
    }

    /// A call of a scalar function; aggregates, window functions, `f(*)` and `DISTINCT` are
    /// refused here.
    fn function_call_expr(
        &mut self,
        e: &Expr,
        name: &Ident,
        args: &FuncArgs,
        over: Option<&Span>,
        distinct: bool,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        if let Some(span) = over {
            self.err(
                "E0863",
                "window functions are outside the subset",
                span,
                "OVER",
            );
            return Err(());
        }
        let fname = name.name.as_str();
        if is_aggregate_call(e) {
            self.err(
                "E0846",
                format!("aggregate function {fname}() is not allowed here"),
                &e.span,
                "misuse of aggregate",
            );
            return Err(());
        }
        let FuncArgs::List(args) = args else {
            self.err(
                "E0857",
                format!("{fname}(*) is not a function"),
                &e.span,
                "star argument",
            );
            return Err(());
        };
        if distinct {
            self.err(
                "E0864",
                format!("DISTINCT is only for aggregates, not {fname}()"),
                &e.span,
                "DISTINCT",
            );
            return Err(());
        }
        let mut terms = Vec::new();
        let mut tys = Vec::new();
        for a in args {
            let (t, ty) = self.expr(a, body)?;
            terms.push(t);
            tys.push(ty);
        }
        let Some((func, arity, ty)) = scalar_function(fname, &tys) else {
            self.err(
                "E0865",
                format!("no such function: {fname}"),
                &name.span,
                "unknown function",
            );
            return Err(());
        };
        if terms.len() < arity.0 || terms.len() > arity.1 {
            self.err(
                "E0866",
                format!("wrong number of arguments to function {fname}()"),
                &e.span,
                "arity",
            );
            return Err(());
        }
        if fname == "abs" && tys[0] == SqlType::Text {
            self.err(
                "E0862",
                "type error: abs() of TEXT",
                &e.span,
                "not a number",
            );
            return Err(());
        }
        Ok((self.apply(func, terms, body), ty))
    }
}

/// A scalar function by its SQL name: the stdlib function, the least and most arguments it
/// takes, and its result type given its arguments' types; `None` for unknown names.
fn scalar_function(
    fname: &str,
    tys: &[SqlType],
) -> Option<(&'static str, (usize, usize), SqlType)> {
    let found = match fname {
        "abs" => (
            "sql_abs",
            (1, 1),
            tys.first().copied().unwrap_or(SqlType::Null),
        ),
        "coalesce" => (
            "sql_coalesce",
            (1, usize::MAX),
            tys.iter().fold(SqlType::Null, |a, b| a.unify(*b)),
        ),
        "ifnull" => (
            "sql_ifnull",
            (2, 2),
            tys.iter().fold(SqlType::Null, |a, b| a.unify(*b)),
        ),
        "nullif" => (
            "sql_nullif",
            (2, 2),
            tys.first().copied().unwrap_or(SqlType::Null),
        ),
        "upper" => ("sql_upper", (1, 1), SqlType::Text),
        "lower" => ("sql_lower", (1, 1), SqlType::Text),
        "length" => ("sql_length", (1, 1), SqlType::Int),
        "substr" | "substring" => ("sql_substr", (2, 3), SqlType::Text),
        "trim" => ("sql_trim", (1, 1), SqlType::Text),
        "ltrim" => ("sql_ltrim", (1, 1), SqlType::Text),
        "rtrim" => ("sql_rtrim", (1, 1), SqlType::Text),
        "round" => ("sql_round", (1, 2), SqlType::Real),
        "typeof" => ("sql_typeof", (1, 1), SqlType::Text),
        _ => return None,
    };
    Some(found)
}

/// Whether `op` is a comparison (`=`, `<>`, `<`, `<=`, `>`, `>=`).
pub(super) fn is_cmp(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

/// The PomoLogic comparison of a comparison operator (for constraints between non-NULL values).
pub(super) fn cmp_op(op: BinOp) -> CmpOp {
    match op {
        BinOp::Eq => CmpOp::Eq,
        BinOp::NotEq => CmpOp::Ne,
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        BinOp::Gt => CmpOp::Gt,
        _ => CmpOp::Ge,
    }
}

/// The three-valued stdlib function of a comparison operator.
pub(super) fn sql_cmp_fn(op: BinOp) -> &'static str {
    match op {
        BinOp::Eq => "sql_eq",
        BinOp::NotEq => "sql_ne",
        BinOp::Lt => "sql_lt",
        BinOp::Le => "sql_le",
        BinOp::Gt => "sql_gt",
        _ => "sql_ge",
    }
}

/// The value of a SQL literal (NULL is `nil`).
pub(super) fn lit_value(l: &Lit) -> Value {
    match l {
        Lit::Null => Value::Nil,
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Int(i) => Value::Int(*i),
        Lit::Float(f) => Value::Float(*f),
        Lit::Str(s) => Value::Str(s.clone()),
    }
}

/// The direct subexpressions (not subqueries).
pub(super) fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Lit(_)
        | ExprKind::Column { .. }
        | ExprKind::Exists(_)
        | ExprKind::Subquery(_) => Vec::new(),
        ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } => vec![expr],
        ExprKind::Cast { expr, .. } => vec![expr],
        ExprKind::InSubquery { expr, .. } => vec![expr],
        ExprKind::Binary { left, right, .. } | ExprKind::Is { left, right, .. } => {
            vec![left, right]
        }
        ExprKind::Between {
            expr, low, high, ..
        } => vec![expr, low, high],
        ExprKind::InList { expr, list, .. } => {
            let mut v: Vec<&Expr> = vec![expr];
            v.extend(list.iter());
            v
        }
        ExprKind::Like {
            expr,
            pattern,
            escape,
            ..
        } => {
            let mut v: Vec<&Expr> = vec![expr, pattern];
            if let Some(e) = escape {
                v.push(e);
            }
            v
        }
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => {
            let mut v: Vec<&Expr> = Vec::new();
            if let Some(o) = operand {
                v.push(o);
            }
            for (w, t) in whens {
                v.push(w);
                v.push(t);
            }
            if let Some(e) = else_ {
                v.push(e);
            }
            v
        }
        ExprKind::Func { args, .. } => match args {
            FuncArgs::Star => Vec::new(),
            FuncArgs::List(a) => a.iter().collect(),
        },
    }
}

/// The SQL text of an expression (its printed form), used as a column name and as the key
/// that matches GROUP BY expressions and aggregate calls.
pub fn expr_text(e: &Expr) -> String {
    e.to_string()
}

/// The name of a select-list item without an alias: a column's name, else the expression's text.
pub(super) fn item_name(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Column { name, .. } => name.name.clone(),
        _ => expr_text(e),
    }
}
