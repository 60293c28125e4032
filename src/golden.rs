//! Golden plans for users' own queries (`pomo golden DIR [--update]`).
//!
//! Every query file under a directory (`.edn` with its optional `NAME.rules.edn`, `.pomo`,
//! `.sql`) is compiled, and the text of each golden stage (logic, ra, flow, kernel) is compared
//! with the file `NAME.EXT.STAGE.golden` beside it. A difference is reported as a unified diff;
//! `update` rewrites the files instead. The same texts are what [`stage_texts`] returns, so a
//! project can also assert them with insta:
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let q = dir.path().join("adults.edn");
//! std::fs::write(&q, "[:find ?n :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a 18)]]").unwrap();
//! let texts = pomo::golden::stage_texts(&q).unwrap();
//! assert_eq!(texts.len(), 4); // logic, ra, flow, kernel
//! // insta::assert_snapshot!("adults-ra", &texts[1].1);
//!
//! let first = pomo::golden::check_dir(dir.path(), true).unwrap(); // writes the .golden files
//! assert_eq!(first.written, 4);
//! let again = pomo::golden::check_dir(dir.path(), false).unwrap();
//! assert!(again.differences.is_empty());
//! ```

use crate::{Input, Options, Stage};
use std::path::{Path, PathBuf};

/// The stages kept as golden files, with their file-name part.
pub const STAGES: &[(&str, Stage)] = &[
    ("logic", Stage::Logic),
    ("ra", Stage::Ra),
    ("flow", Stage::Flow),
    ("kernel", Stage::Kernel),
];

/// One golden file that does not match (or is missing).
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    pub golden: PathBuf,
    /// A unified diff from the golden text to the current one (everything added when the
    /// golden file is missing).
    pub diff: String,
}

/// What a run over a directory found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Query files compiled.
    pub files: usize,
    /// Golden files compared and equal.
    pub same: usize,
    pub differences: Vec<Difference>,
    /// Golden files written (with `update`).
    pub written: usize,
    /// Query files that did not compile, with their rendered diagnostics.
    pub errors: Vec<(PathBuf, String)>,
}

/// The query files under `dir` (recursively, sorted), rule sets excluded.
pub fn query_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let is_query = [".edn", ".pomo", ".sql"].iter().any(|x| name.ends_with(x))
                && !name.ends_with(".rules.edn");
            if is_query {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The golden file of a query file's stage.
pub fn golden_path(query: &Path, stage: &str) -> PathBuf {
    let mut name = query.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{stage}.golden"));
    query.with_file_name(name)
}

/// Compiles a query file and returns the text of each golden stage, in [`STAGES`] order, or
/// the rendered diagnostics.
pub fn stage_texts(path: &Path) -> Result<Vec<(&'static str, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.display().to_string();
    let catalog = crate::compiler::sql::Catalog::default();
    let rules = if name.ends_with(".edn") {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        std::fs::read_to_string(path.with_file_name(format!("{stem}.rules.edn"))).ok()
    } else {
        None
    };
    let input = if name.ends_with(".pomo") {
        Input::Logic(&text)
    } else if name.ends_with(".sql") {
        Input::Sql {
            text: &text,
            catalog: &catalog,
        }
    } else {
        Input::Edn {
            query: &text,
            rules: rules.as_deref(),
        }
    };
    let c = crate::compile(&input, &Options::default()).map_err(|d| {
        let sources = crate::sources(&input, &name, "rules.edn");
        crate::render(&d, &sources, false)
    })?;
    Ok(STAGES.iter().map(|(n, s)| (*n, c.stage_text(*s))).collect())
}

/// Compares (or with `update`, rewrites) the golden files of every query file under `dir`.
pub fn check_dir(dir: &Path, update: bool) -> std::io::Result<Report> {
    let mut report = Report::default();
    for q in query_files(dir)? {
        report.files += 1;
        let texts = match stage_texts(&q) {
            Ok(t) => t,
            Err(rendered) => {
                report.errors.push((q, rendered));
                continue;
            }
        };
        for (stage, now) in texts {
            let g = golden_path(&q, stage);
            let old = std::fs::read_to_string(&g).ok();
            if old.as_deref() == Some(now.as_str()) {
                report.same += 1;
                continue;
            }
            if update {
                std::fs::write(&g, &now)?;
                report.written += 1;
                continue;
            }
            let before = old.unwrap_or_default();
            let diff = similar::TextDiff::from_lines(&before, &now)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{} (golden)", g.display()),
                    &format!("{} (now)", g.display()),
                )
                .to_string();
            report.differences.push(Difference { golden: g, diff });
        }
    }
    Ok(report)
}
