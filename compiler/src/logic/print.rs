//! The deterministic text form of PomoLogic programs (the syntax of
//! `pomo_grammar::logic_syntax`): declarations first (`.decl`, `.input`, `.output`, in relation
//! order), then rules in program order. A rule prints on one line when it fits in 100 columns,
//! otherwise one body literal per line. Printing and parsing back yields an equal program.

use super::ir::*;
use pomo_types::ra::RelKind;
use pomo_types::ra_print::{is_var_name, name};
use std::fmt::Write;

/// Words the PomoLogic lexer reserves.
pub const LOGIC_RESERVED: &[&str] = &["true", "false", "nil"];

fn ident(s: &str) -> String {
    name(s, LOGIC_RESERVED)
}

fn var(s: &str) -> String {
    if is_var_name(s) {
        s.to_string()
    } else {
        format!("`{}`", s.replace('`', "'"))
    }
}

pub fn term(t: &Term) -> String {
    match t {
        Term::Var(v) => var(v),
        Term::Const(c) => c.to_string(),
        Term::Wild => "_".into(),
    }
}

fn terms(ts: &[Term]) -> String {
    ts.iter().map(term).collect::<Vec<_>>().join(", ")
}

pub fn atom(p: &Program, a: &Atom) -> String {
    let args: Vec<String> = a
        .args
        .iter()
        .map(|(k, t)| format!("{}: {}", ident(k), term(t)))
        .collect();
    format!("{}({})", ident(&p.rel(a.rel).name), args.join(", "))
}

fn callee(c: &Callee) -> String {
    match c {
        Callee::Builtin(n) => ident(n),
        Callee::Var(v) => var(v),
    }
}

fn bind(b: &Bind) -> String {
    match b {
        Bind::Scalar(t) => term(t),
        Bind::Tuple(ts) => format!("[{}]", terms(ts)),
        Bind::Coll(t) => format!("[{} ...]", term(t)),
        Bind::Rel(ts) => format!("[[{}]]", terms(ts)),
    }
}

pub fn literal(p: &Program, l: &Literal) -> String {
    match l {
        Literal::Pos { cid: None, atom: a } => atom(p, a),
        Literal::Pos {
            cid: Some(c),
            atom: a,
        } => format!("{} := {}", var(c), atom(p, a)),
        Literal::Neg(a) => format!("!{}", atom(p, a)),
        Literal::Cmp { op, lhs, rhs } => {
            let sym = match op {
                pomo_types::ra::CmpOp::Eq => "==",
                o => o.symbol(),
            };
            format!("{} {sym} {}", term(lhs), term(rhs))
        }
        Literal::Test {
            func,
            args,
            negated,
        } => {
            format!(
                "{}{}({})",
                if *negated { "!" } else { "" },
                callee(func),
                terms(args)
            )
        }
        Literal::Apply {
            bind: b,
            func,
            args,
        } => format!("{} := {}({})", bind(b), callee(func), terms(args)),
        Literal::Agg {
            out,
            func,
            args,
            atom: a,
        } => {
            format!(
                "{} := {}({}) : {}",
                var(out),
                callee(func),
                terms(args),
                atom(p, a)
            )
        }
    }
}

pub fn rule(p: &Program, r: &Rule) -> String {
    let head = format!("{}{}", atom(p, &r.head), if r.next { "@next" } else { "" });
    if r.body.is_empty() {
        return format!("{head}.");
    }
    let lits: Vec<String> = r.body.iter().map(|l| literal(p, l)).collect();
    let one = format!("{head} :- {}.", lits.join(", "));
    if one.len() <= 100 {
        return one;
    }
    let mut s = format!("{head} :-\n");
    for (i, l) in lits.iter().enumerate() {
        let end = if i + 1 == lits.len() { "." } else { "," };
        let _ = writeln!(s, "    {l}{end}");
    }
    s.pop();
    s
}

/// Prints the whole program.
pub fn program(p: &Program) -> String {
    let mut out = String::new();
    let mut any_decl = false;
    for r in &p.relations {
        let attrs = r
            .attrs
            .iter()
            .map(|a| ident(a))
            .collect::<Vec<_>>()
            .join(", ");
        let line = match &r.kind {
            // A view is declared like a base relation; the parser knows it by its name.
            RelKind::Base | RelKind::View { .. } | RelKind::Causes { .. } => {
                format!(".decl {}({attrs})", ident(&r.name))
            }
            RelKind::Input(k) => format!(".input {}({attrs}) {}", ident(&r.name), k.keyword()),
            RelKind::Output(spec) => format!(
                ".output {}({attrs}) {}",
                ident(&r.name),
                spec.parts().join(" ")
            ),
            RelKind::Derived => continue,
        };
        any_decl = true;
        let _ = writeln!(out, "{line}");
    }
    if any_decl && !p.rules.is_empty() {
        out.push('\n');
    }
    for r in &p.rules {
        let _ = writeln!(out, "{}", rule(p, r));
    }
    out
}
