//! How EDN queries and rules print: the `Display` impls, whose text parses back.

use super::*;
use std::fmt;

//
// The syntax trees print back as canonical query text (the vector form, `:in $` made explicit),
// which reads back to an equal tree modulo spans. Tests compare these printed forms.

/// Writes items separated by single spaces.
fn spaced<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Display for SrcVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Display for EdnQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[:find {}", self.find)?;
        if let Some(rm) = &self.return_map {
            write!(f, " {rm}")?;
        }
        if !self.with.is_empty() {
            f.write_str(" :with ")?;
            spaced(f, &self.with)?;
        }
        f.write_str(" :in")?;
        for i in &self.inputs {
            write!(f, " {i}")?;
        }
        if !self.where_.is_empty() {
            f.write_str(" :where ")?;
            spaced(f, &self.where_)?;
        }
        f.write_str("]")
    }
}

impl fmt::Display for FindSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindSpec::Relation(elems, _) => spaced(f, elems),
            FindSpec::Collection(e, _) => write!(f, "[{e} ...]"),
            FindSpec::Scalar(e, _) => write!(f, "{e} ."),
            FindSpec::Tuple(elems, _) => {
                f.write_str("[")?;
                spaced(f, elems)?;
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for FindElem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindElem::Var(v) => write!(f, "{v}"),
            FindElem::Agg { func, args, .. } => {
                write!(f, "({func}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                f.write_str(")")
            }
            FindElem::Pull {
                src, var, pattern, ..
            } => match src {
                Some(s) => write!(f, "(pull {s} {var} {pattern})"),
                None => write!(f, "(pull {var} {pattern})"),
            },
        }
    }
}

impl fmt::Display for ReturnMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            ReturnKind::Keys => ":keys",
            ReturnKind::Strs => ":strs",
            ReturnKind::Syms => ":syms",
        })?;
        for n in &self.names {
            write!(f, " {n}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Source(s) => write!(f, "{s}"),
            Input::Rules(_) => f.write_str("%"),
            Input::Binding(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Binding::Var(v) => write!(f, "{v}"),
            Binding::Blank(_) => f.write_str("_"),
            Binding::Tuple(bs, _) => {
                f.write_str("[")?;
                spaced(f, bs)?;
                f.write_str("]")
            }
            Binding::Collection(b, _) => write!(f, "[{b} ...]"),
            Binding::Relation(bs, _) => {
                f.write_str("[[")?;
                spaced(f, bs)?;
                f.write_str("]]")
            }
        }
    }
}

impl fmt::Display for PatTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatTerm::Var(v) => write!(f, "{v}"),
            PatTerm::Blank(_) => f.write_str("_"),
            PatTerm::Const(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for FnArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FnArg::Var(v) => write!(f, "{v}"),
            FnArg::Src(s) => write!(f, "{s}"),
            FnArg::Const(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for Callee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Callee::Named(n) => write!(f, "{n}"),
            Callee::Var(v) => write!(f, "{v}"),
        }
    }
}

impl fmt::Display for RuleArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleArg::Var(v) => write!(f, "{v}"),
            RuleArg::Blank(_) => f.write_str("_"),
            RuleArg::Const(n) => write!(f, "{n}"),
        }
    }
}

/// Writes `(`, an optional source, the operator, then `rest`.
fn open_list(f: &mut fmt::Formatter<'_>, src: &Option<SrcVar>, op: &str) -> fmt::Result {
    match src {
        Some(s) => write!(f, "({s} {op}"),
        None => write!(f, "({op}"),
    }
}

fn branches(f: &mut fmt::Formatter<'_>, branches: &[Vec<Clause>]) -> fmt::Result {
    for b in branches {
        if b.len() == 1 {
            write!(f, " {}", b[0])?;
        } else {
            f.write_str(" (and")?;
            for c in b {
                write!(f, " {c}")?;
            }
            f.write_str(")")?;
        }
    }
    Ok(())
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clause::Pattern { src, terms, .. } => {
                f.write_str("[")?;
                if let Some(s) = src {
                    write!(f, "{s} ")?;
                }
                spaced(f, terms)?;
                f.write_str("]")
            }
            Clause::Pred { callee, args, .. } => {
                write!(f, "[({callee}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                f.write_str(")]")
            }
            Clause::Fn {
                callee,
                args,
                binding,
                ..
            } => {
                write!(f, "[({callee}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                write!(f, ") {binding}]")
            }
            Clause::RuleCall {
                src, name, args, ..
            } => {
                open_list(f, src, &name.name)?;
                for a in args {
                    write!(f, " {a}")?;
                }
                f.write_str(")")
            }
            Clause::Not { src, clauses, .. } => {
                open_list(f, src, "not")?;
                for c in clauses {
                    write!(f, " {c}")?;
                }
                f.write_str(")")
            }
            Clause::NotJoin {
                src, vars, clauses, ..
            } => {
                open_list(f, src, "not-join")?;
                f.write_str(" [")?;
                spaced(f, vars)?;
                f.write_str("]")?;
                for c in clauses {
                    write!(f, " {c}")?;
                }
                f.write_str(")")
            }
            Clause::Or {
                src, branches: bs, ..
            } => {
                open_list(f, src, "or")?;
                branches(f, bs)?;
                f.write_str(")")
            }
            Clause::OrJoin {
                src,
                required,
                free,
                branches: bs,
                ..
            } => {
                open_list(f, src, "or-join")?;
                f.write_str(" [")?;
                if !required.is_empty() {
                    f.write_str("[")?;
                    spaced(f, required)?;
                    f.write_str("]")?;
                    if !free.is_empty() {
                        f.write_str(" ")?;
                    }
                }
                spaced(f, free)?;
                f.write_str("]")?;
                branches(f, bs)?;
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[({}", self.name)?;
        if !self.required.is_empty() {
            f.write_str(" [")?;
            spaced(f, &self.required)?;
            f.write_str("]")?;
        }
        for v in &self.free {
            write!(f, " {v}")?;
        }
        f.write_str(")")?;
        for c in &self.body {
            write!(f, " {c}")?;
        }
        f.write_str("]")
    }
}
