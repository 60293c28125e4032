//! The SQL catalog: the tables a SQL text may name, with their columns' types and constraints.
//!
//! A table is an attribute namespace (ARCHITECTURE §6): column `c` of table `t` is the attribute
//! `:t/c`, and a row is an entity. Every row also carries `:sql.row/t true`, so that a row whose
//! columns are all NULL (no attribute at all) still exists. `id` is the entity id: a column
//! named `id` is never stored, and every table has it even when it doesn't declare it (`SELECT *`
//! shows it only when declared). The catalog is built from the `CREATE TABLE` / `CREATE UNIQUE
//! INDEX` statements; the SQL session keeps their text in the store, so it is data too.

use pomo_grammar::Diagnostic;
use pomo_grammar::sql_syntax::{ColumnDef, CreateTable, SqlQuery, TableConstraint, TypeName};
use std::collections::BTreeMap;

/// The static type of a SQL expression: the storage class its non-NULL values have (SQL is
/// dynamically typed, as in SQLite, so this is what the compiler knows, not a check). For a
/// table column it is the column's affinity, which every value written to it has been converted
/// by (`Int` stands for SQLite's INTEGER and NUMERIC affinities, `Blob` for BLOB, none). `Null`
/// is the type of the literal NULL, which fits everywhere; `Any` is an expression whose values
/// may be of several classes (a CASE with a number in one branch and text in another).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlType {
    Int,
    Real,
    Text,
    Bool,
    Blob,
    Any,
    Null,
}

impl SqlType {
    /// SQLite's affinity rules for a declared type name (datatype3 §3.1), in its order:
    /// `INT` → INTEGER; `CHAR`, `CLOB`, `TEXT` → TEXT; `BLOB` → BLOB; `REAL`, `FLOA`,
    /// `DOUB` → REAL; anything else NUMERIC (here `Int`, which converts values the same way).
    /// A `BOOL…` type is pomo's BOOLEAN (SQLite would give it NUMERIC affinity).
    pub fn from_name(t: &TypeName) -> SqlType {
        let n = t.name.to_ascii_uppercase();
        if n.starts_with("BOOL") {
            SqlType::Bool
        } else if n.contains("INT") {
            SqlType::Int
        } else if n.contains("CHAR") || n.contains("CLOB") || n.contains("TEXT") {
            SqlType::Text
        } else if n.contains("BLOB") {
            SqlType::Blob
        } else if n.contains("REAL") || n.contains("FLOA") || n.contains("DOUB") {
            SqlType::Real
        } else {
            SqlType::Int
        }
    }

    /// The type of a column declared with `ty` (none: BLOB affinity).
    pub fn of_column(ty: Option<&TypeName>) -> SqlType {
        ty.map_or(SqlType::Blob, SqlType::from_name)
    }

    pub fn name(self) -> &'static str {
        match self {
            SqlType::Int => "INTEGER",
            SqlType::Real => "REAL",
            SqlType::Text => "TEXT",
            SqlType::Bool => "BOOLEAN",
            SqlType::Blob => "BLOB",
            SqlType::Any => "ANY",
            SqlType::Null => "NULL",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            SqlType::Int | SqlType::Real | SqlType::Bool | SqlType::Null
        )
    }

    /// The type of a value of either type (UNION columns, CASE branches).
    pub fn unify(self, other: SqlType) -> SqlType {
        match (self, other) {
            (SqlType::Null, t) | (t, SqlType::Null) => t,
            (a, b) if a == b => a,
            (SqlType::Int | SqlType::Bool, SqlType::Real)
            | (SqlType::Real, SqlType::Int | SqlType::Bool) => SqlType::Real,
            (SqlType::Int, SqlType::Bool) | (SqlType::Bool, SqlType::Int) => SqlType::Int,
            _ => SqlType::Any,
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
    /// `STRICT`: every value written must be of its column's type (after the affinity
    /// conversion); a column of type `ANY` takes any value unchanged.
    pub strict: bool,
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
            strict: ct.strict,
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
            let ty = if ct.strict {
                strict_type(c)?
            } else {
                SqlType::of_column(c.ty.as_ref())
            };
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

/// The type of a column of a STRICT table: one of SQLite's six (INT, INTEGER, REAL, TEXT,
/// BLOB, ANY), required.
fn strict_type(c: &ColumnDef) -> Result<SqlType, Diagnostic> {
    let name = c.ty.as_ref().map(|t| t.name.as_str());
    Ok(match name {
        Some("INT" | "INTEGER") => SqlType::Int,
        Some("REAL") => SqlType::Real,
        Some("TEXT") => SqlType::Text,
        Some("BLOB") => SqlType::Blob,
        Some("ANY") => SqlType::Any,
        _ => {
            return Err(Diagnostic::error(
                "E0813",
                format!(
                    "unknown datatype for column `{}` of a STRICT table: {}",
                    c.name.name,
                    name.unwrap_or("none")
                ),
            )
            .with_label(c.span.clone(), "declared here")
            .with_help("the columns of a STRICT table are INT, INTEGER, REAL, TEXT, BLOB or ANY"));
        }
    })
}

/// The row-marker attribute of table `name`.
pub fn row_attr(table: &str) -> String {
    format!("sql.row/{table}")
}

/// A view: a named query, read as a derived table wherever the view is named.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub name: String,
    /// The column names given after the view's name, if any.
    pub columns: Option<Vec<String>>,
    pub query: SqlQuery,
}

/// The schema objects by name: tables, views, indexes (with their table) and triggers (with
/// their table). As in SQLite, the four share one namespace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub tables: BTreeMap<String, Table>,
    pub views: BTreeMap<String, View>,
    pub indexes: BTreeMap<String, String>,
    pub triggers: BTreeMap<String, String>,
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    pub fn view(&self, name: &str) -> Option<&View> {
        self.views.get(name)
    }

    /// What kind of schema object `name` is, if it is one (`table`, `view`, `index`,
    /// `trigger`).
    pub fn object_kind(&self, name: &str) -> Option<&'static str> {
        if self.tables.contains_key(name) {
            Some("table")
        } else if self.views.contains_key(name) {
            Some("view")
        } else if self.indexes.contains_key(name) {
            Some("index")
        } else if self.triggers.contains_key(name) {
            Some("trigger")
        } else {
            None
        }
    }
}
