//! Reading PomoLogic text (`.pomo` files and the output of `explain --stage logic`) into the IR.
//!
//! The grammar gives a syntax tree; this module resolves it: `name(attr: t)` with named
//! arguments is an atom, `name(t, …)` with positional arguments a call of a stdlib built-in (by
//! canonical name), and a zero-argument `name()` is an atom when `name` is a declared relation or
//! the head of a rule, a call otherwise. Relations used in bodies and defined by no rule are base
//! relations, with the attributes their uses mention.

use super::ir::*;
use pomo_grammar::Diagnostic;
use pomo_grammar::logic_syntax::{self as syn, Arg, BindForm, Const, Item};
use pomo_grammar::span::{FileId, Span};
use pomo_stdlib::{Kind, builtin};
use pomo_types::Value;
use pomo_types::ra::{
    BindKind, CmpOp, FindKind, OutputSpec, PullPattern, PullSpec, RelKind, ReturnKind,
};
use std::collections::BTreeSet;

/// Parses PomoLogic text into a program.
pub fn parse_program(src: &str, file: FileId) -> Result<Program, Vec<Diagnostic>> {
    let ast = syn::parse_program(src)
        .map_err(|ds| ds.into_iter().map(|d| d.in_file(file)).collect::<Vec<_>>())?;
    from_syntax(&ast, file)
}

/// Resolves a PomoLogic syntax tree (read from `file`) into a program.
pub fn from_syntax(ast: &syn::Program, file: FileId) -> Result<Program, Vec<Diagnostic>> {
    let mut r = Resolver {
        prog: Program::default(),
        errors: Vec::new(),
        file,
        declared: BTreeSet::new(),
        heads: BTreeSet::new(),
    };
    r.resolve(ast);
    if r.errors.is_empty() {
        Ok(r.prog)
    } else {
        Err(r.errors)
    }
}

/// Reads the options of an `.output` line (or a PomoRA output declaration): `with(…)`,
/// `keys(…)`/`strs(…)`/`syms(…)` and `pull("column", "source", "const"|"input", "text")`.
pub fn output_spec(
    find: FindKind,
    options: &[syn::OutputOption],
) -> Result<OutputSpec, (String, Span)> {
    let mut spec = OutputSpec {
        find,
        with: Vec::new(),
        ret: None,
        pulls: Vec::new(),
        sql: None,
    };
    for o in options {
        let args: Vec<String> = o.args.iter().map(|a| a.text()).collect();
        if o.name.name == "with" {
            spec.with = args;
        } else if let Some(k) = ReturnKind::from_keyword(&o.name.name) {
            spec.ret = Some((k, args));
        } else if o.name.name == "sql" {
            spec.sql = Some(
                pomo_types::ra::SqlShape::from_args(&args)
                    .map_err(|m| (format!("bad sql option: {m}"), o.span.clone()))?,
            );
        } else if o.name.name == "pull" {
            let bad = |m: &str| (format!("bad pull option: {m}"), o.span.clone());
            let [column, source, kind, text] = args.as_slice() else {
                return Err(bad("expected pull(column, source, kind, pattern)"));
            };
            let column = column.parse().map_err(|_| bad("the column is a number"))?;
            let pattern = match kind.as_str() {
                "input" => PullPattern::Input(text.clone()),
                "const" => {
                    let node = pomo_grammar::edn::parse_one(text)
                        .map_err(|_| bad("the pattern is not EDN"))?;
                    PullPattern::Const(
                        crate::edn::pattern_value(&node).map_err(|d| bad(&d.message))?,
                    )
                }
                _ => return Err(bad("the kind is const or input")),
            };
            spec.pulls.push(PullSpec {
                column,
                source: source.clone(),
                pattern,
            });
        } else {
            return Err((
                format!(
                    "unknown output option `{}`; expected with, keys, strs, syms, pull or sql",
                    o.name.name
                ),
                o.span.clone(),
            ));
        }
    }
    Ok(spec)
}

/// Converts a syntax constant to a value.
pub fn const_to_value(c: &Const, span: &Span, file: FileId) -> Result<Value, Diagnostic> {
    let bad =
        |msg: String| Diagnostic::error("E0222", msg).with_label_in(file, span.clone(), "constant");
    Ok(match c {
        Const::Nil => Value::Nil,
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) => Value::Int(*i),
        Const::Float(f) => {
            if f.is_nan() {
                return Err(bad("NaN is not a valid value".into()));
            }
            Value::Float(*f)
        }
        Const::Str(s) => Value::Str(s.clone()),
        Const::Keyword(k) => Value::Keyword(k.clone()),
        Const::Symbol(s) => Value::Symbol(s.clone()),
        Const::Vector(xs) => Value::Tuple(
            xs.iter()
                .map(|x| const_to_value(x, span, file))
                .collect::<Result<_, _>>()?,
        ),
        Const::Tagged(tag, text) => match tag.as_str() {
            "inst" => Value::Instant(
                pomo_types::value::parse_instant(text)
                    .ok_or_else(|| bad(format!("invalid #inst {text:?}")))?,
            ),
            "uuid" => Value::Uuid(
                pomo_types::value::parse_uuid(text)
                    .ok_or_else(|| bad(format!("invalid #uuid {text:?}")))?,
            ),
            "ref" => Value::Ref(
                text.parse()
                    .map_err(|_| bad(format!("invalid #ref {text:?}")))?,
            ),
            "cid" => Value::Cid(text.clone()),
            "bytes" => {
                if text.len() % 2 != 0 {
                    return Err(bad("#bytes needs an even number of hex digits".into()));
                }
                let bytes: Result<Vec<u8>, _> = (0..text.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
                    .collect();
                Value::Bytes(bytes.map_err(|_| bad(format!("invalid #bytes {text:?}")))?)
            }
            other => return Err(bad(format!("unknown tagged literal #{other}"))),
        },
    })
}

pub fn cmp_op(op: syn::CmpOp) -> CmpOp {
    match op {
        syn::CmpOp::Eq => CmpOp::Eq,
        syn::CmpOp::Ne => CmpOp::Ne,
        syn::CmpOp::Lt => CmpOp::Lt,
        syn::CmpOp::Le => CmpOp::Le,
        syn::CmpOp::Gt => CmpOp::Gt,
        syn::CmpOp::Ge => CmpOp::Ge,
    }
}

struct Resolver {
    prog: Program,
    errors: Vec<Diagnostic>,
    file: FileId,
    declared: BTreeSet<String>,
    heads: BTreeSet<String>,
}

impl Resolver {
    fn err(&mut self, code: &str, msg: String, span: &Span, label: &str) {
        self.errors.push(Diagnostic::error(code, msg).with_label_in(
            self.file,
            span.clone(),
            label,
        ));
    }

    fn resolve(&mut self, ast: &syn::Program) {
        // Declarations first, so that uses can be checked against them.
        for item in &ast.items {
            match item {
                Item::Decl { name, attrs, span } => {
                    self.declare(name, attrs, base_kind(&name.name), span)
                }
                Item::Input {
                    name,
                    attrs,
                    kind,
                    span,
                } => match BindKind::from_keyword(&kind.name) {
                    Some(k) => self.declare(name, attrs, RelKind::Input(k), span),
                    None => self.err(
                        "E0223",
                        format!("unknown input kind `{}`", kind.name),
                        &kind.span,
                        "expected scalar, tuple, collection or relation",
                    ),
                },
                Item::Output {
                    name,
                    attrs,
                    kind,
                    options,
                    span,
                } => {
                    let Some(find) = FindKind::from_keyword(&kind.name) else {
                        self.err(
                            "E0223",
                            format!("unknown output kind `{}`", kind.name),
                            &kind.span,
                            "expected relation, collection, scalar or tuple",
                        );
                        continue;
                    };
                    let spec = match output_spec(find, options) {
                        Ok(spec) => spec,
                        Err((msg, span)) => {
                            self.err("E0223", msg, &span, "output option");
                            continue;
                        }
                    };
                    self.declare(name, attrs, RelKind::Output(spec), span);
                }
                Item::Rule(r) => {
                    self.heads.insert(r.head.name.name.clone());
                }
            }
        }
        for item in &ast.items {
            if let Item::Rule(r) = item {
                self.rule(r);
            }
        }
    }

    fn declare(&mut self, name: &syn::Ident, attrs: &[syn::Ident], kind: RelKind, span: &Span) {
        if !self.declared.insert(name.name.clone()) {
            self.err(
                "E0224",
                format!("relation `{}` is declared twice", name.name),
                span,
                "second declaration",
            );
            return;
        }
        let id = self.prog.intern(&name.name, kind);
        self.prog
            .note_attrs(id, attrs.iter().map(|a| a.name.as_str()));
    }

    fn is_relation(&self, name: &str) -> bool {
        self.declared.contains(name) || self.heads.contains(name)
    }

    fn term(&mut self, t: &syn::Term) -> Option<Term> {
        Some(match t {
            syn::Term::Var(v) => Term::Var(v.name.clone()),
            syn::Term::Wild(_) => Term::Wild,
            syn::Term::Const(c, span) => match const_to_value(c, span, self.file) {
                Ok(v) => Term::Const(v),
                Err(d) => {
                    self.errors.push(d);
                    return None;
                }
            },
        })
    }

    fn atom(&mut self, a: &syn::Atom, head: bool) -> Option<Atom> {
        if a.callee_is_var {
            self.err(
                "E0225",
                format!("{} is a variable, not a relation", a.name.name),
                &a.name.span,
                "expected a relation name",
            );
            return None;
        }
        let kind = if head {
            RelKind::Derived
        } else {
            base_kind(&a.name.name)
        };
        let kind = if self.heads.contains(&a.name.name) && !head {
            RelKind::Derived
        } else {
            kind
        };
        let rel = self.prog.intern(&a.name.name, kind);
        let mut args = Vec::new();
        let mut seen = BTreeSet::new();
        for arg in &a.args {
            match arg {
                Arg::Named(attr, t) => {
                    if !seen.insert(attr.name.clone()) {
                        self.err(
                            "E0226",
                            format!("attribute `{}` is given twice", attr.name),
                            &attr.span,
                            "duplicate attribute",
                        );
                        return None;
                    }
                    let term = self.term(t)?;
                    if self.declared.contains(&a.name.name)
                        && !self.prog.rel(rel).attrs.contains(&attr.name)
                    {
                        let attrs = self.prog.rel(rel).attrs.join(", ");
                        self.err(
                            "E0227",
                            format!(
                                "relation `{}` has no attribute `{}`",
                                a.name.name, attr.name
                            ),
                            &attr.span,
                            &format!("declared attributes: {attrs}"),
                        );
                        return None;
                    }
                    if head || term != Term::Wild {
                        args.push((attr.name.clone(), term));
                    }
                }
                Arg::Pos(t) => {
                    self.err(
                        "E0228",
                        format!(
                            "atom `{}` mixes named and positional arguments",
                            a.name.name
                        ),
                        &t.span(),
                        "write `attribute: value`",
                    );
                    return None;
                }
            }
        }
        if !self.declared.contains(&a.name.name) {
            self.prog.note_attrs(
                rel,
                a.args.iter().filter_map(|x| match x {
                    Arg::Named(n, _) => Some(n.name.as_str()),
                    Arg::Pos(_) => None,
                }),
            );
        }
        Some(Atom { rel, args })
    }

    /// Whether a syntax atom denotes a call rather than an atom.
    fn is_call(&self, a: &syn::Atom) -> bool {
        a.callee_is_var
            || a.args.iter().any(|x| matches!(x, Arg::Pos(_)))
            || (a.args.is_empty()
                && !self.is_relation(&a.name.name)
                && self.builtin_any(&a.name.name))
    }

    fn builtin_any(&self, name: &str) -> bool {
        builtin(name, Kind::Function).is_some() || builtin(name, Kind::Predicate).is_some()
    }

    fn callee(&mut self, a: &syn::Atom) -> Option<(Callee, Vec<Term>)> {
        let mut args = Vec::new();
        for x in &a.args {
            match x {
                Arg::Pos(t) => args.push(self.term(t)?),
                Arg::Named(n, _) => {
                    self.err(
                        "E0228",
                        format!(
                            "call `{}` mixes named and positional arguments",
                            a.name.name
                        ),
                        &n.span,
                        "positional arguments only",
                    );
                    return None;
                }
            }
        }
        if a.callee_is_var {
            return Some((Callee::Var(a.name.name.clone()), args));
        }
        let b = builtin(&a.name.name, Kind::Function)
            .or_else(|| builtin(&a.name.name, Kind::Predicate));
        let Some(b) = b else {
            let help = if builtin(&a.name.name, Kind::Aggregate).is_some() {
                "this is an aggregate: write `?out := name(?x) : atom(...)`"
            } else {
                "built-ins use snake_case names such as add, str, starts_with; relations take named arguments"
            };
            self.errors.push(
                Diagnostic::error("E0210", format!("unknown function `{}`", a.name.name))
                    .with_label_in(
                        self.file,
                        a.name.span.clone(),
                        "not a built-in function or predicate",
                    )
                    .with_help(help),
            );
            return None;
        };
        if !b.arity.accepts(args.len()) {
            self.err(
                "E0207",
                format!(
                    "`{}` takes {} argument(s), got {}",
                    b.name,
                    b.arity,
                    args.len()
                ),
                &a.span,
                "wrong number of arguments",
            );
            return None;
        }
        Some((Callee::Builtin(b.name.to_string()), args))
    }

    fn bind(&mut self, b: &BindForm) -> Option<Bind> {
        Some(match b {
            BindForm::Scalar(t) => Bind::Scalar(self.term(t)?),
            BindForm::Tuple(ts, _) => {
                Bind::Tuple(ts.iter().map(|t| self.term(t)).collect::<Option<_>>()?)
            }
            BindForm::Coll(t, _) => Bind::Coll(self.term(t)?),
            BindForm::Rel(ts, _) => {
                Bind::Rel(ts.iter().map(|t| self.term(t)).collect::<Option<_>>()?)
            }
        })
    }

    fn rule(&mut self, r: &syn::Rule) {
        let Some(head) = self.atom(&r.head, true) else {
            return;
        };
        if matches!(self.prog.rel(head.rel).kind, RelKind::Base)
            && self.heads.contains(&r.head.name.name)
            && !self.declared.contains(&r.head.name.name)
        {
            self.prog.rel_mut(head.rel).kind = RelKind::Derived;
        }
        let mut body = Vec::new();
        let mut spans = Vec::new();
        for lit in &r.body {
            let (l, span) = match lit {
                syn::Literal::Pos(a) => {
                    if self.is_call(a) {
                        let Some((func, args)) = self.callee(a) else {
                            continue;
                        };
                        (
                            Literal::Test {
                                func,
                                args,
                                negated: false,
                            },
                            a.span.clone(),
                        )
                    } else {
                        let Some(atom) = self.atom(a, false) else {
                            continue;
                        };
                        (Literal::Pos { cid: None, atom }, a.span.clone())
                    }
                }
                syn::Literal::Bind { lhs, rhs, span } => {
                    if !self.is_call(rhs) {
                        let cid = match lhs {
                            BindForm::Scalar(syn::Term::Var(v)) => v.name.clone(),
                            _ => {
                                self.err(
                                    "E0229",
                                    "only a variable can bind the CID of a fact".into(),
                                    span,
                                    "CID binding",
                                );
                                continue;
                            }
                        };
                        let Some(atom) = self.atom(rhs, false) else {
                            continue;
                        };
                        (
                            Literal::Pos {
                                cid: Some(cid),
                                atom,
                            },
                            span.clone(),
                        )
                    } else {
                        let Some(bind) = self.bind(lhs) else { continue };
                        let Some((func, args)) = self.callee(rhs) else {
                            continue;
                        };
                        (Literal::Apply { bind, func, args }, span.clone())
                    }
                }
                syn::Literal::Neg(a, span) => {
                    if self.is_call(a) {
                        let Some((func, args)) = self.callee(a) else {
                            continue;
                        };
                        (
                            Literal::Test {
                                func,
                                args,
                                negated: true,
                            },
                            span.clone(),
                        )
                    } else {
                        let Some(atom) = self.atom(a, false) else {
                            continue;
                        };
                        (Literal::Neg(atom), span.clone())
                    }
                }
                syn::Literal::Cmp { op, lhs, rhs, span } => {
                    let (Some(l), Some(r)) = (self.term(lhs), self.term(rhs)) else {
                        continue;
                    };
                    (
                        Literal::Cmp {
                            op: cmp_op(*op),
                            lhs: l,
                            rhs: r,
                        },
                        span.clone(),
                    )
                }
                syn::Literal::Agg {
                    out,
                    func,
                    func_is_var,
                    args,
                    atom,
                    span,
                } => {
                    let callee = if *func_is_var {
                        Callee::Var(func.name.clone())
                    } else {
                        match builtin(&func.name, Kind::Aggregate) {
                            Some(b) => {
                                // `count : atom` counts the atom's tuples: it takes no argument.
                                let ok = b.arity.accepts(args.len())
                                    || (b.name == "count" && args.is_empty());
                                if !ok {
                                    self.err(
                                        "E0207",
                                        format!(
                                            "aggregate `{}` takes {} argument(s), got {}",
                                            b.name,
                                            b.arity,
                                            args.len()
                                        ),
                                        span,
                                        "wrong number of arguments",
                                    );
                                    continue;
                                }
                                Callee::Builtin(b.name.to_string())
                            }
                            None => {
                                self.errors.push(
                                    Diagnostic::error("E0206", format!("unknown aggregate `{}`", func.name))
                                        .with_label_in(self.file, func.span.clone(), "not a built-in aggregate")
                                        .with_help("aggregates: count, count_distinct, sum, avg, median, variance, stddev, min, max, distinct, rand, sample"),
                                );
                                continue;
                            }
                        }
                    };
                    let Some(targs) = args
                        .iter()
                        .map(|t| self.term(t))
                        .collect::<Option<Vec<_>>>()
                    else {
                        continue;
                    };
                    let Some(atom) = self.atom(atom, false) else {
                        continue;
                    };
                    (
                        Literal::Agg {
                            out: out.name.clone(),
                            func: callee,
                            args: targs,
                            atom,
                        },
                        span.clone(),
                    )
                }
            };
            body.push(l);
            spans.push(Some((self.file, span)));
        }
        self.prog.add_rule(
            Rule {
                head,
                next: r.next,
                body,
            },
            Some((self.file, r.span.clone())),
            spans,
        );
    }
}
