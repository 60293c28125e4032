//! Lowering of Datomic-style EDN queries (ARCHITECTURE §6) to PomoLogic.
//!
//! A query becomes one `where` rule whose body is the lowered `:where` clauses joined with the
//! query's inputs, plus (for aggregates) a `find` rule that groups it; without aggregates the
//! `where` rule is named `find` directly. The output relation's attributes are the find columns
//! followed by the `:with` columns. Data patterns become atoms over the source's datom view
//! (`datom` for `$`, `datom$name` for `$name`), rules become rules (one relation per rule and
//! source), and `or` / `or-join` / `not` / `not-join` become auxiliary relations: `or_N` with one
//! rule per branch, `not_N` negated in the outer body. When a branch or negation needs a
//! variable that it does not bind itself, a `ctx_N` relation carries the outer body's bindings
//! into it (DataScript requires those variables to be bound by earlier clauses, and so do we).
//!
//! The work is split by responsibility: [`values`] turns constants, pull patterns, sources and
//! `:in` bindings into values and input relations; [`clauses`] lowers data patterns,
//! predicates and function calls and dispatches every clause; [`negation`] lowers `not`,
//! `not-join`, `or` and `or-join` through sub-bodies; [`rules`] lowers rule calls and rule
//! instances, including the magic-set adornment of rules that need bindings from their callers;
//! [`aggregates`] builds the `find` relation from the find spec, aggregates and pull specs.
//! This file holds the shared state ([`Lowerer`], [`Body`]) and the order of the whole lowering.
//! The program itself is built with the shared [`ProgramBuilder`]; generated names are EDN's own
//! (`ctx_N`, `not_N`, `or_N`, `agg_N` from one counter, `where`/`find` made unique with `_`).
//!
//! Binding errors are reported here with the spans of the EDN clauses: all errors of the query
//! are collected, and a query with any error yields no program.

mod aggregates;
mod clauses;
mod negation;
mod rules;
mod values;

pub use values::{const_value, pattern_value};

use crate::logic::builder::{ProgramBuilder, SourceSpan};
use crate::logic::ir::*;
use pomo_grammar::Diagnostic;
use pomo_grammar::query::{EdnQuery, Rule as QRule};
use pomo_grammar::span::{FileId, Span};
use pomo_types::ra::RelKind;
use std::collections::{BTreeMap, BTreeSet};

/// A rule set with the file its spans point into.
pub struct RuleSet<'a> {
    pub rules: &'a [QRule],
    pub file: FileId,
}

/// Lowers a query (read from file 0) with an optional rule set.
pub fn lower_query(q: &EdnQuery, rules: Option<RuleSet<'_>>) -> Result<Program, Vec<Diagnostic>> {
    let mut cx = Lowerer::new(q, rules);
    cx.lower();
    if cx.errors.is_empty() {
        Ok(cx.builder.finish())
    } else {
        Err(cx.errors)
    }
}

/// Strips the `?` of a variable to name an attribute.
fn attr_of(var: &str) -> String {
    var.strip_prefix('?').unwrap_or(var).to_string()
}

/// The lowering state of one rule body (the query's `where`, a rule branch, an `or` branch…).
#[derive(Default, Clone)]
struct Body {
    lits: Vec<Literal>,
    spans: Vec<Option<SourceSpan>>,
    /// Variables bound by the literals so far.
    bound: BTreeSet<String>,
    /// Variables mentioned so far (bound or not).
    seen: BTreeSet<String>,
}

impl Body {
    fn push(&mut self, lit: Literal, span: SourceSpan) {
        self.lits.push(lit);
        self.spans.push(Some(span));
    }
}

/// The state of one query's lowering.
struct Lowerer<'q> {
    q: &'q EdnQuery,
    rules: BTreeMap<String, Vec<&'q QRule>>,
    rules_file: FileId,
    has_rules_input: bool,
    sources: BTreeSet<String>,
    /// The program so far, with the counter behind generated names and the names taken by user
    /// rules (which generated names avoid).
    builder: ProgramBuilder,
    errors: Vec<Diagnostic>,
    /// Rule instances lowered or being lowered: (rule name, default source, adornment) →
    /// relation.
    instances: BTreeMap<(String, String, String), (RelId, Option<RelId>)>,
    /// Whether a rule (per source) lowers on its own, without bindings from its callers.
    plain_ok: BTreeMap<(String, String), bool>,
    /// The variables bound by :in so far, with their spans.
    input_vars: BTreeMap<String, Span>,
    /// The input relation each :in variable lives in.
    input_rel_of: BTreeMap<String, String>,
}

/// What a trial lowering may change, saved so that the trial can be undone (see
/// [`Lowerer::snapshot`]).
struct Snapshot {
    builder: ProgramBuilder,
    instances: BTreeMap<(String, String, String), (RelId, Option<RelId>)>,
    plain_ok: BTreeMap<(String, String), bool>,
}

impl<'q> Lowerer<'q> {
    fn new(q: &'q EdnQuery, rules: Option<RuleSet<'q>>) -> Self {
        let mut by_name: BTreeMap<String, Vec<&QRule>> = BTreeMap::new();
        let mut rules_file = 0;
        if let Some(rs) = &rules {
            rules_file = rs.file;
            for r in rs.rules {
                by_name.entry(r.name.name.clone()).or_default().push(r);
            }
        }
        let reserved = by_name.keys().cloned().collect();
        Lowerer {
            q,
            rules: by_name,
            rules_file,
            has_rules_input: false,
            sources: BTreeSet::new(),
            builder: ProgramBuilder::with_reserved(reserved),
            errors: Vec::new(),
            instances: BTreeMap::new(),
            plain_ok: BTreeMap::new(),
            input_vars: BTreeMap::new(),
            input_rel_of: BTreeMap::new(),
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    /// The datom view of a source (`datom` for `$`), declared with the datom attributes.
    fn source_rel(&mut self, src: &str) -> RelId {
        self.builder.relation(
            &source_relation(src),
            RelKind::view(src),
            DATOM_ATTRS.iter().copied(),
        )
    }

    /// Lowers the whole query: inputs, then the `:where` clauses, then the find relation.
    fn lower(&mut self) {
        let q = self.q;
        let mut body = Body::default();
        self.lower_inputs(&mut body);
        // Declare the default source first so that `datom` prints first even when unused.
        if self.sources.contains("$") {
            self.source_rel("$");
        }
        // The name is chosen before the clauses are lowered, as it always was, so that it does
        // not depend on the relations the clauses generate.
        let main_name = self.builder.unique_name("where");
        for c in &q.where_ {
            self.lower_clause(c, &mut body, "$", 0);
        }
        self.lower_find(&main_name, body);
    }

    /// Saves what a trial lowering may change. Trials are undone when they report errors: the
    /// plain lowering of a rule that turns out to need bindings from its callers, and a
    /// sub-body that turns out to need a context relation.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            builder: self.builder.clone(),
            instances: self.instances.clone(),
            plain_ok: self.plain_ok.clone(),
        }
    }

    /// Undoes everything since `s` was taken, keeping the first `errors` diagnostics.
    fn restore(&mut self, s: Snapshot, errors: usize) {
        self.builder = s.builder;
        self.instances = s.instances;
        self.plain_ok = s.plain_ok;
        self.errors.truncate(errors);
    }
}

/// The lowering of query text, for the tests of every module: the printed program, or the
/// diagnostics as `CODE message` lines. Rules are read from `rules` (file 1) when given.
#[cfg(test)]
fn lower_text(query: &str, rules: Option<&str>) -> Result<String, String> {
    use pomo_grammar::query::{parse_query_text, parse_rules_text};
    let fail = |ds: Vec<Diagnostic>| {
        ds.iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let q = parse_query_text(query).map_err(fail)?;
    let rules = match rules {
        Some(text) => Some(parse_rules_text(text).map_err(fail)?),
        None => None,
    };
    let set = rules.as_deref().map(|r| RuleSet { rules: r, file: 1 });
    let prog = lower_query(&q, set).map_err(fail)?;
    Ok(crate::logic::print::program(&prog).trim().to_string())
}
