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
use pomo_runtime::artifact::{Artifact, FORMAT};

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
        // The compiler returns the input signature; nothing here rebuilds it from names.
        let query = Query {
            plan: compilation.plan.clone(),
            flow: compilation.flow.clone(),
            kernel: compilation.kernel.clone(),
            inputs: compilation.inputs.clone(),
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
