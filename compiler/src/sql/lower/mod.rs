//! Lowering SQL queries to PomoLogic (ARCHITECTURE §6): the entry point [`lower_query`], the
//! state of one lowering (`Lowering`) and the small types its steps share.
//!
//! The lowering is split by responsibility, each file adding methods to `Lowering`:
//! `query` (the top query, WITH and recursive CTEs, set operations, VALUES, output names),
//! `select` (SELECT cores, FROM items, joins and LEFT JOIN chains, frame materialisation),
//! `scope` (frames, sources, column resolution and the terms of columns), `conditions` (WHERE
//! analysis and conjuncts), `subquery` (EXISTS, IN and scalar subqueries, decorrelation),
//! `grouping` (GROUP BY and aggregates) and `expr` (expressions).
//!
//! * SQL is bag-valued: every intermediate relation keeps *identity* columns (`i0, i1, …`: the
//!   entity ids of the joined rows, a branch tag for UNION ALL, the group key of a group) next to
//!   its value columns (`c0, c1, …`), so equal rows stay apart until the result is printed. Where
//!   duplicates cannot matter (DISTINCT, set operations, IN/EXISTS) the identities are dropped.
//! * The program, its relations and its rules go through the shared [`ProgramBuilder`]. Generated
//!   relation names are a base and the builder's counter (`s1`, `d2`, `f3`, …) and variables are
//!   `?base{n}` from the lowering's own counter; both are printed in golden plans, so the order
//!   in which the steps ask for names is part of the output.
//! * Every rule carries the span of the SQL construct it comes from (the SELECT, the subquery,
//!   the CTE, the LEFT JOIN, the compound SELECT), and its body literals the span of the
//!   condition or innermost expression they come from (none for the atoms that only bind rows
//!   or domains); SQL text is file 0. Spans are not printed, so plans do not depend on them.
//!
//! The unit tests are in `tests.rs` (shared helpers, spans) and `tests/<module>.rs`.
//!
//! Invariants: a step that fails has pushed its diagnostic to `errors` and returns `Err(())`
//! (`Lowered`); `frames` and `domains` grow and shrink together, one entry per SELECT core
//! (or private scope) being lowered, and every step leaves them as it found them.

mod conditions;
mod expr;
mod grouping;
mod query;
mod scope;
mod select;
mod subquery;
#[cfg(test)]
mod tests;

pub use expr::expr_text;

use super::catalog::{Catalog, SqlType};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::{Atom, DATOM_ATTRS, Literal, Program, RelId, Term};
use pomo_grammar::Diagnostic;
use pomo_grammar::span::{FileId, Span};
use pomo_grammar::sql_syntax::SqlQuery;
use pomo_types::Value;
use pomo_types::ra::RelKind;
use std::collections::{BTreeMap, BTreeSet};

/// The file id of SQL text in spans: a SQL script is one file.
const SQL_FILE: FileId = 0;

/// The name of the output relation of a lowered SQL query.
pub const OUTPUT: &str = "q";

/// What a lowered query returns besides its program: the printed columns' names and types.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlColumns {
    pub names: Vec<String>,
    pub types: Vec<SqlType>,
}

/// Lowers a query over the catalog's tables to a PomoLogic program whose output relation
/// [`OUTPUT`] carries a [`SqlShape`](pomo_types::ra::SqlShape).
pub fn lower_query(q: &SqlQuery, cat: &Catalog) -> Result<(Program, SqlColumns), Vec<Diagnostic>> {
    let mut lw = Lowering::new(cat);
    let out = lw.top_query(q);
    if !lw.errors.is_empty() {
        return Err(lw.errors);
    }
    let out = out.expect("no errors means a result");
    Ok((lw.builder.finish(), out))
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
    /// The span of the condition or expression each literal comes from, by index in `lits`
    /// (shorter than `lits` where the last literals have none).
    lit_spans: Vec<Option<Span>>,
}

impl Body {
    /// Notes that the literals from `start` on come from the construct at `span`, except those
    /// an inner construct already claimed: each literal keeps the innermost span.
    fn mark_spans(&mut self, start: usize, span: &Span) {
        self.lit_spans.resize(self.lits.len(), None);
        for s in &mut self.lit_spans[start..] {
            if s.is_none() {
                *s = Some(span.clone());
            }
        }
    }
}

/// A finished rule body: its literals in order, with the span each comes from (`None` for the
/// atoms that bind rows or domains, which no single condition asked for).
#[derive(Debug, Default)]
struct SpannedLits {
    lits: Vec<Literal>,
    spans: Vec<Option<Span>>,
}

impl SpannedLits {
    /// Inserts a literal no condition asked for at `index`.
    fn insert(&mut self, index: usize, lit: Literal) {
        self.lits.insert(index, lit);
        self.spans.insert(index, None);
    }
}

/// The state of lowering one SQL statement.
struct Lowering<'a> {
    cat: &'a Catalog,
    /// The program being built; its counter numbers generated relations (`s1`, `d2`, …).
    builder: ProgramBuilder,
    datom: RelId,
    errors: Vec<Diagnostic>,
    /// The counter of fresh variables (`?u1`, `?x2`, …), apart from the relations' counter.
    nvar: usize,
    /// The spans of the SQL constructs being lowered, innermost last: a rule added gets the
    /// innermost one.
    constructs: Vec<Span>,
    frames: Vec<Frame>,
    /// Visible common table expressions, innermost last.
    ctes: Vec<(String, RelOut)>,
    /// `t__c` relations by attribute.
    opt_cols: BTreeMap<String, RelId>,
    /// Domain relations of subquery frames, by frame depth while being built.
    domains: Vec<Option<RelId>>,
    /// Per-table filter relations (joined first).
    filters: BTreeSet<RelId>,
    /// The views being expanded, innermost last (a view that names itself is an error).
    views_open: Vec<String>,
}

impl<'a> Lowering<'a> {
    /// A lowering over the catalog's tables, with the `datom` relation declared.
    fn new(cat: &'a Catalog) -> Self {
        let mut builder = ProgramBuilder::default();
        let datom = builder.relation("datom", RelKind::view("$"), DATOM_ATTRS.iter().copied());
        Lowering {
            cat,
            builder,
            datom,
            errors: Vec::new(),
            nvar: 0,
            constructs: Vec::new(),
            frames: Vec::new(),
            ctes: Vec::new(),
            opt_cols: BTreeMap::new(),
            domains: Vec::new(),
            filters: BTreeSet::new(),
            views_open: Vec::new(),
        }
    }

    /// Records the diagnostic `code: msg`, labelled `label` at `span`.
    fn err(&mut self, code: &str, msg: impl Into<String>, span: &Span, label: &str) {
        self.errors
            .push(Diagnostic::error(code, msg).with_label(span.clone(), label));
    }

    /// A fresh variable `?{base}{n}`.
    fn fresh(&mut self, base: &str) -> String {
        self.nvar += 1;
        format!("?{base}{}", self.nvar)
    }

    /// A new derived relation named `base` and the next relation number.
    fn new_rel(&mut self, base: &str, attrs: Vec<String>) -> RelId {
        self.builder.fresh_relation(base, &attrs)
    }

    /// Adds `head(args…) :- body.`, spanning the innermost construct being lowered.
    fn add_rule(&mut self, head: RelId, args: Vec<(String, Term)>, body: Vec<Literal>) {
        self.add_spanned_rule(
            head,
            args,
            SpannedLits {
                lits: body,
                spans: Vec::new(),
            },
        );
    }

    /// Adds `head(args…) :- body.` with the spans of the body's literals.
    fn add_spanned_rule(&mut self, head: RelId, args: Vec<(String, Term)>, body: SpannedLits) {
        let span = self.constructs.last().map(|s| (SQL_FILE, s.clone()));
        let lit_spans = body
            .spans
            .into_iter()
            .map(|s| s.map(|s| (SQL_FILE, s)))
            .collect();
        self.builder
            .rule(Atom { rel: head, args }, body.lits, span, lit_spans);
    }

    /// Runs a lowering step for the construct at `span`: the rules it adds carry that span
    /// unless an inner construct's is nearer.
    fn within<T>(&mut self, span: &Span, step: impl FnOnce(&mut Self) -> T) -> T {
        self.constructs.push(span.clone());
        let r = step(self);
        self.constructs.pop();
        r
    }

    /// The atom `datom(e, a: :attr, v)`.
    fn datom_atom(&self, e: Term, attr: &str, v: Term) -> Literal {
        ProgramBuilder::atom(
            self.datom,
            vec![
                ("e".into(), e),
                ("a".into(), Term::Const(Value::Keyword(attr.to_string()))),
                ("v".into(), v),
            ],
        )
    }

    /// The index of the innermost frame (the SELECT core being lowered).
    fn depth(&self) -> usize {
        self.frames.len() - 1
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
