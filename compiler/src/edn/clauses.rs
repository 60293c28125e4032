//! Clauses of an EDN query body: data patterns, predicates and function calls, and the
//! dispatch of every clause kind (rule calls are lowered in [`super::rules`], `not`/`or` and
//! their `-join` forms in [`super::negation`]).
//!
//! A data pattern `[?e :attr ?v]` becomes an atom over its source's datom view with the
//! attributes `e a v tx added` of the positions it constrains; a predicate becomes a comparison
//! (chains like `(< ?a ?b ?c)` become one comparison per neighbouring pair) or a test; a
//! function call with a binding becomes an apply literal. Invariants: the arguments of a
//! predicate or function call must be bound by earlier clauses (E0211, pointing at the call);
//! a clause that fails still counts its variables as bound, so later uses are not reported
//! again; unknown functions get a "did you mean" hint from the built-ins' EDN names.

use super::{Body, Lowerer, const_value};
use crate::logic::ir::{Atom, Bind, Callee, Literal, PATTERN_ATTRS, Term};
use pomo_grammar::Diagnostic;
use pomo_grammar::query::{Binding, Callee as QCallee, Clause, FnArg, PatTerm, RuleArg};
use pomo_grammar::span::{FileId, Span};
use pomo_stdlib::{Kind, builtin_by_edn_name};
use pomo_types::Value;
use pomo_types::ra::CmpOp;
use std::collections::BTreeSet;

impl Lowerer<'_> {
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

    pub(super) fn require_bound(
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

    /// Lowers one clause into `body`. When the clause fails, what it would have bound counts
    /// as bound, so that one mistake is reported once.
    pub(super) fn lower_clause(
        &mut self,
        c: &Clause,
        body: &mut Body,
        default_src: &str,
        file: FileId,
    ) {
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

    /// Lowers data patterns, predicates and function calls here; rule calls and the
    /// connectives (`not`, `or`, …) in their own modules.
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

            Clause::RuleCall { .. } => self.lower_rule_call_clause(c, body, default_src, file),
            Clause::Not { .. }
            | Clause::NotJoin { .. }
            | Clause::Or { .. }
            | Clause::OrJoin { .. } => self.lower_connective(c, body, default_src, file),
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
pub(super) fn binding_vars(c: &Clause) -> Vec<String> {
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
pub(super) fn clause_vars(clauses: &[Clause]) -> BTreeSet<String> {
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
    fn pattern_drops_blanks_and_keeps_constants() {
        check(
            "[:find ?e ?v :where [?e :name ?v] [_ :likes ?e]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e, v) relation

find(e: ?e, v: ?v) :- datom(e: ?e, a: :name, v: ?v), datom(a: :likes, v: ?e).
"#,
        );
    }

    #[test]
    fn pattern_with_transaction_and_added() {
        check(
            "[:find ?e ?t :where [?e :name \"x\" ?t true]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e, t) relation

find(e: ?e, t: ?t) :- datom(e: ?e, a: :name, v: "x", m: ?t, added: true).
"#,
        );
    }

    #[test]
    fn comparison_chain_becomes_one_comparison_per_pair() {
        check(
            "[:find ?e :where [?e :age ?a] [(< 18 ?a 65)]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :- datom(e: ?e, a: :age, v: ?a), 18 < ?a, ?a < 65.
"#,
        );
    }

    #[test]
    fn not_equal_of_three_stays_a_test() {
        check(
            "[:find ?e :where [?e :a ?a] [?e :b ?b] [?e :c ?c] [(not= ?a ?b ?c)]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :-
    datom(e: ?e, a: :a, v: ?a),
    datom(e: ?e, a: :b, v: ?b),
    datom(e: ?e, a: :c, v: ?c),
    ne(?a, ?b, ?c).
"#,
        );
    }

    #[test]
    fn string_predicate_is_a_test() {
        check(
            "[:find ?m :where [?e :email ?m] [(clojure.string/starts-with? ?m \"b\")]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(m) relation

find(m: ?m) :- datom(e: ?e, a: :email, v: ?m), starts_with(?m, "b").
"#,
        );
    }

    #[test]
    fn function_call_binds_a_scalar() {
        check(
            "[:find ?b :where [?e :a ?a] [(+ ?a 1) ?b]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(b) relation

find(b: ?b) :- datom(e: ?e, a: :a, v: ?a), ?b := add(?a, 1).
"#,
        );
    }

    #[test]
    fn ground_binds_a_collection() {
        check(
            "[:find ?x :where [(ground [1 2]) [?x ...]]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(x) relation

find(x: ?x) :- [?x ...] := ground([1, 2]).
"#,
        );
    }

    #[test]
    fn function_binds_a_tuple_with_a_blank() {
        check(
            "[:find ?x :where [?e :a ?a] [(vector ?a ?a) [?x _]]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(x) relation

find(x: ?x) :- datom(e: ?e, a: :a, v: ?a), [?x, _] := vector(?a, ?a).
"#,
        );
    }

    #[test]
    fn get_else_takes_its_source_as_a_symbol() {
        check(
            "[:find ?c :where [?e :name ?n] [(get-else $ ?e :city \"unknown\") ?c]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(c) relation

find(c: ?c) :- datom(e: ?e, a: :name, v: ?n), ?c := get_else('$, ?e, :city, "unknown").
"#,
        );
    }

    #[test]
    fn predicate_given_as_an_input_function() {
        check(
            "[:find ?x :in $ ?f :where [?e :a ?x] [(?f ?x)]]",
            r#"
.input in1(f) scalar
.decl datom(e, a, v, t, m, added)
.output find(x) relation

find(x: ?x) :- in1(f: ?f), datom(e: ?e, a: :a, v: ?x), ?f(?x).
"#,
        );
    }

    #[test]
    fn error_unknown_function_suggests_a_near_name() {
        check_error(
            "[:find ?x :where [?e :a ?x] [(strr ?x) ?y]]",
            "E0210 unknown function `strr`",
        );
    }

    #[test]
    fn error_aggregate_used_as_a_function() {
        check_error(
            "[:find ?x :where [?e :a ?x] [(sum ?x) ?y]]",
            "E0210 unknown function `sum`",
        );
    }

    #[test]
    fn error_wrong_number_of_arguments() {
        check_error(
            "[:find ?x :where [?e :a ?x] [(inc ?x ?x) ?y]]",
            "E0207 `inc` takes 1 argument(s), got 2",
        );
    }

    #[test]
    fn error_argument_not_bound_before_the_predicate() {
        check_error(
            "[:find ?x :where [(> ?x 1)] [?e :a ?x]]",
            r#"
E0211 insufficient bindings: ?x not bound before this predicate
"#,
        );
    }

    #[test]
    fn error_source_passed_to_a_function_that_takes_none() {
        check_error(
            "[:find ?y :where [?e :a ?x] [(+ $ ?x) ?y]]",
            "E0204 source $ cannot be passed here",
        );
    }

    #[test]
    fn function_binds_a_relation() {
        check(
            "[:find ?y :where [?e :a ?x] [(vector ?x) [[?y]]]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(y) relation

find(y: ?y) :- datom(e: ?e, a: :a, v: ?x), [[?y]] := vector(?x).
"#,
        );
    }

    #[test]
    fn error_nested_function_binding() {
        check_error(
            "[:find ?y :where [?e :a ?x] [(vector ?x) [[?y ?z] ...]]]",
            "E0208 nested binding forms are not supported",
        );
    }

    #[test]
    fn error_failed_clause_is_reported_once() {
        check_error(
            "[:find ?y :where [(nosuchfn 1) ?y] [(inc ?y) ?z] [(> ?z 1)]]",
            "E0210 unknown function `nosuchfn`",
        );
    }
}
