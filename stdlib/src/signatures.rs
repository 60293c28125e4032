//! The table of built-ins with their canonical names, EDN aliases, kinds and arities.
//!
//! Invariants: canonical names are unique, valid PomoLogic identifiers, and every EDN alias maps
//! to exactly one built-in. Comparison operators are predicates here; the compiler turns the
//! binary ones into PomoLogic constraints.

/// What a built-in is used as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A test: `[(pred args…)]`.
    Predicate,
    /// A function whose result is bound: `[(f args…) binding]`.
    Function,
    /// An aggregate in `:find` or a PomoLogic aggregation literal.
    Aggregate,
}

/// How many arguments a built-in takes (for an aggregate: the arguments besides the aggregated
/// variable, e.g. the `n` of `(max n ?x)`, plus the variable itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arity {
    pub min: usize,
    /// `None`: variadic.
    pub max: Option<usize>,
}

impl Arity {
    pub const fn exactly(n: usize) -> Arity {
        Arity {
            min: n,
            max: Some(n),
        }
    }
    pub const fn at_least(n: usize) -> Arity {
        Arity { min: n, max: None }
    }
    pub const fn between(min: usize, max: usize) -> Arity {
        Arity {
            min,
            max: Some(max),
        }
    }
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }
}

impl std::fmt::Display for Arity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max {
            Some(m) if m == self.min => write!(f, "{m}"),
            Some(m) => write!(f, "{} to {m}", self.min),
            None => write!(f, "at least {}", self.min),
        }
    }
}

/// One built-in.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// The canonical name printed in PomoLogic and PomoRA.
    pub name: &'static str,
    /// The names accepted in EDN queries (Datomic / DataScript spellings).
    pub edn_names: &'static [&'static str],
    pub kind: Kind,
    pub arity: Arity,
    /// The first argument is a database source (`$`): `get-else`, `get-some`, `missing?`.
    pub takes_source: bool,
    /// Same arguments, same answer, no effects: a call on constants may be folded.
    pub pure: bool,
    pub doc: &'static str,
}

macro_rules! b {
    ($name:literal, [$($edn:literal),*], $kind:ident, $arity:expr, $src:literal, $pure:literal, $doc:literal) => {
        Builtin {
            name: $name,
            edn_names: &[$($edn),*],
            kind: Kind::$kind,
            arity: $arity,
            takes_source: $src,
            pure: $pure,
            doc: $doc,
        }
    };
}

const ANY: Arity = Arity::at_least(0);
const ONE: Arity = Arity::exactly(1);
const TWO: Arity = Arity::exactly(2);

static BUILTINS: &[Builtin] = &[
    // Comparisons (variadic like Clojure's).
    b!(
        "eq",
        ["=", "=="],
        Predicate,
        Arity::at_least(1),
        false,
        true,
        "all arguments are equal"
    ),
    b!(
        "ne",
        ["not=", "!="],
        Predicate,
        Arity::at_least(1),
        false,
        true,
        "not all arguments are equal"
    ),
    b!(
        "lt",
        ["<"],
        Predicate,
        Arity::at_least(1),
        false,
        true,
        "arguments strictly increase"
    ),
    b!(
        "le",
        ["<="],
        Predicate,
        Arity::at_least(1),
        false,
        true,
        "arguments never decrease"
    ),
    b!(
        "gt",
        [">"],
        Predicate,
        Arity::at_least(1),
        false,
        true,
        "arguments strictly decrease"
    ),
    b!(
        "ge",
        [">="],
        Predicate,
        Arity::at_least(1),
        false,
        true,
        "arguments never increase"
    ),
    // Number predicates.
    b!(
        "is_zero",
        ["zero?"],
        Predicate,
        ONE,
        false,
        true,
        "the number is zero"
    ),
    b!(
        "is_pos",
        ["pos?"],
        Predicate,
        ONE,
        false,
        true,
        "the number is positive"
    ),
    b!(
        "is_neg",
        ["neg?"],
        Predicate,
        ONE,
        false,
        true,
        "the number is negative"
    ),
    b!(
        "is_even",
        ["even?"],
        Predicate,
        ONE,
        false,
        true,
        "the integer is even"
    ),
    b!(
        "is_odd",
        ["odd?"],
        Predicate,
        ONE,
        false,
        true,
        "the integer is odd"
    ),
    // Type and misc predicates.
    b!(
        "is_true",
        ["true?"],
        Predicate,
        ONE,
        false,
        true,
        "the value is true"
    ),
    b!(
        "is_false",
        ["false?"],
        Predicate,
        ONE,
        false,
        true,
        "the value is false"
    ),
    b!(
        "is_nil",
        ["nil?"],
        Predicate,
        ONE,
        false,
        true,
        "the value is nil"
    ),
    b!(
        "is_some",
        ["some?"],
        Predicate,
        ONE,
        false,
        true,
        "the value is not nil"
    ),
    b!(
        "is_string",
        ["string?"],
        Predicate,
        ONE,
        false,
        true,
        "the value is a string"
    ),
    b!(
        "is_keyword",
        ["keyword?"],
        Predicate,
        ONE,
        false,
        true,
        "the value is a keyword"
    ),
    b!(
        "is_number",
        ["number?"],
        Predicate,
        ONE,
        false,
        true,
        "the value is a number"
    ),
    b!(
        "is_int",
        ["int?", "integer?"],
        Predicate,
        ONE,
        false,
        true,
        "the value is an integer"
    ),
    b!(
        "missing",
        ["missing?"],
        Predicate,
        Arity::exactly(3),
        true,
        false,
        "the entity has no value for the attribute"
    ),
    b!(
        "starts_with",
        ["clojure.string/starts-with?", "starts-with?"],
        Predicate,
        TWO,
        false,
        true,
        "the string starts with the prefix"
    ),
    b!(
        "ends_with",
        ["clojure.string/ends-with?", "ends-with?"],
        Predicate,
        TWO,
        false,
        true,
        "the string ends with the suffix"
    ),
    b!(
        "includes",
        ["clojure.string/includes?", "includes?"],
        Predicate,
        TWO,
        false,
        true,
        "the string contains the substring"
    ),
    b!(
        "is_blank",
        ["clojure.string/blank?", "blank?"],
        Predicate,
        ONE,
        false,
        true,
        "the string is empty or whitespace"
    ),
    // Arithmetic.
    b!(
        "add",
        ["+"],
        Function,
        ANY,
        false,
        true,
        "sum of the arguments"
    ),
    b!(
        "sub",
        ["-"],
        Function,
        Arity::at_least(1),
        false,
        true,
        "difference (negation with one argument)"
    ),
    b!(
        "mul",
        ["*"],
        Function,
        ANY,
        false,
        true,
        "product of the arguments"
    ),
    b!(
        "div",
        ["/"],
        Function,
        Arity::at_least(1),
        false,
        true,
        "quotient; integer when exact, else double"
    ),
    b!(
        "quot",
        ["quot"],
        Function,
        TWO,
        false,
        true,
        "integer quotient, truncated"
    ),
    b!(
        "rem",
        ["rem"],
        Function,
        TWO,
        false,
        true,
        "remainder with the sign of the dividend"
    ),
    b!(
        "mod",
        ["mod"],
        Function,
        TWO,
        false,
        true,
        "modulus with the sign of the divisor"
    ),
    b!("inc", ["inc"], Function, ONE, false, true, "plus one"),
    b!("dec", ["dec"], Function, ONE, false, true, "minus one"),
    b!("abs", ["abs"], Function, ONE, false, true, "absolute value"),
    b!(
        "max",
        ["max"],
        Function,
        Arity::at_least(1),
        false,
        true,
        "largest argument"
    ),
    b!(
        "min",
        ["min"],
        Function,
        Arity::at_least(1),
        false,
        true,
        "smallest argument"
    ),
    b!(
        "compare",
        ["compare"],
        Function,
        TWO,
        false,
        true,
        "-1, 0 or 1"
    ),
    // Strings and regexes.
    b!(
        "str",
        ["str"],
        Function,
        ANY,
        false,
        true,
        "concatenation of the printed arguments"
    ),
    b!(
        "subs",
        ["subs"],
        Function,
        Arity::between(2, 3),
        false,
        true,
        "substring by character positions"
    ),
    b!(
        "count_str",
        ["count"],
        Function,
        ONE,
        false,
        true,
        "length of a string or collection"
    ),
    b!(
        "upper_case",
        ["clojure.string/upper-case", "upper-case"],
        Function,
        ONE,
        false,
        true,
        "upper-cased string"
    ),
    b!(
        "lower_case",
        ["clojure.string/lower-case", "lower-case"],
        Function,
        ONE,
        false,
        true,
        "lower-cased string"
    ),
    b!(
        "trim",
        ["clojure.string/trim", "trim"],
        Function,
        ONE,
        false,
        true,
        "string without surrounding whitespace"
    ),
    b!(
        "join_str",
        ["clojure.string/join"],
        Function,
        Arity::between(1, 2),
        false,
        true,
        "joins a collection with a separator"
    ),
    b!(
        "split",
        ["clojure.string/split"],
        Function,
        TWO,
        false,
        true,
        "splits a string by a regex"
    ),
    b!(
        "re_pattern",
        ["re-pattern"],
        Function,
        ONE,
        false,
        true,
        "a regex from a string"
    ),
    b!(
        "re_find",
        ["re-find"],
        Function,
        TWO,
        false,
        true,
        "first match of a regex"
    ),
    b!(
        "re_matches",
        ["re-matches"],
        Function,
        TWO,
        false,
        true,
        "whole-string match of a regex"
    ),
    b!(
        "re_seq",
        ["re-seq"],
        Function,
        TWO,
        false,
        true,
        "all matches of a regex"
    ),
    b!(
        "name",
        ["name"],
        Function,
        ONE,
        false,
        true,
        "name part of a keyword or symbol"
    ),
    b!(
        "namespace",
        ["namespace"],
        Function,
        ONE,
        false,
        true,
        "namespace part of a keyword"
    ),
    b!(
        "keyword",
        ["keyword"],
        Function,
        Arity::between(1, 2),
        false,
        true,
        "a keyword from strings"
    ),
    b!(
        "symbol",
        ["symbol"],
        Function,
        Arity::between(1, 2),
        false,
        true,
        "a symbol from strings"
    ),
    // Collections, tuples, misc.
    b!(
        "vector",
        ["vector"],
        Function,
        ANY,
        false,
        true,
        "a vector of the arguments"
    ),
    b!(
        "list",
        ["list"],
        Function,
        ANY,
        false,
        true,
        "a list of the arguments"
    ),
    b!(
        "tuple",
        ["tuple"],
        Function,
        ANY,
        false,
        true,
        "a tuple of the arguments"
    ),
    b!(
        "untuple",
        ["untuple"],
        Function,
        ONE,
        false,
        true,
        "the elements of a tuple (bind with [?a ?b])"
    ),
    b!(
        "ground",
        ["ground"],
        Function,
        ONE,
        false,
        true,
        "the constant itself"
    ),
    b!(
        "identity",
        ["identity"],
        Function,
        ONE,
        false,
        true,
        "the argument itself"
    ),
    b!(
        "get_else",
        ["get-else"],
        Function,
        Arity::exactly(4),
        true,
        false,
        "the attribute's value or a default"
    ),
    b!(
        "get_some",
        ["get-some"],
        Function,
        Arity::at_least(3),
        true,
        false,
        "[attr value] of the first attribute present"
    ),
    b!(
        "type_name",
        ["type"],
        Function,
        ONE,
        false,
        true,
        "the value's type"
    ),
    b!(
        "not",
        ["not"],
        Function,
        ONE,
        false,
        true,
        "logical negation"
    ),
    b!(
        "get",
        ["get"],
        Function,
        Arity::between(2, 3),
        false,
        true,
        "the value at a key or index, or a default"
    ),
    b!(
        "is_empty",
        ["empty?"],
        Predicate,
        ONE,
        false,
        true,
        "the collection or string is empty"
    ),
    b!(
        "pr_str",
        ["pr-str"],
        Function,
        ANY,
        false,
        true,
        "the printed (readable) forms, space-separated"
    ),
    b!(
        "rand_int",
        ["rand-int"],
        Function,
        ONE,
        false,
        false,
        "random integer below n"
    ),
    // Aggregates.
    b!(
        "count",
        ["count"],
        Aggregate,
        ONE,
        false,
        true,
        "number of values (of the bag)"
    ),
    b!(
        "count_distinct",
        ["count-distinct"],
        Aggregate,
        ONE,
        false,
        true,
        "number of distinct values"
    ),
    b!("sum", ["sum"], Aggregate, ONE, false, true, "sum"),
    b!(
        "avg",
        ["avg"],
        Aggregate,
        ONE,
        false,
        true,
        "mean, as a double"
    ),
    b!(
        "median",
        ["median"],
        Aggregate,
        ONE,
        false,
        true,
        "median (mean of the middle pair when even)"
    ),
    b!(
        "variance",
        ["variance"],
        Aggregate,
        ONE,
        false,
        true,
        "population variance"
    ),
    b!(
        "stddev",
        ["stddev"],
        Aggregate,
        ONE,
        false,
        true,
        "population standard deviation"
    ),
    b!(
        "min",
        ["min"],
        Aggregate,
        Arity::between(1, 2),
        false,
        true,
        "smallest value, or the n smallest distinct values"
    ),
    b!(
        "max",
        ["max"],
        Aggregate,
        Arity::between(1, 2),
        false,
        true,
        "largest value, or the n largest distinct values"
    ),
    b!(
        "distinct",
        ["distinct"],
        Aggregate,
        ONE,
        false,
        true,
        "the set of values"
    ),
    b!(
        "rand",
        ["rand"],
        Aggregate,
        Arity::between(1, 2),
        false,
        false,
        "one random value, or n values with repetition"
    ),
    b!(
        "sample",
        ["sample"],
        Aggregate,
        Arity::exactly(2),
        false,
        false,
        "up to n distinct random values"
    ),
    // SQL: what the SQL front end lowers to, with SQLite's semantics (`sql.rs`). NULL is
    // `nil` and a value here, not a failed match (see `binds_nil`); no EDN spelling.
    b!(
        "sql_add",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `+`: integer unless a double is involved or it overflows"
    ),
    b!(
        "sql_sub",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `-`: integer unless a double is involved or it overflows"
    ),
    b!(
        "sql_mul",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `*`: integer unless a double is involved or it overflows"
    ),
    b!(
        "sql_div",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `/`: truncating on integers, NULL on division by zero"
    ),
    b!(
        "sql_mod",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `%`: remainder of the integer parts, NULL for a zero divisor"
    ),
    b!("sql_neg", [], Function, ONE, false, true, "SQL unary `-`"),
    b!(
        "sql_eq",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `=`: true, false or NULL"
    ),
    b!(
        "sql_ne",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `<>`: true, false or NULL"
    ),
    b!(
        "sql_lt",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `<`: true, false or NULL"
    ),
    b!(
        "sql_le",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `<=`: true, false or NULL"
    ),
    b!(
        "sql_gt",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `>`: true, false or NULL"
    ),
    b!(
        "sql_ge",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `>=`: true, false or NULL"
    ),
    b!(
        "sql_is",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `IS`: equality where NULL equals NULL"
    ),
    b!("sql_is_not", [], Function, TWO, false, true, "SQL `IS NOT`"),
    b!(
        "sql_and",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `AND` (three-valued)"
    ),
    b!(
        "sql_or",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `OR` (three-valued)"
    ),
    b!(
        "sql_not",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `NOT` (three-valued)"
    ),
    b!(
        "sql_true",
        [],
        Predicate,
        ONE,
        false,
        true,
        "the value is TRUE in SQL's sense (a WHERE filter)"
    ),
    b!(
        "sql_is_null",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `IS NULL`"
    ),
    b!(
        "sql_not_null",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `IS NOT NULL`"
    ),
    b!(
        "sql_like",
        [],
        Function,
        Arity::between(2, 3),
        false,
        true,
        "SQL `LIKE` (value, pattern, optional escape)"
    ),
    b!("sql_concat", [], Function, TWO, false, true, "SQL `||`"),
    b!(
        "sql_case",
        [],
        Function,
        Arity::at_least(1),
        false,
        true,
        "searched CASE: condition, value pairs, optional ELSE"
    ),
    b!(
        "sql_case_eq",
        [],
        Function,
        Arity::at_least(1),
        false,
        true,
        "simple CASE: operand, then WHEN, THEN pairs, optional ELSE"
    ),
    b!(
        "sql_coalesce",
        [],
        Function,
        Arity::at_least(1),
        false,
        true,
        "first non-NULL argument"
    ),
    b!(
        "sql_nullif",
        [],
        Function,
        TWO,
        false,
        true,
        "NULL when the arguments are equal, else the first"
    ),
    b!(
        "sql_ifnull",
        [],
        Function,
        TWO,
        false,
        true,
        "first non-NULL of two"
    ),
    b!("sql_abs", [], Function, ONE, false, true, "SQL `abs`"),
    b!(
        "sql_bitnot",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `~`: bitwise NOT of an integer"
    ),
    b!(
        "sql_bitand",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `&`: bitwise AND"
    ),
    b!(
        "sql_bitor",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `|`: bitwise OR"
    ),
    b!(
        "sql_shl",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `<<`: shift left (a negative shift shifts right)"
    ),
    b!(
        "sql_shr",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `>>`: arithmetic shift right (a negative shift shifts left)"
    ),
    b!(
        "sql_tuple",
        [],
        Function,
        ANY,
        false,
        true,
        "The tuple of its arguments (a row's identities and values, for `group_concat`)"
    ),
    b!(
        "sql_num_aff",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL numeric affinity: text that is a whole number becomes that number"
    ),
    b!(
        "sql_text_aff",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL text affinity: a number becomes its text"
    ),
    b!(
        "sql_upper",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `upper` (ASCII)"
    ),
    b!(
        "sql_lower",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `lower` (ASCII)"
    ),
    b!(
        "sql_length",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `length`: characters of text, bytes of a blob"
    ),
    b!(
        "sql_substr",
        [],
        Function,
        Arity::between(2, 3),
        false,
        true,
        "SQL `substr` with 1-based, possibly negative positions"
    ),
    b!(
        "sql_trim",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `trim` of spaces"
    ),
    b!(
        "sql_ltrim",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `ltrim` of spaces"
    ),
    b!(
        "sql_rtrim",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `rtrim` of spaces"
    ),
    b!(
        "sql_round",
        [],
        Function,
        Arity::between(1, 2),
        false,
        true,
        "SQL `round` to n decimal places, a double"
    ),
    b!(
        "sql_typeof",
        [],
        Function,
        ONE,
        false,
        true,
        "SQL `typeof`: null, integer, real, text or blob"
    ),
    b!(
        "sql_cast",
        [],
        Function,
        TWO,
        false,
        true,
        "SQL `CAST` to INTEGER, REAL, TEXT, NUMERIC or BOOLEAN"
    ),
    b!(
        "sql_count",
        [],
        Aggregate,
        ONE,
        false,
        true,
        "SQL `count`: number of non-NULL values"
    ),
    b!(
        "sql_group_concat",
        [],
        Aggregate,
        ONE,
        false,
        true,
        "SQL `group_concat` of (row…, value, separator) tuples, in row order"
    ),
    b!(
        "sql_group_concat_distinct",
        [],
        Aggregate,
        ONE,
        false,
        true,
        "SQL `group_concat(DISTINCT x)` of (row…, value, separator) tuples"
    ),
    b!(
        "sql_sum",
        [],
        Aggregate,
        ONE,
        false,
        true,
        "SQL `sum`: NULL when there is no non-NULL value"
    ),
    b!(
        "sql_total",
        [],
        Aggregate,
        ONE,
        false,
        true,
        "SQL `total`: sum as a double, 0.0 when empty"
    ),
    b!(
        "sql_avg",
        [],
        Aggregate,
        ONE,
        false,
        true,
        "SQL `avg`: mean of non-NULL values, a double"
    ),
    b!(
        "sql_min",
        [],
        Aggregate,
        ONE,
        false,
        true,
        "SQL `min` in SQLite's cross-type order"
    ),
    b!(
        "sql_max",
        [],
        Aggregate,
        ONE,
        false,
        true,
        "SQL `max` in SQLite's cross-type order"
    ),
];

/// Every built-in, in table order.
pub fn builtins() -> &'static [Builtin] {
    BUILTINS
}

/// The built-in of a kind with a canonical name. Function `min`/`max` and aggregate
/// `min`/`max` share a name, hence the kind.
pub fn builtin(name: &str, kind: Kind) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name && b.kind == kind)
}

/// Resolves an EDN spelling. Predicates and functions share one namespace (a predicate clause
/// may call a function, as in Datomic); aggregates have their own.
pub fn builtin_by_edn_name(name: &str, aggregate: bool) -> Option<&'static Builtin> {
    BUILTINS
        .iter()
        .find(|b| (b.kind == Kind::Aggregate) == aggregate && b.edn_names.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn canonical_names_are_unique_per_namespace() {
        let mut seen = BTreeSet::new();
        for b in builtins() {
            assert!(
                seen.insert((b.name, b.kind == Kind::Aggregate)),
                "duplicate {}",
                b.name
            );
            assert!(
                b.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                b.name
            );
        }
    }

    #[test]
    fn edn_aliases_resolve_to_one_builtin() {
        let mut seen = BTreeSet::new();
        for b in builtins() {
            for n in b.edn_names {
                assert!(
                    seen.insert((*n, b.kind == Kind::Aggregate)),
                    "alias {n} is ambiguous"
                );
            }
        }
        assert_eq!(
            builtin_by_edn_name("clojure.string/starts-with?", false)
                .unwrap()
                .name,
            "starts_with"
        );
        assert_eq!(builtin_by_edn_name("count", true).unwrap().name, "count");
        assert_eq!(
            builtin_by_edn_name("count", false).unwrap().name,
            "count_str"
        );
        assert!(builtin_by_edn_name("no-such-fn", false).is_none());
    }

    #[test]
    fn arity_checks() {
        assert!(Arity::between(2, 3).accepts(3));
        assert!(!Arity::exactly(1).accepts(2));
        assert!(Arity::at_least(1).accepts(9));
        assert_eq!(Arity::between(1, 2).to_string(), "1 to 2");
    }
}
