//! Reading PomoRA text (the output of `explain --stage ra`) back into a plan, so that pass
//! tests start from plan text (ARCHITECTURE, convention 1).

use crate::logic::parse::{cmp_op, const_to_value};
use pomo_grammar::Diagnostic;
use pomo_grammar::logic_syntax::{Const, Ident};
use pomo_grammar::ra_syntax as syn;
use pomo_types::Value;
use pomo_types::ra::*;

/// Parses plan text.
pub fn parse_plan(src: &str) -> Result<Plan, Vec<Diagnostic>> {
    let ast = syn::parse_plan(src)?;
    let mut cx = Cx {
        plan: Plan::default(),
        errors: Vec::new(),
    };
    for d in &ast.decls {
        cx.decl(d);
    }
    for st in &ast.strata {
        let stmts = st.stmts.iter().filter_map(|s| cx.stmt(s)).collect();
        cx.plan.strata.push(Stratum {
            recursive: st.recursive,
            stmts,
        });
    }
    if cx.errors.is_empty() {
        Ok(cx.plan)
    } else {
        Err(cx.errors)
    }
}

struct Cx {
    plan: Plan,
    errors: Vec<Diagnostic>,
}

impl Cx {
    fn err(&mut self, msg: String, span: &pomo_grammar::Span) {
        self.errors
            .push(Diagnostic::error("E0231", msg).with_label(span.clone(), "here"));
    }

    fn decl(&mut self, d: &syn::RelDecl) {
        let attrs = d.attrs.iter().map(|a| a.name.clone()).collect();
        let kind = match d.kind.name.as_str() {
            // A view prints as `base`; its name says which (see `base_kind`).
            "base" => crate::logic::ir::base_kind(&d.name.name),
            "derived" => RelKind::Derived,
            "input" => match d
                .options
                .first()
                .and_then(|o| BindKind::from_keyword(&o.name.name))
            {
                Some(k) => RelKind::Input(k),
                None => {
                    self.err("an input relation needs its binding kind: scalar, tuple, collection or relation".into(), &d.span);
                    return;
                }
            },
            "output" => {
                let mut opts = d.options.iter();
                let Some(find) = opts
                    .next()
                    .and_then(|o| FindKind::from_keyword(&o.name.name))
                else {
                    self.err("an output relation needs its find kind: relation, collection, scalar or tuple".into(), &d.span);
                    return;
                };
                let rest: Vec<_> = opts.cloned().collect();
                let spec = match crate::logic::parse::output_spec(find, &rest) {
                    Ok(spec) => spec,
                    Err((msg, span)) => {
                        self.err(msg, &span);
                        return;
                    }
                };
                RelKind::Output(spec)
            }
            other => {
                self.err(format!("unknown relation kind `{other}`"), &d.kind.span);
                return;
            }
        };
        if self.plan.relation(&d.name.name).is_some() {
            self.err(
                format!("relation `{}` is declared twice", d.name.name),
                &d.name.span,
            );
            return;
        }
        self.plan.relations.push(RelDecl {
            name: d.name.name.clone(),
            attrs,
            kind,
        });
    }

    fn relref(&mut self, r: &syn::RelRef) -> Option<RelRef> {
        let version = match r.version.as_ref().map(|v| v.name.as_str()) {
            None => Version::Total,
            Some("delta") => Version::Delta,
            Some("new") => Version::New,
            Some("next") => Version::Next,
            Some(other) => {
                self.err(format!("unknown relation version `@{other}`"), &r.span);
                return None;
            }
        };
        if self.plan.relation(&r.name.name).is_none() {
            self.err(
                format!("relation `{}` is not declared", r.name.name),
                &r.name.span,
            );
            return None;
        }
        Some(RelRef {
            name: r.name.name.clone(),
            version,
        })
    }

    fn stmt(&mut self, s: &syn::Stmt) -> Option<Stmt> {
        match s {
            syn::Stmt::Assign { target, expr, .. } => {
                let target = self.relref(target)?;
                let expr = self.expr(expr)?;
                Some(Stmt::Assign { target, expr })
            }
            syn::Stmt::Loop { body, until, .. } => {
                let body = body.iter().filter_map(|s| self.stmt(s)).collect();
                let until = until.iter().filter_map(|r| self.relref(r)).collect();
                Some(Stmt::Loop { body, until })
            }
        }
    }

    fn value(&mut self, c: &Const, span: &pomo_grammar::Span) -> Option<Value> {
        match const_to_value(c, span, 0) {
            Ok(v) => Some(v),
            Err(d) => {
                self.errors.push(d);
                None
            }
        }
    }

    fn operand(&mut self, o: &syn::Operand) -> Option<Operand> {
        Some(match o {
            syn::Operand::Attr(a) => Operand::Attr(a.name.clone()),
            syn::Operand::Const(c, span) => Operand::Const(self.value(c, span)?),
        })
    }

    fn operands(&mut self, os: &[syn::Operand]) -> Option<Vec<Operand>> {
        os.iter().map(|o| self.operand(o)).collect()
    }

    fn callee(func: &Ident, is_var: bool) -> Callee {
        if is_var {
            Callee::Attr(func.name.clone())
        } else {
            Callee::Builtin(func.name.clone())
        }
    }

    fn formula(&mut self, f: &syn::Formula) -> Option<Formula> {
        let mut disjuncts = Vec::new();
        for d in &f.disjuncts {
            let mut lits = Vec::new();
            for a in d {
                lits.push(match a {
                    syn::FAtom::Cmp {
                        op,
                        lhs,
                        rhs,
                        negated,
                        ..
                    } => FLit {
                        negated: *negated,
                        test: Test::Cmp {
                            op: ra_cmp(*op),
                            lhs: self.operand(lhs)?,
                            rhs: self.operand(rhs)?,
                        },
                    },
                    syn::FAtom::Call {
                        func,
                        callee_is_var,
                        args,
                        negated,
                        ..
                    } => FLit {
                        negated: *negated,
                        test: Test::Call {
                            func: Self::callee(func, *callee_is_var),
                            args: self.operands(args)?,
                        },
                    },
                });
            }
            disjuncts.push(lits);
        }
        Some(Formula { disjuncts })
    }

    fn names(xs: &[Ident]) -> Vec<Attr> {
        xs.iter().map(|x| x.name.clone()).collect()
    }

    fn expr(&mut self, e: &syn::Expr) -> Option<ExprId> {
        let node = match e {
            syn::Expr::Rel(r) => Expr::Rel(self.relref(r)?),
            syn::Expr::Project { attrs, input, .. } => Expr::Project {
                attrs: Self::names(attrs),
                input: self.expr(input)?,
            },
            syn::Expr::Rename { pairs, input, .. } => Expr::Rename {
                pairs: pairs
                    .iter()
                    .map(|(a, b)| (a.name.clone(), b.name.clone()))
                    .collect(),
                input: self.expr(input)?,
            },
            syn::Expr::Select { formula, input, .. } => Expr::Select {
                formula: self.formula(formula)?,
                input: self.expr(input)?,
            },
            syn::Expr::Union { inputs, .. } => Expr::Union(
                inputs
                    .iter()
                    .map(|x| self.expr(x))
                    .collect::<Option<Vec<_>>>()?,
            ),
            syn::Expr::Diff { left, right, .. } => Expr::Diff(self.expr(left)?, self.expr(right)?),
            syn::Expr::Product { left, right, .. } => {
                Expr::Product(self.expr(left)?, self.expr(right)?)
            }
            syn::Expr::Join { left, right, .. } => Expr::Join(self.expr(left)?, self.expr(right)?),
            syn::Expr::SemiJoin { left, right, .. } => {
                Expr::SemiJoin(self.expr(left)?, self.expr(right)?)
            }
            syn::Expr::AntiJoin { left, right, .. } => {
                Expr::AntiJoin(self.expr(left)?, self.expr(right)?)
            }
            syn::Expr::ThetaJoin {
                formula,
                left,
                right,
                ..
            } => Expr::ThetaJoin {
                formula: self.formula(formula)?,
                left: self.expr(left)?,
                right: self.expr(right)?,
            },
            syn::Expr::EquiJoin {
                pairs, left, right, ..
            } => Expr::EquiJoin {
                pairs: pairs
                    .iter()
                    .map(|(a, b)| (a.name.clone(), b.name.clone()))
                    .collect(),
                left: self.expr(left)?,
                right: self.expr(right)?,
            },
            syn::Expr::GroupBy {
                keys, aggs, input, ..
            } => {
                let mut calls = Vec::new();
                for a in aggs {
                    calls.push(AggCall {
                        out: a.out.name.clone(),
                        func: Self::callee(&a.func, a.func_is_var),
                        args: self.operands(&a.args)?,
                    });
                }
                Expr::GroupBy {
                    keys: Self::names(keys),
                    aggs: calls,
                    input: self.expr(input)?,
                }
            }
            syn::Expr::Map {
                bind, rhs, input, ..
            } => {
                let opt = |i: &Ident| {
                    if i.name == "_" {
                        None
                    } else {
                        Some(i.name.clone())
                    }
                };
                let bind = match bind {
                    syn::MapBind::Scalar(a) => MapBind::Scalar(a.name.clone()),
                    syn::MapBind::Tuple(xs, _) => MapBind::Tuple(xs.iter().map(opt).collect()),
                    syn::MapBind::Coll(a, _) => MapBind::Coll(a.name.clone()),
                    syn::MapBind::Rel(xs, _) => MapBind::Rel(xs.iter().map(opt).collect()),
                };
                let rhs = match rhs {
                    syn::MapRhs::Call {
                        func,
                        callee_is_var,
                        args,
                    } => MapRhs::Call {
                        func: Self::callee(func, *callee_is_var),
                        args: self.operands(args)?,
                    },
                    syn::MapRhs::Operand(o) => MapRhs::Operand(self.operand(o)?),
                };
                Expr::Map {
                    bind,
                    rhs,
                    input: self.expr(input)?,
                }
            }
            syn::Expr::Values { attrs, rows, span } => {
                let mut vals = Vec::new();
                for r in rows {
                    vals.push(
                        r.iter()
                            .map(|c| self.value(c, span))
                            .collect::<Option<Vec<_>>>()?,
                    );
                }
                Expr::Values {
                    attrs: Self::names(attrs),
                    rows: vals,
                }
            }
        };
        Some(self.plan.add(node))
    }
}

fn ra_cmp(op: pomo_grammar::logic_syntax::CmpOp) -> CmpOp {
    cmp_op(op)
}

#[cfg(test)]
mod tests {
    /// The printer (in `pomo-types`, which cannot see the grammar) and the lexer must agree on
    /// the reserved words, or printed plans would not read back.
    #[test]
    fn printer_and_lexer_reserve_the_same_words() {
        let mut a: Vec<&str> = pomo_types::ra_print::RA_RESERVED.to_vec();
        let mut b: Vec<&str> = pomo_grammar::ra_syntax::RESERVED.to_vec();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
}

#[cfg(test)]
mod view_tests {
    /// Parses a plan of the declaration `decl` and prints that relation's kind.
    fn check(decl: &str, expected: &str) {
        let plan = super::parse_plan(&format!("{decl};")).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(format!("{:?}", plan.relations[0].kind), expected);
    }

    #[test]
    fn a_base_datom_reads_back_as_a_view() {
        check("relation datom(e, a, v) base", r#"View { source: "$" }"#);
    }

    #[test]
    fn a_base_datom_of_a_named_source_reads_back_as_its_view() {
        check("relation datom$hr(e) base", r#"View { source: "$hr" }"#);
    }

    #[test]
    fn any_other_base_relation_stays_base() {
        check("relation edge(from, to) base", "Base");
    }
}
