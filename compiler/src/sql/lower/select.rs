//! SELECT cores and their FROM clauses: sources (tables, CTEs, derived tables), inner joins
//! (their ON conditions join the WHERE conjuncts), LEFT JOIN chains, and the materialisation of
//! a frame's rows as a relation of identities and columns.
//!
//! * A base table's row is an entity; each table source gets a fresh entity variable, and
//!   every row carries `:sql.row/t`, read only when nothing else binds the row.
//! * A FROM item with LEFT JOINs is lowered in a private frame: each prefix becomes a relation,
//!   and `L LEFT JOIN r ON c` is the matches plus the unmatched `L` rows padded with NULL.
//! * A SELECT with GROUP BY, HAVING or aggregates goes to `grouping`.
//!
//! Invariants: a frame's sources are in FROM order; the identity terms of a frame's rows are
//! each table's entity and each relation source's identities (its columns when it has none).

use super::conditions::conjuncts;
use super::expr::item_name;
use super::grouping::{find_aggregate, has_aggregate};
use super::{
    Body, Correlated, Frame, ItemSlot, Lowered, Lowering, RelOut, SpannedLits, Src, SrcCol,
    SrcKind, col_attr, id_attr, param_attr,
};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::{Literal, RelId, Term};
use crate::sql::catalog::{SqlType, View};
use pomo_grammar::Diagnostic;
use pomo_grammar::span::Span;
use pomo_grammar::sql_syntax::{
    BinOp, Expr, ExprKind, FromItem, IndexHint, Join, JoinKind, Select, SelectItem, TableRef,
};
use pomo_types::Value;

/// SQLite's limit on the tables of one join.
const MAX_JOIN_TABLES: usize = 64;

impl Lowering<'_> {
    /// Lowers a SELECT core in a new frame. `extra` are ORDER BY expressions computed as
    /// extra columns after the select list.
    pub(super) fn select(
        &mut self,
        s: &Select,
        want_ids: bool,
        extra: &[&Expr],
    ) -> Lowered<RelOut> {
        self.select_frame(s, want_ids, extra).map(|c| c.0)
    }

    /// Lowers a SELECT core in a new frame; also returns the enclosing columns it reads and
    /// its domain relation (their values), for which it adds the rule.
    pub(super) fn select_frame(
        &mut self,
        s: &Select,
        want_ids: bool,
        extra: &[&Expr],
    ) -> Lowered<Correlated> {
        self.frames.push(Frame {
            visible: true,
            ..Frame::default()
        });
        self.domains.push(None);
        let r = self.within(&s.span, |lw| lw.select_inner(s, want_ids, extra));
        let frame = self.frames.pop().expect("pushed");
        let domain = self.domains.pop().expect("pushed");
        let mut out = r?;
        let mut dom = None;
        if !frame.params.is_empty() {
            // The domain: the values of the enclosing frame's columns this frame reads.
            let d = domain.expect("a frame with params has a domain relation");
            self.within(&s.span, |lw| lw.domain_rule(d, &frame.params))?;
            out.params = frame.params.len();
            dom = Some(d);
        }
        Ok((out, frame.params, dom))
    }

    /// A SELECT core in the current frame: FROM, WHERE, then the select list (or `grouping`).
    fn select_inner(&mut self, s: &Select, want_ids: bool, extra: &[&Expr]) -> Lowered<RelOut> {
        // Parenthesised join trees that are only inner joins become part of the chain.
        let flat;
        let s = match flatten_select(s) {
            Some(f) => {
                flat = f;
                &flat
            }
            None => s,
        };
        // FROM
        let mut conds: Vec<&Expr> = Vec::new();
        for f in &s.from {
            self.lower_from_item(f, &mut conds)?;
        }
        let n_tables: usize = s.from.iter().map(|f| 1 + f.joins.len()).sum();
        if n_tables > MAX_JOIN_TABLES {
            self.err(
                "E0869",
                format!(
                    "at most {MAX_JOIN_TABLES} tables in a join (SQLite's limit), not {n_tables}"
                ),
                &s.span,
                "too many tables",
            );
            return Err(());
        }
        if let Some(w) = &s.where_ {
            conjuncts(w, &mut conds);
        }
        for c in &conds {
            self.no_aggregates(c, "WHERE")?;
        }
        self.analyze_conds(&conds);

        // Select list.
        let mut items: Vec<(Option<String>, &Expr)> = Vec::new();
        let mut stars: Vec<(String, String)> = Vec::new();
        let mut star_pos: Vec<(usize, usize)> = Vec::new(); // (position in items, count)
        let mut layout: Vec<ItemSlot> = Vec::new();
        for it in &s.items {
            match it {
                SelectItem::Expr { expr, alias } => {
                    layout.push(ItemSlot::Expr(items.len()));
                    items.push((alias.as_ref().map(|a| a.name.clone()), expr));
                }
                SelectItem::Wildcard(span) | SelectItem::QualifiedWildcard(_, span) => {
                    let want = match it {
                        SelectItem::QualifiedWildcard(q, _) => Some(q.name.clone()),
                        _ => None,
                    };
                    let cols = self.star_cols(want.as_deref());
                    if cols.is_empty() {
                        self.err(
                            "E0841",
                            match &want {
                                Some(q) => format!("no table `{q}` in FROM"),
                                None => "`*` needs a FROM clause".to_string(),
                            },
                            span,
                            "nothing to expand",
                        );
                        return Err(());
                    }
                    star_pos.push((layout.len(), cols.len()));
                    for c in cols {
                        layout.push(ItemSlot::Star(stars.len()));
                        stars.push(c);
                    }
                }
            }
        }
        let _ = star_pos;

        let aggregate = !s.group_by.is_empty()
            || s.having.is_some()
            || items.iter().any(|(_, e)| has_aggregate(e))
            || extra.iter().any(|e| has_aggregate(e));
        if aggregate {
            return self.select_grouped(s, want_ids, extra, &conds, &items, &stars, &layout);
        }

        let mut body = Body::default();
        self.conditions(&conds, &mut body)?;
        let mut cols = Vec::new();
        let mut terms = Vec::new();
        for slot in &layout {
            let (name, t, ty) = match slot {
                ItemSlot::Expr(i) => {
                    let (alias, e) = items[*i].clone();
                    let (t, ty) = self.expr(e, &mut body)?;
                    (alias.unwrap_or_else(|| item_name(e)), t, ty)
                }
                ItemSlot::Star(k) => {
                    let (q, c) = &stars[*k];
                    let key = self
                        .resolve_in_frame(self.depth(), Some(q), c)
                        .expect("expanded");
                    let ty = self.key_type(key);
                    let t = self.col_term(key, &mut body, false)?;
                    (c.clone(), t, ty)
                }
            };
            cols.push((name, ty));
            terms.push(t);
        }
        for e in extra {
            let (t, ty) = self.expr(e, &mut body)?;
            cols.push((item_name(e), ty));
            terms.push(t);
        }
        let ids = if want_ids && !s.distinct {
            self.identity_terms(&mut body)
        } else {
            Vec::new()
        };
        self.emit_frame_rel(body, ids, terms, cols)
    }

    /// The head relation of a frame: params (when the body read any), identities, columns.
    fn emit_frame_rel(
        &mut self,
        body: Body,
        ids: Vec<Term>,
        terms: Vec<Term>,
        cols: Vec<(String, SqlType)>,
    ) -> Lowered<RelOut> {
        let depth = self.depth();
        let params: Vec<String> = self.frames[depth]
            .params
            .iter()
            .map(|p| p.1.clone())
            .collect();
        let uses = body.uses_params;
        let mut lits = self.finish_body(body);
        let mut head = Vec::new();
        if !params.is_empty() {
            // Every row of a correlated frame is computed per domain value.
            let d = self.domain_at(self.depth());
            let dargs: Vec<(String, Term)> = params
                .iter()
                .enumerate()
                .map(|(i, v)| (param_attr(i), Term::Var(v.clone())))
                .collect();
            if !uses || !lits.lits.iter().any(|l| is_atom_of(l, d)) {
                lits.insert(0, ProgramBuilder::atom(d, dargs.clone()));
            }
            head.extend(dargs);
        }
        let n_ids = ids.len();
        head.extend(ids.into_iter().enumerate().map(|(i, t)| (id_attr(i), t)));
        head.extend(terms.into_iter().enumerate().map(|(i, t)| (col_attr(i), t)));
        let attrs: Vec<String> = head.iter().map(|(a, _)| a.clone()).collect();
        let rel = self.new_rel("s", attrs);
        self.add_spanned_rule(rel, head, lits);
        Ok(RelOut {
            rel,
            params: params.len(),
            ids: n_ids,
            cols,
        })
    }

    /// The identity terms of the current frame's rows: each table's entity, each relation
    /// source's identities (or its columns when it has none).
    pub(super) fn identity_terms(&mut self, body: &mut Body) -> Vec<Term> {
        let depth = self.depth();
        let n = self.frames[depth].sources.len();
        let mut out = Vec::new();
        for si in 0..n {
            match self.frames[depth].sources[si].kind.clone() {
                SrcKind::Table { id_var, .. } => {
                    body.touched.insert(si);
                    out.push(Term::Var(id_var));
                }
                SrcKind::Rel {
                    out: ro,
                    id_vars,
                    col_vars,
                } => {
                    self.activate_rel(depth, si, body);
                    if ro.ids > 0 {
                        out.extend(id_vars.into_iter().map(Term::Var));
                    } else {
                        out.extend(col_vars.into_iter().map(Term::Var));
                    }
                }
            }
        }
        out
    }

    /// Adds the atoms that bind rows nothing else binds, and orders the body: atoms with
    /// constants first, then other atoms, then the rest.
    pub(super) fn finish_body(&mut self, mut body: Body) -> SpannedLits {
        let depth = self.depth();
        for si in body.touched.clone() {
            if body.bound_rows.contains(&si) {
                continue;
            }
            if let SrcKind::Table { table, id_var } = &self.frames[depth].sources[si].kind {
                let lit = self.datom_atom(
                    Term::Var(id_var.clone()),
                    &crate::sql::catalog::row_attr(table),
                    Term::Const(Value::Bool(true)),
                );
                body.lits.push(lit);
            }
        }
        body.lit_spans.resize(body.lits.len(), None);
        let mut lits: Vec<(Literal, Option<Span>)> =
            body.lits.into_iter().zip(body.lit_spans).collect();
        let filters = &self.filters;
        let rank = |l: &Literal| match l {
            Literal::Pos { atom, .. } if filters.contains(&atom.rel) => 0,
            Literal::Pos { atom, .. } => {
                // Constants other than the attribute name make an atom selective.
                let consts = atom
                    .args
                    .iter()
                    .filter(|(a, t)| a != "a" && matches!(t, Term::Const(_)))
                    .count();
                if consts > 0 { 0 } else { 1 }
            }
            _ => 2,
        };
        lits.sort_by_key(|(l, _)| rank(l));
        let (lits, spans) = lits.into_iter().unzip();
        SpannedLits { lits, spans }
    }

    /// Adds a FROM item's sources to the current frame and its inner joins' ON conjuncts to
    /// `conds`; refuses the joins outside the subset.
    fn lower_from_item<'e>(&mut self, f: &'e FromItem, conds: &mut Vec<&'e Expr>) -> Lowered<()> {
        // Joins with LEFT are materialized; inner joins add sources and conditions.
        let has_left = f.joins.iter().any(|j| j.kind == JoinKind::Left);
        self.check_joins(f)?;
        if !has_left {
            self.table_ref(&f.first)?;
            for j in &f.joins {
                self.table_ref(&j.table)?;
                if let Some(on) = &j.on {
                    self.no_aggregates(on, "ON")?;
                    conjuncts(on, conds);
                }
            }
            return Ok(());
        }
        self.left_join_chain(f)
    }

    /// Refuses the joins of a FROM item outside the subset (NATURAL, USING, RIGHT, FULL, CROSS
    /// JOIN with ON).
    fn check_joins(&mut self, f: &FromItem) -> Lowered<()> {
        for j in &f.joins {
            if j.natural {
                self.err(
                    "E0842",
                    "NATURAL JOIN is outside the subset: write the join condition with ON",
                    &j.span,
                    "natural join",
                );
                return Err(());
            }
            if j.using.is_some() {
                self.err(
                    "E0843",
                    "JOIN … USING is outside the subset: write the join condition with ON",
                    &j.span,
                    "USING",
                );
                return Err(());
            }
            match j.kind {
                JoinKind::Right | JoinKind::Full => {
                    self.err(
                        "E0844",
                        format!(
                            "{} OUTER JOIN is outside the subset",
                            if j.kind == JoinKind::Right {
                                "RIGHT"
                            } else {
                                "FULL"
                            }
                        ),
                        &j.span,
                        "not supported",
                    );
                    return Err(());
                }
                JoinKind::Cross if j.on.is_some() => {
                    self.err(
                        "E0845",
                        "CROSS JOIN takes no ON condition",
                        &j.span,
                        "cross join",
                    );
                    return Err(());
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Refuses an aggregate call in `e`, which is in `place` (WHERE, ON, GROUP BY…) (E0846).
    pub(super) fn no_aggregates(&mut self, e: &Expr, place: &str) -> Lowered<()> {
        if let Some(span) = find_aggregate(e) {
            self.err(
                "E0846",
                format!("aggregate functions are not allowed in {place}"),
                &span,
                "aggregate",
            );
            return Err(());
        }
        Ok(())
    }

    /// A FROM item with LEFT JOINs: each prefix becomes a relation of identities and every
    /// column; `L LEFT JOIN r ON c` is the matches plus the unmatched L rows padded with NULL.
    fn left_join_chain(&mut self, f: &FromItem) -> Lowered<()> {
        // Lower in a private frame (the ON conditions see only the chain), then add the
        // materialized relation as one source of the current frame.
        self.frames.push(Frame {
            visible: false,
            ..Frame::default()
        });
        self.domains.push(None);
        let r = self.left_join_inner(f);
        self.frames.pop();
        self.domains.pop();
        let (out, cols) = r?;
        self.push_rel_source(out, cols, 'l');
        Ok(())
    }

    /// The chain of a FROM item with LEFT JOINs in the current (private) frame, materialized.
    fn left_join_inner(&mut self, f: &FromItem) -> Lowered<(RelOut, Vec<SrcCol>)> {
        self.table_ref(&f.first)?;
        let mut conds: Vec<&Expr> = Vec::new();
        for j in &f.joins {
            if j.kind == JoinKind::Left {
                self.within(&j.span, |lw| {
                    // Materialize what we have: L(ids, cols) under the pending conditions.
                    let (l, lcols) = lw.materialize_frame(&conds)?;
                    conds.clear();
                    // Replace the frame's sources by L, add the right side.
                    let depth = lw.depth();
                    lw.frames[depth] = Frame {
                        visible: false,
                        ..Frame::default()
                    };
                    lw.push_rel_source(l.clone(), lcols.clone(), 'l');
                    lw.table_ref(&j.table)?;
                    let mut on: Vec<&Expr> = Vec::new();
                    if let Some(c) = &j.on {
                        lw.no_aggregates(c, "ON")?;
                        conjuncts(c, &mut on);
                    }
                    lw.analyze_conds(&on);
                    // M(ids, cols) :- L, R, ON.
                    let (m, mcols) = lw.materialize_frame(&on)?;
                    // J = M ∪ (L rows without a match, padded).
                    let jrel = lw.new_rel("lj", Vec::new());
                    let all: Vec<(String, Term)> = (0..m.ids)
                        .map(id_attr)
                        .chain((0..m.cols.len()).map(col_attr))
                        .map(|a| (a.clone(), Term::Var(format!("?{a}"))))
                        .collect();
                    lw.add_rule(
                        jrel,
                        all.clone(),
                        vec![ProgramBuilder::atom(m.rel, all.clone())],
                    );
                    let lvars: Vec<(String, Term)> = (0..l.ids)
                        .map(id_attr)
                        .chain((0..l.cols.len()).map(col_attr))
                        .map(|a| (a.clone(), Term::Var(format!("?{a}"))))
                        .collect();
                    let lids: Vec<(String, Term)> = (0..l.ids)
                        .map(|i| (id_attr(i), Term::Var(format!("?i{i}"))))
                        .collect();
                    let matched = ProgramBuilder::atom(m.rel, lids.clone());
                    let neg = lw.negated_exists(matched, lids.clone());
                    // Padded head: L's ids, NULL ids of the right, L's cols, NULL cols.
                    let mut head = Vec::new();
                    for i in 0..m.ids {
                        head.push((
                            id_attr(i),
                            if i < l.ids {
                                Term::Var(format!("?i{i}"))
                            } else {
                                Term::Const(Value::Nil)
                            },
                        ));
                    }
                    for i in 0..m.cols.len() {
                        head.push((
                            col_attr(i),
                            if i < l.cols.len() {
                                Term::Var(format!("?c{i}"))
                            } else {
                                Term::Const(Value::Nil)
                            },
                        ));
                    }
                    lw.add_rule(jrel, head, vec![ProgramBuilder::atom(l.rel, lvars), neg]);
                    let jout = RelOut {
                        rel: jrel,
                        params: 0,
                        ids: m.ids,
                        cols: m.cols.clone(),
                    };
                    let depth = lw.depth();
                    lw.frames[depth] = Frame {
                        visible: false,
                        ..Frame::default()
                    };
                    lw.push_rel_source(jout, mcols, 'l');
                    Ok(())
                })?;
            } else {
                self.table_ref(&j.table)?;
                if let Some(c) = &j.on {
                    self.no_aggregates(c, "ON")?;
                    conjuncts(c, &mut conds);
                }
            }
        }
        self.analyze_conds(&conds);
        self.materialize_frame(&conds)
    }

    /// The current frame's rows under `conds` as a relation of identities and every column.
    fn materialize_frame(&mut self, conds: &[&Expr]) -> Lowered<(RelOut, Vec<SrcCol>)> {
        let depth = self.depth();
        self.analyze_conds(conds);
        let mut body = Body::default();
        self.conditions(conds, &mut body)?;
        let ids = self.identity_terms(&mut body);
        let mut terms = Vec::new();
        let mut cols = Vec::new();
        let mut scols = Vec::new();
        let nsrc = self.frames[depth].sources.len();
        for si in 0..nsrc {
            let src_cols = self.frames[depth].sources[si].cols.clone();
            for (ci, c) in src_cols.iter().enumerate() {
                let t = self.col_term((depth, si, ci), &mut body, false)?;
                terms.push(t);
                cols.push((c.name.clone(), c.ty));
                scols.push(c.clone());
            }
        }
        let lits = self.finish_body(body);
        let n_ids = ids.len();
        let mut head: Vec<(String, Term)> = ids
            .into_iter()
            .enumerate()
            .map(|(i, t)| (id_attr(i), t))
            .collect();
        head.extend(terms.into_iter().enumerate().map(|(i, t)| (col_attr(i), t)));
        let attrs = head.iter().map(|(a, _)| a.clone()).collect();
        let rel = self.new_rel("m", attrs);
        self.add_spanned_rule(rel, head, lits);
        Ok((
            RelOut {
                rel,
                params: 0,
                ids: n_ids,
                cols,
            },
            scols,
        ))
    }

    /// Adds a table, CTE or derived table to the current frame's sources.
    fn table_ref(&mut self, t: &TableRef) -> Lowered<()> {
        let depth = self.depth();
        match t {
            TableRef::Nested { from, .. } => {
                // A join tree flatten_select could not splice into its chain (it has LEFT
                // joins, or is the right side of one): a materialized relation.
                self.check_joins(from)?;
                self.left_join_chain(from)
            }
            TableRef::Table {
                name,
                alias,
                indexed,
                span,
            } => {
                let qual = alias.as_ref().unwrap_or(name).name.clone();
                self.check_dup_alias(&qual, alias.as_ref().unwrap_or(name).span.clone())?;
                if let Some(IndexHint::IndexedBy(i)) = indexed
                    && self.cat.indexes.get(&i.name) != Some(&name.name)
                {
                    self.err(
                        "E0886",
                        format!("no such index: {}", i.name),
                        &i.span,
                        "not an index of this table",
                    );
                    return Err(());
                }
                let is_cte = self.ctes.iter().any(|(n, _)| *n == name.name);
                if !is_cte && let Some(view) = self.cat.view(&name.name) {
                    let out = self.view_rel(view, span)?;
                    let cols = rel_cols(&out, &qual);
                    self.push_rel_source(out, cols, 'r');
                    return Ok(());
                }
                if let Some((_, out)) = self
                    .ctes
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == name.name)
                    .cloned()
                {
                    let cols = rel_cols(&out, &qual);
                    self.push_rel_source(out, cols, 'r');
                    return Ok(());
                }
                let Some(table) = self.cat.table(&name.name) else {
                    self.err(
                        "E0847",
                        format!("no such table: {}", name.name),
                        &name.span,
                        "unknown table",
                    );
                    return Err(());
                };
                let mut cols: Vec<SrcCol> = table
                    .columns
                    .iter()
                    .map(|c| SrcCol {
                        qual: qual.clone(),
                        name: c.name.clone(),
                        ty: c.ty,
                        star: true,
                    })
                    .collect();
                if !table.declares_id {
                    cols.push(SrcCol {
                        qual: qual.clone(),
                        name: "id".into(),
                        ty: SqlType::Int,
                        star: false,
                    });
                }
                let id_var = self.fresh(&format!("{qual}_"));
                self.frames[depth].sources.push(Src {
                    kind: SrcKind::Table {
                        table: table.name.clone(),
                        id_var,
                    },
                    cols,
                });
                Ok(())
            }
            TableRef::Derived { query, alias, span } => {
                // A derived table cannot see the frame it is part of.
                self.frames[depth].visible = false;
                let out = self.subquery_rel(query, true);
                self.frames[depth].visible = true;
                let out = out?;
                if out.params > 0 {
                    self.err(
                        "E0848",
                        "a derived table cannot read columns of the enclosing query",
                        span,
                        "correlated derived table",
                    );
                    return Err(());
                }
                let qual = alias.as_ref().map(|a| a.name.clone()).unwrap_or_default();
                if !qual.is_empty() {
                    self.check_dup_alias(&qual, alias.as_ref().expect("named").span.clone())?;
                }
                let cols = rel_cols(&out, &qual);
                self.push_rel_source(out, cols, 'r');
                Ok(())
            }
        }
    }

    /// The relation of a view named at `at`: its query lowered as a derived table that sees no
    /// CTE of the query naming it. Errors inside the view are reported at `at`, since the
    /// view's spans point into its own definition.
    fn view_rel(&mut self, view: &View, at: &Span) -> Lowered<RelOut> {
        if self.views_open.iter().any(|v| *v == view.name) {
            self.err(
                "E0887",
                format!("view {} is circularly defined", view.name),
                at,
                "this view",
            );
            return Err(());
        }
        let depth = self.depth();
        let errors = self.errors.len();
        let ctes = std::mem::take(&mut self.ctes);
        self.views_open.push(view.name.clone());
        self.frames[depth].visible = false;
        let out = self.subquery_rel(&view.query, true);
        self.frames[depth].visible = true;
        self.views_open.pop();
        self.ctes = ctes;
        for d in &mut self.errors[errors..] {
            let mut relabelled = Diagnostic::error(
                d.code.clone(),
                format!("in view {}: {}", view.name, d.message),
            )
            .with_label(at.clone(), "this view");
            relabelled.help = d.help.take();
            *d = relabelled;
        }
        let mut out = out?;
        if let Some(cols) = &view.columns {
            if cols.len() != out.cols.len() {
                self.err(
                    "E0833",
                    format!(
                        "`{}` names {} column(s) but its query has {}",
                        view.name,
                        cols.len(),
                        out.cols.len()
                    ),
                    at,
                    "column count mismatch",
                );
                return Err(());
            }
            for (c, n) in out.cols.iter_mut().zip(cols) {
                c.0 = n.clone();
            }
        }
        if out.params > 0 {
            self.err(
                "E0848",
                "a derived table cannot read columns of the enclosing query",
                at,
                "correlated derived table",
            );
            return Err(());
        }
        Ok(out)
    }

    /// Adds a relation as a source of the current frame, with fresh variables for its
    /// identities and columns (`?{prefix}i…`, `?{prefix}c…`).
    fn push_rel_source(&mut self, out: RelOut, cols: Vec<SrcCol>, prefix: char) {
        let depth = self.depth();
        let id_vars = (0..out.ids)
            .map(|_| self.fresh(&format!("{prefix}i")))
            .collect();
        let col_vars = (0..out.cols.len())
            .map(|_| self.fresh(&format!("{prefix}c")))
            .collect();
        self.frames[depth].sources.push(Src {
            kind: SrcKind::Rel {
                out,
                id_vars,
                col_vars,
            },
            cols,
        });
    }

    /// Refuses a second source of the frame with the qualifier `qual` (E0849).
    fn check_dup_alias(&mut self, qual: &str, span: Span) -> Lowered<()> {
        let depth = self.depth();
        if self.frames[depth]
            .sources
            .iter()
            .any(|s| s.cols.iter().any(|c| c.qual == qual))
        {
            self.err(
                "E0849",
                format!("`{qual}` names two tables in FROM; give one an alias"),
                &span,
                "duplicate name",
            );
            return Err(());
        }
        Ok(())
    }
}

/// The columns a relation source shows, all qualified by `qual`.
fn rel_cols(out: &RelOut, qual: &str) -> Vec<SrcCol> {
    out.cols
        .iter()
        .map(|(n, ty)| SrcCol {
            qual: qual.to_string(),
            name: n.clone(),
            ty: *ty,
            star: true,
        })
        .collect()
}

/// Whether `l` is a positive atom of `rel`.
fn is_atom_of(l: &Literal, rel: RelId) -> bool {
    matches!(l, Literal::Pos { atom, .. } if atom.rel == rel)
}

/// The select with its parenthesised join trees spliced into their chains where that keeps the
/// meaning (`None` when it has none): a tree first in a chain always
/// (`(a J b) K c` is `a J b K c`), and a tree of inner and cross joins on the right of an inner
/// or cross join, whose ON condition then joins the tree's last table
/// (`x JOIN (a JOIN b ON p) ON q` is `x CROSS JOIN a JOIN b ON p AND q`).
fn flatten_select(s: &Select) -> Option<Select> {
    let nested = |t: &TableRef| matches!(t, TableRef::Nested { .. });
    if !s
        .from
        .iter()
        .any(|f| nested(&f.first) || f.joins.iter().any(|j| nested(&j.table)))
    {
        return None;
    }
    let mut out = s.clone();
    out.from = s.from.iter().cloned().map(flatten_item).collect();
    Some(out)
}

/// [`flatten_select`] for one FROM item.
fn flatten_item(f: FromItem) -> FromItem {
    let inner_kinds = |k: JoinKind| matches!(k, JoinKind::Inner | JoinKind::Cross);
    let mut out = match f.first {
        TableRef::Nested { from, .. } => flatten_item(*from),
        first => FromItem {
            first,
            joins: Vec::new(),
        },
    };
    for mut j in f.joins {
        let TableRef::Nested { from, span } = j.table else {
            out.joins.push(j);
            continue;
        };
        let inner = flatten_item(*from);
        let splice = inner_kinds(j.kind)
            && !j.natural
            && j.using.is_none()
            && inner
                .joins
                .iter()
                .all(|k| inner_kinds(k.kind) && !k.natural && k.using.is_none());
        if !splice {
            j.table = TableRef::Nested {
                from: Box::new(inner),
                span,
            };
            out.joins.push(j);
            continue;
        }
        let mut spliced = vec![Join {
            kind: JoinKind::Cross,
            natural: false,
            table: inner.first,
            on: None,
            using: None,
            span: j.span.clone(),
        }];
        spliced.extend(inner.joins);
        if let Some(q) = j.on {
            let last = spliced.last_mut().expect("one join at least");
            last.kind = JoinKind::Inner;
            last.on = Some(match last.on.take() {
                None => q,
                Some(p) => {
                    let span = p.span.start.min(q.span.start)..p.span.end.max(q.span.end);
                    Expr {
                        kind: ExprKind::Binary {
                            op: BinOp::And,
                            left: Box::new(p),
                            right: Box::new(q),
                        },
                        span,
                    }
                }
            });
        }
        out.joins.extend(spliced);
    }
    out
}
