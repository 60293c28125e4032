//! Magic sets over PomoLogic: rules that need bindings from their callers are specialised to
//! the arguments their call sites bind.
//!
//! A derived relation *needs bindings* when one of its rules uses a head variable that its body
//! does not bind (in a comparison, a test, a function argument, a negated atom, or only in the
//! head), and every variable missing in it is a head variable, so that a caller could supply
//! it. Each call `r(…)` of such a relation that binds enough of them for every rule of `r`,
//! in a rule that is itself emitted, is adorned from the variables the literals before it bind (left-to-right sideways information passing):
//! attribute by attribute, `b` when the call gives a constant or a bound variable, `f`
//! otherwise. The call then reads `r_ADORN`, whose rules are `r`'s rules with a leading
//! `magic_r_ADORN(bound attributes…)` atom, and the caller gets a rule
//! `magic_r_ADORN(bound attributes…) :- literals before the call.` Instances are made once per
//! relation and adornment; their own calls are adorned the same way (recursion reuses the
//! instance and adds a magic rule).
//!
//! Rules are emitted in the order the EDN lowering has always produced: an instance's rules
//! right before the magic rule of the call that first needs it, that magic rule before the rest
//! of the caller, and the caller last. Invariants: a program with no relation that needs
//! bindings is left untouched; a call that leaves a needed attribute free is left as it is, and
//! so are the plain rules of a relation still called that way or never adorned, so that the
//! program check reports the missing bindings on the rules as written.

use crate::logic::check::{bound_vars, needs};
use crate::logic::ir::{Atom, Literal, Program, RelId, Rule, Spans, Term};
use pomo_grammar::span::{FileId, Span};
use pomo_types::ra::{CmpOp, RelKind};
use std::collections::{BTreeMap, BTreeSet};

type SourceSpan = (FileId, Span);

/// Specialises the relations that need bindings to their call sites; returns whether it did.
pub fn run(p: &mut Program) -> bool {
    let needy = needs_bindings(p);
    if needy.is_empty() {
        return false;
    }
    // A trial run finds the relations some call adorns; the others are left exactly where they
    // are (and the check reports them in source order), so the real run treats only the
    // adorned ones as needing bindings.
    let mut trial = p.clone();
    let adorned = rewrite(&mut trial, &needy);
    let needy: BTreeSet<RelId> = needy.intersection(&adorned).copied().collect();
    if needy.is_empty() {
        return false;
    }
    rewrite(p, &needy);
    true
}

/// Rewrites `p`, adorning the calls of the `needy` relations; returns the relations adorned.
fn rewrite(p: &mut Program, needy: &BTreeSet<RelId>) -> BTreeSet<RelId> {
    let rules = std::mem::take(&mut p.rules);
    let spans = std::mem::take(&mut p.spans);
    let mut rewrite = Rewrite {
        program: p,
        rules: &rules,
        spans: &spans,
        needy,
        instances: BTreeMap::new(),
    };
    for (i, rule) in rules.iter().enumerate() {
        if !needy.contains(&rule.head.rel) {
            rewrite.emit(i, None);
        }
    }
    // The plain rules of a relation that is still read as it is, or was never adorned, stay,
    // so that the check reports them as they are written.
    let adorned: BTreeSet<RelId> = rewrite.instances.keys().map(|(rel, _)| *rel).collect();
    let mut read_plain: BTreeSet<RelId> = BTreeSet::new();
    for rule in &p.rules {
        for lit in &rule.body {
            if let Literal::Pos { atom, .. } | Literal::Neg(atom) | Literal::Agg { atom, .. } = lit
            {
                read_plain.insert(atom.rel);
            }
        }
    }
    for (i, rule) in rules.iter().enumerate() {
        let rel = rule.head.rel;
        if needy.contains(&rel) && (!adorned.contains(&rel) || read_plain.contains(&rel)) {
            let lit_spans = spans.literals.get(i).cloned().unwrap_or_default();
            p.add_rule(
                rule.clone(),
                spans.rules.get(i).cloned().flatten(),
                lit_spans,
            );
        }
    }
    // A relation replaced by its instances everywhere is gone from the program, so that later
    // stages do not declare an empty relation. Highest ids first, so the others stay valid.
    let gone: Vec<RelId> = adorned
        .iter()
        .filter(|rel| !read_plain.contains(*rel) && !p.rules.iter().any(|r| r.head.rel == **rel))
        .copied()
        .collect();
    for rel in gone.into_iter().rev() {
        remove_relation(p, rel);
    }
    adorned
}

/// Removes relation `gone`, which no rule mentions, renumbering the relations after it.
fn remove_relation(p: &mut Program, gone: RelId) {
    p.relations.remove(gone.0 as usize);
    let renumber = |atom: &mut Atom| {
        if atom.rel > gone {
            atom.rel = RelId(atom.rel.0 - 1);
        }
    };
    for rule in &mut p.rules {
        renumber(&mut rule.head);
        for lit in &mut rule.body {
            match lit {
                Literal::Pos { atom, .. } | Literal::Neg(atom) | Literal::Agg { atom, .. } => {
                    renumber(atom)
                }
                Literal::Cmp { .. } | Literal::Test { .. } | Literal::Apply { .. } => {}
            }
        }
    }
}

/// The derived relations with a rule whose missing bindings are all head variables.
fn needs_bindings(p: &Program) -> BTreeSet<RelId> {
    let mut needy = BTreeSet::new();
    let mut refused = BTreeSet::new();
    for rule in &p.rules {
        if p.rel(rule.head.rel).kind != RelKind::Derived {
            continue;
        }
        let bound = bound_vars(rule);
        let mut missing: BTreeSet<&str> =
            rule.head.vars().filter(|v| !bound.contains(*v)).collect();
        for i in 0..rule.body.len() {
            missing.extend(needs(rule, i, &bound));
        }
        if missing.is_empty() {
            continue;
        }
        let head: BTreeSet<&str> = rule.head.vars().collect();
        if missing.iter().all(|v| head.contains(v)) {
            needy.insert(rule.head.rel);
        } else {
            refused.insert(rule.head.rel);
        }
    }
    needy.difference(&refused).copied().collect()
}

/// An adorned instance of a relation: its relation, its magic relation, and the attributes
/// the magic relation carries.
#[derive(Clone)]
struct Instance {
    rel: RelId,
    magic: RelId,
    bound_attrs: Vec<String>,
}

struct Rewrite<'a> {
    program: &'a mut Program,
    /// The program's rules and spans before the pass.
    rules: &'a [Rule],
    spans: &'a Spans,
    /// The relations that need bindings.
    needy: &'a BTreeSet<RelId>,
    /// Instances made so far, by relation and adornment.
    instances: BTreeMap<(RelId, String), Instance>,
}

impl Rewrite<'_> {
    /// Emits rule `index`, as it is or (with `instance`) as a rule of an adorned instance,
    /// adorning its calls of relations that need bindings.
    fn emit(&mut self, index: usize, instance: Option<&Instance>) {
        let rule = &self.rules[index];
        let rule_span = self.spans.rules.get(index).cloned().flatten();
        let mut body: Vec<Literal> = Vec::new();
        let mut lit_spans: Vec<Option<SourceSpan>> = Vec::new();
        let mut bound: BTreeSet<String> = BTreeSet::new();
        if let Some(inst) = instance {
            let args = pick(&rule.head.args, &inst.bound_attrs);
            bound.extend(args.iter().filter_map(|(_, t)| t.var().map(String::from)));
            body.push(Literal::Pos {
                cid: None,
                atom: Atom {
                    rel: inst.magic,
                    args,
                },
            });
            lit_spans.push(rule_span.clone());
        }
        for (li, lit) in rule.body.iter().enumerate() {
            let mut lit = lit.clone();
            if let Literal::Pos { cid: None, atom } = &mut lit
                && self.needy.contains(&atom.rel)
                && let Some(inst) = self.adorn(atom, &bound)
            {
                let head = Atom {
                    rel: inst.magic,
                    args: pick(&atom.args, &inst.bound_attrs),
                };
                let span = lit_spans.iter().flatten().next().cloned();
                self.push(
                    Rule {
                        head,
                        next: false,
                        body: body.clone(),
                    },
                    span,
                    lit_spans.clone(),
                );
                atom.rel = inst.rel;
            }
            bind(&lit, &mut bound);
            body.push(lit);
            lit_spans.push(
                self.spans
                    .literals
                    .get(index)
                    .and_then(|s| s.get(li))
                    .cloned()
                    .flatten(),
            );
        }
        let mut head = rule.head.clone();
        if let Some(inst) = instance {
            head.rel = inst.rel;
        }
        self.push(
            Rule {
                head,
                next: rule.next,
                body,
            },
            rule_span,
            lit_spans,
        );
    }

    /// The instance a call with variables `bound` reads, made (with its rules emitted) on first
    /// use; `None` when the call leaves an attribute the relation needs free.
    fn adorn(&mut self, call: &Atom, bound: &BTreeSet<String>) -> Option<Instance> {
        let rel = self.program.rel(call.rel).clone();
        let is_bound = |attr: &String| {
            call.args.iter().any(|(a, t)| {
                a == attr
                    && match t {
                        Term::Const(_) => true,
                        Term::Var(v) => bound.contains(v),
                        Term::Wild => false,
                    }
            })
        };
        let bound_attrs: Vec<String> = rel.attrs.iter().filter(|a| is_bound(a)).cloned().collect();
        // A call that leaves a needed attribute free is not adorned: the plain rules stay, and
        // the check reports them as written rather than through an instance's name.
        if bound_attrs.is_empty() || !self.rules_satisfied(call.rel, &bound_attrs) {
            return None;
        }
        let adornment: String = rel
            .attrs
            .iter()
            .map(|a| if is_bound(a) { 'b' } else { 'f' })
            .collect();
        let key = (call.rel, adornment.clone());
        if let Some(inst) = self.instances.get(&key) {
            return Some(inst.clone());
        }
        let name = self.unique(&format!("{}_{adornment}", rel.name));
        let id = self.program.intern(&name, RelKind::Derived);
        self.program
            .note_attrs(id, rel.attrs.iter().map(|a| a.as_str()));
        let magic_name = self.unique(&format!("magic_{}_{adornment}", rel.name));
        let magic = self.program.intern(&magic_name, RelKind::Derived);
        self.program
            .note_attrs(magic, bound_attrs.iter().map(|a| a.as_str()));
        let inst = Instance {
            rel: id,
            magic,
            bound_attrs,
        };
        self.instances.insert(key, inst.clone());
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.head.rel == call.rel {
                self.emit(i, Some(&inst));
            }
        }
        Some(inst)
    }

    /// Whether every rule of `rel` binds all it needs once the head attributes `bound_attrs`
    /// are given, as they are in an instance (by its leading magic atom, here the head's own
    /// relation, which binds the same variables).
    fn rules_satisfied(&self, rel: RelId, bound_attrs: &[String]) -> bool {
        self.rules.iter().filter(|r| r.head.rel == rel).all(|rule| {
            let mut given = rule.clone();
            let seed = Atom {
                rel,
                args: pick(&rule.head.args, bound_attrs),
            };
            given.body.insert(
                0,
                Literal::Pos {
                    cid: None,
                    atom: seed,
                },
            );
            let bound = bound_vars(&given);
            given.head.vars().all(|v| bound.contains(v))
                && (0..given.body.len()).all(|i| needs(&given, i, &bound).is_empty())
        })
    }

    /// `base`, or `base` with as many `_` as make it a new relation name.
    fn unique(&self, base: &str) -> String {
        let mut name = base.to_string();
        while self.program.find(&name).is_some() {
            name.push('_');
        }
        name
    }

    fn push(
        &mut self,
        rule: Rule,
        span: Option<SourceSpan>,
        mut lit_spans: Vec<Option<SourceSpan>>,
    ) {
        lit_spans.resize(rule.body.len(), None);
        self.program.add_rule(rule, span, lit_spans);
    }
}

/// The arguments of `args` for `attrs`, in the order of `attrs`.
fn pick(args: &[(String, Term)], attrs: &[String]) -> Vec<(String, Term)> {
    attrs
        .iter()
        .filter_map(|a| args.iter().find(|(x, _)| x == a).cloned())
        .collect()
}

/// Adds what `lit` binds, read left to right after the variables in `bound`.
fn bind(lit: &Literal, bound: &mut BTreeSet<String>) {
    match lit {
        Literal::Pos { cid, atom } => {
            bound.extend(atom.vars().map(String::from));
            bound.extend(cid.clone());
        }
        Literal::Apply { bind, func, args } => {
            let callee = match func {
                crate::logic::ir::Callee::Var(f) => Some(f.as_str()),
                crate::logic::ir::Callee::Builtin(_) => None,
            };
            let ready = args
                .iter()
                .filter_map(|t| t.var())
                .chain(callee)
                .all(|v| bound.contains(v));
            if ready {
                bound.extend(bind.vars().into_iter().map(String::from));
            }
        }
        Literal::Cmp {
            op: CmpOp::Eq,
            lhs,
            rhs,
        } => {
            let lb = lhs.var().is_none_or(|v| bound.contains(v));
            let rb = rhs.var().is_none_or(|v| bound.contains(v));
            if lb && !rb {
                bound.extend(rhs.var().map(String::from));
            } else if rb && !lb {
                bound.extend(lhs.var().map(String::from));
            }
        }
        Literal::Agg { out, .. } => {
            bound.insert(out.clone());
        }
        Literal::Neg(_) | Literal::Cmp { .. } | Literal::Test { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::logic::{parse::parse_program, print};

    /// Runs the pass on PomoLogic `input` and compares the printed program and whether it
    /// changed.
    fn check(input: &str, expected: &str, changed: bool) {
        let mut program = parse_program(input, 0).expect("the test input parses");
        assert_eq!(run(&mut program), changed);
        assert_eq!(print::program(&program).trim(), expected.trim());
    }

    #[test]
    fn a_rule_needing_a_caller_binding_reads_its_magic_set() {
        check(
            r#"
.input in1(min) scalar
.decl emp(e, salary, name)
.output find(n) relation

earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
find(n: ?n) :- in1(min: ?min), earns(a0: ?e, a1: ?min), emp(e: ?e, name: ?n).
"#,
            r#"
.input in1(min) scalar
.decl emp(e, salary, name)
.output find(n) relation

earns_fb(a0: ?e, a1: ?min) :- magic_earns_fb(a1: ?min), emp(e: ?e, salary: ?s), ?s >= ?min.
magic_earns_fb(a1: ?min) :- in1(min: ?min).
find(n: ?n) :- in1(min: ?min), earns_fb(a0: ?e, a1: ?min), emp(e: ?e, name: ?n).
"#,
            true,
        );
    }

    /// The plain form of the `rec-manager-chain` golden query gives the program its EDN
    /// lowering prints today, rule for rule and in the same order.
    #[test]
    fn recursion_reuses_the_instance_in_the_order_edn_lowering_prints() {
        check(
            r#"
.input in2(min) scalar
.decl datom(e, a, v, t, m, added)
.output find(n) relation

above(a0: ?e, a1: ?m, a2: ?min) :-
    datom(e: ?e, a: :emp/manager, v: ?m),
    datom(e: ?m, a: :emp/salary, v: ?s),
    ?s >= ?min.
above(a0: ?e, a1: ?m, a2: ?min) :-
    datom(e: ?e, a: :emp/manager, v: ?x),
    above(a0: ?x, a1: ?m, a2: ?min).
find(n: ?n) :-
    in2(min: ?min),
    datom(e: ?g, a: :emp/name, v: "Gus"),
    above(a0: ?g, a1: ?m, a2: ?min),
    datom(e: ?m, a: :emp/name, v: ?n).
"#,
            r#"
.input in2(min) scalar
.decl datom(e, a, v, t, m, added)
.output find(n) relation

above_bfb(a0: ?e, a1: ?m, a2: ?min) :-
    magic_above_bfb(a0: ?e, a2: ?min),
    datom(e: ?e, a: :emp/manager, v: ?m),
    datom(e: ?m, a: :emp/salary, v: ?s),
    ?s >= ?min.
magic_above_bfb(a0: ?x, a2: ?min) :-
    magic_above_bfb(a0: ?e, a2: ?min),
    datom(e: ?e, a: :emp/manager, v: ?x).
above_bfb(a0: ?e, a1: ?m, a2: ?min) :-
    magic_above_bfb(a0: ?e, a2: ?min),
    datom(e: ?e, a: :emp/manager, v: ?x),
    above_bfb(a0: ?x, a1: ?m, a2: ?min).
magic_above_bfb(a0: ?g, a2: ?min) :- in2(min: ?min), datom(e: ?g, a: :emp/name, v: "Gus").
find(n: ?n) :-
    in2(min: ?min),
    datom(e: ?g, a: :emp/name, v: "Gus"),
    above_bfb(a0: ?g, a1: ?m, a2: ?min),
    datom(e: ?m, a: :emp/name, v: ?n).
"#,
            true,
        );
    }

    #[test]
    fn a_constant_argument_counts_as_bound() {
        check(
            r#"
.decl emp(e, salary)
.output find(e) relation

earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
find(e: ?e) :- earns(a0: ?e, a1: 100).
"#,
            r#"
.decl emp(e, salary)
.output find(e) relation

earns_fb(a0: ?e, a1: ?min) :- magic_earns_fb(a1: ?min), emp(e: ?e, salary: ?s), ?s >= ?min.
magic_earns_fb(a1: 100).
find(e: ?e) :- earns_fb(a0: ?e, a1: 100).
"#,
            true,
        );
    }

    #[test]
    fn two_adornments_make_two_instances() {
        check(
            r#"
.input in1(x) scalar
.output find(a, b) relation

same(a0: ?x, a1: ?y) :- ?x == ?y.
find(a: ?a, b: ?b) :- in1(x: ?a), same(a0: ?a, a1: ?b), same(a0: ?c, a1: ?b).
"#,
            r#"
.input in1(x) scalar
.output find(a, b) relation

same_bf(a0: ?x, a1: ?y) :- magic_same_bf(a0: ?x), ?x == ?y.
magic_same_bf(a0: ?a) :- in1(x: ?a).
same_fb(a0: ?x, a1: ?y) :- magic_same_fb(a1: ?y), ?x == ?y.
magic_same_fb(a1: ?b) :- in1(x: ?a), same_bf(a0: ?a, a1: ?b).
find(a: ?a, b: ?b) :- in1(x: ?a), same_bf(a0: ?a, a1: ?b), same_fb(a0: ?c, a1: ?b).
"#,
            true,
        );
    }

    #[test]
    fn a_program_that_binds_everything_is_untouched() {
        check(
            r#"
.decl edge(from, to)

path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).
path(from: ?x, to: ?z) :- edge(from: ?x, to: ?y), path(from: ?y, to: ?z).
"#,
            r#"
.decl edge(from, to)

path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).
path(from: ?x, to: ?z) :- edge(from: ?x, to: ?y), path(from: ?y, to: ?z).
"#,
            false,
        );
    }

    /// A relation no call adorns is left where it is, for the check to report in source order.
    #[test]
    fn a_call_binding_nothing_leaves_the_program_as_it_is() {
        check(
            r#"
.decl emp(e, salary)
.output find(e) relation

earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
find(e: ?e) :- earns(a0: ?e, a1: ?min).
"#,
            r#"
.decl emp(e, salary)
.output find(e) relation

earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
find(e: ?e) :- earns(a0: ?e, a1: ?min).
"#,
            false,
        );
    }

    /// When one call binds an argument and another binds none, the second keeps reading the
    /// plain relation, whose rules stay (after the others) for the check to report.
    #[test]
    fn a_plain_call_beside_an_adorned_one_keeps_the_plain_rules() {
        check(
            r#"
.input in1(min) scalar
.decl emp(e, salary)
.output find(e) relation

earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
find(e: ?e) :- in1(min: ?min), earns(a0: ?e, a1: ?min), earns(a0: ?e, a1: ?other).
"#,
            r#"
.input in1(min) scalar
.decl emp(e, salary)
.output find(e) relation

earns_fb(a0: ?e, a1: ?min) :- magic_earns_fb(a1: ?min), emp(e: ?e, salary: ?s), ?s >= ?min.
magic_earns_fb(a1: ?min) :- in1(min: ?min).
find(e: ?e) :- in1(min: ?min), earns_fb(a0: ?e, a1: ?min), earns(a0: ?e, a1: ?other).
earns(a0: ?e, a1: ?min) :- emp(e: ?e, salary: ?s), ?s >= ?min.
"#,
            true,
        );
    }

    /// A rule missing a variable no caller can give (`?b` is not in the head) is left for the
    /// check's E0211.
    #[test]
    fn a_missing_local_variable_is_not_the_callers_to_give() {
        check(
            r#"
.decl num(v)
.input in1(x) scalar
.output find(y) relation

shifted(a0: ?a, a1: ?y) :- num(v: ?a), ?y := add(?a, ?b).
find(y: ?y) :- in1(x: ?a), shifted(a0: ?a, a1: ?y).
"#,
            r#"
.decl num(v)
.input in1(x) scalar
.output find(y) relation

shifted(a0: ?a, a1: ?y) :- num(v: ?a), ?y := add(?a, ?b).
find(y: ?y) :- in1(x: ?a), shifted(a0: ?a, a1: ?y).
"#,
            false,
        );
    }
}
