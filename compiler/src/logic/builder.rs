//! The program builder both front ends lower into (EDN in `crate::edn`, SQL in `crate::sql`).
//!
//! It owns the [`Program`] being built and the names it may not use, and gives the three things
//! every lowering needs: relations with fresh names, relations declared from attribute lists,
//! and rules with their spans. Each front end keeps its own naming scheme for generated names
//! (EDN's `base_N`, SQL's `baseN`), because those names are printed in golden plans; the builder
//! only guarantees that a generated name collides with neither a user's name nor an earlier one.
//!
//! Invariants: a relation's attributes are noted when it is declared and whenever a rule's head
//! names more; every rule gets one span slot per body literal (`None` where the front end has
//! no position to give), so the program's span side table stays aligned with its rules.

use super::ir::{Atom, Literal, Program, RelId, Rule, Term};
use pomo_grammar::span::{FileId, Span};
use pomo_types::ra::RelKind;
use std::collections::BTreeSet;

/// A position in a source file, as the program's span table keeps it.
pub type SourceSpan = (FileId, Span);

/// A PomoLogic program under construction. It is cloned to take a snapshot that a trial
/// lowering can be undone to (EDN does this).
#[derive(Default, Clone)]
pub struct ProgramBuilder {
    /// The program so far.
    pub prog: Program,
    /// Names generated relations must avoid (user rule names, for EDN).
    reserved: BTreeSet<String>,
    /// The counter behind generated names.
    counter: usize,
}

impl ProgramBuilder {
    /// A builder whose generated names avoid `reserved` as well as the program's relations.
    pub fn with_reserved(reserved: BTreeSet<String>) -> Self {
        ProgramBuilder {
            reserved,
            ..ProgramBuilder::default()
        }
    }

    /// Whether `name` is neither reserved nor a relation of the program.
    pub fn is_free(&self, name: &str) -> bool {
        !self.reserved.contains(name) && self.prog.find(name).is_none()
    }

    /// `base` itself if free, else `base` followed by as many `_` as make it free.
    pub fn unique_name(&self, base: &str) -> String {
        let mut name = base.to_string();
        while !self.is_free(&name) {
            name.push('_');
        }
        name
    }

    /// The next value of the name counter (1, 2, …), shared by every generated name so that
    /// names are assigned in lowering order.
    pub fn next_number(&mut self) -> usize {
        self.counter += 1;
        self.counter
    }

    /// The first free name `base_N`, N taken from the name counter (EDN's `ctx_1`, `or_2`, …):
    /// a taken name uses up its number, and the next number is tried.
    pub fn numbered_name(&mut self, base: &str) -> String {
        loop {
            let name = format!("{base}_{}", self.next_number());
            if self.is_free(&name) {
                return name;
            }
        }
    }

    /// A relation named `name` (the existing one if the program has it), with `attrs` noted.
    pub fn relation<'a>(
        &mut self,
        name: &str,
        kind: RelKind,
        attrs: impl IntoIterator<Item = &'a str>,
    ) -> RelId {
        let id = self.prog.intern(name, kind);
        self.prog.note_attrs(id, attrs);
        id
    }

    /// A new derived relation whose name is `base` and the next number, made unique.
    pub fn fresh_relation(&mut self, base: &str, attrs: &[String]) -> RelId {
        let n = self.next_number();
        let name = self.unique_name(&format!("{base}{n}"));
        self.relation(&name, RelKind::Derived, attrs.iter().map(|s| s.as_str()))
    }

    /// Adds `head :- body.`, noting the head's attributes on its relation.
    pub fn rule(
        &mut self,
        head: Atom,
        body: Vec<Literal>,
        span: Option<SourceSpan>,
        mut lit_spans: Vec<Option<SourceSpan>>,
    ) {
        self.prog
            .note_attrs(head.rel, head.args.iter().map(|(a, _)| a.as_str()));
        lit_spans.resize(body.len(), None);
        self.prog.add_rule(
            Rule {
                head,
                next: false,
                body,
            },
            span,
            lit_spans,
        );
    }

    /// The positive literal `rel(args…)`.
    pub fn atom(rel: RelId, args: Vec<(String, Term)>) -> Literal {
        Literal::Pos {
            cid: None,
            atom: Atom { rel, args },
        }
    }

    /// The finished program.
    pub fn finish(self) -> Program {
        self.prog
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::print;

    fn check(build: impl FnOnce(&mut ProgramBuilder), expected: &str) {
        let mut b = ProgramBuilder::with_reserved(["r1".to_string()].into());
        build(&mut b);
        assert_eq!(print::program(&b.finish()).trim(), expected.trim());
    }

    #[test]
    fn fresh_names_avoid_reserved_and_taken_names() {
        check(
            |b| {
                let a = b.fresh_relation("r", &["x".into()]);
                let c = b.fresh_relation("r", &["x".into()]);
                b.rule(
                    Atom {
                        rel: a,
                        args: vec![("x".into(), Term::Const(pomo_types::Value::Int(1)))],
                    },
                    vec![],
                    None,
                    vec![],
                );
                b.rule(
                    Atom {
                        rel: c,
                        args: vec![("x".into(), Term::Var("?x".into()))],
                    },
                    vec![ProgramBuilder::atom(
                        a,
                        vec![("x".into(), Term::Var("?x".into()))],
                    )],
                    None,
                    vec![],
                );
            },
            "r1_(x: 1).\nr2(x: ?x) :- r1_(x: ?x).",
        );
    }

    #[test]
    fn numbered_names_skip_taken_numbers() {
        let mut b = ProgramBuilder::with_reserved(["or_1".to_string()].into());
        let first = b.numbered_name("or");
        b.relation(&first, RelKind::Derived, ["x"]);
        assert_eq!(first, "or_2");
        assert_eq!(b.numbered_name("ctx"), "ctx_3");
    }

    #[test]
    fn rule_spans_stay_aligned_with_literals() {
        let mut b = ProgramBuilder::default();
        let r = b.relation("r", RelKind::Derived, ["x"]);
        let lit = ProgramBuilder::atom(r, vec![("x".into(), Term::Var("?x".into()))]);
        b.rule(
            Atom {
                rel: r,
                args: vec![("x".into(), Term::Var("?x".into()))],
            },
            vec![lit.clone(), lit],
            Some((0, 3..7)),
            vec![Some((0, 4..5))],
        );
        let p = b.finish();
        assert_eq!(p.rule_span(0), Some((0, 3..7)));
        assert_eq!(p.spans.literals[0], vec![Some((0, 4..5)), None]);
    }
}
