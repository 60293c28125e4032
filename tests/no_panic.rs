//! Bad input never panics: every corpus case, cut short at many points and with single bytes
//! replaced, goes through the whole pipeline (with plan validation, and the JIT's code
//! generator for what compiles) and either compiles or returns diagnostics that each carry a
//! code and a span inside the source.

use pomo::{Input, Options};
use std::panic::{AssertUnwindSafe, catch_unwind};

fn variants(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let cuts: Vec<usize> = (0..=src.len())
        .filter(|i| src.is_char_boundary(*i))
        .collect();
    let step = (cuts.len() / 24).max(1);
    for &c in cuts.iter().step_by(step) {
        out.push(src[..c].to_string());
    }
    let bytes: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&i| i < src.len() && src.as_bytes()[i].is_ascii())
        .collect();
    for (k, &i) in bytes.iter().enumerate().step_by((bytes.len() / 24).max(1)) {
        for rep in ["]", "(", "?", "\"", "!", " ", "x"] {
            if (k + rep.len()) % 3 == 0 || rep == "]" {
                let mut s = src.to_string();
                s.replace_range(i..i + 1, rep);
                out.push(s);
            }
        }
    }
    out
}

#[test]
fn corrupted_corpus_inputs_never_panic() {
    let opts = Options {
        validate: true,
        ..Options::default()
    };
    let mut checked = 0;
    for dir in ["tests/corpus/queries", "tests/corpus/errors"] {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files {
            let name = path.to_str().unwrap().to_string();
            if name.ends_with(".rules.edn")
                || !(name.ends_with(".edn") || name.ends_with(".pomo") || name.ends_with(".sql"))
            {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            for v in variants(&src) {
                let no_tables = pomo::compiler::sql::Catalog::default();
                let input = if name.ends_with(".pomo") {
                    Input::Logic(&v)
                } else if name.ends_with(".sql") {
                    Input::Sql {
                        text: &v,
                        catalog: &no_tables,
                    }
                } else {
                    Input::Edn {
                        query: &v,
                        rules: None,
                    }
                };
                let result = catch_unwind(AssertUnwindSafe(|| pomo::compile(&input, &opts)));
                let Ok(result) = result else {
                    panic!("{name}: the pipeline panicked on:\n{v}")
                };
                // A plan that compiles also goes through the JIT's code generator.
                if let Ok(c) = &result {
                    let clif = catch_unwind(AssertUnwindSafe(|| {
                        pomo::runtime::jit::codegen::clif_text(&c.kernel)
                    }));
                    assert!(clif.is_ok(), "{name}: the code generator panicked on:\n{v}");
                }
                if let Err(diags) = result {
                    assert!(!diags.is_empty(), "{name}: failure without a diagnostic");
                    for d in &diags {
                        assert!(!d.code.is_empty(), "{name}: diagnostic without a code: {d}");
                        assert!(
                            !d.code.starts_with("E09"),
                            "{name}: internal error on:\n{v}\n{d:?}"
                        );
                        for l in &d.labels {
                            assert!(
                                l.span.end <= v.len() && l.span.start <= l.span.end,
                                "{name}: span out of range: {d:?}"
                            );
                        }
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} variants checked");
}

/// The SQL session (DDL, DML with its constraint checks, then the query) on every corrupted
/// variant of the corpus's SQL scripts: an error or rows, never a panic.
#[test]
fn corrupted_sql_scripts_never_panic_in_a_session() {
    let mut files: Vec<_> = std::fs::read_dir("tests/corpus/queries")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut checked = 0;
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap();
        for v in variants(&src) {
            let r = catch_unwind(AssertUnwindSafe(|| {
                let mut s = pomo::sql::Session::new(pomo::runtime::store::Store::in_memory())
                    .with_backend(pomo::query::Backend::Reference);
                if let Err(e) = s.execute(&v) {
                    assert!(
                        e.diagnostics.iter().all(|d| !d.code.is_empty()),
                        "a diagnostic without a code"
                    );
                }
            }));
            assert!(
                r.is_ok(),
                "{}: the session panicked on:\n{v}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} variants");
}
