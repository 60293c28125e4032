//! Expressions: literals, columns, operators, CASE, CAST, functions and subquery values, each
//! kind in its own method, and the free helpers over [`Expr`] the other steps use.
//!
//! * NULL is `nil` and expressions are calls to the stdlib's `sql_*` functions, which follow
//!   SQLite (three-valued logic, integer division, `x/0` is NULL). Calls whose arguments are
//!   all constants are folded.
//! * Typing is SQLite's, dynamic: an expression's [`SqlType`] is the storage class its values
//!   have where the compiler knows it (`Any` where it does not), and nothing is refused for its
//!   type. Arithmetic reads text by its numeric prefix, any value is a condition (true when it is
//!   a non-zero number), and comparisons apply SQLite's affinity rules ([`Affinity`]).
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
        if !matches!(e.kind, ExprKind::Lit(_)) && definitely_null(e) {
            // NULL whatever its other operands are: they are not evaluated (as in SQLite, so
            // their columns need not be grouped), only their names checked.
            self.check_names(e)?;
            return Ok((Term::Const(Value::Nil), SqlType::Null));
        }
        match &e.kind {
            ExprKind::Lit(l) => Ok(Self::literal_expr(l)),
            ExprKind::Column { .. } => self.column_expr(e, body),
            ExprKind::Unary { op, expr } => self.unary_expr(*op, expr, body),
            ExprKind::Binary { op, left, right } => self.binary_expr(*op, left, right, body),
            ExprKind::IsNull { expr, negated } => self.is_null_expr(expr, *negated, body),
            ExprKind::Is {
                left,
                right,
                negated,
            } => self.is_expr(left, right, *negated, body),
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => self.between_expr(expr, low, high, *negated, body),
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

    /// Checks that the columns `e` names exist (without reading them): what SQLite still
    /// checks in a subexpression it never evaluates.
    pub(super) fn check_names(&mut self, e: &Expr) -> Lowered<()> {
        if let ExprKind::Column { table, name } = &e.kind {
            self.resolve(table.as_ref(), name, &e.span)?;
        }
        for c in children(e) {
            self.check_names(c)?;
        }
        Ok(())
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
            Value::Bytes(_) => SqlType::Blob,
            _ => SqlType::Null,
        };
        (Term::Const(v), ty)
    }

    /// The affinity of an expression for comparisons (datatype3 §3.2): a column reference has
    /// its column's, `CAST(x AS t)` that of `t`, any other expression none (so `+col` has none).
    pub(super) fn affinity(&self, e: &Expr) -> Affinity {
        let ty = match &e.kind {
            ExprKind::Column { table, name } => {
                let qual = table.as_ref().map(|t| t.name.as_str());
                let Some(ty) = self.column_type_anywhere(qual, &name.name) else {
                    return Affinity::None;
                };
                ty
            }
            ExprKind::Cast { ty, .. } => SqlType::from_name(ty),
            _ => return Affinity::None,
        };
        match ty {
            SqlType::Int | SqlType::Real | SqlType::Bool => Affinity::Numeric,
            SqlType::Text => Affinity::Text,
            SqlType::Blob | SqlType::Any | SqlType::Null => Affinity::None,
        }
    }

    /// The type of the column `qual.name` as the innermost frame that has it sees it, without
    /// diagnostics (`None` when no frame has exactly one such column).
    fn column_type_anywhere(&self, qual: Option<&str>, name: &str) -> Option<SqlType> {
        for frame in self.frames.iter().rev() {
            let mut hits = frame
                .sources
                .iter()
                .flat_map(|s| s.cols.iter())
                .filter(|c| c.name == name && qual.is_none_or(|q| q == c.qual));
            if let Some(c) = hits.next() {
                return hits.next().is_none().then_some(c.ty);
            }
        }
        None
    }

    /// The operands of a comparison of `left` with `right` (already lowered to `lt`, `rt` of
    /// types `lty`, `rty`) after SQLite's affinity conversions: when one side has numeric
    /// affinity and the other does not, the other's text is read as a number if it is one
    /// (`sql_num_aff`); when one side has TEXT affinity and the other none, the other's numbers
    /// become text (`sql_text_aff`). A side whose type is already the target class is left alone.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn with_affinity(
        &mut self,
        left: &Expr,
        (lt, lty): (Term, SqlType),
        right_aff: Affinity,
        (rt, rty): (Term, SqlType),
        body: &mut Body,
    ) -> (Term, Term) {
        let left_aff = self.affinity(left);
        self.convert_pair(left_aff, (lt, lty), right_aff, (rt, rty), body)
    }

    /// [`Self::with_affinity`] given both affinities.
    pub(super) fn convert_pair(
        &mut self,
        la: Affinity,
        (lt, lty): (Term, SqlType),
        ra: Affinity,
        (rt, rty): (Term, SqlType),
        body: &mut Body,
    ) -> (Term, Term) {
        use Affinity::*;
        let numeric = |ty: SqlType| matches!(ty, SqlType::Int | SqlType::Real | SqlType::Bool);
        match (la, ra) {
            (Numeric, Text | None) if !numeric(rty) => {
                let rt = self.apply("sql_num_aff", vec![rt], body);
                (lt, rt)
            }
            (Text | None, Numeric) if !numeric(lty) => {
                let lt = self.apply("sql_num_aff", vec![lt], body);
                (lt, rt)
            }
            (Text, None) if rty != SqlType::Text => {
                let rt = self.apply("sql_text_aff", vec![rt], body);
                (lt, rt)
            }
            (None, Text) if lty != SqlType::Text => {
                let lt = self.apply("sql_text_aff", vec![lt], body);
                (lt, rt)
            }
            _ => (lt, rt),
        }
    }

    /// A column reference: the term of the column in `body`.
    fn column_expr(&mut self, e: &Expr, body: &mut Body) -> Lowered<(Term, SqlType)> {
        let k = self.resolve_expr_col(e)?;
        let ty = self.key_type(k);
        let t = self.col_term(k, body, false)?;
        Ok((t, ty))
    }

    /// Negation, unary plus and NOT.
    fn unary_expr(&mut self, op: UnOp, expr: &Expr, body: &mut Body) -> Lowered<(Term, SqlType)> {
        let (t, ty) = self.expr(expr, body)?;
        match op {
            // Unary plus is a no-op on any value (it only drops a column's affinity).
            UnOp::Plus => Ok((t, ty)),
            UnOp::Neg => Ok((self.apply("sql_neg", vec![t], body), arith_type(ty, ty))),
            UnOp::Not => Ok((self.apply("sql_not", vec![t], body), SqlType::Bool)),
            UnOp::BitNot => Ok((self.apply("sql_bitnot", vec![t], body), SqlType::Int)),
        }
    }

    /// AND/OR, `||`, comparisons (three-valued, as functions) and arithmetic.
    fn binary_expr(
        &mut self,
        op: BinOp,
        left: &Expr,
        right: &Expr,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (lt, lty) = self.expr(left, body)?;
        let (rt, rty) = self.expr(right, body)?;
        match op {
            BinOp::And | BinOp::Or => {
                let f = if op == BinOp::And {
                    "sql_and"
                } else {
                    "sql_or"
                };
                Ok((self.apply(f, vec![lt, rt], body), SqlType::Bool))
            }
            BinOp::Concat => Ok((self.apply("sql_concat", vec![lt, rt], body), SqlType::Text)),
            op if is_cmp(op) => {
                let ra = self.affinity(right);
                let (lt, rt) = self.with_affinity(left, (lt, lty), ra, (rt, rty), body);
                Ok((
                    self.apply(sql_cmp_fn(op), vec![lt, rt], body),
                    SqlType::Bool,
                ))
            }
            _ => {
                let f = match op {
                    BinOp::BitAnd | BinOp::BitOr | BinOp::Shl | BinOp::Shr => {
                        let f = match op {
                            BinOp::BitAnd => "sql_bitand",
                            BinOp::BitOr => "sql_bitor",
                            BinOp::Shl => "sql_shl",
                            _ => "sql_shr",
                        };
                        return Ok((self.apply(f, vec![lt, rt], body), SqlType::Int));
                    }
                    BinOp::Add => "sql_add",
                    BinOp::Sub => "sql_sub",
                    BinOp::Mul => "sql_mul",
                    BinOp::Div => "sql_div",
                    _ => "sql_mod",
                };
                Ok((self.apply(f, vec![lt, rt], body), arith_type(lty, rty)))
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
        left: &Expr,
        right: &Expr,
        negated: bool,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (lt, lty) = self.expr(left, body)?;
        let (rt, rty) = self.expr(right, body)?;
        let ra = self.affinity(right);
        let (lt, rt) = self.with_affinity(left, (lt, lty), ra, (rt, rty), body);
        let f = if negated { "sql_is_not" } else { "sql_is" };
        Ok((self.apply(f, vec![lt, rt], body), SqlType::Bool))
    }

    /// `x [NOT] BETWEEN low AND high` as `x >= low AND x <= high`.
    fn between_expr(
        &mut self,
        expr: &Expr,
        low: &Expr,
        high: &Expr,
        negated: bool,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let (x, xty) = self.expr(expr, body)?;
        let (lo, loty) = self.expr(low, body)?;
        let (hi, hity) = self.expr(high, body)?;
        let (la, ha) = (self.affinity(low), self.affinity(high));
        let (x1, lo) = self.with_affinity(expr, (x.clone(), xty), la, (lo, loty), body);
        let (x2, hi) = self.with_affinity(expr, (x, xty), ha, (hi, hity), body);
        let a = self.apply("sql_ge", vec![x1, lo], body);
        let b = self.apply("sql_le", vec![x2, hi], body);
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
            // The list's values have no affinity, whatever they are (datatype3 §4.2).
            let (x, t) = self.with_affinity(expr, (x.clone(), xty), Affinity::None, (t, ty), body);
            let eq = self.apply("sql_eq", vec![x, t], body);
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
        // Branches whose test is decided at compile time (a constant test, against a constant
        // operand) are dropped or end the CASE: like SQLite, a branch that is never taken is
        // never evaluated, so its columns need not be grouped.
        let operand = match operand {
            Some(op) => Some(self.expr(op, body)?.0),
            None => None,
        };
        let mut args = Vec::new();
        let mut ty = SqlType::Null;
        let mut taken: Option<(Term, SqlType)> = None;
        for (w, v) in whens {
            let (wt, _) = self.expr(w, body)?;
            let decided = match (&operand, &wt) {
                (Some(Term::Const(x)), Term::Const(c)) => Some(
                    pomo_stdlib::call("sql_eq", &[x.clone(), c.clone()])
                        .ok()
                        .flatten()
                        == Some(Value::Bool(true)),
                ),
                (None, Term::Const(c)) => Some(
                    pomo_stdlib::call("sql_true", std::slice::from_ref(c))
                        .ok()
                        .flatten()
                        == Some(Value::Bool(true)),
                ),
                _ => None,
            };
            match decided {
                Some(false) => self.check_names(v)?,
                Some(true) => {
                    taken = Some(self.expr(v, body)?);
                    // The branches after a taken one are never evaluated.
                    let rest = whens
                        .iter()
                        .skip_while(|(x, _)| !std::ptr::eq(x, w))
                        .skip(1);
                    for (x, y) in rest {
                        self.check_names(x)?;
                        self.check_names(y)?;
                    }
                    if let Some(el) = else_ {
                        self.check_names(el)?;
                    }
                    break;
                }
                None => {
                    let (vt, vty) = self.expr(v, body)?;
                    ty = ty.unify(vty);
                    args.push(wt);
                    args.push(vt);
                }
            }
        }
        let last = match (taken, else_) {
            (Some(t), _) => Some(t),
            (None, Some(el)) => Some(self.expr(el, body)?),
            (None, None) => None,
        };
        if args.is_empty() {
            return Ok(last.unwrap_or((Term::Const(Value::Nil), SqlType::Null)));
        }
        if let Some((t, ety)) = last {
            ty = ty.unify(ety);
            args.push(t);
        }
        let f = match operand {
            Some(x) => {
                args.insert(0, x);
                "sql_case_eq"
            }
            None => "sql_case",
        };
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
            // COALESCE and IFNULL stop at their first argument that is not NULL: the ones after
            // a non-NULL constant are never evaluated (nor need their columns be grouped).
            let stops = matches!(fname, "coalesce" | "ifnull")
                && matches!(&t, Term::Const(v) if *v != Value::Nil);
            terms.push(t);
            tys.push(ty);
            if stops {
                for rest in &args[terms.len()..] {
                    self.check_names(rest)?;
                }
                break;
            }
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
        if args.len() < arity.0 || args.len() > arity.1 {
            self.err(
                "E0866",
                format!("wrong number of arguments to function {fname}()"),
                &e.span,
                "arity",
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
        "abs" => ("sql_abs", (1, 1), {
            let t = tys.first().copied().unwrap_or(SqlType::Null);
            // abs() of text or a blob is a REAL.
            if matches!(
                t,
                SqlType::Int | SqlType::Real | SqlType::Null | SqlType::Bool
            ) {
                arith_type(t, t)
            } else {
                SqlType::Any
            }
        }),
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
        Lit::Blob(b) => Value::Bytes(b.clone()),
    }
}

/// Whether `e` is NULL whatever values its columns have: NULL itself, or an operator that
/// gives NULL when an operand is NULL (arithmetic, comparisons, `||`, bit operators, NOT,
/// CAST, BETWEEN and a non-empty IN list of a NULL operand) with such an operand.
fn definitely_null(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Lit(Lit::Null) => true,
        ExprKind::Unary { expr, .. } | ExprKind::Cast { expr, .. } => definitely_null(expr),
        ExprKind::Binary { op, left, right } => {
            !matches!(op, BinOp::And | BinOp::Or)
                && (definitely_null(left) || definitely_null(right))
        }
        ExprKind::Between { expr, .. } => definitely_null(expr),
        ExprKind::InList { expr, list, .. } => !list.is_empty() && definitely_null(expr),
        _ => false,
    }
}

/// SQLite's affinity of an expression, as far as comparisons go: INTEGER, REAL and NUMERIC
/// act alike there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Affinity {
    Numeric,
    Text,
    None,
}

/// The type of `a op b` for an arithmetic operator (and of `-a` as `arith_type(a, a)`):
/// REAL when either side is, INTEGER for integers, NULL for NULL, else unknown (text is read
/// by its numeric prefix, which may be an integer or a real).
fn arith_type(a: SqlType, b: SqlType) -> SqlType {
    use SqlType::*;
    match (a, b) {
        (Real, _) | (_, Real) => Real,
        (Null, Null) => Null,
        (Int | Bool | Null, Int | Bool | Null) => Int,
        _ => Any,
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
