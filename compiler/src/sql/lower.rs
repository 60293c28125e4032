//! Lowering SQL queries to PomoLogic (ARCHITECTURE §6).
//!
//! * A base table's row is an entity: `x.c` is the datom `[?x :t/c ?v]` when a top-level WHERE
//!   conjunct rejects NULLs in it, and otherwise the derived relation `t__c(e, v)`, which reads
//!   NULL (`nil`) where the entity has no value. Every row carries `:sql.row/t` (so all-NULL rows
//!   exist); it is read only when nothing else binds the row.
//! * SQL is bag-valued: every intermediate relation keeps *identity* columns (`i0, i1, …`: the
//!   entity ids of the joined rows, a branch tag for UNION ALL, the group key of a group) next to
//!   its value columns (`c0, c1, …`), so equal rows stay apart until the result is printed. Where
//!   duplicates cannot matter (DISTINCT, set operations, IN/EXISTS) the identities are dropped.
//! * NULL is `nil` and expressions are calls to the stdlib's `sql_*` functions, which follow
//!   SQLite (three-valued logic, integer division, `x/0` is NULL). A WHERE conjunct is the test
//!   `sql_true(…)`. Conjuncts `a = b` / `a = 1` over non-null columns unify the variables (an
//!   equijoin or an index probe), and comparisons of values of one type become constraints.
//! * Subqueries are decorrelated: a subquery that reads columns of an enclosing query becomes a
//!   relation whose leading columns (`p0, p1, …`) are those values, computed for a *domain*
//!   relation of the enclosing rows' values. EXISTS and IN are semijoins and antijoins where they
//!   are top-level conjuncts, and relations of three-valued truth values elsewhere. A scalar
//!   subquery must be an aggregate without GROUP BY, which has exactly one row per parameter
//!   (the empty-input row comes from a rule over the domain: `COUNT` 0, the others NULL).
//! * GROUP BY: a relation of (identities, keys, aggregate arguments), one group-by per relation,
//!   then the select list over the groups. ORDER BY / LIMIT / OFFSET shape the top-level result
//!   ([`pomo_types::ra::SqlShape`]); only the outermost query may use them.
//! * WITH RECURSIVE is a recursive relation (UNION only: UNION ALL has no set fixpoint).

use super::catalog::{Catalog, SqlType};
use crate::logic::ir::{Atom, Bind, Callee, DATOM_ATTRS, Literal, Program, RelId, Rule, Term};
use pomo_grammar::Diagnostic;
use pomo_grammar::span::Span;
use pomo_grammar::sql::{
    BinOp, Expr, ExprKind, FromItem, FuncArgs, JoinKind, Lit, Query, Select, SelectItem, SetExpr,
    SetOp, TableRef, UnOp,
};
use pomo_types::Value;
use pomo_types::ra::{CmpOp, OutputSpec, RelKind, SqlShape};
use std::collections::{BTreeMap, BTreeSet};

/// The name of the output relation of a lowered SQL query.
pub const OUTPUT: &str = "q";

/// What a lowered query returns besides its program: the printed columns' names and types.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlColumns {
    pub names: Vec<String>,
    pub types: Vec<SqlType>,
}

/// Lowers a query over the catalog's tables to a PomoLogic program whose output relation
/// [`OUTPUT`] carries a [`SqlShape`].
pub fn lower_query(q: &Query, cat: &Catalog) -> Result<(Program, SqlColumns), Vec<Diagnostic>> {
    let mut lw = Lowering::new(cat);
    let out = lw.top_query(q);
    if !lw.errors.is_empty() {
        return Err(lw.errors);
    }
    let out = out.expect("no errors means a result");
    Ok((lw.prog, out))
}

/// The result of a lowering step: `Err(())` means its diagnostic is already in `errors`.
type Lowered<T> = Result<T, ()>;

/// A relation computed for a (sub)query: `params` leading columns `p0…` (the values of the
/// enclosing query it depends on), `ids` identity columns `i0…`, then value columns `c0…`.
#[derive(Clone, Debug)]
struct RelOut {
    rel: RelId,
    params: usize,
    ids: usize,
    cols: Vec<(String, SqlType)>,
}

/// The attribute of a relation's `i`th parameter column (a value of an enclosing query).
fn param_attr(i: usize) -> String {
    format!("p{i}")
}
/// The attribute of a relation's `i`th identity column.
fn id_attr(i: usize) -> String {
    format!("i{i}")
}
/// The attribute of a relation's `i`th value column.
fn col_attr(i: usize) -> String {
    format!("c{i}")
}

/// A column visible in a FROM clause.
#[derive(Clone, Debug)]
struct SrcCol {
    qual: String,
    name: String,
    ty: SqlType,
    /// Shown by `*`.
    star: bool,
}

#[derive(Clone, Debug)]
enum SrcKind {
    /// A base table; the entity variable.
    Table { table: String, id_var: String },
    /// A relation (derived table, CTE, materialized LEFT JOIN); its variables: params are
    /// never read from a FROM relation (they would be lateral), identities and columns are.
    Rel {
        out: RelOut,
        id_vars: Vec<String>,
        col_vars: Vec<String>,
    },
}

#[derive(Clone, Debug)]
struct Src {
    kind: SrcKind,
    cols: Vec<SrcCol>,
}

/// A column a name resolved to: frame index, source index, column index within the source.
type ResolvedColumn = (usize, usize, usize);

/// One SELECT core being lowered (a scope of names).
#[derive(Debug, Default)]
struct Frame {
    sources: Vec<Src>,
    /// Columns of enclosing frames this frame reads, in order, with their parameter variable.
    params: Vec<(ResolvedColumn, String)>,
    /// Whether enclosing frames can see into this one (false while lowering a derived table).
    visible: bool,
    /// Columns known to be non-NULL wherever the frame's main body holds (null-rejecting
    /// conjuncts), and unification classes of such columns: class id per column.
    required: BTreeMap<ResolvedColumn, usize>,
    classes: Vec<Class>,
}

/// A class of columns known equal: the constant they equal, the variable that stands for them.
#[derive(Clone, Debug, Default)]
struct Class {
    constant: Option<Value>,
    var: Option<String>,
}

/// A rule body under construction.
#[derive(Debug, Default)]
struct Body {
    lits: Vec<Literal>,
    /// Terms of the columns bound so far.
    bound: BTreeMap<ResolvedColumn, Term>,
    /// Relation sources whose atom is in the body.
    active: BTreeSet<usize>,
    /// Table sources read by the body.
    touched: BTreeSet<usize>,
    /// Table sources some atom of the body binds the entity of.
    bound_rows: BTreeSet<usize>,
    uses_params: bool,
    /// For group bodies: expressions that stand for a term (group keys, aggregates).
    subst: Vec<(String, Term, SqlType)>,
    /// In a group body, plain columns are errors (not grouped).
    grouped: bool,
}

/// The state of lowering one SQL statement.
struct Lowering<'a> {
    cat: &'a Catalog,
    prog: Program,
    datom: RelId,
    errors: Vec<Diagnostic>,
    nrel: usize,
    nvar: usize,
    frames: Vec<Frame>,
    /// Visible common table expressions, innermost last.
    ctes: Vec<(String, RelOut)>,
    /// `t__c` relations by attribute.
    opt_cols: BTreeMap<String, RelId>,
    /// Domain relations of subquery frames, by frame depth while being built.
    domains: Vec<Option<RelId>>,
    /// Per-table filter relations (joined first).
    filters: BTreeSet<RelId>,
}

/// SQLite's limit on the tables of one join.
const MAX_JOIN_TABLES: usize = 64;

const AGGREGATES: &[&str] = &["count", "sum", "avg", "min", "max", "total"];

impl<'a> Lowering<'a> {
    fn new(cat: &'a Catalog) -> Self {
        let mut prog = Program::default();
        let datom = prog.intern("datom", RelKind::view("$"));
        prog.note_attrs(datom, DATOM_ATTRS.iter().copied());
        Lowering {
            cat,
            prog,
            datom,
            errors: Vec::new(),
            nrel: 0,
            nvar: 0,
            frames: Vec::new(),
            ctes: Vec::new(),
            opt_cols: BTreeMap::new(),
            domains: Vec::new(),
            filters: BTreeSet::new(),
        }
    }

    fn err(&mut self, code: &str, msg: impl Into<String>, span: &Span, label: &str) {
        self.errors
            .push(Diagnostic::error(code, msg).with_label(span.clone(), label));
    }

    fn fresh(&mut self, base: &str) -> String {
        self.nvar += 1;
        format!("?{base}{}", self.nvar)
    }

    fn new_rel(&mut self, base: &str, attrs: Vec<String>) -> RelId {
        self.nrel += 1;
        let mut name = format!("{base}{}", self.nrel);
        while self.prog.find(&name).is_some() {
            name.push('_');
        }
        let id = self.prog.intern(&name, RelKind::Derived);
        self.prog.note_attrs(id, attrs.iter().map(|s| s.as_str()));
        id
    }

    fn add_rule(&mut self, head: RelId, args: Vec<(String, Term)>, body: Vec<Literal>) {
        self.prog
            .note_attrs(head, args.iter().map(|(a, _)| a.as_str()));
        let n = body.len();
        self.prog.add_rule(
            Rule {
                head: Atom { rel: head, args },
                next: false,
                body,
            },
            None,
            vec![None; n],
        );
    }

    fn atom(rel: RelId, args: Vec<(String, Term)>) -> Literal {
        Literal::Pos {
            cid: None,
            atom: Atom { rel, args },
        }
    }

    fn datom_atom(&self, e: Term, attr: &str, v: Term) -> Literal {
        Self::atom(
            self.datom,
            vec![
                ("e".into(), e),
                ("a".into(), Term::Const(Value::Keyword(attr.to_string()))),
                ("v".into(), v),
            ],
        )
    }

    /// A relation that is non-empty exactly when `lit`'s relation (restricted to `keys`)
    /// holds: `ne(k: 0, keys…) :- lit.`; returns the negated test `!ne(k: 0, keys…)`.
    fn negated_exists(&mut self, lit: Literal, keys: Vec<(String, Term)>) -> Literal {
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

    // ----- queries -----------------------------------------------------------------------

    fn top_query(&mut self, q: &Query) -> Option<SqlColumns> {
        self.frames.push(Frame {
            visible: true,
            ..Frame::default()
        });
        self.domains.push(None);
        let r = self.top_query_inner(q);
        self.frames.pop();
        self.domains.pop();
        r.ok()
    }

    fn top_query_inner(&mut self, q: &Query) -> Lowered<SqlColumns> {
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
        let q_rel = self.prog.intern(OUTPUT, RelKind::Output(spec));
        let args: Vec<(String, Term)> = attrs
            .iter()
            .map(|a| (a.clone(), Term::Var(format!("?{a}"))))
            .collect();
        debug_assert_eq!(args.len(), total);
        self.add_rule(q_rel, args.clone(), vec![Self::atom(out.rel, args)]);
        self.ctes.truncate(n_ctes);
        Ok(SqlColumns {
            names,
            types: out.cols.iter().take(n_print).map(|c| c.1).collect(),
        })
    }

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
        let mut refs: Vec<&TableRef> = Vec::new();
        for f in &s.from {
            refs.push(&f.first);
            refs.extend(f.joins.iter().map(|j| &j.table));
        }
        for r in refs {
            let (qual, cols): (String, Vec<String>) = match r {
                TableRef::Table { name, alias, .. } => {
                    let qual = alias.as_ref().unwrap_or(name).name.clone();
                    if let Some((_, o)) = self.ctes.iter().rev().find(|(n, _)| *n == name.name) {
                        (qual, o.cols.iter().map(|c| c.0.clone()).collect())
                    } else if let Some(t) = self.cat.table(&name.name) {
                        (qual, t.columns.iter().map(|c| c.name.clone()).collect())
                    } else {
                        (qual, Vec::new())
                    }
                }
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

    fn with(&mut self, w: &pomo_grammar::sql::With) -> Lowered<()> {
        for cte in &w.ctes {
            if !cte.query.order_by.is_empty() || cte.query.limit.is_some() {
                self.no_order_in_subquery(&cte.query);
                return Err(());
            }
            let recursive = w.recursive && query_mentions(&cte.query, &cte.name.name);
            let out = if recursive {
                self.recursive_cte(cte)?
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

    fn recursive_cte(&mut self, cte: &pomo_grammar::sql::Cte) -> Lowered<RelOut> {
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
        let body = vec![Self::atom(from.rel, args.clone())];
        self.add_rule(to, args, body);
    }

    fn no_order_in_subquery(&mut self, q: &Query) {
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
    fn subquery_rel(&mut self, q: &Query, want_ids: bool) -> Lowered<RelOut> {
        if !q.order_by.is_empty() || q.limit.is_some() {
            self.no_order_in_subquery(q);
            return Err(());
        }
        let n_ctes = self.ctes.len();
        let r = (|| {
            if let Some(w) = &q.with {
                self.with(w)?;
            }
            self.set_expr_sub(&q.body, want_ids)
        })();
        self.ctes.truncate(n_ctes);
        r
    }

    /// A query body in its own frame (correlated: params).
    fn set_expr_sub(&mut self, body: &SetExpr, want_ids: bool) -> Lowered<RelOut> {
        self.set_expr(body, want_ids)
    }

    fn set_expr(&mut self, body: &SetExpr, want_ids: bool) -> Lowered<RelOut> {
        match body {
            SetExpr::Select(s) => self.select(s, want_ids, &[]),
            SetExpr::Values(rows, _) => self.values(rows, want_ids),
            SetExpr::SetOp {
                op,
                all,
                left,
                right,
                op_span,
            } => {
                if *all && *op != SetOp::Union {
                    self.err(
                        "E0838",
                        format!(
                            "{} ALL is outside the subset",
                            if *op == SetOp::Intersect {
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
                let bag = *all && want_ids;
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
                    return self.set_op_params(*op, *all, &l, &r, op_span);
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
                            self.add_rule(rel, head, vec![Self::atom(side.rel, src)]);
                        }
                    }
                    SetOp::Intersect => {
                        let body = vec![
                            Self::atom(l.rel, cvars.clone()),
                            Self::atom(r.rel, cvars.clone()),
                        ];
                        self.add_rule(rel, cvars.clone(), body);
                    }
                    SetOp::Except => {
                        let body = vec![
                            Self::atom(l.rel, cvars.clone()),
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
        }
    }

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

    fn values(&mut self, rows: &[(Vec<Expr>, Span)], want_ids: bool) -> Lowered<RelOut> {
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

    // ----- SELECT cores ---------------------------------------------------------------------

    fn depth(&self) -> usize {
        self.frames.len() - 1
    }

    /// Lowers a SELECT core in a new frame. `extra` are ORDER BY expressions computed as
    /// extra columns after the select list.
    fn select(&mut self, s: &Select, want_ids: bool, extra: &[&Expr]) -> Lowered<RelOut> {
        self.select_frame(s, want_ids, extra).map(|c| c.0)
    }

    /// Lowers a SELECT core in a new frame; also returns the enclosing columns it reads and
    /// its domain relation (their values), for which it adds the rule.
    fn select_frame(&mut self, s: &Select, want_ids: bool, extra: &[&Expr]) -> Lowered<Correlated> {
        self.frames.push(Frame {
            visible: true,
            ..Frame::default()
        });
        self.domains.push(None);
        let r = self.select_inner(s, want_ids, extra);
        let frame = self.frames.pop().expect("pushed");
        let domain = self.domains.pop().expect("pushed");
        let mut out = r?;
        let mut dom = None;
        if !frame.params.is_empty() {
            // The domain: the values of the enclosing frame's columns this frame reads.
            let d = domain.expect("a frame with params has a domain relation");
            self.domain_rule(d, &frame.params)?;
            out.params = frame.params.len();
            dom = Some(d);
        }
        Ok((out, frame.params, dom))
    }

    /// `d(p0, p1, …) :- <the enclosing frame's rows binding those columns>`.
    fn domain_rule(&mut self, d: RelId, params: &[(ResolvedColumn, String)]) -> Lowered<()> {
        let mut body = Body::default();
        let mut head = Vec::new();
        for (i, (key, _)) in params.iter().enumerate() {
            let t = self.col_term(*key, &mut body, false)?;
            head.push((param_attr(i), t));
        }
        let lits = self.finish_body(body);
        self.add_rule(d, head, lits);
        Ok(())
    }

    fn select_inner(&mut self, s: &Select, want_ids: bool, extra: &[&Expr]) -> Lowered<RelOut> {
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
            if !uses || !lits.iter().any(|l| is_atom_of(l, d)) {
                lits.insert(0, Self::atom(d, dargs.clone()));
            }
            head.extend(dargs);
        }
        let n_ids = ids.len();
        head.extend(ids.into_iter().enumerate().map(|(i, t)| (id_attr(i), t)));
        head.extend(terms.into_iter().enumerate().map(|(i, t)| (col_attr(i), t)));
        let attrs: Vec<String> = head.iter().map(|(a, _)| a.clone()).collect();
        let rel = self.new_rel("s", attrs);
        self.add_rule(rel, head, lits);
        Ok(RelOut {
            rel,
            params: params.len(),
            ids: n_ids,
            cols,
        })
    }

    /// The identity terms of the current frame's rows: each table's entity, each relation
    /// source's identities (or its columns when it has none).
    fn identity_terms(&mut self, body: &mut Body) -> Vec<Term> {
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
    fn finish_body(&mut self, mut body: Body) -> Vec<Literal> {
        let depth = self.depth();
        for si in body.touched.clone() {
            if body.bound_rows.contains(&si) {
                continue;
            }
            if let SrcKind::Table { table, id_var } = &self.frames[depth].sources[si].kind {
                let lit = self.datom_atom(
                    Term::Var(id_var.clone()),
                    &super::catalog::row_attr(table),
                    Term::Const(Value::Bool(true)),
                );
                body.lits.push(lit);
            }
        }
        let mut lits = body.lits;
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
        lits.sort_by_key(rank);
        lits
    }

    fn lower_from_item<'e>(&mut self, f: &'e FromItem, conds: &mut Vec<&'e Expr>) -> Lowered<()> {
        // Joins with LEFT are materialized; inner joins add sources and conditions.
        let has_left = f.joins.iter().any(|j| j.kind == JoinKind::Left);
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

    fn no_aggregates(&mut self, e: &Expr, place: &str) -> Lowered<()> {
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

    fn left_join_inner(&mut self, f: &FromItem) -> Lowered<(RelOut, Vec<SrcCol>)> {
        self.table_ref(&f.first)?;
        let mut conds: Vec<&Expr> = Vec::new();
        for j in &f.joins {
            if j.kind == JoinKind::Left {
                // Materialize what we have: L(ids, cols) under the pending conditions.
                let (l, lcols) = self.materialize_frame(&conds)?;
                conds.clear();
                // Replace the frame's sources by L, add the right side.
                let depth = self.depth();
                self.frames[depth] = Frame {
                    visible: false,
                    ..Frame::default()
                };
                self.push_rel_source(l.clone(), lcols.clone(), 'l');
                self.table_ref(&j.table)?;
                let mut on: Vec<&Expr> = Vec::new();
                if let Some(c) = &j.on {
                    self.no_aggregates(c, "ON")?;
                    conjuncts(c, &mut on);
                }
                self.analyze_conds(&on);
                // M(ids, cols) :- L, R, ON.
                let (m, mcols) = self.materialize_frame(&on)?;
                // J = M ∪ (L rows without a match, padded).
                let jrel = self.new_rel("lj", Vec::new());
                let all: Vec<(String, Term)> = (0..m.ids)
                    .map(id_attr)
                    .chain((0..m.cols.len()).map(col_attr))
                    .map(|a| (a.clone(), Term::Var(format!("?{a}"))))
                    .collect();
                self.add_rule(jrel, all.clone(), vec![Self::atom(m.rel, all.clone())]);
                let lvars: Vec<(String, Term)> = (0..l.ids)
                    .map(id_attr)
                    .chain((0..l.cols.len()).map(col_attr))
                    .map(|a| (a.clone(), Term::Var(format!("?{a}"))))
                    .collect();
                let lids: Vec<(String, Term)> = (0..l.ids)
                    .map(|i| (id_attr(i), Term::Var(format!("?i{i}"))))
                    .collect();
                let matched = Self::atom(m.rel, lids.clone());
                let neg = self.negated_exists(matched, lids.clone());
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
                self.add_rule(jrel, head, vec![Self::atom(l.rel, lvars), neg]);
                let jout = RelOut {
                    rel: jrel,
                    params: 0,
                    ids: m.ids,
                    cols: m.cols.clone(),
                };
                let depth = self.depth();
                self.frames[depth] = Frame {
                    visible: false,
                    ..Frame::default()
                };
                self.push_rel_source(jout, mcols, 'l');
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
        self.add_rule(rel, head, lits);
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

    fn table_ref(&mut self, t: &TableRef) -> Lowered<()> {
        let depth = self.depth();
        match t {
            TableRef::Table { name, alias, .. } => {
                let qual = alias.as_ref().unwrap_or(name).name.clone();
                self.check_dup_alias(&qual, alias.as_ref().unwrap_or(name).span.clone())?;
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

    fn star_cols(&self, want: Option<&str>) -> Vec<(String, String)> {
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

    // ----- names and columns ----------------------------------------------------------------

    fn resolve_in_frame(&self, f: usize, qual: Option<&str>, name: &str) -> Option<ResolvedColumn> {
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
    fn resolve(
        &mut self,
        qual: Option<&pomo_grammar::sql::Ident>,
        name: &pomo_grammar::sql::Ident,
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

    fn key_type(&self, k: ResolvedColumn) -> SqlType {
        self.frames[k.0].sources[k.1].cols[k.2].ty
    }

    fn activate_rel(&mut self, f: usize, si: usize, body: &mut Body) {
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
            body.lits.push(Self::atom(out.rel, args));
        }
    }

    /// The term of a column in a body of the current frame. Columns of enclosing frames are
    /// parameters (the frame's domain binds them).
    fn col_term(&mut self, key: ResolvedColumn, body: &mut Body, _required: bool) -> Lowered<Term> {
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
                        body.lits.push(Self::atom(
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

    fn domain_at(&mut self, at: usize) -> RelId {
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
        let name = format!("{table}__{col}");
        let mut n = name.clone();
        while self.prog.find(&n).is_some() {
            n.push('_');
        }
        let rel = self.prog.intern(&n, RelKind::Derived);
        self.prog.note_attrs(rel, ["e", "v"]);
        let e = Term::Var("?e".into());
        let v = Term::Var("?v".into());
        let row = self.datom_atom(
            e.clone(),
            &super::catalog::row_attr(table),
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

    // ----- WHERE ----------------------------------------------------------------------------

    /// Finds the columns that null-rejecting conjuncts make non-NULL, and unifies those that
    /// `a = b` / `a = const` conjuncts equate.
    fn analyze_conds(&mut self, conds: &[&Expr]) {
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

    /// Resolution without diagnostics (None when unknown or ambiguous or outer).
    fn peek_resolve(&self, qual: Option<&str>, name: &str) -> Option<ResolvedColumn> {
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

    fn simple_col(&self, e: &Expr) -> Option<ResolvedColumn> {
        match &e.kind {
            ExprKind::Column { table, name } => {
                self.peek_resolve(table.as_ref().map(|t| t.name.as_str()), &name.name)
            }
            _ => None,
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
    fn conditions(&mut self, conds: &[&Expr], body: &mut Body) -> Lowered<()> {
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
            self.add_rule(f, e.clone(), lits);
            body.lits.push(Self::atom(f, e));
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

    fn condition(&mut self, c: &Expr, body: &mut Body) -> Lowered<()> {
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
            ExprKind::Exists(q) => return self.exists_conj(q, false, body),
            ExprKind::Unary {
                op: UnOp::Not,
                expr,
            } => {
                if let ExprKind::Exists(q) = &expr.kind {
                    return self.exists_conj(q, true, body);
                }
            }
            ExprKind::InSubquery {
                expr,
                query,
                negated: false,
            } => {
                return self.in_conj(expr, query, body);
            }
            _ => {}
        }
        // Comparisons of two values of one type: a constraint (with NULL guards).
        if let ExprKind::Binary { op, left, right } = &c.kind
            && is_cmp(*op)
        {
            let (lt, lty) = self.expr(left, body)?;
            let (rt, rty) = self.expr(right, body)?;
            self.check_comparable(lty, rty, c)?;
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
            let name = sql_cmp_fn(*op);
            let t = self.apply(name, vec![lt, rt], body);
            return self.truth_test(t, body);
        }
        let (t, ty) = self.expr(c, body)?;
        self.check_bool(ty, c, "WHERE")?;
        self.truth_test(t, body)
    }

    fn truth_test(&mut self, t: Term, body: &mut Body) -> Lowered<()> {
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

    fn non_null(&self, t: &Term, body: &Body) -> bool {
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

    fn check_comparable(&mut self, a: SqlType, b: SqlType, e: &Expr) -> Lowered<()> {
        if a.comparable(b) {
            return Ok(());
        }
        self.err(
            "E0852",
            format!("type error: cannot compare {} with {}", a.name(), b.name()),
            &e.span,
            "incomparable types",
        );
        Err(())
    }

    fn check_bool(&mut self, ty: SqlType, e: &Expr, place: &str) -> Lowered<()> {
        if matches!(ty, SqlType::Bool | SqlType::Null) {
            return Ok(());
        }
        self.err(
            "E0853",
            format!(
                "type error: a {place} condition must be BOOLEAN, not {}",
                ty.name()
            ),
            &e.span,
            "not a condition",
        );
        Err(())
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
    fn correlated(&mut self, q: &Query, want_ids: bool) -> Lowered<Correlated> {
        if !q.order_by.is_empty() || q.limit.is_some() {
            self.no_order_in_subquery(q);
            return Err(());
        }
        let n_ctes = self.ctes.len();
        if let Some(w) = &q.with {
            self.with(w)?;
        }
        // Lower the body in a frame we can inspect for params.
        let r = match &q.body {
            SetExpr::Select(s) => self.select_frame(s, want_ids, &[]),
            other => self
                .set_expr(other, want_ids)
                .map(|o| (o, Vec::new(), None)),
        };
        self.ctes.truncate(n_ctes);
        r
    }

    fn exists_conj(&mut self, q: &Query, negated: bool, body: &mut Body) -> Lowered<()> {
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

    /// `!ne(k: 0, keys…)` where `ne(k: 0, keys…) :- lit`: the key attributes of `lit` are
    /// renamed to fresh variables inside the rule (its other arguments stay), and the outer
    /// terms of `args` stand for them in the negated atom.
    fn negated_exists_keys(&mut self, lit: Literal, args: &[(String, Term)]) -> Literal {
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

    fn in_conj(&mut self, x: &Expr, q: &Query, body: &mut Body) -> Lowered<()> {
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
        self.check_comparable(xty, out.cols[0].1, x)?;
        let mut args = self.param_terms(&params, body)?;
        if xty == out.cols[0].1 || xty == SqlType::Null {
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
            body.lits.push(Self::atom(out.rel, args));
        } else {
            let y = Term::Var(self.fresh("y"));
            args.push((col_attr(0), y.clone()));
            body.lits.push(Self::atom(out.rel, args));
            let t = self.apply("sql_eq", vec![xt, y], body);
            self.truth_test(t, body)?;
        }
        Ok(())
    }

    // ----- GROUP BY ---------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn select_grouped(
        &mut self,
        s: &Select,
        want_ids: bool,
        extra: &[&Expr],
        conds: &[&Expr],
        items: &[(Option<String>, &Expr)],
        stars: &[(String, String)],
        layout: &[ItemSlot],
    ) -> Lowered<RelOut> {
        if !stars.is_empty() {
            self.err(
                "E0855",
                "`*` cannot be used with GROUP BY or aggregates",
                &s.span,
                "star with aggregates",
            );
            return Err(());
        }
        let depth = self.depth();
        // B(params, ids, keys, args)
        let mut body = Body::default();
        self.conditions(conds, &mut body)?;
        let mut key_terms = Vec::new();
        let mut key_types = Vec::new();
        for g in &s.group_by {
            if let ExprKind::Lit(Lit::Int(_)) = g.kind {
                self.err(
                    "E0856",
                    "GROUP BY takes expressions, not column numbers",
                    &g.span,
                    "ordinal",
                );
                return Err(());
            }
            self.no_aggregates(g, "GROUP BY")?;
            let (t, ty) = self.expr(g, &mut body)?;
            key_terms.push(t);
            key_types.push(ty);
        }
        // Aggregate calls, deduplicated by text.
        let mut calls: Vec<&Expr> = Vec::new();
        for (_, e) in items {
            collect_aggregates(e, &mut calls);
        }
        if let Some(h) = &s.having {
            collect_aggregates(h, &mut calls);
        }
        for e in extra {
            collect_aggregates(e, &mut calls);
        }
        let mut uniq: Vec<(String, &Expr)> = Vec::new();
        for c in calls {
            let k = expr_text(c);
            if !uniq.iter().any(|(t, _)| *t == k) {
                uniq.push((k, c));
            }
        }
        let mut arg_terms = Vec::new();
        let mut agg_info = Vec::new(); // (func name, distinct, star, arg type)
        for (_, c) in &uniq {
            let ExprKind::Func {
                name,
                distinct,
                args,
                ..
            } = &c.kind
            else {
                unreachable!()
            };
            let fname = name.name.as_str();
            match args {
                FuncArgs::Star => {
                    if fname != "count" {
                        self.err(
                            "E0857",
                            format!("{fname}(*) is not a function; only count(*) is"),
                            &c.span,
                            "star argument",
                        );
                        return Err(());
                    }
                    arg_terms.push(None);
                    agg_info.push((fname.to_string(), false, true, SqlType::Int));
                }
                FuncArgs::List(a) => {
                    if a.len() != 1 {
                        self.err(
                            "E0858",
                            format!("aggregate {fname}() takes one argument"),
                            &c.span,
                            "wrong number of arguments",
                        );
                        return Err(());
                    }
                    self.no_aggregates(&a[0], "an aggregate's argument")?;
                    let (t, ty) = self.expr(&a[0], &mut body)?;
                    if matches!(fname, "sum" | "avg" | "total") && ty == SqlType::Text {
                        self.err(
                            "E0859",
                            format!("type error: {fname}() of TEXT"),
                            &a[0].span,
                            "not a number",
                        );
                        return Err(());
                    }
                    arg_terms.push(Some(t));
                    agg_info.push((fname.to_string(), *distinct, false, ty));
                }
            }
        }
        let mut ids = self.identity_terms(&mut body);
        if ids.is_empty() {
            ids.push(Term::Const(Value::Int(0)));
        }
        let params: Vec<String> = self.frames[depth]
            .params
            .iter()
            .map(|p| p.1.clone())
            .collect();
        let mut lits = self.finish_body(body);
        let n_params_b = params.len();
        let mut bhead: Vec<(String, Term)> = Vec::new();
        if !params.is_empty() {
            let d = self.domain_at(self.depth());
            let dargs: Vec<(String, Term)> = params
                .iter()
                .enumerate()
                .map(|(i, v)| (param_attr(i), Term::Var(v.clone())))
                .collect();
            lits.insert(0, Self::atom(d, dargs.clone()));
            bhead.extend(dargs);
        }
        let n_ids = ids.len();
        bhead.extend(
            ids.iter()
                .cloned()
                .enumerate()
                .map(|(i, t)| (id_attr(i), t)),
        );
        bhead.extend(
            key_terms
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, t)| (format!("g{i}"), t)),
        );
        for (i, t) in arg_terms.iter().enumerate() {
            if let Some(t) = t {
                bhead.push((format!("a{i}"), t.clone()));
            }
        }
        let battrs = bhead.iter().map(|(a, _)| a.clone()).collect();
        let b = self.new_rel("b", battrs);
        self.add_rule(b, bhead.clone(), lits);

        // G(params, keys, outs) :- aggregates over B.
        let pvars: Vec<(String, Term)> = (0..n_params_b)
            .map(|i| (param_attr(i), Term::Var(format!("?p{i}"))))
            .collect();
        let gvars: Vec<(String, Term)> = (0..key_terms.len())
            .map(|i| (format!("g{i}"), Term::Var(format!("?g{i}"))))
            .collect();
        let mut gbody = Vec::new();
        let mut outs = Vec::new();
        for (i, (fname, distinct, star, _)) in agg_info.iter().enumerate() {
            let out = format!("?o{i}");
            outs.push(out.clone());
            let mut args: Vec<(String, Term)> = pvars.clone();
            args.extend(gvars.iter().cloned());
            let (func, arg) = if *star {
                args.extend((0..n_ids).map(|k| (id_attr(k), Term::Var(format!("?i{k}")))));
                ("count".to_string(), Term::Var("?i0".into()))
            } else if *distinct {
                // Over the distinct (params, keys, value) tuples.
                let dattrs: Vec<String> = args
                    .iter()
                    .map(|(a, _)| a.clone())
                    .chain([format!("a{i}")])
                    .collect();
                let drel = self.new_rel("bd", dattrs);
                let mut dh = args.clone();
                dh.push((format!("a{i}"), Term::Var(format!("?a{i}"))));
                let mut src = args.clone();
                src.push((format!("a{i}"), Term::Var(format!("?a{i}"))));
                self.add_rule(drel, dh, vec![Self::atom(b, src)]);
                let mut a2 = args.clone();
                a2.push((format!("a{i}"), Term::Var(format!("?a{i}"))));
                gbody.push(Literal::Agg {
                    out: out.clone(),
                    func: Callee::Builtin(format!("sql_{fname}")),
                    args: vec![Term::Var(format!("?a{i}"))],
                    atom: Atom {
                        rel: drel,
                        args: a2,
                    },
                });
                continue;
            } else {
                args.extend((0..n_ids).map(|k| (id_attr(k), Term::Var(format!("?i{k}")))));
                args.push((format!("a{i}"), Term::Var(format!("?a{i}"))));
                (format!("sql_{fname}"), Term::Var(format!("?a{i}")))
            };
            gbody.push(Literal::Agg {
                out: out.clone(),
                func: Callee::Builtin(func),
                args: vec![arg],
                atom: Atom { rel: b, args },
            });
        }
        if agg_info.is_empty() {
            // GROUP BY without aggregates: the groups are the distinct keys.
            let mut args = pvars.clone();
            args.extend(gvars.iter().cloned());
            gbody.push(Self::atom(b, args));
        }
        let mut ghead = pvars.clone();
        ghead.extend(gvars.iter().cloned());
        ghead.extend(
            outs.iter()
                .enumerate()
                .map(|(i, o)| (format!("o{i}"), Term::Var(o.clone()))),
        );
        let gattrs = ghead.iter().map(|(a, _)| a.clone()).collect();
        let g = self.new_rel("g", gattrs);
        self.add_rule(g, ghead.clone(), gbody);
        if s.group_by.is_empty() {
            // No GROUP BY: one row even over no input (COUNT 0, the others NULL).
            let defaults: Vec<(String, Term)> = agg_info
                .iter()
                .enumerate()
                .map(|(i, (f, _, _, _))| {
                    let v = match f.as_str() {
                        "count" => Value::Int(0),
                        "total" => Value::Float(0.0),
                        _ => Value::Nil,
                    };
                    (format!("o{i}"), Term::Const(v))
                })
                .collect();
            let mut head = pvars.clone();
            head.extend(defaults);
            // (`i0` as a variable, not `_`: printed PomoLogic drops wildcards, and an atom
            // without arguments would read as a call.)
            let mut barg = pvars.clone();
            barg.push((id_attr(0), Term::Var("?any".into())));
            let neg = self.negated_exists_keys(Self::atom(b, barg), &pvars);
            let mut body = Vec::new();
            if n_params_b > 0 {
                let d = self.domain_at(self.depth());
                body.push(Self::atom(d, pvars.clone()));
            }
            body.push(neg);
            self.add_rule(g, head, body);
        }

        // The select list over the groups.
        let mut body = Body {
            grouped: true,
            ..Body::default()
        };
        let gv: Vec<(String, Term)> = ghead
            .iter()
            .map(|(a, _)| (a.clone(), Term::Var(format!("?G{a}"))))
            .collect();
        body.lits.push(Self::atom(g, gv.clone()));
        for (i, gexpr) in s.group_by.iter().enumerate() {
            body.subst.push((
                self.canon(gexpr),
                Term::Var(format!("?Gg{i}")),
                key_types[i],
            ));
        }
        for (i, (k, _)) in uniq.iter().enumerate() {
            let ty = match agg_info[i].0.as_str() {
                "count" => SqlType::Int,
                "avg" | "total" => SqlType::Real,
                "sum" => {
                    if agg_info[i].3 == SqlType::Real {
                        SqlType::Real
                    } else {
                        SqlType::Int
                    }
                }
                _ => agg_info[i].3,
            };
            body.subst
                .push((k.clone(), Term::Var(format!("?Go{i}")), ty));
        }
        // Params of the group rule are the G relation's.
        let saved: Vec<(ResolvedColumn, String)> = self.frames[depth].params.clone();
        for (i, (k, _)) in saved.iter().enumerate() {
            body.bound.insert(*k, Term::Var(format!("?Gp{i}")));
        }
        if let Some(h) = &s.having {
            let (t, ty) = self.expr(h, &mut body)?;
            self.check_bool(ty, h, "HAVING")?;
            self.truth_test(t, &mut body)?;
        }
        let mut cols = Vec::new();
        let mut terms = Vec::new();
        for slot in layout {
            let ItemSlot::Expr(i) = slot else {
                unreachable!()
            };
            let (alias, e) = items[*i].clone();
            let (t, ty) = self.expr(e, &mut body)?;
            cols.push((alias.unwrap_or_else(|| item_name(e)), ty));
            terms.push(t);
        }
        for e in extra {
            let (t, ty) = self.expr(e, &mut body)?;
            cols.push((item_name(e), ty));
            terms.push(t);
        }
        let ids: Vec<Term> = if want_ids && !s.distinct {
            (0..key_terms.len())
                .map(|i| Term::Var(format!("?Gg{i}")))
                .collect()
        } else {
            Vec::new()
        };
        // New params read by the select list (columns of enclosing frames) would be unbound
        // here: they must come through G.
        if self.frames[depth].params.len() != saved.len() {
            self.err("E0860", "a correlated reference in the select list of a grouped subquery must also appear in its WHERE", &s.span, "unsupported correlation");
            return Err(());
        }
        let mut head = Vec::new();
        for i in 0..saved.len() {
            head.push((param_attr(i), Term::Var(format!("?Gp{i}"))));
        }
        let n_ids = ids.len();
        head.extend(ids.into_iter().enumerate().map(|(i, t)| (id_attr(i), t)));
        head.extend(terms.into_iter().enumerate().map(|(i, t)| (col_attr(i), t)));
        let attrs = head.iter().map(|(a, _)| a.clone()).collect();
        let rel = self.new_rel("s", attrs);
        let lits = body.lits;
        self.add_rule(rel, head, lits);
        Ok(RelOut {
            rel,
            params: saved.len(),
            ids: n_ids,
            cols,
        })
    }

    /// Text of an expression with columns resolved (to match GROUP BY keys).
    fn canon(&self, e: &Expr) -> String {
        if let ExprKind::Column { table, name } = &e.kind
            && let Some(k) = self.peek_resolve(table.as_ref().map(|t| t.name.as_str()), &name.name)
        {
            return format!("#col{:?}", k);
        }
        expr_text(e)
    }

    // ----- expressions ------------------------------------------------------------------------

    fn apply(&mut self, func: &str, args: Vec<Term>, body: &mut Body) -> Term {
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

    fn expr(&mut self, e: &Expr, body: &mut Body) -> Lowered<(Term, SqlType)> {
        if body.grouped {
            let k = self.canon(e);
            if let Some((_, t, ty)) = body.subst.iter().find(|(c, _, _)| *c == k) {
                return Ok((t.clone(), *ty));
            }
            if let ExprKind::Column { name, .. } = &e.kind {
                // Outer columns are fine (params); this frame's are not grouped.
                let k = self.resolve_expr_col(e)?;
                if k.0 == self.depth() {
                    self.err(
                        "E0861",
                        format!("column `{}` must appear in GROUP BY or be used in an aggregate function", name.name),
                        &e.span,
                        "not grouped",
                    );
                    return Err(());
                }
            }
        }
        match &e.kind {
            ExprKind::Lit(l) => {
                let v = lit_value(l);
                let ty = match &v {
                    Value::Int(_) => SqlType::Int,
                    Value::Float(_) => SqlType::Real,
                    Value::Str(_) => SqlType::Text,
                    Value::Bool(_) => SqlType::Bool,
                    _ => SqlType::Null,
                };
                Ok((Term::Const(v), ty))
            }
            ExprKind::Column { .. } => {
                let k = self.resolve_expr_col(e)?;
                let ty = self.key_type(k);
                let t = self.col_term(k, body, false)?;
                Ok((t, ty))
            }
            ExprKind::Unary { op, expr } => {
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
                        if *op == UnOp::Plus {
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
            ExprKind::Binary { op, left, right } => {
                let (lt, lty) = self.expr(left, body)?;
                let (rt, rty) = self.expr(right, body)?;
                match op {
                    BinOp::And | BinOp::Or => {
                        self.check_bool(lty, left, if *op == BinOp::And { "AND" } else { "OR" })?;
                        self.check_bool(rty, right, if *op == BinOp::And { "AND" } else { "OR" })?;
                        let f = if *op == BinOp::And {
                            "sql_and"
                        } else {
                            "sql_or"
                        };
                        Ok((self.apply(f, vec![lt, rt], body), SqlType::Bool))
                    }
                    BinOp::Concat => {
                        Ok((self.apply("sql_concat", vec![lt, rt], body), SqlType::Text))
                    }
                    op if is_cmp(*op) => {
                        self.check_comparable(lty, rty, e)?;
                        Ok((
                            self.apply(sql_cmp_fn(*op), vec![lt, rt], body),
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
                        let ty = if *op == BinOp::Mod && ty == SqlType::Real {
                            SqlType::Real
                        } else {
                            ty
                        };
                        Ok((self.apply(f, vec![lt, rt], body), ty))
                    }
                }
            }
            ExprKind::IsNull { expr, negated } => {
                let (t, _) = self.expr(expr, body)?;
                let f = if *negated {
                    "sql_not_null"
                } else {
                    "sql_is_null"
                };
                Ok((self.apply(f, vec![t], body), SqlType::Bool))
            }
            ExprKind::Is {
                left,
                right,
                negated,
            } => {
                let (lt, lty) = self.expr(left, body)?;
                let (rt, rty) = self.expr(right, body)?;
                self.check_comparable(lty, rty, e)?;
                let f = if *negated { "sql_is_not" } else { "sql_is" };
                Ok((self.apply(f, vec![lt, rt], body), SqlType::Bool))
            }
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let (x, xty) = self.expr(expr, body)?;
                let (lo, loty) = self.expr(low, body)?;
                let (hi, hity) = self.expr(high, body)?;
                self.check_comparable(xty, loty, e)?;
                self.check_comparable(xty, hity, e)?;
                let a = self.apply("sql_ge", vec![x.clone(), lo], body);
                let b = self.apply("sql_le", vec![x, hi], body);
                let t = self.apply("sql_and", vec![a, b], body);
                let t = if *negated {
                    self.apply("sql_not", vec![t], body)
                } else {
                    t
                };
                Ok((t, SqlType::Bool))
            }
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
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
                let t = if *negated {
                    self.apply("sql_not", vec![t], body)
                } else {
                    t
                };
                Ok((t, SqlType::Bool))
            }
            ExprKind::Like {
                expr,
                pattern,
                negated,
                escape,
            } => {
                let (x, _) = self.expr(expr, body)?;
                let (p, _) = self.expr(pattern, body)?;
                let mut args = vec![x, p];
                if let Some(esc) = escape {
                    args.push(self.expr(esc, body)?.0);
                }
                let t = self.apply("sql_like", args, body);
                let t = if *negated {
                    self.apply("sql_not", vec![t], body)
                } else {
                    t
                };
                Ok((t, SqlType::Bool))
            }
            ExprKind::Case {
                operand,
                whens,
                else_,
            } => {
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
            ExprKind::Cast { expr, ty } => {
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
            ExprKind::Func {
                name,
                args,
                over,
                distinct,
            } => {
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
                let is_agg = AGGREGATES.contains(&fname)
                    && !(matches!(fname, "min" | "max")
                        && matches!(args, FuncArgs::List(a) if a.len() > 1));
                if is_agg {
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
                if *distinct {
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
                let (func, arity, ty): (&str, (usize, usize), SqlType) = match fname {
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
                    _ => {
                        self.err(
                            "E0865",
                            format!("no such function: {fname}"),
                            &name.span,
                            "unknown function",
                        );
                        return Err(());
                    }
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
            ExprKind::Exists(q) => {
                let t = self.exists_value(q, body)?;
                Ok((t, SqlType::Bool))
            }
            ExprKind::InSubquery {
                expr,
                query,
                negated,
            } => {
                let t = self.in_value(expr, query, body)?;
                let t = if *negated {
                    self.apply("sql_not", vec![t], body)
                } else {
                    t
                };
                Ok((t, SqlType::Bool))
            }
            ExprKind::Subquery(q) => self.scalar_subquery(q, body),
        }
    }

    fn resolve_expr_col(&mut self, e: &Expr) -> Lowered<ResolvedColumn> {
        let ExprKind::Column { table, name } = &e.kind else {
            unreachable!()
        };
        self.resolve(table.as_ref(), name, &e.span)
    }

    /// `EXISTS (q)` as a value: `ex(p…, b)` over the subquery's domain.
    fn exists_value(&mut self, q: &Query, body: &mut Body) -> Lowered<Term> {
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
        self.add_rule(ex, h1, vec![Self::atom(out.rel, pv.clone())]);
        let mut h0 = pv.clone();
        h0.push(("b".into(), Term::Const(Value::Bool(false))));
        let neg = self.negated_exists_keys(Self::atom(out.rel, pv.clone()), &pv);
        let mut b0 = Vec::new();
        if let Some(d) = domain {
            b0.push(Self::atom(d, pv.clone()));
        }
        b0.push(neg);
        self.add_rule(ex, h0, b0);
        let v = Term::Var(self.fresh("ex"));
        let mut a = args;
        a.push(("b".into(), v.clone()));
        body.lits.push(Self::atom(ex, a));
        Ok(v)
    }

    /// `x IN (q)` as a three-valued value over the domain of (params, x).
    fn in_value(&mut self, x: &Expr, q: &Query, body: &mut Body) -> Lowered<Term> {
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
        self.check_comparable(xty, out.cols[0].1, x)?;
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
            self.add_rule(dx, head, lits);
        }
        let mut pvx = pv.clone();
        pvx.push(("x".into(), xv.clone()));
        // hit(p…, x) :- dx(p…, x), s(p…, c0: y), x = y (not NULL).
        let hit = self.new_rel("hit", dattrs.clone());
        let mut sargs = pv.clone();
        if xty == out.cols[0].1 {
            sargs.push((col_attr(0), xv.clone()));
            let b = vec![
                Self::atom(dx, pvx.clone()),
                Self::atom(out.rel, sargs),
                Literal::Cmp {
                    op: CmpOp::Ne,
                    lhs: xv.clone(),
                    rhs: Term::Const(Value::Nil),
                },
            ];
            self.add_rule(hit, pvx.clone(), b);
        } else {
            sargs.push((col_attr(0), Term::Var("?y".into())));
            let b = vec![
                Self::atom(dx, pvx.clone()),
                Self::atom(out.rel, sargs),
                Literal::Apply {
                    bind: Bind::Scalar(Term::Var("?e".into())),
                    func: Callee::Builtin("sql_eq".into()),
                    args: vec![xv.clone(), Term::Var("?y".into())],
                },
                Literal::Test {
                    func: Callee::Builtin("sql_true".into()),
                    args: vec![Term::Var("?e".into())],
                    negated: false,
                },
            ];
            self.add_rule(hit, pvx.clone(), b);
        }
        // nonempty(p…), hasnull(p…)
        let mut s_any = pv.clone();
        s_any.push((col_attr(0), Term::Var("?any".into())));
        let mut s_null = pv.clone();
        s_null.push((col_attr(0), Term::Const(Value::Nil)));
        let not_hit = self.negated_exists_keys(Self::atom(hit, pvx.clone()), &pvx);
        let empty = self.negated_exists_keys(Self::atom(out.rel, s_any.clone()), &pv);
        let no_null = self.negated_exists_keys(Self::atom(out.rel, s_null.clone()), &pv);
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
        let dxa = Self::atom(dx, pvx.clone());
        self.add_rule(
            res,
            head(Value::Bool(true)),
            vec![dxa.clone(), Self::atom(hit, pvx.clone())],
        );
        self.add_rule(res, head(Value::Bool(false)), vec![dxa.clone(), empty]);
        // Non-empty, no hit: NULL if x is NULL or the subquery has a NULL, else FALSE.
        let nonempty = Self::atom(out.rel, s_any.clone());
        let mut ne_args = vec![("k".to_string(), Term::Const(Value::Int(0)))];
        ne_args.extend(pv.iter().cloned());
        let ne_rel = self.new_rel("nonempty", ne_args.iter().map(|(a, _)| a.clone()).collect());
        self.add_rule(ne_rel, ne_args.clone(), vec![nonempty]);
        let ne = Self::atom(ne_rel, ne_args);
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
                Self::atom(out.rel, s_null),
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
        body.lits.push(Self::atom(res, a));
        Ok(v)
    }

    /// Like [`Self::finish_body`], plus the frame's domain atom when the body read params.
    fn finish_body_with_params(&mut self, body: Body) -> Vec<Literal> {
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
            lits.insert(0, Self::atom(d, dargs));
        }
        lits
    }

    /// A scalar subquery: an aggregate without GROUP BY (exactly one row per parameter).
    fn scalar_subquery(&mut self, q: &Query, body: &mut Body) -> Lowered<(Term, SqlType)> {
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
        body.lits.push(Self::atom(out.rel, args));
        Ok((v, out.cols[0].1))
    }
}

/// A lowered subquery: its relation, the enclosing columns it reads (with their parameter
/// variables) and its domain relation when it reads any.
type Correlated = (RelOut, Vec<(ResolvedColumn, String)>, Option<RelId>);

#[derive(Clone, Copy, Debug)]
enum ItemSlot {
    Expr(usize),
    Star(usize),
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

fn is_atom_of(l: &Literal, rel: RelId) -> bool {
    matches!(l, Literal::Pos { atom, .. } if atom.rel == rel)
}

fn false_lit() -> Literal {
    Literal::Cmp {
        op: CmpOp::Eq,
        lhs: Term::Const(Value::Int(0)),
        rhs: Term::Const(Value::Int(1)),
    }
}

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

fn truthy_sql(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        _ => false,
    }
}

fn is_cmp(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

fn cmp_op(op: BinOp) -> CmpOp {
    match op {
        BinOp::Eq => CmpOp::Eq,
        BinOp::NotEq => CmpOp::Ne,
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        BinOp::Gt => CmpOp::Gt,
        _ => CmpOp::Ge,
    }
}

fn sql_cmp_fn(op: BinOp) -> &'static str {
    match op {
        BinOp::Eq => "sql_eq",
        BinOp::NotEq => "sql_ne",
        BinOp::Lt => "sql_lt",
        BinOp::Le => "sql_le",
        BinOp::Gt => "sql_gt",
        _ => "sql_ge",
    }
}

fn lit_value(l: &Lit) -> Value {
    match l {
        Lit::Null => Value::Nil,
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Int(i) => Value::Int(*i),
        Lit::Float(f) => Value::Float(*f),
        Lit::Str(s) => Value::Str(s.clone()),
    }
}

fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
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

fn is_aggregate_call(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Func { name, args, .. } => {
            AGGREGATES.contains(&name.name.as_str())
                && !(matches!(name.name.as_str(), "min" | "max")
                    && matches!(args, FuncArgs::List(a) if a.len() > 1))
        }
        _ => false,
    }
}

fn has_aggregate(e: &Expr) -> bool {
    find_aggregate(e).is_some()
}

/// The span of an aggregate call in the expression (not inside subqueries).
fn find_aggregate(e: &Expr) -> Option<Span> {
    let mut v = Vec::new();
    collect_aggregates(e, &mut v);
    v.first().map(|e| e.span.clone())
}

fn collect_aggregates<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    if is_aggregate_call(e) {
        out.push(e);
        return;
    }
    for c in children(e) {
        collect_aggregates(c, out);
    }
}

/// The direct subexpressions (not subqueries).
fn children(e: &Expr) -> Vec<&Expr> {
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

fn item_name(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Column { name, .. } => name.name.clone(),
        _ => expr_text(e),
    }
}

/// Whether a query reads the named table anywhere (for WITH RECURSIVE).
fn query_mentions(q: &Query, name: &str) -> bool {
    format!("{q}")
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w.eq_ignore_ascii_case(name))
}
