//! Diagnostics: a code, a message, labelled source spans and an optional help line (DESIGN §9).
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
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    /// Adds a label in file 0.
    pub fn with_label(self, span: Span, message: impl Into<String>) -> Self {
        self.with_label_in(0, span, message)
    }

    pub fn with_label_in(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { file, span, message: message.into() });
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
        self.files.get(id).map(|f| f.0.as_str()).unwrap_or("<unknown>")
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
            (0..sources.files.len()).map(|i| (sources.name(i).to_string(), sources.text(i).to_string())),
        );
        let mut buf = Vec::new();
        if report.finish().write(cache, &mut buf).is_err() {
            buf = format!("{d}\n").into_bytes();
        }
        out.extend_from_slice(&buf);
    }
    String::from_utf8_lossy(&out).into_owned()
}
