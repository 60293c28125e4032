//! What the pass pipelines of every stage share (ARCHITECTURE, convention 4): a pass is a name
//! and a function that rewrites a stage's value in place and says whether it changed anything;
//! a pipeline is a list of them, run in order, each switchable off by name and traced.
//!
//! The PomoRA pipeline (`ra::pipeline`) runs its list as a fixpoint group; the kernel and flow
//! pipelines run theirs once, in order, because each of their passes finishes its own work.

/// A named pass over values of type `P`.
pub struct Pass<P> {
    pub name: &'static str,
    pub run: fn(&mut P) -> bool,
}

/// Receives `(pass name, round, changed, value)` after every pass.
pub type TraceFn<'a, P> = dyn FnMut(&'static str, usize, bool, &P) + 'a;

/// Options of one pipeline run.
pub struct Options<'a, P> {
    /// Pass names to skip (to bisect a bug).
    pub disabled: &'a [String],
    /// Validate the value after every pass (tests and debug builds).
    pub validate: bool,
    /// Receives `(pass name, round, changed, value)` after every pass.
    pub trace: Option<&'a mut TraceFn<'a, P>>,
}

impl<P> Default for Options<'_, P> {
    fn default() -> Self {
        Options {
            disabled: &[],
            validate: false,
            trace: None,
        }
    }
}

/// A pass left its stage's value invalid.
#[derive(Debug)]
pub struct PassError {
    pub pass: &'static str,
    pub problems: Vec<String>,
}

/// Runs `passes` once each, in order, except the disabled ones; with `opts.validate`, checks the
/// value with `validate` (which lists what is wrong) after each pass.
pub fn run_in_order<P>(
    passes: &[Pass<P>],
    value: &mut P,
    validate: fn(&P) -> Vec<String>,
    mut opts: Options<'_, P>,
) -> Result<(), PassError> {
    for pass in passes {
        if opts.disabled.iter().any(|d| d == pass.name) {
            continue;
        }
        let changed = (pass.run)(value);
        if opts.validate {
            let problems = validate(value);
            if !problems.is_empty() {
                return Err(PassError {
                    pass: pass.name,
                    problems,
                });
            }
        }
        if let Some(t) = opts.trace.as_mut() {
            t(pass.name, 1, changed, value);
        }
    }
    Ok(())
}
