//! The SQL catalog: the tables a SQL text may name, with their columns' types and constraints.
//!
//! A table is an attribute namespace (ARCHITECTURE §6): column `c` of table `t` is the attribute
//! `:t/c`, and a row is an entity. Every row also carries `:sql.row/t true`, so that a row whose
//! columns are all NULL (no attribute at all) still exists. `id` is the entity id: a column
//! named `id` is never stored, and every table has it even when it doesn't declare it (`SELECT *`
//! shows it only when declared). The catalog is built from the `CREATE TABLE` / `CREATE UNIQUE
//! INDEX` statements; the SQL session keeps their text in the store, so it is data too.

use pomo_grammar::Diagnostic;
use pomo_grammar::sql_syntax::{CreateTable, TableConstraint, TypeName};
use std::collections::BTreeMap;

/// The static type of a SQL expression. `Null` is the type of the literal NULL, which fits
/// everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlType {
    Int,
    Real,
    Text,
    Bool,
    Null,
}

impl SqlType {
    /// SQLite's affinity rules for a declared type name.
    pub fn from_name(t: &TypeName) -> SqlType {
        let n = t.name.to_ascii_uppercase();
        if n.starts_with("BOOL") {
            SqlType::Bool
        } else if n.contains("INT") {
            SqlType::Int
        } else if n.contains("CHAR") || n.contains("CLOB") || n.contains("TEXT") {
            SqlType::Text
        } else if n.contains("REAL")
            || n.contains("FLOA")
            || n.contains("DOUB")
            || n.contains("DEC")
            || n.contains("NUM")
        {
            SqlType::Real
        } else {
            SqlType::Text
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SqlType::Int => "INTEGER",
            SqlType::Real => "REAL",
            SqlType::Text => "TEXT",
            SqlType::Bool => "BOOLEAN",
            SqlType::Null => "NULL",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            SqlType::Int | SqlType::Real | SqlType::Bool | SqlType::Null
        )
    }

    /// Whether values of the two types may be compared.
    pub fn comparable(self, other: SqlType) -> bool {
        self == SqlType::Null
            || other == SqlType::Null
            || (self.is_numeric() && other.is_numeric())
            || (self == SqlType::Text && other == SqlType::Text)
    }

    /// The type of a value of either type (UNION columns, CASE branches).
    pub fn unify(self, other: SqlType) -> SqlType {
        match (self, other) {
            (SqlType::Null, t) | (t, SqlType::Null) => t,
            (a, b) if a == b => a,
            (SqlType::Int | SqlType::Bool, SqlType::Real)
            | (SqlType::Real, SqlType::Int | SqlType::Bool) => SqlType::Real,
            (SqlType::Int, SqlType::Bool) | (SqlType::Bool, SqlType::Int) => SqlType::Int,
            (a, _) => a,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: SqlType,
    pub not_null: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Column sets whose values must be unique among rows with no NULL in them
    /// (PRIMARY KEY, UNIQUE, CREATE UNIQUE INDEX), by column index.
    pub unique: Vec<Vec<usize>>,
    /// Whether the table declares a column `id` (the entity id).
    pub declares_id: bool,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }

    /// The attribute of a column (`t/c`, no colon).
    pub fn attr(&self, col: &str) -> String {
        format!("{}/{}", self.name, col)
    }

    /// The attribute that marks an entity as a row of this table.
    pub fn row_attr(&self) -> String {
        row_attr(&self.name)
    }

    /// Builds a table from its CREATE TABLE statement.
    pub fn from_ddl(ct: &CreateTable) -> Result<Table, Diagnostic> {
        let mut t = Table {
            name: ct.name.name.clone(),
            columns: Vec::new(),
            unique: Vec::new(),
            declares_id: false,
        };
        for c in &ct.columns {
            if t.column(&c.name.name).is_some() {
                return Err(Diagnostic::error(
                    "E0810",
                    format!("duplicate column `{}` in table `{}`", c.name.name, t.name),
                )
                .with_label(c.name.span.clone(), "declared twice"));
            }
            if c.name.name == "id" {
                t.declares_id = true;
                let ty =
                    c.ty.as_ref()
                        .map(SqlType::from_name)
                        .unwrap_or(SqlType::Int);
                if ty != SqlType::Int {
                    return Err(Diagnostic::error(
                        "E0811",
                        "the column `id` is the entity id and must be an INTEGER",
                    )
                    .with_label(c.span.clone(), "declared here"));
                }
            }
            let ty =
                c.ty.as_ref()
                    .map(SqlType::from_name)
                    .unwrap_or(SqlType::Text);
            t.columns.push(Column {
                name: c.name.name.clone(),
                ty,
                not_null: c.not_null || (c.primary_key && c.name.name != "id"),
            });
            let i = t.columns.len() - 1;
            if (c.primary_key || c.unique) && c.name.name != "id" {
                t.unique.push(vec![i]);
            }
        }
        for k in &ct.constraints {
            let (cols, primary) = match k {
                TableConstraint::PrimaryKey(cols, _) => (cols, true),
                TableConstraint::Unique(cols, _) => (cols, false),
            };
            let mut idx = Vec::new();
            for c in cols {
                match t.column(&c.name) {
                    Some((i, _)) => idx.push(i),
                    None => {
                        return Err(Diagnostic::error(
                            "E0812",
                            format!("table `{}` has no column `{}`", t.name, c.name),
                        )
                        .with_label(c.span.clone(), "unknown column"));
                    }
                }
            }
            if primary {
                for &i in &idx {
                    t.columns[i].not_null = true;
                }
            }
            if !(idx.len() == 1 && t.columns[idx[0]].name == "id") {
                t.unique.push(idx);
            }
        }
        Ok(t)
    }
}

/// The row-marker attribute of table `name`.
pub fn row_attr(table: &str) -> String {
    format!("sql.row/{table}")
}

/// The tables, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub tables: BTreeMap<String, Table>,
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }
}
