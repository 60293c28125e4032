//! The compiler driver: runs the stages in order and prints any of them (`pomo explain`).
//!
//! Stages: `ast` (the syntax tree), `logic` (PomoLogic after lowering and checks), `strata`,
//! `ra-raw` (PomoRA straight from lowering), `ra` (after the optimizer pipeline) and `flow` (the
//! plan lowered for the dataflow backend, see [`crate::flow`]). Each stage
//! stops the compilation with all of its errors when it finds any.

use crate::logic::{self, ir::Program};
use crate::ra::{self, pipeline};
use crate::strata::{self, Stratum};
use pomo_grammar::diag::Sources;
use pomo_grammar::{Diagnostic, query};
use pomo_types::ra::Plan;
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
    pub trace: Vec<TraceStep>,
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
        query: Box<query::Query>,
        rules: Option<Vec<query::Rule>>,
    },
    Logic(pomo_grammar::logic_syntax::Program),
    /// A SQL script, with the catalog it was compiled against.
    Sql {
        statements: Vec<pomo_grammar::sql::Statement>,
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
            pomo_grammar::sql::parse_script(text).map(|statements| Ast::Sql {
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

/// Like [`lower`], without the logic passes `opts` switches off; with `trace`, writes the
/// lowered program and the program after each logic pass into it (`explain --stage logic
/// --trace`).
pub fn lower_with(
    ast: &Ast,
    opts: &Options,
    trace: Option<&mut String>,
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
    match trace {
        Some(out) => {
            let _ = write!(out, "== lowered ==\n{}", logic::print::program(&prog));
            let mut record = |pass: &'static str, changed: bool, p: &Program| {
                if changed {
                    let _ = write!(out, "\n== {pass} ==\n{}", logic::print::program(p));
                } else {
                    let _ = writeln!(out, "\n== {pass}: unchanged ==");
                }
            };
            logic::pipeline::optimize(&mut prog, &opts.disabled_passes, Some(&mut record));
        }
        None => {
            logic::pipeline::optimize(&mut prog, &opts.disabled_passes, None);
        }
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
    let flow = crate::flow::lower(&plan);
    let kernel = crate::kernel::lower(&plan);
    Ok(Compilation {
        ast,
        program,
        strata,
        raw,
        plan,
        flow,
        kernel,
        trace,
    })
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

    /// The pass trace: the lowered plan, then the plan after each pass that changed it, with
    /// unchanged passes collapsed to one line.
    pub fn trace_text(&self) -> String {
        let mut out = format!("== lowered ==\n{}", self.raw);
        for t in &self.trace {
            if t.changed {
                let _ = write!(out, "\n== round {} {} ==\n{}", t.round, t.pass, t.plan);
            } else {
                let _ = writeln!(out, "\n== round {} {}: unchanged ==", t.round, t.pass);
            }
        }
        let _ = write!(out, "\n== optimized ==\n{}", self.plan);
        out
    }
}

/// Compiles and prints one stage; for stages up to `logic`, later stages are not run.
pub fn explain(input: &Input<'_>, stage: Stage, opts: &Options) -> Result<String, Vec<Diagnostic>> {
    match stage {
        Stage::Ast => parse(input).map(|a| a.text()),
        Stage::Logic if opts.trace => {
            let mut out = String::new();
            lower_with(&parse(input)?, opts, Some(&mut out))?;
            Ok(out)
        }
        Stage::Logic => lower_with(&parse(input)?, opts, None).map(|p| logic::print::program(&p)),
        _ => {
            let c = compile(input, opts)?;
            Ok(if opts.trace && stage == Stage::Ra {
                c.trace_text()
            } else {
                c.stage_text(stage)
            })
        }
    }
}
