//! Values and inputs of an EDN query: constants, pull patterns, sources and `:in` bindings.
//!
//! Constants become [`Value`]s (NaN and unknown tagged literals are refused with E0210–E0212,
//! maps only inside pull patterns); each `:in` binding becomes an input relation `inN` (N is
//! the input's position) joined into the query's body, and each source is checked against the
//! sources `:in` declares. Invariants: an `:in` variable is bound once (E0233 otherwise) and is
//! recorded with the input relation it lives in, so that a pull pattern given as an input can
//! name that relation.

use super::{Body, Lowerer, attr_of};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::Term;
use pomo_grammar::Diagnostic;
use pomo_grammar::edn::{Form, Node};
use pomo_grammar::query::{Binding, Input, PatTerm, SrcVar, Var};
use pomo_grammar::span::FileId;
use pomo_types::Value;
use pomo_types::ra::{BindKind, RelKind};

/// Converts a constant EDN form to a value.
pub fn const_value(n: &Node) -> Result<Value, Diagnostic> {
    Ok(match &n.form {
        Form::Nil => Value::Nil,
        Form::Bool(b) => Value::Bool(*b),
        Form::Int(i) => Value::Int(*i),
        Form::Float(f) => {
            if f.is_nan() {
                return Err(Diagnostic::error("E0210", "NaN is not a valid value")
                    .with_label(n.span.clone(), "here"));
            }
            Value::Float(*f)
        }
        Form::Str(s) => Value::Str(s.clone()),
        Form::Char(c) => Value::Str(c.to_string()),
        Form::Keyword(k) => Value::Keyword(k.clone()),
        Form::Symbol(s) => Value::Symbol(s.clone()),
        Form::Vector(xs) | Form::List(xs) => {
            Value::Tuple(xs.iter().map(const_value).collect::<Result<_, _>>()?)
        }
        Form::Set(xs) => {
            let mut vals: Vec<Value> = xs.iter().map(const_value).collect::<Result<_, _>>()?;
            vals.sort();
            vals.dedup();
            Value::Tuple(vals)
        }
        Form::Tagged(tag, inner) => match (tag.as_str(), &inner.form) {
            ("inst", Form::Str(s)) => match pomo_types::value::parse_instant(s) {
                Some(ms) => Value::Instant(ms),
                None => {
                    return Err(Diagnostic::error(
                        "E0211",
                        format!("invalid #inst timestamp {s:?}"),
                    )
                    .with_label(n.span.clone(), "expected an RFC 3339 timestamp")
                    .with_help("write it like #inst \"2024-05-01T12:00:00Z\""));
                }
            },
            ("uuid", Form::Str(s)) => match pomo_types::value::parse_uuid(s) {
                Some(u) => Value::Uuid(u),
                None => {
                    return Err(Diagnostic::error("E0211", format!("invalid #uuid {s:?}"))
                        .with_label(n.span.clone(), "expected 8-4-4-4-12 hex digits"));
                }
            },
            _ => {
                return Err(Diagnostic::error(
                    "E0212",
                    format!("unsupported tagged literal #{tag}"),
                )
                .with_label(n.span.clone(), "only #inst and #uuid are values")
                .with_help("use a string or a number instead"));
            }
        },
        Form::Map(_) => {
            return Err(
                Diagnostic::error("E0212", "a map is not a value pomo can match on")
                    .with_label(n.span.clone(), "map constant"),
            );
        }
    })
}

/// Converts a pull pattern form to a value: like [`const_value`], but maps are allowed and
/// symbols (`*`, `...`, `limit`) stay symbols.
pub fn pattern_value(n: &Node) -> Result<Value, Diagnostic> {
    match &n.form {
        Form::Map(es) => Ok(Value::Map(
            es.iter()
                .map(|(k, v)| Ok((pattern_value(k)?, pattern_value(v)?)))
                .collect::<Result<_, Diagnostic>>()?,
        )),
        Form::Vector(xs) | Form::List(xs) => Ok(Value::Tuple(
            xs.iter().map(pattern_value).collect::<Result<_, _>>()?,
        )),
        _ => const_value(n),
    }
}

impl Lowerer<'_> {
    /// Declares the query's sources, notes a rule-set input, and lowers every binding input
    /// into `body`.
    pub(super) fn lower_inputs(&mut self, body: &mut Body) {
        let q = self.q;
        for (i, input) in q.inputs.iter().enumerate() {
            match input {
                Input::Source(s) => {
                    if !self.sources.insert(s.name.clone()) {
                        self.err(
                            Diagnostic::error(
                                "E0201",
                                format!("source {} is given twice in :in", s.name),
                            )
                            .with_label(s.span.clone(), "duplicate source"),
                        );
                    }
                }
                Input::Rules(_) => self.has_rules_input = true,
                Input::Binding(b) => self.lower_input(i, b, body),
            }
        }
    }

    fn lower_input(&mut self, pos: usize, b: &Binding, body: &mut Body) {
        let (kind, elems): (BindKind, Vec<Option<&Var>>) = match b {
            Binding::Blank(_) => return,
            Binding::Var(v) => (BindKind::Scalar, vec![Some(v)]),
            Binding::Tuple(xs, _) => match self.flat(xs) {
                Some(e) => (BindKind::Tuple, e),
                None => return self.nested_binding(b),
            },
            Binding::Collection(inner, _) => match inner.as_ref() {
                Binding::Var(v) => (BindKind::Collection, vec![Some(v)]),
                Binding::Tuple(xs, _) => match self.flat(xs) {
                    Some(e) => (BindKind::Relation, e),
                    None => return self.nested_binding(b),
                },
                _ => return self.nested_binding(b),
            },
            Binding::Relation(xs, _) => match self.flat(xs) {
                Some(e) => (BindKind::Relation, e),
                None => return self.nested_binding(b),
            },
        };
        let name = crate::logic::ir::input_relation(pos);
        let mut args = Vec::new();
        let mut attrs = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            match e {
                Some(v) => {
                    if let Some(first) = self.input_vars.get(&v.name).cloned() {
                        self.err(
                            Diagnostic::error(
                                "E0233",
                                format!("variable {} is bound twice in :in", v.name),
                            )
                            .with_label(v.span.clone(), "bound again here")
                            .with_label(first, "first bound here")
                            .with_help("the variables of :in must be distinct"),
                        );
                    }
                    self.input_vars.insert(v.name.clone(), v.span.clone());
                    self.input_rel_of.insert(v.name.clone(), name.clone());
                    let mut a = attr_of(&v.name);
                    while attrs.contains(&a) {
                        a.push('_');
                    }
                    attrs.push(a.clone());
                    args.push((a, Term::Var(v.name.clone())));
                    body.bound.insert(v.name.clone());
                    body.seen.insert(v.name.clone());
                }
                None => attrs.push(format!("_{i}")),
            }
        }
        let id = self.builder.relation(
            &name,
            RelKind::Input(kind),
            attrs.iter().map(|s| s.as_str()),
        );
        body.push(ProgramBuilder::atom(id, args), (0, b.span()));
    }

    fn flat<'b>(&self, xs: &'b [Binding]) -> Option<Vec<Option<&'b Var>>> {
        xs.iter()
            .map(|x| match x {
                Binding::Var(v) => Some(Some(v)),
                Binding::Blank(_) => Some(None),
                _ => None,
            })
            .collect()
    }

    fn nested_binding(&mut self, b: &Binding) {
        self.err(
            Diagnostic::error("E0208", "nested binding forms are not supported")
                .with_label(b.span(), "binding")
                .with_help("use ?x, [?a ?b], [?x ...] or [[?a ?b]]"),
        );
    }

    pub(super) fn term_of_pattern(&mut self, t: &PatTerm, file: FileId) -> Option<Term> {
        Some(match t {
            PatTerm::Var(v) => Term::Var(v.name.clone()),
            PatTerm::Blank(_) => Term::Wild,
            PatTerm::Const(n) => match const_value(n) {
                Ok(v) => Term::Const(v),
                Err(d) => {
                    self.err(d.in_file(file));
                    return None;
                }
            },
        })
    }

    pub(super) fn check_source(
        &mut self,
        src: &Option<SrcVar>,
        default: &str,
        file: FileId,
    ) -> String {
        match src {
            Some(s) => {
                if !self.sources.contains(&s.name) {
                    self.err(
                        Diagnostic::error(
                            "E0209",
                            format!("source {} is not bound in :in", s.name),
                        )
                        .with_label_in(file, s.span.clone(), "unknown source")
                        .with_help(format!("add {} to :in", s.name)),
                    );
                }
                s.name.clone()
            }
            None => {
                if !self.sources.contains(default) && default == "$" {
                    // An implicit `$` when the query declares other inputs but no `$`.
                    self.sources.insert("$".into());
                }
                default.to_string()
            }
        }
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
    fn scalar_input_is_an_input_relation_joined_first() {
        check(
            "[:find ?e :in $ ?name :where [?e :name ?name]]",
            r#"
.input in1(name) scalar
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :- in1(name: ?name), datom(e: ?e, a: :name, v: ?name).
"#,
        );
    }

    #[test]
    fn tuple_input() {
        check(
            "[:find ?e :in $ [?a ?b] :where [?e :x ?a] [?e :y ?b]]",
            r#"
.input in1(a, b) tuple
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :- in1(a: ?a, b: ?b), datom(e: ?e, a: :x, v: ?a), datom(e: ?e, a: :y, v: ?b).
"#,
        );
    }

    #[test]
    fn collection_input() {
        check(
            "[:find ?e :in $ [?n ...] :where [?e :name ?n]]",
            r#"
.input in1(n) collection
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :- in1(n: ?n), datom(e: ?e, a: :name, v: ?n).
"#,
        );
    }

    #[test]
    fn relation_input_with_a_blank_column() {
        check(
            "[:find ?e :in $ [[?n _]] :where [?e :name ?n]]",
            r#"
.input in1(n, _1) relation
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :- in1(n: ?n), datom(e: ?e, a: :name, v: ?n).
"#,
        );
    }

    #[test]
    fn blank_input_binds_nothing() {
        check(
            "[:find ?e :in $ _ :where [?e :name \"x\"]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :- datom(e: ?e, a: :name, v: "x").
"#,
        );
    }

    #[test]
    fn named_source_reads_its_own_datom_view() {
        check(
            "[:find ?e :in $hr :where [$hr ?e :dept :ops]]",
            r#"
.decl datom$hr(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :- datom$hr(e: ?e, a: :dept, v: :ops).
"#,
        );
    }

    #[test]
    fn constants_inst_uuid_set_and_string() {
        check(
            "[:find ?e :where [?e :at #inst \"2024-05-01T12:00:00Z\"] [?e :id #uuid \"123e4567-e89b-12d3-a456-426614174000\"] [?e :tags #{:b :a}] [?e :name \"x\"]]",
            r#"
.decl datom(e, a, v, t, m, added)
.output find(e) relation

find(e: ?e) :-
    datom(e: ?e, a: :at, v: #inst "2024-05-01T12:00:00.000Z"),
    datom(e: ?e, a: :id, v: #uuid "123e4567-e89b-12d3-a456-426614174000"),
    datom(e: ?e, a: :tags, v: [:a, :b]),
    datom(e: ?e, a: :name, v: "x").
"#,
        );
    }

    #[test]
    fn error_source_given_twice() {
        check_error(
            "[:find ?e :in $ $ :where [?e :a 1]]",
            "E0201 source $ is given twice in :in",
        );
    }

    #[test]
    fn error_source_not_in_inputs() {
        check_error(
            "[:find ?e :where [$db ?e :a 1]]",
            "E0209 source $db is not bound in :in",
        );
    }

    #[test]
    fn error_bad_inst() {
        check_error(
            "[:find ?e :where [?e :at #inst \"yesterday\"]]",
            "E0211 invalid #inst timestamp \"yesterday\"",
        );
    }

    #[test]
    fn error_bad_uuid() {
        check_error(
            "[:find ?e :where [?e :id #uuid \"nope\"]]",
            "E0211 invalid #uuid \"nope\"",
        );
    }

    #[test]
    fn error_unknown_tag() {
        check_error(
            "[:find ?e :where [?e :at #foo \"x\"]]",
            "E0212 unsupported tagged literal #foo",
        );
    }

    #[test]
    fn error_map_constant() {
        check_error(
            "[:find ?e :where [?e :at {:a 1}]]",
            "E0212 a map is not a value pomo can match on",
        );
    }

    #[test]
    fn error_nested_input_binding() {
        check_error(
            "[:find ?a :in $ [[?a [?b]]] :where [?e :x ?a]]",
            "E0208 nested binding forms are not supported",
        );
    }

    #[test]
    fn error_variable_bound_twice_in_inputs() {
        check_error(
            "[:find ?a :in $ ?a [?a ...] :where [?e :x ?a]]",
            "E0233 variable ?a is bound twice in :in",
        );
    }
}
