//! Unit tests of the query and rule readers: each find, input, binding and clause shape, the
//! map form, and every error path (with the code and the primary span).

use super::*;
use crate::diag::summary;
use crate::edn::Form;

/// Parses a query and compares its printed form, or the diagnostics summary.
fn check(input: &str, expected: &str) {
    let actual = match parse_query_text(input) {
        Ok(q) => q.to_string(),
        Err(diags) => summary(&diags),
    };
    assert_eq!(actual, expected, "input: {input}");
}

/// Parses a rule set and compares its printed rules (one per line), or the diagnostics.
fn check_rules(input: &str, expected: &str) {
    let actual = match parse_rules_text(input) {
        Ok(rules) => rules
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(diags) => summary(&diags),
    };
    assert_eq!(actual, expected, "input: {input}");
}

/// Checks that a query reads and prints back unchanged.
fn same(input: &str) {
    check(input, input);
}

fn query(input: &str) -> EdnQuery {
    parse_query_text(input).unwrap_or_else(|d| panic!("{input}: {}", summary(&d)))
}

// ---- :find -----------------------------------------------------------------------------------

#[test]
fn relation_find() {
    same("[:find ?a ?b :in $ :where [?a :x ?b]]");
    assert!(
        matches!(query("[:find ?a ?b :where [?a :x ?b]]").find, FindSpec::Relation(ref e, _) if e.len() == 2)
    );
}

#[test]
fn collection_find() {
    same("[:find [?a ...] :in $ :where [?a :x 1]]");
    assert!(matches!(
        query("[:find [?a ...] :where [?a :x 1]]").find,
        FindSpec::Collection(..)
    ));
}

#[test]
fn scalar_find() {
    same("[:find ?a . :in $ :where [?a :x 1]]");
    assert!(matches!(
        query("[:find ?a . :where [?a :x 1]]").find,
        FindSpec::Scalar(..)
    ));
}

#[test]
fn tuple_find() {
    same("[:find [?a ?b] :in $ :where [?a :x ?b]]");
    assert!(matches!(
        query("[:find [?a ?b] :where [?a :x ?b]]").find,
        FindSpec::Tuple(..)
    ));
}

#[test]
fn find_span_covers_the_elements() {
    let q = query("[:find ?a ?b :where [?a :x ?b]]");
    let FindSpec::Relation(_, span) = q.find else {
        panic!()
    };
    assert_eq!(span, 7..12);
}

#[test]
fn aggregates() {
    same(
        "[:find ?a (count ?b) (max 3 ?x) (count-distinct ?y) (aggregate ?f ?x) :in $ ?f :where [?a :x ?b]]",
    );
    same("[:find (sum ?x) . :in $ :where [_ :x ?x]]");
}

#[test]
fn aggregate_parts() {
    let q = query("[:find (max 3 ?x) :where [_ :x ?x]]");
    let FindSpec::Relation(elems, _) = q.find else {
        panic!()
    };
    let FindElem::Agg { func, args, span } = &elems[0] else {
        panic!()
    };
    assert_eq!(func.name, "max");
    assert!(matches!(&args[0], FnArg::Const(n) if n.form == Form::Int(3)));
    assert!(matches!(&args[1], FnArg::Var(v) if v.name == "?x"));
    assert_eq!(*span, 7..17);
}

#[test]
fn pull() {
    same("[:find (pull ?e [*]) :in $ :where [?e :x 1]]");
    same("[:find (pull $src ?e [:name {:friend [:name]}]) :in $src :where [$src ?e :x 1]]");
    same("[:find (pull ?e ?pat) :in $ ?pat :where [?e :x 1]]");
}

#[test]
fn pull_pattern_is_kept_as_a_node() {
    let q = query("[:find (pull ?e [:a]) :where [?e :x 1]]");
    let FindSpec::Relation(elems, _) = q.find else {
        panic!()
    };
    let FindElem::Pull {
        src: None,
        var,
        pattern,
        ..
    } = &elems[0]
    else {
        panic!()
    };
    assert_eq!(var.name, "?e");
    assert_eq!(pattern.to_string(), "[:a]");
}

#[test]
fn malformed_pull() {
    check(
        "[:find (pull ?e) :where [?e :x 1]]",
        "E0107 7..16: malformed pull expression",
    );
    check(
        "[:find (pull :e [*]) :where [?e :x 1]]",
        "E0107 7..20: malformed pull expression",
    );
}

#[test]
fn missing_find() {
    check("[:where [?e :x 1]]", "E0104 0..18: the query has no :find");
}

#[test]
fn empty_find() {
    check(
        "[:find :where [?e :x 1]]",
        "E0104 1..6: :find needs at least one element",
    );
}

#[test]
fn bad_find_elements() {
    check(
        "[:find :a \"s\" :where [?e :x 1]]",
        "E0102 7..9: unknown query keyword `:a`\nE0104 1..6: :find needs at least one element",
    );
    check(
        "[:find ?a 1 :where [?a :x 1]]",
        "E0106 10..11: a find element must be a variable, an aggregate (f ?x) or (pull ?e pattern)",
    );
    check(
        "[:find x :where [?a :x 1]]",
        "E0106 7..8: a find element must be a variable, an aggregate (f ?x) or (pull ?e pattern)",
    );
    check(
        "[:find [?a ...] ?b :where [?a :x ?b]]",
        "E0106 7..15: a vector is only allowed as the whole :find",
    );
    check(
        "[:find ?a ?b . :where [?a :x ?b]]",
        "E0105 13..14: misplaced `.` in :find",
    );
    check(
        "[:find [] :where [?a :x ?b]]",
        "E0105 7..9: a tuple find needs at least one element",
    );
    check(
        "[:find (?f ?x) :where [?a :x ?x]]",
        "E0107 8..10: an aggregate must start with its name",
    );
    check(
        "[:find (count x) :where [?a :x ?x]]",
        "E0117 14..15: a function argument must be a variable, a source or a constant",
    );
}

#[test]
fn all_find_errors_are_reported() {
    check(
        "[:find 1 2 :where [?a :x ?x]]",
        "E0106 7..8: a find element must be a variable, an aggregate (f ?x) or (pull ?e pattern)\n\
         E0106 9..10: a find element must be a variable, an aggregate (f ?x) or (pull ?e pattern)",
    );
}

// ---- :keys, :with ----------------------------------------------------------------------------

#[test]
fn return_maps() {
    same("[:find ?a ?b :keys a b :in $ :where [?a :x ?b]]");
    same("[:find ?a ?b :strs a b :in $ :where [?a :x ?b]]");
    same("[:find [?a ?b] :syms a emp/name :in $ :where [?a :x ?b]]");
    assert_eq!(
        query("[:find ?a :keys a :where [?a :x 1]]")
            .return_map
            .unwrap()
            .kind,
        ReturnKind::Keys
    );
}

#[test]
fn keys_count_mismatch() {
    check(
        "[:find ?a ?b :keys a :where [?a :x ?b]]",
        "E0108 13..20: :keys gives 1 name but :find has 2 elements",
    );
}

#[test]
fn keys_with_scalar_find() {
    check(
        "[:find ?a . :keys a :where [?a :x 1]]",
        "E0109 12..19: :keys needs a relation or tuple :find",
    );
}

#[test]
fn keys_must_be_symbols() {
    check(
        "[:find ?a :keys :a :where [?a :x 1]]",
        "E0102 16..18: unknown query keyword `:a`\nE0108 10..15: :keys gives 0 names but :find has 1 element",
    );
    check(
        "[:find ?a :keys \"a\" :where [?a :x 1]]",
        "E0109 16..19: the names of :keys must be plain symbols",
    );
}

#[test]
fn two_return_maps() {
    check(
        "[:find ?a :keys a :strs a :where [?a :x 1]]",
        "E0109 18..23: a query may have only one of :keys, :strs and :syms",
    );
}

#[test]
fn with_vars() {
    same("[:find ?a (sum ?x) :with ?e ?f :in $ :where [?e :a ?a] [?e :x ?x]]");
    check(
        "[:find ?a :with 1 :where [?a :x 1]]",
        "E0110 16..17: :with takes variables only",
    );
}

// ---- :in -------------------------------------------------------------------------------------

#[test]
fn default_input_is_dollar_at_find() {
    let q = query("[:find ?a :where [?a :x 1]]");
    assert_eq!(
        q.inputs,
        vec![Input::Source(SrcVar {
            name: "$".to_string(),
            span: 1..6
        })]
    );
}

#[test]
fn inputs() {
    same("[:find ?a :in $ $hist % _ ?x [?a _ ?b] [?x ...] [[?a ?b]] :where [?a :x ?x]]");
}

#[test]
fn input_kinds() {
    let q = query("[:find ?a :in $db % ?x [?y ...] [[?b ?c]] [?d _] :where [?a :x ?x]]");
    assert!(matches!(&q.inputs[0], Input::Source(s) if s.name == "$db"));
    assert!(matches!(&q.inputs[1], Input::Rules(s) if *s == (18..19)));
    assert!(matches!(&q.inputs[2], Input::Binding(Binding::Var(_))));
    assert!(matches!(
        &q.inputs[3],
        Input::Binding(Binding::Collection(..))
    ));
    assert!(matches!(&q.inputs[4], Input::Binding(Binding::Relation(v, _)) if v.len() == 2));
    assert!(
        matches!(&q.inputs[5], Input::Binding(Binding::Tuple(v, _)) if matches!(v[1], Binding::Blank(_)))
    );
}

#[test]
fn empty_in_means_no_inputs() {
    assert!(
        query("[:find ?a :in :where [(ground 1) ?a]]")
            .inputs
            .is_empty()
    );
}

#[test]
fn bad_inputs() {
    check(
        "[:find ?a :in foo :where [?a :x 1]]",
        "E0111 14..17: invalid :in element",
    );
    check(
        "[:find ?a :in 1 :where [?a :x 1]]",
        "E0111 14..15: invalid :in element",
    );
    check(
        "[:find ?a :in [] :where [?a :x 1]]",
        "E0112 14..16: empty binding vector",
    );
    check(
        "[:find ?a :in [[]] :where [?a :x 1]]",
        "E0112 15..17: empty relation binding",
    );
    check(
        "[:find ?a :in [?a 1] :where [?a :x 1]]",
        "E0112 18..19: invalid binding form",
    );
}

// ---- sections --------------------------------------------------------------------------------

#[test]
fn map_form() {
    check(
        "{:find [?a ?b] :in [$ ?x] :with [?e] :keys [a] :where [[?e :a ?a] [?e :b ?b]]}",
        "E0108 37..45: :keys gives 1 name but :find has 2 elements",
    );
    check(
        "{:find [?a] :in [$ ?x] :with [?e] :keys [a] :where [[?e :a ?a] [?e :b ?x]]}",
        "[:find ?a :keys a :with ?e :in $ ?x :where [?e :a ?a] [?e :b ?x]]",
    );
    check(
        "{:find [[?a ...]] :where [[?a :x 1]]}",
        "[:find [?a ...] :in $ :where [?a :x 1]]",
    );
    check(
        "{:find [?a .] :where [[?a :x 1]]}",
        "[:find ?a . :in $ :where [?a :x 1]]",
    );
}

#[test]
fn map_form_errors() {
    check(
        "{:find ?a :where [[?a :x 1]]}",
        "E0124 7..9: the value of `:find` in a query map must be a vector\nE0104 0..29: the query has no :find",
    );
    check(
        "{\"find\" [?a]}",
        "E0124 1..7: the keys of a query map must be keywords\nE0104 0..13: the query has no :find",
    );
}

#[test]
fn query_must_be_vector_or_map() {
    check(
        "(:find ?a)",
        "E0100 0..10: a query must be a vector or a map",
    );
}

#[test]
fn unknown_keyword() {
    check(
        "[:find ?a :foo 1 :where [?a :x 1]]",
        "E0102 10..14: unknown query keyword `:foo`",
    );
}

#[test]
fn rules_key_is_unknown() {
    check(
        "{:find [?a] :rules [] :where [[?a :x 1]]}",
        "E0102 12..18: unknown query keyword `:rules`",
    );
}

#[test]
fn duplicate_section() {
    check(
        "[:find ?a :where [?a :x 1] :where [?a :y 2]]",
        "E0103 27..33: `:where` is given twice",
    );
}

#[test]
fn leading_non_keyword() {
    check(
        "[?a :find ?a :where [?a :x 1]]",
        "E0101 1..3: a query vector must start with a keyword such as :find",
    );
}

#[test]
fn no_where_is_allowed() {
    check("[:find ?x :in [?x ...]]", "[:find ?x :in [?x ...]]");
}

#[test]
fn query_text_reader_errors_pass_through() {
    check("[:find ?a", "E0012 9..9: unclosed `[`");
    check(
        "[:find ?a] []",
        "E0018 11..13: expected one form, found more",
    );
}

#[test]
fn all_errors_are_collected() {
    check(
        "[:find ?a :keys a b :bogus :in 1 :where [?a foo] (and [?a :x 1]) (not)]",
        "E0102 20..26: unknown query keyword `:bogus`\n\
         E0108 10..19: :keys gives 2 names but :find has 1 element\n\
         E0111 31..32: invalid :in element\n\
         E0115 44..47: the symbol `foo` is not allowed in a data pattern\n\
         E0119 49..64: and is only allowed inside or / or-join, as a branch\n\
         E0120 65..70: (not) needs at least one clause",
    );
}

// ---- data patterns ---------------------------------------------------------------------------

#[test]
fn data_patterns() {
    same(
        "[:find ?e :in $ :where [?e] [?e :a] [?e :a ?v] [?e :a ?v ?tx] [?e :a ?v ?tx true] [_ :a _]]",
    );
    same("[:find ?e :in $ $h :where [$h ?e :a ?v ?tx false]]");
}

#[test]
fn pattern_constants() {
    same(
        "[:find ?e :in $ :where [?e :a \"s\"] [?e :b 1.5] [?e :c nil] [?e :d #inst \"2020\"] \
         [[:person/email \"a@b\"] :friend ?e] [42 :e ?e]]",
    );
    let q = query("[:find ?e :where [[:person/email \"a@b\"] :friend ?e]]");
    let Clause::Pattern { terms, .. } = &q.where_[0] else {
        panic!()
    };
    assert!(matches!(&terms[0], PatTerm::Const(n) if matches!(n.form, Form::Vector(_))));
}

#[test]
fn pattern_source() {
    let q = query("[:find ?e :in $h :where [$h ?e :a]]");
    let Clause::Pattern {
        src: Some(s),
        terms,
        span,
    } = &q.where_[0]
    else {
        panic!()
    };
    assert_eq!(
        (s.name.as_str(), terms.len(), span.clone()),
        ("$h", 2, 24..34)
    );
}

#[test]
fn symbol_in_pattern() {
    check(
        "[:find ?e :where [?e :a foo]]",
        "E0115 24..27: the symbol `foo` is not allowed in a data pattern",
    );
    check(
        "[:find ?e :where [?e $ 1]]",
        "E0115 21..22: the symbol `$` is not allowed in a data pattern",
    );
}

#[test]
fn pattern_term_count() {
    check(
        "[:find ?e :where [?e :a ?v ?t true 1]]",
        "E0116 17..37: a data pattern has 1 to 5 terms, this one has 6",
    );
    check(
        "[:find ?e :where [$]]",
        "E0116 17..20: a data pattern has 1 to 5 terms, this one has 0",
    );
}

#[test]
fn empty_clause() {
    check("[:find ?e :where []]", "E0114 17..19: empty clause");
    check(
        "[:find ?e :where ()]",
        "E0114 17..19: malformed clause: expected a data pattern [?e :attr ?v], a predicate [(pred ?x)], a function [(f ?x) ?y], a rule call (rule ?x), or (not …), (not-join […] …), (or …), (or-join […] …)",
    );
}

#[test]
fn malformed_clause_names_the_shapes() {
    let diags = parse_query_text("{:find [?e] :where [:foo]}").unwrap_err();
    assert_eq!(diags[0].code, "E0114");
    assert!(
        diags[0].message.contains("a data pattern"),
        "{}",
        diags[0].message
    );
    assert!(
        diags[0].message.contains("a rule call"),
        "{}",
        diags[0].message
    );
    assert_eq!(diags[0].labels[0].message, "found the keyword `:foo`");
}

// ---- predicates and functions ----------------------------------------------------------------

#[test]
fn predicates() {
    same(
        "[:find ?e :in $ :where [?e :a ?v] [(< ?v 10)] [(clojure.string/starts-with? ?n \"a\")] [(missing? $ ?e :b)]]",
    );
    let q = query("[:find ?e :where [(?p ?e)]]");
    assert!(matches!(
        &q.where_[0],
        Clause::Pred {
            callee: Callee::Var(_),
            ..
        }
    ));
}

#[test]
fn functions_with_bindings() {
    same(
        "[:find ?e :in $ :where [(str ?a \"!\") ?x] [(f) _] [(split ?s) [?a ?b]] [(range 10) [?i ...]] \
         [(rel) [[?a ?b]]] [(get-else $ ?e :a 0) ?v]]",
    );
    let q = query("[:find ?y :where [(?f ?x) ?y]]");
    assert!(
        matches!(&q.where_[0], Clause::Fn { callee: Callee::Var(v), binding: Binding::Var(_), .. } if v.name == "?f")
    );
}

#[test]
fn bad_functions() {
    check(
        "[:find ?e :where [() ?x]]",
        "E0117 18..20: empty function call",
    );
    check(
        "[:find ?e :where [(1 ?x)]]",
        "E0117 19..20: a function or predicate name must be a symbol or a ?variable",
    );
    check(
        "[:find ?e :where [(f x)]]",
        "E0117 21..22: a function argument must be a variable, a source or a constant",
    );
    check(
        "[:find ?e :where [(f ?x) ?y ?z]]",
        "E0114 28..30: malformed function clause: expected [(f args…)] or [(f args…) binding]",
    );
    check(
        "[:find ?e :where [(f ?x) 1]]",
        "E0112 25..26: invalid binding form",
    );
}

// ---- rule calls, not, or ---------------------------------------------------------------------

#[test]
fn rule_calls() {
    same("[:find ?e :in $ % :where (follows ?e ?f) ($h anc _ \"x\" 1)]");
    let q = query("[:find ?e :in $ % :where ($h anc ?e)]");
    assert!(matches!(&q.where_[0], Clause::RuleCall { src: Some(s), .. } if s.name == "$h"));
}

#[test]
fn bad_rule_calls() {
    check(
        "[:find ?e :where (?r ?e)]",
        "E0123 18..20: `?r` cannot name a rule",
    );
    check(
        "[:find ?e :where (r foo)]",
        "E0123 20..23: a rule argument must be a ?variable, _ or a constant",
    );
    check(
        "[:find ?e :where ($)]",
        "E0114 17..20: a source must be followed by a rule call, not, not-join, or or or-join",
    );
    check(
        "[:find ?e :where (1 ?e)]",
        "E0114 17..23: malformed clause: expected a data pattern [?e :attr ?v], a predicate [(pred ?x)], a function [(f ?x) ?y], a rule call (rule ?x), or (not …), (not-join […] …), (or …), (or-join […] …)",
    );
}

#[test]
fn not_clauses() {
    same("[:find ?e :in $ :where [?e :a] (not [?e :b] [?e :c]) ($h not [?e :d])]");
    same("[:find ?e :in $ :where [?e :a] (not-join [?e] [?e :b ?x] [?x :c])]");
}

#[test]
fn empty_not() {
    check(
        "[:find ?e :where [?e :a] (not)]",
        "E0120 25..30: (not) needs at least one clause",
    );
    check(
        "[:find ?e :where [?e :a] (not-join [?e])]",
        "E0120 25..40: (not-join) needs at least one clause",
    );
}

#[test]
fn not_join_vars() {
    check(
        "[:find ?e :where (not-join ?e [?e :a])]",
        "E0121 27..29: not-join needs a vector of join variables",
    );
    check(
        "[:find ?e :where (not-join [] [?e :a])]",
        "E0121 27..29: join variables should not be empty",
    );
    check(
        "[:find ?e :where (not-join [:a] [?e :a])]",
        "E0121 28..30: join variables must be ?variables",
    );
    check(
        "[:find ?e :where (not-join [[?e]] [?e :a])]",
        "E0121 28..32: join variables must be ?variables",
    );
}

#[test]
fn or_clauses() {
    same("[:find ?e :in $ :where (or [?e :a] [?e :b]) (or [?e :c] (and [?e :d ?x] [(> ?x 1)]))]");
    let q = query("[:find ?e :where (or [?e :a] (and [?e :b] [?e :c]))]");
    let Clause::Or { branches, .. } = &q.where_[0] else {
        panic!()
    };
    assert_eq!(
        branches.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[test]
fn or_join_clauses() {
    same("[:find ?e :in $ :where (or-join [?e] [?e :a ?x] [?e :b ?y])]");
    same("[:find ?e :in $ :where (or-join [[?e] ?x ?y] [?e :a ?x] (and [?e :b ?y] [?e :c ?x]))]");
    same("[:find ?e :in $ :where ($h or-join [[?e ?f]] [?e :a ?f])]");
    let q = query("[:find ?e :where (or-join [[?e] ?x] [?e :a ?x])]");
    let Clause::OrJoin { required, free, .. } = &q.where_[0] else {
        panic!()
    };
    assert_eq!((required.len(), free.len()), (1, 1));
}

#[test]
fn empty_or() {
    check(
        "[:find ?e :where (or)]",
        "E0122 17..21: (or) needs at least one branch",
    );
    check(
        "[:find ?e :where (or-join [?e])]",
        "E0122 17..31: (or-join) needs at least one branch",
    );
    check(
        "[:find ?e :where (or [?e :a] (and))]",
        "E0122 29..34: (and) needs at least one clause",
    );
}

#[test]
fn and_outside_or() {
    check(
        "[:find ?e :where (and [?e :a])]",
        "E0119 17..30: and is only allowed inside or / or-join, as a branch",
    );
    check(
        "[:find ?e :where (not (and [?e :a] [?e :b]))]",
        "E0119 22..43: and is only allowed inside or / or-join, as a branch",
    );
    check(
        "[:find ?e :where (not-join [?e] (and [?e :a]))]",
        "E0119 32..45: and is only allowed inside or / or-join, as a branch",
    );
    check(
        "[:find ?e :where (or (not (and [?e :a])))]",
        "E0119 26..39: and is only allowed inside or / or-join, as a branch",
    );
}

#[test]
fn and_help_mentions_datascript() {
    let diags = parse_query_text("[:find ?e :where (not (and [?e :a]))]").unwrap_err();
    assert!(
        diags[0]
            .help
            .as_deref()
            .unwrap()
            .contains("Join variables should not be empty")
    );
}

#[test]
fn nested_errors_inside_or_are_reported() {
    check(
        "[:find ?e :where (or [?e foo] (and [?e :a bar]))]",
        "E0115 25..28: the symbol `foo` is not allowed in a data pattern\n\
         E0115 42..45: the symbol `bar` is not allowed in a data pattern",
    );
}

// ---- rules -----------------------------------------------------------------------------------

#[test]
fn rules() {
    check_rules(
        "[[(follows ?a ?b) [?a :follows ?b]] \
          [(follows ?a ?b) [?a :follows ?x] (follows ?x ?b)] \
          [(anc [?a] ?b) (or [?a :p ?b] [?a :q ?b])]]",
        "[(follows ?a ?b) [?a :follows ?b]]\n\
         [(follows ?a ?b) [?a :follows ?x] (follows ?x ?b)]\n\
         [(anc [?a] ?b) (or [?a :p ?b] [?a :q ?b])]",
    );
}

#[test]
fn rule_parts() {
    let rules = parse_rules_text("[[(r [?a ?b] ?c) [?a :x ?c]]]").unwrap();
    assert_eq!(rules[0].name.name, "r");
    assert_eq!(
        rules[0]
            .required
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        vec!["?a", "?b"]
    );
    assert_eq!(rules[0].free[0].name, "?c");
    assert_eq!(rules[0].span, 1..28);
}

#[test]
fn empty_rule_set() {
    check_rules("[]", "");
}

#[test]
fn rules_must_be_a_vector() {
    check_rules(
        "{}",
        "E0130 0..2: a rule set must be a vector of rule definitions",
    );
}

#[test]
fn bad_rule_definitions() {
    check_rules(
        "[(r ?a)]",
        "E0131 1..7: a rule definition must be [(name args…) clause…]",
    );
    check_rules(
        "[[r ?a]]",
        "E0131 1..7: a rule definition must be [(name args…) clause…]",
    );
    check_rules(
        "[[]]",
        "E0131 1..3: a rule definition must be [(name args…) clause…]",
    );
}

#[test]
fn rule_head_without_name() {
    check_rules("[[() [?a :x]]]", "E0132 2..4: the rule head has no name");
    check_rules(
        "[[(?a ?b) [?a :x ?b]]]",
        "E0132 3..5: the rule head has no name",
    );
    check_rules(
        "[[(not ?b) [?b :x]]]",
        "E0132 3..6: the rule head has no name",
    );
}

#[test]
fn rule_head_args() {
    check_rules(
        "[[(r ?a :k) [?a :x]]]",
        "E0133 8..10: rule head arguments must be ?variables",
    );
    check_rules(
        "[[(r ?a [?b]) [?a :x ?b]]]",
        "E0133 8..12: rule head arguments must be ?variables",
    );
    check_rules(
        "[[(r [1]) [?a :x]]]",
        "E0133 6..7: rule head arguments must be ?variables",
    );
}

#[test]
fn rule_without_body() {
    check_rules("[[(r ?a)]]", "E0134 1..9: the rule has no body clauses");
}

#[test]
fn all_rule_errors_are_reported() {
    check_rules(
        "[[(r ?a)] [(s ?a) (and [?a :x])]]",
        "E0134 1..9: the rule has no body clauses\nE0119 18..31: and is only allowed inside or / or-join, as a branch",
    );
}

/// One call reports the errors of every section, not only the first one met.
#[test]
fn errors_of_every_section_are_reported() {
    check(
        "[:find ?a :with 1 :in 2 :where 3]",
        "E0110 16..17: :with takes variables only\nE0111 22..23: invalid :in element\nE0114 31..32: malformed clause: expected a data pattern [?e :attr ?v], a predicate [(pred ?x)], a function [(f ?x) ?y], a rule call (rule ?x), or (not …), (not-join […] …), (or …), (or-join […] …)",
    );
}

/// Only `or-join` has required variables; in `not-join` a leading vector is an error.
#[test]
fn not_join_takes_no_required_vector() {
    check(
        "[:find ?e :where [?e :a ?v] (not-join [[?e] ?v] [?e :b ?v])]",
        "E0121 39..43: join variables must be ?variables",
    );
}

/// In the map form every value must be a vector; a section with a bad value is dropped, so a
/// bad `:find` also reports the missing `:find`.
#[test]
fn map_form_reports_every_bad_value() {
    check(
        "{:find ?a :where ?b}",
        "E0124 7..9: the value of `:find` in a query map must be a vector\nE0124 17..19: the value of `:where` in a query map must be a vector\nE0104 0..20: the query has no :find",
    );
}
