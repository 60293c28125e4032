//! The PomoRA text syntax (ARCHITECTURE §5), as printed by `pomo explain --stage ra`:
//!
//! ```text
//! relation datom(e, a, v, t, m, added) base
//! relation edge(from, to) derived
//! relation path(from, to) output
//!
//! stratum 0 {
//!   edge := rename[?x -> from, ?y -> to](
//!     project[?x, ?y](
//!       rename[e -> ?x, v -> ?y](
//!         select[a = :edge/to](datom))));
//! }
//! stratum 1 recursive {
//!   path := rename[?x -> from, ?y -> to](rename[from -> ?x, to -> ?y](edge));
//!   path@delta := path;
//!   loop {
//!     path@new := diff(project[from, to](join(path@delta, edge)), path);
//!     path := union(path, path@new);
//!     path@delta := path@new;
//!   } until empty(path@delta);
//! }
//! ```
//!
//! Operators: `project[attrs](e)`, `rename[a -> b, …](e)`, `select[formula](e)`,
//! `union(e, …)`, `diff(e, e)`, `product(e, e)`, `join(e, e)`, `theta_join[formula](e, e)`,
//! `equijoin[a = b, …](e, e)`, `semijoin(e, e)`, `antijoin(e, e)`,
//! `group_by[keys; out := agg(args), …](e)`, `map[bind := f(args)](e)` / `map[a := operand](e)`,
//! `values[attrs]{(c, …), …}`. Formulas are in DNF: `x = 1 and y < z or not p(x)`, `true`,
//! `false`. Attribute names are identifiers or `?vars`; the operator names and
//! `relation stratum recursive loop until empty and or not true false nil` are reserved and a
//! relation with such a name is written in backquotes.
//!
//! Parsing lexes the whole input (`ra_syntax/lexer.rs`), checks brackets, and runs the lalrpop
//! grammar (`ra_syntax/ra.lalrpop`). Declarations and strata may interleave in the text; the
//! plan keeps each list in source order. The syntax tree prints back (`Display`) to text that
//! parses to an equal tree modulo spans, one statement per line.

use crate::diag::Diagnostic;
use crate::lex::{Delim, check_delims, parse_error_to_diag};
use crate::logic_syntax::{CmpOp, Const, Ident};
use crate::span::Span;
use std::fmt;

pub(crate) mod lexer;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused_parens)]
    grammar,
    "/ra_syntax/ra.rs"
);

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub decls: Vec<RelDecl>,
    pub strata: Vec<Stratum>,
}

/// `relation name(a, b) kind` where kind is an identifier (`base`, `input`, `derived`, `output`).
#[derive(Clone, Debug, PartialEq)]
pub struct RelDecl {
    pub name: Ident,
    pub attrs: Vec<Ident>,
    pub kind: Ident,
    /// `[scalar]` after `input`, `[relation, with(?w), keys("a")]` after `output`.
    pub options: Vec<crate::logic_syntax::OutputOption>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stratum {
    pub index: i64,
    pub recursive: bool,
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

/// `name` or `name@version` (`delta`, `new`, `next`).
#[derive(Clone, Debug, PartialEq)]
pub struct RelRef {
    pub name: Ident,
    pub version: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `target := expr;`
    Assign {
        target: RelRef,
        expr: Expr,
        span: Span,
    },
    /// `loop { stmt… } until empty(r, …);`
    Loop {
        body: Vec<Stmt>,
        until: Vec<RelRef>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Attr(Ident),
    Const(Const, Span),
}

/// One atom of a DNF formula.
#[derive(Clone, Debug, PartialEq)]
pub enum FAtom {
    Cmp {
        op: CmpOp,
        lhs: Operand,
        rhs: Operand,
        negated: bool,
        span: Span,
    },
    /// A predicate call `f(args)` (`?f(args)` when `callee_is_var`).
    Call {
        func: Ident,
        callee_is_var: bool,
        args: Vec<Operand>,
        negated: bool,
        span: Span,
    },
}

/// A formula in disjunctive normal form. `true` is one empty conjunction; `false` is none.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    pub disjuncts: Vec<Vec<FAtom>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AggSpec {
    pub out: Ident,
    pub func: Ident,
    pub func_is_var: bool,
    pub args: Vec<Operand>,
    pub span: Span,
}

/// The left side of a `map`: one attribute, `[a, b]`, `[a ...]` or `[[a, b]]` (`_` allowed
/// inside brackets, kept as an `Ident` named `_`).
#[derive(Clone, Debug, PartialEq)]
pub enum MapBind {
    Scalar(Ident),
    Tuple(Vec<Ident>, Span),
    Coll(Ident, Span),
    Rel(Vec<Ident>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapRhs {
    Call {
        func: Ident,
        callee_is_var: bool,
        args: Vec<Operand>,
    },
    Operand(Operand),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Rel(RelRef),
    Project {
        attrs: Vec<Ident>,
        input: Box<Expr>,
        span: Span,
    },
    Rename {
        pairs: Vec<(Ident, Ident)>,
        input: Box<Expr>,
        span: Span,
    },
    Select {
        formula: Formula,
        input: Box<Expr>,
        span: Span,
    },
    Union {
        inputs: Vec<Expr>,
        span: Span,
    },
    Diff {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    Product {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    Join {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    ThetaJoin {
        formula: Formula,
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    EquiJoin {
        pairs: Vec<(Ident, Ident)>,
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    SemiJoin {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    AntiJoin {
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    GroupBy {
        keys: Vec<Ident>,
        aggs: Vec<AggSpec>,
        input: Box<Expr>,
        span: Span,
    },
    Map {
        bind: MapBind,
        rhs: MapRhs,
        input: Box<Expr>,
        span: Span,
    },
    Values {
        attrs: Vec<Ident>,
        rows: Vec<Vec<Const>>,
        span: Span,
    },
}

/// Parses a PomoRA plan. Reports every lexer error, or every bracket error, or the first syntax
/// error together with every shape error found before it.
pub fn parse_plan(src: &str) -> Result<Plan, Vec<Diagnostic>> {
    use lexer::Tok;
    let tokens = lexer::lex(src).map_err(|errs| {
        errs.iter()
            .map(|e| e.to_diagnostic(src))
            .collect::<Vec<_>>()
    })?;
    let delims = check_delims(
        src,
        tokens.iter().map(|(lo, t, hi)| {
            let d = match t {
                Tok::LParen => Delim::Open {
                    open: "(",
                    close: ")",
                },
                Tok::LBracket => Delim::Open {
                    open: "[",
                    close: "]",
                },
                Tok::LBrace => Delim::Open {
                    open: "{",
                    close: "}",
                },
                Tok::RParen => Delim::Close(")"),
                Tok::RBracket => Delim::Close("]"),
                Tok::RBrace => Delim::Close("}"),
                _ => Delim::Other,
            };
            (*lo..*hi, d)
        }),
    );
    if !delims.is_empty() {
        return Err(delims);
    }
    let mut diags = Vec::new();
    let result = grammar::PlanParser::new().parse(
        &mut diags,
        tokens.into_iter().map(Ok::<_, crate::lex::LexError>),
    );
    match result {
        Ok(plan) if diags.is_empty() => Ok(plan),
        Ok(_) => Err(diags),
        Err(e) => {
            diags.push(parse_error_to_diag(src, e, ("E0030", "E0031"), "plan"));
            Err(diags)
        }
    }
}

/// A top-level piece of a plan as the grammar reads it.
pub(crate) enum Top {
    Decl(RelDecl),
    Stratum(Stratum),
}

pub(crate) fn build_plan(tops: Vec<Top>, diags: &mut Vec<Diagnostic>) -> Plan {
    let mut plan = Plan {
        decls: Vec::new(),
        strata: Vec::new(),
    };
    for top in tops {
        match top {
            Top::Decl(d) => plan.decls.push(d),
            Top::Stratum(s) => {
                if s.index < 0 {
                    diags.push(
                        Diagnostic::error("E0033", "a stratum index cannot be negative")
                            .with_label(
                                s.span.start..s.span.start + "stratum".len(),
                                "in this stratum",
                            ),
                    );
                }
                plan.strata.push(s);
            }
        }
    }
    plan
}

/// Builds a `values` expression, reporting rows whose width differs from the attribute list.
pub(crate) fn check_values(
    attrs: Vec<Ident>,
    rows: Vec<(Vec<Const>, Span)>,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Expr {
    for (row, row_span) in &rows {
        if row.len() != attrs.len() {
            diags.push(
                Diagnostic::error(
                    "E0032",
                    format!(
                        "a row of `values` has {} values but there are {} attributes",
                        row.len(),
                        attrs.len()
                    ),
                )
                .with_label(row_span.clone(), format!("{} values", row.len())),
            );
        }
    }
    Expr::Values {
        attrs,
        rows: rows.into_iter().map(|(r, _)| r).collect(),
        span,
    }
}

impl FAtom {
    /// The same atom negated, with its span widened to cover the `not`.
    pub(crate) fn negate(self, span: Span) -> FAtom {
        match self {
            FAtom::Cmp { op, lhs, rhs, .. } => FAtom::Cmp {
                op,
                lhs,
                rhs,
                negated: true,
                span,
            },
            FAtom::Call {
                func,
                callee_is_var,
                args,
                ..
            } => FAtom::Call {
                func,
                callee_is_var,
                args,
                negated: true,
                span,
            },
        }
    }
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Rel(r) => r.span.clone(),
            Expr::Project { span, .. }
            | Expr::Rename { span, .. }
            | Expr::Select { span, .. }
            | Expr::Union { span, .. }
            | Expr::Diff { span, .. }
            | Expr::Product { span, .. }
            | Expr::Join { span, .. }
            | Expr::ThetaJoin { span, .. }
            | Expr::EquiJoin { span, .. }
            | Expr::SemiJoin { span, .. }
            | Expr::AntiJoin { span, .. }
            | Expr::GroupBy { span, .. }
            | Expr::Map { span, .. }
            | Expr::Values { span, .. } => span.clone(),
        }
    }
}

// ---- printing --------------------------------------------------------------------------------

/// The words the PomoRA lexer reserves; a name spelled like one prints in backquotes.
/// The words the PomoRA lexer reserves (a name equal to one is written in backquotes).
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

#[cfg(test)]
mod tests;
