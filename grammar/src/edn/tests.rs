//! Unit tests of the EDN reader: every literal kind, collections, comments and discards, the
//! printer's round trip, and every error path with its span.

use super::*;
use crate::diag::summary;

/// Reads `input` and compares the printed forms (space separated), or the diagnostics summary.
fn check(input: &str, expected: &str) {
    let actual = match parse_forms(input) {
        Ok(forms) => forms
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        Err(diags) => summary(&diags),
    };
    assert_eq!(actual, expected, "input: {input}");
}

/// Reads one form and returns it.
fn one(input: &str) -> Form {
    parse_one(input)
        .unwrap_or_else(|d| panic!("{input}: {}", summary(&d)))
        .form
}

/// Prints, reads back, and checks the tree is the same modulo spans and prints the same.
fn round_trip(input: &str) {
    let first = parse_forms(input).unwrap_or_else(|d| panic!("{input}: {}", summary(&d)));
    let printed = first
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let second = parse_forms(&printed).unwrap_or_else(|d| panic!("{printed}: {}", summary(&d)));
    assert_eq!(first.len(), second.len(), "{input} -> {printed}");
    for (a, b) in first.iter().zip(&second) {
        assert!(a.same_form(b), "{input} -> {printed}");
    }
    let reprinted = second
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(printed, reprinted);
}

#[test]
fn nil_and_booleans() {
    check("nil true false", "nil true false");
    assert_eq!(one("nil"), Form::Nil);
    assert_eq!(one("true"), Form::Bool(true));
}

#[test]
fn literal_words_prefix_symbols() {
    check("nil? true-ish falsey", "nil? true-ish falsey");
    assert_eq!(one("nil?"), Form::Symbol("nil?".into()));
}

#[test]
fn integers() {
    check("0 42 +5 -3 7N", "0 42 5 -3 7");
    assert_eq!(one("-3"), Form::Int(-3));
    assert_eq!(one("+5"), Form::Int(5));
    assert_eq!(one("12N"), Form::Int(12));
}

#[test]
fn integer_limits() {
    assert_eq!(one("9223372036854775807"), Form::Int(i64::MAX));
    assert_eq!(one("-9223372036854775808"), Form::Int(i64::MIN));
}

#[test]
fn integer_out_of_range() {
    check(
        "[1 9223372036854775808]",
        "E0005 3..22: integer `9223372036854775808` does not fit in 64 bits",
    );
}

#[test]
fn floats() {
    check(
        "1.5 1e10 -2.5E-3 3M 2.0M 1.",
        "1.5 10000000000.0 -0.0025 3.0 2.0 1.0",
    );
    assert_eq!(one("1e10"), Form::Float(1e10));
    assert_eq!(one("-2.5E-3"), Form::Float(-2.5e-3));
    assert_eq!(one("3M"), Form::Float(3.0));
}

#[test]
fn float_overflow_is_an_error() {
    check("1e999", "E0006 0..5: invalid number `1e999`");
}

#[test]
fn malformed_numbers() {
    check("1.5x", "E0006 0..4: invalid number `1.5x`");
    check("0x10 2", "E0006 0..4: invalid number `0x10`");
    check("12abc", "E0006 0..5: invalid number `12abc`");
}

#[test]
fn strings_with_escapes() {
    assert_eq!(one(r#""a\nb\t\r\"\\""#), Form::Str("a\nb\t\r\"\\".into()));
    assert_eq!(one(r#""\u00e9\u0041""#), Form::Str("éA".into()));
    check(r#""line\nbreak""#, r#""line\nbreak""#);
    check(r#""é ü""#, r#""é ü""#);
}

#[test]
fn unknown_escape() {
    check(
        r#"[:a "ab\qc"]"#,
        r"E0003 7..9: unknown escape `\q` in string",
    );
}

#[test]
fn bad_unicode_escape() {
    check(
        r#""\u12G4""#,
        "E0003 1..7: invalid unicode escape: expected four hex digits naming a character",
    );
    check(
        r#""\ud800""#,
        "E0003 1..7: invalid unicode escape: expected four hex digits naming a character",
    );
}

#[test]
fn unterminated_string() {
    check(r#"[:a "abc]"#, "E0002 9..9: unterminated string");
    check(r#""abc\"#, "E0002 5..5: unterminated string");
}

#[test]
fn unterminated_string_labels_the_opening_quote() {
    let diags = parse_forms(r#"[:a "abc]"#).unwrap_err();
    assert_eq!(diags[0].labels[1].span, 4..5);
}

#[test]
fn characters() {
    assert_eq!(one(r"\a"), Form::Char('a'));
    assert_eq!(one(r"\newline"), Form::Char('\n'));
    assert_eq!(one(r"\space"), Form::Char(' '));
    assert_eq!(one(r"\tab"), Form::Char('\t'));
    assert_eq!(one(r"\u0041"), Form::Char('A'));
    assert_eq!(one(r"\("), Form::Char('('));
    assert_eq!(one(r"\é"), Form::Char('é'));
    check(r"[\a\b \c]", r"[\a \b \c]");
    check(
        r"\newline \space \tab \return",
        r"\newline \space \tab \return",
    );
}

#[test]
fn bad_characters() {
    check(r"\foo", r"E0004 0..4: unknown character name `\foo`");
    check(
        r"[\ ]",
        "E0004 1..2: a backslash must be followed by a character",
    );
    check(
        r"\",
        "E0004 0..1: a backslash must be followed by a character",
    );
}

#[test]
fn keywords() {
    check(":a :ns/name :a.b/c-d? :x/y*", ":a :ns/name :a.b/c-d? :x/y*");
    assert_eq!(one(":ns/name"), Form::Keyword("ns/name".into()));
}

#[test]
fn lone_colon_is_an_error() {
    check(": a", "E0001 0..1: unexpected character `:`");
}

#[test]
fn symbols() {
    let input = "?x $ $src _ ... + - <= not= clojure.string/starts-with? . -foo / %";
    check(input, input);
    assert_eq!(one("?x"), Form::Symbol("?x".into()));
    assert_eq!(one("-"), Form::Symbol("-".into()));
    assert_eq!(one("-foo"), Form::Symbol("-foo".into()));
    assert_eq!(one("..."), Form::Symbol("...".into()));
    assert_eq!(one("-1"), Form::Int(-1));
}

#[test]
fn lists_vectors_maps_sets() {
    check(
        "(a 1) [1 2] {:a 1 :b [2]} #{1 2} () [] {} #{}",
        "(a 1) [1 2] {:a 1 :b [2]} #{1 2} () [] {} #{}",
    );
}

#[test]
fn map_entries_keep_source_order() {
    let Form::Map(entries) = one("{:b 1 :a 2}") else {
        panic!()
    };
    assert_eq!(entries[0].0.form, Form::Keyword("b".into()));
}

#[test]
fn commas_are_whitespace() {
    check("[1,2,,3] {:a 1, :b 2}", "[1 2 3] {:a 1 :b 2}");
}

#[test]
fn comments() {
    check("; lead\n[1 ; inner\n 2] ; trailing", "[1 2]");
    check(";; only a comment", "");
}

#[test]
fn tagged_literals() {
    check(
        r#"#inst "2020-01-01" #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6" #my/tag [1 2]"#,
        r#"#inst "2020-01-01" #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6" #my/tag [1 2]"#,
    );
    assert!(matches!(one(r#"#inst "x""#), Form::Tagged(t, _) if t == "inst"));
}

#[test]
fn tag_without_form() {
    check("[#inst]", "E0010 6..7: unexpected `]`");
    check("#inst", "E0011 5..5: unexpected end of input");
}

#[test]
fn discard() {
    check("[1 #_2 3]", "[1 3]");
    check("#_ x y", "y");
    check("[#_ #_ 1 2 3]", "[3]");
    check("[#_ [1 #_ 2] 4]", "[4]");
    check("{:a #_ :b 1}", "{:a 1}");
    check(r#"#inst #_ 1 "x""#, r#"#inst "x""#);
}

#[test]
fn discard_without_form() {
    check("[1 #_]", "E0010 5..6: unexpected `]`");
    check("#_", "E0011 2..2: unexpected end of input");
}

#[test]
fn spans_are_bytes() {
    let forms = parse_forms("é [1 :k]").unwrap();
    assert_eq!(forms[0].span, 0..2);
    assert_eq!(forms[1].span, 3..9);
    let Form::Vector(items) = &forms[1].form else {
        panic!()
    };
    assert_eq!(items[1].span, 6..8);
}

#[test]
fn duplicate_map_key() {
    check("{:a 1 :a 2}", "E0016 6..8: duplicate map key `:a`");
    check(
        "{[1, 2] 1 [1 2] 2}",
        "E0016 10..15: duplicate map key `[1 2]`",
    );
}

#[test]
fn duplicate_set_element() {
    check("#{1 2 1}", "E0017 6..7: duplicate set element `1`");
}

#[test]
fn all_duplicates_are_reported() {
    check(
        "[#{1 1} {:a 1 :a 2}]",
        "E0017 5..6: duplicate set element `1`\nE0016 14..16: duplicate map key `:a`",
    );
}

#[test]
fn odd_map() {
    check(
        "{:a 1 :b}",
        "E0015 6..8: a map needs an even number of forms",
    );
}

#[test]
fn unclosed_bracket() {
    check(
        "[1 (2 3]",
        "E0014 7..8: mismatched closing delimiter: expected `)`, found `]`\nE0012 8..8: unclosed `[`",
    );
    check(
        "{:a [1",
        "E0012 6..6: unclosed `[`\nE0012 6..6: unclosed `{`",
    );
}

#[test]
fn unclosed_bracket_labels_the_opener() {
    let diags = parse_forms("[:find ?x").unwrap_err();
    assert_eq!(diags[0].labels[1].span, 0..1);
    assert_eq!(diags[0].labels[1].message, "this `[` is never closed");
}

#[test]
fn unmatched_bracket() {
    check("[1] ]", "E0013 4..5: unmatched `]`");
    check(")", "E0013 0..1: unmatched `)`");
}

#[test]
fn too_deep() {
    let deep = "[".repeat(10_000);
    check(
        &deep,
        "E0009 256..257: brackets nest more than 256 levels deep",
    );
    let ok = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(parse_forms(&ok).is_ok());
}

#[test]
fn lexer_errors_are_all_reported() {
    check(
        "[: ~ 1]",
        "E0001 1..2: unexpected character `:`\nE0001 3..4: unexpected character `~`",
    );
}

#[test]
fn parse_one_needs_exactly_one_form() {
    assert_eq!(
        summary(&parse_one("").unwrap_err()),
        "E0018 0..0: expected one form, found none"
    );
    assert_eq!(
        summary(&parse_one("  ; c").unwrap_err()),
        "E0018 5..5: expected one form, found none"
    );
    assert_eq!(
        summary(&parse_one("[1] 2 3").unwrap_err()),
        "E0018 4..7: expected one form, found more"
    );
}

#[test]
fn round_trips() {
    for input in [
        "nil true false 0 -7 1.5 -2.5E-3 1e300 3M 0.1",
        r#""a\"b\\c\n\t\r\u0001" "" "é""#,
        r"\a \newline \space \tab \return \formfeed \backspace \( \u0000 \é",
        ":a :ns/name ?x $ _ ... + - <= not= clojure.string/starts-with? .",
        "(a [b {:c #{1 2}}]) () [] {} #{}",
        r#"#inst "2020" #my/tag [1 {:a nil}] #a #b 1"#,
        "[:find ?e . :in $ % [?a ...] [[?b ?c]] :where [?e :a/b ?v] [(> ?v 1.0)]]",
    ] {
        round_trip(input);
    }
}

#[test]
fn floats_print_as_floats() {
    assert_eq!(one("1.0").to_string(), "1.0");
    assert_eq!(one("2M").to_string(), "2.0");
    assert_eq!(one("1e21").to_string(), "1e21");
    assert!(matches!(one(&one("1e21").to_string()), Form::Float(_)));
}

#[test]
fn never_panics_on_junk() {
    for input in [
        "#",
        "##",
        "#{",
        "}",
        "\"",
        "\\",
        "#_#_",
        "[#_]",
        ":",
        "#inst #inst",
        "é\u{0}",
        "\"\\u",
        "\"\\uD8",
    ] {
        assert!(parse_forms(input).is_err() || input.is_empty(), "{input}");
    }
}
