//! SQL on the command line: `pomo query` on a SQL script and the `pomo sql` shell, both on a
//! [`Session`] over the store, and the printing of SQL rows (`table`, `csv`, `json`, `edn`).
//!
//! A script's statements run in order, each one transaction (the session's rule); the first
//! failing statement stops the script, and its diagnostics are rendered against the script's
//! text. `query` opens the store read-only when every statement is a query, so that it runs
//! beside a writer, and for writing otherwise. The shell always opens it for writing.
//!
//! Printed values are SQL's: NULL is `NULL` in a table, an empty field in CSV, `null` in JSON and
//! `nil` in EDN; booleans print as SQLite prints them (`1`/`0`) in tables and CSV, and as
//! `true`/`false` in JSON and EDN; reals always show a fraction or an exponent (`2.0`).

use super::{Format, Loaded, StoreArg, color, usage};
use crate::store_cmd;
use pomo::grammar::Diagnostic;
use pomo::grammar::sql_syntax::{Statement, Stmt, parse_script};
use pomo::query::Backend;
use pomo::runtime::results;
use pomo::sql::{Outcome, Rows, Session};
use pomo_types::Value;
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Renders diagnostics against a SQL text on stderr.
fn report(diags: &[Diagnostic], name: &str, text: &str) {
    let mut src = pomo::Sources::new();
    src.add(name, text);
    eprint!("{}", pomo::render(diags, &src, color()));
}

/// Whether a statement writes (anything but a query).
fn writes(st: &Statement) -> bool {
    !matches!(st.kind, Stmt::Query(_))
}

/// `pomo query` on a SQL script: runs its statements in a session and prints the rows of its
/// last query. `--timing`'s compile time is the parse of the script and the compilation of that
/// query; its run time is everything else (the other statements and the query's run).
pub fn query(
    loaded: &Loaded,
    store: &StoreArg,
    format: Format,
    timing: bool,
    backend: &Backend,
) -> ExitCode {
    let (name, text) = (&loaded.name, &loaded.text);
    let started = Instant::now();
    let statements = match parse_script(text) {
        Ok(s) => s,
        Err(d) => {
            report(&d, name, text);
            return ExitCode::from(1);
        }
    };
    let mut compiled = started.elapsed();
    let mut ran = Duration::ZERO;
    let writing = statements.iter().any(writes);
    if let Backend::Dataflow(c) = backend
        && writing
        && c.processes > 1
    {
        return usage("a SQL script that writes runs in one process");
    }
    let opened = if writing {
        store_cmd::open(store)
    } else {
        store_cmd::open_for_reading(store)
    };
    let mut session = match opened {
        Ok(s) => Session::new(s).with_backend(backend.clone()),
        Err(c) => return c,
    };
    let last = statements.iter().rposition(|s| !writes(s));
    let mut shown = None;
    for (i, st) in statements.iter().enumerate() {
        let result = match &st.kind {
            Stmt::Query(q) if Some(i) == last => {
                // The same steps as `Session::query`, timed apart.
                let t = Instant::now();
                let prepared = session.prepare(q);
                compiled += t.elapsed();
                let t = Instant::now();
                let result = prepared.and_then(|(p, cols)| {
                    session.run(&p, &q.span).map(|rows| Rows {
                        names: cols.names,
                        types: cols.types,
                        rows,
                    })
                });
                ran += t.elapsed();
                result.map(|rows| shown = Some(rows))
            }
            _ => {
                let t = Instant::now();
                let result = session.statement(st, text);
                ran += t.elapsed();
                result.map(|_| ())
            }
        };
        if let Err(e) = result {
            report(&e.diagnostics, name, text);
            return ExitCode::from(1);
        }
    }
    if timing {
        eprintln!(
            "timing: compile={:.3} run={:.3}",
            compiled.as_secs_f64() * 1e3,
            ran.as_secs_f64() * 1e3
        );
    }
    // In a cluster only process 0 prints.
    if let Backend::Dataflow(c) = backend
        && c.process != 0
    {
        return ExitCode::SUCCESS;
    }
    if let Some(rows) = shown {
        out!("{}", format_rows(&rows, format));
    }
    ExitCode::SUCCESS
}

// ---- printing rows ---------------------------------------------------------------------------

/// A query's rows in an output format, ending with a newline.
pub fn format_rows(rows: &Rows, format: Format) -> String {
    match format {
        Format::Table => table(rows),
        Format::Csv => csv(rows),
        Format::Json => json(rows),
        Format::Edn => {
            let v = Value::Tuple(rows.rows.iter().cloned().map(Value::Tuple).collect());
            format!("{}\n", results::to_edn(&v))
        }
    }
}

/// A value as text, for tables and CSV (NULL aside).
fn cell(v: &Value) -> String {
    match v {
        Value::Nil => "NULL".into(),
        Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "NaN".into(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { "Inf" } else { "-Inf" }.into(),
        Value::Float(f) => pomo_types::value::format_float(*f),
        Value::Str(s) => s.clone(),
        other => results::to_edn(other),
    }
}

/// A boxed table with a header; numbers are aligned right, everything else left. Control
/// characters in text are escaped so that a cell stays on its line.
fn table(rows: &Rows) -> String {
    let escape = |s: String| {
        if s.contains(['\n', '\r', '\t']) {
            s.replace('\n', "\\n")
                .replace('\r', "\\r")
                .replace('\t', "\\t")
        } else {
            s
        }
    };
    let cells: Vec<Vec<(String, bool)>> = rows
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| {
                    let right = matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_));
                    (escape(cell(v)), right)
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = rows
        .names
        .iter()
        .map(|n| escape(n.clone()).chars().count())
        .collect();
    for r in &cells {
        for (i, (c, _)) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let rule: String = widths.iter().fold("+".to_string(), |mut s, w| {
        s.push_str(&"-".repeat(w + 2));
        s.push('+');
        s
    });
    let line = |out: &mut String, r: &[(String, bool)]| {
        out.push('|');
        for (i, (c, right)) in r.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            let _ = if *right {
                write!(out, " {c:>w$} |")
            } else {
                write!(out, " {c:<w$} |")
            };
        }
        out.push('\n');
    };
    let mut out = format!("{rule}\n");
    let header: Vec<(String, bool)> = rows
        .names
        .iter()
        .map(|n| (escape(n.clone()), false))
        .collect();
    line(&mut out, &header);
    let _ = writeln!(out, "{rule}");
    if !cells.is_empty() {
        for r in &cells {
            line(&mut out, r);
        }
        let _ = writeln!(out, "{rule}");
    }
    out
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or an edge
/// space, and when it is the empty string (so that it differs from NULL, an empty field).
fn csv_field(out: &mut String, s: &str) {
    let quote = s.is_empty()
        || s.contains([',', '"', '\n', '\r'])
        || s.starts_with(' ')
        || s.ends_with(' ');
    if quote {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// CSV with a header line; NULL is an empty field.
fn csv(rows: &Rows) -> String {
    let mut out = String::new();
    for (i, n) in rows.names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(&mut out, n);
    }
    out.push('\n');
    for r in &rows.rows {
        for (i, v) in r.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if *v != Value::Nil {
                csv_field(&mut out, &cell(v));
            }
        }
        out.push('\n');
    }
    out
}

/// A JSON array of objects keyed by column name, one row per line (sqlite3's `.mode json`).
fn json(rows: &Rows) -> String {
    let mut out = String::from("[");
    for (i, r) in rows.rows.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        out.push('{');
        for (j, (n, v)) in rows.names.iter().zip(r).enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{}:{}",
                results::to_json(&Value::Str(n.clone())),
                results::to_json(v)
            );
        }
        out.push('}');
    }
    out.push_str("]\n");
    out
}

// ---- the shell -------------------------------------------------------------------------------

const PROMPT: &str = "pomo> ";
const CONTINUE: &str = "   ...> ";
/// The name diagnostics give the shell's input.
const INPUT: &str = "<stdin>";
/// The shell's history file, in the store directory.
pub const HISTORY: &str = ".pomo_sql_history";

const HELP: &str = "\
Statements end with `;` and may span lines. Commands:
.help                 this text
.quit, .exit          leave the shell
.tables               the tables, one per line
.schema [TABLE]       the CREATE statements of every table (or of TABLE)
.timer on|off         print `Run Time: real SECONDS` after each statement
.mode [MODE]          print rows as table, csv, json or edn (without MODE: the current one)
";

/// Where a SQL text stands: whether it holds anything besides blanks and comments, and
/// whether its last token is a `;` outside quotes and comments (a statement is complete).
#[derive(Debug, PartialEq, Eq)]
struct Scan {
    empty: bool,
    complete: bool,
}

fn scan(text: &str) -> Scan {
    let b = text.as_bytes();
    let (mut i, mut empty, mut semi) = (0, true, false);
    let open = |empty| Scan {
        empty,
        complete: false,
    };
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = text[i..].find('\n').map_or(b.len(), |j| i + j + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(j) => i += j + 4,
                None => return open(empty),
            },
            q @ (b'\'' | b'"' | b'`' | b'[') => {
                let close = if q == b'[' { b']' } else { q };
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None => return open(false),
                        // A doubled quote stands for itself.
                        Some(&c) if c == close && q != b'[' && b.get(j + 1) == Some(&close) => {
                            j += 2
                        }
                        Some(&c) if c == close => break,
                        Some(_) => j += 1,
                    }
                }
                i = j + 1;
                empty = false;
                semi = false;
            }
            c => {
                empty = false;
                semi = c == b';';
                i += 1;
            }
        }
    }
    Scan {
        empty,
        complete: semi,
    }
}

/// What the shell does after a line.
#[derive(PartialEq, Eq)]
enum Next {
    Read,
    Quit,
}

struct Shell {
    session: Session,
    mode: Format,
    timer: bool,
    /// The statement text read so far.
    buf: String,
    /// Whether a statement or a command failed (the exit code of a piped session).
    failed: bool,
}

/// `pomo sql`: the shell on the store, interactive on a terminal, else reading stdin.
pub fn shell(store: &StoreArg, backend: Backend) -> ExitCode {
    let s = match store_cmd::open(store) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut sh = Shell {
        session: Session::new(s).with_backend(backend),
        mode: Format::Table,
        timer: false,
        buf: String::new(),
        failed: false,
    };
    if std::io::stdin().is_terminal() {
        interactive(&mut sh, &store.dir())
    } else {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if sh.line(&line) == Next::Quit {
                break;
            }
        }
        sh.finish();
        if sh.failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// The shell on a terminal: rustyline's line editing, history in the store directory.
fn interactive(sh: &mut Shell, dir: &str) -> ExitCode {
    use rustyline::error::ReadlineError;
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return ExitCode::from(1);
        }
    };
    let history = std::path::Path::new(dir).join(HISTORY);
    // A first session has no history yet.
    let _ = editor.load_history(&history);
    outln!("pomo sql on {dir}: statements end with `;`, .help lists the commands");
    loop {
        let prompt = if scan(&sh.buf).empty {
            PROMPT
        } else {
            CONTINUE
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if sh.line(&line) == Next::Quit {
                    break;
                }
            }
            // Ctrl-C drops the statement being typed.
            Err(ReadlineError::Interrupted) => sh.buf.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    sh.finish();
    if let Err(e) = editor.save_history(&history) {
        eprintln!(
            "warning: cannot save the history in {}: {e}",
            history.display()
        );
    }
    ExitCode::SUCCESS
}

impl Shell {
    /// Takes one line: a dot command when no statement is pending, else statement text, run
    /// once it ends with `;`.
    fn line(&mut self, line: &str) -> Next {
        if scan(&self.buf).empty && line.trim_start().starts_with('.') {
            self.buf.clear();
            return self.command(line.trim());
        }
        self.buf.push_str(line);
        self.buf.push('\n');
        if scan(&self.buf).complete {
            let text = std::mem::take(&mut self.buf);
            self.run(&text);
        }
        Next::Read
    }

    /// Runs what is left at the end of the input, `;` or not.
    fn finish(&mut self) {
        let text = std::mem::take(&mut self.buf);
        if !scan(&text).empty {
            self.run(&text);
        }
    }

    /// Runs the statements of a text, printing each query's rows; stops at the first error.
    fn run(&mut self, text: &str) {
        let statements = match parse_script(text) {
            Ok(s) => s,
            Err(d) => {
                report(&d, INPUT, text);
                self.failed = true;
                return;
            }
        };
        let mut out = std::io::stdout().lock();
        for st in &statements {
            let started = Instant::now();
            let result = self.session.statement(st, text);
            let elapsed = started.elapsed();
            let ok = match result {
                Ok(Outcome::Rows(rows)) => {
                    let _ = out.write_all(format_rows(&rows, self.mode).as_bytes());
                    true
                }
                Ok(Outcome::Done { .. }) => true,
                Err(e) => {
                    let _ = out.flush();
                    report(&e.diagnostics, INPUT, text);
                    self.failed = true;
                    false
                }
            };
            if self.timer {
                let _ = writeln!(out, "Run Time: real {:.3}", elapsed.as_secs_f64());
            }
            let _ = out.flush();
            if !ok {
                break;
            }
        }
    }

    fn command(&mut self, line: &str) -> Next {
        let mut words = line.split_whitespace();
        let cmd = words.next().unwrap_or("");
        let args: Vec<&str> = words.collect();
        let mut out = std::io::stdout().lock();
        let result = match (cmd, args.as_slice()) {
            (".help", []) => {
                let _ = out.write_all(HELP.as_bytes());
                Ok(())
            }
            (".quit" | ".exit", []) => return Next::Quit,
            (".tables", []) => {
                for name in self.session.catalog().tables.keys() {
                    let _ = writeln!(out, "{name}");
                }
                Ok(())
            }
            (".schema", [] | [_]) => {
                let _ = out.write_all(self.schema(args.first().copied()).as_bytes());
                Ok(())
            }
            (".timer", ["on"]) => {
                self.timer = true;
                Ok(())
            }
            (".timer", ["off"]) => {
                self.timer = false;
                Ok(())
            }
            (".timer", _) => Err("usage: .timer on|off".to_string()),
            (".mode", []) => {
                let name = format!("{:?}", self.mode).to_ascii_lowercase();
                let _ = writeln!(out, "{name}");
                Ok(())
            }
            (".mode", [m]) => match *m {
                "table" => Ok(Format::Table),
                "csv" => Ok(Format::Csv),
                "json" => Ok(Format::Json),
                "edn" => Ok(Format::Edn),
                _ => Err("usage: .mode table|csv|json|edn".to_string()),
            }
            .map(|m| self.mode = m),
            (".help" | ".tables" | ".schema" | ".mode", _) => {
                Err(format!("{cmd}: wrong arguments; .help lists the commands"))
            }
            _ => Err(format!("unknown command `{cmd}`; .help lists the commands")),
        };
        let _ = out.flush();
        if let Err(msg) = result {
            eprintln!("error: {msg}");
            self.failed = true;
        }
        Next::Read
    }

    /// The CREATE statements of the tables that exist (of `only`, if given), as written, in the
    /// order they were run: each table's CREATE TABLE, then its CREATE INDEXes. They come from
    /// the `:sql/ddl` facts the session records on its DDL transactions.
    fn schema(&self, only: Option<&str>) -> String {
        let db = self.session.store().db();
        let mut ddl = db.datoms_eavt(None, Some(pomo::sql::DDL_ATTR), None);
        ddl.sort_by_key(|d| d.tx);
        // Table name and its statements, in creation order.
        let mut tables: Vec<(String, Vec<String>)> = Vec::new();
        for d in ddl {
            let Value::Str(text) = &d.v else { continue };
            let Ok(st) = pomo::grammar::sql_syntax::parse_statement(text) else {
                continue;
            };
            match &st.kind {
                Stmt::CreateTable(ct) => {
                    tables.retain(|(n, _)| *n != ct.name.name);
                    tables.push((ct.name.name.clone(), vec![text.clone()]));
                }
                Stmt::CreateIndex(ci) => {
                    if let Some((_, texts)) = tables.iter_mut().find(|(n, _)| *n == ci.table.name) {
                        texts.push(text.clone());
                    }
                }
                Stmt::Drop { name, .. } => tables.retain(|(n, _)| *n != name.name),
                _ => {}
            }
        }
        let catalog = self.session.catalog();
        let wanted = |n: &str| match only {
            Some(o) => n == o || n == o.to_ascii_lowercase(),
            None => true,
        };
        let mut out = String::new();
        for (name, texts) in &tables {
            if catalog.table(name).is_none() || !wanted(name) {
                continue;
            }
            for t in texts {
                let _ = writeln!(out, "{};", t.trim_end().trim_end_matches(';'));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{Format, Scan, format_rows, scan};
    use pomo::compiler::sql::SqlType;
    use pomo::sql::Rows;
    use pomo_types::Value;

    fn rows() -> Rows {
        Rows {
            names: vec!["a".into(), "b".into()],
            types: vec![SqlType::Int, SqlType::Text],
            rows: vec![
                vec![Value::Int(1), Value::Str("x, \"y\"".into())],
                vec![Value::Float(2.0), Value::Nil],
                vec![Value::Bool(true), Value::Str(String::new())],
            ],
        }
    }

    fn check(format: Format, expected: &str) {
        assert_eq!(format_rows(&rows(), format), expected);
    }

    #[test]
    fn table() {
        check(
            Format::Table,
            "\
+-----+--------+
| a   | b      |
+-----+--------+
|   1 | x, \"y\" |
| 2.0 | NULL   |
|   1 |        |
+-----+--------+
",
        );
    }

    #[test]
    fn csv_quotes_by_rfc_4180_and_null_is_an_empty_field() {
        check(Format::Csv, "a,b\n1,\"x, \"\"y\"\"\"\n2.0,\n1,\"\"\n");
    }

    #[test]
    fn json_is_an_array_of_objects() {
        check(
            Format::Json,
            "[{\"a\":1,\"b\":\"x, \\\"y\\\"\"},\n{\"a\":2.0,\"b\":null},\n{\"a\":true,\"b\":\"\"}]\n",
        );
    }

    #[test]
    fn edn_is_a_vector_of_rows() {
        check(
            Format::Edn,
            "[[1 \"x, \\\"y\\\"\"] [2.0 nil] [true \"\"]]\n",
        );
    }

    fn scanned(text: &str, empty: bool, complete: bool) {
        assert_eq!(scan(text), Scan { empty, complete }, "{text:?}");
    }

    #[test]
    fn a_statement_is_complete_at_a_semicolon_outside_quotes_and_comments() {
        scanned("", true, false);
        scanned("  -- a comment\n", true, false);
        scanned("SELECT 1;", false, true);
        scanned("SELECT 1;  -- done\n", false, true);
        scanned("SELECT 1\n", false, false);
        scanned("SELECT ';'\n", false, false);
        scanned("SELECT 'it''s;'", false, false);
        scanned("SELECT 'it''s';", false, true);
        scanned("SELECT 'open;\n", false, false);
        scanned("SELECT \"a;b\" FROM t;", false, true);
        scanned("SELECT [a;b] FROM t", false, false);
        scanned("SELECT 1 /* ; */", false, false);
        scanned("SELECT 1 /* ;", false, false);
        scanned("SELECT 1; SELECT 2", false, false);
    }
}
