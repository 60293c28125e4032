//! The Datomic query language read from EDN trees: `[:find … :in … :with … :keys … :where …]`
//! and the map form `{:find […] :in […] :where […]}`, plus rule sets `[[(name ?a [?b]) clause…]…]`.
//!
//! This is syntax only: it checks the shape of every clause (and reports malformed ones with
//! their spans) but not variable bindings, which the compiler checks.
//!
//! The parser walks the EDN tree by hand. Every function that meets a malformed piece pushes a
//! diagnostic and returns `None` (or skips the piece), and its caller carries on, so that one
//! call reports every shape error of a query rather than the first. Symbols keep their exact
//! spelling: variables keep their `?` and sources their `$`. Rules given inline with a `:rules`
//! key are not supported; rules come from `%` inputs (the CLI's `--rules FILE`).
//!
//! Codes: E0100–E0199 (see the table in [`crate::diag`]).

use crate::diag::Diagnostic;
use crate::edn::{Form, Node, parse_one};
use crate::span::Span;

/// A variable `?name` (the name keeps its `?`).
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    pub name: String,
    pub span: Span,
}

/// A source variable: `$` or `$name` (the name keeps its `$`).
#[derive(Clone, Debug, PartialEq)]
pub struct SrcVar {
    pub name: String,
    pub span: Span,
}

/// A symbol with its span (function, predicate, rule and aggregate names).
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub find: FindSpec,
    /// `:keys` / `:strs` / `:syms`, when given.
    pub return_map: Option<ReturnMap>,
    pub with: Vec<Var>,
    /// The `:in` bindings; when `:in` is absent this is `[$]` with the span of `:find`.
    pub inputs: Vec<Input>,
    pub where_: Vec<Clause>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FindSpec {
    /// `:find ?a ?b`
    Relation(Vec<FindElem>, Span),
    /// `:find [?a ...]`
    Collection(FindElem, Span),
    /// `:find ?a .`
    Scalar(FindElem, Span),
    /// `:find [?a ?b]`
    Tuple(Vec<FindElem>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum FindElem {
    Var(Var),
    /// `(sum ?x)`, `(max 3 ?x)`, `(count-distinct ?x)`, `(aggregate ?f ?x)`: the name and its
    /// arguments (variables or constants).
    Agg {
        func: Name,
        args: Vec<FnArg>,
        span: Span,
    },
    /// `(pull ?e [*])`, `(pull $ ?e ?pattern)`; the pattern is a pattern form or a variable.
    Pull {
        src: Option<SrcVar>,
        var: Var,
        pattern: Node,
        span: Span,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnKind {
    Keys,
    Strs,
    Syms,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReturnMap {
    pub kind: ReturnKind,
    /// The names as written (symbols; `emp/name` keeps its namespace).
    pub names: Vec<Name>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// `$`, `$name`
    Source(SrcVar),
    /// `%`
    Rules(Span),
    /// A binding form (scalar, tuple, collection, relation or `_`).
    Binding(Binding),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    /// `?x`
    Var(Var),
    /// `_`
    Blank(Span),
    /// `[?a ?b]`
    Tuple(Vec<Binding>, Span),
    /// `[?a ...]`
    Collection(Box<Binding>, Span),
    /// `[[?a ?b]]`
    Relation(Vec<Binding>, Span),
}

impl Binding {
    pub fn span(&self) -> Span {
        match self {
            Binding::Var(v) => v.span.clone(),
            Binding::Blank(s)
            | Binding::Tuple(_, s)
            | Binding::Collection(_, s)
            | Binding::Relation(_, s) => s.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatTerm {
    Var(Var),
    /// `_`
    Blank(Span),
    /// A constant: any EDN form that is not a symbol (keywords, numbers, strings, booleans, nil,
    /// tagged literals, and vectors such as lookup refs `[:person/email "a@b"]`).
    Const(Node),
}

#[derive(Clone, Debug, PartialEq)]
pub enum FnArg {
    Var(Var),
    /// A source argument such as `$` (for `get-else`, `missing?`, …).
    Src(SrcVar),
    Const(Node),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Callee {
    /// A function or predicate named by a symbol (`<`, `str`, `clojure.string/includes?`).
    Named(Name),
    /// A function passed as an input: `[(?f ?x) ?y]`.
    Var(Var),
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleArg {
    Var(Var),
    Blank(Span),
    Const(Node),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `[$src? e a v tx added]` with 1 to 5 terms.
    Pattern {
        src: Option<SrcVar>,
        terms: Vec<PatTerm>,
        span: Span,
    },
    /// `[(pred args…)]`
    Pred {
        callee: Callee,
        args: Vec<FnArg>,
        span: Span,
    },
    /// `[(f args…) binding]`
    Fn {
        callee: Callee,
        args: Vec<FnArg>,
        binding: Binding,
        span: Span,
    },
    /// `($src? rule-name args…)`
    RuleCall {
        src: Option<SrcVar>,
        name: Name,
        args: Vec<RuleArg>,
        span: Span,
    },
    /// `($src? not clause…)`
    Not {
        src: Option<SrcVar>,
        clauses: Vec<Clause>,
        span: Span,
    },
    /// `($src? not-join [?a …] clause…)`
    NotJoin {
        src: Option<SrcVar>,
        vars: Vec<Var>,
        clauses: Vec<Clause>,
        span: Span,
    },
    /// `($src? or branch…)`; each branch is one clause or the clauses of an `(and …)`.
    Or {
        src: Option<SrcVar>,
        branches: Vec<Vec<Clause>>,
        span: Span,
    },
    /// `($src? or-join [[?req …] ?free …] branch…)`
    OrJoin {
        src: Option<SrcVar>,
        required: Vec<Var>,
        free: Vec<Var>,
        branches: Vec<Vec<Clause>>,
        span: Span,
    },
}

impl Clause {
    pub fn span(&self) -> Span {
        match self {
            Clause::Pattern { span, .. }
            | Clause::Pred { span, .. }
            | Clause::Fn { span, .. }
            | Clause::RuleCall { span, .. }
            | Clause::Not { span, .. }
            | Clause::NotJoin { span, .. }
            | Clause::Or { span, .. }
            | Clause::OrJoin { span, .. } => span.clone(),
        }
    }
}

/// One rule definition `[(name ?a [?req] ?b) clause…]`. Several definitions with the same name
/// are the branches of one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: Name,
    /// Variables in the head's leading vector `[?req …]` (required bindings).
    pub required: Vec<Var>,
    /// The other head variables, in order.
    pub free: Vec<Var>,
    pub body: Vec<Clause>,
    pub span: Span,
}

/// Reads a query from its EDN tree: the vector form `[:find … :where …]` or the map form
/// `{:find […] :where […]}`. Reports every shape error of the query.
pub fn parse_query(node: &Node) -> Result<Query, Vec<Diagnostic>> {
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
pub fn parse_query_text(src: &str) -> Result<Query, Vec<Diagnostic>> {
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

    fn query(&mut self, node: &Node) -> Option<Query> {
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

        Some(Query {
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

    // ---- :find, :keys ----------------------------------------------------------------------

    fn find_spec(&mut self, sec: &Section) -> Option<FindSpec> {
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
    fn find_elems(&mut self, items: &[&Node]) -> Option<Vec<FindElem>> {
        let elems: Vec<Option<FindElem>> = items.iter().map(|n| self.find_elem(n)).collect();
        elems.into_iter().collect()
    }

    fn find_elem(&mut self, node: &Node) -> Option<FindElem> {
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

    fn pull(&mut self, node: &Node, args: &[Node]) -> Option<FindElem> {
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

    fn return_map(
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

    // ---- :in and bindings ------------------------------------------------------------------

    fn input(&mut self, node: &Node) -> Option<Input> {
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

    fn bad_input(&mut self, node: &Node) -> Option<Input> {
        self.error_with_help(
            "E0111",
            "invalid :in element",
            node.span.clone(),
            found(node),
            format!("an input is a source ($ or $name), rules (%), or a binding: {BINDING_SHAPES}"),
        );
        None
    }

    fn binding(&mut self, node: &Node) -> Option<Binding> {
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

    fn bindings(&mut self, items: &[Node]) -> Option<Vec<Binding>> {
        let bs: Vec<Option<Binding>> = items.iter().map(|n| self.binding(n)).collect();
        bs.into_iter().collect()
    }

    // ---- clauses ---------------------------------------------------------------------------

    /// Reads every clause, skipping (after reporting) the malformed ones.
    fn clauses(&mut self, nodes: &[&Node]) -> Vec<Clause> {
        nodes.iter().filter_map(|n| self.clause(n)).collect()
    }

    fn malformed_clause(&mut self, node: &Node) -> Option<Clause> {
        self.error_with_help(
            "E0114",
            format!("malformed clause: expected {CLAUSE_SHAPES}"),
            node.span.clone(),
            found(node),
            "see the :where grammar of Datomic queries",
        );
        None
    }

    fn clause(&mut self, node: &Node) -> Option<Clause> {
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

    fn fn_clause(
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

    fn fn_arg(&mut self, node: &Node) -> Option<FnArg> {
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

    fn pattern(&mut self, node: &Node, items: &[Node]) -> Option<Clause> {
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

    fn list_clause(&mut self, node: &Node, items: &[Node]) -> Option<Clause> {
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

    fn and_outside_or(&mut self, node: &Node) {
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
    fn sub_clauses(&mut self, node: &Node, what: &str, args: &[Node]) -> Option<Vec<Clause>> {
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
    fn join_vars(
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
    fn branches(&mut self, node: &Node, what: &str, args: &[Node]) -> Option<Vec<Vec<Clause>>> {
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

    fn rule_arg(&mut self, node: &Node) -> Option<RuleArg> {
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

    // ---- rules -----------------------------------------------------------------------------

    fn rules(&mut self, node: &Node) -> Vec<Rule> {
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

    fn rule(&mut self, node: &Node) -> Option<Rule> {
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

    fn bad_rule(&mut self, node: &Node) {
        self.error_with_help(
            "E0131",
            "a rule definition must be [(name args…) clause…]",
            node.span.clone(),
            found(node),
            "write [(name ?a ?b) [?a :attr ?b]]",
        );
    }
}

mod print;

#[cfg(test)]
mod tests;
