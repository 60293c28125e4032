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
//! Binding errors are reported here with the spans of the EDN clauses: all errors of the query
//! are collected.

use super::ir::*;
use pomo_grammar::Diagnostic;
use pomo_grammar::edn::{Form, Node};
use pomo_grammar::query::{
    Binding, Callee as QCallee, Clause, FindElem, FindSpec, FnArg, Input, PatTerm, Query,
    ReturnKind as QReturnKind, Rule as QRule, RuleArg, SrcVar, Var,
};
use pomo_grammar::span::{FileId, Span};
use pomo_stdlib::{Kind, builtin_by_edn_name};
use pomo_types::Value;
use pomo_types::ra::{
    BindKind, CmpOp, FindKind, OutputSpec, PullPattern, PullSpec, RelKind, ReturnKind,
};
use std::collections::{BTreeMap, BTreeSet};

/// A rule set with the file its spans point into.
pub struct RuleSet<'a> {
    pub rules: &'a [QRule],
    pub file: FileId,
}

/// Lowers a query (read from file 0) with an optional rule set.
pub fn lower_query(q: &Query, rules: Option<RuleSet<'_>>) -> Result<Program, Vec<Diagnostic>> {
    let mut cx = Lowerer::new(q, rules);
    cx.lower();
    if cx.errors.is_empty() {
        Ok(cx.prog)
    } else {
        Err(cx.errors)
    }
}

/// Strips the `?` of a variable to name an attribute.
fn attr_of(var: &str) -> String {
    var.strip_prefix('?').unwrap_or(var).to_string()
}

/// Converts a constant EDN form to a value.
pub fn const_value(n: &Node) -> Result<Value, Diagnostic> {
    Ok(match &n.form {
        Form::Nil => Value::Nil,
        Form::Bool(b) => Value::Bool(*b),
        Form::Int(i) => Value::Int(*i),
        Form::Float(f) => {
            if f.is_nan() {
                return Err(Diagnostic::error("E0210", "NaN is not a valid value")
                    .with_label(n.span.clone(), "here"));
            }
            Value::Float(*f)
        }
        Form::Str(s) => Value::Str(s.clone()),
        Form::Char(c) => Value::Str(c.to_string()),
        Form::Keyword(k) => Value::Keyword(k.clone()),
        Form::Symbol(s) => Value::Symbol(s.clone()),
        Form::Vector(xs) | Form::List(xs) => {
            Value::Tuple(xs.iter().map(const_value).collect::<Result<_, _>>()?)
        }
        Form::Set(xs) => {
            let mut vals: Vec<Value> = xs.iter().map(const_value).collect::<Result<_, _>>()?;
            vals.sort();
            vals.dedup();
            Value::Tuple(vals)
        }
        Form::Tagged(tag, inner) => match (tag.as_str(), &inner.form) {
            ("inst", Form::Str(s)) => match pomo_types::value::parse_instant(s) {
                Some(ms) => Value::Instant(ms),
                None => {
                    return Err(Diagnostic::error(
                        "E0211",
                        format!("invalid #inst timestamp {s:?}"),
                    )
                    .with_label(n.span.clone(), "expected an RFC 3339 timestamp")
                    .with_help("write it like #inst \"2024-05-01T12:00:00Z\""));
                }
            },
            ("uuid", Form::Str(s)) => match pomo_types::value::parse_uuid(s) {
                Some(u) => Value::Uuid(u),
                None => {
                    return Err(Diagnostic::error("E0211", format!("invalid #uuid {s:?}"))
                        .with_label(n.span.clone(), "expected 8-4-4-4-12 hex digits"));
                }
            },
            _ => {
                return Err(Diagnostic::error(
                    "E0212",
                    format!("unsupported tagged literal #{tag}"),
                )
                .with_label(n.span.clone(), "only #inst and #uuid are values")
                .with_help("use a string or a number instead"));
            }
        },
        Form::Map(_) => {
            return Err(
                Diagnostic::error("E0212", "a map is not a value pomo can match on")
                    .with_label(n.span.clone(), "map constant"),
            );
        }
    })
}

/// Converts a pull pattern form to a value: like [`const_value`], but maps are allowed and
/// symbols (`*`, `...`, `limit`) stay symbols.
pub fn pattern_value(n: &Node) -> Result<Value, Diagnostic> {
    match &n.form {
        Form::Map(es) => Ok(Value::Map(
            es.iter()
                .map(|(k, v)| Ok((pattern_value(k)?, pattern_value(v)?)))
                .collect::<Result<_, Diagnostic>>()?,
        )),
        Form::Vector(xs) | Form::List(xs) => Ok(Value::Tuple(
            xs.iter().map(pattern_value).collect::<Result<_, _>>()?,
        )),
        _ => const_value(n),
    }
}

/// The lowering state of one rule body (the query's `where`, a rule branch, an `or` branch…).
#[derive(Default, Clone)]
struct Body {
    lits: Vec<Literal>,
    spans: Vec<Option<(FileId, Span)>>,
    /// Variables bound by the literals so far.
    bound: BTreeSet<String>,
    /// Variables mentioned so far (bound or not).
    seen: BTreeSet<String>,
}

impl Body {
    fn push(&mut self, lit: Literal, span: (FileId, Span)) {
        self.lits.push(lit);
        self.spans.push(Some(span));
    }
}

struct Lowerer<'q> {
    q: &'q Query,
    rules: BTreeMap<String, Vec<&'q QRule>>,
    rules_file: FileId,
    has_rules_input: bool,
    sources: BTreeSet<String>,
    prog: Program,
    errors: Vec<Diagnostic>,
    /// Rule instances lowered or being lowered: (rule name, default source) → relation.
    instances: BTreeMap<(String, String, String), RelId>,
    /// Whether a rule (per source) lowers on its own, without bindings from its callers.
    plain_ok: BTreeMap<(String, String), bool>,
    /// The variables bound by :in so far, with their spans.
    input_vars: BTreeMap<String, Span>,
    /// The input relation each :in variable lives in.
    input_rel_of: BTreeMap<String, String>,
    counter: usize,
    /// Names taken by user rules, so generated names avoid them.
    reserved: BTreeSet<String>,
}

impl<'q> Lowerer<'q> {
    fn new(q: &'q Query, rules: Option<RuleSet<'q>>) -> Self {
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
            prog: Program::default(),
            errors: Vec::new(),
            instances: BTreeMap::new(),
            plain_ok: BTreeMap::new(),
            input_vars: BTreeMap::new(),
            input_rel_of: BTreeMap::new(),
            counter: 0,
            reserved,
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn fresh(&mut self, base: &str) -> String {
        loop {
            self.counter += 1;
            let name = format!("{base}_{}", self.counter);
            if !self.reserved.contains(&name) && self.prog.find(&name).is_none() {
                return name;
            }
        }
    }

    fn unique_name(&self, base: &str) -> String {
        let mut name = base.to_string();
        while self.reserved.contains(&name) || self.prog.find(&name).is_some() {
            name.push('_');
        }
        name
    }

    fn source_rel(&mut self, src: &str) -> RelId {
        let name = source_relation(src);
        let id = self.prog.intern(&name, RelKind::view(src));
        self.prog.note_attrs(id, DATOM_ATTRS.iter().copied());
        id
    }

    fn lower(&mut self) {
        let q = self.q;
        // Inputs: sources, rules and bindings, each binding an input relation.
        let mut body = Body::default();
        for (i, input) in q.inputs.iter().enumerate() {
            match input {
                Input::Source(s) => {
                    if !self.sources.insert(s.name.clone()) {
                        self.err(
                            Diagnostic::error(
                                "E0201",
                                format!("source {} is given twice in :in", s.name),
                            )
                            .with_label(s.span.clone(), "duplicate source"),
                        );
                    }
                }
                Input::Rules(_) => self.has_rules_input = true,
                Input::Binding(b) => self.lower_input(i, b, &mut body),
            }
        }
        // Declare the default source first so that `datom` prints first even when unused.
        if self.sources.contains("$") {
            self.source_rel("$");
        }

        let main_name = self.unique_name("where");
        for c in &q.where_ {
            self.lower_clause(c, &mut body, "$", 0);
        }

        // Find columns.
        let mut find_elems: Vec<&FindElem> = Vec::new();
        let kind = match &q.find {
            FindSpec::Relation(es, _) => {
                find_elems.extend(es);
                FindKind::Relation
            }
            FindSpec::Tuple(es, _) => {
                find_elems.extend(es);
                FindKind::Tuple
            }
            FindSpec::Collection(e, _) => {
                find_elems.push(e);
                FindKind::Collection
            }
            FindSpec::Scalar(e, _) => {
                find_elems.push(e);
                FindKind::Scalar
            }
        };

        let mut used_attrs = BTreeSet::new();
        let mut col = |base: String| {
            let mut name = base.clone();
            let mut k = 2;
            while !used_attrs.insert(name.clone()) {
                name = format!("{base}_{k}");
                k += 1;
            }
            name
        };

        let has_agg = find_elems.iter().any(|e| matches!(e, FindElem::Agg { .. }));
        // Plain find variables and :with variables must be bound by the body.
        let check_bound = |this: &mut Self, v: &Var, what: &str| {
            if !body.bound.contains(&v.name) {
                this.err(
                    Diagnostic::error(
                        "E0202",
                        format!("{what} variable {} is not bound by the query", v.name),
                    )
                    .with_label(
                        v.span.clone(),
                        "not bound by any :where clause or :in binding",
                    )
                    .with_help(format!(
                        "bind {} in a data pattern, a function binding, a rule call or :in",
                        v.name
                    )),
                );
            }
        };
        for e in &find_elems {
            match e {
                FindElem::Var(v) => check_bound(self, v, "find"),
                FindElem::Agg { args, .. } => {
                    for a in args {
                        if let FnArg::Var(v) = a {
                            check_bound(self, v, "aggregated");
                        }
                    }
                }
                FindElem::Pull { var, .. } => check_bound(self, var, "pulled"),
            }
        }
        for v in &q.with {
            check_bound(self, v, ":with");
        }

        let ret = q.return_map.as_ref().map(|rm| {
            let kind = match rm.kind {
                QReturnKind::Keys => ReturnKind::Keys,
                QReturnKind::Strs => ReturnKind::Strs,
                QReturnKind::Syms => ReturnKind::Syms,
            };
            if rm.names.len() != find_elems.len() {
                self.err(
                    Diagnostic::error(
                        "E0203",
                        format!(
                            "{} names {} keys but :find has {} elements",
                            match kind {
                                ReturnKind::Keys => ":keys",
                                ReturnKind::Strs => ":strs",
                                ReturnKind::Syms => ":syms",
                            },
                            rm.names.len(),
                            find_elems.len()
                        ),
                    )
                    .with_label(rm.span.clone(), "one name per find element"),
                );
            }
            (
                kind,
                rm.names.iter().map(|n| n.name.clone()).collect::<Vec<_>>(),
            )
        });

        let pulls = self.pull_specs(&find_elems);
        let span0 = (0usize, q.span.clone());
        if !has_agg {
            // find(cols…, with…) :- body.
            let mut head_args = Vec::new();
            let mut with_cols = Vec::new();
            for e in &find_elems {
                let v = match e {
                    FindElem::Var(v) => v,
                    FindElem::Pull { var, .. } => var,
                    FindElem::Agg { .. } => unreachable!("no aggregates here"),
                };
                head_args.push((col(attr_of(&v.name)), Term::Var(v.name.clone())));
            }
            for v in &q.with {
                let c = col(attr_of(&v.name));
                with_cols.push(c.clone());
                head_args.push((c, Term::Var(v.name.clone())));
            }
            let spec = OutputSpec {
                find: kind,
                with: with_cols,
                ret,
                pulls,
                sql: None,
            };
            let out = self.unique_name("find");
            let id = self.prog.intern(&out, RelKind::Output(spec));
            self.prog
                .note_attrs(id, head_args.iter().map(|(a, _)| a.as_str()));
            let rule = Rule {
                head: Atom {
                    rel: id,
                    args: head_args,
                },
                next: false,
                body: body.lits,
            };
            self.prog.add_rule(rule, Some(span0), body.spans);
            return;
        }

        // where(vars…) :- body.   find(groups…, aggs…) :- agg literals over where.
        let mut where_vars: Vec<String> = Vec::new();
        let mut add_var = |v: &str| {
            if !where_vars.iter().any(|x| x == v) {
                where_vars.push(v.to_string());
            }
        };
        for e in &find_elems {
            match e {
                FindElem::Var(v) => add_var(&v.name),
                FindElem::Agg { args, .. } => {
                    for a in args {
                        if let FnArg::Var(v) = a {
                            add_var(&v.name);
                        }
                    }
                }
                FindElem::Pull { var, .. } => add_var(&var.name),
            }
        }
        for v in &q.with {
            add_var(&v.name);
        }
        let where_id = self.prog.intern(&main_name, RelKind::Derived);
        let mut where_attrs = BTreeSet::new();
        let where_args: Vec<(String, Term)> = where_vars
            .iter()
            .map(|v| {
                let mut a = attr_of(v);
                while !where_attrs.insert(a.clone()) {
                    a.push('_');
                }
                (a, Term::Var(v.clone()))
            })
            .collect();
        self.prog
            .note_attrs(where_id, where_args.iter().map(|(a, _)| a.as_str()));
        let where_atom = Atom {
            rel: where_id,
            args: where_args,
        };
        self.prog.add_rule(
            Rule {
                head: where_atom.clone(),
                next: false,
                body: body.lits,
            },
            Some(span0.clone()),
            body.spans,
        );

        let mut head_args = Vec::new();
        let mut lits = Vec::new();
        let mut spans = Vec::new();
        for e in &find_elems {
            match e {
                FindElem::Var(v) | FindElem::Pull { var: v, .. } => {
                    head_args.push((col(attr_of(&v.name)), Term::Var(v.name.clone())));
                }
                FindElem::Agg { func, args, span } => {
                    let Some((callee, targs)) = self.lower_agg_call(func, args, span) else {
                        continue;
                    };
                    let fname = match &callee {
                        Callee::Builtin(n) => n.clone(),
                        Callee::Var(v) => attr_of(v),
                    };
                    let arg_name = targs.iter().rev().find_map(|t| t.var()).map(attr_of);
                    let base = match arg_name {
                        Some(a) => format!("{fname}_{a}"),
                        None => fname,
                    };
                    let out_var = format!("?{}", self.fresh("agg"));
                    head_args.push((col(base), Term::Var(out_var.clone())));
                    lits.push(Literal::Agg {
                        out: out_var,
                        func: callee,
                        args: targs,
                        atom: where_atom.clone(),
                    });
                    spans.push(Some((0usize, span.clone())));
                }
            }
        }
        // :with columns are consumed by the aggregates; the result is a set of find tuples.
        let spec = OutputSpec {
            find: kind,
            with: Vec::new(),
            ret,
            pulls,
            sql: None,
        };
        let out = self.unique_name("find");
        let id = self.prog.intern(&out, RelKind::Output(spec));
        self.prog
            .note_attrs(id, head_args.iter().map(|(a, _)| a.as_str()));
        self.prog.add_rule(
            Rule {
                head: Atom {
                    rel: id,
                    args: head_args,
                },
                next: false,
                body: lits,
            },
            Some(span0),
            spans,
        );
    }

    /// The pull specs of the find elements: which column, which source, which pattern.
    fn pull_specs(&mut self, elems: &[&FindElem]) -> Vec<PullSpec> {
        let mut out = Vec::new();
        for (column, e) in elems.iter().enumerate() {
            let FindElem::Pull { src, pattern, .. } = e else {
                continue;
            };
            let source = match src {
                Some(s) => self.check_source(&Some(s.clone()), "$", 0),
                None => "$".to_string(),
            };
            let pattern = match &pattern.form {
                Form::Symbol(v) if v.starts_with('?') => match self.input_vars.get(v) {
                    Some(_) => match self.input_rel_of.get(v) {
                        Some(rel) => PullPattern::Input(rel.clone()),
                        None => continue,
                    },
                    None => {
                        self.err(
                            Diagnostic::error("E0234", format!("pull pattern {v} is not an input"))
                                .with_label(pattern.span.clone(), "bind the pattern with :in")
                                .with_help(
                                    "pass the pattern as a scalar input, or write it in the query",
                                ),
                        );
                        continue;
                    }
                },
                _ => match pattern_value(pattern) {
                    Ok(v) => PullPattern::Const(v),
                    Err(d) => {
                        self.err(d);
                        continue;
                    }
                },
            };
            out.push(PullSpec {
                column,
                source,
                pattern,
            });
        }
        out
    }

    fn lower_agg_call(
        &mut self,
        func: &pomo_grammar::query::Name,
        args: &[FnArg],
        span: &Span,
    ) -> Option<(Callee, Vec<Term>)> {
        let mut targs = Vec::new();
        for a in args {
            match a {
                FnArg::Var(v) => targs.push(Term::Var(v.name.clone())),
                FnArg::Const(c) => match const_value(c) {
                    Ok(v) => targs.push(Term::Const(v)),
                    Err(d) => {
                        self.err(d);
                        return None;
                    }
                },
                FnArg::Src(s) => {
                    self.err(
                        Diagnostic::error("E0204", "an aggregate cannot take a source")
                            .with_label(s.span.clone(), "source argument"),
                    );
                    return None;
                }
            }
        }
        if func.name == "aggregate" {
            // (aggregate ?f ?x …): a host aggregate passed as an input.
            match targs.first() {
                Some(Term::Var(f)) => {
                    let f = f.clone();
                    return Some((Callee::Var(f), targs[1..].to_vec()));
                }
                _ => {
                    self.err(
                        Diagnostic::error(
                            "E0205",
                            "(aggregate ?f …) needs a function variable first",
                        )
                        .with_label(span.clone(), "custom aggregate"),
                    );
                    return None;
                }
            }
        }
        let Some(b) = builtin_by_edn_name(&func.name, true) else {
            self.err(
                Diagnostic::error("E0206", format!("unknown aggregate `{}`", func.name))
                    .with_label(func.span.clone(), "not a built-in aggregate")
                    .with_help("built-in aggregates: count, count-distinct, sum, avg, median, variance, stddev, min, max, distinct, rand, sample; or (aggregate ?f ?x) with a function input"),
            );
            return None;
        };
        if !b.arity.accepts(targs.len()) {
            self.err(
                Diagnostic::error(
                    "E0207",
                    format!(
                        "aggregate `{}` takes {} argument(s), got {}",
                        func.name,
                        b.arity,
                        targs.len()
                    ),
                )
                .with_label(span.clone(), "wrong number of arguments"),
            );
            return None;
        }
        match targs.last() {
            Some(Term::Var(_)) => {}
            _ => {
                self.err(
                    Diagnostic::error(
                        "E0205",
                        format!(
                            "aggregate `{}` must end with the variable it aggregates",
                            func.name
                        ),
                    )
                    .with_label(span.clone(), "no aggregated variable"),
                );
                return None;
            }
        }
        Some((Callee::Builtin(b.name.to_string()), targs))
    }

    fn lower_input(&mut self, pos: usize, b: &Binding, body: &mut Body) {
        let (kind, elems): (BindKind, Vec<Option<&Var>>) = match b {
            Binding::Blank(_) => return,
            Binding::Var(v) => (BindKind::Scalar, vec![Some(v)]),
            Binding::Tuple(xs, _) => match self.flat(xs) {
                Some(e) => (BindKind::Tuple, e),
                None => return self.nested_binding(b),
            },
            Binding::Collection(inner, _) => match inner.as_ref() {
                Binding::Var(v) => (BindKind::Collection, vec![Some(v)]),
                Binding::Tuple(xs, _) => match self.flat(xs) {
                    Some(e) => (BindKind::Relation, e),
                    None => return self.nested_binding(b),
                },
                _ => return self.nested_binding(b),
            },
            Binding::Relation(xs, _) => match self.flat(xs) {
                Some(e) => (BindKind::Relation, e),
                None => return self.nested_binding(b),
            },
        };
        let name = format!("in{pos}");
        let id = self.prog.intern(&name, RelKind::Input(kind));
        let mut args = Vec::new();
        let mut attrs = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            match e {
                Some(v) => {
                    if let Some(first) = self.input_vars.get(&v.name).cloned() {
                        self.err(
                            Diagnostic::error(
                                "E0233",
                                format!("variable {} is bound twice in :in", v.name),
                            )
                            .with_label(v.span.clone(), "bound again here")
                            .with_label(first, "first bound here")
                            .with_help("the variables of :in must be distinct"),
                        );
                    }
                    self.input_vars.insert(v.name.clone(), v.span.clone());
                    self.input_rel_of.insert(v.name.clone(), name.clone());
                    let mut a = attr_of(&v.name);
                    while attrs.contains(&a) {
                        a.push('_');
                    }
                    attrs.push(a.clone());
                    args.push((a, Term::Var(v.name.clone())));
                    body.bound.insert(v.name.clone());
                    body.seen.insert(v.name.clone());
                }
                None => attrs.push(format!("_{i}")),
            }
        }
        self.prog.note_attrs(id, attrs.iter().map(|s| s.as_str()));
        body.push(
            Literal::Pos {
                cid: None,
                atom: Atom { rel: id, args },
            },
            (0, b.span()),
        );
    }

    fn flat<'b>(&self, xs: &'b [Binding]) -> Option<Vec<Option<&'b Var>>> {
        xs.iter()
            .map(|x| match x {
                Binding::Var(v) => Some(Some(v)),
                Binding::Blank(_) => Some(None),
                _ => None,
            })
            .collect()
    }

    fn nested_binding(&mut self, b: &Binding) {
        self.err(
            Diagnostic::error("E0208", "nested binding forms are not supported")
                .with_label(b.span(), "binding")
                .with_help("use ?x, [?a ?b], [?x ...] or [[?a ?b]]"),
        );
    }

    fn term_of_pattern(&mut self, t: &PatTerm, file: FileId) -> Option<Term> {
        Some(match t {
            PatTerm::Var(v) => Term::Var(v.name.clone()),
            PatTerm::Blank(_) => Term::Wild,
            PatTerm::Const(n) => match const_value(n) {
                Ok(v) => Term::Const(v),
                Err(d) => {
                    self.err(d.in_file(file));
                    return None;
                }
            },
        })
    }

    fn check_source(&mut self, src: &Option<SrcVar>, default: &str, file: FileId) -> String {
        match src {
            Some(s) => {
                if !self.sources.contains(&s.name) {
                    self.err(
                        Diagnostic::error(
                            "E0209",
                            format!("source {} is not bound in :in", s.name),
                        )
                        .with_label_in(file, s.span.clone(), "unknown source")
                        .with_help(format!("add {} to :in", s.name)),
                    );
                }
                s.name.clone()
            }
            None => {
                if !self.sources.contains(default) && default == "$" {
                    // An implicit `$` when the query declares other inputs but no `$`.
                    self.sources.insert("$".into());
                }
                default.to_string()
            }
        }
    }

    fn fn_args(
        &mut self,
        args: &[FnArg],
        takes_source: bool,
        default_src: &str,
        file: FileId,
    ) -> Option<Vec<Term>> {
        let mut out = Vec::new();
        for (i, a) in args.iter().enumerate() {
            out.push(match a {
                FnArg::Var(v) => Term::Var(v.name.clone()),
                FnArg::Src(s) => {
                    if !(takes_source && i == 0) {
                        self.err(
                            Diagnostic::error(
                                "E0204",
                                format!("source {} cannot be passed here", s.name),
                            )
                            .with_label_in(
                                file,
                                s.span.clone(),
                                "only get-else, get-some and missing? take a source",
                            ),
                        );
                        return None;
                    }
                    let name = self.check_source(&Some(s.clone()), default_src, file);
                    self.source_rel(&name);
                    Term::Const(Value::Symbol(name))
                }
                FnArg::Const(c) => match const_value(c) {
                    Ok(v) => Term::Const(v),
                    Err(d) => {
                        self.err(d.in_file(file));
                        return None;
                    }
                },
            });
        }
        Some(out)
    }

    /// Resolves a named function or predicate and checks its arity.
    fn resolve_fn(
        &mut self,
        callee: &QCallee,
        nargs: usize,
        span: &Span,
        file: FileId,
    ) -> Option<(Callee, bool)> {
        match callee {
            QCallee::Var(v) => Some((Callee::Var(v.name.clone()), false)),
            QCallee::Named(n) => {
                let Some(b) = builtin_by_edn_name(&n.name, false) else {
                    let hint = if builtin_by_edn_name(&n.name, true).is_some() {
                        format!("`{}` is an aggregate; use it in :find", n.name)
                    } else if self.rules.contains_key(&n.name) {
                        format!(
                            "`{}` is a rule; call it as ({} …) without brackets",
                            n.name, n.name
                        )
                    } else {
                        match suggest(&n.name) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "the built-in functions are listed in the README".to_string(),
                        }
                    };
                    self.err(
                        Diagnostic::error("E0210", format!("unknown function `{}`", n.name))
                            .with_label_in(
                                file,
                                n.span.clone(),
                                "not a built-in function or predicate",
                            )
                            .with_help(hint),
                    );
                    return None;
                };
                if !b.arity.accepts(nargs) {
                    self.err(
                        Diagnostic::error(
                            "E0207",
                            format!("`{}` takes {} argument(s), got {nargs}", n.name, b.arity),
                        )
                        .with_label_in(
                            file,
                            span.clone(),
                            "wrong number of arguments",
                        ),
                    );
                    return None;
                }
                debug_assert!(b.kind != Kind::Aggregate);
                Some((Callee::Builtin(b.name.to_string()), b.takes_source))
            }
        }
    }

    /// Resolves a predicate or function call and lowers its arguments, which must be bound.
    #[allow(clippy::too_many_arguments)]
    fn lower_call(
        &mut self,
        callee: &QCallee,
        args: &[FnArg],
        span: &Span,
        body: &mut Body,
        default_src: &str,
        file: FileId,
        what: &str,
    ) -> Option<(Callee, Vec<Term>)> {
        let (func, takes_src) = self.resolve_fn(callee, args.len(), span, file)?;
        let targs = self.fn_args(args, takes_src, default_src, file)?;
        let mut vars: Vec<String> = targs
            .iter()
            .filter_map(|t| t.var().map(String::from))
            .collect();
        if let Callee::Var(f) = &func {
            vars.push(f.clone());
        }
        if !self.require_bound(body, vars.clone(), span, file, what) {
            return None;
        }
        body.seen.extend(vars);
        Some((func, targs))
    }

    fn require_bound(
        &mut self,
        body: &Body,
        vars: impl IntoIterator<Item = String>,
        span: &Span,
        file: FileId,
        what: &str,
    ) -> bool {
        let missing: Vec<String> = vars
            .into_iter()
            .filter(|v| !body.bound.contains(v))
            .collect();
        if missing.is_empty() {
            return true;
        }
        self.err(
            Diagnostic::error(
                "E0211",
                format!(
                    "insufficient bindings: {} not bound before {what}",
                    missing.join(", ")
                ),
            )
            .with_label_in(
                file,
                span.clone(),
                format!("needs {} bound by an earlier clause", missing.join(", ")),
            )
            .with_help("move the clause after the clauses that bind its variables"),
        );
        false
    }

    fn lower_clause(&mut self, c: &Clause, body: &mut Body, default_src: &str, file: FileId) {
        let errors = self.errors.len();
        self.lower_clause_inner(c, body, default_src, file);
        if self.errors.len() > errors {
            // The clause failed: treat what it would have bound as bound, so that one mistake
            // is reported once and not again at every later use of its variables.
            for v in binding_vars(c) {
                body.bound.insert(v.clone());
                body.seen.insert(v);
            }
        }
    }

    fn lower_clause_inner(&mut self, c: &Clause, body: &mut Body, default_src: &str, file: FileId) {
        match c {
            Clause::Pattern { src, terms, span } => {
                let src = self.check_source(src, default_src, file);
                let rel = self.source_rel(&src);
                let mut args = Vec::new();
                for (i, t) in terms.iter().enumerate() {
                    let Some(term) = self.term_of_pattern(t, file) else {
                        return;
                    };
                    if term != Term::Wild {
                        args.push((PATTERN_ATTRS[i].to_string(), term));
                    }
                }
                for (_, t) in &args {
                    if let Some(v) = t.var() {
                        body.bound.insert(v.to_string());
                        body.seen.insert(v.to_string());
                    }
                }
                body.push(
                    Literal::Pos {
                        cid: None,
                        atom: Atom { rel, args },
                    },
                    (file, span.clone()),
                );
            }
            Clause::Pred { callee, args, span } => {
                let Some((func, targs)) = self.lower_call(
                    callee,
                    args,
                    span,
                    body,
                    default_src,
                    file,
                    "this predicate",
                ) else {
                    return;
                };
                let s = (file, span.clone());
                let cmp = match &func {
                    Callee::Builtin(n) => cmp_op(n),
                    Callee::Var(_) => None,
                };
                match cmp {
                    // Binary comparisons and chains `(< a b c)` become constraints; `not=` of
                    // more than two arguments is not a conjunction and stays a call.
                    Some(op) if targs.len() >= 2 && (op != CmpOp::Ne || targs.len() == 2) => {
                        for w in targs.windows(2) {
                            body.push(
                                Literal::Cmp {
                                    op,
                                    lhs: w[0].clone(),
                                    rhs: w[1].clone(),
                                },
                                s.clone(),
                            );
                        }
                    }
                    _ => body.push(
                        Literal::Test {
                            func,
                            args: targs,
                            negated: false,
                        },
                        s,
                    ),
                }
            }
            Clause::Fn {
                callee,
                args,
                binding,
                span,
            } => {
                let Some((func, targs)) = self.lower_call(
                    callee,
                    args,
                    span,
                    body,
                    default_src,
                    file,
                    "this function call",
                ) else {
                    return;
                };
                let Some(bind) = self.lower_fn_binding(binding, file) else {
                    return;
                };
                for v in bind.vars() {
                    body.bound.insert(v.to_string());
                    body.seen.insert(v.to_string());
                }
                body.push(
                    Literal::Apply {
                        bind,
                        func,
                        args: targs,
                    },
                    (file, span.clone()),
                );
            }
            Clause::RuleCall {
                src,
                name,
                args,
                span,
            } => {
                let src = self.check_source(src, default_src, file);
                let Some(defs) = self.rules.get(&name.name).cloned() else {
                    let help = if !self.has_rules_input && !self.rules.is_empty() {
                        "rules are only in scope when the query's :in has %".to_string()
                    } else if builtin_by_edn_name(&name.name, false).is_some() {
                        format!(
                            "`{}` is a function: call it as [({} …)] or [({} …) ?out]",
                            name.name, name.name, name.name
                        )
                    } else {
                        "define the rule in the rule set passed as % (the CLI's --rules FILE)"
                            .to_string()
                    };
                    self.err(
                        Diagnostic::error("E0212", format!("unknown rule `{}`", name.name))
                            .with_label_in(file, name.span.clone(), "no rule with this name")
                            .with_help(help),
                    );
                    return;
                };
                if !self.has_rules_input {
                    self.err(
                        Diagnostic::error(
                            "E0212",
                            format!(
                                "rule `{}` is called but the query has no % input",
                                name.name
                            ),
                        )
                        .with_label_in(file, name.span.clone(), "rule call")
                        .with_help("add % to :in"),
                    );
                    return;
                }
                let def = defs[0];
                let arity = def.required.len() + def.free.len();
                if args.len() != arity {
                    self.err(
                        Diagnostic::error(
                            "E0213",
                            format!(
                                "rule `{}` takes {arity} argument(s), got {}",
                                name.name,
                                args.len()
                            ),
                        )
                        .with_label_in(file, span.clone(), "wrong number of arguments")
                        .with_label_in(
                            self.rules_file,
                            def.span.clone(),
                            "defined here",
                        ),
                    );
                    return;
                }
                // Required bindings: the first `required.len()` arguments must be bound already.
                for (i, a) in args.iter().enumerate().take(def.required.len()) {
                    if let RuleArg::Var(v) = a {
                        if !body.bound.contains(&v.name) {
                            self.err(
                                Diagnostic::error(
                                    "E0214",
                                    format!(
                                        "rule `{}` requires argument {} to be bound",
                                        name.name,
                                        i + 1
                                    ),
                                )
                                .with_label_in(
                                    file,
                                    v.span.clone(),
                                    format!("{} is not bound by an earlier clause", v.name),
                                )
                                .with_label_in(
                                    self.rules_file,
                                    def.required[i].span.clone(),
                                    "declared as a required binding here",
                                ),
                            );
                        }
                    } else if let RuleArg::Blank(s) = a {
                        self.err(
                            Diagnostic::error(
                                "E0214",
                                format!(
                                    "rule `{}` requires argument {} to be bound",
                                    name.name,
                                    i + 1
                                ),
                            )
                            .with_label_in(
                                file,
                                s.clone(),
                                "`_` cannot satisfy a required binding",
                            ),
                        );
                    }
                }
                let bound_pos: Vec<bool> = args
                    .iter()
                    .map(|a| match a {
                        RuleArg::Var(v) => body.bound.contains(&v.name),
                        RuleArg::Const(_) => true,
                        RuleArg::Blank(_) => false,
                    })
                    .collect();
                let Some(rel) = self.rule_call(&name.name, &src, &bound_pos, args, body, file)
                else {
                    return;
                };
                let mut targs = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    let t = match a {
                        RuleArg::Var(v) => Term::Var(v.name.clone()),
                        RuleArg::Blank(_) => continue,
                        RuleArg::Const(c) => match const_value(c) {
                            Ok(v) => Term::Const(v),
                            Err(d) => {
                                self.err(d.in_file(file));
                                return;
                            }
                        },
                    };
                    targs.push((format!("a{i}"), t));
                }
                for (_, t) in &targs {
                    if let Some(v) = t.var() {
                        body.bound.insert(v.to_string());
                        body.seen.insert(v.to_string());
                    }
                }
                body.push(
                    Literal::Pos {
                        cid: None,
                        atom: Atom { rel, args: targs },
                    },
                    (file, span.clone()),
                );
            }
            Clause::Not { src, clauses, span } => {
                let src = self.check_source(src, default_src, file);
                // Join on the variables of the negation that the rest of the body binds so far.
                let inner = clause_vars(clauses);
                let join: Vec<String> = inner
                    .iter()
                    .filter(|v| body.bound.contains(*v))
                    .cloned()
                    .collect();
                if join.is_empty() {
                    self.err(
                        Diagnostic::error("E0215", "`not` shares no variable with the clauses before it")
                            .with_label_in(file, span.clone(), "this negation is not joined to the query")
                            .with_help("bind at least one of its variables earlier, or use not-join with explicit variables"),
                    );
                    return;
                }
                self.lower_negation(&join, clauses, body, &src, span, file);
            }
            Clause::NotJoin {
                src,
                vars,
                clauses,
                span,
            } => {
                let src = self.check_source(src, default_src, file);
                let join: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
                let missing: Vec<&Var> = vars
                    .iter()
                    .filter(|v| !body.bound.contains(&v.name))
                    .collect();
                if !missing.is_empty() {
                    for v in missing {
                        self.err(
                            Diagnostic::error(
                                "E0211",
                                format!(
                                    "insufficient bindings: {} not bound before not-join",
                                    v.name
                                ),
                            )
                            .with_label_in(
                                file,
                                v.span.clone(),
                                "join variable not bound by an earlier clause",
                            ),
                        );
                    }
                    return;
                }
                self.lower_negation(&join, clauses, body, &src, span, file);
            }
            Clause::Or {
                src,
                branches,
                span,
            } => {
                let src = self.check_source(src, default_src, file);
                let sets: Vec<BTreeSet<String>> = branches.iter().map(|b| clause_vars(b)).collect();
                if let Some(first) = sets.first()
                    && let Some((i, _)) = sets.iter().enumerate().find(|(_, s)| *s != first)
                {
                    let fmt =
                        |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(" ");
                    self.err(
                        Diagnostic::error(
                            "E0216",
                            "all branches of `or` must use the same set of variables",
                        )
                        .with_label_in(
                            file,
                            branch_span(&branches[0]),
                            format!("uses {}", fmt(first)),
                        )
                        .with_label_in(
                            file,
                            branch_span(&branches[i]),
                            format!("uses {}", fmt(&sets[i])),
                        )
                        .with_help("use or-join to name the variables the branches share"),
                    );
                    return;
                }
                let join: Vec<String> = sets
                    .first()
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default();
                self.lower_disjunction(&join, branches, body, &src, span, file);
            }
            Clause::OrJoin {
                src,
                required,
                free,
                branches,
                span,
            } => {
                let src = self.check_source(src, default_src, file);
                let req: Vec<String> = required.iter().map(|v| v.name.clone()).collect();
                for v in required {
                    if !body.bound.contains(&v.name) {
                        self.err(
                            Diagnostic::error(
                                "E0211",
                                format!(
                                    "insufficient bindings: {} not bound before or-join",
                                    v.name
                                ),
                            )
                            .with_label_in(
                                file,
                                v.span.clone(),
                                "required variable not bound by an earlier clause",
                            ),
                        );
                        return;
                    }
                }
                let mut join = req.clone();
                join.extend(free.iter().map(|v| v.name.clone()));
                self.lower_disjunction(&join, branches, body, &src, span, file);
            }
        }
    }

    fn lower_fn_binding(&mut self, b: &Binding, file: FileId) -> Option<Bind> {
        let term = |b: &Binding| match b {
            Binding::Var(v) => Some(Term::Var(v.name.clone())),
            Binding::Blank(_) => Some(Term::Wild),
            _ => None,
        };
        let r = match b {
            Binding::Var(_) | Binding::Blank(_) => term(b).map(Bind::Scalar),
            Binding::Tuple(xs, _) => xs
                .iter()
                .map(term)
                .collect::<Option<Vec<_>>>()
                .map(Bind::Tuple),
            Binding::Collection(inner, _) => term(inner).map(Bind::Coll),
            Binding::Relation(xs, _) => xs
                .iter()
                .map(term)
                .collect::<Option<Vec<_>>>()
                .map(Bind::Rel),
        };
        if r.is_none() {
            self.err(
                Diagnostic::error("E0208", "nested binding forms are not supported")
                    .with_label_in(file, b.span(), "binding")
                    .with_help("use ?x, [?a ?b], [?x ...] or [[?a ?b]]"),
            );
        }
        r
    }

    /// A relation that carries the bindings of `vars` from the body so far into a sub-body.
    fn context(&mut self, body: &Body, vars: &[String]) -> Atom {
        let name = self.fresh("ctx");
        let id = self.prog.intern(&name, RelKind::Derived);
        let args: Vec<(String, Term)> = vars
            .iter()
            .map(|v| (attr_of(v), Term::Var(v.clone())))
            .collect();
        self.prog
            .note_attrs(id, args.iter().map(|(a, _)| a.as_str()));
        let atom = Atom { rel: id, args };
        self.prog.add_rule(
            Rule {
                head: atom.clone(),
                next: false,
                body: body.lits.clone(),
            },
            body.spans.iter().flatten().next().cloned(),
            body.spans.clone(),
        );
        atom
    }

    /// Lowers the clauses of a sub-body (a negation or a branch). Variables in `join` that the
    /// outer body has bound are visible; the sub-body gets a context atom only when it needs
    /// one of them without binding it itself.
    fn lower_sub_body(
        &mut self,
        join: &[String],
        clauses: &[Clause],
        outer: &Body,
        src: &str,
        file: FileId,
    ) -> Body {
        // First pass: does the sub-body bind what it needs on its own?
        let visible: Vec<String> = join
            .iter()
            .filter(|v| outer.bound.contains(*v))
            .cloned()
            .collect();
        let saved_errors = self.errors.len();
        let saved = self.snapshot();
        let mut trial = Body::default();
        for c in clauses {
            self.lower_clause(c, &mut trial, src, file);
        }
        let needs_ctx = self.errors.len() > saved_errors
            || join
                .iter()
                .any(|v| !trial.bound.contains(v) && outer.bound.contains(v));
        if !needs_ctx {
            return trial;
        }
        // Retry with the outer bindings in scope through a context relation.
        self.restore(saved, saved_errors);
        let mut sub = Body::default();
        if !visible.is_empty() {
            let ctx = self.context(outer, &visible);
            for v in &visible {
                sub.bound.insert(v.clone());
                sub.seen.insert(v.clone());
            }
            let span = outer
                .spans
                .iter()
                .flatten()
                .next()
                .cloned()
                .unwrap_or((file, 0..0));
            sub.push(
                Literal::Pos {
                    cid: None,
                    atom: ctx,
                },
                span,
            );
        }
        for c in clauses {
            self.lower_clause(c, &mut sub, src, file);
        }
        sub
    }

    fn lower_negation(
        &mut self,
        join: &[String],
        clauses: &[Clause],
        body: &mut Body,
        src: &str,
        span: &Span,
        file: FileId,
    ) {
        // A negation of a single test inlines as a negated test (no auxiliary relation, so
        // negation inside a recursive rule stays stratifiable).
        if let [Clause::Pred { .. }] = clauses {
            let mut sub = body.clone();
            let before = sub.lits.len();
            self.lower_clause(&clauses[0], &mut sub, src, file);
            if sub.lits.len() == before + 1 {
                let lit = sub.lits.pop().expect("one literal was added");
                let negated = match lit {
                    Literal::Cmp { op, lhs, rhs } => Literal::Cmp {
                        op: op.negate(),
                        lhs,
                        rhs,
                    },
                    Literal::Test {
                        func,
                        args,
                        negated,
                    } => Literal::Test {
                        func,
                        args,
                        negated: !negated,
                    },
                    other => other,
                };
                body.push(negated, (file, span.clone()));
                return;
            }
            if sub.lits.len() == before {
                return; // The clause reported an error.
            }
        }
        let sub = self.lower_sub_body(join, clauses, body, src, file);
        let name = self.fresh("not");
        let id = self.prog.intern(&name, RelKind::Derived);
        let args: Vec<(String, Term)> = join
            .iter()
            .map(|v| (attr_of(v), Term::Var(v.clone())))
            .collect();
        self.prog
            .note_attrs(id, args.iter().map(|(a, _)| a.as_str()));
        let atom = Atom { rel: id, args };
        self.prog.add_rule(
            Rule {
                head: atom.clone(),
                next: false,
                body: sub.lits,
            },
            Some((file, span.clone())),
            sub.spans,
        );
        body.push(Literal::Neg(atom), (file, span.clone()));
    }

    #[allow(clippy::too_many_arguments)]
    fn lower_disjunction(
        &mut self,
        join: &[String],
        branches: &[Vec<Clause>],
        body: &mut Body,
        src: &str,
        span: &Span,
        file: FileId,
    ) {
        let name = self.fresh("or");
        let id = self.prog.intern(&name, RelKind::Derived);
        let args: Vec<(String, Term)> = join
            .iter()
            .map(|v| (attr_of(v), Term::Var(v.clone())))
            .collect();
        self.prog
            .note_attrs(id, args.iter().map(|(a, _)| a.as_str()));
        let atom = Atom { rel: id, args };
        for br in branches {
            let sub = self.lower_sub_body(join, br, body, src, file);
            let unbound: Vec<String> = join
                .iter()
                .filter(|v| !sub.bound.contains(*v))
                .cloned()
                .collect();
            if !unbound.is_empty() {
                self.err(
                    Diagnostic::error("E0217", format!("this branch does not bind {}", unbound.join(", ")))
                        .with_label_in(file, branch_span(br), "branch")
                        .with_label_in(file, span.clone(), "in this disjunction")
                        .with_help("every branch must bind every join variable that is not bound before the disjunction"),
                );
                continue;
            }
            self.prog.add_rule(
                Rule {
                    head: atom.clone(),
                    next: false,
                    body: sub.lits,
                },
                Some((file, branch_span(br))),
                sub.spans,
            );
        }
        for v in join {
            body.bound.insert(v.clone());
            body.seen.insert(v.clone());
        }
        body.push(Literal::Pos { cid: None, atom }, (file, span.clone()));
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            prog: self.prog.clone(),
            instances: self.instances.clone(),
            plain_ok: self.plain_ok.clone(),
            counter: self.counter,
        }
    }

    fn restore(&mut self, s: Snapshot, errors: usize) {
        self.prog = s.prog;
        self.instances = s.instances;
        self.plain_ok = s.plain_ok;
        self.counter = s.counter;
        self.errors.truncate(errors);
    }

    /// The relation a rule call reads. A rule whose body binds all of its arguments is one
    /// relation for every call. Otherwise the call gets an instance of the rule specialised to
    /// the arguments bound at the call site (`name_bf` for "first bound, second free"), whose
    /// bodies start with a `magic_name_bf` atom; each call adds a rule to that magic relation
    /// with the bindings of the caller's clauses so far (the magic-sets rewriting).
    fn rule_call(
        &mut self,
        name: &str,
        src: &str,
        bound_pos: &[bool],
        args: &[RuleArg],
        caller: &Body,
        file: FileId,
    ) -> Option<RelId> {
        let key = (name.to_string(), src.to_string());
        let plain = match self.plain_ok.get(&key) {
            Some(ok) => *ok,
            None => {
                // Assume the plain form works while lowering it, so that recursive calls inside
                // the rule use it; undo everything if it does not.
                let errors = self.errors.len();
                let saved = self.snapshot();
                self.plain_ok.insert(key.clone(), true);
                self.rule_instance(name, src, None);
                let ok = self.errors.len() == errors;
                if !ok {
                    self.restore(saved, errors);
                    self.plain_ok.insert(key.clone(), false);
                }
                ok
            }
        };
        if plain {
            return self
                .instances
                .get(&(name.to_string(), src.to_string(), String::new()))
                .copied();
        }
        if !bound_pos.iter().any(|b| *b) {
            // Nothing to pass in: report why the rule cannot stand on its own.
            self.rule_instance(name, src, None);
            return None;
        }
        let adorn: String = bound_pos
            .iter()
            .map(|b| if *b { 'b' } else { 'f' })
            .collect();
        let (id, magic) = self.rule_instance(name, src, Some(&adorn));
        let magic = magic?;
        let mut head_args = Vec::new();
        for (i, a) in args.iter().enumerate().filter(|(i, _)| bound_pos[*i]) {
            let t = match a {
                RuleArg::Var(v) => Term::Var(v.name.clone()),
                RuleArg::Const(c) => match const_value(c) {
                    Ok(v) => Term::Const(v),
                    Err(d) => {
                        self.err(d.in_file(file));
                        return None;
                    }
                },
                RuleArg::Blank(_) => continue,
            };
            head_args.push((format!("a{i}"), t));
        }
        let span = caller.spans.iter().flatten().next().cloned();
        self.prog.add_rule(
            Rule {
                head: Atom {
                    rel: magic,
                    args: head_args,
                },
                next: false,
                body: caller.lits.clone(),
            },
            span,
            caller.spans.clone(),
        );
        Some(id)
    }

    /// Lowers a rule for a default source, once; with an adornment, the instance whose bound
    /// arguments come from its magic relation. Returns the rule's relation and the magic one.
    fn rule_instance(
        &mut self,
        name: &str,
        src: &str,
        adorn: Option<&str>,
    ) -> (RelId, Option<RelId>) {
        let key = (
            name.to_string(),
            src.to_string(),
            adorn.unwrap_or("").to_string(),
        );
        let base = if src == "$" {
            name.to_string()
        } else {
            format!("{name}{src}")
        };
        let rel_name = match adorn {
            Some(a) => format!("{base}_{a}"),
            None => base.clone(),
        };
        let magic_name = adorn.map(|a| format!("magic_{base}_{a}"));
        if let Some(id) = self.instances.get(&key) {
            return (*id, magic_name.and_then(|m| self.prog.find(&m)));
        }
        let id = self.prog.intern(&rel_name, RelKind::Derived);
        self.instances.insert(key, id);
        let defs = self.rules.get(name).cloned().unwrap_or_default();
        let arity = defs
            .first()
            .map(|d| d.required.len() + d.free.len())
            .unwrap_or(0);
        self.prog.note_attrs(
            id,
            (0..arity)
                .map(|i| format!("a{i}"))
                .collect::<Vec<_>>()
                .iter()
                .map(|s| s.as_str()),
        );
        let bound: Vec<usize> = adorn
            .map(|a| {
                a.char_indices()
                    .filter(|(_, c)| *c == 'b')
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default();
        let magic = magic_name.map(|m| {
            let mid = self.prog.intern(&m, RelKind::Derived);
            self.prog.note_attrs(
                mid,
                bound
                    .iter()
                    .map(|i| format!("a{i}"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|s| s.as_str()),
            );
            mid
        });
        let file = self.rules_file;
        for def in defs {
            let params: Vec<&Var> = def.required.iter().chain(def.free.iter()).collect();
            if params.len() != arity {
                self.err(
                    Diagnostic::error(
                        "E0213",
                        format!("rule `{name}` is defined with different numbers of arguments"),
                    )
                    .with_label_in(
                        file,
                        def.name.span.clone(),
                        format!("{} argument(s) here", params.len()),
                    ),
                );
                continue;
            }
            let mut body = Body::default();
            if let Some(m) = magic {
                let margs: Vec<(String, Term)> = bound
                    .iter()
                    .map(|&i| (format!("a{i}"), Term::Var(params[i].name.clone())))
                    .collect();
                for (_, t) in &margs {
                    if let Some(v) = t.var() {
                        body.bound.insert(v.to_string());
                        body.seen.insert(v.to_string());
                    }
                }
                body.push(
                    Literal::Pos {
                        cid: None,
                        atom: Atom {
                            rel: m,
                            args: margs,
                        },
                    },
                    (file, def.name.span.clone()),
                );
            }
            for c in &def.body {
                self.lower_clause(c, &mut body, src, file);
            }
            for v in &params {
                if !body.bound.contains(&v.name) {
                    self.err(
                        Diagnostic::error("E0218", format!("rule `{name}` does not bind its argument {}", v.name))
                            .with_label_in(file, v.span.clone(), "not bound by the rule body")
                            .with_help("every head variable must appear in a data pattern, rule call or function binding of the body"),
                    );
                }
            }
            let head = Atom {
                rel: id,
                args: params
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("a{i}"), Term::Var(v.name.clone())))
                    .collect(),
            };
            self.prog.add_rule(
                Rule {
                    head,
                    next: false,
                    body: body.lits,
                },
                Some((file, def.span.clone())),
                body.spans,
            );
        }
        (id, magic)
    }
}

struct Snapshot {
    prog: Program,
    instances: BTreeMap<(String, String, String), RelId>,
    plain_ok: BTreeMap<(String, String), bool>,
    counter: usize,
}

fn cmp_op(n: &str) -> Option<CmpOp> {
    Some(match n {
        "eq" => CmpOp::Eq,
        "ne" => CmpOp::Ne,
        "lt" => CmpOp::Lt,
        "le" => CmpOp::Le,
        "gt" => CmpOp::Gt,
        "ge" => CmpOp::Ge,
        _ => return None,
    })
}

fn branch_span(br: &[Clause]) -> Span {
    match (br.first(), br.last()) {
        (Some(a), Some(b)) => a.span().start..b.span().end,
        _ => 0..0,
    }
}

/// The built-in whose EDN name is closest to `name` (at most two edits away), for "did you
/// mean" hints.
fn suggest(name: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + usize::from(ca != *cb))
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }
    pomo_stdlib::builtins()
        .iter()
        .filter(|b| b.kind != Kind::Aggregate)
        .flat_map(|b| b.edn_names.iter().copied())
        .map(|n| (distance(name, n), n))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}

/// The variables a clause binds when it succeeds (for error recovery).
fn binding_vars(c: &Clause) -> Vec<String> {
    let mut out = BTreeSet::new();
    match c {
        Clause::Pattern { .. } | Clause::RuleCall { .. } | Clause::Or { .. } => {
            out = clause_vars(std::slice::from_ref(c));
        }
        Clause::Fn { binding, .. } => {
            let f = Clause::Fn {
                callee: pomo_grammar::query::Callee::Named(pomo_grammar::query::Name {
                    name: String::new(),
                    span: 0..0,
                }),
                args: Vec::new(),
                binding: binding.clone(),
                span: 0..0,
            };
            out = clause_vars(std::slice::from_ref(&f));
        }
        Clause::OrJoin { required, free, .. } => {
            out.extend(required.iter().chain(free).map(|v| v.name.clone()));
        }
        Clause::Pred { .. } | Clause::Not { .. } | Clause::NotJoin { .. } => {}
    }
    out.into_iter().collect()
}

/// The variables that clauses mention (for `or` and `not`), including nested ones.
fn clause_vars(clauses: &[Clause]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fn arg(a: &FnArg, out: &mut BTreeSet<String>) {
        if let FnArg::Var(v) = a {
            out.insert(v.name.clone());
        }
    }
    fn binding(b: &Binding, out: &mut BTreeSet<String>) {
        match b {
            Binding::Var(v) => {
                out.insert(v.name.clone());
            }
            Binding::Blank(_) => {}
            Binding::Tuple(xs, _) | Binding::Relation(xs, _) => {
                xs.iter().for_each(|x| binding(x, out))
            }
            Binding::Collection(x, _) => binding(x, out),
        }
    }
    fn walk(c: &Clause, out: &mut BTreeSet<String>) {
        match c {
            Clause::Pattern { terms, .. } => {
                for t in terms {
                    if let PatTerm::Var(v) = t {
                        out.insert(v.name.clone());
                    }
                }
            }
            Clause::Pred { callee, args, .. } => {
                if let QCallee::Var(v) = callee {
                    out.insert(v.name.clone());
                }
                args.iter().for_each(|a| arg(a, out));
            }
            Clause::Fn {
                callee,
                args,
                binding: b,
                ..
            } => {
                if let QCallee::Var(v) = callee {
                    out.insert(v.name.clone());
                }
                args.iter().for_each(|a| arg(a, out));
                binding(b, out);
            }
            Clause::RuleCall { args, .. } => {
                for a in args {
                    if let RuleArg::Var(v) = a {
                        out.insert(v.name.clone());
                    }
                }
            }
            Clause::Not { clauses, .. } => clauses.iter().for_each(|c| walk(c, out)),
            Clause::NotJoin { vars, .. } => vars.iter().for_each(|v| {
                out.insert(v.name.clone());
            }),
            Clause::Or { branches, .. } => branches.iter().flatten().for_each(|c| walk(c, out)),
            Clause::OrJoin { required, free, .. } => required.iter().chain(free).for_each(|v| {
                out.insert(v.name.clone());
            }),
        }
    }
    clauses.iter().for_each(|c| walk(c, &mut out));
    out
}
