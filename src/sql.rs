//! SQL sessions: run SQL scripts against a store (ARCHITECTURE §6).
//!
//! Queries compile to PomoLogic ([`pomo_compiler::sql`]) and run on any backend. The other
//! statements are transactions on the store: `CREATE TABLE` / `CREATE [UNIQUE] INDEX` / `DROP`
//! record their text on the transaction entity (`:sql/ddl`), so that the catalog is data and a
//! reopened store has its tables; `INSERT` makes one entity per row (`:sql.row/t true` plus one
//! attribute per non-NULL column); `UPDATE` and `DELETE` read the rows they touch with a compiled
//! query and then assert or retract. Every statement is checked whole before anything is written
//! (types, NOT NULL, PRIMARY KEY and UNIQUE), and is one transaction: it is written entirely or
//! not at all.
//!
//! ```
//! use pomo::sql::{Outcome, Session};
//! use pomo::runtime::store::Store;
//!
//! let mut s = Session::new(Store::in_memory());
//! s.execute("CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, NULL)").unwrap();
//! let out = s.execute("SELECT a, b FROM t ORDER BY a DESC").unwrap();
//! let Outcome::Rows(rows) = &out[0] else { panic!() };
//! assert_eq!(rows.text(), vec![vec!["2", "NULL"], vec!["1", "x"]]);
//! ```

use crate::query::{Arg, Backend, PreparedQuery};
use pomo_compiler::sql::{Catalog, SqlType, Table, View};
use pomo_grammar::Diagnostic;
use pomo_grammar::span::Span;
use pomo_grammar::sql_syntax::{
    self as ast, Expr, ExprKind, FromItem, Ident, InsertSource, Select, SelectItem, SetExpr,
    SqlQuery, Statement, Stmt, TableRef,
};
use pomo_runtime::store::{EntityMap, EntityRef, Store, TxOp, TxValue};
use pomo_stdlib::Registry;
use pomo_types::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The attribute under which a session records each DDL statement's text on its transaction
/// entity (the catalog is rebuilt from these, in transaction order, when a store is opened).
pub const DDL_ATTR: &str = "sql/ddl";

/// What one statement did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A statement that changed the store or the catalog; how many rows it touched.
    Done {
        changed: usize,
    },
    Rows(Rows),
}

/// A query's result: column names and types, and the rows in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Rows {
    pub names: Vec<String>,
    pub types: Vec<SqlType>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// The rows as text, the way sqllogictest prints values.
    pub fn text(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| r.iter().map(render).collect())
            .collect()
    }
}

/// A value as sqllogictest prints it: `NULL`, `(empty)` for the empty string, booleans as 1/0,
/// reals with three decimals.
pub fn render(v: &Value) -> String {
    match v {
        Value::Nil => "NULL".into(),
        Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:.3}"),
        Value::Str(s) if s.is_empty() => "(empty)".into(),
        Value::Str(s) => s.clone(),
        other => crate::runtime::results::to_edn(other),
    }
}

/// A failed statement: diagnostics with spans into the text given to [`Session::execute`].
#[derive(Clone, Debug, PartialEq)]
pub struct SqlError {
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error[{}]: {}", d.code, d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for SqlError {}

fn fail(code: &str, msg: impl Into<String>, span: &Span, label: &str) -> SqlError {
    SqlError {
        diagnostics: vec![Diagnostic::error(code, msg).with_label(span.clone(), label)],
    }
}

/// The stack of the thread SQL statements run on (reserved address space; pages are touched
/// only as deep as a plan goes).
const SQL_STACK: usize = 256 << 20;

/// A SQL session on a store.
pub struct Session {
    store: Store,
    catalog: Catalog,
    backend: Backend,
    jit: Option<pomo_runtime::jit::Jit>,
    registry: Registry,
    /// The column set each unique index added to its table's constraints, by index name (so
    /// that DROP INDEX takes the constraint away).
    index_sets: BTreeMap<String, Vec<usize>>,
}

impl Session {
    /// A session on the store, with its tables (read from the store's `:sql/ddl` facts). Runs
    /// queries on the JIT.
    pub fn new(store: Store) -> Session {
        let mut s = Session {
            store,
            catalog: Catalog::default(),
            backend: Backend::Jit(pomo_runtime::jit::Mode::Native),
            jit: None,
            registry: Registry::new(),
            index_sets: BTreeMap::new(),
        };
        s.load_catalog();
        s
    }

    /// Chooses the backend queries run on.
    pub fn with_backend(mut self, backend: Backend) -> Session {
        self.backend = backend;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, to write to it directly (EDN tx-data). The catalog is not re-read: write
    /// tables with SQL.
    pub fn store_mut(&mut self) -> &mut Store {
        self.jit = None;
        &mut self.store
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Reads the SQL catalog from the store again (after a merge brought another replica's
    /// tables).
    pub fn refresh(&mut self) {
        self.jit = None;
        self.catalog = Catalog::default();
        self.index_sets.clear();
        self.load_catalog();
    }

    fn load_catalog(&mut self) {
        let db = self.store.db();
        let mut ddl = db.datoms_eavt(None, Some(DDL_ATTR), None);
        ddl.sort_by_key(|d| d.tx);
        for d in ddl {
            if let Value::Str(text) = &d.v
                && let Ok(st) = ast::parse_statement(text)
            {
                let _ = self.apply_ddl(&st);
            }
        }
    }

    /// Applies a DDL statement to the catalog (no store change).
    fn apply_ddl(&mut self, st: &Statement) -> Result<(), SqlError> {
        match &st.kind {
            Stmt::CreateTable(ct) => {
                let t = Table::from_ddl(ct).map_err(|d| SqlError {
                    diagnostics: vec![d],
                })?;
                self.catalog.tables.insert(t.name.clone(), t);
            }
            Stmt::CreateIndex(ci) => {
                let t = self.catalog.tables.get_mut(&ci.table.name).ok_or_else(|| {
                    fail(
                        "E0871",
                        format!("no such table: {}", ci.table.name),
                        &ci.table.span,
                        "unknown table",
                    )
                })?;
                if ci.unique
                    && let Some(idx) = index_columns(t, &ci.columns)?
                {
                    t.unique.push(idx.clone());
                    self.index_sets.insert(ci.name.name.clone(), idx);
                }
                self.catalog
                    .indexes
                    .insert(ci.name.name.clone(), ci.table.name.clone());
            }
            Stmt::CreateView(v) => {
                self.catalog.views.insert(
                    v.name.name.clone(),
                    View {
                        name: v.name.name.clone(),
                        columns: v
                            .columns
                            .as_ref()
                            .map(|cs| cs.iter().map(|c| c.name.clone()).collect()),
                        query: (*v.query).clone(),
                    },
                );
            }
            Stmt::CreateTrigger(tr) => {
                self.catalog
                    .triggers
                    .insert(tr.name.name.clone(), tr.table.name.clone());
            }
            Stmt::Drop { what, name, .. } => match what {
                ast::DropKind::Table => {
                    // A table's indexes and triggers go with it.
                    self.catalog.tables.remove(&name.name);
                    self.catalog.indexes.retain(|_, t| *t != name.name);
                    self.catalog.triggers.retain(|_, t| *t != name.name);
                }
                ast::DropKind::Index => {
                    if let Some(table) = self.catalog.indexes.remove(&name.name)
                        && let Some(set) = self.index_sets.remove(&name.name)
                        && let Some(t) = self.catalog.tables.get_mut(&table)
                        && let Some(pos) = t.unique.iter().rposition(|u| *u == set)
                    {
                        // A unique index's constraint goes with it.
                        t.unique.remove(pos);
                    }
                }
                ast::DropKind::View => {
                    self.catalog.views.remove(&name.name);
                }
                ast::DropKind::Trigger => {
                    self.catalog.triggers.remove(&name.name);
                }
            },
            _ => {}
        }
        Ok(())
    }

    /// Runs every statement of a script in order and returns what each did; stops at the
    /// first failing statement (the ones before it stay done).
    pub fn execute(&mut self, text: &str) -> Result<Vec<Outcome>, SqlError> {
        let statements = ast::parse_script(text).map_err(|diagnostics| SqlError { diagnostics })?;
        // A join of many tables makes deep plans, and the compiler's passes and evaluators walk
        // them recursively: the statements run on a thread with a stack that fits SQLite's
        // limit of 64 tables whatever the caller's stack is (test threads have 2 MiB).
        let this = &mut *self;
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("pomo-sql".into())
                .stack_size(SQL_STACK)
                .spawn_scoped(scope, move || {
                    let mut out = Vec::new();
                    for st in &statements {
                        out.push(this.statement(st, text)?);
                    }
                    Ok(out)
                })
                .map_err(|e| {
                    fail(
                        "E0885",
                        format!("cannot start the SQL thread: {e}"),
                        &(0..0),
                        "here",
                    )
                })?
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// Runs one parsed statement (`text` is the script its spans point into).
    pub fn statement(&mut self, st: &Statement, text: &str) -> Result<Outcome, SqlError> {
        match &st.kind {
            Stmt::Query(q) => self.query(q).map(Outcome::Rows),
            Stmt::CreateTable(ct) => {
                if let Some(kind) = self.catalog.object_kind(&ct.name.name) {
                    if ct.if_not_exists && kind == "table" {
                        return Ok(Outcome::Done { changed: 0 });
                    }
                    return Err(exists(kind, &ct.name));
                }
                Table::from_ddl(ct).map_err(|d| SqlError {
                    diagnostics: vec![d],
                })?;
                self.record_ddl(st, text, Vec::new())
            }
            Stmt::CreateIndex(ci) => {
                if let Some(kind) = self.catalog.object_kind(&ci.name.name) {
                    if ci.if_not_exists && kind == "index" {
                        return Ok(Outcome::Done { changed: 0 });
                    }
                    return Err(exists(kind, &ci.name));
                }
                let Some(t) = self.catalog.table(&ci.table.name) else {
                    return Err(fail(
                        "E0871",
                        format!("no such table: {}", ci.table.name),
                        &ci.table.span,
                        "unknown table",
                    ));
                };
                let idx = index_columns(t, &ci.columns)?;
                if ci.unique
                    && let Some(idx) = idx
                {
                    // Existing rows must already satisfy the constraint.
                    let rows = self.table_rows(t, &idx);
                    if let Some(dup) = first_duplicate(rows.iter().map(|(_, k)| k.clone())) {
                        return Err(unique_error(t, &idx, &dup, &st.span));
                    }
                }
                self.record_ddl(st, text, Vec::new())
            }
            Stmt::CreateView(v) => {
                if let Some(kind) = self.catalog.object_kind(&v.name.name) {
                    if v.if_not_exists && kind == "view" {
                        return Ok(Outcome::Done { changed: 0 });
                    }
                    return Err(exists(kind, &v.name));
                }
                // As in SQLite, the query is checked when the view is read, not here.
                self.record_ddl(st, text, Vec::new())
            }
            Stmt::CreateTrigger(tr) => {
                if let Some(kind) = self.catalog.object_kind(&tr.name.name) {
                    if tr.if_not_exists && kind == "trigger" {
                        return Ok(Outcome::Done { changed: 0 });
                    }
                    return Err(exists(kind, &tr.name));
                }
                if self.catalog.table(&tr.table.name).is_none() {
                    return Err(fail(
                        "E0871",
                        format!("no such table: {}", tr.table.name),
                        &tr.table.span,
                        "unknown table",
                    ));
                }
                // A trigger whose body only reads has no effect when it fires; one that
                // writes would need the engine to run it, which it does not.
                if let Some(w) = tr.body.iter().find(|b| !matches!(b.kind, Stmt::Query(_))) {
                    return Err(fail(
                        "E0874",
                        "a trigger whose body writes (INSERT, UPDATE, DELETE…) is outside the subset",
                        &w.span,
                        "not supported",
                    ));
                }
                self.record_ddl(st, text, Vec::new())
            }
            Stmt::Reindex(name) => {
                // Indexes are the store's, always current: REINDEX checks its name only.
                if let Some(n) = name
                    && self.catalog.table(&n.name).is_none()
                    && !self.catalog.indexes.contains_key(&n.name)
                {
                    return Err(fail(
                        "E0871",
                        format!("unable to identify the object to be reindexed: {}", n.name),
                        &n.span,
                        "no such table or index",
                    ));
                }
                Ok(Outcome::Done { changed: 0 })
            }
            Stmt::Drop {
                what,
                if_exists,
                name,
            } => match what {
                ast::DropKind::Table => {
                    let Some(t) = self.catalog.table(&name.name).cloned() else {
                        if *if_exists {
                            return Ok(Outcome::Done { changed: 0 });
                        }
                        return Err(fail(
                            "E0871",
                            format!("no such table: {}", name.name),
                            &name.span,
                            "unknown table",
                        ));
                    };
                    let ids = self.table_entities(&t);
                    let ops = ids
                        .iter()
                        .map(|&e| TxOp::RetractEntity(EntityRef::Id(e)))
                        .collect();
                    self.record_ddl(st, text, ops)
                }
                ast::DropKind::Index | ast::DropKind::View | ast::DropKind::Trigger => {
                    let (present, kind) = match what {
                        ast::DropKind::Index => {
                            (self.catalog.indexes.contains_key(&name.name), "index")
                        }
                        ast::DropKind::View => (self.catalog.view(&name.name).is_some(), "view"),
                        _ => (self.catalog.triggers.contains_key(&name.name), "trigger"),
                    };
                    if !present {
                        if *if_exists {
                            return Ok(Outcome::Done { changed: 0 });
                        }
                        return Err(fail(
                            "E0871",
                            format!("no such {kind}: {}", name.name),
                            &name.span,
                            "unknown",
                        ));
                    }
                    self.record_ddl(st, text, Vec::new())
                }
            },
            Stmt::Insert(ins) => self.insert(ins, &st.span),
            Stmt::Update(up) => self.update(up, &st.span),
            Stmt::Delete(del) => self.delete(del, &st.span),
        }
    }

    /// Writes a DDL statement's text on the transaction entity (with `ops`), then applies it
    /// to the catalog.
    fn record_ddl(
        &mut self,
        st: &Statement,
        text: &str,
        mut ops: Vec<TxOp>,
    ) -> Result<Outcome, SqlError> {
        let own = text.get(st.span.clone()).unwrap_or("").to_string();
        ops.push(TxOp::Add {
            e: EntityRef::TempId("datomic.tx".into()),
            a: DDL_ATTR.into(),
            v: TxValue::Value(Value::Str(own)),
        });
        self.transact(ops, &st.span)?;
        self.apply_ddl(st)?;
        Ok(Outcome::Done { changed: 0 })
    }

    fn transact(&mut self, ops: Vec<TxOp>, span: &Span) -> Result<(), SqlError> {
        self.store.transact(ops).map_err(|e| {
            fail(
                "E0875",
                format!("the transaction failed: {}", e.message),
                span,
                "here",
            )
        })?;
        self.jit = None;
        Ok(())
    }

    /// Compiles and runs a query; its rows in order.
    pub fn query(&mut self, q: &SqlQuery) -> Result<Rows, SqlError> {
        let (prepared, cols) = self.prepare(q)?;
        let rows = self.run(&prepared, &q.span)?;
        Ok(Rows {
            names: cols.names,
            types: cols.types,
            rows,
        })
    }

    /// Compiles a query against the session's catalog.
    pub fn prepare(
        &self,
        q: &SqlQuery,
    ) -> Result<(PreparedQuery, pomo_compiler::sql::SqlColumns), SqlError> {
        let (program, cols) = pomo_compiler::sql::lower_query(q, &self.catalog)
            .map_err(|diagnostics| SqlError { diagnostics })?;
        let ast = pomo_compiler::driver::Ast::Sql {
            statements: vec![Statement {
                kind: Stmt::Query(q.clone()),
                span: q.span.clone(),
            }],
            catalog: Catalog::default(),
        };
        let compilation =
            pomo_compiler::driver::compile_program(ast, program, &crate::Options::default())
                .map_err(|diagnostics| SqlError { diagnostics })?;
        Ok((PreparedQuery::from_compilation(compilation), cols))
    }

    /// Runs a query [`Session::prepare`] compiled; its rows in order (errors point at `span`).
    pub fn run(&mut self, p: &PreparedQuery, span: &Span) -> Result<Vec<Vec<Value>>, SqlError> {
        let args = vec![Arg::Db(self.store.db())];
        let value = match &self.backend {
            Backend::Jit(mode) => {
                let jit = self
                    .jit
                    .get_or_insert_with(|| pomo_runtime::jit::Jit::new(*mode));
                p.run_jit(jit, args, &self.registry)
            }
            b => p.run_on(args, &self.registry, b),
        }
        .map_err(|e| {
            fail(
                "E0876",
                format!("the query failed: {}", e.message),
                span,
                "here",
            )
        })?;
        match value {
            Value::Tuple(rows) => Ok(rows
                .into_iter()
                .map(|r| match r {
                    Value::Tuple(vs) => vs,
                    other => vec![other],
                })
                .collect()),
            other => Ok(vec![vec![other]]),
        }
    }

    fn table(&self, name: &Ident) -> Result<Table, SqlError> {
        if self.catalog.view(&name.name).is_some() {
            return Err(fail(
                "E0871",
                format!("cannot modify {} because it is a view", name.name),
                &name.span,
                "a view",
            ));
        }
        self.catalog.table(&name.name).cloned().ok_or_else(|| {
            fail(
                "E0871",
                format!("no such table: {}", name.name),
                &name.span,
                "unknown table",
            )
        })
    }

    /// The entities that are rows of a table.
    fn table_entities(&self, t: &Table) -> Vec<i64> {
        self.store
            .db()
            .datoms_eavt(None, Some(&t.row_attr()), None)
            .into_iter()
            .map(|d| d.e)
            .collect()
    }

    /// Every row's values of the given columns (NULL where missing), by entity.
    fn table_rows(&self, t: &Table, cols: &[usize]) -> Vec<(i64, Vec<Value>)> {
        let db = self.store.db();
        self.table_entities(t)
            .into_iter()
            .map(|e| {
                let vals = cols
                    .iter()
                    .map(|&c| {
                        if t.columns[c].name == "id" {
                            return Value::Int(e);
                        }
                        db.datoms_eavt(Some(e), Some(&t.attr(&t.columns[c].name)), None)
                            .into_iter()
                            .next()
                            .map(|d| d.v)
                            .unwrap_or(Value::Nil)
                    })
                    .collect();
                (e, vals)
            })
            .collect()
    }

    fn insert(&mut self, ins: &ast::Insert, span: &Span) -> Result<Outcome, SqlError> {
        let t = self.table(&ins.table)?;
        // Target columns.
        let targets: Vec<usize> = match &ins.columns {
            Some(cols) => {
                let mut v = Vec::new();
                for c in cols {
                    match t.column(&c.name) {
                        Some((i, _)) => {
                            if v.contains(&i) {
                                return Err(fail(
                                    "E0877",
                                    format!("column {} is named twice", c.name),
                                    &c.span,
                                    "duplicate",
                                ));
                            }
                            v.push(i)
                        }
                        None => {
                            return Err(fail(
                                "E0872",
                                format!("table {} has no column named {}", t.name, c.name),
                                &c.span,
                                "unknown column",
                            ));
                        }
                    }
                }
                v
            }
            None => (0..t.columns.len()).collect(),
        };
        // The rows to insert, as values per target column.
        let rows: Vec<(Vec<Value>, Span)> = match &ins.source {
            InsertSource::Values(rows) => {
                let mut out = Vec::new();
                for (row, rspan) in rows {
                    if row.len() != targets.len() {
                        return Err(fail(
                            "E0878",
                            format!("{} values for {} columns", row.len(), targets.len()),
                            rspan,
                            "wrong number of values",
                        ));
                    }
                    let mut vals = Vec::new();
                    for (e, &c) in row.iter().zip(&targets) {
                        let v = self.const_value(e)?;
                        vals.push(coerce(&t, c, v, &e.span)?);
                    }
                    out.push((vals, rspan.clone()));
                }
                out
            }
            InsertSource::Query(q) => {
                let (p, cols) = self.prepare(q)?;
                if cols.names.len() != targets.len() {
                    return Err(fail(
                        "E0878",
                        format!(
                            "the query gives {} columns for {} target columns",
                            cols.names.len(),
                            targets.len()
                        ),
                        &q.span,
                        "wrong number of columns",
                    ));
                }
                let rows = self.run(&p, &q.span)?;
                let mut out = Vec::new();
                for r in rows {
                    let mut vals = Vec::new();
                    for (v, &c) in r.into_iter().zip(&targets) {
                        vals.push(coerce(&t, c, v, &q.span)?);
                    }
                    out.push((vals, q.span.clone()));
                }
                out
            }
        };
        // Full rows (NULL for columns not given), constraints, then one transaction.
        let conflict = ins.conflict.unwrap_or(ast::Conflict::Abort);
        if matches!(conflict, ast::Conflict::Fail | ast::Conflict::Rollback) {
            return Err(fail(
                "E0874",
                format!(
                    "INSERT OR {} is outside the subset (ABORT, IGNORE and REPLACE are in it)",
                    conflict.as_str()
                ),
                span,
                "not supported",
            ));
        }
        let mut full: Vec<(Vec<Value>, Span)> = Vec::new();
        'rows: for (vals, rspan) in rows {
            let mut row = vec![Value::Nil; t.columns.len()];
            for (v, &c) in vals.into_iter().zip(&targets) {
                row[c] = v;
            }
            for (i, c) in t.columns.iter().enumerate() {
                if c.not_null && row[i] == Value::Nil {
                    if conflict == ast::Conflict::Ignore {
                        continue 'rows;
                    }
                    return Err(fail(
                        "E0879",
                        format!("NOT NULL constraint failed: {}.{}", t.name, c.name),
                        &rspan,
                        "NULL value",
                    ));
                }
            }
            full.push((row, rspan));
        }
        // OR REPLACE deletes the rows a new row collides with (earlier rows of the same
        // statement included); OR IGNORE drops the new rows that collide.
        let mut ops = Vec::new();
        let mut replaced = BTreeSet::new();
        if conflict != ast::Conflict::Abort {
            let (kept, gone) = self.resolve_conflicts(&t, full, conflict);
            full = kept;
            replaced = gone;
            ops.extend(
                replaced
                    .iter()
                    .map(|&e| TxOp::RetractEntity(EntityRef::Id(e))),
            );
        }
        self.check_unique_new(&t, &full, &replaced, span)?;
        let id_col = t.column("id").map(|(i, _)| i);
        let mut explicit_ids = BTreeSet::new();
        for (row, rspan) in &full {
            let id = match id_col.map(|i| &row[i]) {
                Some(Value::Int(e)) => {
                    if *e <= 0 || *e >= pomo_runtime::store::TX0 {
                        return Err(fail(
                            "E0880",
                            format!(
                                "id {e} is out of range: ids are between 1 and {}",
                                pomo_runtime::store::TX0 - 1
                            ),
                            rspan,
                            "bad id",
                        ));
                    }
                    let db = self.store.db();
                    if !explicit_ids.insert(*e) || !db.datoms_eavt(Some(*e), None, None).is_empty()
                    {
                        return Err(fail(
                            "E0881",
                            format!("UNIQUE constraint failed: {}.id", t.name),
                            rspan,
                            "the entity exists",
                        ));
                    }
                    Some(EntityRef::Id(*e))
                }
                _ => None,
            };
            let mut attrs = vec![(t.row_attr(), TxValue::Value(Value::Bool(true)))];
            for (i, c) in t.columns.iter().enumerate() {
                if c.name == "id" || row[i] == Value::Nil {
                    continue;
                }
                attrs.push((t.attr(&c.name), TxValue::Value(row[i].clone())));
            }
            ops.push(TxOp::Map(EntityMap { id, attrs }));
        }
        let n = full.len();
        if !ops.is_empty() {
            self.transact(ops, span)?;
        }
        Ok(Outcome::Done { changed: n })
    }

    /// For INSERT OR REPLACE / OR IGNORE: the new rows to insert and the existing rows (by
    /// entity) to delete first. A new row that collides with an existing row or an earlier new
    /// row on a unique column set (no NULL in it) replaces it, or is dropped under IGNORE.
    fn resolve_conflicts(
        &self,
        t: &Table,
        rows: Vec<(Vec<Value>, Span)>,
        conflict: ast::Conflict,
    ) -> (Vec<(Vec<Value>, Span)>, BTreeSet<i64>) {
        // Per unique set: key → the existing entity or the index of the new row holding it.
        #[derive(Clone, Copy, PartialEq)]
        enum Holder {
            Old(i64),
            New(usize),
        }
        let mut held: Vec<BTreeMap<Vec<Value>, Holder>> = t
            .unique
            .iter()
            .map(|set| {
                self.table_rows(t, set)
                    .into_iter()
                    .filter(|(_, k)| !k.contains(&Value::Nil))
                    .map(|(e, k)| (k, Holder::Old(e)))
                    .collect()
            })
            .collect();
        let mut replaced = BTreeSet::new();
        let mut dropped = BTreeSet::new();
        for (i, (row, _)) in rows.iter().enumerate() {
            let keys: Vec<Option<Vec<Value>>> = t
                .unique
                .iter()
                .map(|set| {
                    let k: Vec<Value> = set.iter().map(|&c| row[c].clone()).collect();
                    (!k.contains(&Value::Nil)).then_some(k)
                })
                .collect();
            let hits: Vec<Holder> = keys
                .iter()
                .zip(&held)
                .filter_map(|(k, map)| k.as_ref().and_then(|k| map.get(k).copied()))
                .collect();
            if conflict == ast::Conflict::Ignore && !hits.is_empty() {
                dropped.insert(i);
                continue;
            }
            for h in hits {
                match h {
                    Holder::Old(e) => {
                        replaced.insert(e);
                    }
                    Holder::New(j) => {
                        dropped.insert(j);
                    }
                }
                // The replaced row's keys in every set go with it.
                for map in &mut held {
                    map.retain(|_, v| *v != h);
                }
            }
            for (k, map) in keys.into_iter().zip(&mut held) {
                if let Some(k) = k {
                    map.insert(k, Holder::New(i));
                }
            }
        }
        let kept = rows
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !dropped.contains(i))
            .map(|(_, r)| r)
            .collect();
        (kept, replaced)
    }

    /// Checks the unique column sets for rows about to be inserted (against the table and
    /// among themselves). Rows with a NULL in the set are exempt.
    fn check_unique_new(
        &self,
        t: &Table,
        rows: &[(Vec<Value>, Span)],
        gone: &BTreeSet<i64>,
        span: &Span,
    ) -> Result<(), SqlError> {
        for set in &t.unique {
            let existing = self.table_rows(t, set);
            let mut seen: BTreeSet<Vec<Value>> = existing
                .into_iter()
                .filter(|(e, _)| !gone.contains(e))
                .map(|(_, k)| k)
                .filter(|k| !k.contains(&Value::Nil))
                .collect();
            for (row, rspan) in rows {
                let key: Vec<Value> = set.iter().map(|&c| row[c].clone()).collect();
                if key.contains(&Value::Nil) {
                    continue;
                }
                if !seen.insert(key.clone()) {
                    let _ = span;
                    return Err(unique_error(t, set, &key, rspan));
                }
            }
        }
        Ok(())
    }

    fn const_value(&self, e: &Expr) -> Result<Value, SqlError> {
        // A constant expression: compile `SELECT e` and run it.
        let q = SqlQuery {
            with: None,
            body: SetExpr::Select(Box::new(Select {
                distinct: false,
                items: vec![SelectItem::Expr {
                    expr: e.clone(),
                    alias: None,
                }],
                from: Vec::new(),
                where_: None,
                group_by: Vec::new(),
                having: None,
                span: e.span.clone(),
            })),
            order_by: Vec::new(),
            limit: None,
            span: e.span.clone(),
        };
        if let Some(v) = literal(e) {
            return Ok(v);
        }
        let (p, _) = self.prepare(&q)?;
        let args = vec![Arg::Db(self.store.db())];
        let v = p
            .run_on(args, &self.registry, &Backend::Reference)
            .map_err(|e| {
                fail(
                    "E0882",
                    format!("the value could not be computed: {}", e.message),
                    &q.span,
                    "here",
                )
            })?;
        match v {
            Value::Tuple(rows) if rows.len() == 1 => match &rows[0] {
                Value::Tuple(vs) if vs.len() == 1 => Ok(vs[0].clone()),
                _ => Err(fail(
                    "E0882",
                    "the value could not be computed",
                    &q.span,
                    "here",
                )),
            },
            _ => Err(fail(
                "E0882",
                "the value could not be computed",
                &q.span,
                "here",
            )),
        }
    }

    /// The rows of `table` matching `where_`: entity and the values of `exprs`.
    fn select_rows(
        &mut self,
        table: &Ident,
        exprs: Vec<Expr>,
        where_: Option<&Expr>,
        span: &Span,
    ) -> Result<(Vec<Vec<Value>>, Vec<SqlType>), SqlError> {
        let col = |name: &str| Expr {
            kind: ExprKind::Column {
                table: None,
                name: Ident {
                    name: name.into(),
                    span: span.clone(),
                },
            },
            span: span.clone(),
        };
        let mut items = vec![SelectItem::Expr {
            expr: col("id"),
            alias: None,
        }];
        items.extend(
            exprs
                .into_iter()
                .map(|expr| SelectItem::Expr { expr, alias: None }),
        );
        let q = SqlQuery {
            with: None,
            body: SetExpr::Select(Box::new(Select {
                distinct: false,
                items,
                from: vec![FromItem {
                    first: TableRef::Table {
                        name: table.clone(),
                        alias: None,
                        indexed: None,
                        span: table.span.clone(),
                    },
                    joins: Vec::new(),
                }],
                where_: where_.cloned(),
                group_by: Vec::new(),
                having: None,
                span: span.clone(),
            })),
            order_by: Vec::new(),
            limit: None,
            span: span.clone(),
        };
        let (p, cols) = self.prepare(&q)?;
        let rows = self.run(&p, span)?;
        Ok((rows, cols.types))
    }

    fn update(&mut self, up: &ast::Update, span: &Span) -> Result<Outcome, SqlError> {
        let t = self.table(&up.table)?;
        let mut targets = Vec::new();
        for (c, _) in &up.sets {
            match t.column(&c.name) {
                Some(_) if c.name == "id" => {
                    return Err(fail(
                        "E0883",
                        "the id column is the entity id and cannot be updated",
                        &c.span,
                        "id",
                    ));
                }
                Some((i, _)) => targets.push(i),
                None => {
                    return Err(fail(
                        "E0872",
                        format!("no such column: {}", c.name),
                        &c.span,
                        "unknown column",
                    ));
                }
            }
        }
        let exprs: Vec<Expr> = up.sets.iter().map(|(_, e)| e.clone()).collect();
        let (rows, _) = self.select_rows(&up.table, exprs, up.where_.as_ref(), span)?;
        // New values, constraints over the table as it will be, then one transaction.
        let mut changes: BTreeMap<i64, Vec<(usize, Value)>> = BTreeMap::new();
        for r in &rows {
            let Value::Int(e) = r[0] else { continue };
            let mut ch = Vec::new();
            for (v, &c) in r[1..].iter().zip(&targets) {
                let v = coerce(&t, c, v.clone(), span)?;
                if t.columns[c].not_null && v == Value::Nil {
                    return Err(fail(
                        "E0879",
                        format!(
                            "NOT NULL constraint failed: {}.{}",
                            t.name, t.columns[c].name
                        ),
                        span,
                        "NULL value",
                    ));
                }
                ch.push((c, v));
            }
            changes.insert(e, ch);
        }
        for set in &t.unique {
            let mut keys: Vec<Vec<Value>> = Vec::new();
            for (e, mut k) in self.table_rows(&t, set) {
                if let Some(ch) = changes.get(&e) {
                    for (c, v) in ch {
                        if let Some(pos) = set.iter().position(|x| x == c) {
                            k[pos] = v.clone();
                        }
                    }
                }
                if !k.contains(&Value::Nil) {
                    keys.push(k);
                }
            }
            if let Some(dup) = first_duplicate(keys.into_iter()) {
                return Err(unique_error(&t, set, &dup, span));
            }
        }
        let mut ops = Vec::new();
        for (e, ch) in &changes {
            for (c, v) in ch {
                let a = t.attr(&t.columns[*c].name);
                if *v == Value::Nil {
                    ops.push(TxOp::Retract {
                        e: EntityRef::Id(*e),
                        a,
                        v: None,
                    });
                } else {
                    ops.push(TxOp::Add {
                        e: EntityRef::Id(*e),
                        a,
                        v: TxValue::Value(v.clone()),
                    });
                }
            }
        }
        if !ops.is_empty() {
            self.transact(ops, span)?;
        }
        Ok(Outcome::Done {
            changed: changes.len(),
        })
    }

    fn delete(&mut self, del: &ast::Delete, span: &Span) -> Result<Outcome, SqlError> {
        self.table(&del.table)?;
        let (rows, _) = self.select_rows(&del.table, Vec::new(), del.where_.as_ref(), span)?;
        let ops: Vec<TxOp> = rows
            .iter()
            .filter_map(|r| match r[0] {
                Value::Int(e) => Some(TxOp::RetractEntity(EntityRef::Id(e))),
                _ => None,
            })
            .collect();
        let n = ops.len();
        if n > 0 {
            self.transact(ops, span)?;
        }
        Ok(Outcome::Done { changed: n })
    }
}

/// The columns of an index, by position. `None` when they include `id`, the entity id: such
/// a set is unique whatever the other columns hold, so it constrains nothing.
fn index_columns(t: &Table, cols: &[Ident]) -> Result<Option<Vec<usize>>, SqlError> {
    let mut idx = Vec::new();
    let mut has_id = false;
    for c in cols {
        match t.column(&c.name) {
            Some(_) if c.name == "id" => has_id = true,
            Some((i, _)) => idx.push(i),
            None if c.name == "id" => has_id = true,
            None => {
                return Err(fail(
                    "E0872",
                    format!("no such column: {}", c.name),
                    &c.span,
                    "unknown column",
                ));
            }
        }
    }
    Ok((!has_id).then_some(idx))
}

/// The error for creating a schema object whose name is taken.
fn exists(kind: &str, name: &Ident) -> SqlError {
    fail(
        "E0873",
        format!("{kind} {} already exists", name.name),
        &name.span,
        "exists",
    )
}

/// A literal (or a negated numeric literal) as a value.
fn literal(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Lit(l) => Some(match l {
            ast::Lit::Null => Value::Nil,
            ast::Lit::Bool(b) => Value::Bool(*b),
            ast::Lit::Int(i) => Value::Int(*i),
            ast::Lit::Float(f) => Value::Float(*f),
            ast::Lit::Str(s) => Value::Str(s.clone()),
            ast::Lit::Blob(b) => Value::Bytes(b.clone()),
        }),
        ExprKind::Unary {
            op: ast::UnOp::Neg,
            expr,
        } => match literal(expr)? {
            Value::Int(i) => i.checked_neg().map(Value::Int),
            Value::Float(f) => Some(Value::Float(-f)),
            _ => None,
        },
        _ => None,
    }
}

/// A value for a column, converted by the column's affinity as SQLite converts it
/// (datatype3 §3): text that is a number goes into a numeric column as that number, an
/// integral double into an INTEGER column as an integer, numbers into a TEXT column as text; a
/// BLOB (or untyped) column keeps what it is given. A STRICT table then refuses a value that is
/// not of its column's type (E0884).
fn coerce(t: &Table, c: usize, v: Value, span: &Span) -> Result<Value, SqlError> {
    let col = &t.columns[c];
    let call = |f: &str, v: Value| match pomo_stdlib::call(f, std::slice::from_ref(&v)) {
        Ok(Some(out)) => out,
        _ => v,
    };
    let num = |v: Value| match v {
        Value::Str(_) => call("sql_num_aff", v),
        v => v,
    };
    let v = match (col.ty, v) {
        (_, Value::Nil) => Value::Nil,
        (SqlType::Any | SqlType::Blob | SqlType::Null, v) => v,
        (SqlType::Int, v) => match num(v) {
            Value::Bool(b) => Value::Int(i64::from(b)),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Value::Int(f as i64),
            v => v,
        },
        (SqlType::Real, v) => match num(v) {
            Value::Int(i) => Value::Float(i as f64),
            Value::Bool(b) => Value::Float(f64::from(u8::from(b))),
            v => v,
        },
        (SqlType::Text, v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => {
            call("sql_text_aff", v)
        }
        (SqlType::Text, v) => v,
        (SqlType::Bool, v) => match num(v) {
            Value::Int(i) => Value::Bool(i != 0),
            v => v,
        },
    };
    if t.strict {
        let fits = match (col.ty, &v) {
            (_, Value::Nil) | (SqlType::Any, _) => true,
            (SqlType::Int, Value::Int(_)) => true,
            (SqlType::Real, Value::Float(_)) => true,
            (SqlType::Text, Value::Str(_)) => true,
            (SqlType::Blob, Value::Bytes(_)) => true,
            _ => false,
        };
        if !fits {
            let class = match &v {
                Value::Int(_) | Value::Bool(_) => "INTEGER",
                Value::Float(_) => "REAL",
                Value::Str(_) => "TEXT",
                _ => "BLOB",
            };
            return Err(fail(
                "E0884",
                format!(
                    "cannot store {class} value in {} column {}.{}",
                    col.ty.name(),
                    t.name,
                    col.name
                ),
                span,
                "wrong type for a STRICT table",
            ));
        }
    }
    Ok(v)
}

fn first_duplicate(keys: impl Iterator<Item = Vec<Value>>) -> Option<Vec<Value>> {
    let mut seen = BTreeSet::new();
    for k in keys {
        if k.contains(&Value::Nil) {
            continue;
        }
        if !seen.insert(k.clone()) {
            return Some(k);
        }
    }
    None
}

fn unique_error(t: &Table, set: &[usize], key: &[Value], span: &Span) -> SqlError {
    let cols: Vec<String> = set
        .iter()
        .map(|&c| format!("{}.{}", t.name, t.columns[c].name))
        .collect();
    let vals: Vec<String> = key.iter().map(render).collect();
    fail(
        "E0881",
        format!(
            "UNIQUE constraint failed: {} (duplicate value {})",
            cols.join(", "),
            vals.join(", ")
        ),
        span,
        "duplicate",
    )
}
