//! The query reader: walks an EDN tree by hand and builds the [`super::ast`] types.
//!
//! Every function that meets a malformed piece pushes a diagnostic and returns `None` (or skips
//! the piece), and its caller carries on, so that one call reports every shape error of a query
//! rather than the first; the entry points return `Ok` only when no diagnostic was pushed. This
//! file holds the entry points, the symbol helpers shared by all parts, the [`Parser`] with its
//! error helpers, and the split of a query into its `:keyword` sections. The sections are read
//! by the children: `find.rs` (`:find`, `:keys`), `inputs.rs` (`:in` and binding forms),
//! `clauses.rs` (`:where` clauses) and `rules.rs` (rule sets).

use super::ast::{EdnQuery, Input, ReturnKind, Rule, SrcVar, Var};
use crate::diag::Diagnostic;
use crate::edn::{Form, Node, parse_one};
use crate::span::Span;

mod clauses;
mod find;
mod inputs;
mod rules;

/// Reads a query from its EDN tree: the vector form `[:find … :where …]` or the map form
/// `{:find […] :where […]}`. Reports every shape error of the query.
pub fn parse_query(node: &Node) -> Result<EdnQuery, Vec<Diagnostic>> {
    let mut p = Parser::default();
    let query = p.query(node);
    match query {
        Some(q) if p.diags.is_empty() => Ok(q),
        _ => Err(p.diags),
    }
}

/// Reads a rule set `[[(name ?a [?b]) clause…] …]` from its EDN tree.
pub fn parse_rules(node: &Node) -> Result<Vec<Rule>, Vec<Diagnostic>> {
    let mut p = Parser::default();
    let rules = p.rules(node);
    if p.diags.is_empty() {
        Ok(rules)
    } else {
        Err(p.diags)
    }
}

/// Reads a query from text (exactly one EDN form).
pub fn parse_query_text(src: &str) -> Result<EdnQuery, Vec<Diagnostic>> {
    parse_query(&parse_one(src)?)
}

/// Reads a rule set from text (exactly one EDN form).
pub fn parse_rules_text(src: &str) -> Result<Vec<Rule>, Vec<Diagnostic>> {
    parse_rules(&parse_one(src)?)
}

const CLAUSE_SHAPES: &str = "a data pattern [?e :attr ?v], a predicate [(pred ?x)], a function [(f ?x) ?y], \
     a rule call (rule ?x), or (not …), (not-join […] …), (or …), (or-join […] …)";

const BINDING_SHAPES: &str =
    "?x, _, a tuple [?a ?b], a collection [?a ...] or a relation [[?a ?b]]";

/// What a symbol means in a query, decided by its spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sym {
    /// `?x` (a lone `?` is not a variable).
    Var,
    /// `$` or `$name`.
    Src,
    /// `_`
    Blank,
    /// `%`
    Rules,
    /// Any other symbol.
    Plain,
}

fn classify(name: &str) -> Sym {
    if name.len() > 1 && name.starts_with('?') {
        Sym::Var
    } else if name.starts_with('$') {
        Sym::Src
    } else if name == "_" {
        Sym::Blank
    } else if name == "%" {
        Sym::Rules
    } else {
        Sym::Plain
    }
}

/// The symbol of a node with its class, if the node is a symbol.
fn sym(node: &Node) -> Option<(&str, Sym)> {
    node.as_symbol().map(|s| (s, classify(s)))
}

fn is_sym(node: &Node, name: &str) -> bool {
    node.as_symbol() == Some(name)
}

fn as_var(node: &Node) -> Option<Var> {
    match sym(node) {
        Some((name, Sym::Var)) => Some(Var {
            name: name.to_string(),
            span: node.span.clone(),
        }),
        _ => None,
    }
}

fn as_src(node: &Node) -> Option<SrcVar> {
    match sym(node) {
        Some((name, Sym::Src)) => Some(SrcVar {
            name: name.to_string(),
            span: node.span.clone(),
        }),
        _ => None,
    }
}

/// Describes a form for "found …" labels: symbols and keywords by name, others by kind.
fn found(node: &Node) -> String {
    match &node.form {
        Form::Symbol(s) => format!("found the symbol `{s}`"),
        Form::Keyword(k) => format!("found the keyword `:{k}`"),
        other => format!("found {}", other.kind_name()),
    }
}

/// The span from the first to the last node, or `fallback` when there are none.
fn cover(nodes: &[&Node], fallback: &Span) -> Span {
    match (nodes.first(), nodes.last()) {
        (Some(a), Some(b)) => a.span.start..b.span.end,
        _ => fallback.clone(),
    }
}

/// `1 name`, `2 names`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// One `:keyword items…` section of a query.
struct Section<'a> {
    keyword: &'a Node,
    items: Vec<&'a Node>,
}

#[derive(Default)]
struct Parser {
    diags: Vec<Diagnostic>,
}

impl Parser {
    fn error(
        &mut self,
        code: &str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::error(code, message).with_label(span, label));
    }

    fn error_with_help(
        &mut self,
        code: &str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diags.push(
            Diagnostic::error(code, message)
                .with_label(span, label)
                .with_help(help),
        );
    }

    // ---- query structure -------------------------------------------------------------------

    fn query(&mut self, node: &Node) -> Option<EdnQuery> {
        let sections = match &node.form {
            Form::Vector(items) => self.vector_sections(items),
            Form::Map(entries) => self.map_sections(entries),
            _ => {
                self.error_with_help(
                    "E0100",
                    "a query must be a vector or a map",
                    node.span.clone(),
                    found(node),
                    "write [:find ?x :where …] or {:find [?x] :where […]}",
                );
                return None;
            }
        };

        let mut find_sec = None;
        let mut in_sec = None;
        let mut with_sec = None;
        let mut ret_sec: Option<(ReturnKind, Section)> = None;
        let mut where_sec = None;
        for sec in sections {
            let name = sec.keyword.as_keyword().unwrap_or("");
            let slot = match name {
                "find" => &mut find_sec,
                "in" => &mut in_sec,
                "with" => &mut with_sec,
                "where" => &mut where_sec,
                "keys" | "strs" | "syms" => {
                    let kind = match name {
                        "keys" => ReturnKind::Keys,
                        "strs" => ReturnKind::Strs,
                        _ => ReturnKind::Syms,
                    };
                    if let Some((_, first)) = &ret_sec {
                        let first_span = first.keyword.span.clone();
                        self.diags.push(
                            Diagnostic::error(
                                "E0109",
                                "a query may have only one of :keys, :strs and :syms",
                            )
                            .with_label(sec.keyword.span.clone(), "second return map")
                            .with_label(first_span, "first return map"),
                        );
                    } else {
                        ret_sec = Some((kind, sec));
                    }
                    continue;
                }
                _ => {
                    self.error_with_help(
                        "E0102",
                        format!("unknown query keyword `:{name}`"),
                        sec.keyword.span.clone(),
                        "unknown keyword",
                        "the query keywords are :find, :in, :with, :keys, :strs, :syms and :where",
                    );
                    continue;
                }
            };
            if let Some(first) = slot {
                let first: &Section = first;
                self.diags.push(
                    Diagnostic::error("E0103", format!("`:{name}` is given twice"))
                        .with_label(sec.keyword.span.clone(), "second occurrence")
                        .with_label(first.keyword.span.clone(), "first occurrence"),
                );
            } else {
                *slot = Some(sec);
            }
        }

        let find = match &find_sec {
            None => {
                self.error_with_help(
                    "E0104",
                    "the query has no :find",
                    node.span.clone(),
                    "in this query",
                    "start the query with :find and the variables to return",
                );
                None
            }
            Some(sec) => self.find_spec(sec),
        };

        let return_map = ret_sec
            .and_then(|(kind, sec)| self.return_map(kind, &sec, find.as_ref(), find_sec.as_ref()));

        let with = with_sec
            .map(|sec| {
                sec.items
                    .iter()
                    .filter_map(|n| {
                        let v = as_var(n);
                        if v.is_none() {
                            self.error(
                                "E0110",
                                ":with takes variables only",
                                n.span.clone(),
                                found(n),
                            );
                        }
                        v
                    })
                    .collect()
            })
            .unwrap_or_default();

        let inputs = match &in_sec {
            Some(sec) => sec.items.iter().filter_map(|n| self.input(n)).collect(),
            None => {
                // A query without :in reads the default source; `$` gets the span of :find so
                // that errors about it point somewhere meaningful.
                let span = find_sec
                    .as_ref()
                    .map_or(node.span.clone(), |s| s.keyword.span.clone());
                vec![Input::Source(SrcVar {
                    name: "$".to_string(),
                    span,
                })]
            }
        };

        let where_ = where_sec
            .map(|sec| self.clauses(&sec.items))
            .unwrap_or_default();

        Some(EdnQuery {
            find: find?,
            return_map,
            with,
            inputs,
            where_,
            span: node.span.clone(),
        })
    }

    /// Splits the vector form into sections at its keywords.
    fn vector_sections<'a>(&mut self, items: &'a [Node]) -> Vec<Section<'a>> {
        let mut sections: Vec<Section<'a>> = Vec::new();
        for item in items {
            if item.as_keyword().is_some() {
                sections.push(Section {
                    keyword: item,
                    items: Vec::new(),
                });
            } else if let Some(sec) = sections.last_mut() {
                sec.items.push(item);
            } else {
                self.error_with_help(
                    "E0101",
                    "a query vector must start with a keyword such as :find",
                    item.span.clone(),
                    found(item),
                    "write [:find ?x :where …]",
                );
            }
        }
        sections
    }

    /// Reads the sections of the map form; every value must be a vector.
    fn map_sections<'a>(&mut self, entries: &'a [(Node, Node)]) -> Vec<Section<'a>> {
        let mut sections = Vec::new();
        for (key, value) in entries {
            if key.as_keyword().is_none() {
                self.error(
                    "E0124",
                    "the keys of a query map must be keywords",
                    key.span.clone(),
                    found(key),
                );
                continue;
            }
            match &value.form {
                Form::Vector(items) => sections.push(Section {
                    keyword: key,
                    items: items.iter().collect(),
                }),
                _ => self.error_with_help(
                    "E0124",
                    format!("the value of `{key}` in a query map must be a vector"),
                    value.span.clone(),
                    found(value),
                    format!("write {key} [ … ]"),
                ),
            }
        }
        sections
    }
}
