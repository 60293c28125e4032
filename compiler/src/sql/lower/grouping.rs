//! GROUP BY, HAVING and aggregates: a relation `b` of (params, identities, keys, aggregate
//! arguments), a relation `g` of the groups with their aggregates (one group-by per relation),
//! then the select list over the groups.
//!
//! * Without GROUP BY an aggregate query has one row even over no input (`COUNT` 0, `TOTAL`
//!   0.0, the others NULL), from a rule over the domain when the frame is correlated.
//! * Aggregate calls are deduplicated by their text; in the select list, HAVING and ORDER BY
//!   the group keys and aggregates stand for terms of `g` (`Body::subst`), and other columns of
//!   the frame are refused as not grouped.
//!
//! Invariants: aggregates never nest, and never appear in WHERE, ON or GROUP BY.

use super::expr::{children, expr_text, item_name};
use super::{
    Body, ItemSlot, Lowered, Lowering, RelOut, ResolvedColumn, SpannedLits, col_attr, id_attr,
    param_attr,
};
use crate::logic::builder::ProgramBuilder;
use crate::logic::ir::{Atom, Bind, Callee, Literal, RelId, Term};
use crate::sql::catalog::SqlType;
use pomo_grammar::span::Span;
use pomo_grammar::sql_syntax::{Expr, ExprKind, FuncArgs, Ident, Lit, Select};
use pomo_types::Value;

/// The aggregate functions (`min` and `max` with several arguments are scalar).
const AGGREGATES: &[&str] = &["count", "sum", "avg", "min", "max", "total", "group_concat"];

/// The relation `b` of a grouped SELECT core (its rows, keys and aggregate arguments) and
/// what the later steps need to know of it.
struct GroupRows {
    rel: RelId,
    /// Its parameter columns (`p0…`), for a correlated frame.
    params: usize,
    /// Its identity columns (`i0…`): at least one, so every row counts.
    ids: usize,
    /// Its group key columns (`g0…`), with their types.
    keys: usize,
    key_types: Vec<SqlType>,
    /// Per aggregate call: function name, DISTINCT, `count(*)`, argument type.
    agg_info: Vec<(String, bool, bool, SqlType)>,
}

impl Lowering<'_> {
    /// Lowers a SELECT core with GROUP BY, HAVING or aggregates: the relations `b` (rows with
    /// their keys and aggregate arguments), `g` (groups with their aggregates) and `s` (the
    /// select list over the groups).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn select_grouped(
        &mut self,
        s: &Select,
        want_ids: bool,
        extra: &[&Expr],
        conds: &[&Expr],
        items: &[(Option<String>, &Expr)],
        stars: &[(String, String)],
        layout: &[ItemSlot],
    ) -> Lowered<RelOut> {
        // `*` stands for its columns, each of which must then be grouped (SQLite would take
        // an ungrouped one from an arbitrary row of the group).
        let star_exprs: Vec<Expr> = stars
            .iter()
            .map(|(q, c)| {
                let ident = |name: &str| Ident {
                    name: name.to_string(),
                    span: s.span.clone(),
                };
                Expr {
                    kind: ExprKind::Column {
                        table: (!q.is_empty()).then(|| ident(q)),
                        name: ident(c),
                    },
                    span: s.span.clone(),
                }
            })
            .collect();
        let mut all_items: Vec<(Option<String>, &Expr)> = items.to_vec();
        let layout: Vec<ItemSlot> = layout
            .iter()
            .map(|slot| match slot {
                ItemSlot::Expr(i) => ItemSlot::Expr(*i),
                ItemSlot::Star(k) => {
                    all_items.push((Some(stars[*k].1.clone()), &star_exprs[*k]));
                    ItemSlot::Expr(all_items.len() - 1)
                }
            })
            .collect();
        let items = &all_items[..];
        let uniq = aggregate_calls(s, items, extra);
        let rows = self.group_rows(s, conds, &uniq)?;
        let (g, ghead) = self.groups(s, &rows);
        self.group_select(s, want_ids, extra, items, &layout, &uniq, &rows, g, &ghead)
    }

    /// `b(params, ids, g0…, a0…) :- <the frame's rows under its WHERE>`: each row with its
    /// group keys and the arguments of the aggregate calls `uniq`.
    fn group_rows(
        &mut self,
        s: &Select,
        conds: &[&Expr],
        uniq: &[(String, &Expr)],
    ) -> Lowered<GroupRows> {
        let depth = self.depth();
        // B(params, ids, keys, args)
        let mut body = Body::default();
        self.conditions(conds, &mut body)?;
        let mut key_terms = Vec::new();
        let mut key_types = Vec::new();
        for g in &s.group_by {
            if let ExprKind::Lit(Lit::Int(_)) = g.kind {
                self.err(
                    "E0856",
                    "GROUP BY takes expressions, not column numbers",
                    &g.span,
                    "ordinal",
                );
                return Err(());
            }
            self.no_aggregates(g, "GROUP BY")?;
            let (t, ty) = self.expr(g, &mut body)?;
            key_terms.push(t);
            key_types.push(ty);
        }
        let mut arg_terms = Vec::new();
        let mut agg_info = Vec::new(); // (func name, distinct, star, arg type)
        // group_concat's calls: (position, value, separator); their argument becomes the tuple
        // (row identities…, value, separator) once the identities are known, so that the
        // values are concatenated in row order and DISTINCT keeps each value's first row.
        let mut concats: Vec<(usize, Term, Term)> = Vec::new();
        for (_, c) in uniq {
            let ExprKind::Func {
                name,
                distinct,
                args,
                ..
            } = &c.kind
            else {
                unreachable!()
            };
            let fname = name.name.as_str();
            match args {
                FuncArgs::Star => {
                    if fname != "count" {
                        self.err(
                            "E0857",
                            format!("{fname}(*) is not a function; only count(*) is"),
                            &c.span,
                            "star argument",
                        );
                        return Err(());
                    }
                    arg_terms.push(None);
                    agg_info.push((fname.to_string(), false, true, SqlType::Int));
                }
                FuncArgs::List(a) if fname == "group_concat" => {
                    if a.is_empty() || a.len() > 2 || (*distinct && a.len() > 1) {
                        self.err(
                            "E0858",
                            if *distinct && a.len() > 1 {
                                "DISTINCT aggregates must have exactly one argument".to_string()
                            } else {
                                format!("aggregate {fname}() takes one or two arguments")
                            },
                            &c.span,
                            "wrong number of arguments",
                        );
                        return Err(());
                    }
                    for x in a {
                        self.no_aggregates(x, "an aggregate's argument")?;
                    }
                    let (t, _) = self.expr(&a[0], &mut body)?;
                    let sep = match a.get(1) {
                        Some(x) => self.expr(x, &mut body)?.0,
                        None => Term::Const(Value::Str(",".into())),
                    };
                    concats.push((arg_terms.len(), t, sep));
                    arg_terms.push(None);
                    let f = if *distinct {
                        "group_concat_distinct"
                    } else {
                        "group_concat"
                    };
                    agg_info.push((f.to_string(), false, false, SqlType::Text));
                }
                FuncArgs::List(a) => {
                    if a.len() != 1 {
                        self.err(
                            "E0858",
                            format!("aggregate {fname}() takes one argument"),
                            &c.span,
                            "wrong number of arguments",
                        );
                        return Err(());
                    }
                    self.no_aggregates(&a[0], "an aggregate's argument")?;
                    let (t, ty) = self.expr(&a[0], &mut body)?;
                    arg_terms.push(Some(t));
                    agg_info.push((fname.to_string(), *distinct, false, ty));
                }
            }
        }
        let mut ids = self.identity_terms(&mut body);
        if ids.is_empty() {
            ids.push(Term::Const(Value::Int(0)));
        }
        for (i, value, sep) in concats {
            let mut parts = ids.clone();
            parts.extend([value, sep]);
            let out = self.fresh("gc");
            body.lits.push(Literal::Apply {
                bind: Bind::Scalar(Term::Var(out.clone())),
                func: Callee::Builtin("sql_tuple".into()),
                args: parts,
            });
            arg_terms[i] = Some(Term::Var(out));
        }
        let params: Vec<String> = self.frames[depth]
            .params
            .iter()
            .map(|p| p.1.clone())
            .collect();
        let mut lits = self.finish_body(body);
        let n_params_b = params.len();
        let mut bhead: Vec<(String, Term)> = Vec::new();
        if !params.is_empty() {
            let d = self.domain_at(self.depth());
            let dargs: Vec<(String, Term)> = params
                .iter()
                .enumerate()
                .map(|(i, v)| (param_attr(i), Term::Var(v.clone())))
                .collect();
            lits.insert(0, ProgramBuilder::atom(d, dargs.clone()));
            bhead.extend(dargs);
        }
        let n_ids = ids.len();
        bhead.extend(
            ids.iter()
                .cloned()
                .enumerate()
                .map(|(i, t)| (id_attr(i), t)),
        );
        bhead.extend(
            key_terms
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, t)| (format!("g{i}"), t)),
        );
        for (i, t) in arg_terms.iter().enumerate() {
            if let Some(t) = t {
                bhead.push((format!("a{i}"), t.clone()));
            }
        }
        let battrs = bhead.iter().map(|(a, _)| a.clone()).collect();
        let b = self.new_rel("b", battrs);
        self.add_spanned_rule(b, bhead.clone(), lits);

        Ok(GroupRows {
            rel: b,
            params: n_params_b,
            ids: n_ids,
            keys: key_terms.len(),
            key_types,
            agg_info,
        })
    }

    /// `g(params, g0…, o0…)`: the groups of `rows` with their aggregates; without GROUP BY also
    /// the row over no input. Returns the relation and the head of its aggregate rule.
    fn groups(&mut self, s: &Select, rows: &GroupRows) -> (RelId, Vec<(String, Term)>) {
        let (b, n_params_b, n_ids, agg_info) = (rows.rel, rows.params, rows.ids, &rows.agg_info);
        // G(params, keys, outs) :- aggregates over B.
        let pvars: Vec<(String, Term)> = (0..n_params_b)
            .map(|i| (param_attr(i), Term::Var(format!("?p{i}"))))
            .collect();
        let gvars: Vec<(String, Term)> = (0..rows.keys)
            .map(|i| (format!("g{i}"), Term::Var(format!("?g{i}"))))
            .collect();
        let mut gbody = Vec::new();
        let mut outs = Vec::new();
        for (i, (fname, distinct, star, _)) in agg_info.iter().enumerate() {
            let out = format!("?o{i}");
            outs.push(out.clone());
            let mut args: Vec<(String, Term)> = pvars.clone();
            args.extend(gvars.iter().cloned());
            let (func, arg) = if *star {
                args.extend((0..n_ids).map(|k| (id_attr(k), Term::Var(format!("?i{k}")))));
                ("count".to_string(), Term::Var("?i0".into()))
            } else if *distinct {
                // Over the distinct (params, keys, value) tuples.
                let dattrs: Vec<String> = args
                    .iter()
                    .map(|(a, _)| a.clone())
                    .chain([format!("a{i}")])
                    .collect();
                let drel = self.new_rel("bd", dattrs);
                let mut dh = args.clone();
                dh.push((format!("a{i}"), Term::Var(format!("?a{i}"))));
                let mut src = args.clone();
                src.push((format!("a{i}"), Term::Var(format!("?a{i}"))));
                self.add_rule(drel, dh, vec![ProgramBuilder::atom(b, src)]);
                let mut a2 = args.clone();
                a2.push((format!("a{i}"), Term::Var(format!("?a{i}"))));
                gbody.push(Literal::Agg {
                    out: out.clone(),
                    func: Callee::Builtin(format!("sql_{fname}")),
                    args: vec![Term::Var(format!("?a{i}"))],
                    atom: Atom {
                        rel: drel,
                        args: a2,
                    },
                });
                continue;
            } else {
                args.extend((0..n_ids).map(|k| (id_attr(k), Term::Var(format!("?i{k}")))));
                args.push((format!("a{i}"), Term::Var(format!("?a{i}"))));
                (format!("sql_{fname}"), Term::Var(format!("?a{i}")))
            };
            gbody.push(Literal::Agg {
                out: out.clone(),
                func: Callee::Builtin(func),
                args: vec![arg],
                atom: Atom { rel: b, args },
            });
        }
        if agg_info.is_empty() {
            // GROUP BY without aggregates: the groups are the distinct keys.
            let mut args = pvars.clone();
            args.extend(gvars.iter().cloned());
            gbody.push(ProgramBuilder::atom(b, args));
        }
        let mut ghead = pvars.clone();
        ghead.extend(gvars.iter().cloned());
        ghead.extend(
            outs.iter()
                .enumerate()
                .map(|(i, o)| (format!("o{i}"), Term::Var(o.clone()))),
        );
        let gattrs = ghead.iter().map(|(a, _)| a.clone()).collect();
        let g = self.new_rel("g", gattrs);
        self.add_rule(g, ghead.clone(), gbody);
        if s.group_by.is_empty() {
            // No GROUP BY: one row even over no input (COUNT 0, the others NULL).
            let defaults: Vec<(String, Term)> = agg_info
                .iter()
                .enumerate()
                .map(|(i, (f, _, _, _))| {
                    let v = match f.as_str() {
                        "count" => Value::Int(0),
                        "total" => Value::Float(0.0),
                        _ => Value::Nil,
                    };
                    (format!("o{i}"), Term::Const(v))
                })
                .collect();
            let mut head = pvars.clone();
            head.extend(defaults);
            // (`i0` as a variable, not `_`: printed PomoLogic drops wildcards, and an atom
            // without arguments would read as a call.)
            let mut barg = pvars.clone();
            barg.push((id_attr(0), Term::Var("?any".into())));
            let neg = self.negated_exists_keys(ProgramBuilder::atom(b, barg), &pvars);
            let mut body = Vec::new();
            if n_params_b > 0 {
                let d = self.domain_at(self.depth());
                body.push(ProgramBuilder::atom(d, pvars.clone()));
            }
            body.push(neg);
            self.add_rule(g, head, body);
        }

        (g, ghead)
    }

    /// `s(params, ids, c0…) :- g(…), <HAVING>`: the select list (and extra ORDER BY columns) over
    /// the groups, where group keys and aggregates stand for the columns of `g`.
    #[allow(clippy::too_many_arguments)]
    fn group_select(
        &mut self,
        s: &Select,
        want_ids: bool,
        extra: &[&Expr],
        items: &[(Option<String>, &Expr)],
        layout: &[ItemSlot],
        uniq: &[(String, &Expr)],
        rows: &GroupRows,
        g: RelId,
        ghead: &[(String, Term)],
    ) -> Lowered<RelOut> {
        let depth = self.depth();
        let (key_types, agg_info) = (&rows.key_types, &rows.agg_info);
        // The select list over the groups.
        let mut body = Body {
            grouped: true,
            ..Body::default()
        };
        let gv: Vec<(String, Term)> = ghead
            .iter()
            .map(|(a, _)| (a.clone(), Term::Var(format!("?G{a}"))))
            .collect();
        body.lits.push(ProgramBuilder::atom(g, gv.clone()));
        for (i, gexpr) in s.group_by.iter().enumerate() {
            body.subst.push((
                self.canon(gexpr),
                Term::Var(format!("?Gg{i}")),
                key_types[i],
            ));
        }
        for (i, (k, _)) in uniq.iter().enumerate() {
            let ty = match agg_info[i].0.as_str() {
                "count" => SqlType::Int,
                "avg" | "total" => SqlType::Real,
                // sum() of text is a REAL unless every text is an integer.
                "sum" => match agg_info[i].3 {
                    SqlType::Real => SqlType::Real,
                    SqlType::Int | SqlType::Bool | SqlType::Null => SqlType::Int,
                    _ => SqlType::Any,
                },
                "group_concat" | "group_concat_distinct" => SqlType::Text,
                _ => agg_info[i].3,
            };
            body.subst
                .push((k.clone(), Term::Var(format!("?Go{i}")), ty));
        }
        // Params of the group rule are the G relation's.
        let saved: Vec<(ResolvedColumn, String)> = self.frames[depth].params.clone();
        for (i, (k, _)) in saved.iter().enumerate() {
            body.bound.insert(*k, Term::Var(format!("?Gp{i}")));
        }
        if let Some(h) = &s.having {
            let start = body.lits.len();
            let (t, _) = self.expr(h, &mut body)?;
            self.truth_test(t, &mut body)?;
            body.mark_spans(start, &h.span);
        }
        let mut cols = Vec::new();
        let mut terms = Vec::new();
        for slot in layout {
            let ItemSlot::Expr(i) = slot else {
                unreachable!()
            };
            let (alias, e) = items[*i].clone();
            let (t, ty) = self.expr(e, &mut body)?;
            cols.push((alias.unwrap_or_else(|| item_name(e)), ty));
            terms.push(t);
        }
        for e in extra {
            let (t, ty) = self.expr(e, &mut body)?;
            cols.push((item_name(e), ty));
            terms.push(t);
        }
        let ids: Vec<Term> = if want_ids && !s.distinct {
            (0..rows.keys)
                .map(|i| Term::Var(format!("?Gg{i}")))
                .collect()
        } else {
            Vec::new()
        };
        // New params read by the select list (columns of enclosing frames) would be unbound
        // here: they must come through G.
        if self.frames[depth].params.len() != saved.len() {
            self.err("E0860", "a correlated reference in the select list of a grouped subquery must also appear in its WHERE", &s.span, "unsupported correlation");
            return Err(());
        }
        let mut head = Vec::new();
        for i in 0..saved.len() {
            head.push((param_attr(i), Term::Var(format!("?Gp{i}"))));
        }
        let n_ids = ids.len();
        head.extend(ids.into_iter().enumerate().map(|(i, t)| (id_attr(i), t)));
        head.extend(terms.into_iter().enumerate().map(|(i, t)| (col_attr(i), t)));
        let attrs = head.iter().map(|(a, _)| a.clone()).collect();
        let rel = self.new_rel("s", attrs);
        body.lit_spans.resize(body.lits.len(), None);
        let lits = SpannedLits {
            lits: body.lits,
            spans: body.lit_spans,
        };
        self.add_spanned_rule(rel, head, lits);
        Ok(RelOut {
            rel,
            params: saved.len(),
            ids: n_ids,
            cols,
        })
    }

    /// Text of an expression with columns resolved (to match GROUP BY keys).
    pub(super) fn canon(&self, e: &Expr) -> String {
        if let ExprKind::Column { table, name } = &e.kind
            && let Some(k) = self.peek_resolve(table.as_ref().map(|t| t.name.as_str()), &name.name)
        {
            return format!("#col{:?}", k);
        }
        expr_text(e)
    }
}

/// The aggregate calls of a grouped SELECT's select list, HAVING and extra ORDER BY columns,
/// deduplicated by their text (the key that later finds their column of `g`).
fn aggregate_calls<'e>(
    s: &'e Select,
    items: &[(Option<String>, &'e Expr)],
    extra: &[&'e Expr],
) -> Vec<(String, &'e Expr)> {
    let mut calls: Vec<&Expr> = Vec::new();
    for (_, e) in items {
        collect_aggregates(e, &mut calls);
    }
    if let Some(h) = &s.having {
        collect_aggregates(h, &mut calls);
    }
    for e in extra {
        collect_aggregates(e, &mut calls);
    }
    let mut uniq: Vec<(String, &Expr)> = Vec::new();
    for c in calls {
        let k = expr_text(c);
        if !uniq.iter().any(|(t, _)| *t == k) {
            uniq.push((k, c));
        }
    }
    uniq
}

/// Whether `e` is a call of an aggregate (`min`/`max` with several arguments are scalar).
pub(super) fn is_aggregate_call(e: &Expr) -> bool {
    match &e.kind {
        // A window function (`count(x) OVER ()`) is not an aggregate: it keeps every row, and
        // is refused where it is lowered.
        ExprKind::Func { over: Some(_), .. } => false,
        ExprKind::Func { name, args, .. } => {
            AGGREGATES.contains(&name.name.as_str())
                && !(matches!(name.name.as_str(), "min" | "max")
                    && matches!(args, FuncArgs::List(a) if a.len() > 1))
        }
        _ => false,
    }
}

/// Whether `e` calls an aggregate outside subqueries.
pub(super) fn has_aggregate(e: &Expr) -> bool {
    find_aggregate(e).is_some()
}

/// The span of an aggregate call in the expression (not inside subqueries).
pub(super) fn find_aggregate(e: &Expr) -> Option<Span> {
    let mut v = Vec::new();
    collect_aggregates(e, &mut v);
    v.first().map(|e| e.span.clone())
}

/// The aggregate calls of `e` (outermost ones, not inside subqueries), in order.
fn collect_aggregates<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    if is_aggregate_call(e) {
        out.push(e);
        return;
    }
    for c in children(e) {
        collect_aggregates(c, out);
    }
}
