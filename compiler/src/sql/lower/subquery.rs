//! Subqueries in conditions and expressions: EXISTS, IN and scalar subqueries, and their
//! decorrelation.
//!
//! * A subquery that reads columns of an enclosing query becomes a relation whose leading
//!   columns (`p0, p1, …`) are those values, computed for a *domain* relation of the enclosing
//!   rows' values.
//! * EXISTS and IN are semijoins and antijoins where they are top-level conjuncts, and relations
//!   of three-valued truth values elsewhere.
//! * A scalar subquery must be an aggregate without GROUP BY, which has exactly one row per
//!   parameter (the empty-input row comes from a rule over the domain: `COUNT` 0, the others
//!   NULL).
//!
//! Invariants: a negated test reads its relation restricted to the keys it shares with the
//! enclosing rule (`ne(k: 0, keys…)`), so it never has unbound variables.

use super::conditions::false_lit;
use super::expr::Affinity;
use super::grouping::has_aggregate;
use super::{
    Body, Correlated, Lowered, Lowering, ResolvedColumn, SpannedLits, col_attr, param_attr,
};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::{Atom, Bind, Callee, Literal, RelId, Term};
use crate::sql::catalog::SqlType;
use pomo_grammar::sql_syntax::{Expr, SelectItem, SetExpr, SqlQuery};
use pomo_types::Value;
use pomo_types::ra::CmpOp;

impl Lowering<'_> {
    /// `d(p0, p1, …) :- <the enclosing frame's rows binding those columns>`.
    pub(super) fn domain_rule(
        &mut self,
        d: RelId,
        params: &[(ResolvedColumn, String)],
    ) -> Lowered<()> {
        let mut body = Body::default();
        let mut head = Vec::new();
        for (i, (key, _)) in params.iter().enumerate() {
            let t = self.col_term(*key, &mut body, false)?;
            head.push((param_attr(i), t));
        }
        let lits = self.finish_body(body);
        self.add_spanned_rule(d, head, lits);
        Ok(())
    }

    /// The terms of a subquery's parameters in the current body.
    fn param_terms(
        &mut self,
        sub_params: &[(ResolvedColumn, String)],
        body: &mut Body,
    ) -> Lowered<Vec<(String, Term)>> {
        let mut out = Vec::new();
        for (i, (k, _)) in sub_params.iter().enumerate() {
            let t = self.col_term(*k, body, false)?;
            out.push((param_attr(i), t));
        }
        Ok(out)
    }

    /// Lowers a subquery and returns its relation with the enclosing columns it reads and,
    /// when it reads any, its domain relation (those columns' values).
    pub(super) fn correlated(&mut self, q: &SqlQuery, want_ids: bool) -> Lowered<Correlated> {
        if !q.order_by.is_empty() || q.limit.is_some() {
            self.no_order_in_subquery(q);
            return Err(());
        }
        self.within(&q.span, |lw| {
            let n_ctes = lw.ctes.len();
            if let Some(w) = &q.with {
                lw.with(w)?;
            }
            // Lower the body in a frame we can inspect for params.
            let r = match &q.body {
                SetExpr::Select(s) => lw.select_frame(s, want_ids, &[]),
                other => lw.set_expr(other, want_ids).map(|o| (o, Vec::new(), None)),
            };
            lw.ctes.truncate(n_ctes);
            r
        })
    }

    /// `[NOT] EXISTS (q)` as a conjunct: a semijoin, or an antijoin through `ne`.
    pub(super) fn exists_conj(
        &mut self,
        q: &SqlQuery,
        negated: bool,
        body: &mut Body,
    ) -> Lowered<()> {
        let (out, params, _) = self.correlated(q, false)?;
        let args = self.param_terms(&params, body)?;
        let atom = Atom {
            rel: out.rel,
            args: args.clone(),
        };
        if negated {
            // `!s(p…)` must see s restricted to the parameters only.
            let lit = Literal::Pos { cid: None, atom };
            let neg = self.negated_exists_keys(lit, &args);
            body.lits.push(neg);
        } else {
            body.lits.push(Literal::Pos { cid: None, atom });
        }
        Ok(())
    }

    /// A relation that is non-empty exactly when `lit`'s relation (restricted to `keys`)
    /// holds: `ne(k: 0, keys…) :- lit.`; returns the negated test `!ne(k: 0, keys…)`.
    pub(super) fn negated_exists(&mut self, lit: Literal, keys: Vec<(String, Term)>) -> Literal {
        let mut attrs = vec!["k".to_string()];
        attrs.extend(keys.iter().map(|(a, _)| a.clone()));
        let ne = self.new_rel("ne", attrs);
        let mut head = vec![("k".to_string(), Term::Const(Value::Int(0)))];
        head.extend(keys.iter().cloned());
        self.add_rule(ne, head.clone(), vec![lit]);
        Literal::Neg(Atom {
            rel: ne,
            args: head,
        })
    }

    /// `!ne(k: 0, keys…)` where `ne(k: 0, keys…) :- lit`: the key attributes of `lit` are
    /// renamed to fresh variables inside the rule (its other arguments stay), and the outer
    /// terms of `args` stand for them in the negated atom.
    pub(super) fn negated_exists_keys(&mut self, lit: Literal, args: &[(String, Term)]) -> Literal {
        let Literal::Pos { atom, .. } = lit else {
            unreachable!("called with positive atoms")
        };
        let mut inner = atom.clone();
        let mut keys = Vec::new();
        for (a, t) in inner.args.iter_mut() {
            if args.iter().any(|(x, _)| x == a) {
                let v = Term::Var(format!("?{a}"));
                *t = v.clone();
                keys.push((a.clone(), v));
            }
        }
        let Literal::Neg(mut neg) = self.negated_exists(
            Literal::Pos {
                cid: None,
                atom: inner,
            },
            keys,
        ) else {
            unreachable!("negated_exists returns a negation")
        };
        for (a, t) in neg.args.iter_mut() {
            if let Some((_, outer)) = args.iter().find(|(x, _)| x == a) {
                *t = outer.clone();
            }
        }
        Literal::Neg(neg)
    }

    /// `x IN (q)` as a conjunct: a semijoin on the value (or a truth test of `sql_eq` when the
    /// types differ).
    pub(super) fn in_conj(&mut self, x: &Expr, q: &SqlQuery, body: &mut Body) -> Lowered<()> {
        let (out, params, _) = self.correlated(q, false)?;
        if out.cols.len() != 1 {
            self.err(
                "E0854",
                format!(
                    "the subquery of IN returns {} columns; it must return one",
                    out.cols.len()
                ),
                &q.span,
                "one column expected",
            );
            return Err(());
        }
        let (xt, xty) = self.expr(x, body)?;
        let mut args = self.param_terms(&params, body)?;
        let yty = out.cols[0].1;
        // A semijoin on the value where both sides hold one class of values (equal values are
        // then equal as SQLite compares them); else `sql_eq` with x's affinity applied.
        if (xty == yty && matches!(xty, SqlType::Int | SqlType::Real | SqlType::Text))
            || xty == SqlType::Null
        {
            if !self.non_null(&xt, body) {
                if xt == Term::Const(Value::Nil) {
                    body.lits.push(false_lit());
                    return Ok(());
                }
                body.lits.push(Literal::Cmp {
                    op: CmpOp::Ne,
                    lhs: xt.clone(),
                    rhs: Term::Const(Value::Nil),
                });
            }
            args.push((col_attr(0), xt));
            body.lits.push(ProgramBuilder::atom(out.rel, args));
        } else {
            let y = Term::Var(self.fresh("y"));
            args.push((col_attr(0), y.clone()));
            body.lits.push(ProgramBuilder::atom(out.rel, args));
            let (xt, y) = self.with_affinity(x, (xt, xty), Affinity::None, (y, yty), body);
            let t = self.apply("sql_eq", vec![xt, y], body);
            self.truth_test(t, body)?;
        }
        Ok(())
    }

    /// `EXISTS (q)` as a value: `ex(p…, b)` over the subquery's domain.
    pub(super) fn exists_value(&mut self, q: &SqlQuery, body: &mut Body) -> Lowered<Term> {
        let (out, params, domain) = self.correlated(q, false)?;
        let args = self.param_terms(&params, body)?;
        let pv: Vec<(String, Term)> = (0..params.len())
            .map(|i| (param_attr(i), Term::Var(format!("?p{i}"))))
            .collect();
        let mut attrs: Vec<String> = pv.iter().map(|(a, _)| a.clone()).collect();
        attrs.push("b".into());
        let ex = self.new_rel("ex", attrs);
        let mut h1 = pv.clone();
        h1.push(("b".into(), Term::Const(Value::Bool(true))));
        self.add_rule(ex, h1, vec![ProgramBuilder::atom(out.rel, pv.clone())]);
        let mut h0 = pv.clone();
        h0.push(("b".into(), Term::Const(Value::Bool(false))));
        let neg = self.negated_exists_keys(ProgramBuilder::atom(out.rel, pv.clone()), &pv);
        let mut b0 = Vec::new();
        if let Some(d) = domain {
            b0.push(ProgramBuilder::atom(d, pv.clone()));
        }
        b0.push(neg);
        self.add_rule(ex, h0, b0);
        let v = Term::Var(self.fresh("ex"));
        let mut a = args;
        a.push(("b".into(), v.clone()));
        body.lits.push(ProgramBuilder::atom(ex, a));
        Ok(v)
    }

    /// `x IN (q)` as a three-valued value over the domain of (params, x).
    pub(super) fn in_value(&mut self, x: &Expr, q: &SqlQuery, body: &mut Body) -> Lowered<Term> {
        let (out, params, _) = self.correlated(q, false)?;
        if out.cols.len() != 1 {
            self.err(
                "E0854",
                format!(
                    "the subquery of IN returns {} columns; it must return one",
                    out.cols.len()
                ),
                &q.span,
                "one column expected",
            );
            return Err(());
        }
        let (xt, xty) = self.expr(x, body)?;
        let xaff = self.affinity(x);
        let args = self.param_terms(&params, body)?;
        let np = params.len();
        let pv: Vec<(String, Term)> = (0..np)
            .map(|i| (param_attr(i), Term::Var(format!("?p{i}"))))
            .collect();
        let xv = Term::Var("?x".into());
        // dx(p…, x): the values the enclosing rows ask about.
        let mut dattrs: Vec<String> = pv.iter().map(|(a, _)| a.clone()).collect();
        dattrs.push("x".into());
        let dx = self.new_rel("dx", dattrs.clone());
        {
            let mut dbody = Body::default();
            let mut head = Vec::new();
            for (i, (k, _)) in params.iter().enumerate() {
                let t = self.col_term(*k, &mut dbody, false)?;
                head.push((param_attr(i), t));
            }
            let (t, _) = self.expr(x, &mut dbody)?;
            head.push(("x".into(), t));
            let lits = self.finish_body_with_params(dbody);
            self.add_spanned_rule(dx, head, lits);
        }
        let mut pvx = pv.clone();
        pvx.push(("x".into(), xv.clone()));
        // hit(p…, x) :- dx(p…, x), s(p…, c0: y), x = y (not NULL).
        let hit = self.new_rel("hit", dattrs.clone());
        let mut sargs = pv.clone();
        let yty = out.cols[0].1;
        if xty == yty && matches!(xty, SqlType::Int | SqlType::Real | SqlType::Text) {
            sargs.push((col_attr(0), xv.clone()));
            let b = vec![
                ProgramBuilder::atom(dx, pvx.clone()),
                ProgramBuilder::atom(out.rel, sargs),
                Literal::Cmp {
                    op: CmpOp::Ne,
                    lhs: xv.clone(),
                    rhs: Term::Const(Value::Nil),
                },
            ];
            self.add_rule(hit, pvx.clone(), b);
        } else {
            sargs.push((col_attr(0), Term::Var("?y".into())));
            let mut b = vec![
                ProgramBuilder::atom(dx, pvx.clone()),
                ProgramBuilder::atom(out.rel, sargs),
            ];
            // x's affinity applies to the subquery's values (x = y, y without affinity).
            let conv = match xaff {
                Affinity::Numeric => Some("sql_num_aff"),
                Affinity::Text => Some("sql_text_aff"),
                Affinity::None => None,
            };
            let y = match conv {
                Some(f) => {
                    b.push(Literal::Apply {
                        bind: Bind::Scalar(Term::Var("?ya".into())),
                        func: Callee::Builtin(f.into()),
                        args: vec![Term::Var("?y".into())],
                    });
                    Term::Var("?ya".into())
                }
                None => Term::Var("?y".into()),
            };
            b.extend([
                Literal::Apply {
                    bind: Bind::Scalar(Term::Var("?e".into())),
                    func: Callee::Builtin("sql_eq".into()),
                    args: vec![xv.clone(), y],
                },
                Literal::Test {
                    func: Callee::Builtin("sql_true".into()),
                    args: vec![Term::Var("?e".into())],
                    negated: false,
                },
            ]);
            self.add_rule(hit, pvx.clone(), b);
        }
        // nonempty(p…), hasnull(p…)
        let mut s_any = pv.clone();
        s_any.push((col_attr(0), Term::Var("?any".into())));
        let mut s_null = pv.clone();
        s_null.push((col_attr(0), Term::Const(Value::Nil)));
        let not_hit = self.negated_exists_keys(ProgramBuilder::atom(hit, pvx.clone()), &pvx);
        let empty = self.negated_exists_keys(ProgramBuilder::atom(out.rel, s_any.clone()), &pv);
        let no_null = self.negated_exists_keys(ProgramBuilder::atom(out.rel, s_null.clone()), &pv);
        let res = self.new_rel("in", {
            let mut a = dattrs.clone();
            a.push("b".into());
            a
        });
        let head = |b: Value| {
            let mut h = pvx.clone();
            h.push(("b".into(), Term::Const(b)));
            h
        };
        let dxa = ProgramBuilder::atom(dx, pvx.clone());
        self.add_rule(
            res,
            head(Value::Bool(true)),
            vec![dxa.clone(), ProgramBuilder::atom(hit, pvx.clone())],
        );
        self.add_rule(res, head(Value::Bool(false)), vec![dxa.clone(), empty]);
        // Non-empty, no hit: NULL if x is NULL or the subquery has a NULL, else FALSE.
        let nonempty = ProgramBuilder::atom(out.rel, s_any.clone());
        let mut ne_args = vec![("k".to_string(), Term::Const(Value::Int(0)))];
        ne_args.extend(pv.iter().cloned());
        let ne_rel = self.new_rel("nonempty", ne_args.iter().map(|(a, _)| a.clone()).collect());
        self.add_rule(ne_rel, ne_args.clone(), vec![nonempty]);
        let ne = ProgramBuilder::atom(ne_rel, ne_args);
        self.add_rule(
            res,
            head(Value::Nil),
            vec![
                dxa.clone(),
                ne.clone(),
                not_hit.clone(),
                Literal::Cmp {
                    op: CmpOp::Eq,
                    lhs: xv.clone(),
                    rhs: Term::Const(Value::Nil),
                },
            ],
        );
        self.add_rule(
            res,
            head(Value::Nil),
            vec![
                dxa.clone(),
                ne.clone(),
                not_hit.clone(),
                ProgramBuilder::atom(out.rel, s_null),
            ],
        );
        self.add_rule(
            res,
            head(Value::Bool(false)),
            vec![
                dxa,
                ne,
                not_hit,
                Literal::Cmp {
                    op: CmpOp::Ne,
                    lhs: xv.clone(),
                    rhs: Term::Const(Value::Nil),
                },
                no_null,
            ],
        );
        let v = Term::Var(self.fresh("in"));
        let mut a = args;
        a.push(("x".into(), xt));
        a.push(("b".into(), v.clone()));
        body.lits.push(ProgramBuilder::atom(res, a));
        Ok(v)
    }

    /// Like [`Self::finish_body`], plus the frame's domain atom when the body read params.
    fn finish_body_with_params(&mut self, body: Body) -> SpannedLits {
        let depth = self.depth();
        let uses = body.uses_params;
        let mut lits = self.finish_body(body);
        if uses {
            let d = self.domain_at(self.depth());
            let dargs: Vec<(String, Term)> = self.frames[depth]
                .params
                .iter()
                .enumerate()
                .map(|(i, (_, v))| (param_attr(i), Term::Var(v.clone())))
                .collect();
            lits.insert(0, ProgramBuilder::atom(d, dargs));
        }
        lits
    }

    /// A scalar subquery: an aggregate without GROUP BY (exactly one row per parameter).
    pub(super) fn scalar_subquery(
        &mut self,
        q: &SqlQuery,
        body: &mut Body,
    ) -> Lowered<(Term, SqlType)> {
        let ok = match &q.body {
            SetExpr::Select(s) => {
                s.group_by.is_empty()
                    && s.items.len() == 1
                    && matches!(&s.items[0], SelectItem::Expr { expr, .. } if has_aggregate(expr))
            }
            _ => false,
        };
        if !ok {
            self.err(
                "E0867",
                "a scalar subquery must be one aggregate without GROUP BY (it could return several rows)",
                &q.span,
                "may return several rows",
            );
            return Err(());
        }
        let (out, params, _) = self.correlated(q, false)?;
        let mut args = self.param_terms(&params, body)?;
        let v = Term::Var(self.fresh("sq"));
        args.push((col_attr(0), v.clone()));
        body.lits.push(ProgramBuilder::atom(out.rel, args));
        Ok((v, out.cols[0].1))
    }
}
