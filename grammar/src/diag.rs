//! Diagnostics: a code, a message, labelled source spans and an optional help line (ARCHITECTURE §9).
//!
//! Every stage reports bad input as a list of [`Diagnostic`]s and never panics. Rendering with
//! ariadne happens here and only here ([`render`]); spans are byte offsets, so ariadne is
//! configured with `IndexType::Byte` (its default counts chars, which misplaces carets after
//! non-ASCII text).

use crate::span::{FileId, Span};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// A labelled span. The first label of a diagnostic is its primary location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// A stable code such as `E0101`; the catalogue is in the README.
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.into(),
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Adds a label in file 0.
    pub fn with_label(self, span: Span, message: impl Into<String>) -> Self {
        self.with_label_in(0, span, message)
    }

    pub fn with_label_in(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            file,
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Moves every label to `file` (used when a syntax tree read from file 0 came from another
    /// file, such as a rules file).
    pub fn in_file(mut self, file: FileId) -> Self {
        for l in &mut self.labels {
            l.file = file;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// A one-line form without source text: `error[E0101]: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{kind}[{}]: {}", self.code, self.message)
    }
}

/// The source files that diagnostics point into, indexed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<(String, String)>,
}

impl Sources {
    pub fn new() -> Self {
        Sources::default()
    }

    /// Adds a file and returns its id (ids are given in order, starting at 0).
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push((name.into(), text.into()));
        self.files.len() - 1
    }

    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.0.as_str())
            .unwrap_or("<unknown>")
    }

    pub fn text(&self, id: FileId) -> &str {
        self.files.get(id).map(|f| f.1.as_str()).unwrap_or("")
    }
}

/// Renders diagnostics with ariadne, in order, separated by blank lines. Without `color` the
/// output is plain text, stable for snapshots.
pub fn render(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    use ariadne::{Config, IndexType, Label as ALabel, Report, ReportKind};

    let mut out = Vec::new();
    for d in diags {
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        // Clamp spans into their file so that a bad span can never make rendering panic.
        let clamp = |file: FileId, span: &Span| {
            let len = sources.text(file).len();
            let s = span.start.min(len);
            s..span.end.clamp(s, len)
        };
        let primary = d
            .labels
            .first()
            .map(|l| (sources.name(l.file).to_string(), clamp(l.file, &l.span)))
            .unwrap_or_else(|| (sources.name(0).to_string(), 0..0));
        let mut report = Report::build(kind, primary)
            .with_config(
                Config::default()
                    .with_color(color)
                    .with_index_type(IndexType::Byte),
            )
            .with_code(&d.code)
            .with_message(&d.message);
        for l in &d.labels {
            let mut label = ALabel::new((sources.name(l.file).to_string(), clamp(l.file, &l.span)));
            if !l.message.is_empty() {
                label = label.with_message(&l.message);
            }
            report = report.with_label(label);
        }
        if let Some(h) = &d.help {
            report = report.with_help(h);
        }
        for n in &d.notes {
            report = report.with_note(n);
        }
        let cache = ariadne::sources(
            (0..sources.files.len())
                .map(|i| (sources.name(i).to_string(), sources.text(i).to_string())),
        );
        let mut buf = Vec::new();
        if report.finish().write(cache, &mut buf).is_err() {
            buf = format!("{d}\n").into_bytes();
        }
        out.extend_from_slice(&buf);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A compact one-line-per-diagnostic form for tests: `E0101 3..7: message`, using the primary
/// label's span (or `-` without labels).
pub fn summary(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| match d.labels.first() {
            Some(l) => format!("{} {}..{}: {}", d.code, l.span.start, l.span.end, d.message),
            None => format!("{} -: {}", d.code, d.message),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The diagnostic codes of pomo-grammar. Codes are stable: a code is never reused for a
/// different error, and tests and golden files refer to them.
///
/// Lexing and reading (all three languages share these):
///
/// | code  | meaning |
/// |-------|---------|
/// | E0001 | unexpected character (no token starts here) |
/// | E0002 | unterminated string |
/// | E0003 | unknown or malformed escape in a string (`\q`, bad `\uXXXX`) |
/// | E0004 | malformed character literal (`\foo`, a backslash before whitespace) |
/// | E0005 | integer literal out of the 64-bit range |
/// | E0006 | malformed number (`1.5x`, `0x10`) or a float that overflows |
/// | E0007 | unterminated backquoted name (PomoLogic, PomoRA) |
/// | E0009 | brackets nest too deeply |
///
/// EDN grammar, and bracket matching in every language:
///
/// | code  | meaning |
/// |-------|---------|
/// | E0010 | unexpected token (EDN) |
/// | E0011 | unexpected end of input (EDN) |
/// | E0012 | unclosed bracket (labels the opener) |
/// | E0013 | unmatched closing bracket |
/// | E0014 | mismatched closing bracket (labels the opener) |
/// | E0015 | map with an odd number of forms |
/// | E0016 | duplicate map key |
/// | E0017 | duplicate set element |
/// | E0018 | expected exactly one form (none, or more than one) |
///
/// PomoLogic text syntax:
///
/// | code  | meaning |
/// |-------|---------|
/// | E0020 | unexpected token |
/// | E0021 | unexpected end of program |
/// | E0022 | output option not after `.output` (or a raw atom without `:-` / `.`), bad option argument |
/// | E0023 | bare identifier where a term belongs |
/// | E0024 | malformed aggregate (result not a variable, named arguments) |
/// | E0025 | rule head named by a variable |
/// | E0026 | constant on the left of `:=` |
///
/// PomoRA text syntax:
///
/// | code  | meaning |
/// |-------|---------|
/// | E0030 | unexpected token |
/// | E0031 | unexpected end of plan |
/// | E0032 | `values` row whose width differs from the attribute list |
/// | E0033 | negative stratum index |
///
/// SQL (the lexer and bracket codes above apply too; `E0002` is also an unterminated `'…'`):
///
/// | code  | meaning |
/// |-------|---------|
/// | E0800 | unexpected token |
/// | E0801 | unexpected end of statement |
/// | E0802 | unterminated quoted name (`"…`, `` `… ``, `[…`) |
/// | E0803 | `INTERSECT ALL` / `EXCEPT ALL` (SQLite rejects them too) |
/// | E0804 | `OFFSET` without `LIMIT` |
/// | E0805 | not exactly one statement where one is expected |
/// | E0806 | operators nest too deeply |
/// | E0807 | a column constraint given twice (`DEFAULT`, `REFERENCES`) |
///
/// Query shape (Datomic query language and rule sets):
///
/// | code  | meaning |
/// |-------|---------|
/// | E0100 | the query is not a vector or a map |
/// | E0101 | the query vector does not start with a keyword |
/// | E0102 | unknown query keyword |
/// | E0103 | a query section given twice |
/// | E0104 | missing or empty `:find` |
/// | E0105 | misplaced `.` / `...`, or an empty tuple, in `:find` |
/// | E0106 | invalid find element |
/// | E0107 | malformed aggregate or pull expression in `:find` |
/// | E0108 | `:keys` / `:strs` / `:syms` count differs from the number of find elements |
/// | E0109 | malformed return map (non-symbol names, two return maps, scalar or collection find) |
/// | E0110 | non-variable in `:with` |
/// | E0111 | invalid `:in` element |
/// | E0112 | malformed binding form |
/// | E0114 | malformed clause (names the expected shapes) |
/// | E0115 | plain symbol in a data pattern |
/// | E0116 | data pattern with no terms or more than five |
/// | E0117 | malformed function or predicate call, or a bad argument |
/// | E0119 | `and` outside an `or` / `or-join` branch |
/// | E0120 | `not` / `not-join` without clauses |
/// | E0121 | missing, empty or malformed join variables of `not-join` / `or-join` |
/// | E0122 | `or` / `or-join` without branches, or an empty `(and)` branch |
/// | E0123 | invalid rule name or rule argument in a rule call |
/// | E0124 | query map key not a keyword, or value not a vector |
/// | E0130 | rule set not a vector |
/// | E0131 | rule definition not `[(name args…) clause…]` |
/// | E0132 | rule head without a name |
/// | E0133 | rule head argument not a variable |
/// | E0134 | rule without body clauses |
pub mod codes {}
