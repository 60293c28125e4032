//! Robustness: every parser returns a value or diagnostics, never panics, on every prefix and
//! on single-character corruptions of realistic inputs (a cheap stand-in for fuzzing that runs
//! in every test run). Every diagnostic must have a code and a label inside the input.

use pomo_grammar::diag::Diagnostic;
use pomo_grammar::{edn, logic_syntax, query, ra_syntax, sql_syntax};

const QUERY: &str = r#"[:find ?name (count ?e) (pull ?e [:a {:b [*]}]) :keys n c p
 :in $ % ?x [?y ...] [[?a ?b]] :with ?w
 :where [?e :person/name ?name] [(> ?age 18)] [(str ?n "é\n") ?s] (rule ?e _ 1)
        (not [?e :x #inst "2020"]) (not-join [?e] [?e :y]) (or [?e :a] (and [?e :b] [?e :c]))
        (or-join [[?e] ?f] [?e :d ?f]) #_ ignored ; comment
        [$src ?e :z [:lookup "ref"] ?tx true] [?e :w {:k \newline :s #{1 2} :c \c :f 1.5e3 :n -2N}]]"#;

const RULES: &str = "[[(anc [?a] ?b) [?a :parent ?b]] [(anc ?a ?b) [?a :parent ?x] (anc ?x ?b)]]";

const LOGIC: &str = r#".decl edge(from, to)
.output q(name, n) relation with(w) keys("name", "n")
path(from: ?x, to: ?z) :- edge(from: ?x, to: ?y), path(from: ?y, to: ?z). // c
cnt(n: N) :- N := count : q(c: ?c), ?s := sum ?x : q(x: ?x), [?a ...] := f(`odd name`: 1.5, k: :a/b, t: #uuid "u", s: 'x, v: [1 2]), !r(x: _), X >= -3.
a(x: 1)@next."#;

const RA: &str = r#"relation `join`(a, ?b) base;
stratum 0 recursive {
  x := map[[[?a, _]] := ?f(?b, "s", 1.0)](group_by[a; n := count()](values[a, ?b]{(1, 2), (nil, [1 2])}));
  loop {
    y@new := theta_join[a < 1 and not ?p(b) or true == c](select[false](x), equijoin[a = ?b](x, `join`)); // c
  } until empty(y@new);
}"#;

const SQL: &str = "WITH RECURSIVE n(x) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < 3)
SELECT DISTINCT t.*, -a * b AS c, CASE WHEN a BETWEEN 1 AND 2 THEN 'x''y' ELSE NULL END,
 count(*) OVER (ORDER BY a), CAST(b AS VARCHAR(3)) FROM t LEFT JOIN \"U\" u USING (a)
WHERE a NOT IN (SELECT b FROM [v]) AND b IS NOT NULL OR c LIKE '%' ESCAPE '!' /* c */
GROUP BY a HAVING count(*) > 1.5e1 ORDER BY 1 DESC LIMIT 3, 4; -- done
CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT DEFAULT 'x' NOT NULL, UNIQUE (b));
INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b'); UPDATE t SET b = b || '!' WHERE a = 1";

fn check_diags(src: &str, diags: &[Diagnostic]) {
    assert!(
        !diags.is_empty(),
        "an error result without diagnostics for {src:?}"
    );
    for d in diags {
        assert!(d.code.starts_with('E') && d.code.len() == 5, "{d:?}");
        assert!(!d.labels.is_empty(), "{d:?}");
        for l in &d.labels {
            assert!(
                l.span.start <= l.span.end && l.span.end <= src.len(),
                "{d:?} in {src:?}"
            );
        }
    }
}

fn run_all(src: &str) {
    if let Err(d) = edn::parse_forms(src) {
        check_diags(src, &d);
    }
    if let Err(d) = query::parse_query_text(src) {
        check_diags(src, &d);
    }
    if let Err(d) = query::parse_rules_text(src) {
        check_diags(src, &d);
    }
    if let Err(d) = logic_syntax::parse_program(src) {
        check_diags(src, &d);
    }
    if let Err(d) = ra_syntax::parse_plan(src) {
        check_diags(src, &d);
    }
    if let Err(d) = sql_syntax::parse_script(src) {
        check_diags(src, &d);
    }
}

#[test]
fn samples_parse() {
    query::parse_query_text(QUERY).unwrap();
    query::parse_rules_text(RULES).unwrap();
    logic_syntax::parse_program(LOGIC).unwrap();
    ra_syntax::parse_plan(RA).unwrap();
    assert_eq!(sql_syntax::parse_script(SQL).unwrap().len(), 4);
}

#[test]
fn every_prefix() {
    for sample in [QUERY, RULES, LOGIC, RA, SQL] {
        for (i, _) in sample.char_indices() {
            run_all(&sample[..i]);
        }
    }
}

#[test]
fn every_single_character_corruption() {
    for sample in [QUERY, RULES, LOGIC, RA, SQL] {
        for (i, c) in sample.char_indices() {
            for replacement in [
                "", "\"", "(", "]", "\\", "#", "é", "`", "?", "'", "[", "-", ";",
            ] {
                let mut s = String::with_capacity(sample.len() + 2);
                s.push_str(&sample[..i]);
                s.push_str(replacement);
                s.push_str(&sample[i + c.len_utf8()..]);
                run_all(&s);
            }
        }
    }
}
