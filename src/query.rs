//! Running queries from source: compile once ([`PreparedQuery`]), then run against databases
//! and inputs with the reference evaluator, and shape the result by the find spec.
//!
//! ```
//! use pomo::query::{prepare, Arg};
//! use pomo::runtime::store::Store;
//!
//! let mut store = Store::in_memory(); // or Store::open(dir)
//! let tx = pomo::grammar::edn::parse_one(r#"[[:db/add 1 :person/name "Ada"]]"#).unwrap();
//! store.transact(pomo::edn_data::tx_data(store.db().schema(), &tx).unwrap()).unwrap();
//! let q = prepare(
//!     &pomo::Input::Edn { query: "[:find ?n . :where [_ :person/name ?n]]", rules: None },
//!     &pomo::Options::default(),
//! )
//! .unwrap();
//! let answer = q.run(vec![Arg::Db(store.db())], &pomo::stdlib::Registry::new()).unwrap();
//! assert_eq!(pomo::runtime::results::to_edn(&answer), "\"Ada\"");
//! ```

use crate::{Ast, Compilation, Input, Options};
use pomo_grammar::Diagnostic;
use pomo_grammar::query::{Binding, Input as InElem};
use pomo_runtime::artifact::{Artifact, FORMAT, InputSlot};
use pomo_types::ra::RelKind;

pub use pomo_runtime::query::{Arg, Backend, Query, QueryError, relations_value};

/// A compiled query, ready to run: the compilation (every stage, for explaining) and the
/// runnable [`Query`] its plans make, which every method here runs through.
pub struct PreparedQuery {
    pub compilation: Compilation,
    pub query: Query,
}

impl std::ops::Deref for PreparedQuery {
    type Target = Query;
    fn deref(&self) -> &Query {
        &self.query
    }
}

/// Compiles a query for running.
pub fn prepare(input: &Input<'_>, opts: &Options) -> Result<PreparedQuery, Vec<Diagnostic>> {
    Ok(PreparedQuery::from_compilation(crate::compile(
        input, opts,
    )?))
}

impl PreparedQuery {
    /// A compiled query, ready to run.
    pub fn from_compilation(compilation: Compilation) -> PreparedQuery {
        let kind = |name: &str| {
            compilation
                .plan
                .relation(name)
                .and_then(|d| match d.kind {
                    RelKind::Input(k) => Some(k),
                    _ => None,
                })
                .unwrap_or(pomo_types::ra::BindKind::Relation)
        };
        let rel = |name: String| InputSlot::Relation {
            kind: kind(&name),
            name,
        };
        let inputs = match &compilation.ast {
            Ast::Edn { query, .. } => query
                .inputs
                .iter()
                .enumerate()
                .map(|(i, x)| match x {
                    InElem::Source(s) => InputSlot::Source(s.name.clone()),
                    InElem::Rules(_) => InputSlot::Rules,
                    InElem::Binding(Binding::Blank(_)) => InputSlot::Ignore,
                    InElem::Binding(_) => rel(format!("in{i}")),
                })
                .collect(),
            // A PomoLogic program reads the store as `$` and takes its inputs in declaration order.
            Ast::Logic(_) => std::iter::once(InputSlot::Source("$".into()))
                .chain(
                    compilation
                        .plan
                        .relations
                        .iter()
                        .filter(|r| matches!(r.kind, RelKind::Input(_)))
                        .map(|r| rel(r.name.clone())),
                )
                .collect(),
            // SQL reads the store as `$` and takes no inputs.
            Ast::Sql { .. } => vec![InputSlot::Source("$".into())],
        };
        let query = Query {
            plan: compilation.plan.clone(),
            flow: compilation.flow.clone(),
            kernel: compilation.kernel.clone(),
            inputs,
        };
        PreparedQuery { compilation, query }
    }

    /// The query as a compiled artifact (ARCHITECTURE §8): its plans, its input signature and the
    /// stdlib version; [`Artifact::to_file_bytes`] writes it.
    pub fn artifact(&self) -> Artifact {
        let language = match &self.compilation.ast {
            Ast::Edn { .. } => "edn",
            Ast::Logic(_) => "pomo",
            Ast::Sql { .. } => "sql",
        };
        Artifact {
            format: FORMAT,
            stdlib: pomo_stdlib::STDLIB_VERSION.to_string(),
            language: language.to_string(),
            inputs: self.query.inputs.clone(),
            plan: self.query.plan.clone(),
            flow: self.query.flow.clone(),
            kernel: self.query.kernel.clone(),
        }
    }
}
