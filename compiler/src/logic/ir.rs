//! The PomoLogic IR (ARCHITECTURE §4): relations, and rules whose bodies are literals over atoms.
//!
//! The IR is flat and id-keyed (ARCHITECTURE, convention 6): relations live in one vector indexed by [`RelId`],
//! rules in another indexed by their position. Source spans are kept in a side table
//! ([`Spans`]) so that two programs that differ only in layout compare equal. Variables are
//! named `?x`; a wildcard `_` is [`Term::Wild`].

use pomo_grammar::span::{FileId, Span};
use pomo_types::Value;
use pomo_types::ra::{BindKind, CmpOp, OutputSpec, RelKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelId(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    pub name: String,
    pub attrs: Vec<String>,
    pub kind: RelKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    Var(String),
    Const(Value),
    Wild,
}

impl Term {
    pub fn var(&self) -> Option<&str> {
        match self {
            Term::Var(v) => Some(v),
            _ => None,
        }
    }
}

/// `rel(attr: term, …)`; attributes not mentioned are unconstrained.
#[derive(Clone, Debug, PartialEq)]
pub struct Atom {
    pub rel: RelId,
    pub args: Vec<(String, Term)>,
}

impl Atom {
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.args.iter().filter_map(|(_, t)| t.var())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Callee {
    /// A stdlib built-in by canonical name.
    Builtin(String),
    /// A host function bound to a variable (`[(?f ?x) ?y]`).
    Var(String),
}

/// What a function application binds.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    Scalar(Term),
    Tuple(Vec<Term>),
    Coll(Term),
    Rel(Vec<Term>),
}

impl Bind {
    pub fn terms(&self) -> Vec<&Term> {
        match self {
            Bind::Scalar(t) | Bind::Coll(t) => vec![t],
            Bind::Tuple(ts) | Bind::Rel(ts) => ts.iter().collect(),
        }
    }
    pub fn vars(&self) -> Vec<&str> {
        self.terms().into_iter().filter_map(|t| t.var()).collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A positive atom, optionally binding the matched fact's CID.
    Pos { cid: Option<String>, atom: Atom },
    /// `!atom`
    Neg(Atom),
    /// `lhs op rhs`
    Cmp { op: CmpOp, lhs: Term, rhs: Term },
    /// A predicate call `f(args)`, or its negation `!f(args)`.
    Test {
        func: Callee,
        args: Vec<Term>,
        negated: bool,
    },
    /// A function application `bind := f(args)`.
    Apply {
        bind: Bind,
        func: Callee,
        args: Vec<Term>,
    },
    /// `out := f(args) : atom`, grouped by the atom's variables that occur elsewhere in the rule.
    Agg {
        out: String,
        func: Callee,
        args: Vec<Term>,
        atom: Atom,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub head: Atom,
    /// An inductive rule (`@next`).
    pub next: bool,
    pub body: Vec<Literal>,
}

/// Source locations of rules and literals, by rule index and literal index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spans {
    pub rules: Vec<Option<(FileId, Span)>>,
    pub literals: Vec<Vec<Option<(FileId, Span)>>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    pub relations: Vec<Relation>,
    pub rules: Vec<Rule>,
    pub spans: Spans,
}

impl Program {
    pub fn rel(&self, id: RelId) -> &Relation {
        &self.relations[id.0 as usize]
    }

    pub fn rel_mut(&mut self, id: RelId) -> &mut Relation {
        &mut self.relations[id.0 as usize]
    }

    pub fn find(&self, name: &str) -> Option<RelId> {
        self.relations
            .iter()
            .position(|r| r.name == name)
            .map(|i| RelId(i as u32))
    }

    /// Finds or declares a relation.
    pub fn intern(&mut self, name: &str, kind: RelKind) -> RelId {
        if let Some(id) = self.find(name) {
            return id;
        }
        self.relations.push(Relation {
            name: name.to_string(),
            attrs: Vec::new(),
            kind,
        });
        RelId((self.relations.len() - 1) as u32)
    }

    /// Adds attributes a use of the relation mentions, keeping first-seen order.
    pub fn note_attrs<'a>(&mut self, id: RelId, attrs: impl IntoIterator<Item = &'a str>) {
        let rel = self.rel_mut(id);
        for a in attrs {
            if !rel.attrs.iter().any(|x| x == a) {
                rel.attrs.push(a.to_string());
            }
        }
    }

    pub fn add_rule(
        &mut self,
        rule: Rule,
        span: Option<(FileId, Span)>,
        lit_spans: Vec<Option<(FileId, Span)>>,
    ) {
        self.rules.push(rule);
        self.spans.rules.push(span);
        self.spans.literals.push(lit_spans);
    }

    pub fn rule_span(&self, rule: usize) -> Option<(FileId, Span)> {
        self.spans.rules.get(rule).cloned().flatten()
    }

    pub fn literal_span(&self, rule: usize, lit: usize) -> Option<(FileId, Span)> {
        self.spans
            .literals
            .get(rule)
            .and_then(|l| l.get(lit))
            .cloned()
            .flatten()
            .or_else(|| self.rule_span(rule))
    }

    /// Whether a relation is defined by rules (as opposed to a base relation or input).
    pub fn is_derived(&self, id: RelId) -> bool {
        matches!(self.rel(id).kind, RelKind::Derived | RelKind::Output(_))
    }

    pub fn output(&self) -> Option<(RelId, &OutputSpec)> {
        self.relations
            .iter()
            .enumerate()
            .find_map(|(i, r)| match &r.kind {
                RelKind::Output(s) => Some((RelId(i as u32), s)),
                _ => None,
            })
    }

    pub fn inputs(&self) -> Vec<(RelId, BindKind)> {
        self.relations
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r.kind {
                RelKind::Input(k) => Some((RelId(i as u32), k)),
                _ => None,
            })
            .collect()
    }
}

/// The attributes of the store's datom view, in Datomic pattern order after `t`
/// (`[e a v m added]` positions map to `e a v m added`; `t` is the store-local number).
pub const DATOM_ATTRS: &[&str] = &["e", "a", "v", "t", "m", "added"];

/// The attributes a Datomic data pattern's positions bind, in order.
pub const PATTERN_ATTRS: &[&str] = &["e", "a", "v", "m", "added"];

/// The store's causal graph as a relation: `cause(fact, cause)` (`cause$name` over `$name`).
pub const CAUSE_RELATION: &str = "cause";
/// Its attributes.
pub const CAUSE_ATTRS: &[&str] = &["fact", "cause"];

/// The relation name of a source: `datom` for `$`, `datom$name` for `$name`.
pub fn source_relation(src: &str) -> String {
    if src == "$" {
        "datom".to_string()
    } else {
        format!("datom{src}")
    }
}

/// The kind a relation declared or used in PomoLogic or PomoRA text gets from its name: a store
/// view for `datom`, `fact` (both over `$`) and `datom$name` (over `$name`), the inverse of
/// [`source_relation`]; a base relation otherwise. Only the text parsers call this: past them a
/// view is known by its kind, never by its spelling.
pub fn base_kind(name: &str) -> RelKind {
    if name == "datom" || name == "fact" {
        RelKind::view("$")
    } else if name == CAUSE_RELATION {
        RelKind::Causes { source: "$".into() }
    } else if let Some(src) = name
        .strip_prefix(CAUSE_RELATION)
        .filter(|s| s.starts_with('$'))
    {
        RelKind::Causes { source: src.into() }
    } else {
        match name.strip_prefix("datom") {
            Some(src) if src.starts_with('$') => RelKind::view(src),
            _ => RelKind::Base,
        }
    }
}

/// The relation name of a query's input at position `pos` (`in1` for the first `:in` element
/// after the sources and rules, …): the one place that spelling lives.
pub fn input_relation(pos: usize) -> String {
    format!("in{pos}")
}
