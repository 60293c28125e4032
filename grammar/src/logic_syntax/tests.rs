//! Unit tests of the PomoLogic parser: every item and literal form, the lexer's edge cases, the
//! printer's round trip, and the error paths.

use super::*;
use crate::diag::summary;

/// Parses `input` and compares the printed program (items one per line, trimmed), or the
/// diagnostics summary.
fn check(input: &str, expected: &str) {
    let actual = match parse_program(input) {
        Ok(p) => p.to_string().trim_end().to_string(),
        Err(diags) => summary(&diags),
    };
    assert_eq!(actual, expected, "input: {input}");
}

/// Checks that `input` parses and prints back unchanged, and that the printed text reparses to
/// the same printed text.
fn same(input: &str) {
    check(input, input);
}

fn program(input: &str) -> Program {
    parse_program(input).unwrap_or_else(|d| panic!("{input}: {}", summary(&d)))
}

/// The single literal of `p() :- <lit>.`
fn lit(input: &str) -> Literal {
    let p = program(&format!("p() :- {input}."));
    let Item::Rule(r) = &p.items[0] else { panic!() };
    r.body[0].clone()
}

#[test]
fn module_doc_example() {
    let src = r#"
// a comment
.decl edge(from, to)                     // optional: a base relation's attributes
.input in1(name) scalar                  // a query input
.output q(name, n) relation with(w) keys("name", "n")
path(from: ?x, to: ?z) :- edge(from: ?x, to: ?y), path(from: ?y, to: ?z).
big(x: X) :- num(v: X), X > 10, !small(v: X).
cnt(c: ?c, n: ?n) :- ?n := count(?x) : q(c: ?c, x: ?x).
r(y: ?y) :- in1(name: ?n), ?y := str(?n, "!"), [?a, ?b] := split(?y), starts_with(?y, "a").
c(id: C) :- C := point(x: 1).            // binds the CID of the matched fact
checkbox(id: I, state: S)@next :- checkbox(id: I, state: S), !clicks(id: I).
"#;
    check(
        src,
        r#".decl edge(from, to)
.input in1(name) scalar
.output q(name, n) relation with(w) keys("name", "n")
path(from: ?x, to: ?z) :- edge(from: ?x, to: ?y), path(from: ?y, to: ?z).
big(x: ?X) :- num(v: ?X), ?X > 10, !small(v: ?X).
cnt(c: ?c, n: ?n) :- ?n := count(?x) : q(c: ?c, x: ?x).
r(y: ?y) :- in1(name: ?n), ?y := str(?n, "!"), [?a, ?b] := split(?y), starts_with(?y, "a").
c(id: ?C) :- C := point(x: 1).
checkbox(id: ?I, state: ?S)@next :- checkbox(id: ?I, state: ?S), !clicks(id: ?I)."#
            .replace("C := point", "?C := point")
            .as_str(),
    );
}

#[test]
fn decl_input_output() {
    same(".decl edge(from, to)");
    same(".decl empty()");
    same(".input in1(name) scalar");
    same(".output q(a) relation");
    same(".output q(a, b) tuple with(w, v) keys(\"a\", \"b\")");
}

#[test]
fn output_parts() {
    let p = program(".output q(a) relation with(w) keys(\"a\")\np(a: 1).");
    let Item::Output { options, span, .. } = &p.items[0] else {
        panic!()
    };
    assert_eq!(options.len(), 2);
    assert!(matches!(&options[1].args[0], OptArg::Str(s, sp) if s == "a" && *sp == (35..38)));
    assert_eq!(*span, 0..39);
    assert!(matches!(p.items[1], Item::Rule(_)));
}

#[test]
fn facts_and_rules() {
    same("p(a: 1).");
    same("p().");
    same("p(x: ?x) :- q(x: ?x).");
    same("p(x: ?x)@next :- q(x: ?x).");
    same("p(x: 1)@next.");
}

#[test]
fn rule_parts() {
    let p = program("p(x: ?x)@next :- q(x: ?x), !r(x: ?x).");
    let Item::Rule(r) = &p.items[0] else { panic!() };
    assert!(r.next);
    assert_eq!(r.body.len(), 2);
    assert_eq!(r.span, 0..37);
    assert_eq!(r.head.span, 0..8);
}

#[test]
fn variables() {
    let p = program("p(a: X, b: ?y, c: ?long-name*, d: Name_2) :- q().");
    let Item::Rule(r) = &p.items[0] else { panic!() };
    let names: Vec<String> = r.head.args.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        names,
        vec!["a: ?X", "b: ?y", "c: ?long-name*", "d: ?Name_2"]
    );
    let Arg::Named(_, Term::Var(v)) = &r.head.args[0] else {
        panic!()
    };
    assert_eq!((v.name.as_str(), v.span.clone()), ("?X", 5..6));
}

#[test]
fn variable_does_not_swallow_the_final_dot() {
    same("p(x: ?x) :- q(x: ?x), ?x > ?y.");
    check("p() :- ?a.b == 1.", "p() :- ?a.b == 1.");
}

#[test]
fn lone_question_mark_is_not_a_variable() {
    check("p(x: ?) .", "E0001 5..6: unexpected character `?`");
}

#[test]
fn wildcard() {
    same("p(x: _) :- q(x: _, y: 1).");
    assert!(
        matches!(lit("q(x: _)"), Literal::Pos(a) if matches!(a.args[0], Arg::Named(_, Term::Wild(_))))
    );
}

#[test]
fn identifiers() {
    same("is-ok?(x: 1) :- do-it!(?x), with$dollar(a: 1), _private(b: 2).");
}

#[test]
fn backquoted_names() {
    check("`my rel`(x: 1).", "`my rel`(x: 1).");
    check("`plain`(x: 1).", "plain(x: 1).");
    check("p(`odd name`: 1).", "p(`odd name`: 1).");
    check("`true`(x: 1).", "`true`(x: 1).");
}

#[test]
fn unterminated_backquote() {
    check("`abc(x: 1).", "E0007 0..1: unterminated backquoted name");
}

#[test]
fn constants() {
    same(
        r#"p(a: 1, b: -2, c: 1.5, d: -2.5e-7, e: "s\n", f: :ns/name, g: #inst "2020-01-01", h: 'sym, i: true, j: false, k: nil)."#,
    );
    same("p(a: [1, 2], b: [], c: [[1], [:a, \"b\"]]).");
    check(
        "p(a: [1 2 3], b: [1, 2 3]).",
        "p(a: [1, 2, 3], b: [1, 2, 3]).",
    );
}

#[test]
fn constant_values() {
    let Literal::Pos(a) = lit(r#"q(1, 2.5, "s", :k, #uuid "u", 'x, [1 :a])"#) else {
        panic!()
    };
    let consts: Vec<Const> = a
        .args
        .iter()
        .map(|arg| match arg {
            Arg::Pos(Term::Const(c, _)) => c.clone(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        consts,
        vec![
            Const::Int(1),
            Const::Float(2.5),
            Const::Str("s".into()),
            Const::Keyword("k".into()),
            Const::Tagged("uuid".into(), "u".into()),
            Const::Symbol("x".into()),
            Const::Vector(vec![Const::Int(1), Const::Keyword("a".into())]),
        ]
    );
}

#[test]
fn keyword_does_not_swallow_the_final_dot() {
    same("p() :- ?x == :a/b.");
}

#[test]
fn colon_forms() {
    // A named argument needs `: ` (a colon followed by a letter is a keyword).
    check("p(a:1).", "p(a: 1).");
    check("p(a: :b).", "p(a: :b).");
    check("p(a :b).", "E0020 4..6: unexpected `:b`");
}

#[test]
fn calls_and_positional_args() {
    same("p(y: ?y) :- ?y := str(?n, \"!\"), starts_with(?y, \"a\"), ?f(?x).");
    let Literal::Pos(a) = lit("?f(?x)") else {
        panic!()
    };
    assert!(a.callee_is_var);
    assert_eq!(a.name.name, "?f");
}

#[test]
fn bind_forms() {
    same(
        "p() :- ?y := f(?x), _ := g(), [?a, ?b] := h(), [?a ...] := r(), [[?a, ?b]] := s(), [_, ?c] := t().",
    );
    assert!(matches!(
        lit("[?a ...] := f()"),
        Literal::Bind {
            lhs: BindForm::Coll(..),
            ..
        }
    ));
    assert!(
        matches!(lit("[[?a, ?b]] := f()"), Literal::Bind { lhs: BindForm::Rel(v, _), .. } if v.len() == 2)
    );
    assert!(matches!(
        lit("C := point(x: 1)"),
        Literal::Bind {
            lhs: BindForm::Scalar(Term::Var(_)),
            ..
        }
    ));
}

#[test]
fn bind_to_constant_is_an_error() {
    check(
        "p() :- 1 := f().",
        "E0026 7..8: a constant cannot be bound with `:=`",
    );
}

#[test]
fn negation() {
    same("p(x: ?x) :- q(x: ?x), !r(x: ?x).");
    let Literal::Neg(a, span) = lit("!r(x: 1)") else {
        panic!()
    };
    assert_eq!((a.name.name.as_str(), span), ("r", 7..15));
}

#[test]
fn comparisons() {
    same(
        "p() :- ?a == 1, ?a != 2, ?a < 3, ?a <= 4, ?a > 5, ?a >= 6, 1 < ?a, _ == ?b, \"s\" != ?c, ?v == [1, 2].",
    );
    check("p() :- ?a = 1.", "p() :- ?a == 1.");
    assert!(matches!(lit("?a = 1"), Literal::Cmp { op: CmpOp::Eq, .. }));
    assert!(matches!(lit("X >= Y"), Literal::Cmp { op: CmpOp::Ge, .. }));
}

#[test]
fn vector_on_the_left_of_a_comparison_is_an_error() {
    // `[1]` starts a binding form, so the parser expects `:=` after it.
    check("p() :- [1] == ?x.", "E0020 11..13: unexpected `==`");
}

#[test]
fn aggregates() {
    same("cnt(n: ?n) :- ?n := count(?x) : q(x: ?x).");
    same("m(n: ?n) :- ?n := max(3, ?x) : q(x: ?x), ?s := ?agg(?x) : q(x: ?x).");
    check(
        "c(n: ?n) :- ?n := count : q(x: ?x).",
        "c(n: ?n) :- ?n := count() : q(x: ?x).",
    );
    check(
        "s(n: ?s) :- ?s := sum ?x : q(x: ?x).",
        "s(n: ?s) :- ?s := sum(?x) : q(x: ?x).",
    );
}

#[test]
fn aggregate_parts() {
    let Literal::Agg {
        out,
        func,
        func_is_var,
        args,
        atom,
        span,
    } = lit("N := sum ?x ?y : q(x: ?x)")
    else {
        panic!()
    };
    assert_eq!(
        (
            out.name.as_str(),
            func.name.as_str(),
            func_is_var,
            args.len()
        ),
        ("?N", "sum", false, 2)
    );
    assert_eq!(atom.name.name, "q");
    assert_eq!(span, 7..32);
    let Literal::Agg { func_is_var, .. } = lit("?n := ?f(?x) : q(x: ?x)") else {
        panic!()
    };
    assert!(func_is_var);
}

#[test]
fn bad_aggregates() {
    check(
        "p() :- [?a] := count(?x) : q(x: ?x).",
        "E0024 7..11: an aggregate's result must be a single variable",
    );
    check(
        "p() :- ?n := count(x: ?x) : q(x: ?x).",
        "E0024 19..20: aggregate arguments are positional",
    );
    check(
        "p() :- _ := count : q(x: ?x).",
        "E0024 7..8: an aggregate's result must be a single variable",
    );
}

#[test]
fn bare_identifier_is_not_a_term() {
    check(
        "p(x) :- q(y).",
        "E0023 2..3: `x` is not a term\nE0023 10..11: `y` is not a term",
    );
}

#[test]
fn option_without_output() {
    check(
        "p(x: 1)\nq(x: 2).",
        "E0022 0..7: `p(…)` is not followed by `:-` or `.`",
    );
    check(
        ".decl e(a) with(w)",
        "E0022 11..18: `with(…)` is not followed by `:-` or `.`",
    );
}

#[test]
fn bad_option_args() {
    check(
        ".output q(a) relation keys(1, x: \"a\")",
        "E0022 27..28: an output option takes identifiers and strings only\nE0022 33..36: an output option takes identifiers and strings only",
    );
}

#[test]
fn variable_rule_head() {
    check(
        "?p(x: 1).",
        "E0025 0..2: a rule head must name a relation, not a variable",
    );
}

#[test]
fn syntax_errors() {
    check(
        "p(x: 1)",
        "E0022 0..7: `p(…)` is not followed by `:-` or `.`",
    );
    check(
        "p(x: 1) :- q(x: 1)",
        "E0021 18..18: unexpected end of program",
    );
    check("p(x: 1) :- .", "E0020 11..12: unexpected `.`");
    check(".decl 1", "E0020 6..7: unexpected `1`");
}

#[test]
fn unexpected_token_lists_expectations() {
    let diags = parse_program("p(x: 1) :- q(x: 1) r(x: 1).").unwrap_err();
    assert_eq!(diags[0].code, "E0020");
    assert!(
        diags[0].labels[0].message.contains("`,`"),
        "{}",
        diags[0].labels[0].message
    );
}

#[test]
fn bracket_errors() {
    check(
        "p(x: [1, 2) :- q().",
        "E0014 10..11: mismatched closing delimiter: expected `]`, found `)`\nE0012 19..19: unclosed `(`",
    );
    check("p(x: 1)) .", "E0013 7..8: unmatched `)`");
}

#[test]
fn lexer_errors() {
    check("p(x: 12ab).", "E0006 5..9: invalid number `12ab`");
    check(
        "p(x: \"a\\qb\").",
        "E0003 7..9: unknown escape `\\q` in string",
    );
    check(
        "p(x: 99999999999999999999).",
        "E0005 5..25: integer `99999999999999999999` does not fit in 64 bits",
    );
    check("p(x: 1) & q.", "E0001 8..9: unexpected character `&`");
}

#[test]
fn comments_and_whitespace() {
    check("// only\n  // comments", "");
    check(
        "p(x: 1). // trailing\n// more\nq(y: 2).",
        "p(x: 1).\nq(y: 2).",
    );
}

#[test]
fn fact_ending_in_integer() {
    check("p(x: 1).q(x: 2).", "p(x: 1).\nq(x: 2).");
}

#[test]
fn printed_programs_reparse() {
    let src = r#".output q(`a b`, n) relation keys("a b")
r(y: ?y, `the name`: [1, 2.0, "x"]) :- in1(name: ?n), ?y := str(?n, "!\"\n"), ?c := count(?y) : q(x: ?y), ?c >= -1, [[?a, _]] := s(), !t(k: :a/b, s: 'u, t: #inst "2020"), `odd one`(?a)."#;
    let first = program(src);
    let printed = first.to_string();
    let second = program(&printed);
    assert_eq!(printed, second.to_string());
}
