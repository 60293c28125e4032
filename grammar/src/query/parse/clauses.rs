//! Reading `:where` clauses: data patterns, predicates, function calls with bindings, rule
//! calls, and `not`, `not-join`, `or`, `or-join` with their `and` branches.
//!
//! A malformed clause is reported and skipped, so that the clauses around it are still checked;
//! a compound clause (`not`, `or`, …) with a bad sub-clause is dropped as a whole.

use super::{BINDING_SHAPES, CLAUSE_SHAPES, Parser, Sym, as_src, as_var, found, is_sym, sym};
use crate::edn::{Form, Node};
use crate::query::ast::{Callee, Clause, FnArg, Name, PatTerm, RuleArg, SrcVar, Var};

impl Parser {
    /// Reads every clause, skipping (after reporting) the malformed ones.
    pub(super) fn clauses(&mut self, nodes: &[&Node]) -> Vec<Clause> {
        nodes.iter().filter_map(|n| self.clause(n)).collect()
    }

    pub(super) fn malformed_clause(&mut self, node: &Node) -> Option<Clause> {
        self.error_with_help(
            "E0114",
            format!("malformed clause: expected {CLAUSE_SHAPES}"),
            node.span.clone(),
            found(node),
            "see the :where grammar of Datomic queries",
        );
        None
    }

    pub(super) fn clause(&mut self, node: &Node) -> Option<Clause> {
        match &node.form {
            Form::Vector(items) if items.is_empty() => {
                self.error_with_help(
                    "E0114",
                    "empty clause",
                    node.span.clone(),
                    "empty vector",
                    format!("a clause is {CLAUSE_SHAPES}"),
                );
                None
            }
            Form::Vector(items) => match &items[0].form {
                Form::List(call) => self.fn_clause(node, &items[0], call, &items[1..]),
                _ => self.pattern(node, items),
            },
            Form::List(items) => self.list_clause(node, items),
            _ => self.malformed_clause(node),
        }
    }

    pub(super) fn fn_clause(
        &mut self,
        node: &Node,
        call_node: &Node,
        call: &[Node],
        rest: &[Node],
    ) -> Option<Clause> {
        let Some(head) = call.first() else {
            self.error_with_help(
                "E0117",
                "empty function call",
                call_node.span.clone(),
                "expected (f args…)",
                "write [(pred ?x)] or [(f ?x) ?y]",
            );
            return None;
        };
        let callee = match sym(head) {
            Some((name, Sym::Var)) => Some(Callee::Var(Var {
                name: name.to_string(),
                span: head.span.clone(),
            })),
            Some((name, Sym::Plain)) => Some(Callee::Named(Name {
                name: name.to_string(),
                span: head.span.clone(),
            })),
            _ => {
                self.error(
                    "E0117",
                    "a function or predicate name must be a symbol or a ?variable",
                    head.span.clone(),
                    found(head),
                );
                None
            }
        };
        let args: Vec<Option<FnArg>> = call[1..].iter().map(|a| self.fn_arg(a)).collect();
        let args: Option<Vec<FnArg>> = args.into_iter().collect();
        let span = node.span.clone();
        match rest.len() {
            0 => Some(Clause::Pred {
                callee: callee?,
                args: args?,
                span,
            }),
            1 => {
                let binding = self.binding(&rest[0]);
                Some(Clause::Fn {
                    callee: callee?,
                    args: args?,
                    binding: binding?,
                    span,
                })
            }
            _ => {
                self.error_with_help(
                    "E0114",
                    "malformed function clause: expected [(f args…)] or [(f args…) binding]",
                    rest[1].span.start..rest[rest.len() - 1].span.end,
                    "unexpected extra forms",
                    format!("the binding is one of {BINDING_SHAPES}"),
                );
                None
            }
        }
    }

    pub(super) fn fn_arg(&mut self, node: &Node) -> Option<FnArg> {
        match sym(node) {
            Some((name, Sym::Var)) => Some(FnArg::Var(Var {
                name: name.to_string(),
                span: node.span.clone(),
            })),
            Some((name, Sym::Src)) => Some(FnArg::Src(SrcVar {
                name: name.to_string(),
                span: node.span.clone(),
            })),
            Some(_) => {
                self.error_with_help(
                    "E0117",
                    "a function argument must be a variable, a source or a constant",
                    node.span.clone(),
                    found(node),
                    "plain symbols are not values; use a ?variable, or a keyword or string constant",
                );
                None
            }
            None => Some(FnArg::Const(node.clone())),
        }
    }

    pub(super) fn pattern(&mut self, node: &Node, items: &[Node]) -> Option<Clause> {
        let (src, terms) = match as_src(&items[0]) {
            Some(s) => (Some(s), &items[1..]),
            None => (None, items),
        };
        if terms.is_empty() || terms.len() > 5 {
            self.error_with_help(
                "E0116",
                format!(
                    "a data pattern has 1 to 5 terms, this one has {}",
                    terms.len()
                ),
                node.span.clone(),
                "wrong number of terms",
                "write [$src? ?e :attr ?v ?tx ?added]",
            );
            return None;
        }
        let terms: Vec<Option<PatTerm>> = terms
            .iter()
            .map(|t| match sym(t) {
                Some((name, Sym::Var)) => Some(PatTerm::Var(Var {
                    name: name.to_string(),
                    span: t.span.clone(),
                })),
                Some((_, Sym::Blank)) => Some(PatTerm::Blank(t.span.clone())),
                Some((name, _)) => {
                    self.error_with_help(
                        "E0115",
                        format!("the symbol `{name}` is not allowed in a data pattern"),
                        t.span.clone(),
                        "expected a ?variable, _ or a constant",
                        "a source ($name) may only come first; other symbols are not values",
                    );
                    None
                }
                None => Some(PatTerm::Const(t.clone())),
            })
            .collect();
        Some(Clause::Pattern {
            src,
            terms: terms.into_iter().collect::<Option<_>>()?,
            span: node.span.clone(),
        })
    }

    pub(super) fn list_clause(&mut self, node: &Node, items: &[Node]) -> Option<Clause> {
        if items.is_empty() {
            return self.malformed_clause(node);
        }
        let (src, rest) = match as_src(&items[0]) {
            Some(s) => (Some(s), &items[1..]),
            None => (None, items),
        };
        let Some(head) = rest.first() else {
            self.error_with_help(
                "E0114",
                "a source must be followed by a rule call, not, not-join, or or or-join",
                node.span.clone(),
                "nothing after the source",
                format!("a clause is {CLAUSE_SHAPES}"),
            );
            return None;
        };
        let args = &rest[1..];
        let span = node.span.clone();
        match sym(head) {
            Some(("and", _)) => {
                self.and_outside_or(node);
                None
            }
            Some(("not", _)) => {
                let clauses = self.sub_clauses(node, "not", args)?;
                Some(Clause::Not { src, clauses, span })
            }
            Some(("not-join", _)) => {
                // `join_vars` accepts a leading required vector only for `or-join`.
                let (_, vars) = self.join_vars(node, "not-join", args.first())?;
                let clauses = self.sub_clauses(node, "not-join", &args[1..])?;
                Some(Clause::NotJoin {
                    src,
                    vars,
                    clauses,
                    span,
                })
            }
            Some(("or", _)) => {
                let branches = self.branches(node, "or", args)?;
                Some(Clause::Or {
                    src,
                    branches,
                    span,
                })
            }
            Some(("or-join", _)) => {
                let vars = self.join_vars(node, "or-join", args.first());
                let branches = self.branches(node, "or-join", args.get(1..).unwrap_or(&[]));
                let (required, free) = vars?;
                Some(Clause::OrJoin {
                    src,
                    required,
                    free,
                    branches: branches?,
                    span,
                })
            }
            Some((name, Sym::Plain)) => {
                let args: Vec<Option<RuleArg>> = args.iter().map(|a| self.rule_arg(a)).collect();
                Some(Clause::RuleCall {
                    src,
                    name: Name {
                        name: name.to_string(),
                        span: head.span.clone(),
                    },
                    args: args.into_iter().collect::<Option<_>>()?,
                    span,
                })
            }
            Some((name, _)) => {
                self.error_with_help(
                    "E0123",
                    format!("`{name}` cannot name a rule"),
                    head.span.clone(),
                    "expected a rule name",
                    format!("a clause is {CLAUSE_SHAPES}"),
                );
                None
            }
            None => self.malformed_clause(node),
        }
    }

    pub(super) fn and_outside_or(&mut self, node: &Node) {
        self.error_with_help(
            "E0119",
            "and is only allowed inside or / or-join, as a branch",
            node.span.clone(),
            "`and` outside `or`",
            "clauses are joined by `and` already: write them one after another (inside `not`, list \
             them directly); DataScript reports `(not (and …))` as \"Join variables should not be empty\"",
        );
    }

    /// Reads the clauses of a `not` / `not-join`, which needs at least one.
    pub(super) fn sub_clauses(
        &mut self,
        node: &Node,
        what: &str,
        args: &[Node],
    ) -> Option<Vec<Clause>> {
        if args.is_empty() {
            self.error_with_help(
                "E0120",
                format!("({what}) needs at least one clause"),
                node.span.clone(),
                "no clauses",
                format!(
                    "write ({what}{} [?e :attr ?v])",
                    if what == "not-join" { " [?e]" } else { "" }
                ),
            );
            return None;
        }
        let before = self.diags.len();
        let clauses = self.clauses(&args.iter().collect::<Vec<_>>());
        (self.diags.len() == before).then_some(clauses)
    }

    /// Reads the join variables of `not-join` / `or-join`: `[?a ?b]` or `[[?req …] ?free …]`
    /// (the required vector only for `or-join`). Returns (required, free).
    pub(super) fn join_vars(
        &mut self,
        node: &Node,
        what: &str,
        vars: Option<&Node>,
    ) -> Option<(Vec<Var>, Vec<Var>)> {
        let example = if what == "or-join" {
            "[[?required] ?free]"
        } else {
            "[?a ?b]"
        };
        let Some(Node {
            form: Form::Vector(items),
            span,
        }) = vars
        else {
            let span = vars.map_or(node.span.clone(), |v| v.span.clone());
            let label = vars.map_or("missing".to_string(), found);
            self.error_with_help(
                "E0121",
                format!("{what} needs a vector of join variables"),
                span,
                label,
                format!("write ({what} {example} clause…)"),
            );
            return None;
        };
        if items.is_empty() {
            self.error_with_help(
                "E0121",
                "join variables should not be empty",
                span.clone(),
                "empty",
                format!("write ({what} {example} clause…)"),
            );
            return None;
        }
        let mut required = Vec::new();
        let mut free = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match (&item.form, as_var(item)) {
                (_, Some(v)) => free.push(v),
                (Form::Vector(req), None) if i == 0 && what == "or-join" => {
                    for r in req {
                        match as_var(r) {
                            Some(v) => required.push(v),
                            None => {
                                self.error(
                                    "E0121",
                                    "join variables must be ?variables",
                                    r.span.clone(),
                                    found(r),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                _ => {
                    self.error_with_help(
                        "E0121",
                        "join variables must be ?variables",
                        item.span.clone(),
                        found(item),
                        format!("write ({what} {example} clause…)"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some((required, free))
    }

    /// Reads the branches of `or` / `or-join`: each one clause or an `(and clause…)`.
    pub(super) fn branches(
        &mut self,
        node: &Node,
        what: &str,
        args: &[Node],
    ) -> Option<Vec<Vec<Clause>>> {
        if args.is_empty() {
            self.error_with_help(
                "E0122",
                format!("({what}) needs at least one branch"),
                node.span.clone(),
                "no branches",
                format!("write ({what} [?e :a ?v] (and [?e :b ?v] [?e :c ?w]))"),
            );
            return None;
        }
        let before = self.diags.len();
        let mut branches = Vec::new();
        for arg in args {
            match &arg.form {
                Form::List(items) if items.first().is_some_and(|h| is_sym(h, "and")) => {
                    if items.len() == 1 {
                        self.error(
                            "E0122",
                            "(and) needs at least one clause",
                            arg.span.clone(),
                            "empty branch",
                        );
                        continue;
                    }
                    branches.push(self.clauses(&items[1..].iter().collect::<Vec<_>>()));
                }
                _ => {
                    if let Some(c) = self.clause(arg) {
                        branches.push(vec![c]);
                    }
                }
            }
        }
        (self.diags.len() == before).then_some(branches)
    }

    pub(super) fn rule_arg(&mut self, node: &Node) -> Option<RuleArg> {
        match sym(node) {
            Some((name, Sym::Var)) => Some(RuleArg::Var(Var {
                name: name.to_string(),
                span: node.span.clone(),
            })),
            Some((_, Sym::Blank)) => Some(RuleArg::Blank(node.span.clone())),
            Some(_) => {
                self.error_with_help(
                    "E0123",
                    "a rule argument must be a ?variable, _ or a constant",
                    node.span.clone(),
                    found(node),
                    "plain symbols are not values",
                );
                None
            }
            None => Some(RuleArg::Const(node.clone())),
        }
    }
}
