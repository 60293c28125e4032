//! WHERE clauses: the analysis of a frame's conjuncts (which columns they make non-NULL, which
//! they equate), and the lowering of each conjunct into a rule body.
//!
//! * A WHERE conjunct is the test `sql_true(…)`. Conjuncts `a = b` / `a = 1` over non-null
//!   columns unify the variables (an equijoin or an index probe), and comparisons of values of
//!   one type become constraints (with NULL guards).
//! * Conjuncts that read one base table only filter that table before the join, through a
//!   relation `f(e)` joined in by the entity.
//! * Nothing is refused for its type: any value is a condition (SQLite's dynamic typing), and
//!   comparisons of values of different types go through the three-valued functions with
//!   SQLite's affinity conversions.
//!
//! Invariants: unification only merges required base-table columns of the current frame, and a
//! class never holds two different constants.

use super::expr::{children, cmp_op, is_cmp, lit_value, sql_cmp_fn};
use super::{Body, Class, Lowered, Lowering, ResolvedColumn, SrcKind};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::{Callee, Literal, Term};
use crate::sql::catalog::SqlType;
use pomo_grammar::sql_syntax::{BinOp, Expr, ExprKind, Lit, UnOp};
use pomo_types::Value;
use pomo_types::ra::CmpOp;
use std::collections::{BTreeMap, BTreeSet};

impl Lowering<'_> {
    /// Finds the columns that null-rejecting conjuncts make non-NULL, and unifies those that
    /// `a = b` / `a = const` conjuncts equate.
    pub(super) fn analyze_conds(&mut self, conds: &[&Expr]) {
        let depth = self.depth();
        let mut required: Vec<ResolvedColumn> = Vec::new();
        let mut equal: Vec<(ResolvedColumn, Result<ResolvedColumn, Value>)> = Vec::new();
        for c in conds {
            let mut keys = Vec::new();
            match &c.kind {
                ExprKind::Binary { op, left, right } if is_cmp(*op) => {
                    self.null_rejected(left, &mut keys);
                    self.null_rejected(right, &mut keys);
                    if *op == BinOp::Eq {
                        let l = self.simple_col(left);
                        let r = self.simple_col(right);
                        match (l, r) {
                            (Some(a), Some(b))
                                if a.0 == depth
                                    && b.0 == depth
                                    && self.key_type(a) == self.key_type(b) =>
                            {
                                equal.push((a, Ok(b)));
                            }
                            (Some(a), None) if a.0 == depth => {
                                if let Some(v) = self.lit_for(right, self.key_type(a)) {
                                    equal.push((a, Err(v)));
                                }
                            }
                            (None, Some(b)) if b.0 == depth => {
                                if let Some(v) = self.lit_for(left, self.key_type(b)) {
                                    equal.push((b, Err(v)));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ExprKind::Between {
                    expr,
                    low,
                    high,
                    negated: false,
                } => {
                    self.null_rejected(expr, &mut keys);
                    self.null_rejected(low, &mut keys);
                    self.null_rejected(high, &mut keys);
                }
                ExprKind::IsNull {
                    expr,
                    negated: true,
                } => self.null_rejected(expr, &mut keys),
                ExprKind::InList {
                    expr,
                    negated: false,
                    ..
                }
                | ExprKind::InSubquery {
                    expr,
                    negated: false,
                    ..
                }
                | ExprKind::Like {
                    expr,
                    negated: false,
                    ..
                } => self.null_rejected(expr, &mut keys),
                _ => {}
            }
            required.extend(keys);
        }
        let frame = &mut self.frames[depth];
        for k in required {
            // Only base-table columns (not `id`, which is always there) are read from datoms.
            let is_table = matches!(frame.sources[k.1].kind, SrcKind::Table { .. });
            if k.0 != depth || !is_table || frame.sources[k.1].cols[k.2].name == "id" {
                continue;
            }
            if !frame.required.contains_key(&k) {
                frame.classes.push(Class::default());
                let c = frame.classes.len() - 1;
                frame.required.insert(k, c);
            }
        }
        for (a, b) in equal {
            let Some(&ca) = frame.required.get(&a) else {
                continue;
            };
            match b {
                Ok(b) => {
                    let Some(&cb) = frame.required.get(&b) else {
                        continue;
                    };
                    if ca == cb {
                        continue;
                    }
                    // Merge class cb into ca.
                    let kb = frame.classes[cb].constant.clone();
                    if kb.is_some()
                        && frame.classes[ca].constant.is_some()
                        && frame.classes[ca].constant != kb
                    {
                        continue;
                    }
                    if kb.is_some() {
                        frame.classes[ca].constant = kb;
                    }
                    for v in frame.required.values_mut() {
                        if *v == cb {
                            *v = ca;
                        }
                    }
                }
                Err(v) => {
                    if frame.classes[ca].constant.is_none() {
                        frame.classes[ca].constant = Some(v);
                    }
                }
            }
        }
    }

    /// Columns whose NULL makes the expression NULL (columns under arithmetic only).
    fn null_rejected(&self, e: &Expr, out: &mut Vec<ResolvedColumn>) {
        match &e.kind {
            ExprKind::Column { table, name } => {
                if let Some(k) =
                    self.peek_resolve(table.as_ref().map(|t| t.name.as_str()), &name.name)
                {
                    out.push(k);
                }
            }
            ExprKind::Unary {
                op: UnOp::Neg | UnOp::Plus,
                expr,
            } => self.null_rejected(expr, out),
            ExprKind::Binary {
                op: BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Concat,
                left,
                right,
            } => {
                self.null_rejected(left, out);
                self.null_rejected(right, out);
            }
            _ => {}
        }
    }

    /// A literal as a stored value of a column type (None when it can't equal one).
    fn lit_for(&self, e: &Expr, ty: SqlType) -> Option<Value> {
        let v = match &e.kind {
            ExprKind::Lit(l) => lit_value(l),
            ExprKind::Unary {
                op: UnOp::Neg,
                expr,
            } => match &expr.kind {
                ExprKind::Lit(Lit::Int(i)) => Value::Int(i.checked_neg()?),
                ExprKind::Lit(Lit::Float(f)) => Value::Float(-f),
                _ => return None,
            },
            _ => return None,
        };
        match (ty, v) {
            (SqlType::Int, Value::Int(i)) => Some(Value::Int(i)),
            (SqlType::Int, Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
                Some(Value::Int(f as i64))
            }
            (SqlType::Real, Value::Int(i)) => Some(Value::Float(i as f64)),
            (SqlType::Real, Value::Float(f)) => Some(Value::Float(f)),
            (SqlType::Text, Value::Str(s)) => Some(Value::Str(s)),
            (SqlType::Bool, Value::Bool(b)) => Some(Value::Bool(b)),
            _ => None,
        }
    }

    /// Adds a frame's WHERE conjuncts to a body.
    pub(super) fn conditions(&mut self, conds: &[&Expr], body: &mut Body) -> Lowered<()> {
        // Conjuncts that read one base table only (and are not already answered by the
        // table's atoms) filter that table before the join: `f(e) :- <table row, conjuncts>`,
        // joined in by the entity. Without this, a filter the planner cannot push below a
        // product (a chain of function calls) would run on the whole product.
        let depth = self.depth();
        let mut per_src: BTreeMap<usize, Vec<&Expr>> = BTreeMap::new();
        let mut rest: Vec<&Expr> = Vec::new();
        let multi = self.frames[depth].sources.len() > 1;
        for c in conds {
            match self.single_table(c) {
                Some(si) if multi && !self.answered_by_atoms(c) => {
                    per_src.entry(si).or_default().push(c)
                }
                _ => rest.push(c),
            }
        }
        let mut ok = true;
        for (si, cs) in per_src {
            let SrcKind::Table { id_var, .. } = self.frames[depth].sources[si].kind.clone() else {
                unreachable!("single_table only names tables")
            };
            let mut fb = Body::default();
            fb.touched.insert(si);
            for c in cs {
                if self.condition(c, &mut fb).is_err() {
                    ok = false;
                }
            }
            let lits = self.finish_body(fb);
            let f = self.new_rel("f", vec!["e".into()]);
            self.filters.insert(f);
            let e = vec![("e".to_string(), Term::Var(id_var))];
            self.add_spanned_rule(f, e.clone(), lits);
            body.lits.push(ProgramBuilder::atom(f, e));
            body.touched.insert(si);
            body.bound_rows.insert(si);
        }
        for c in rest {
            if self.condition(c, body).is_err() {
                ok = false;
            }
        }
        if ok { Ok(()) } else { Err(()) }
    }

    /// The one base table of the current frame an expression reads, if it reads exactly one
    /// and nothing else (no subqueries, no enclosing columns).
    fn single_table(&self, e: &Expr) -> Option<usize> {
        /// Collects the sources the columns of `e` resolve to; false when `e` reads anything else.
        fn walk(lw: &Lowering<'_>, e: &Expr, out: &mut BTreeSet<usize>) -> bool {
            match &e.kind {
                ExprKind::Column { table, name } => {
                    match lw.peek_resolve(table.as_ref().map(|t| t.name.as_str()), &name.name) {
                        Some(k) => {
                            out.insert(k.1);
                            true
                        }
                        None => false,
                    }
                }
                ExprKind::Exists(_) | ExprKind::Subquery(_) | ExprKind::InSubquery { .. } => false,
                _ => children(e).into_iter().all(|c| walk(lw, c, out)),
            }
        }
        let mut srcs = BTreeSet::new();
        if !walk(self, e, &mut srcs) || srcs.len() != 1 {
            return None;
        }
        let si = *srcs.iter().next().expect("one");
        matches!(
            self.frames[self.depth()].sources[si].kind,
            SrcKind::Table { .. }
        )
        .then_some(si)
    }

    /// Whether a conjunct holds by the atoms that read its columns (unified equalities, a
    /// column equal to its class constant, IS NOT NULL of a required column).
    fn answered_by_atoms(&self, c: &Expr) -> bool {
        let depth = self.depth();
        let f = &self.frames[depth];
        match &c.kind {
            ExprKind::Binary {
                op: BinOp::Eq,
                left,
                right,
            } => {
                if let (Some(a), Some(b)) = (self.simple_col(left), self.simple_col(right))
                    && let (Some(ca), Some(cb)) = (f.required.get(&a), f.required.get(&b))
                    && ca == cb
                {
                    return true;
                }
                let constant = |col: &Expr, lit: &Expr| {
                    self.simple_col(col).is_some_and(|a| {
                        self.lit_for(lit, self.key_type(a)).is_some_and(|v| {
                            f.required
                                .get(&a)
                                .is_some_and(|&ca| f.classes[ca].constant.as_ref() == Some(&v))
                        })
                    })
                };
                constant(left, right) || constant(right, left)
            }
            ExprKind::IsNull {
                expr,
                negated: true,
            } => self
                .simple_col(expr)
                .is_some_and(|a| f.required.contains_key(&a)),
            _ => false,
        }
    }

    /// Adds one WHERE conjunct to a body, its literals spanned by the conjunct (or by the inner
    /// expressions they come from).
    pub(super) fn condition(&mut self, c: &Expr, body: &mut Body) -> Lowered<()> {
        let start = body.lits.len();
        self.condition_unspanned(c, body)?;
        body.mark_spans(start, &c.span);
        Ok(())
    }

    /// [`Self::condition`] without the spans: unified equalities, semijoins and antijoins,
    /// constraints, and otherwise the truth test of the conjunct's value.
    fn condition_unspanned(&mut self, c: &Expr, body: &mut Body) -> Lowered<()> {
        let depth = self.depth();
        match &c.kind {
            // Unified equalities hold by construction.
            ExprKind::Binary {
                op: BinOp::Eq,
                left,
                right,
            } => {
                if let (Some(a), Some(b)) = (self.simple_col(left), self.simple_col(right)) {
                    let f = &self.frames[depth];
                    if let (Some(ca), Some(cb)) = (f.required.get(&a), f.required.get(&b))
                        && ca == cb
                    {
                        self.col_term(a, body, true)?;
                        self.col_term(b, body, true)?;
                        return Ok(());
                    }
                }
                if let Some(a) = self.simple_col(left)
                    && let Some(v) = self.lit_for(right, self.key_type(a))
                    && let Some(&ca) = self.frames[depth].required.get(&a)
                    && self.frames[depth].classes[ca].constant.as_ref() == Some(&v)
                {
                    self.col_term(a, body, true)?;
                    return Ok(());
                }
                if let Some(b) = self.simple_col(right)
                    && let Some(v) = self.lit_for(left, self.key_type(b))
                    && let Some(&cb) = self.frames[depth].required.get(&b)
                    && self.frames[depth].classes[cb].constant.as_ref() == Some(&v)
                {
                    self.col_term(b, body, true)?;
                    return Ok(());
                }
            }
            ExprKind::IsNull {
                expr,
                negated: true,
            } => {
                if let Some(a) = self.simple_col(expr)
                    && self.frames[depth].required.contains_key(&a)
                {
                    self.col_term(a, body, true)?;
                    return Ok(());
                }
            }
            ExprKind::Exists(q) => {
                return self.within(&c.span, |lw| lw.exists_conj(q, false, body));
            }
            ExprKind::Unary {
                op: UnOp::Not,
                expr,
            } => {
                if let ExprKind::Exists(q) = &expr.kind {
                    return self.within(&c.span, |lw| lw.exists_conj(q, true, body));
                }
            }
            ExprKind::InSubquery {
                expr,
                query,
                negated: false,
            } => {
                return self.within(&c.span, |lw| lw.in_conj(expr, query, body));
            }
            _ => {}
        }
        // Comparisons of two values of one type: a constraint (with NULL guards).
        if let ExprKind::Binary { op, left, right } = &c.kind
            && is_cmp(*op)
        {
            let (lt, lty) = self.expr(left, body)?;
            let (rt, rty) = self.expr(right, body)?;
            if lty == rty && matches!(lty, SqlType::Int | SqlType::Text | SqlType::Real) {
                for t in [&lt, &rt] {
                    if !self.non_null(t, body) {
                        if let Term::Const(Value::Nil) = t {
                            body.lits.push(false_lit());
                        } else {
                            body.lits.push(Literal::Cmp {
                                op: CmpOp::Ne,
                                lhs: t.clone(),
                                rhs: Term::Const(Value::Nil),
                            });
                        }
                    }
                }
                let op = cmp_op(*op);
                if let (Term::Const(a), Term::Const(b)) = (&lt, &rt) {
                    if !const_cmp(op, a, b) {
                        body.lits.push(false_lit());
                    }
                    return Ok(());
                }
                body.lits.push(Literal::Cmp {
                    op,
                    lhs: lt,
                    rhs: rt,
                });
                return Ok(());
            }
            let ra = self.affinity(right);
            let (lt, rt) = self.with_affinity(left, (lt, lty), ra, (rt, rty), body);
            let name = sql_cmp_fn(*op);
            let t = self.apply(name, vec![lt, rt], body);
            return self.truth_test(t, body);
        }
        let (t, _) = self.expr(c, body)?;
        self.truth_test(t, body)
    }

    /// Keeps the rows where `t` is TRUE: the test `sql_true(t)`; a constant adds nothing when
    /// it is TRUE and a literal that never holds otherwise.
    pub(super) fn truth_test(&mut self, t: Term, body: &mut Body) -> Lowered<()> {
        match t {
            Term::Const(v) => {
                if !truthy_sql(&v) {
                    body.lits.push(false_lit());
                }
            }
            t => body.lits.push(Literal::Test {
                func: Callee::Builtin("sql_true".into()),
                args: vec![t],
                negated: false,
            }),
        }
        Ok(())
    }

    /// Whether `t` cannot be NULL in `body`: a non-NULL constant, or a variable some datom's
    /// value binds.
    pub(super) fn non_null(&self, t: &Term, body: &Body) -> bool {
        match t {
            Term::Const(v) => *v != Value::Nil,
            Term::Var(v) => {
                // Variables bound by datom values are never NULL.
                body.lits.iter().any(|l| match l {
                    Literal::Pos { atom, .. } if atom.rel == self.datom => atom
                        .args
                        .iter()
                        .any(|(a, t)| a == "v" && t.var() == Some(v.as_str())),
                    _ => false,
                })
            }
            Term::Wild => false,
        }
    }
}

/// A literal that never holds (`0 == 1`): the body of a conjunct known to be false.
pub(super) fn false_lit() -> Literal {
    Literal::Cmp {
        op: CmpOp::Eq,
        lhs: Term::Const(Value::Int(0)),
        rhs: Term::Const(Value::Int(1)),
    }
}

/// A comparison of two constants, evaluated now.
fn const_cmp(op: CmpOp, a: &Value, b: &Value) -> bool {
    let o = a.cmp(b);
    match op {
        CmpOp::Eq => o.is_eq(),
        CmpOp::Ne => o.is_ne(),
        CmpOp::Lt => o.is_lt(),
        CmpOp::Le => o.is_le(),
        CmpOp::Gt => o.is_gt(),
        CmpOp::Ge => o.is_ge(),
    }
}

/// Whether a constant is TRUE as a SQL condition (non-zero numbers are; NULL is not).
fn truthy_sql(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        _ => false,
    }
}

/// The conjuncts of `e`: the operands of its top-level ANDs, left to right.
pub(super) fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::And,
            left,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        _ => out.push(e),
    }
}
