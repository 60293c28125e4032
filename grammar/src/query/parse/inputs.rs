//! Reading the `:in` section: sources (`$`, `$name`), rules (`%`), and the binding forms
//! (scalar, `_`, tuple, collection, relation), which function clauses share.
//!
//! A binding is `None` when any part of it is bad; every part is still read and reported.

use super::{BINDING_SHAPES, Parser, Sym, found, is_sym, sym};
use crate::edn::{Form, Node};
use crate::query::ast::{Binding, Input, SrcVar, Var};

impl Parser {
    pub(super) fn input(&mut self, node: &Node) -> Option<Input> {
        match (&node.form, sym(node)) {
            (_, Some((s, Sym::Src))) => Some(Input::Source(SrcVar {
                name: s.to_string(),
                span: node.span.clone(),
            })),
            (_, Some((_, Sym::Rules))) => Some(Input::Rules(node.span.clone())),
            (_, Some((_, Sym::Var | Sym::Blank))) | (Form::Vector(_), _) => {
                self.binding(node).map(Input::Binding)
            }
            _ => self.bad_input(node),
        }
    }

    pub(super) fn bad_input(&mut self, node: &Node) -> Option<Input> {
        self.error_with_help(
            "E0111",
            "invalid :in element",
            node.span.clone(),
            found(node),
            format!("an input is a source ($ or $name), rules (%), or a binding: {BINDING_SHAPES}"),
        );
        None
    }

    pub(super) fn binding(&mut self, node: &Node) -> Option<Binding> {
        match (&node.form, sym(node)) {
            (_, Some((name, Sym::Var))) => Some(Binding::Var(Var {
                name: name.to_string(),
                span: node.span.clone(),
            })),
            (_, Some((_, Sym::Blank))) => Some(Binding::Blank(node.span.clone())),
            (Form::Vector(items), _) => {
                if items.is_empty() {
                    self.error_with_help(
                        "E0112",
                        "empty binding vector",
                        node.span.clone(),
                        "nothing to bind",
                        format!("a binding is {BINDING_SHAPES}"),
                    );
                    return None;
                }
                if items.len() == 1
                    && let Form::Vector(inner) = &items[0].form
                {
                    if inner.is_empty() {
                        self.error(
                            "E0112",
                            "empty relation binding",
                            items[0].span.clone(),
                            "nothing to bind",
                        );
                        return None;
                    }
                    let bs = self.bindings(inner)?;
                    return Some(Binding::Relation(bs, node.span.clone()));
                }
                if items.len() == 2 && is_sym(&items[1], "...") {
                    let b = self.binding(&items[0])?;
                    return Some(Binding::Collection(Box::new(b), node.span.clone()));
                }
                Some(Binding::Tuple(self.bindings(items)?, node.span.clone()))
            }
            _ => {
                self.error_with_help(
                    "E0112",
                    "invalid binding form",
                    node.span.clone(),
                    found(node),
                    format!("a binding is {BINDING_SHAPES}"),
                );
                None
            }
        }
    }

    pub(super) fn bindings(&mut self, items: &[Node]) -> Option<Vec<Binding>> {
        let bs: Vec<Option<Binding>> = items.iter().map(|n| self.binding(n)).collect();
        bs.into_iter().collect()
    }
}
