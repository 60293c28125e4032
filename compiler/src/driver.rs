//! The compiler driver: runs the stages in order and prints any of them (`pomo explain`).
//!
//! Stages: `ast` (the syntax tree), `logic` (PomoLogic after lowering and checks), `strata`,
//! `ra-raw` (PomoRA straight from lowering), `ra` (after the optimizer pipeline) and `flow` (the
//! plan lowered for the dataflow backend, see [`crate::flow`]) and `kernel` (the plan lowered for
//! the JIT, see [`crate::kernel`]). Each stage stops the compilation with all of its errors when
//! it finds any. The `ra`, `flow` and `kernel` stages end in pipelines of named passes; every
//! pass of every stage can be switched off by name ([`Options::disabled_passes`], checked
//! with [`is_pass`]) and traced ([`Options::trace`]).

use crate::logic::{self, ir::Program};
use crate::ra::{self, pipeline};
use crate::strata::{self, Stratum};
use pomo_grammar::diag::Sources;
use pomo_grammar::{Diagnostic, query};
use pomo_types::ra::{BindKind, InputSlot, Plan, RelKind};
use std::fmt::Write;

/// What to compile. File id 0 is the main text; a rule set is file 1.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// A Datomic-style query (vector or map form), with an optional rule set (EDN vector).
    Edn {
        query: &'a str,
        rules: Option<&'a str>,
    },
    /// A PomoLogic program.
    Logic(&'a str),
    /// A SQL script over the catalog's tables: its CREATE TABLE statements add to the
    /// catalog, and its last query is what compiles (DML and other statements are run by a
    /// SQL session, not compiled).
    Sql {
        text: &'a str,
        catalog: &'a crate::sql::Catalog,
    },
}

/// A stage of the pipeline, by the name `explain --stage` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The syntax tree.
    Ast,
    /// The PomoLogic program after lowering and checks.
    Logic,
    /// The program's strata.
    Strata,
    /// PomoRA as lowered, before the optimizer's passes (`ra-raw`).
    RaUnoptimized,
    /// PomoRA after the pass pipeline.
    Ra,
    /// The flow plan of the dataflow backend.
    Flow,
    /// The kernel plan of the JIT.
    Kernel,
}

impl Stage {
    pub const ALL: &'static [(&'static str, Stage)] = &[
        ("ast", Stage::Ast),
        ("logic", Stage::Logic),
        ("strata", Stage::Strata),
        ("ra-raw", Stage::RaUnoptimized),
        ("ra", Stage::Ra),
        ("flow", Stage::Flow),
        ("kernel", Stage::Kernel),
    ];

    pub fn from_name(s: &str) -> Option<Stage> {
        Stage::ALL.iter().find(|(n, _)| *n == s).map(|(_, st)| *st)
    }
}

/// Options of a compilation.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Passes to switch off, by name.
    pub disabled_passes: Vec<String>,
    /// Record the plan after each pass.
    pub trace: bool,
    /// Validate the plan after lowering and after every pass.
    pub validate: bool,
}

/// The names of every stage's passes, with their stage, in pipeline order.
pub fn passes() -> Vec<(Stage, &'static str)> {
    let stage = |st: Stage, names: Vec<&'static str>| names.into_iter().map(move |n| (st, n));
    stage(
        Stage::Logic,
        logic::pipeline::PASSES.iter().map(|p| p.name).collect(),
    )
    .chain(stage(
        Stage::Ra,
        ra::pipeline::PASSES.iter().map(|p| p.name).collect(),
    ))
    .chain(stage(
        Stage::Flow,
        crate::flow::pipeline::PASSES
            .iter()
            .map(|p| p.name)
            .collect(),
    ))
    .chain(stage(
        Stage::Kernel,
        crate::kernel::pipeline::PASSES
            .iter()
            .map(|p| p.name)
            .collect(),
    ))
    .collect()
}

/// Whether `name` is a pass of some stage.
pub fn is_pass(name: &str) -> bool {
    passes().iter().any(|(_, n)| *n == name)
}

/// One step of the pass trace.
#[derive(Clone, Debug)]
pub struct TraceStep {
    pub pass: &'static str,
    pub round: usize,
    pub changed: bool,
    pub plan: String,
}

/// Everything a compilation produced.
#[derive(Clone, Debug)]
pub struct Compilation {
    pub ast: Ast,
    pub program: Program,
    pub strata: Vec<Stratum>,
    pub raw: Plan,
    pub plan: Plan,
    /// The plan lowered for the dataflow backend.
    pub flow: pomo_types::flow::FlowPlan,
    /// The plan lowered for the JIT backend.
    pub kernel: pomo_types::kernel::KernelPlan,
    /// The PomoRA pass trace (empty unless traced); the lowered plan is `raw`.
    pub trace: Vec<TraceStep>,
    /// The flow plan as lowered and after each pass (empty unless traced).
    pub flow_trace: StageTrace,
    /// The kernel plan as lowered and after each pass (empty unless traced).
    pub kernel_trace: StageTrace,
    /// What each position of the query's input takes, in order ([`input_signature`]).
    pub inputs: Vec<InputSlot>,
}

/// The pass trace of a stage that lowers and then runs its own passes.
#[derive(Clone, Debug, Default)]
pub struct StageTrace {
    /// The stage's value as lowered, printed.
    pub lowered: String,
    pub steps: Vec<TraceStep>,
}

/// Runs a stage's pipeline, recording the trace when asked to.
fn run_traced<P>(
    value: &mut P,
    opts: &Options,
    print: fn(&P) -> String,
    optimize: impl FnOnce(&mut P, crate::pass::Options<'_, P>) -> Result<(), crate::pass::PassError>,
) -> Result<StageTrace, Vec<Diagnostic>> {
    let mut trace = StageTrace::default();
    if opts.trace {
        trace.lowered = print(value);
    }
    let mut record = |pass: &'static str, round: usize, changed: bool, p: &P| {
        trace.steps.push(TraceStep {
            pass,
            round,
            changed,
            plan: if changed { print(p) } else { String::new() },
        });
    };
    let popts = crate::pass::Options {
        disabled: &opts.disabled_passes,
        validate: opts.validate,
        trace: if opts.trace { Some(&mut record) } else { None },
    };
    optimize(value, popts).map_err(|e| {
        vec![
            Diagnostic::error(
                "E0900",
                format!("internal error: pass `{}` produced an invalid plan", e.pass),
            )
            .with_note(e.problems.join("\n")),
        ]
    })?;
    Ok(trace)
}

/// The source files of an input, for rendering diagnostics.
pub fn sources(input: &Input<'_>, main_name: &str, rules_name: &str) -> Sources {
    let mut s = Sources::new();
    match input {
        Input::Edn { query, rules } => {
            s.add(main_name, *query);
            if let Some(r) = rules {
                s.add(rules_name, *r);
            }
        }
        Input::Logic(t) | Input::Sql { text: t, .. } => {
            s.add(main_name, *t);
        }
    }
    s
}

/// The syntax trees of an input.
#[derive(Clone, Debug)]
pub enum Ast {
    Edn {
        query: Box<query::EdnQuery>,
        rules: Option<Vec<query::Rule>>,
    },
    Logic(pomo_grammar::logic_syntax::Program),
    /// A SQL script, with the catalog it was compiled against.
    Sql {
        statements: Vec<pomo_grammar::sql_syntax::Statement>,
        catalog: crate::sql::Catalog,
    },
}

impl Ast {
    /// The `ast` stage's text.
    pub fn text(&self) -> String {
        match self {
            Ast::Edn { query, rules } => {
                let mut out = format!("{query:#?}\n");
                if let Some(rs) = rules {
                    let _ = writeln!(out, "{rs:#?}");
                }
                out
            }
            Ast::Logic(p) => format!("{p:#?}\n"),
            Ast::Sql { statements, .. } => format!("{statements:#?}\n"),
        }
    }
}

/// Reads the input into syntax trees.
pub fn parse(input: &Input<'_>) -> Result<Ast, Vec<Diagnostic>> {
    match input {
        Input::Edn { query: q, rules } => {
            let mut errors = Vec::new();
            let parsed = query::parse_query_text(q);
            let rule_set = match rules {
                Some(r) => match query::parse_rules_text(r) {
                    Ok(rs) => Some(rs),
                    Err(ds) => {
                        errors.extend(ds.into_iter().map(|d| d.in_file(1)));
                        None
                    }
                },
                None => None,
            };
            match parsed {
                Ok(query) if errors.is_empty() => Ok(Ast::Edn {
                    query: Box::new(query),
                    rules: rule_set,
                }),
                Ok(_) => Err(errors),
                Err(mut ds) => {
                    ds.extend(errors);
                    Err(ds)
                }
            }
        }
        Input::Logic(t) => pomo_grammar::logic_syntax::parse_program(t).map(Ast::Logic),
        Input::Sql { text, catalog } => {
            pomo_grammar::sql_syntax::parse_script(text).map(|statements| Ast::Sql {
                statements,
                catalog: (*catalog).clone(),
            })
        }
    }
}

/// Lowers syntax trees to PomoLogic, runs the logic passes and checks the program.
pub fn lower(ast: &Ast) -> Result<Program, Vec<Diagnostic>> {
    lower_with(ast, &Options::default(), None)
}

/// Like [`lower`], without the logic passes `opts` switches off; with `trace`, records the
/// lowered program and the program after each logic pass (`explain --stage logic --trace`).
pub fn lower_with(
    ast: &Ast,
    opts: &Options,
    trace: Option<&mut StageTrace>,
) -> Result<Program, Vec<Diagnostic>> {
    let mut prog = match ast {
        Ast::Edn { query: q, rules } => {
            let rs = rules
                .as_ref()
                .map(|r| crate::edn::RuleSet { rules: r, file: 1 });
            crate::edn::lower_query(q, rs)?
        }
        Ast::Logic(p) => logic::parse::from_syntax(p, 0)?,
        Ast::Sql {
            statements,
            catalog,
        } => crate::sql::lower_script(statements, catalog)?.0,
    };
    let opts = Options {
        trace: trace.is_some(),
        ..opts.clone()
    };
    let recorded = run_traced(
        &mut prog,
        &opts,
        logic::print::program,
        logic::pipeline::optimize,
    )?;
    if let Some(t) = trace {
        *t = recorded;
    }
    let errs = logic::check::check(&prog);
    if errs.is_empty() { Ok(prog) } else { Err(errs) }
}

/// Stratifies a checked program (PomoLogic spec §2.3).
pub fn stratify(program: &Program) -> Result<Vec<Stratum>, Vec<Diagnostic>> {
    strata::stratify(program)
}

/// Lowers a stratified program to PomoRA and optimizes it: returns the lowered plan, the
/// optimized plan and the pass trace (empty unless `opts.trace`).
pub fn plan(
    program: &Program,
    strata: &[Stratum],
    opts: &Options,
) -> Result<(Plan, Plan, Vec<TraceStep>), Vec<Diagnostic>> {
    let mut raw = ra::lower::lower_program(program, strata);
    raw.compact();
    if opts.validate {
        internal(ra::validate::validate(&raw), "lowering")?;
    }
    let mut plan = raw.clone();
    let mut trace = Vec::new();
    let mut record = |pass: &'static str, round: usize, changed: bool, p: &Plan| {
        let plan = if changed {
            p.to_string()
        } else {
            String::new()
        };
        trace.push(TraceStep {
            pass,
            round,
            changed,
            plan,
        });
    };
    let popts = pipeline::Options {
        disabled: &opts.disabled_passes,
        validate: opts.validate,
        trace: if opts.trace { Some(&mut record) } else { None },
    };
    if let Err(e) = pipeline::optimize(&mut plan, popts) {
        return Err(vec![
            Diagnostic::error(
                "E0900",
                format!("internal error: pass `{}` produced an invalid plan", e.pass),
            )
            .with_note(e.problems.join("\n")),
        ]);
    }
    Ok((raw, plan, trace))
}

/// Runs every stage.
pub fn compile(input: &Input<'_>, opts: &Options) -> Result<Compilation, Vec<Diagnostic>> {
    let ast = parse(input)?;
    let program = lower_with(&ast, opts, None)?;
    finish(ast, program, opts)
}

/// Runs the stages after lowering on a program (checked here) that came from `ast`.
pub fn compile_program(
    ast: Ast,
    program: Program,
    opts: &Options,
) -> Result<Compilation, Vec<Diagnostic>> {
    let errs = logic::check::check(&program);
    if !errs.is_empty() {
        return Err(errs);
    }
    finish(ast, program, opts)
}

fn finish(ast: Ast, program: Program, opts: &Options) -> Result<Compilation, Vec<Diagnostic>> {
    let strata = stratify(&program)?;
    let (raw, plan, trace) = plan(&program, &strata, opts)?;
    let mut flow = crate::flow::lower::lower(&plan);
    let flow_trace = run_traced(
        &mut flow,
        opts,
        |f| f.to_string(),
        crate::flow::pipeline::optimize,
    )?;
    let mut kernel = crate::kernel::lower::lower(&plan);
    if opts.validate {
        internal(
            kernel.validate().err().into_iter().collect(),
            "kernel lowering",
        )?;
    }
    let kernel_trace = run_traced(
        &mut kernel,
        opts,
        |k| k.to_string(),
        crate::kernel::pipeline::optimize,
    )?;
    let inputs = input_signature(&ast, &plan);
    Ok(Compilation {
        ast,
        program,
        strata,
        raw,
        plan,
        flow,
        kernel,
        trace,
        flow_trace,
        kernel_trace,
        inputs,
    })
}

/// The input signature of a query, from what its front end declared: an EDN query's `:in`
/// elements in order (a binding is the input relation of its position, with the binding kind
/// the plan declares for it, a relation when the plan no longer has it); a PomoLogic program
/// reads the store as `$` and takes its `.input` relations in declaration order; SQL reads
/// the store as `$` and takes no inputs.
pub fn input_signature(ast: &Ast, plan: &Plan) -> Vec<InputSlot> {
    let input = |name: String| InputSlot::Relation {
        kind: plan
            .relation(&name)
            .and_then(|d| match d.kind {
                RelKind::Input(k) => Some(k),
                _ => None,
            })
            .unwrap_or(BindKind::Relation),
        name,
    };
    match ast {
        Ast::Edn { query: edn, .. } => edn
            .inputs
            .iter()
            .enumerate()
            .map(|(pos, x)| match x {
                query::Input::Source(s) => InputSlot::Source(s.name.clone()),
                query::Input::Rules(_) => InputSlot::Rules,
                query::Input::Binding(query::Binding::Blank(_)) => InputSlot::Ignore,
                query::Input::Binding(_) => input(logic::ir::input_relation(pos)),
            })
            .collect(),
        Ast::Logic(_) => std::iter::once(InputSlot::Source("$".into()))
            .chain(
                plan.relations
                    .iter()
                    .filter(|r| matches!(r.kind, RelKind::Input(_)))
                    .map(|r| input(r.name.clone())),
            )
            .collect(),
        Ast::Sql { .. } => vec![InputSlot::Source("$".into())],
    }
}

fn internal(problems: Vec<String>, what: &str) -> Result<(), Vec<Diagnostic>> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(vec![
            Diagnostic::error(
                "E0900",
                format!("internal error: {what} produced an invalid plan"),
            )
            .with_note(problems.join("\n")),
        ])
    }
}

impl Compilation {
    /// The text of a stage.
    pub fn stage_text(&self, stage: Stage) -> String {
        match stage {
            Stage::Ast => self.ast.text(),
            Stage::Logic => logic::print::program(&self.program),
            Stage::Strata => strata::print(&self.program, &self.strata),
            Stage::RaUnoptimized => self.raw.to_string(),
            Stage::Ra => self.plan.to_string(),
            Stage::Flow => self.flow.to_string(),
            Stage::Kernel => self.kernel.to_string(),
        }
    }

    /// The pass trace of a stage (`ra`, `flow` or `kernel`; `None` for the others): the lowered
    /// value, then the value after each pass that changed it, with unchanged passes collapsed
    /// to one line, then the final value. The PomoRA trace numbers the fixpoint's rounds.
    pub fn trace_text(&self, stage: Stage) -> Option<String> {
        let (lowered, steps, last, rounds) = match stage {
            Stage::Ra => (
                self.raw.to_string(),
                &self.trace,
                self.plan.to_string(),
                true,
            ),
            Stage::Flow => (
                self.flow_trace.lowered.clone(),
                &self.flow_trace.steps,
                self.flow.to_string(),
                false,
            ),
            Stage::Kernel => (
                self.kernel_trace.lowered.clone(),
                &self.kernel_trace.steps,
                self.kernel.to_string(),
                false,
            ),
            _ => return None,
        };
        Some(format_trace(&lowered, steps, &last, rounds))
    }
}

/// A stage's trace as text: the lowered value, then the value after each pass that changed it
/// (unchanged passes collapsed to one line, PomoRA's numbered by fixpoint round), then the final
/// value.
fn format_trace(lowered: &str, steps: &[TraceStep], last: &str, rounds: bool) -> String {
    let mut out = format!("== lowered ==\n{lowered}");
    for t in steps {
        let name = if rounds {
            format!("round {} {}", t.round, t.pass)
        } else {
            t.pass.to_string()
        };
        if t.changed {
            let _ = write!(out, "\n== {name} ==\n{}", t.plan);
        } else {
            let _ = writeln!(out, "\n== {name}: unchanged ==");
        }
    }
    let _ = write!(out, "\n== optimized ==\n{last}");
    out
}

/// Compiles and prints one stage; for stages up to `logic`, later stages are not run.
pub fn explain(input: &Input<'_>, stage: Stage, opts: &Options) -> Result<String, Vec<Diagnostic>> {
    match stage {
        Stage::Ast => parse(input).map(|a| a.text()),
        Stage::Logic if opts.trace => {
            let mut t = StageTrace::default();
            let p = lower_with(&parse(input)?, opts, Some(&mut t))?;
            Ok(format_trace(
                &t.lowered,
                &t.steps,
                &logic::print::program(&p),
                false,
            ))
        }
        Stage::Logic => lower_with(&parse(input)?, opts, None).map(|p| logic::print::program(&p)),
        _ => {
            let c = compile(input, opts)?;
            Ok(match c.trace_text(stage) {
                Some(t) if opts.trace => t,
                _ => c.stage_text(stage),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles `input` and prints its input signature, then each relation the plan loads
    /// (base relations, store views, inputs) with its kind.
    fn check(input: Input<'_>, expected: &str) {
        let c = compile(&input, &Options::default()).unwrap_or_else(|e| panic!("{e:?}"));
        let mut lines = vec![format!("inputs: {:?}", c.inputs)];
        for d in c.plan.relations.iter().filter(|d| d.kind.is_loaded()) {
            lines.push(format!("{}: {:?}", d.name, d.kind));
        }
        assert_eq!(lines.join("\n"), expected);
    }

    fn edn(query: &str) -> Input<'_> {
        Input::Edn { query, rules: None }
    }

    #[test]
    fn edn_sources_are_views_and_bindings_are_inputs() {
        check(
            edn("[:find ?e :in $ $2 ?x :where [?e :a ?x] [$2 ?e :b]]"),
            r#"inputs: [Source("$"), Source("$2"), Relation { name: "in2", kind: Scalar }]
in2: Input(Scalar)
datom: View { source: "$" }
datom$2: View { source: "$2" }"#,
        );
    }

    #[test]
    fn edn_signature_keeps_rules_and_blanks_in_place() {
        check(
            edn("[:find ?x :in $ % _ [?x ...] :where [?x :a _]]"),
            r#"inputs: [Source("$"), Rules, Ignore, Relation { name: "in3", kind: Collection }]
in3: Input(Collection)
datom: View { source: "$" }"#,
        );
    }

    #[test]
    fn logic_datom_and_fact_are_views_and_other_declarations_base() {
        check(
            Input::Logic(
                ".decl edge(from, to)\n.decl datom(e, a, v)\n.decl fact(e, a, v)\n.output q(e) relation\nq(e: ?e) :- datom(e: ?e, v: ?v), edge(from: ?e, to: ?v).\nq(e: ?e) :- fact(e: ?e).",
            ),
            r#"inputs: [Source("$")]
edge: Base
datom: View { source: "$" }
fact: View { source: "$" }"#,
        );
    }

    #[test]
    fn logic_inputs_follow_the_store_in_declaration_order() {
        check(
            Input::Logic(
                ".input b(x) scalar\n.input a(y) collection\n.output q(x, y) relation\nq(x: ?x, y: ?y) :- b(x: ?x), a(y: ?y).",
            ),
            r#"inputs: [Source("$"), Relation { name: "b", kind: Scalar }, Relation { name: "a", kind: Collection }]
b: Input(Scalar)
a: Input(Collection)"#,
        );
    }

    #[test]
    fn input_relation_names_a_position() {
        assert_eq!(logic::ir::input_relation(3), "in3");
    }

    #[test]
    fn base_kind_maps_view_names_only() {
        let kinds: Vec<String> = ["datom", "fact", "datom$hr", "datomic", "edge"]
            .iter()
            .map(|n| format!("{:?}", logic::ir::base_kind(n)))
            .collect();
        assert_eq!(
            kinds.join(", "),
            r#"View { source: "$" }, View { source: "$" }, View { source: "$hr" }, Base, Base"#
        );
    }
}
