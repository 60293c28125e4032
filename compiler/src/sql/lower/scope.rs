//! Names and scopes: resolving column references through the frames (innermost first), the
//! columns `*` expands to, and the terms that stand for a column in a rule body.
//!
//! * `x.c` of a base table is the datom `[?x :t/c ?v]` when a top-level WHERE conjunct rejects
//!   NULLs in it (the column is *required*), and otherwise the derived relation `t__c(e, v)`,
//!   which reads NULL (`nil`) where the entity has no value.
//! * A column of an enclosing frame is a parameter of the current frame (`?p{depth}_{n}`),
//!   bound by the frame's domain relation.
//!
//! Invariants: a frame that is not `visible` (a derived table, a LEFT JOIN chain) hides the
//! frames around it; a body binds each column at most once (`Body::bound`).

use super::{Body, Lowered, Lowering, ResolvedColumn, SrcKind, col_attr, id_attr};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::{Atom, Literal, RelId, Term};
use crate::sql::catalog::SqlType;
use pomo_grammar::span::Span;
use pomo_grammar::sql_syntax::{Expr, ExprKind};
use pomo_types::Value;
use pomo_types::ra::RelKind;

impl Lowering<'_> {
    /// The (qualifier, name) pairs of the current frame's columns `*` (or `want.*`) shows.
    pub(super) fn star_cols(&self, want: Option<&str>) -> Vec<(String, String)> {
        let depth = self.depth();
        let mut out = Vec::new();
        for s in &self.frames[depth].sources {
            for c in &s.cols {
                if c.star && want.is_none_or(|w| w == c.qual) {
                    out.push((c.qual.clone(), c.name.clone()));
                }
            }
        }
        out
    }

    /// The first column of frame `f` named `name` (qualified by `qual` if given).
    pub(super) fn resolve_in_frame(
        &self,
        f: usize,
        qual: Option<&str>,
        name: &str,
    ) -> Option<ResolvedColumn> {
        let frame = &self.frames[f];
        for (si, s) in frame.sources.iter().enumerate() {
            for (ci, c) in s.cols.iter().enumerate() {
                if c.name == name && qual.is_none_or(|q| q == c.qual) {
                    return Some((f, si, ci));
                }
            }
        }
        None
    }

    /// Resolves a column reference, innermost frame first; errors name unknown and ambiguous
    /// columns.
    pub(super) fn resolve(
        &mut self,
        qual: Option<&pomo_grammar::sql_syntax::Ident>,
        name: &pomo_grammar::sql_syntax::Ident,
        span: &Span,
    ) -> Lowered<ResolvedColumn> {
        let depth = self.depth();
        let mut f = depth as isize;
        while f >= 0 {
            let fi = f as usize;
            let frame = &self.frames[fi];
            if fi == depth || frame.visible {
                let mut hits = Vec::new();
                for (si, s) in frame.sources.iter().enumerate() {
                    for (ci, c) in s.cols.iter().enumerate() {
                        if c.name == name.name && qual.is_none_or(|q| q.name == c.qual) {
                            hits.push((fi, si, ci));
                        }
                    }
                }
                if hits.len() > 1 {
                    self.err(
                        "E0850",
                        format!("ambiguous column name: {}", name.name),
                        span,
                        "qualify it with its table",
                    );
                    return Err(());
                }
                if let Some(k) = hits.pop() {
                    return Ok(k);
                }
            }
            if !self.frames[fi].visible && fi < depth {
                break;
            }
            f -= 1;
        }
        let full = match qual {
            Some(q) => format!("{}.{}", q.name, name.name),
            None => name.name.clone(),
        };
        self.err(
            "E0851",
            format!("no such column: {full}"),
            span,
            "unknown column",
        );
        Err(())
    }

    /// Resolution without diagnostics (None when unknown or ambiguous or outer).
    pub(super) fn peek_resolve(&self, qual: Option<&str>, name: &str) -> Option<ResolvedColumn> {
        let depth = self.depth();
        let frame = &self.frames[depth];
        let mut hits = Vec::new();
        for (si, s) in frame.sources.iter().enumerate() {
            for (ci, c) in s.cols.iter().enumerate() {
                if c.name == name && qual.is_none_or(|q| q == c.qual) {
                    hits.push((depth, si, ci));
                }
            }
        }
        if hits.len() == 1 { hits.pop() } else { None }
    }

    /// The column `e` is, when it is a plain column reference of the current frame.
    pub(super) fn simple_col(&self, e: &Expr) -> Option<ResolvedColumn> {
        match &e.kind {
            ExprKind::Column { table, name } => {
                self.peek_resolve(table.as_ref().map(|t| t.name.as_str()), &name.name)
            }
            _ => None,
        }
    }

    /// Resolves a column reference expression (with diagnostics).
    pub(super) fn resolve_expr_col(&mut self, e: &Expr) -> Lowered<ResolvedColumn> {
        let ExprKind::Column { table, name } = &e.kind else {
            unreachable!()
        };
        self.resolve(table.as_ref(), name, &e.span)
    }

    /// The declared type of a resolved column.
    pub(super) fn key_type(&self, k: ResolvedColumn) -> SqlType {
        self.frames[k.0].sources[k.1].cols[k.2].ty
    }

    /// Adds the atom of relation source `si` of frame `f` to `body`, once.
    pub(super) fn activate_rel(&mut self, f: usize, si: usize, body: &mut Body) {
        if body.active.contains(&si) {
            return;
        }
        body.active.insert(si);
        if let SrcKind::Rel {
            out,
            id_vars,
            col_vars,
        } = &self.frames[f].sources[si].kind
        {
            let mut args: Vec<(String, Term)> = id_vars
                .iter()
                .enumerate()
                .map(|(i, v)| (id_attr(i), Term::Var(v.clone())))
                .collect();
            args.extend(
                col_vars
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (col_attr(i), Term::Var(v.clone()))),
            );
            body.lits.push(ProgramBuilder::atom(out.rel, args));
        }
    }

    /// The term of a column in a body of the current frame. Columns of enclosing frames are
    /// parameters (the frame's domain binds them).
    pub(super) fn col_term(
        &mut self,
        key: ResolvedColumn,
        body: &mut Body,
        _required: bool,
    ) -> Lowered<Term> {
        if let Some(t) = body.bound.get(&key) {
            return Ok(t.clone());
        }
        let depth = self.depth();
        if key.0 < depth {
            let var = self.param_var(key, depth);
            body.uses_params = true;
            let t = Term::Var(var);
            body.bound.insert(key, t.clone());
            return Ok(t);
        }
        let (f, si, ci) = key;
        let src = self.frames[f].sources[si].clone();
        let t = match &src.kind {
            SrcKind::Rel { col_vars, .. } => {
                self.activate_rel(f, si, body);
                Term::Var(col_vars[ci].clone())
            }
            SrcKind::Table { table, id_var } => {
                body.touched.insert(si);
                let col = &src.cols[ci];
                if col.name == "id" {
                    Term::Var(id_var.clone())
                } else {
                    let attr = format!("{table}/{}", col.name);
                    if let Some(&class) = self.frames[f].required.get(&key) {
                        let c = self.frames[f].classes[class].clone();
                        let v = match (c.constant, c.var) {
                            (Some(k), _) => Term::Const(k),
                            (None, Some(v)) => {
                                if v.starts_with("?p") {
                                    body.uses_params = true;
                                }
                                Term::Var(v)
                            }
                            (None, None) => {
                                let v = self.fresh("u");
                                self.frames[f].classes[class].var = Some(v.clone());
                                Term::Var(v)
                            }
                        };
                        let lit = self.datom_atom(Term::Var(id_var.clone()), &attr, v.clone());
                        body.lits.push(lit);
                        body.bound_rows.insert(si);
                        v
                    } else {
                        let rel = self.opt_col(table, &col.name);
                        let v = Term::Var(self.fresh(&format!("{}_", col.name)));
                        body.lits.push(ProgramBuilder::atom(
                            rel,
                            vec![
                                ("e".into(), Term::Var(id_var.clone())),
                                ("v".into(), v.clone()),
                            ],
                        ));
                        body.bound_rows.insert(si);
                        v
                    }
                }
            }
        };
        body.bound.insert(key, t.clone());
        Ok(t)
    }

    /// The parameter variable of frame `at` for column `key` of an enclosing frame, registering
    /// it in every frame between.
    fn param_var(&mut self, key: ResolvedColumn, at: usize) -> String {
        if let Some((_, v)) = self.frames[at].params.iter().find(|(k, _)| *k == key) {
            return v.clone();
        }
        let v = format!("?p{}_{}", at, self.frames[at].params.len());
        self.frames[at].params.push((key, v.clone()));
        // Make sure the domain relation exists (its rule comes when the frame is done).
        self.domain_at(at);
        v
    }

    /// The domain relation of frame `at`, declared on first use.
    pub(super) fn domain_at(&mut self, at: usize) -> RelId {
        if let Some(d) = self.domains[at] {
            return d;
        }
        let d = self.new_rel("d", Vec::new());
        self.domains[at] = Some(d);
        d
    }

    /// `t__c(e, v)`: every row of `t` with its value of `c`, NULL when it has none.
    fn opt_col(&mut self, table: &str, col: &str) -> RelId {
        let attr = format!("{table}/{col}");
        if let Some(r) = self.opt_cols.get(&attr) {
            return *r;
        }
        let name = self.builder.unique_name(&format!("{table}__{col}"));
        let rel = self.builder.relation(&name, RelKind::Derived, ["e", "v"]);
        let e = Term::Var("?e".into());
        let v = Term::Var("?v".into());
        let row = self.datom_atom(
            e.clone(),
            &crate::sql::catalog::row_attr(table),
            Term::Const(Value::Bool(true)),
        );
        let has = self.datom_atom(e.clone(), &attr, v.clone());
        self.add_rule(
            rel,
            vec![("e".into(), e.clone()), ("v".into(), v.clone())],
            vec![has],
        );
        // `!datom(e, a: :t/c)`: the value position is not mentioned, so unconstrained.
        let neg = Literal::Neg(Atom {
            rel: self.datom,
            args: vec![
                ("e".into(), e.clone()),
                ("a".into(), Term::Const(Value::Keyword(attr.clone()))),
            ],
        });
        self.add_rule(
            rel,
            vec![("e".into(), e), ("v".into(), Term::Const(Value::Nil))],
            vec![row, neg],
        );
        self.opt_cols.insert(attr, rel);
        rel
    }
}
