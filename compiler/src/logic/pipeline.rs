//! The logic-stage pipeline (ARCHITECTURE, convention 4): one list of named passes over the
//! PomoLogic program every front end lowers to, run once each, in order, before the program is
//! checked.
//!
//! Order, and why:
//! 1. `magic_sets` first (and so far alone): it turns rules that need bindings from their
//!    callers into instances that get them, which the check would otherwise refuse; it must
//!    run before anything that assumes every rule binds its own variables.
//!
//! Passes switched off by name are skipped; a trace receives the program after each pass.

use super::ir::Program;
use super::passes;
use crate::pass::{self, Options, Pass, PassError};

/// The passes, in order.
pub const PASSES: &[Pass<Program>] = &[Pass {
    name: "magic_sets",
    run: passes::magic_sets::run,
}];

/// Whether `name` is a pass of the pipeline.
pub fn is_pass(name: &str) -> bool {
    PASSES.iter().any(|p| p.name == name)
}

/// Runs the passes over `program`, in order. The program is checked after the pipeline (by
/// `logic::check`, with diagnostics for the user), so there is nothing to validate between passes.
pub fn optimize(program: &mut Program, opts: Options<'_, Program>) -> Result<(), PassError> {
    pass::run_in_order(PASSES, program, |_| Vec::new(), opts)
}

#[cfg(test)]
mod tests {
    use super::optimize;
    use crate::logic::{parse::parse_program, print};

    /// Runs the pipeline without the passes in `disabled` and compares the trace: the pass
    /// names with whether they changed the program, then the program.
    fn check(input: &str, disabled: &[&str], expected: &str) {
        let mut program = parse_program(input, 0).expect("the test input parses");
        let disabled: Vec<String> = disabled.iter().map(|d| d.to_string()).collect();
        let mut steps = Vec::new();
        let mut record =
            |name: &'static str, _round: usize, changed: bool, _: &crate::logic::ir::Program| {
                steps.push(format!("{name}: {changed}"));
            };
        let opts = crate::pass::Options {
            disabled: &disabled,
            validate: false,
            trace: Some(&mut record),
        };
        optimize(&mut program, opts).expect("nothing to validate");
        steps.push(print::program(&program).trim().to_string());
        assert_eq!(steps.join("\n"), expected.trim());
    }

    const NEEDS_MIN: &str = "
.input in1(min) scalar
.decl emp(e, salary)
.output find(e) relation

earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
find(e: ?e) :- in1(min: ?min), earns(a0: ?e, a1: ?min).
";

    #[test]
    fn magic_sets_runs_and_is_traced() {
        check(
            NEEDS_MIN,
            &[],
            r#"
magic_sets: true
.input in1(min) scalar
.decl emp(e, salary)
.output find(e) relation

earns_fb(a0: ?e, a1: ?min) :- magic_earns_fb(a1: ?min), emp(e: ?e, salary: ?s), ?s >= ?min.
magic_earns_fb(a1: ?min) :- in1(min: ?min).
find(e: ?e) :- in1(min: ?min), earns_fb(a0: ?e, a1: ?min).
"#,
        );
    }

    #[test]
    fn a_disabled_pass_does_not_run() {
        check(
            NEEDS_MIN,
            &["magic_sets"],
            r#"
.input in1(min) scalar
.decl emp(e, salary)
.output find(e) relation

earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
find(e: ?e) :- in1(min: ?min), earns(a0: ?e, a1: ?min).
"#,
        );
    }
}
