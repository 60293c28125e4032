//! Queries: the top query (ORDER BY, LIMIT and OFFSET shape its result), WITH and recursive
//! common table expressions, compound SELECTs (UNION, INTERSECT, EXCEPT), VALUES, and the names
//! of output columns.
//!
//! * ORDER BY / LIMIT / OFFSET shape the top-level result ([`pomo_types::ra::SqlShape`]); only
//!   the outermost query may use them. ORDER BY terms that are not output columns are computed
//!   as extra columns after the select list (simple SELECTs only).
//! * WITH RECURSIVE is a recursive relation (UNION only: UNION ALL has no set fixpoint).
//! * UNION ALL keeps its rows apart by a branch tag as its first identity column; the other set
//!   operations are over the value columns only.
//!
//! Invariants: CTEs a query declares are visible only while it is lowered (`ctes` is truncated
//! back on the way out), and only the top query makes the output relation [`super::OUTPUT`].

use super::OUTPUT;
use super::expr::expr_text;
use super::{Body, Frame, Lowered, Lowering, RelOut, SqlColumns, col_attr, id_attr};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::{Atom, Literal, RelId, Term};
use crate::sql::catalog::SqlType;
use pomo_grammar::span::Span;
use pomo_grammar::sql_syntax::{
    Expr, ExprKind, FromItem, Lit, Select, SelectItem, SetExpr, SetOp, SqlQuery, TableRef,
};
use pomo_types::Value;
use pomo_types::ra::{OutputSpec, RelKind, SqlShape};

impl Lowering<'_> {
    /// Lowers the outermost query in its own frame; `None` when it failed (see `errors`).
    pub(super) fn top_query(&mut self, q: &SqlQuery) -> Option<SqlColumns> {
        self.frames.push(Frame {
            visible: true,
            ..Frame::default()
        });
        self.domains.push(None);
        let r = self.within(&q.span, |lw| lw.top_query_inner(q));
        self.frames.pop();
        self.domains.pop();
        r.ok()
    }

    /// The outermost query: its body, then ORDER BY, LIMIT and OFFSET as the output's
    /// [`SqlShape`], and the rule of the output relation.
    fn top_query_inner(&mut self, q: &SqlQuery) -> Lowered<SqlColumns> {
        let n_ctes = self.ctes.len();
        if let Some(w) = &q.with {
            self.with(w)?;
        }
        // ORDER BY: ordinals and output names refer to output columns; other expressions are
        // computed beside the select list (simple selects only).
        let names = self.output_names(&q.body);
        let mut order_cols: Vec<(Option<usize>, Option<&Expr>, bool)> = Vec::new();
        for o in &q.order_by {
            match &o.expr.kind {
                ExprKind::Lit(Lit::Int(k)) => {
                    if *k < 1 || *k as usize > names.len() {
                        self.err(
                            "E0830",
                            format!(
                                "ORDER BY term {k} is out of range: the result has {} column(s)",
                                names.len()
                            ),
                            &o.expr.span,
                            "no such column",
                        );
                        return Err(());
                    }
                    order_cols.push((Some(*k as usize - 1), None, o.desc));
                }
                // A bare name that is a result column's name (alias or column) sorts by it.
                ExprKind::Column { table: None, name }
                    if names
                        .iter()
                        .any(|n| n.as_deref() == Some(name.name.as_str())) =>
                {
                    let i = names
                        .iter()
                        .position(|n| n.as_deref() == Some(name.name.as_str()))
                        .expect("checked");
                    order_cols.push((Some(i), None, o.desc));
                }
                _ => order_cols.push((None, Some(&o.expr), o.desc)),
            }
        }
        // SELECT DISTINCT sorts its distinct rows, so a sort key must be one of them: a key
        // computed beside the select list would keep apart rows DISTINCT merges. Refused, as
        // PostgreSQL refuses it (SQLite sorts by one of the merged rows' keys, unspecified).
        if let SetExpr::Select(s) = &q.body
            && s.distinct
        {
            for oc in order_cols.iter_mut() {
                let Some(e) = oc.1 else { continue };
                match self.match_output(e, &names) {
                    Some(i) => *oc = (Some(i), None, oc.2),
                    None => {
                        self.err(
                            "E0871",
                            "an ORDER BY term of a SELECT DISTINCT must be one of its result columns",
                            &e.span,
                            "not a result column",
                        );
                        return Err(());
                    }
                }
            }
        }
        let extra: Vec<&Expr> = order_cols.iter().filter_map(|(_, e, _)| *e).collect();
        let out = match &q.body {
            SetExpr::Select(s) => self.select(s, true, &extra)?,
            other => {
                // A compound select: extra sort expressions must name output columns.
                let out = self.set_expr(other, true)?;
                let mut extra_idx = Vec::new();
                for e in &extra {
                    let i = self.match_output(e, &names);
                    match i {
                        Some(i) => extra_idx.push(i),
                        None => {
                            self.err(
                                "E0831",
                                "an ORDER BY term of a compound SELECT must name a result column",
                                &e.span,
                                "not a result column",
                            );
                            return Err(());
                        }
                    }
                }
                let mut k = 0;
                for oc in order_cols.iter_mut() {
                    if oc.1.is_some() {
                        oc.0 = Some(extra_idx[k]);
                        oc.1 = None;
                        k += 1;
                    }
                }
                out
            }
        };
        let n_print = names.len();
        let mut order = Vec::new();
        let mut k = 0;
        for (i, e, desc) in &order_cols {
            let col = match (i, e) {
                (Some(i), _) => out.ids + i,
                _ => {
                    k += 1;
                    out.ids + n_print + k - 1
                }
            };
            order.push((col, *desc));
        }
        let (limit, offset) = match &q.limit {
            Some(l) => {
                let lim = self.const_int(&l.limit)?;
                let off = match &l.offset {
                    Some(o) => self.const_int(o)?,
                    None => 0,
                };
                (
                    if lim < 0 { None } else { Some(lim as u64) },
                    off.max(0) as u64,
                )
            }
            None => (None, 0),
        };
        let names: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| n.clone().unwrap_or_else(|| format!("column{}", i + 1)))
            .collect();
        let spec = OutputSpec {
            sql: Some(SqlShape {
                hidden: out.ids,
                names: names.clone(),
                order,
                limit,
                offset,
            }),
            ..OutputSpec::relation()
        };
        let total = out.ids + out.cols.len();
        let mut attrs: Vec<String> = (0..out.ids).map(id_attr).collect();
        attrs.extend((0..out.cols.len()).map(col_attr));
        let q_rel = self.builder.relation(OUTPUT, RelKind::Output(spec), []);
        let args: Vec<(String, Term)> = attrs
            .iter()
            .map(|a| (a.clone(), Term::Var(format!("?{a}"))))
            .collect();
        debug_assert_eq!(args.len(), total);
        self.add_rule(
            q_rel,
            args.clone(),
            vec![ProgramBuilder::atom(out.rel, args)],
        );
        self.ctes.truncate(n_ctes);
        Ok(SqlColumns {
            names,
            types: out.cols.iter().take(n_print).map(|c| c.1).collect(),
        })
    }

    /// The value of an integer constant expression (LIMIT, OFFSET), else E0832.
    fn const_int(&mut self, e: &Expr) -> Lowered<i64> {
        match self.fold_const(e) {
            Some(Value::Int(i)) => Ok(i),
            _ => {
                self.err(
                    "E0832",
                    "LIMIT and OFFSET take an integer constant",
                    &e.span,
                    "not an integer constant",
                );
                Err(())
            }
        }
    }

    /// Evaluates a constant expression (literals, arithmetic, functions of constants).
    fn fold_const(&mut self, e: &Expr) -> Option<Value> {
        self.frames.push(Frame {
            visible: false,
            ..Frame::default()
        });
        self.domains.push(None);
        let mut body = Body::default();
        let n_err = self.errors.len();
        let r = self.expr(e, &mut body);
        self.frames.pop();
        self.domains.pop();
        self.errors.truncate(n_err);
        match r {
            Ok((Term::Const(v), _)) if body.lits.is_empty() => Some(v),
            _ => None,
        }
    }

    /// The output names of a query body: aliases, column names, or `None` for expressions.
    fn output_names(&self, body: &SetExpr) -> Vec<Option<String>> {
        match body {
            SetExpr::SetOp { left, .. } => self.output_names(left),
            SetExpr::Values(rows, _) => (0..rows.first().map_or(0, |r| r.0.len()))
                .map(|i| Some(format!("column{}", i + 1)))
                .collect(),
            SetExpr::Select(s) => {
                let mut out = Vec::new();
                for it in &s.items {
                    match it {
                        SelectItem::Expr { alias: Some(a), .. } => out.push(Some(a.name.clone())),
                        SelectItem::Expr { expr, .. } => out.push(match &expr.kind {
                            ExprKind::Column { name, .. } => Some(name.name.clone()),
                            _ => Some(expr_text(expr)),
                        }),
                        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                            for (q, c) in self.star_names(s, it) {
                                let _ = q;
                                out.push(Some(c));
                            }
                        }
                    }
                }
                out
            }
        }
    }

    /// The (qualifier, name) pairs a `*` or `t.*` expands to, from the FROM clause's tables
    /// (catalog tables and CTEs; derived tables by their select lists).
    fn star_names(&self, s: &Select, item: &SelectItem) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let want = match item {
            SelectItem::QualifiedWildcard(q, _) => Some(q.name.as_str()),
            _ => None,
        };
        /// The table references of a FROM item, those of parenthesised join trees in order.
        fn table_refs<'a>(f: &'a FromItem, out: &mut Vec<&'a TableRef>) {
            for t in std::iter::once(&f.first).chain(f.joins.iter().map(|j| &j.table)) {
                match t {
                    TableRef::Nested { from, .. } => table_refs(from, out),
                    t => out.push(t),
                }
            }
        }
        let mut refs: Vec<&TableRef> = Vec::new();
        for f in &s.from {
            table_refs(f, &mut refs);
        }
        for r in refs {
            let (qual, cols): (String, Vec<String>) = match r {
                TableRef::Table { name, alias, .. } => {
                    let qual = alias.as_ref().unwrap_or(name).name.clone();
                    if let Some((_, o)) = self.ctes.iter().rev().find(|(n, _)| *n == name.name) {
                        (qual, o.cols.iter().map(|c| c.0.clone()).collect())
                    } else if let Some(v) = self.cat.view(&name.name) {
                        let names = v.columns.clone().unwrap_or_else(|| {
                            self.output_names(&v.query.body)
                                .into_iter()
                                .enumerate()
                                .map(|(i, n)| n.unwrap_or_else(|| format!("column{}", i + 1)))
                                .collect()
                        });
                        (qual, names)
                    } else if let Some(t) = self.cat.table(&name.name) {
                        (qual, t.columns.iter().map(|c| c.name.clone()).collect())
                    } else {
                        (qual, Vec::new())
                    }
                }
                TableRef::Nested { .. } => unreachable!("table_refs opens parenthesised joins"),
                TableRef::Derived { query, alias, .. } => (
                    alias.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
                    self.output_names(&query.body)
                        .into_iter()
                        .enumerate()
                        .map(|(i, n)| n.unwrap_or_else(|| format!("column{}", i + 1)))
                        .collect(),
                ),
            };
            if want.is_none_or(|w| w == qual) {
                out.extend(cols.into_iter().map(|c| (qual.clone(), c)));
            }
        }
        out
    }

    /// The output column a compound SELECT's ORDER BY term names, by name or text.
    fn match_output(&self, e: &Expr, names: &[Option<String>]) -> Option<usize> {
        match &e.kind {
            ExprKind::Column { name, .. } => names
                .iter()
                .position(|n| n.as_deref() == Some(name.name.as_str())),
            _ => {
                let t = expr_text(e);
                names.iter().position(|n| n.as_deref() == Some(t.as_str()))
            }
        }
    }

    /// Lowers a WITH clause's CTEs in order, each visible to the ones after it.
    pub(super) fn with(&mut self, w: &pomo_grammar::sql_syntax::With) -> Lowered<()> {
        for cte in &w.ctes {
            if !cte.query.order_by.is_empty() || cte.query.limit.is_some() {
                self.no_order_in_subquery(&cte.query);
                return Err(());
            }
            let recursive = w.recursive && query_mentions(&cte.query, &cte.name.name);
            let out = if recursive {
                self.within(&cte.span, |lw| lw.recursive_cte(cte))?
            } else {
                let mut out = self.subquery_rel(&cte.query, true)?;
                if let Some(cols) = &cte.columns {
                    if cols.len() != out.cols.len() {
                        self.err(
                            "E0833",
                            format!(
                                "`{}` names {} column(s) but its query has {}",
                                cte.name.name,
                                cols.len(),
                                out.cols.len()
                            ),
                            &cte.span,
                            "column count mismatch",
                        );
                        return Err(());
                    }
                    for (c, n) in out.cols.iter_mut().zip(cols) {
                        c.0 = n.name.clone();
                    }
                }
                out
            };
            self.ctes.push((cte.name.name.clone(), out));
        }
        Ok(())
    }

    /// A recursive CTE `base UNION step`: a relation with a rule from each side, the step
    /// reading the relation itself.
    fn recursive_cte(&mut self, cte: &pomo_grammar::sql_syntax::Cte) -> Lowered<RelOut> {
        let q = &cte.query;
        let SetExpr::SetOp {
            op: SetOp::Union,
            all,
            left,
            right,
            op_span,
        } = &q.body
        else {
            self.err(
                "E0834",
                format!(
                    "a recursive common table expression is `base UNION recursive-part`; `{}` is not",
                    cte.name.name
                ),
                &cte.span,
                "not a UNION",
            );
            return Err(());
        };
        if *all {
            self.err(
                "E0835",
                "UNION ALL in a recursive common table expression is outside the subset: it has no set-semantics fixpoint",
                op_span,
                "use UNION",
            );
            return Err(());
        }
        let base = self.set_expr_sub(left, false)?;
        let mut cols = base.cols.clone();
        if let Some(names) = &cte.columns {
            if names.len() != cols.len() {
                self.err(
                    "E0833",
                    format!(
                        "`{}` names {} column(s) but its query has {}",
                        cte.name.name,
                        names.len(),
                        cols.len()
                    ),
                    &cte.span,
                    "column count mismatch",
                );
                return Err(());
            }
            for (c, n) in cols.iter_mut().zip(names) {
                c.0 = n.name.clone();
            }
        }
        let attrs: Vec<String> = (0..cols.len()).map(col_attr).collect();
        let rel = self.new_rel("cte", attrs.clone());
        let out = RelOut {
            rel,
            params: 0,
            ids: 0,
            cols: cols.clone(),
        };
        self.copy_rule(rel, &base);
        self.ctes.push((cte.name.name.clone(), out.clone()));
        let rec = self.set_expr_sub(right, false);
        self.ctes.pop();
        let rec = rec?;
        if rec.cols.len() != cols.len() {
            self.err(
                "E0836",
                "the parts of a UNION have different numbers of columns",
                op_span,
                "column count mismatch",
            );
            return Err(());
        }
        self.copy_rule(rel, &rec);
        Ok(out)
    }

    /// `to(c…) :- from(c…)` (value columns only).
    fn copy_rule(&mut self, to: RelId, from: &RelOut) {
        let args: Vec<(String, Term)> = (0..from.cols.len())
            .map(|i| (col_attr(i), Term::Var(format!("?c{i}"))))
            .collect();
        let body = vec![ProgramBuilder::atom(from.rel, args.clone())];
        self.add_rule(to, args, body);
    }

    /// Refuses ORDER BY or LIMIT below the outermost query (E0837).
    pub(super) fn no_order_in_subquery(&mut self, q: &SqlQuery) {
        let span = q
            .order_by
            .first()
            .map(|o| o.span.clone())
            .or_else(|| q.limit.as_ref().map(|l| l.span.clone()))
            .unwrap_or(q.span.clone());
        self.err(
            "E0837",
            "ORDER BY and LIMIT are allowed only on the outermost query",
            &span,
            "inside a subquery",
        );
    }

    /// Lowers a subquery (derived table, CTE, IN/EXISTS/scalar operand) in a new frame.
    pub(super) fn subquery_rel(&mut self, q: &SqlQuery, want_ids: bool) -> Lowered<RelOut> {
        if !q.order_by.is_empty() || q.limit.is_some() {
            self.no_order_in_subquery(q);
            return Err(());
        }
        let n_ctes = self.ctes.len();
        let r = self.within(&q.span, |lw| {
            if let Some(w) = &q.with {
                lw.with(w)?;
            }
            lw.set_expr_sub(&q.body, want_ids)
        });
        self.ctes.truncate(n_ctes);
        r
    }

    /// A query body in its own frame (correlated: params).
    fn set_expr_sub(&mut self, body: &SetExpr, want_ids: bool) -> Lowered<RelOut> {
        self.set_expr(body, want_ids)
    }

    /// Lowers a query body (SELECT, VALUES or a compound SELECT) to a relation.
    pub(super) fn set_expr(&mut self, body: &SetExpr, want_ids: bool) -> Lowered<RelOut> {
        match body {
            SetExpr::Select(s) => self.select(s, want_ids, &[]),
            SetExpr::Values(rows, span) => self.within(span, |lw| lw.values(rows, want_ids)),
            SetExpr::SetOp {
                op,
                all,
                left,
                right,
                op_span,
            } => self.within(op_span, |lw| {
                lw.set_operation(*op, *all, left, right, op_span, want_ids)
            }),
        }
    }

    /// A compound SELECT: UNION [ALL], INTERSECT or EXCEPT of two query bodies. UNION ALL keeps
    /// a branch tag and the sides' identities; the others are sets of value columns.
    fn set_operation(
        &mut self,
        op: SetOp,
        all: bool,
        left: &SetExpr,
        right: &SetExpr,
        op_span: &Span,
        want_ids: bool,
    ) -> Lowered<RelOut> {
        if all && op != SetOp::Union {
            self.err(
                "E0838",
                format!(
                    "{} ALL is outside the subset",
                    if op == SetOp::Intersect {
                        "INTERSECT"
                    } else {
                        "EXCEPT"
                    }
                ),
                op_span,
                "not supported",
            );
            return Err(());
        }
        let bag = all && want_ids;
        let l = self.set_expr(left, bag)?;
        let r = self.set_expr(right, bag)?;
        if l.cols.len() != r.cols.len() {
            self.err(
                "E0836",
                "the parts of a compound SELECT have different numbers of columns",
                op_span,
                "column count mismatch",
            );
            return Err(());
        }
        if l.params > 0 || r.params > 0 {
            return self.set_op_params(op, all, &l, &r, op_span);
        }
        let cols: Vec<(String, SqlType)> = l
            .cols
            .iter()
            .zip(&r.cols)
            .map(|(a, b)| (a.0.clone(), a.1.unify(b.1)))
            .collect();
        let n = cols.len();
        let ids = if bag { 1 + l.ids.max(r.ids) } else { 0 };
        let mut attrs: Vec<String> = (0..ids).map(id_attr).collect();
        attrs.extend((0..n).map(col_attr));
        let rel = self.new_rel("u", attrs);
        let cvars: Vec<(String, Term)> = (0..n)
            .map(|i| (col_attr(i), Term::Var(format!("?c{i}"))))
            .collect();
        match op {
            SetOp::Union => {
                for (tag, side) in [(0, &l), (1, &r)] {
                    let mut head = Vec::new();
                    let mut src = cvars.clone();
                    if bag {
                        head.push((id_attr(0), Term::Const(Value::Int(tag))));
                        for k in 0..ids - 1 {
                            if k < side.ids {
                                let v = Term::Var(format!("?i{k}"));
                                head.push((id_attr(k + 1), v.clone()));
                                src.push((id_attr(k), v));
                            } else {
                                head.push((id_attr(k + 1), Term::Const(Value::Nil)));
                            }
                        }
                    }
                    head.extend(cvars.iter().cloned());
                    self.add_rule(rel, head, vec![ProgramBuilder::atom(side.rel, src)]);
                }
            }
            SetOp::Intersect => {
                let body = vec![
                    ProgramBuilder::atom(l.rel, cvars.clone()),
                    ProgramBuilder::atom(r.rel, cvars.clone()),
                ];
                self.add_rule(rel, cvars.clone(), body);
            }
            SetOp::Except => {
                let body = vec![
                    ProgramBuilder::atom(l.rel, cvars.clone()),
                    Literal::Neg(Atom {
                        rel: r.rel,
                        args: cvars.clone(),
                    }),
                ];
                self.add_rule(rel, cvars.clone(), body);
            }
        }
        Ok(RelOut {
            rel,
            params: 0,
            ids,
            cols,
        })
    }

    /// Refuses a compound SELECT whose parts read the enclosing query (E0839).
    fn set_op_params(
        &mut self,
        _op: SetOp,
        _all: bool,
        _l: &RelOut,
        _r: &RelOut,
        span: &Span,
    ) -> Lowered<RelOut> {
        self.err(
            "E0839",
            "a compound SELECT inside a correlated subquery is outside the subset",
            span,
            "reads columns of the enclosing query",
        );
        Err(())
    }

    /// VALUES rows of constants as facts, numbered as identities when `want_ids`.
    pub(super) fn values(&mut self, rows: &[(Vec<Expr>, Span)], want_ids: bool) -> Lowered<RelOut> {
        let n = rows.first().map_or(0, |r| r.0.len());
        let mut types = vec![SqlType::Null; n];
        let mut consts = Vec::new();
        for (row, span) in rows {
            if row.len() != n {
                self.err(
                    "E0836",
                    "all VALUES rows must have the same number of values",
                    span,
                    "different length",
                );
                return Err(());
            }
            let mut vals = Vec::new();
            for (i, e) in row.iter().enumerate() {
                let mut body = Body::default();
                let (t, ty) = self.expr(e, &mut body)?;
                let Term::Const(v) = t else {
                    self.err(
                        "E0840",
                        "VALUES takes constant expressions",
                        &e.span,
                        "not constant",
                    );
                    return Err(());
                };
                types[i] = types[i].unify(ty);
                vals.push(v);
            }
            consts.push(vals);
        }
        let ids = usize::from(want_ids);
        let mut attrs: Vec<String> = (0..ids).map(id_attr).collect();
        attrs.extend((0..n).map(col_attr));
        let rel = self.new_rel("v", attrs);
        for (k, vals) in consts.into_iter().enumerate() {
            let mut head = Vec::new();
            if want_ids {
                head.push((id_attr(0), Term::Const(Value::Int(k as i64))));
            }
            head.extend(
                vals.into_iter()
                    .enumerate()
                    .map(|(i, v)| (col_attr(i), Term::Const(v))),
            );
            self.add_rule(rel, head, Vec::new());
        }
        Ok(RelOut {
            rel,
            params: 0,
            ids,
            cols: (0..n)
                .map(|i| (format!("column{}", i + 1), types[i]))
                .collect(),
        })
    }
}

/// Whether a query reads the named table anywhere (for WITH RECURSIVE).
fn query_mentions(q: &SqlQuery, name: &str) -> bool {
    format!("{q}")
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w.eq_ignore_ascii_case(name))
}
