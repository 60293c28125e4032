//! Reading rule sets `[[(name ?a [?req] ?b) clause…] …]`: the head (name, required and free
//! variables) and the body clauses of each definition.
//!
//! A definition with any error is dropped after every error in it is reported; the others are
//! still read.

use super::{Parser, Sym, as_var, found, sym};
use crate::edn::{Form, Node};
use crate::query::ast::{Name, Rule};

impl Parser {
    pub(super) fn rules(&mut self, node: &Node) -> Vec<Rule> {
        let Form::Vector(defs) = &node.form else {
            self.error_with_help(
                "E0130",
                "a rule set must be a vector of rule definitions",
                node.span.clone(),
                found(node),
                "write [[(name ?a ?b) clause…] …]",
            );
            return Vec::new();
        };
        defs.iter().filter_map(|d| self.rule(d)).collect()
    }

    pub(super) fn rule(&mut self, node: &Node) -> Option<Rule> {
        let (head_node, head, body) = match &node.form {
            Form::Vector(items) => match items.first().map(|h| (h, &h.form)) {
                Some((h, Form::List(head))) => (h, head, &items[1..]),
                _ => {
                    self.bad_rule(node);
                    return None;
                }
            },
            _ => {
                self.bad_rule(node);
                return None;
            }
        };
        let name = match head.first().and_then(sym) {
            Some((name, Sym::Plain))
                if !matches!(name, "and" | "or" | "or-join" | "not" | "not-join") =>
            {
                Some(Name {
                    name: name.to_string(),
                    span: head[0].span.clone(),
                })
            }
            _ => {
                let (span, label) = match head.first() {
                    Some(h) => (h.span.clone(), found(h)),
                    None => (head_node.span.clone(), "empty head".to_string()),
                };
                self.error_with_help(
                    "E0132",
                    "the rule head has no name",
                    span,
                    label,
                    "a rule head is (name ?a ?b) or (name [?required] ?free)",
                );
                None
            }
        };
        let mut required = Vec::new();
        let mut free = Vec::new();
        let mut ok = true;
        for (i, arg) in head.iter().enumerate().skip(1) {
            match (&arg.form, as_var(arg)) {
                (_, Some(v)) => free.push(v),
                (Form::Vector(req), None) if i == 1 => {
                    for r in req {
                        match as_var(r) {
                            Some(v) => required.push(v),
                            None => {
                                self.error(
                                    "E0133",
                                    "rule head arguments must be ?variables",
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
                        "E0133",
                        "rule head arguments must be ?variables",
                        arg.span.clone(),
                        found(arg),
                        "required variables go in a vector right after the name: (name [?req] ?free)",
                    );
                    ok = false;
                }
            }
        }
        if body.is_empty() {
            self.error_with_help(
                "E0134",
                "the rule has no body clauses",
                node.span.clone(),
                "empty body",
                "write [(name ?a) [?a :attr ?v]]",
            );
            return None;
        }
        let before = self.diags.len();
        let body = self.clauses(&body.iter().collect::<Vec<_>>());
        if self.diags.len() != before || !ok {
            return None;
        }
        Some(Rule {
            name: name?,
            required,
            free,
            body,
            span: node.span.clone(),
        })
    }

    pub(super) fn bad_rule(&mut self, node: &Node) {
        self.error_with_help(
            "E0131",
            "a rule definition must be [(name args…) clause…]",
            node.span.clone(),
            found(node),
            "write [(name ?a ?b) [?a :attr ?b]]",
        );
    }
}
