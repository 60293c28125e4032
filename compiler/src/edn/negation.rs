//! Negation and disjunction in an EDN query body: `not`, `not-join`, `or` and `or-join`.
//!
//! Each becomes an auxiliary relation over its join variables: `not_N`, whose one rule is the
//! lowered sub-body and which the outer body negates, and `or_N`, with one rule per branch,
//! which the outer body joins. A `not` of a single predicate is inlined as the negated
//! comparison or test instead, so that negation inside a recursive rule stays stratifiable.
//! A sub-body sees the outer body's bindings only through a context relation `ctx_N` (the
//! outer body so far, projected on the visible join variables), added only when the sub-body
//! needs one of them without binding it itself; which is found by a trial lowering that is
//! undone if it fails. Invariants: `not` must share a variable with the clauses before it
//! (E0215), `not-join` variables and `or-join` required variables must be bound before it
//! (E0211), the branches of `or` use the same variables (E0216), and every branch binds every
//! join variable that is not bound before the disjunction (E0217).

use super::clauses::clause_vars;
use super::{Body, Lowerer, attr_of};
use crate::logic::ir::{Atom, Literal, Term};
use pomo_grammar::Diagnostic;
use pomo_grammar::query::{Clause, Var};
use pomo_grammar::span::{FileId, Span};
use pomo_types::ra::RelKind;
use std::collections::BTreeSet;

impl Lowerer<'_> {
    /// Lowers `not`, `not-join`, `or` and `or-join`: works out the join variables (checking
    /// that the required ones are bound already) and lowers the sub-bodies.
    pub(super) fn lower_connective(
        &mut self,
        c: &Clause,
        body: &mut Body,
        default_src: &str,
        file: FileId,
    ) {
        match c {
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
            // The other clauses are lowered in `clauses` and `rules`, which never send them here.
            Clause::Pattern { .. }
            | Clause::Pred { .. }
            | Clause::Fn { .. }
            | Clause::RuleCall { .. } => {}
        }
    }

    /// A new relation `base_N` over `vars` (attributes named after them), and its atom.
    fn join_relation(&mut self, base: &str, vars: &[String]) -> Atom {
        let name = self.builder.numbered_name(base);
        let args: Vec<(String, Term)> = vars
            .iter()
            .map(|v| (attr_of(v), Term::Var(v.clone())))
            .collect();
        let id = self.builder.relation(
            &name,
            RelKind::Derived,
            args.iter().map(|(a, _)| a.as_str()),
        );
        Atom { rel: id, args }
    }

    /// A relation that carries the bindings of `vars` from the body so far into a sub-body.
    fn context(&mut self, body: &Body, vars: &[String]) -> Atom {
        let atom = self.join_relation("ctx", vars);
        self.builder.rule(
            atom.clone(),
            body.lits.clone(),
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
        let atom = self.join_relation("not", join);
        self.builder.rule(
            atom.clone(),
            sub.lits,
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
        let atom = self.join_relation("or", join);
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
            self.builder.rule(
                atom.clone(),
                sub.lits,
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
}

/// The span from a branch's first clause to its last.
fn branch_span(br: &[Clause]) -> Span {
    match (br.first(), br.last()) {
        (Some(a), Some(b)) => a.span().start..b.span().end,
        _ => 0..0,
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
    fn not_of_one_predicate_inlines_as_a_negated_comparison() {
        check(
            "[:find ?e :where [?e :age ?a] (not [(< ?a 18)])]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :- datom(e: ?e, a: :age, v: ?a), ?a >= 18.
"#,
        );
    }

    #[test]
    fn not_of_a_pattern_is_a_negated_relation() {
        check(
            "[:find ?e :where [?e :name _] (not [?e :banned true])]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

not_1(e: ?e) :- datom(e: ?e, a: :banned, v: true).
find(e: ?e) :- datom(e: ?e, a: :name), !not_1(e: ?e).
"#,
        );
    }

    #[test]
    fn not_join_joins_on_its_variables() {
        check(
            "[:find ?e :where [?e :name _] (not-join [?e] [?e :friend ?f] [?f :banned true])]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

not_1(e: ?e) :- datom(e: ?e, a: :friend, v: ?f), datom(e: ?f, a: :banned, v: true).
find(e: ?e) :- datom(e: ?e, a: :name), !not_1(e: ?e).
"#,
        );
    }

    #[test]
    fn not_needing_an_outer_binding_gets_a_context() {
        check(
            "[:find ?e :where [?e :age ?a] (not [?e :min ?m] [(> ?m ?a)])]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

ctx_1(a: ?a, e: ?e) :- datom(e: ?e, a: :age, v: ?a).
not_2(a: ?a, e: ?e) :- ctx_1(a: ?a, e: ?e), datom(e: ?e, a: :min, v: ?m), ?m > ?a.
find(e: ?e) :- datom(e: ?e, a: :age, v: ?a), !not_2(a: ?a, e: ?e).
"#,
        );
    }

    #[test]
    fn or_becomes_one_rule_per_branch() {
        check(
            "[:find ?e :where (or [?e :a 1] [?e :b 2])]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

or_1(e: ?e) :- datom(e: ?e, a: :a, v: 1).
or_1(e: ?e) :- datom(e: ?e, a: :b, v: 2).
find(e: ?e) :- or_1(e: ?e).
"#,
        );
    }

    #[test]
    fn or_with_and_branches() {
        check(
            "[:find ?e :where [?e :name _] (or-join [?e] [?e :a 1] (and [?e :b ?x] [(> ?x 2)]))]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

or_1(e: ?e) :- datom(e: ?e, a: :a, v: 1).
or_1(e: ?e) :- datom(e: ?e, a: :b, v: ?x), ?x > 2.
find(e: ?e) :- datom(e: ?e, a: :name), or_1(e: ?e).
"#,
        );
    }

    #[test]
    fn or_join_projects_on_its_variables() {
        check(
            "[:find ?e :where (or-join [?e] [?e :a ?x] [?e :b ?y])]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

or_1(e: ?e) :- datom(e: ?e, a: :a, v: ?x).
or_1(e: ?e) :- datom(e: ?e, a: :b, v: ?y).
find(e: ?e) :- or_1(e: ?e).
"#,
        );
    }

    #[test]
    fn or_join_with_a_required_variable() {
        check(
            "[:find ?e ?n :where [?e :name ?n] (or-join [[?n] ?e] [?e :a ?n] [(= ?n \"x\")])]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e, n) relation

or_1(n: ?n, e: ?e) :- datom(e: ?e, a: :a, v: ?n).
ctx_2(n: ?n, e: ?e) :- datom(e: ?e, a: :name, v: ?n).
or_1(n: ?n, e: ?e) :- ctx_2(n: ?n, e: ?e), ?n == "x".
find(e: ?e, n: ?n) :- datom(e: ?e, a: :name, v: ?n), or_1(n: ?n, e: ?e).
"#,
        );
    }

    #[test]
    fn or_branch_of_predicates_gets_a_context() {
        check(
            "[:find ?e :where [?e :age ?a] (or [(< ?a 10)] [(> ?a 60)])]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

ctx_2(a: ?a) :- datom(e: ?e, a: :age, v: ?a).
or_1(a: ?a) :- ctx_2(a: ?a), ?a < 10.
ctx_3(a: ?a) :- datom(e: ?e, a: :age, v: ?a).
or_1(a: ?a) :- ctx_3(a: ?a), ?a > 60.
find(e: ?e) :- datom(e: ?e, a: :age, v: ?a), or_1(a: ?a).
"#,
        );
    }

    #[test]
    fn error_not_sharing_no_variable() {
        check_error(
            "[:find ?e :where [?e :a 1] (not [?x :b 2])]",
            "E0215 `not` shares no variable with the clauses before it",
        );
    }

    #[test]
    fn error_not_join_variable_unbound() {
        check_error(
            "[:find ?e :where [?e :a 1] (not-join [?x] [?x :b 2])]",
            "E0211 insufficient bindings: ?x not bound before not-join",
        );
    }

    #[test]
    fn error_or_branches_with_different_variables() {
        check_error(
            "[:find ?e :where (or [?e :a 1] [?x :b 2])]",
            r#"
E0216 all branches of `or` must use the same set of variables
"#,
        );
    }

    #[test]
    fn error_or_join_branch_does_not_bind() {
        check_error(
            "[:find ?e ?y :where [?e :a 1] (or-join [?e ?y] [?e :b ?y] [?e :c 3])]",
            "E0217 this branch does not bind ?y",
        );
    }

    #[test]
    fn error_or_join_required_variable_unbound() {
        check_error(
            "[:find ?e :where (or-join [[?x] ?e] [?e :b ?x])]",
            "E0211 insufficient bindings: ?x not bound before or-join",
        );
    }
}
