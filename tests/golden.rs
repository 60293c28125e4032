//! Golden tests (insta) over the query corpus in `tests/corpus`:
//!
//! * every good query or program is compiled (with plan validation after every pass) and its
//!   `logic`, `strata`, `ra`, `flow`, `kernel` and `clif` stages are snapshotted;
//! * every printed PomoLogic and PomoRA text parses back to the same text (round trip);
//! * every bad input fails, and its rendered diagnostics are snapshotted.
//!
//! Add a case by dropping a file into `tests/corpus/queries` or `tests/corpus/errors` and
//! accepting its snapshots (`INSTA_UPDATE=always cargo test --test golden`, then review).

use pomo::{Input, Options, Stage};
use std::path::Path;

fn read_case(path: &Path) -> (String, Option<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let rules = path.with_file_name(format!(
        "{}.rules.edn",
        path.file_stem().unwrap().to_str().unwrap()
    ));
    (text, std::fs::read_to_string(rules).ok())
}

/// The catalog of a `.sql` case: its own CREATE TABLE statements only.
static NO_TABLES: std::sync::LazyLock<pomo::compiler::sql::Catalog> =
    std::sync::LazyLock::new(Default::default);

fn input<'a>(path: &Path, text: &'a str, rules: Option<&'a str>) -> Input<'a> {
    if path.extension().is_some_and(|e| e == "pomo") {
        Input::Logic(text)
    } else if path.extension().is_some_and(|e| e == "sql") {
        Input::Sql {
            text,
            catalog: &NO_TABLES,
        }
    } else {
        Input::Edn { query: text, rules }
    }
}

fn is_rules_file(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.ends_with(".rules.edn"))
}

fn options() -> Options {
    Options {
        validate: true,
        ..Options::default()
    }
}

#[test]
fn golden_stages() {
    insta::glob!("corpus/queries/*.{edn,pomo,sql}", |path| {
        if is_rules_file(path) {
            return;
        }
        let (text, rules) = read_case(path);
        let inp = input(path, &text, rules.as_deref());
        let c = match pomo::compile(&inp, &options()) {
            Ok(c) => c,
            Err(d) => {
                let src = pomo::sources(&inp, &path.display().to_string(), "rules");
                panic!(
                    "{} failed to compile:\n{}",
                    path.display(),
                    pomo::render(&d, &src, false)
                );
            }
        };
        insta::assert_snapshot!("logic", c.stage_text(Stage::Logic));
        insta::assert_snapshot!("strata", c.stage_text(Stage::Strata));
        insta::assert_snapshot!("ra", c.stage_text(Stage::Ra));
        insta::assert_snapshot!("flow", c.stage_text(Stage::Flow));
        insta::assert_snapshot!("kernel", c.stage_text(Stage::Kernel));
        if let Err(m) = c.kernel.validate() {
            panic!("{}: the kernel plan does not validate: {m}", path.display());
        }
        // The CLIF the JIT compiles the kernels to (ARCHITECTURE, convention 9: CLIF is a golden stage too).
        let clif = pomo::runtime::jit::codegen::clif_text(&c.kernel)
            .unwrap_or_else(|e| panic!("{}: no CLIF: {e}", path.display()));
        insta::assert_snapshot!("clif", clif);
    });
}

#[test]
fn printed_logic_and_plans_parse_back() {
    insta::glob!("corpus/queries/*.{edn,pomo,sql}", |path| {
        if is_rules_file(path) {
            return;
        }
        let (text, rules) = read_case(path);
        let c = pomo::compile(&input(path, &text, rules.as_deref()), &options()).unwrap();
        // PomoLogic: print, read, print gives the same text, and the same plan.
        let logic = c.stage_text(Stage::Logic);
        let again = pomo::compile(&Input::Logic(&logic), &options()).unwrap_or_else(|d| {
            panic!(
                "{}: printed logic does not compile: {d:?}\n{logic}",
                path.display()
            )
        });
        assert_eq!(
            again.stage_text(Stage::Logic),
            logic,
            "{}: logic round trip",
            path.display()
        );
        assert_eq!(
            again.stage_text(Stage::Ra),
            c.stage_text(Stage::Ra),
            "{}: plan from printed logic",
            path.display()
        );
        // PomoRA: both the raw and the optimized plan read back to themselves.
        for plan in [&c.raw, &c.plan] {
            let text = plan.to_string();
            let parsed = pomo::compiler::ra::parse::parse_plan(&text).unwrap_or_else(|d| {
                panic!("{}: plan does not parse: {d:?}\n{text}", path.display())
            });
            assert_eq!(
                parsed.to_string(),
                text,
                "{}: plan round trip",
                path.display()
            );
            assert!(pomo::compiler::ra::validate::validate(&parsed).is_empty());
        }
    });
}

#[test]
fn golden_errors() {
    insta::glob!("corpus/errors/*.{edn,pomo,sql}", |path| {
        if is_rules_file(path) {
            return;
        }
        let (text, rules) = read_case(path);
        let inp = input(path, &text, rules.as_deref());
        let name = path.file_name().unwrap().to_str().unwrap();
        let diags = match pomo::explain(&inp, Stage::Ra, &options()) {
            Ok(out) => panic!("{name} compiled but should fail:\n{out}"),
            Err(d) => d,
        };
        assert!(
            diags
                .iter()
                .all(|d| !d.code.is_empty() && !d.labels.is_empty()),
            "{name}: every error has a code and a span"
        );
        let sources = pomo::sources(&inp, name, "rules.edn");
        insta::assert_snapshot!("diagnostics", pomo::render(&diags, &sources, false));
    });
}
