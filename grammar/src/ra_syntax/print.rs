//! How PomoRA plans print: the `Display` impls, whose text parses back to an equal tree modulo
//! spans, one statement per line (what `pomo explain --stage ra` shows).
//!
//! A relation or attribute name spelled like a reserved word ([`RESERVED`]) prints in
//! backquotes ([`RaName`]), so that it lexes back as a name.

use super::ast::{
    AggSpec, Expr, FAtom, Formula, MapBind, MapRhs, Operand, Plan, RelDecl, RelRef, Stmt, Stratum,
};
use crate::logic_syntax::Ident;
use std::fmt;

/// The words the PomoRA lexer reserves; a name spelled like one prints in backquotes.
pub const RESERVED: &[&str] = &[
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
];

/// A name printed in PomoRA syntax: variables and plain identifiers as they are, anything else
/// (reserved words, spaces, …) in backquotes.
pub struct RaName<'a>(pub &'a Ident);

impl fmt::Display for RaName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.0.name.as_str();
        let body = name.strip_suffix(['?', '!']).unwrap_or(name);
        let plain = {
            let mut chars = body.chars();
            matches!(chars.next(), Some('A'..='Z' | 'a'..='z' | '_'))
                && body
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_$-".contains(c))
                && !body.ends_with('-')
                && !RESERVED.contains(&name)
        };
        let var = name.len() > 1 && name.starts_with('?') && !name.ends_with('.');
        if plain || var {
            f.write_str(name)
        } else {
            write!(f, "`{name}`")
        }
    }
}

fn names(f: &mut fmt::Formatter<'_>, items: &[Ident]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", RaName(x))?;
    }
    Ok(())
}

fn commas<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

impl fmt::Display for Plan {
    /// Declarations one per line, then each stratum with one statement per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.decls {
            writeln!(f, "{d}")?;
        }
        for (i, s) in self.strata.iter().enumerate() {
            if i > 0 || !self.decls.is_empty() {
                writeln!(f)?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl fmt::Display for RelDecl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "relation {}(", RaName(&self.name))?;
        names(f, &self.attrs)?;
        write!(f, ") {}", RaName(&self.kind))?;
        if !self.options.is_empty() {
            f.write_str("[")?;
            for (i, o) in self.options.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(&o.name.name)?;
                if !o.args.is_empty() {
                    let args: Vec<String> = o
                        .args
                        .iter()
                        .map(|a| match a {
                            crate::logic_syntax::OptArg::Ident(i) => RaName(i).to_string(),
                            crate::logic_syntax::OptArg::Str(s, _) => format!("{s:?}"),
                        })
                        .collect();
                    write!(f, "({})", args.join(", "))?;
                }
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

impl fmt::Display for Stratum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stratum {}", self.index)?;
        if self.recursive {
            f.write_str(" recursive")?;
        }
        f.write_str(" {\n")?;
        for s in &self.stmts {
            write_stmt(f, s, 1)?;
        }
        f.write_str("}\n")
    }
}

fn write_stmt(f: &mut fmt::Formatter<'_>, stmt: &Stmt, depth: usize) -> fmt::Result {
    let indent = "  ".repeat(depth);
    match stmt {
        Stmt::Assign { target, expr, .. } => writeln!(f, "{indent}{target} := {expr};"),
        Stmt::Loop { body, until, .. } => {
            writeln!(f, "{indent}loop {{")?;
            for s in body {
                write_stmt(f, s, depth + 1)?;
            }
            write!(f, "{indent}}} until empty(")?;
            commas(f, until)?;
            writeln!(f, ");")
        }
    }
}

impl fmt::Display for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_stmt(f, self, 0)
    }
}

impl fmt::Display for RelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", RaName(&self.name))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", RaName(v))?;
        }
        Ok(())
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Attr(a) => write!(f, "{}", RaName(a)),
            Operand::Const(c, _) => write!(f, "{c}"),
        }
    }
}

impl fmt::Display for FAtom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FAtom::Cmp {
                op,
                lhs,
                rhs,
                negated,
                ..
            } => {
                if *negated {
                    f.write_str("not ")?;
                }
                write!(f, "{lhs} {op} {rhs}")
            }
            FAtom::Call {
                func,
                args,
                negated,
                ..
            } => {
                if *negated {
                    f.write_str("not ")?;
                }
                write!(f, "{}(", RaName(func))?;
                commas(f, args)?;
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.disjuncts.as_slice() {
            [] => f.write_str("false"),
            [c] if c.is_empty() => f.write_str("true"),
            ds => {
                for (i, conj) in ds.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    // An empty conjunction inside a larger disjunction has no syntax of its
                    // own; the whole formula is then true.
                    if conj.is_empty() {
                        return f.write_str("true");
                    }
                    for (j, a) in conj.iter().enumerate() {
                        if j > 0 {
                            f.write_str(" and ")?;
                        }
                        write!(f, "{a}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for AggSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} := {}(", RaName(&self.out), RaName(&self.func))?;
        commas(f, &self.args)?;
        f.write_str(")")
    }
}

impl fmt::Display for MapBind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapBind::Scalar(a) => write!(f, "{}", RaName(a)),
            MapBind::Tuple(attrs, _) => {
                f.write_str("[")?;
                names(f, attrs)?;
                f.write_str("]")
            }
            MapBind::Coll(a, _) => write!(f, "[{} ...]", RaName(a)),
            MapBind::Rel(attrs, _) => {
                f.write_str("[[")?;
                names(f, attrs)?;
                f.write_str("]]")
            }
        }
    }
}

impl fmt::Display for MapRhs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapRhs::Call { func, args, .. } => {
                write!(f, "{}(", RaName(func))?;
                commas(f, args)?;
                f.write_str(")")
            }
            MapRhs::Operand(o) => write!(f, "{o}"),
        }
    }
}

fn pairs(f: &mut fmt::Formatter<'_>, pairs: &[(Ident, Ident)], sep: &str) -> fmt::Result {
    for (i, (a, b)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{} {sep} {}", RaName(a), RaName(b))?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Rel(r) => write!(f, "{r}"),
            Expr::Project { attrs, input, .. } => {
                f.write_str("project[")?;
                names(f, attrs)?;
                write!(f, "]({input})")
            }
            Expr::Rename {
                pairs: ps, input, ..
            } => {
                f.write_str("rename[")?;
                pairs(f, ps, "->")?;
                write!(f, "]({input})")
            }
            Expr::Select { formula, input, .. } => write!(f, "select[{formula}]({input})"),
            Expr::Union { inputs, .. } => {
                f.write_str("union(")?;
                commas(f, inputs)?;
                f.write_str(")")
            }
            Expr::Diff { left, right, .. } => write!(f, "diff({left}, {right})"),
            Expr::Product { left, right, .. } => write!(f, "product({left}, {right})"),
            Expr::Join { left, right, .. } => write!(f, "join({left}, {right})"),
            Expr::SemiJoin { left, right, .. } => write!(f, "semijoin({left}, {right})"),
            Expr::AntiJoin { left, right, .. } => write!(f, "antijoin({left}, {right})"),
            Expr::ThetaJoin {
                formula,
                left,
                right,
                ..
            } => write!(f, "theta_join[{formula}]({left}, {right})"),
            Expr::EquiJoin {
                pairs: ps,
                left,
                right,
                ..
            } => {
                f.write_str("equijoin[")?;
                pairs(f, ps, "=")?;
                write!(f, "]({left}, {right})")
            }
            Expr::GroupBy {
                keys, aggs, input, ..
            } => {
                f.write_str("group_by[")?;
                names(f, keys)?;
                f.write_str("; ")?;
                commas(f, aggs)?;
                write!(f, "]({input})")
            }
            Expr::Map {
                bind, rhs, input, ..
            } => write!(f, "map[{bind} := {rhs}]({input})"),
            Expr::Values { attrs, rows, .. } => {
                f.write_str("values[")?;
                names(f, attrs)?;
                f.write_str("]{")?;
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str("(")?;
                    commas(f, row)?;
                    f.write_str(")")?;
                }
                f.write_str("}")
            }
        }
    }
}
