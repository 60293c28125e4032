//! Reading `:find` (relation, collection, scalar and tuple forms; variables, aggregates and
//! `pull`) and the return map `:keys` / `:strs` / `:syms`, which must match the `:find`.
//!
//! A bad element is reported and the whole find spec is `None`; every element is still read so
//! that all bad ones are reported.

use super::{Parser, Section, Sym, as_src, as_var, cover, found, is_sym, plural, sym};
use crate::diag::Diagnostic;
use crate::edn::{Form, Node};
use crate::query::ast::{FindElem, FindSpec, FnArg, Name, ReturnKind, ReturnMap};

impl Parser {
    pub(super) fn find_spec(&mut self, sec: &Section) -> Option<FindSpec> {
        let items = &sec.items;
        let span = cover(items, &sec.keyword.span);
        if items.is_empty() {
            self.error_with_help(
                "E0104",
                ":find needs at least one element",
                sec.keyword.span.clone(),
                "nothing to find",
                "write :find ?x, :find ?x ., :find [?x ...] or :find [?x ?y]",
            );
            return None;
        }
        if items.len() == 2 && is_sym(items[1], ".") {
            return Some(FindSpec::Scalar(self.find_elem(items[0])?, span));
        }
        if items.len() == 1
            && let Form::Vector(inner) = &items[0].form
        {
            if inner.len() == 2 && is_sym(&inner[1], "...") {
                return Some(FindSpec::Collection(self.find_elem(&inner[0])?, span));
            }
            if inner.is_empty() {
                self.error(
                    "E0105",
                    "a tuple find needs at least one element",
                    items[0].span.clone(),
                    "empty tuple",
                );
                return None;
            }
            let elems = self.find_elems(&inner.iter().collect::<Vec<_>>());
            return Some(FindSpec::Tuple(elems?, span));
        }
        Some(FindSpec::Relation(self.find_elems(items)?, span))
    }

    /// Reads all elements (reporting every bad one); `None` if any was bad.
    pub(super) fn find_elems(&mut self, items: &[&Node]) -> Option<Vec<FindElem>> {
        let elems: Vec<Option<FindElem>> = items.iter().map(|n| self.find_elem(n)).collect();
        elems.into_iter().collect()
    }

    pub(super) fn find_elem(&mut self, node: &Node) -> Option<FindElem> {
        if let Some(v) = as_var(node) {
            return Some(FindElem::Var(v));
        }
        match &node.form {
            Form::Symbol(s) if s == "." || s == "..." => {
                let help = if s == "." {
                    "a scalar find is one element followed by `.`: :find ?x ."
                } else {
                    "a collection find is written :find [?x ...]"
                };
                self.error_with_help(
                    "E0105",
                    format!("misplaced `{s}` in :find"),
                    node.span.clone(),
                    "not allowed here",
                    help,
                );
                None
            }
            Form::List(items) if !items.is_empty() => {
                let head = &items[0];
                match sym(head) {
                    Some(("pull", _)) => self.pull(node, &items[1..]),
                    Some((name, Sym::Plain)) => {
                        let args: Vec<Option<FnArg>> =
                            items[1..].iter().map(|a| self.fn_arg(a)).collect();
                        let args = args.into_iter().collect::<Option<Vec<_>>>()?;
                        Some(FindElem::Agg {
                            func: Name {
                                name: name.to_string(),
                                span: head.span.clone(),
                            },
                            args,
                            span: node.span.clone(),
                        })
                    }
                    _ => {
                        self.error_with_help(
                            "E0107",
                            "an aggregate must start with its name",
                            head.span.clone(),
                            found(head),
                            "write (count ?x), (max 3 ?x) or (aggregate ?f ?x)",
                        );
                        None
                    }
                }
            }
            Form::Vector(_) => {
                self.error_with_help(
                    "E0106",
                    "a vector is only allowed as the whole :find",
                    node.span.clone(),
                    found(node),
                    "a collection find is :find [?x ...] and a tuple find is :find [?x ?y]",
                );
                None
            }
            _ => {
                self.error(
                    "E0106",
                    "a find element must be a variable, an aggregate (f ?x) or (pull ?e pattern)",
                    node.span.clone(),
                    found(node),
                );
                None
            }
        }
    }

    pub(super) fn pull(&mut self, node: &Node, args: &[Node]) -> Option<FindElem> {
        let (src, rest) = match args.first().and_then(as_src) {
            Some(s) => (Some(s), &args[1..]),
            None => (None, args),
        };
        let var = rest.first().and_then(as_var);
        match (var, rest.len()) {
            (Some(var), 2) => Some(FindElem::Pull {
                src,
                var,
                pattern: rest[1].clone(),
                span: node.span.clone(),
            }),
            _ => {
                self.error_with_help(
                    "E0107",
                    "malformed pull expression",
                    node.span.clone(),
                    "expected a variable and a pattern",
                    "write (pull ?e [*]) or (pull $src ?e pattern)",
                );
                None
            }
        }
    }

    pub(super) fn return_map(
        &mut self,
        kind: ReturnKind,
        sec: &Section,
        find: Option<&FindSpec>,
        find_sec: Option<&Section>,
    ) -> Option<ReturnMap> {
        let keyword = sec.keyword.as_keyword().unwrap_or("keys");
        let mut names = Vec::new();
        for n in &sec.items {
            match sym(n) {
                Some((s, Sym::Plain)) => names.push(Name {
                    name: s.to_string(),
                    span: n.span.clone(),
                }),
                _ => self.error_with_help(
                    "E0109",
                    format!("the names of :{keyword} must be plain symbols"),
                    n.span.clone(),
                    found(n),
                    format!("write :{keyword} name age"),
                ),
            }
        }
        let span = sec.keyword.span.start
            ..sec
                .items
                .last()
                .map_or(sec.keyword.span.end, |n| n.span.end);
        let (count, find_span) = match find {
            Some(FindSpec::Relation(elems, s) | FindSpec::Tuple(elems, s)) => {
                (elems.len(), s.clone())
            }
            Some(FindSpec::Scalar(_, s) | FindSpec::Collection(_, s)) => {
                self.diags.push(
                    Diagnostic::error(
                        "E0109",
                        format!(":{keyword} needs a relation or tuple :find"),
                    )
                    .with_label(span.clone(), "return map")
                    .with_label(s.clone(), "scalar or collection find"),
                );
                return None;
            }
            None => return None,
        };
        if sec.items.len() != count {
            let names_text = plural(sec.items.len(), "name");
            let elems_text = plural(count, "element");
            let mut d = Diagnostic::error(
                "E0108",
                format!(":{keyword} gives {names_text} but :find has {elems_text}"),
            )
            .with_label(span.clone(), names_text);
            if let Some(fs) = find_sec {
                d = d.with_label(cover(&fs.items, &find_span), elems_text);
            }
            self.diags.push(d);
            return None;
        }
        (names.len() == count).then_some(ReturnMap { kind, names, span })
    }
}
