//! Unit tests of the PomoRA parser: every operator, formulas, statements and strata, the
//! printer's round trip, and the error paths.

use super::*;
use crate::diag::summary;
use crate::logic_syntax::Const;

/// Parses a plan and compares its printed form (trimmed), or the diagnostics summary.
fn check(input: &str, expected: &str) {
    let actual = match parse_plan(input) {
        Ok(p) => p.to_string().trim_end().to_string(),
        Err(diags) => summary(&diags),
    };
    assert_eq!(actual, expected, "input: {input}");
}

/// Parses `stratum 0 { r := <expr>; }` and compares the printed expression, or the diagnostics.
fn check_expr(expr: &str, expected: &str) {
    let src = format!("stratum 0 {{ r := {expr}; }}");
    let actual = match parse_plan(&src) {
        Ok(p) => match &p.strata[0].stmts[0] {
            Stmt::Assign { expr, .. } => expr.to_string(),
            other => panic!("{other:?}"),
        },
        Err(diags) => summary(&diags),
    };
    assert_eq!(actual, expected, "input: {src}");
}

/// An expression that prints back unchanged.
fn same_expr(expr: &str) {
    check_expr(expr, expr);
}

fn expr(src: &str) -> Expr {
    let p = parse_plan(&format!("stratum 0 {{ r := {src}; }}"))
        .unwrap_or_else(|d| panic!("{src}: {}", summary(&d)));
    match &p.strata[0].stmts[0] {
        Stmt::Assign { expr, .. } => expr.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn module_doc_example() {
    let src = "relation datom(e, a, v, t, m, added) base
relation edge(from, to) derived
relation path(from, to) output

stratum 0 {
  edge := rename[?x -> from, ?y -> to](
    project[?x, ?y](
      rename[e -> ?x, v -> ?y](
        select[a = :edge/to](datom))));
}
stratum 1 recursive {
  path := rename[?x -> from, ?y -> to](rename[from -> ?x, to -> ?y](edge));
  path@delta := path;
  loop {
    path@new := diff(project[from, to](join(path@delta, edge)), path);
    path := union(path, path@new);
    path@delta := path@new;
  } until empty(path@delta);
}
";
    check(
        src,
        "relation datom(e, a, v, t, m, added) base
relation edge(from, to) derived
relation path(from, to) output

stratum 0 {
  edge := rename[?x -> from, ?y -> to](project[?x, ?y](rename[e -> ?x, v -> ?y](select[a == :edge/to](datom))));
}

stratum 1 recursive {
  path := rename[?x -> from, ?y -> to](rename[from -> ?x, to -> ?y](edge));
  path@delta := path;
  loop {
    path@new := diff(project[from, to](join(path@delta, edge)), path);
    path := union(path, path@new);
    path@delta := path@new;
  } until empty(path@delta);
}",
    );
}

#[test]
fn declarations() {
    check("relation e(a, b) base", "relation e(a, b) base");
    check(
        "relation e(a, b) base; relation f() input;",
        "relation e(a, b) base\nrelation f() input",
    );
    check(
        "relation `join`(?x, `a b`) derived",
        "relation `join`(?x, `a b`) derived",
    );
}

#[test]
fn declaration_parts() {
    let p = parse_plan("relation e(a, ?b) base;").unwrap();
    let d = &p.decls[0];
    assert_eq!(
        (
            d.name.name.as_str(),
            d.attrs[1].name.as_str(),
            d.kind.name.as_str()
        ),
        ("e", "?b", "base")
    );
    assert_eq!(d.span, 0..22);
}

#[test]
fn strata() {
    check(
        "stratum 0 { } stratum 1 recursive { a := b; }",
        "stratum 0 {\n}\n\nstratum 1 recursive {\n  a := b;\n}",
    );
    let p = parse_plan("stratum 3 recursive { a := b; }").unwrap();
    assert_eq!(
        (
            p.strata[0].index,
            p.strata[0].recursive,
            p.strata[0].span.clone()
        ),
        (3, true, 0..31)
    );
}

#[test]
fn interleaved_declarations_and_strata_keep_their_order() {
    let p = parse_plan("relation a(x) base stratum 0 { b := a; } relation b(x) output").unwrap();
    assert_eq!(
        p.decls
            .iter()
            .map(|d| d.name.name.as_str())
            .collect::<Vec<_>>(),
        vec!["a", "b"]
    );
}

#[test]
fn negative_stratum_index() {
    check(
        "stratum -1 { }",
        "E0033 0..7: a stratum index cannot be negative",
    );
}

#[test]
fn loops() {
    check(
        "stratum 0 recursive { loop { a@new := b; loop { c := d; } until empty(c); } until empty(a@delta, b@delta); }",
        "stratum 0 recursive {\n  loop {\n    a@new := b;\n    loop {\n      c := d;\n    } until empty(c);\n  } until empty(a@delta, b@delta);\n}",
    );
}

#[test]
fn relation_refs() {
    same_expr("path@delta");
    same_expr("`select`@new");
    let Expr::Rel(r) = expr("p@delta") else {
        panic!()
    };
    assert_eq!(
        (
            r.name.name.as_str(),
            r.version.unwrap().name.as_str(),
            r.span
        ),
        ("p", "delta", 17..24)
    );
}

#[test]
fn unary_operators() {
    same_expr("project[a, ?b](r)");
    same_expr("project[](r)");
    same_expr("rename[a -> b, ?x -> y](r)");
    same_expr("select[a == 1](r)");
}

#[test]
fn binary_operators() {
    same_expr("union(a, b, c)");
    same_expr("union(a)");
    same_expr("diff(a, b)");
    same_expr("product(a, b)");
    same_expr("join(a, b)");
    same_expr("semijoin(a, b)");
    same_expr("antijoin(a, b)");
    same_expr("theta_join[a < b](x, y)");
    same_expr("equijoin[a = b, c = d](x, y)");
}

#[test]
fn expression_spans() {
    let e = expr("join(a, b@delta)");
    assert_eq!(e.span(), 17..33);
    let Expr::Join { right, .. } = e else {
        panic!()
    };
    assert_eq!(right.span(), 25..32);
}

#[test]
fn arrow_without_spaces() {
    check_expr("rename[a->b](r)", "rename[a -> b](r)");
}

#[test]
fn formulas() {
    same_expr("select[x == 1 and y < z or not p(x)](r)");
    same_expr("select[true](r)");
    same_expr("select[false](r)");
    same_expr("select[x == true and y != false](r)");
    same_expr("select[not x == nil or ?f(a, 1)](r)");
    same_expr("select[a <= 1 and b > 2 and c >= 3](r)");
    check_expr("select[x = 1](r)", "select[x == 1](r)");
}

#[test]
fn formula_structure() {
    let Expr::Select { formula, .. } = expr("select[a = 1 and not b(a) or c < 2](r)") else {
        panic!()
    };
    assert_eq!(
        formula.disjuncts.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert!(
        matches!(&formula.disjuncts[0][1], FAtom::Call { negated: true, span, .. } if *span == (34..42))
    );
    let Expr::Select { formula, .. } = expr("select[true](r)") else {
        panic!()
    };
    assert_eq!(formula.disjuncts, vec![Vec::new()]);
    let Expr::Select { formula, .. } = expr("select[false](r)") else {
        panic!()
    };
    assert!(formula.disjuncts.is_empty());
    let Expr::Select { formula, .. } = expr("select[?p(x)](r)") else {
        panic!()
    };
    assert!(matches!(
        &formula.disjuncts[0][0],
        FAtom::Call {
            callee_is_var: true,
            ..
        }
    ));
}

#[test]
fn constants_in_formulas() {
    same_expr(
        r#"select[a == "s\n" and b == 1.5 and c == -2 and d == #inst "2020" and e == 'sym and f == [1, :k]](r)"#,
    );
}

#[test]
fn values() {
    same_expr("values[a, b]{(1, 2), (3, 4)}");
    same_expr("values[]{()}");
    same_expr("values[a]{}");
    let Expr::Values { attrs, rows, .. } = expr("values[a, b]{(1, \"x\")}") else {
        panic!()
    };
    assert_eq!(
        (attrs.len(), rows[0].clone()),
        (2, vec![Const::Int(1), Const::Str("x".into())])
    );
}

#[test]
fn values_row_width() {
    check_expr(
        "values[a, b]{(1, 2), (3)}",
        "E0032 38..41: a row of `values` has 1 values but there are 2 attributes",
    );
}

#[test]
fn group_by() {
    same_expr("group_by[k1, k2; out := count(?x), s := sum(?y)](e)");
    same_expr("group_by[; n := count()](e)");
    same_expr("group_by[k; m := ?agg(?x)](e)");
    let Expr::GroupBy { keys, aggs, .. } = expr("group_by[k; n := count(), s := sum(x)](e)") else {
        panic!()
    };
    assert_eq!(
        (keys.len(), aggs.len(), aggs[1].func.name.as_str()),
        (1, 2, "sum")
    );
}

#[test]
fn maps() {
    same_expr("map[?y := add(?a, 1)](e)");
    same_expr("map[[?a, ?b] := f(?x)](e)");
    same_expr("map[[?a ...] := f(?x)](e)");
    same_expr("map[[[?a, ?b]] := f(?x)](e)");
    same_expr("map[x := 0](e)");
    same_expr("map[x := ?y](e)");
    same_expr("map[?y := ?f(?x)](e)");
    same_expr("map[[_, ?b] := f(?x)](e)");
}

#[test]
fn map_parts() {
    assert!(matches!(
        expr("map[x := 0](e)"),
        Expr::Map {
            rhs: MapRhs::Operand(Operand::Const(Const::Int(0), _)),
            ..
        }
    ));
    assert!(matches!(
        expr("map[x := ?y](e)"),
        Expr::Map {
            rhs: MapRhs::Operand(Operand::Attr(_)),
            ..
        }
    ));
    assert!(matches!(
        expr("map[?y := ?f(?x)](e)"),
        Expr::Map {
            rhs: MapRhs::Call {
                callee_is_var: true,
                ..
            },
            ..
        }
    ));
    assert!(
        matches!(expr("map[[[?a, ?b]] := f()](e)"), Expr::Map { bind: MapBind::Rel(v, _), .. } if v.len() == 2)
    );
    assert!(matches!(
        expr("map[[?a ...] := f()](e)"),
        Expr::Map {
            bind: MapBind::Coll(..),
            ..
        }
    ));
}

#[test]
fn reserved_words_need_backquotes() {
    check_expr("join", "E0030 21..22: unexpected `;`");
    check_expr("`join`", "`join`");
    check_expr("project[`values`](r)", "project[`values`](r)");
}

#[test]
fn comments() {
    check(
        "// plan\nrelation a(x) base // trailing\n// end",
        "relation a(x) base",
    );
}

#[test]
fn syntax_errors() {
    check("stratum 0 { a := b }", "E0030 19..20: unexpected `}`");
    check("stratum { }", "E0030 8..9: unexpected `{`");
    check(
        "stratum 0 { a := frobnicate[x](b); }",
        "E0030 27..28: unexpected `[`",
    );
    check(
        "stratum 0 { a := diff(b); }",
        "E0030 23..24: unexpected `)`",
    );
    check("relation a(x)", "E0031 13..13: unexpected end of plan");
}

#[test]
fn bracket_and_lexer_errors() {
    check(
        "stratum 0 { a := join(b, c]; }",
        "E0014 26..27: mismatched closing delimiter: expected `)`, found `]`",
    );
    check("stratum 0 { a := b;", "E0012 19..19: unclosed `{`");
    check(
        "stratum 0 { a := select[x == 1x](b); }",
        "E0006 29..31: invalid number `1x`",
    );
    check(
        "relation `a(x) base",
        "E0007 9..10: unterminated backquoted name",
    );
}

#[test]
fn printed_plans_reparse() {
    let src = r#"relation `my rel`(a, ?b) base

stratum 0 recursive {
  x := map[[[?a, _]] := ?f(?b, "s", 1.0)](group_by[a; n := count(), m := max(?b)](values[a, ?b]{(1, 2), (nil, [1, 2])}));
  loop {
    y@new := theta_join[a < 1 and not ?p(b) or true == c](select[false](x), equijoin[a = ?b](x, `my rel`));
  } until empty(y@new);
}
"#;
    let first = parse_plan(src).unwrap_or_else(|d| panic!("{}", summary(&d)));
    let printed = first.to_string();
    assert_eq!(printed, src);
    let second = parse_plan(&printed).unwrap();
    assert_eq!(second.to_string(), printed);
}
