//! View loading, shared by every backend: the tuples of a plan's base relations, store views
//! and inputs out of an [`Env`](super::Env). A store view (`RelKind::View`, whatever its name)
//! reads the datoms of the database bound to its source, a collection bound in place of a
//! database fills `e a v m added` by position, an input relation reads the value bound to its
//! name, and a base relation `R(a1, …)` of a PomoLogic program reads the store's entities that
//! have the attributes `:R/a1 …` (`id` is the entity id unless the store has an attribute
//! `:R/id`). Nothing here looks at how a relation is spelled.
//! A store view filtered on constant `e`, `a` or `v` is read through the matching index
//! ([`Context::view_scan`]); whatever it reads, it gives the same tuples as a full scan filtered
//! by the same formula, and schema and transaction-metadata datoms are never part of a view.

use super::env::{Context, Relation, Source, err};
use super::scalar::elements;
use crate::store::{Datom, Db, TX0};
use pomo_stdlib::EvalError;
use pomo_types::Value;
use pomo_types::ra::{Attr, BindKind, FLit, Formula, RelDecl, RelKind};
use std::collections::BTreeSet;

/// The control attribute a plan adds to a relation whose rows' CIDs a rule binds.
const CID: &str = "$cid";

impl Context<'_> {
    /// What the source name (`$`, `$name`) is bound to.
    pub(crate) fn source(&self, name: &str) -> Result<&Source, EvalError> {
        self.env
            .sources
            .get(name)
            .ok_or_else(|| err(format!("no database or collection is bound to {name}")))
    }

    /// The database bound to the source name; a collection bound there is an error.
    pub(crate) fn db(&self, name: &str) -> Result<&Db, EvalError> {
        match self.source(name)? {
            Source::Db(db) => Ok(db),
            Source::Coll(_) => Err(err(format!("{name} is a collection, not a database"))),
        }
    }

    /// The tuples of a relation the plan reads from outside: an input from its bound value (a
    /// lookup ref on a unique attribute of `$` resolved to its entity), a store view from its
    /// source, a base relation from the entities of `$` with its attributes.
    pub(crate) fn load_base(&self, decl: &RelDecl) -> Result<Relation, EvalError> {
        if let RelKind::Input(kind) = decl.kind {
            let v = self
                .env
                .inputs
                .get(&decl.name)
                .ok_or_else(|| err(format!("no value is bound to input {}", decl.name)))?;
            let mut r = input_relation(decl, kind, v)?;
            // An input that is a lookup ref on a unique attribute of `$` stands for its entity
            // wherever it meets an entity position; resolve it once here.
            if let Ok(db) = self.db("$") {
                let resolve = |x: &Value| match x {
                    Value::Tuple(p) if p.len() == 2 => match &p[0] {
                        Value::Keyword(a) if db.unique(a).is_some() => db
                            .resolve_lookup_ref(a, &p[1])
                            .map(Value::Int)
                            .unwrap_or_else(|| x.clone()),
                        _ => x.clone(),
                    },
                    _ => x.clone(),
                };
                r.tuples = r
                    .tuples
                    .iter()
                    .map(|t| t.iter().map(resolve).collect())
                    .collect();
            }
            return Ok(r);
        }
        if let RelKind::Causes { source } = &decl.kind {
            let db = self.db(source)?;
            let mut r = Relation::new(decl.attrs.clone());
            let edges = db
                .try_causes()
                .map_err(|e| err(format!("reading the causal graph of {source}: {e}")))?;
            for (fact, cause) in edges {
                let t = decl
                    .attrs
                    .iter()
                    .map(|a| match a.as_str() {
                        "fact" => Value::Cid(fact.clone()),
                        "cause" => Value::Cid(cause.clone()),
                        _ => Value::Nil,
                    })
                    .collect();
                r.tuples.insert(t);
            }
            return Ok(r);
        }
        if let Some(src) = decl.kind.view_source() {
            return match self.source(src)? {
                // Schema and transaction-metadata datoms are not data a query ranges over when
                // its attribute position is open (DataScript has neither).
                Source::Db(db) => Ok(datom_relation(
                    db,
                    &decl.attrs,
                    db.datoms()
                        .into_iter()
                        .filter(|d| !crate::store::is_system_attr(&d.a))
                        .collect(),
                )),
                Source::Coll(rows) => {
                    let mut r = Relation::new(decl.attrs.clone());
                    for row in rows {
                        // Positions e a v m added, as in a data pattern.
                        // Positions a tuple does not have read as nil; a pattern longer
                        // than the tuples then binds nothing useful (DataScript rejects it).
                        let at = |i: usize| row.get(i).cloned().unwrap_or(Value::Nil);
                        let t: Vec<Value> = decl
                            .attrs
                            .iter()
                            .map(|a| match a.as_str() {
                                "e" => at(0),
                                "a" => at(1),
                                "v" => at(2),
                                "m" => at(3),
                                "added" => row.get(4).cloned().unwrap_or(Value::Bool(true)),
                                "t" => match at(3) {
                                    Value::Int(x) => Value::Int(x - TX0),
                                    o => o,
                                },
                                _ => Value::Nil,
                            })
                            .collect();
                        r.tuples.insert(t);
                    }
                    Ok(r)
                }
            };
        }
        // A PomoLogic base relation over the store: entities with the attributes `:R/a`.
        let db = self.db("$")?;
        let mut r = Relation::new(decl.attrs.clone());
        // `id` is the entity id, unless the store has an attribute `:R/id` of its own.
        let id_attr = format!("{}/id", decl.name);
        let id_is_entity = db.datoms_eavt(None, Some(&id_attr), None).is_empty();
        let cols: Vec<&Attr> = decl
            .attrs
            .iter()
            .filter(|a| (*a != "id" || !id_is_entity) && *a != CID)
            .collect();
        let Some(first) = cols.first() else {
            return Ok(r);
        };
        let first_attr = format!("{}/{}", decl.name, first);
        let entities: BTreeSet<i64> = db
            .datoms_eavt(None, Some(&first_attr), None)
            .iter()
            .map(|d| d.e)
            .collect();
        // A row's CID (`C := r(…)`) names the facts behind its columns: the CID of the
        // DAG-CBOR list of their CIDs, in column order.
        let with_cid = decl.attrs.iter().any(|a| a == CID);
        for e in entities {
            // Each partial row with the CIDs of the facts behind it.
            let mut rows: Vec<(Vec<Value>, Vec<String>)> = vec![(Vec::new(), Vec::new())];
            for a in &decl.attrs {
                let vals: Vec<(Value, Option<String>)> = if a == CID {
                    vec![(Value::Nil, None)]
                } else if a == "id" && id_is_entity {
                    vec![(Value::Int(e), None)]
                } else {
                    db.datoms_eavt(Some(e), Some(&format!("{}/{}", decl.name, a)), None)
                        .into_iter()
                        .map(|d| {
                            let cid = if with_cid { db.fact_cid(&d) } else { None };
                            (d.v, cid)
                        })
                        .collect()
                };
                let mut next = Vec::new();
                for (row, cids) in &rows {
                    for (v, c) in &vals {
                        let mut x = row.clone();
                        x.push(v.clone());
                        let mut cs = cids.clone();
                        cs.extend(c.clone());
                        next.push((x, cs));
                    }
                }
                rows = next;
            }
            for (mut row, cids) in rows {
                if let Some(i) = decl.attrs.iter().position(|a| a == CID) {
                    row[i] = crate::store::list_cid(&cids)
                        .map(Value::Cid)
                        .map_err(|e| err(format!("the CID of a row of {}: {e}", decl.name)))?;
                }
                r.tuples.insert(row);
            }
        }
        Ok(r)
    }

    /// `select[formula](view)` read through the store's index that the formula's constant
    /// `e`, `a` and `v` pick (the rest of the formula tested on what it reads); `None` when the
    /// relation is not a store view over a database or the formula names no such constant.
    pub(crate) fn view_scan(
        &self,
        decl: &RelDecl,
        formula: &Formula,
    ) -> Result<Option<Relation>, EvalError> {
        let Some(src) = decl.kind.view_source() else {
            return Ok(None);
        };
        let Some(conj) = formula.as_conjunction() else {
            return Ok(None);
        };
        let Ok(Source::Db(db)) = self.source(src).cloned() else {
            return Ok(None);
        };
        let mut e = None;
        let mut a = None;
        let mut v = None;
        // The first constant of each position picks the index; every other literal (a second
        // constant of a position included) is tested on what the index gives.
        let mut used = vec![false; conj.len()];
        for (i, l) in conj.iter().enumerate() {
            let Some((x, c)) = l.as_eq_const() else {
                continue;
            };
            used[i] = match (x.as_str(), c) {
                ("e", Value::Int(n)) if e.is_none() => {
                    e = Some(*n);
                    true
                }
                ("e", lr @ Value::Tuple(_)) if e.is_none() => {
                    e = Some(resolve_lookup_ref(&db, lr)?);
                    true
                }
                ("a", Value::Keyword(k)) if a.is_none() => {
                    a = Some(k.clone());
                    true
                }
                ("v", c) if v.is_none() => {
                    v = Some(c.clone());
                    true
                }
                _ => false,
            };
        }
        if e.is_none() && a.is_none() && v.is_none() {
            return Ok(None);
        }
        // A lookup ref in the value position of a ref attribute names an entity too.
        if let (Some(attr), Some(lr @ Value::Tuple(_))) = (&a, &v)
            && db
                .schema()
                .attrs
                .get(attr.as_str())
                .is_some_and(|s| s.is_ref)
        {
            v = Some(Value::Int(resolve_lookup_ref(&db, lr)?));
        }
        let datoms = db.datoms_eavt(e, a.as_deref(), v.as_ref());
        let scanned = datom_relation(&db, &decl.attrs, datoms);
        // The constants were resolved for the lookup; test the rest of the formula.
        let rest: Vec<FLit> = conj
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(l, _)| l.clone())
            .collect();
        let formula = Formula::conj(rest);
        let mut out = Relation::new(scanned.attrs.clone());
        for t in &scanned.tuples {
            if self.formula(&formula, &scanned.attrs, t)? {
                out.tuples.insert(t.clone());
            }
        }
        Ok(Some(out))
    }
}

/// Resolves a lookup ref `[:unique-attr value]` to its entity, as DataScript does for entity
/// positions: the attribute must be unique and the entity must exist.
pub(crate) fn resolve_lookup_ref(db: &Db, lr: &Value) -> Result<i64, EvalError> {
    let Value::Tuple(xs) = lr else {
        return Err(err(format!("{lr} is not an entity id")));
    };
    let [Value::Keyword(a), v] = xs.as_slice() else {
        return Err(err(format!("{lr} is not an entity id or a lookup ref")));
    };
    if db.unique(a).is_none() {
        return Err(err(format!(
            "Lookup ref attribute should be marked as :db/unique: {}",
            pomo_types::value::to_edn(lr)
        )));
    }
    db.resolve_lookup_ref(a, v).ok_or_else(|| {
        err(format!(
            "Nothing found for entity id {}",
            pomo_types::value::to_edn(lr)
        ))
    })
}

/// The tuples of a store view with the attributes a plan declares for it.
pub(crate) fn datom_relation(db: &Db, attrs: &[Attr], datoms: Vec<Datom>) -> Relation {
    let mut r = Relation::new(attrs.to_vec());
    for d in datoms {
        let t: Vec<Value> = attrs
            .iter()
            .map(|a| match a.as_str() {
                "e" => Value::Int(d.e),
                "a" => Value::Keyword(d.a.clone()),
                "v" => d.v.clone(),
                "t" => Value::Int(d.tx - TX0),
                "m" => Value::Int(d.tx),
                "added" => Value::Bool(d.added),
                "$cid" => db.fact_cid(&d).map(Value::Cid).unwrap_or(Value::Nil),
                _ => Value::Nil,
            })
            .collect();
        r.tuples.insert(t);
    }
    r
}

/// The tuples of an input relation from the value bound to it.
fn input_relation(decl: &RelDecl, kind: BindKind, v: &Value) -> Result<Relation, EvalError> {
    let n = decl.attrs.len();
    let mut r = Relation::new(decl.attrs.clone());
    let row = |x: &Value| -> Result<Vec<Value>, EvalError> {
        match elements(x) {
            Some(parts) if parts.len() >= n => Ok(parts[..n].to_vec()),
            Some(parts) => Err(err(format!(
                "input {} binds {n} values but got a tuple of {}",
                decl.name,
                parts.len()
            ))),
            None => Err(err(format!(
                "input {} binds a tuple but got a {}",
                decl.name,
                x.type_name()
            ))),
        }
    };
    match kind {
        BindKind::Scalar => {
            r.tuples.insert(vec![v.clone()]);
        }
        BindKind::Tuple => {
            r.tuples.insert(row(v)?);
        }
        BindKind::Collection => {
            let xs = elements(v).ok_or_else(|| {
                err(format!(
                    "input {} binds a collection but got a {}",
                    decl.name,
                    v.type_name()
                ))
            })?;
            r.tuples.extend(xs.into_iter().map(|x| vec![x]));
        }
        BindKind::Relation => {
            let xs = elements(v).ok_or_else(|| {
                err(format!(
                    "input {} binds a relation but got a {}",
                    decl.name,
                    v.type_name()
                ))
            })?;
            for x in &xs {
                r.tuples.insert(row(x)?);
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Env;
    use crate::store::{EntityRef, Store, TxOp, TxValue};

    fn kw(k: &str) -> Value {
        Value::Keyword(k.to_string())
    }

    /// An environment whose `$` holds `[e a v]` facts.
    fn store_env(facts: &[(i64, &str, Value)]) -> Env {
        let mut store = Store::in_memory();
        let ops = facts
            .iter()
            .map(|(e, a, v)| TxOp::Add {
                e: EntityRef::Id(*e),
                a: a.to_string(),
                v: TxValue::Value(v.clone()),
            })
            .collect();
        store.transact(ops).unwrap();
        let mut env = Env::default();
        env.sources.insert("$".into(), Source::Db(store.db()));
        env
    }

    fn eq_const(attr: &str, c: Value) -> FLit {
        FLit {
            negated: false,
            test: pomo_types::ra::Test::Cmp {
                op: pomo_types::ra::CmpOp::Eq,
                lhs: pomo_types::ra::Operand::Attr(attr.to_string()),
                rhs: pomo_types::ra::Operand::Const(c),
            },
        }
    }

    fn view(source: &str) -> RelKind {
        RelKind::View {
            source: source.to_string(),
        }
    }

    fn decl(name: &str, attrs: &[&str], kind: RelKind) -> RelDecl {
        RelDecl {
            name: name.to_string(),
            attrs: attrs.iter().map(|a| a.to_string()).collect(),
            kind,
        }
    }

    fn print(r: Result<Relation, EvalError>) -> String {
        match r {
            Ok(r) => r
                .tuples
                .iter()
                .map(|t| {
                    let vs: Vec<String> = t.iter().map(|v| v.to_string()).collect();
                    format!("[{}]", vs.join(" "))
                })
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("error: {}", e.message),
        }
    }

    /// Loads `decl` from `env` and prints its tuples (or the error).
    fn check(env: &Env, decl: &RelDecl, expected: &str) {
        assert_eq!(print(Context::new(env).load_base(decl)), expected);
    }

    #[test]
    fn datom_view_reads_the_database() {
        let env = store_env(&[
            (1, "name", Value::Str("ann".into())),
            (2, "age", Value::Int(7)),
        ]);
        check(
            &env,
            &decl("datom", &["e", "a", "v"], view("$")),
            r#"[1 :name "ann"] [2 :age 7]"#,
        );
    }

    #[test]
    fn datom_view_over_a_collection_fills_positions() {
        let mut env = Env::default();
        env.sources.insert(
            "$".into(),
            Source::Coll(vec![vec![
                Value::Int(1),
                kw("color"),
                Value::Str("red".into()),
            ]]),
        );
        check(
            &env,
            &decl("datom", &["e", "a", "v", "added"], view("$")),
            r#"[1 :color "red" true]"#,
        );
    }

    #[test]
    fn a_view_is_known_by_its_kind_not_its_name() {
        let env = store_env(&[(1, "name", Value::Str("ann".into()))]);
        check(
            &env,
            &decl("anything", &["e", "v"], view("$")),
            r#"[1 "ann"]"#,
        );
    }

    #[test]
    fn a_base_relation_named_datom_is_not_a_view() {
        let env = store_env(&[(1, "name", Value::Str("ann".into()))]);
        check(&env, &decl("datom", &["e"], RelKind::Base), "");
    }

    #[test]
    fn an_unbound_source_is_an_error() {
        check(
            &Env::default(),
            &decl("datom$hr", &["e"], view("$hr")),
            "error: no database or collection is bound to $hr",
        );
    }

    #[test]
    fn base_relation_reads_entities_by_attribute() {
        let env = store_env(&[
            (1, "person/name", Value::Str("ann".into())),
            (2, "person/name", Value::Str("bob".into())),
        ]);
        check(
            &env,
            &decl("person", &["id", "name"], RelKind::Base),
            r#"[1 "ann"] [2 "bob"]"#,
        );
    }

    #[test]
    fn collection_input_gives_one_tuple_per_element() {
        let mut env = Env::default();
        env.inputs.insert(
            "in1".into(),
            Value::Tuple(vec![Value::Int(2), Value::Int(1)]),
        );
        check(
            &env,
            &decl("in1", &["x"], RelKind::Input(BindKind::Collection)),
            "[1] [2]",
        );
    }

    #[test]
    fn relation_input_of_short_tuples_is_an_error() {
        let mut env = Env::default();
        env.inputs.insert(
            "in1".into(),
            Value::Tuple(vec![Value::Tuple(vec![Value::Int(1)])]),
        );
        check(
            &env,
            &decl("in1", &["x", "y"], RelKind::Input(BindKind::Relation)),
            "error: input in1 binds 2 values but got a tuple of 1",
        );
    }

    #[test]
    fn an_unbound_input_is_an_error() {
        check(
            &Env::default(),
            &decl("in1", &["x"], RelKind::Input(BindKind::Scalar)),
            "error: no value is bound to input in1",
        );
    }

    #[test]
    fn view_scan_reads_by_attribute_and_tests_the_rest() {
        let env = store_env(&[
            (1, "age", Value::Int(7)),
            (2, "age", Value::Int(9)),
            (2, "name", Value::Str("bob".into())),
        ]);
        let formula = Formula::conj(vec![eq_const("a", kw("age")), eq_const("e", Value::Int(2))]);
        let scanned = Context::new(&env)
            .view_scan(&decl("datom", &["e", "v"], view("$")), &formula)
            .transpose()
            .map(print);
        assert_eq!(scanned.as_deref(), Some("[2 9]"));
    }

    #[test]
    fn lookup_ref_on_a_plain_attribute_is_an_error() {
        let env = store_env(&[(1, "name", Value::Str("ann".into()))]);
        let Some(Source::Db(db)) = env.sources.get("$") else {
            unreachable!()
        };
        let lookup = Value::Tuple(vec![kw("name"), Value::Str("ann".into())]);
        assert_eq!(
            resolve_lookup_ref(db, &lookup).unwrap_err().message,
            r#"Lookup ref attribute should be marked as :db/unique: [:name "ann"]"#
        );
    }
}
