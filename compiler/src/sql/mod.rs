//! The SQL front end (ARCHITECTURE §6): the catalog of tables and the lowering of queries to
//! PomoLogic. Statements that change the store (CREATE, INSERT, UPDATE, DELETE) are run by the
//! SQL session of the root crate, which uses [`lower::lower_query`] for the rows they read.

pub mod catalog;
pub mod lower;

pub use catalog::{Catalog, Column, SqlType, Table, View};
pub use lower::{OUTPUT, SqlColumns, lower_query};

use crate::logic::ir::Program;
use pomo_grammar::Diagnostic;
use pomo_grammar::sql_syntax::{Statement, Stmt};

/// Lowers a script's last query, with the tables its CREATE TABLE statements declare added to
/// `catalog` (`pomo explain` on a `.sql` file).
pub fn lower_script(
    statements: &[Statement],
    catalog: &Catalog,
) -> Result<(Program, SqlColumns), Vec<Diagnostic>> {
    let mut cat = catalog.clone();
    let mut query = None;
    for s in statements {
        match &s.kind {
            Stmt::CreateTable(ct) => {
                let t = Table::from_ddl(ct).map_err(|d| vec![d])?;
                cat.tables.insert(t.name.clone(), t);
            }
            Stmt::Query(q) => query = Some(q),
            _ => {}
        }
    }
    let Some(q) = query else {
        return Err(vec![
            Diagnostic::error("E0870", "the SQL text has no query to compile")
                .with_label(0..0, "no SELECT")
                .with_help("`pomo explain` and `pomo query` compile the last SELECT of a file"),
        ]);
    };
    lower_query(q, &cat)
}
