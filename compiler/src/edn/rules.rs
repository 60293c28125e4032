//! Rule calls and rule instances, with the magic-set adornment of rules that need bindings
//! from their callers.
//!
//! A rule whose body binds all of its arguments on its own lowers once per default source into
//! one relation (`name`, or `name$src`) that every call reads. Whether it does is found by a
//! trial: the plain rule is lowered with a snapshot taken, and undone if it reports errors.
//! Otherwise each call gets an instance specialised to the arguments bound at the call site
//! (`name_bf` for "first bound, second free"), whose bodies start with a `magic_name_bf` atom;
//! each call adds a rule to that magic relation with the caller's clauses so far (the
//! magic-sets rewriting). Invariants: rule heads use the attributes `a0 a1 …`; a rule's
//! definitions all have the same arity (E0213); a rule's head variables must be bound by its
//! body, possibly with the caller's bindings (E0218); required arguments (`[?a] ?b` heads)
//! must be bound at the call (E0214).

use super::{Body, Lowerer, const_value};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::{Atom, CAUSE_ATTRS, CAUSE_RELATION, Literal, RelId, Term};

/// The store's relations an EDN query calls like rules (`(cause ?f ?c)`, `(fact ?c ?e ?a ?v
/// ?added)`) when its rule set defines none of that name.
const STORE_RELATIONS: &[&str] = &[CAUSE_RELATION, "fact"];
use pomo_grammar::Diagnostic;
use pomo_grammar::query::{Clause, RuleArg, Var};
use pomo_grammar::span::FileId;
use pomo_stdlib::builtin_by_edn_name;
use pomo_types::ra::RelKind;

impl Lowerer<'_> {
    /// Lowers a rule call `(name args…)` (or `($src name args…)`): checks that the rule exists
    /// and is in scope, its arity and its required bindings, then reads the relation
    /// [`Self::rule_call`] gives for the arguments bound at the call.
    pub(super) fn lower_rule_call_clause(
        &mut self,
        c: &Clause,
        body: &mut Body,
        default_src: &str,
        file: FileId,
    ) {
        let Clause::RuleCall {
            src,
            name,
            args,
            span,
        } = c
        else {
            return;
        };
        if !self.rules.contains_key(&name.name) && STORE_RELATIONS.contains(&name.name.as_str()) {
            let src = self.check_source(src, default_src, file);
            self.lower_store_relation(&name.name, &src, args, span, body, file);
            return;
        }
        {
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
            let Some(rel) = self.rule_call(&name.name, &src, &bound_pos, args, body, file) else {
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
    }

    /// A call of one of the store's relations that EDN has no pattern for, unless the rule set
    /// defines a rule of that name: `(cause ?fact ?cause)`, the causal graph, and
    /// `(fact ?cid ?e ?a ?v ?added)`, a datom with the CID of the fact behind it. They need
    /// no `%` input (what the prelude's EDN rule set is written with).
    fn lower_store_relation(
        &mut self,
        name: &str,
        src: &str,
        args: &[RuleArg],
        span: &pomo_grammar::span::Span,
        body: &mut Body,
        file: FileId,
    ) {
        let (rel, attrs): (RelId, &[&str]) = if name == CAUSE_RELATION {
            let rel_name = if src == "$" {
                CAUSE_RELATION.to_string()
            } else {
                format!("{CAUSE_RELATION}{src}")
            };
            let kind = RelKind::Causes {
                source: src.to_string(),
            };
            (
                self.builder
                    .relation(&rel_name, kind, CAUSE_ATTRS.iter().copied()),
                CAUSE_ATTRS,
            )
        } else {
            (self.source_rel(src), &["$cid", "e", "a", "v", "added"])
        };
        if args.len() != attrs.len() {
            self.err(
                Diagnostic::error(
                    "E0213",
                    format!(
                        "`{name}` takes {} argument(s), got {}",
                        attrs.len(),
                        args.len()
                    ),
                )
                .with_label_in(file, span.clone(), "wrong number of arguments")
                .with_help(if name == CAUSE_RELATION {
                    "(cause ?fact ?cause)"
                } else {
                    "(fact ?cid ?e ?a ?v ?added)"
                }),
            );
            return;
        }
        let mut cid = None;
        let mut targs = Vec::new();
        for (a, attr) in args.iter().zip(attrs) {
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
            if *attr == "$cid" {
                match t {
                    Term::Var(v) => cid = Some(v),
                    _ => {
                        self.err(
                            Diagnostic::error(
                                "E0213",
                                "the first argument of `fact` binds the fact's CID: a variable or _",
                            )
                            .with_label_in(file, span.clone(), "here"),
                        );
                        return;
                    }
                }
            } else {
                targs.push((attr.to_string(), t));
            }
        }
        for v in targs
            .iter()
            .filter_map(|(_, t)| t.var())
            .chain(cid.as_deref())
        {
            body.bound.insert(v.to_string());
            body.seen.insert(v.to_string());
        }
        body.push(
            Literal::Pos {
                cid,
                atom: Atom { rel, args: targs },
            },
            (file, span.clone()),
        );
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
                .map(|(id, _)| *id);
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
        let head = Atom {
            rel: magic,
            args: head_args,
        };
        self.builder
            .rule(head, caller.lits.clone(), span, caller.spans.clone());
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
        if let Some(found) = self.instances.get(&key) {
            return *found;
        }
        // An adorned instance and its magic relation get names no user rule and no earlier
        // relation has (a rule set may define `name_bf` itself); the plain instance is the
        // rule's own relation.
        let rel_name = match adorn {
            Some(a) => self.builder.unique_name(&format!("{base}_{a}")),
            None => base.clone(),
        };
        let defs = self.rules.get(name).cloned().unwrap_or_default();
        let arity = defs
            .first()
            .map(|d| d.required.len() + d.free.len())
            .unwrap_or(0);
        let attrs: Vec<String> = (0..arity).map(|i| format!("a{i}")).collect();
        let id = self.builder.relation(
            &rel_name,
            RelKind::Derived,
            attrs.iter().map(|s| s.as_str()),
        );
        let bound: Vec<usize> = adorn
            .map(|a| {
                a.char_indices()
                    .filter(|(_, c)| *c == 'b')
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default();
        let magic = adorn.map(|a| {
            let name = self.builder.unique_name(&format!("magic_{base}_{a}"));
            let attrs: Vec<String> = bound.iter().map(|i| format!("a{i}")).collect();
            self.builder
                .relation(&name, RelKind::Derived, attrs.iter().map(|s| s.as_str()))
        });
        // Recorded before the bodies are lowered, so that recursive calls find the instance.
        self.instances.insert(key, (id, magic));
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
                    ProgramBuilder::atom(m, margs),
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
            self.builder
                .rule(head, body.lits, Some((file, def.span.clone())), body.spans);
        }
        (id, magic)
    }
}

#[cfg(test)]
mod tests {
    use super::super::lower_text;

    /// Lowers `query` with the rule set `rules` and compares the printed program.
    fn check(query: &str, rules: &str, expected: &str) {
        assert_eq!(
            lower_text(query, Some(rules)).as_deref(),
            Ok(expected.trim())
        );
    }

    /// Lowers `query` with `rules` and compares the diagnostics, one `CODE message` a line.
    fn check_error(query: &str, rules: &str, expected: &str) {
        assert_eq!(lower_text(query, Some(rules)).unwrap_err(), expected.trim());
    }

    #[test]
    fn rule_lowers_once_into_its_own_relation() {
        check(
            "[:find ?n :in $ % :where (named ?e ?n) (named ?e2 ?n)]",
            "[[(named ?e ?n) [?e :name ?n]]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(n) relation

named(a0: ?e, a1: ?n) :- datom(e: ?e, a: :name, v: ?n).
find(n: ?n) :- named(a0: ?e, a1: ?n), named(a0: ?e2, a1: ?n).
"#,
        );
    }

    #[test]
    fn recursive_rule() {
        check(
            "[:find ?d :in $ % :where [?a :name \"x\"] (ancestor ?a ?d)]",
            "[[(ancestor ?a ?d) [?a :parent ?d]]
 [(ancestor ?a ?d) [?a :parent ?x] (ancestor ?x ?d)]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(d) relation

ancestor(a0: ?a, a1: ?d) :- datom(e: ?a, a: :parent, v: ?d).
ancestor(a0: ?a, a1: ?d) :- datom(e: ?a, a: :parent, v: ?x), ancestor(a0: ?x, a1: ?d).
find(d: ?d) :- datom(e: ?a, a: :name, v: "x"), ancestor(a0: ?a, a1: ?d).
"#,
        );
    }

    #[test]
    fn rule_on_a_named_source() {
        check(
            "[:find ?n :in $ $hr % :where ($hr named ?e ?n)]",
            "[[(named ?e ?n) [?e :name ?n]]]",
            r#"
.decl datom(e, a, v, t, m, added)
.decl datom$hr(e, a, v, t, m, added)
.output find(n) relation

named$hr(a0: ?e, a1: ?n) :- datom$hr(e: ?e, a: :name, v: ?n).
find(n: ?n) :- named$hr(a0: ?e, a1: ?n).
"#,
        );
    }

    #[test]
    fn rule_with_a_constant_and_a_blank_argument() {
        check(
            "[:find ?e :in $ % :where (named ?e \"x\") (named _ \"y\")]",
            "[[(named ?e ?n) [?e :name ?n]]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

named(a0: ?e, a1: ?n) :- datom(e: ?e, a: :name, v: ?n).
find(e: ?e) :- named(a0: ?e, a1: "x"), named(a1: "y").
"#,
        );
    }

    #[test]
    fn rule_needing_a_bound_argument_gets_a_magic_set() {
        check(
            "[:find ?e :in $ % ?min :where [?e :name _] (adult ?e ?min)]",
            "[[(adult ?e ?min) [?e :age ?a] [(>= ?a ?min)]]]",
            r#"
.input in2(min) scalar
.decl datom(e, a, v, t, m, added)
.output find(e) relation

adult_bb(a0: ?e, a1: ?min) :-
    magic_adult_bb(a0: ?e, a1: ?min),
    datom(e: ?e, a: :age, v: ?a),
    ?a >= ?min.
magic_adult_bb(a0: ?e, a1: ?min) :- in2(min: ?min), datom(e: ?e, a: :name).
find(e: ?e) :- in2(min: ?min), datom(e: ?e, a: :name), adult_bb(a0: ?e, a1: ?min).
"#,
        );
    }

    #[test]
    fn an_adorned_instance_never_takes_a_user_rule_name() {
        // The rule set defines `adult_bb` itself: the instance of `adult` with both arguments
        // bound, and its magic relation, must not be that rule.
        check(
            "[:find ?e :in $ % ?min :where [?e :name _] (adult ?e ?min) (adult_bb ?e)]",
            "[[(adult ?e ?min) [?e :age ?a] [(>= ?a ?min)]]
 [(adult_bb ?e) [?e :vip true]]]",
            r#"
.input in2(min) scalar
.decl datom(e, a, v, t, m, added)
.output find(e) relation

adult_bb_(a0: ?e, a1: ?min) :-
    magic_adult_bb(a0: ?e, a1: ?min),
    datom(e: ?e, a: :age, v: ?a),
    ?a >= ?min.
magic_adult_bb(a0: ?e, a1: ?min) :- in2(min: ?min), datom(e: ?e, a: :name).
adult_bb(a0: ?e) :- datom(e: ?e, a: :vip, v: true).
find(e: ?e) :-
    in2(min: ?min),
    datom(e: ?e, a: :name),
    adult_bb_(a0: ?e, a1: ?min),
    adult_bb(a0: ?e).
"#,
        );
    }

    #[test]
    fn the_store_relations_are_called_like_rules() {
        // `(cause …)` and `(fact …)` need no % input; `fact`'s first argument is the CID.
        assert_eq!(
            lower_text(
                "[:find ?v ?c :where (fact ?f ?e :p/city ?v true) (cause ?f ?c)]",
                None
            )
            .as_deref(),
            Ok(r#".decl datom(e, a, v, t, m, added)
.decl cause(fact, cause)
.output find(v, c) relation

find(v: ?v, c: ?c) :-
    ?f := datom(e: ?e, a: :p/city, v: ?v, added: true),
    cause(fact: ?f, cause: ?c)."#)
        );
        // A rule set's own `cause` takes precedence.
        check(
            "[:find ?x :in $ % :where (cause ?x)]",
            "[[(cause ?x) [?x :why _]]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(x) relation

cause(a0: ?x) :- datom(e: ?x, a: :why).
find(x: ?x) :- cause(a0: ?x).
"#,
        );
        assert_eq!(
            lower_text("[:find ?f :where (cause ?f)]", None).unwrap_err(),
            "E0213 `cause` takes 2 argument(s), got 1"
        );
        assert_eq!(
            lower_text("[:find ?e :where (fact \"x\" ?e _ _ _)]", None).unwrap_err(),
            "E0213 the first argument of `fact` binds the fact's CID: a variable or _"
        );
    }

    #[test]
    fn error_rule_needing_a_binding_called_with_none_bound() {
        check_error(
            "[:find ?e ?m :in $ % :where (adult ?e ?m)]",
            "[[(adult ?e ?min) [?e :age ?a] [(>= ?a ?min)]]]",
            r#"
E0211 insufficient bindings: ?min not bound before this predicate
E0218 rule `adult` does not bind its argument ?min
"#,
        );
    }

    #[test]
    fn recursive_rule_with_a_bound_argument() {
        check(
            "[:find ?n :in $ % ?min :where [?g :name \"Gus\"] (above ?g ?m ?min) [?m :name ?n]]",
            "[[(above ?e ?m ?min) [?e :manager ?m] [?m :salary ?s] [(>= ?s ?min)]]
 [(above ?e ?m ?min) [?e :manager ?x] (above ?x ?m ?min)]]",
            r#"
.input in2(min) scalar
.decl datom(e, a, v, t, m, added)
.output find(n) relation

above_bfb(a0: ?e, a1: ?m, a2: ?min) :-
    magic_above_bfb(a0: ?e, a2: ?min),
    datom(e: ?e, a: :manager, v: ?m),
    datom(e: ?m, a: :salary, v: ?s),
    ?s >= ?min.
magic_above_bfb(a0: ?x, a2: ?min) :-
    magic_above_bfb(a0: ?e, a2: ?min),
    datom(e: ?e, a: :manager, v: ?x).
above_bfb(a0: ?e, a1: ?m, a2: ?min) :-
    magic_above_bfb(a0: ?e, a2: ?min),
    datom(e: ?e, a: :manager, v: ?x),
    above_bfb(a0: ?x, a1: ?m, a2: ?min).
magic_above_bfb(a0: ?g, a2: ?min) :- in2(min: ?min), datom(e: ?g, a: :name, v: "Gus").
find(n: ?n) :-
    in2(min: ?min),
    datom(e: ?g, a: :name, v: "Gus"),
    above_bfb(a0: ?g, a1: ?m, a2: ?min),
    datom(e: ?m, a: :name, v: ?n).
"#,
        );
    }

    #[test]
    fn required_bindings_in_the_head() {
        check(
            "[:find ?n :in $ % :where [?e :name \"x\"] (named ?e ?n)]",
            "[[(named [?e] ?n) [?e :name ?n]]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(n) relation

named(a0: ?e, a1: ?n) :- datom(e: ?e, a: :name, v: ?n).
find(n: ?n) :- datom(e: ?e, a: :name, v: "x"), named(a0: ?e, a1: ?n).
"#,
        );
    }

    #[test]
    fn error_unknown_rule() {
        check_error(
            "[:find ?n :in $ % :where (nosuch ?e ?n)]",
            "[[(named ?e ?n) [?e :name ?n]]]",
            "E0212 unknown rule `nosuch`",
        );
    }

    #[test]
    fn error_rule_called_without_rules_input() {
        check_error(
            "[:find ?n :where (named ?e ?n)]",
            "[[(named ?e ?n) [?e :name ?n]]]",
            "E0212 rule `named` is called but the query has no % input",
        );
    }

    #[test]
    fn error_rule_called_with_the_wrong_arity() {
        check_error(
            "[:find ?n :in $ % :where (named ?n)]",
            "[[(named ?e ?n) [?e :name ?n]]]",
            "E0213 rule `named` takes 2 argument(s), got 1",
        );
    }

    #[test]
    fn error_required_argument_unbound() {
        check_error(
            "[:find ?n :in $ % :where (named ?e ?n)]",
            "[[(named [?e] ?n) [?e :name ?n]]]",
            "E0214 rule `named` requires argument 1 to be bound",
        );
    }

    #[test]
    fn error_rule_does_not_bind_its_argument() {
        check_error(
            "[:find ?e :in $ % :where (loose ?e ?x)]",
            "[[(loose ?e ?x) [?e :name _]]]",
            "E0218 rule `loose` does not bind its argument ?x",
        );
    }

    #[test]
    fn error_definitions_with_different_arities() {
        check_error(
            "[:find ?e :in $ % :where (two ?e)]",
            "[[(two ?e) [?e :a 1]] [(two ?e ?f) [?e :b ?f]]]",
            r#"
E0213 rule `two` is defined with different numbers of arguments
"#,
        );
    }
}
