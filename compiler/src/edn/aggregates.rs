//! The find relation of an EDN query: find specs, `:with`, return maps, aggregates and pulls.
//!
//! Without aggregates the `:where` body becomes the rule of the output relation `find`, whose
//! attributes are the find columns followed by the `:with` columns. With aggregates the body
//! becomes a `where` relation over every variable the find spec and `:with` mention, and the
//! `find` rule's body is one aggregate literal per aggregate (its output variable `?agg_N`)
//! over that relation; the `:with` columns are consumed there. Pull elements become pull specs
//! on the output relation (a constant pattern, or the input relation holding a pattern given in
//! `:in`). Invariants: find columns have distinct names (`x`, `x_2`, …), and every plain find,
//! aggregated, pulled and `:with` variable must be bound by the body (E0202 otherwise).

use super::{Body, Lowerer, attr_of, const_value, pattern_value};
use crate::logic::ir::{Atom, Callee, Literal, Term};
use pomo_grammar::Diagnostic;
use pomo_grammar::edn::Form;
use pomo_grammar::query::{FindElem, FindSpec, FnArg, ReturnKind as QReturnKind, Var};
use pomo_grammar::span::Span;
use pomo_stdlib::builtin_by_edn_name;
use pomo_types::ra::{FindKind, OutputSpec, PullPattern, PullSpec, RelKind, ReturnKind};
use std::collections::BTreeSet;

impl Lowerer<'_> {
    /// Builds the output relation from the lowered `:where` body: `find(cols…, with…) :- body`
    /// without aggregates, else `main_name(vars…) :- body` and a `find` rule whose aggregate
    /// literals group it.
    pub(super) fn lower_find(&mut self, main_name: &str, body: Body) {
        let q = self.q;
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
            let out = self.builder.unique_name("find");
            let id = self.builder.relation(
                &out,
                RelKind::Output(spec),
                head_args.iter().map(|(a, _)| a.as_str()),
            );
            let head = Atom {
                rel: id,
                args: head_args,
            };
            self.builder.rule(head, body.lits, Some(span0), body.spans);
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
        let where_id = self.builder.relation(main_name, RelKind::Derived, []);
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
        let where_atom = Atom {
            rel: where_id,
            args: where_args,
        };
        self.builder.rule(
            where_atom.clone(),
            body.lits,
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
                    let out_var = format!("?{}", self.builder.numbered_name("agg"));
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
        let out = self.builder.unique_name("find");
        let id = self.builder.relation(
            &out,
            RelKind::Output(spec),
            head_args.iter().map(|(a, _)| a.as_str()),
        );
        let head = Atom {
            rel: id,
            args: head_args,
        };
        self.builder.rule(head, lits, Some(span0), spans);
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
}

#[cfg(test)]
mod tests {
    use super::super::lower_text;

    /// Lowers `query` and compares the printed program.
    fn check(query: &str, expected: &str) {
        assert_eq!(lower_text(query, None).as_deref(), Ok(expected.trim()));
    }

    /// Lowers `query` and compares the diagnostics, one `CODE message` a line.
    fn check_error(query: &str, expected: &str) {
        assert_eq!(lower_text(query, None).unwrap_err(), expected.trim());
    }

    #[test]
    fn count_groups_a_where_relation() {
        check(
            "[:find (count ?e) :where [?e :a _]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(count_e) relation

where(e: ?e) :- datom(e: ?e, a: :a).
find(count_e: ?agg_1) :- ?agg_1 := count(?e) : where(e: ?e).
"#,
        );
    }

    #[test]
    fn group_keys_and_with() {
        check(
            "[:find ?d (sum ?s) :with ?e :where [?e :dept ?d] [?e :salary ?s]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(d, sum_s) relation

where(d: ?d, s: ?s, e: ?e) :- datom(e: ?e, a: :dept, v: ?d), datom(e: ?e, a: :salary, v: ?s).
find(d: ?d, sum_s: ?agg_1) :- ?agg_1 := sum(?s) : where(d: ?d, s: ?s, e: ?e).
"#,
        );
    }

    #[test]
    fn with_without_aggregates_adds_columns() {
        check(
            "[:find ?x :with ?e :where [?e :a ?x]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(x, e) relation with(e)

find(x: ?x, e: ?e) :- datom(e: ?e, a: :a, v: ?x).
"#,
        );
    }

    #[test]
    fn scalar_find() {
        check(
            "[:find ?x . :where [?e :a ?x]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(x) scalar

find(x: ?x) :- datom(e: ?e, a: :a, v: ?x).
"#,
        );
    }

    #[test]
    fn collection_find() {
        check(
            "[:find [?x ...] :where [?e :a ?x]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(x) collection

find(x: ?x) :- datom(e: ?e, a: :a, v: ?x).
"#,
        );
    }

    #[test]
    fn tuple_find_with_a_repeated_variable() {
        check(
            "[:find [?x ?x] :where [?e :a ?x]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(x, x_2) tuple

find(x: ?x, x_2: ?x) :- datom(e: ?e, a: :a, v: ?x).
"#,
        );
    }

    #[test]
    fn keys_name_the_columns() {
        check(
            "[:find ?e ?x :keys id value :where [?e :a ?x]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e, x) relation keys("id", "value")

find(e: ?e, x: ?x) :- datom(e: ?e, a: :a, v: ?x).
"#,
        );
    }

    #[test]
    fn aggregate_with_a_constant_argument() {
        check(
            "[:find (max 3 ?x) :where [?e :a ?x]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(max_x) relation

where(x: ?x) :- datom(e: ?e, a: :a, v: ?x).
find(max_x: ?agg_1) :- ?agg_1 := max(3, ?x) : where(x: ?x).
"#,
        );
    }

    #[test]
    fn custom_aggregate_from_an_input() {
        check(
            "[:find ?d (aggregate ?f ?s) :in $ ?f :where [?e :dept ?d] [?e :salary ?s]]",
            r#"
.input in1(f) scalar
.decl datom(e, a, v, t, m, added)
.output find(d, f_s) relation

where(d: ?d, f: ?f, s: ?s) :-
    in1(f: ?f),
    datom(e: ?e, a: :dept, v: ?d),
    datom(e: ?e, a: :salary, v: ?s).
find(d: ?d, f_s: ?agg_1) :- ?agg_1 := ?f(?s) : where(d: ?d, f: ?f, s: ?s).
"#,
        );
    }

    #[test]
    fn pull_with_a_constant_pattern() {
        check(
            "[:find (pull ?e [:name]) :where [?e :name _]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation pull("0", "$", "const", "[:name]")

find(e: ?e) :- datom(e: ?e, a: :name).
"#,
        );
    }

    #[test]
    fn pull_with_a_pattern_input_on_a_named_source() {
        check(
            "[:find (pull $hr ?e ?p) :in $hr ?p :where [$hr ?e :dept :ops]]",
            r#"
.input in1(p) scalar
.decl datom$hr(e, a, v, t, m, added)
.output find(e) relation pull("0", "$hr", "input", "in1")

find(e: ?e) :- in1(p: ?p), datom$hr(e: ?e, a: :dept, v: :ops).
"#,
        );
    }

    #[test]
    fn error_find_variable_unbound() {
        check_error(
            "[:find ?x ?y :where [?e :a ?x]]",
            "E0202 find variable ?y is not bound by the query",
        );
    }

    #[test]
    fn error_with_and_aggregated_variables_unbound() {
        check_error(
            "[:find (sum ?s) :with ?w :where [?e :a ?x]]",
            r#"
E0202 aggregated variable ?s is not bound by the query
E0202 :with variable ?w is not bound by the query
"#,
        );
    }

    #[test]
    fn error_unknown_aggregate() {
        check_error(
            "[:find (summ ?x) :where [?e :a ?x]]",
            "E0206 unknown aggregate `summ`",
        );
    }

    #[test]
    fn error_aggregate_arity() {
        check_error(
            "[:find (count 1 2 ?x) :where [?e :a ?x]]",
            "E0207 aggregate `count` takes 1 argument(s), got 3",
        );
    }

    #[test]
    fn error_aggregate_without_a_trailing_variable() {
        check_error(
            "[:find (max ?x 3) :where [?e :a ?x]]",
            r#"
E0205 aggregate `max` must end with the variable it aggregates
"#,
        );
    }

    #[test]
    fn error_custom_aggregate_without_a_function_variable() {
        check_error(
            "[:find (aggregate 1 ?x) :where [?e :a ?x]]",
            "E0205 (aggregate ?f …) needs a function variable first",
        );
    }

    #[test]
    fn error_pull_pattern_variable_not_an_input() {
        check_error(
            "[:find (pull ?e ?p) :where [?e :a _]]",
            "E0234 pull pattern ?p is not an input",
        );
    }
}
