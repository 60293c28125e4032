//! The deterministic text form of PomoRA plans (the syntax in `pomo_grammar::ra_syntax`).
//!
//! An expression prints on one line when that fits in [`WIDTH`] columns, otherwise its inputs
//! go on indented lines of their own. Names that are not plain identifiers, or that are reserved
//! words, are written in backquotes so that every printed plan parses back to the same plan.

use crate::ra::*;
use crate::value::{Value, write_string_literal};
use std::fmt::{self, Write};

/// The line width the printer aims for.
pub const WIDTH: usize = 100;

/// Words the PomoRA lexer reserves.
pub const RA_RESERVED: &[&str] = &[
    "relation",
    "stratum",
    "recursive",
    "loop",
    "until",
    "empty",
    "and",
    "or",
    "not",
    "true",
    "false",
    "nil",
    "project",
    "rename",
    "select",
    "union",
    "diff",
    "product",
    "join",
    "theta_join",
    "equijoin",
    "semijoin",
    "antijoin",
    "group_by",
    "map",
    "values",
];

/// Whether `s` lexes as a plain identifier: `[a-z_][A-Za-z0-9_$-]*` optionally ending in `?`/`!`.
pub fn is_plain_ident(s: &str) -> bool {
    let core = s.strip_suffix(['?', '!']).unwrap_or(s);
    let mut chars = core.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() || c == '_' => {}
        _ => return false,
    }
    core != "_" && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-')
}

/// Whether `s` lexes as a `?variable`.
pub fn is_var_name(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('?') else {
        return false;
    };
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-*+!<>=/.".contains(c))
}

/// Writes a name, in backquotes when it is not a plain identifier / variable or is reserved.
pub fn name(s: &str, reserved: &[&str]) -> String {
    if (is_plain_ident(s) && !reserved.contains(&s)) || is_var_name(s) {
        s.to_string()
    } else {
        format!("`{}`", s.replace('`', "'"))
    }
}

pub(crate) fn rname(s: &str) -> String {
    name(s, RA_RESERVED)
}

fn relref(r: &RelRef) -> String {
    format!("{}{}", rname(&r.name), r.version.suffix())
}

pub(crate) fn operand(o: &Operand) -> String {
    match o {
        Operand::Attr(a) => rname(a),
        Operand::Const(v) => v.to_string(),
    }
}

pub(crate) fn callee(c: &Callee) -> String {
    match c {
        Callee::Builtin(n) => rname(n),
        Callee::Attr(a) => rname(a),
    }
}

pub(crate) fn args(xs: &[Operand]) -> String {
    xs.iter().map(operand).collect::<Vec<_>>().join(", ")
}

/// Prints one formula literal.
pub fn flit(l: &FLit) -> String {
    let body = match &l.test {
        Test::Cmp { op, lhs, rhs } => format!("{} {} {}", operand(lhs), op.symbol(), operand(rhs)),
        Test::Call { func, args: a } => format!("{}({})", callee(func), args(a)),
    };
    if l.negated {
        format!("not {body}")
    } else {
        body
    }
}

/// Prints a DNF formula.
pub fn formula(f: &Formula) -> String {
    if f.is_false() {
        return "false".into();
    }
    f.disjuncts
        .iter()
        .map(|d| {
            if d.is_empty() {
                "true".to_string()
            } else {
                d.iter().map(flit).collect::<Vec<_>>().join(" and ")
            }
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn opt_attr(a: &Option<Attr>) -> String {
    a.as_deref().map(rname).unwrap_or_else(|| "_".into())
}

pub(crate) fn map_bind(b: &MapBind) -> String {
    match b {
        MapBind::Scalar(a) => rname(a),
        MapBind::Tuple(xs) => format!(
            "[{}]",
            xs.iter().map(opt_attr).collect::<Vec<_>>().join(", ")
        ),
        MapBind::Coll(a) => format!("[{} ...]", rname(a)),
        MapBind::Rel(xs) => format!(
            "[[{}]]",
            xs.iter().map(opt_attr).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub(crate) fn value_row(row: &[Value]) -> String {
    format!(
        "({})",
        row.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The operator with its bracketed parameters, without inputs: `project[?x, ?y]`.
fn head(e: &Expr) -> String {
    let list = |xs: &[Attr]| xs.iter().map(|a| rname(a)).collect::<Vec<_>>().join(", ");
    match e {
        Expr::Rel(r) => relref(r),
        Expr::Project { attrs, .. } => format!("project[{}]", list(attrs)),
        Expr::Rename { pairs, .. } => format!(
            "rename[{}]",
            pairs
                .iter()
                .map(|(a, b)| format!("{} -> {}", rname(a), rname(b)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::Select { formula: f, .. } => format!("select[{}]", formula(f)),
        Expr::ThetaJoin { formula: f, .. } => format!("theta_join[{}]", formula(f)),
        Expr::EquiJoin { pairs, .. } => format!(
            "equijoin[{}]",
            pairs
                .iter()
                .map(|(a, b)| format!("{} = {}", rname(a), rname(b)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::GroupBy { keys, aggs, .. } => {
            let aggs: Vec<String> = aggs
                .iter()
                .map(|a| {
                    format!(
                        "{} := {}({})",
                        rname(&a.out),
                        callee(&a.func),
                        args(&a.args)
                    )
                })
                .collect();
            let sep = if aggs.is_empty() { "" } else { " " };
            format!("group_by[{};{sep}{}]", list(keys), aggs.join(", "))
        }
        Expr::Map { bind, rhs, .. } => {
            let rhs = match rhs {
                MapRhs::Call { func, args: a } => format!("{}({})", callee(func), args(a)),
                MapRhs::Operand(o) => operand(o),
            };
            format!("map[{} := {rhs}]", map_bind(bind))
        }
        Expr::Values { attrs, rows } => format!(
            "values[{}]{{{}}}",
            list(attrs),
            rows.iter()
                .map(|r| value_row(r))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.op_name().to_string(),
    }
}

impl Plan {
    /// Prints an expression on one line.
    pub fn expr_line(&self, id: ExprId) -> String {
        let e = self.expr(id);
        let kids = e.children();
        if matches!(e, Expr::Rel(_) | Expr::Values { .. }) {
            return head(e);
        }
        let inner: Vec<String> = kids.iter().map(|k| self.expr_line(*k)).collect();
        format!("{}({})", head(e), inner.join(", "))
    }

    /// Prints an expression starting at column `indent`, breaking lines when it is too wide.
    pub fn expr_text(&self, id: ExprId, indent: usize) -> String {
        let line = self.expr_line(id);
        let e = self.expr(id);
        if indent + line.len() <= WIDTH || matches!(e, Expr::Rel(_) | Expr::Values { .. }) {
            return line;
        }
        let pad = " ".repeat(indent + 2);
        let inner: Vec<String> = e
            .children()
            .iter()
            .map(|k| format!("{pad}{}", self.expr_text(*k, indent + 2)))
            .collect();
        format!("{}(\n{})", head(e), inner.join(",\n"))
    }

    fn write_stmts(&self, out: &mut String, stmts: &[Stmt], indent: usize) {
        let pad = " ".repeat(indent);
        for s in stmts {
            match s {
                Stmt::Assign { target, expr } => {
                    let lhs = format!("{pad}{} := ", relref(target));
                    let rhs = self.expr_text(*expr, lhs.len());
                    let _ = writeln!(out, "{lhs}{rhs};");
                }
                Stmt::Loop { body, until } => {
                    let _ = writeln!(out, "{pad}loop {{");
                    self.write_stmts(out, body, indent + 2);
                    let until: Vec<String> = until.iter().map(relref).collect();
                    let _ = writeln!(out, "{pad}}} until empty({});", until.join(", "));
                }
            }
        }
    }
}

/// The declaration line of a relation (without the trailing `;`).
pub fn rel_decl(d: &RelDecl) -> String {
    let kind = match &d.kind {
        // A view prints as a base relation, as it did before views had a kind of their own;
        // the plan parser gives a `base` relation spelled `datom`, `datom$name` or `fact` its
        // view kind back.
        RelKind::Base | RelKind::View { .. } | RelKind::Causes { .. } => "base".to_string(),
        RelKind::Derived => "derived".to_string(),
        RelKind::Input(k) => format!("input[{}]", k.keyword()),
        RelKind::Output(spec) => format!("output[{}]", spec.parts().join(", ")),
    };
    let attrs: Vec<String> = d.attrs.iter().map(|a| rname(a)).collect();
    format!("relation {}({}) {kind}", rname(&d.name), attrs.join(", "))
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for d in &self.relations {
            let _ = writeln!(out, "{};", rel_decl(d));
        }
        for (i, st) in self.strata.iter().enumerate() {
            out.push('\n');
            let rec = if st.recursive { " recursive" } else { "" };
            let _ = writeln!(out, "stratum {i}{rec} {{");
            self.write_stmts(&mut out, &st.stmts, 2);
            out.push_str("}\n");
        }
        f.write_str(&out)
    }
}

/// Writes a string as a PomoRA / PomoLogic string literal.
pub fn string_literal(s: &str) -> String {
    let mut out = String::new();
    let _ = write_string_literal(&mut out, s);
    out
}
