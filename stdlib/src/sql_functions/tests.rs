use super::*;
use crate::test_support::{check_call as check, parse, show};

/// Runs aggregate `name` over the value literals in `values`; prints as `check` does.
#[track_caller]
fn check_agg(name: &str, values: &str, expected: &str) {
    let got = show(crate::aggregate(name, &[], parse(values)).map(Some));
    if let Some(msg) = expected.strip_prefix("error: ") {
        assert!(
            got.starts_with("error: ") && got.contains(msg),
            "{name} over {values}: got {got}, expected an error containing {msg:?}"
        );
    } else {
        assert_eq!(got, expected, "{name} over {values}");
    }
}

/// Calls `name` on values built in Rust (for blobs and NaN, which have no literal).
fn call_with(name: &str, args: &[Value]) -> String {
    show(crate::call(name, args))
}

#[test]
fn integer_arithmetic_stays_integer() {
    check("sql_add", "2 3", "5");
    check("sql_sub", "2 3", "-1");
    check("sql_mul", "4 -3", "-12");
    check("sql_add", "true 1", "2");
    check("sql_mul", "false 7", "0");
}

#[test]
fn a_double_makes_arithmetic_double() {
    check("sql_add", "1 0.5", "1.5");
    check("sql_sub", "1.5 1", "0.5");
    check("sql_mul", "2 1.5", "3.0");
}

#[test]
fn integer_overflow_becomes_a_double() {
    check("sql_add", "9223372036854775807 1", "9.223372036854776e18");
    check("sql_sub", "-9223372036854775808 1", "-9.223372036854776e18");
    check("sql_mul", "9223372036854775807 2", "1.8446744073709552e19");
    check("sql_neg", "-9223372036854775808", "9.223372036854776e18");
    check("sql_div", "-9223372036854775808 -1", "9.223372036854776e18");
}

#[test]
fn arithmetic_propagates_null() {
    check("sql_add", "nil 1", "nil");
    check("sql_sub", "1 nil", "nil");
    check("sql_mul", "nil nil", "nil");
    check("sql_div", "nil 0", "nil");
    check("sql_mod", "1 nil", "nil");
    check("sql_neg", "nil", "nil");
    check("sql_add", "nil \"a\"", "nil");
}

#[test]
fn arithmetic_reads_text_by_its_numeric_prefix_and_other_kinds_are_errors() {
    check("sql_add", "\"1\" 1", "2");
    check("sql_add", "\"12abc\" 0", "12");
    check("sql_add", "\" 12 \" 0", "12");
    check("sql_add", "\"1.5x\" 0", "1.5");
    check("sql_add", "\"12.0\" 0", "12.0");
    check("sql_add", "\"1e3\" 0", "1000.0");
    check(
        "sql_add",
        "\"9223372036854775808\" 0",
        "9.223372036854776e18",
    );
    check("sql_neg", "\"a\"", "0");
    check("sql_neg", "\"5\"", "-5");
    check("sql_mul", ":a 1", "error: expects an SQL value");
    check("sql_add", "[1] 1", "error: expects an SQL value");
    assert_eq!(
        call_with("sql_add", &[Value::Bytes(b"12".to_vec()), Value::Int(1)]),
        "13"
    );
}

#[test]
fn affinity_conversions() {
    check("sql_num_aff", "\" 12 \"", "12");
    check("sql_num_aff", "\"12.0\"", "12.0");
    check("sql_num_aff", "\"1.2e1\"", "12.0");
    check("sql_num_aff", "\"12abc\"", "\"12abc\"");
    check("sql_num_aff", "\"0x0c\"", "\"0x0c\"");
    check("sql_num_aff", "\"\"", "\"\"");
    check("sql_num_aff", "\"-\"", "\"-\"");
    check("sql_num_aff", "\"1.\"", "1.0");
    check("sql_num_aff", "\"1e\"", "\"1e\"");
    check("sql_num_aff", "7", "7");
    check("sql_num_aff", "nil", "nil");
    check("sql_text_aff", "12", "\"12\"");
    check("sql_text_aff", "12.0", "\"12.0\"");
    check("sql_text_aff", "\"x\"", "\"x\"");
    check("sql_text_aff", "nil", "nil");
}

#[test]
fn nan_results_are_null() {
    check("sql_sub", "1e308 -1e308", "##Inf");
    let inf = Value::Float(f64::INFINITY);
    assert_eq!(call_with("sql_sub", &[inf.clone(), inf.clone()]), "nil");
    assert_eq!(call_with("sql_mul", &[inf, Value::Int(0)]), "nil");
    assert_eq!(
        call_with("sql_typeof", &[Value::Float(f64::NAN)]),
        "\"null\""
    );
}

#[test]
fn integer_division_truncates_toward_zero() {
    check("sql_div", "7 2", "3");
    check("sql_div", "-7 2", "-3");
    check("sql_div", "7 -2", "-3");
    check("sql_div", "7.0 2", "3.5");
    check("sql_div", "1 4.0", "0.25");
}

#[test]
fn division_by_zero_is_null() {
    check("sql_div", "1 0", "nil");
    check("sql_div", "1 0.0", "nil");
    check("sql_div", "1.5 0", "nil");
    check("sql_div", "1 -0.0", "nil");
    check("sql_div", "0 0", "nil");
}

#[test]
fn remainder_has_the_sign_of_the_dividend() {
    check("sql_mod", "7 3", "1");
    check("sql_mod", "-7 3", "-1");
    check("sql_mod", "7 -3", "1");
    check("sql_mod", "-9223372036854775808 -1", "0");
    check(
        "sql_mod",
        "9223372036854775807 -9223372036854775808",
        "9223372036854775807",
    );
}

#[test]
fn remainder_of_doubles_is_of_their_integer_parts() {
    check("sql_mod", "7.5 2", "1.0");
    check("sql_mod", "7 2.9", "1.0");
    check("sql_mod", "-7.5 2", "-1.0");
    check("sql_mod", "5 0.5", "nil");
    check("sql_mod", "5 0", "nil");
}

#[test]
fn negation() {
    check("sql_neg", "5", "-5");
    check("sql_neg", "-2.5", "2.5");
    check("sql_neg", "true", "-1");
}

#[test]
fn numbers_compare_by_value_across_kinds() {
    check("sql_eq", "1 1.0", "true");
    check("sql_eq", "true 1", "true");
    check("sql_ne", "1 1.5", "true");
    check("sql_lt", "1 1.5", "true");
    check("sql_le", "2 2.0", "true");
    check("sql_gt", "9007199254740993 9007199254740992.0", "true");
    check("sql_ge", "-1 false", "false");
}

#[test]
fn text_compares_bytewise() {
    check("sql_lt", "\"B\" \"a\"", "true");
    check("sql_eq", "\"a\" \"A\"", "false");
    check("sql_gt", "\"ab\" \"a\"", "true");
    check("sql_eq", "\"x\" \"x\"", "true");
}

#[test]
fn numbers_sort_before_text_and_text_before_blobs() {
    check("sql_lt", "1 \"a\"", "true");
    check("sql_lt", "999 \"1\"", "true");
    check("sql_eq", "1 \"1\"", "false");
    check("sql_gt", "\"a\" 1e300", "true");
    let blob = Value::Bytes(vec![0]);
    assert_eq!(
        call_with("sql_lt", &[Value::Str("z".into()), blob.clone()]),
        "true"
    );
    assert_eq!(call_with("sql_eq", &[blob.clone(), blob]), "true");
}

#[test]
fn comparison_with_null_is_null() {
    for op in ["sql_eq", "sql_ne", "sql_lt", "sql_le", "sql_gt", "sql_ge"] {
        check(op, "nil 1", "nil");
        check(op, "\"a\" nil", "nil");
        check(op, "nil nil", "nil");
    }
}

#[test]
fn comparing_non_sql_kinds_is_an_error() {
    check("sql_eq", ":a :a", "error: expects an SQL value");
    check("sql_lt", "1 [1]", "error: expects an SQL value");
}

#[test]
fn is_and_is_not_treat_null_as_a_value() {
    check("sql_is", "nil nil", "true");
    check("sql_is", "nil 1", "false");
    check("sql_is", "1 1.0", "true");
    check("sql_is", "1 2", "false");
    check("sql_is_not", "nil nil", "false");
    check("sql_is_not", "1 nil", "true");
    check("sql_is_not", "\"a\" \"a\"", "false");
}

#[test]
fn and_truth_table() {
    check("sql_and", "true true", "true");
    check("sql_and", "true false", "false");
    check("sql_and", "false nil", "false");
    check("sql_and", "nil false", "false");
    check("sql_and", "true nil", "nil");
    check("sql_and", "nil nil", "nil");
    check("sql_and", "1 2.5", "true");
    check("sql_and", "1 0.0", "false");
}

#[test]
fn or_truth_table() {
    check("sql_or", "false false", "false");
    check("sql_or", "false true", "true");
    check("sql_or", "nil true", "true");
    check("sql_or", "true nil", "true");
    check("sql_or", "false nil", "nil");
    check("sql_or", "nil nil", "nil");
    check("sql_or", "0 -3", "true");
}

#[test]
fn not_truth_table() {
    check("sql_not", "true", "false");
    check("sql_not", "false", "true");
    check("sql_not", "nil", "nil");
    check("sql_not", "0", "true");
    check("sql_not", "0.5", "false");
}

#[test]
fn text_is_true_when_it_starts_with_a_nonzero_number() {
    check("sql_true", "\"1abc\"", "true");
    check("sql_true", "\" 0.5\"", "true");
    check("sql_true", "\"abc\"", "false");
    check("sql_true", "\"0\"", "false");
    check("sql_true", "\"\"", "false");
    check("sql_not", "\"true\"", "true");
}

#[test]
fn sql_true_is_a_filter() {
    check("sql_true", "true", "true");
    check("sql_true", "false", "false");
    check("sql_true", "nil", "false");
    check("sql_true", "2", "true");
    check("sql_true", "0.0", "false");
    check("sql_true", ":a", "error: expects an SQL value");
}

#[test]
fn null_tests() {
    check("sql_is_null", "nil", "true");
    check("sql_is_null", "0", "false");
    check("sql_not_null", "nil", "false");
    check("sql_not_null", "\"\"", "true");
    check("sql_is_null", ":a", "false");
}

#[test]
fn like_wildcards() {
    check("sql_like", "\"hello\" \"h%\"", "true");
    check("sql_like", "\"hello\" \"%ll%\"", "true");
    check("sql_like", "\"hello\" \"h_llo\"", "true");
    check("sql_like", "\"hello\" \"h_lo\"", "false");
    check("sql_like", "\"hello\" \"%\"", "true");
    check("sql_like", "\"\" \"%\"", "true");
    check("sql_like", "\"\" \"_\"", "false");
    check("sql_like", "\"abcabd\" \"%ab_\"", "true");
    check("sql_like", "\"aXbXc\" \"a%b%c\"", "true");
    check("sql_like", "\"aXbXd\" \"a%b%c\"", "false");
}

#[test]
fn like_ignores_ascii_case_only() {
    check("sql_like", "\"Hello\" \"hELLO\"", "true");
    check("sql_like", "\"É\" \"é\"", "false");
    check("sql_like", "\"é\" \"_\"", "true");
}

#[test]
fn like_converts_numbers_and_propagates_null() {
    check("sql_like", "123 \"1%\"", "true");
    check("sql_like", "1.5 \"%.5\"", "true");
    check("sql_like", "nil \"%\"", "nil");
    check("sql_like", "\"a\" nil", "nil");
    check("sql_like", "\"a\" \"a\" nil", "nil");
}

#[test]
fn like_escape() {
    check("sql_like", "\"10%\" \"10!%\" \"!\"", "true");
    check("sql_like", "\"100\" \"10!%\" \"!\"", "false");
    check("sql_like", "\"a_b\" \"a!_b\" \"!\"", "true");
    check("sql_like", "\"axb\" \"a!_b\" \"!\"", "false");
    check("sql_like", "\"a\" \"a!\" \"!\"", "false");
    check("sql_like", "\"a%\" \"a%%\" \"%\"", "true");
    check("sql_like", "\"ab\" \"a%%\" \"%\"", "false");
    check("sql_like", "\"a\" \"a\" \"!!\"", "error: single character");
}

#[test]
fn concat_uses_text_forms() {
    check("sql_concat", "\"a\" \"b\"", "\"ab\"");
    check("sql_concat", "\"n=\" 42", "\"n=42\"");
    check("sql_concat", "1.0 \"\"", "\"1.0\"");
    check("sql_concat", "true \"\"", "\"1\"");
    check("sql_concat", "nil \"a\"", "nil");
    check("sql_concat", "\"a\" nil", "nil");
}

#[test]
fn doubles_print_like_sqlite() {
    let cases = [
        (1.0, "1.0"),
        (0.5, "0.5"),
        (-2.25, "-2.25"),
        (100.0, "100.0"),
        (0.1 + 0.2, "0.3"),
        (1e20, "1.0e+20"),
        (1.5e-7, "1.5e-07"),
        (1e100, "1.0e+100"),
        (123456789012345.0, "123456789012345.0"),
        (1e15, "1.0e+15"),
        (0.0001, "0.0001"),
        (0.00001, "1.0e-05"),
        (-0.0, "0.0"),
        (f64::INFINITY, "Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (std::f64::consts::PI, "3.14159265358979"),
    ];
    for (x, s) in cases {
        assert_eq!(format_real(x), s, "{x:?}");
    }
}

#[test]
fn searched_case() {
    check("sql_case", "false 1 true 2 3", "2");
    check("sql_case", "false 1 nil 2 3", "3");
    check("sql_case", "false 1 false 2", "nil");
    check("sql_case", "true 1 true 2", "1");
    check("sql_case", "\"x\"", "\"x\"");
    check("sql_case", "1 \"a\"", "\"a\"");
}

#[test]
fn simple_case() {
    check("sql_case_eq", "2 1 \"one\" 2 \"two\" \"many\"", "\"two\"");
    check("sql_case_eq", "3 1 \"one\" 2 \"two\" \"many\"", "\"many\"");
    check("sql_case_eq", "3 1 \"one\"", "nil");
    check("sql_case_eq", "2.0 2 \"two\"", "\"two\"");
    check("sql_case_eq", "nil nil \"null\" \"else\"", "\"else\"");
    check("sql_case_eq", "1", "nil");
}

#[test]
fn coalesce_nullif_ifnull() {
    check("sql_coalesce", "nil nil 3 4", "3");
    check("sql_coalesce", "nil", "nil");
    check("sql_coalesce", "false 1", "false");
    check("sql_nullif", "1 1.0", "nil");
    check("sql_nullif", "1 2", "1");
    check("sql_nullif", "nil 1", "nil");
    check("sql_nullif", "1 nil", "1");
    check("sql_ifnull", "nil \"d\"", "\"d\"");
    check("sql_ifnull", "0 \"d\"", "0");
}

#[test]
fn abs_of_numbers() {
    check("sql_abs", "-3", "3");
    check("sql_abs", "-2.5", "2.5");
    check("sql_abs", "nil", "nil");
    check("sql_abs", "-9223372036854775808", "error: integer overflow");
    check("sql_abs", "\"-1\"", "1.0");
    check("sql_abs", "\"x\"", "0.0");
}

#[test]
fn upper_and_lower_are_ascii_only() {
    check("sql_upper", "\"abc é\"", "\"ABC é\"");
    check("sql_lower", "\"ABC É\"", "\"abc É\"");
    check("sql_upper", "1.5", "\"1.5\"");
    check("sql_lower", "nil", "nil");
}

#[test]
fn length_counts_characters() {
    check("sql_length", "\"héllo\"", "5");
    check("sql_length", "\"\"", "0");
    check("sql_length", "12345", "5");
    check("sql_length", "1.0", "3");
    check("sql_length", "-7", "2");
    check("sql_length", "nil", "nil");
    assert_eq!(call_with("sql_length", &[Value::Str("a\0b".into())]), "1");
    assert_eq!(call_with("sql_length", &[Value::Bytes(vec![0, 1, 2])]), "3");
}

#[test]
fn substr_positive_positions() {
    check("sql_substr", "\"hello\" 2", "\"ello\"");
    check("sql_substr", "\"hello\" 2 3", "\"ell\"");
    check("sql_substr", "\"hello\" 1 100", "\"hello\"");
    check("sql_substr", "\"hello\" 6", "\"\"");
    check("sql_substr", "\"hello\" 9 2", "\"\"");
    check("sql_substr", "\"héllo\" 2 2", "\"él\"");
    check("sql_substr", "12345 2 2", "\"23\"");
}

#[test]
fn substr_zero_and_negative_positions() {
    check("sql_substr", "\"hello\" 0", "\"hello\"");
    check("sql_substr", "\"hello\" 0 2", "\"h\"");
    check("sql_substr", "\"hello\" -3", "\"llo\"");
    check("sql_substr", "\"hello\" -3 2", "\"ll\"");
    check("sql_substr", "\"hello\" -10 7", "\"he\"");
    check("sql_substr", "\"hello\" -10", "\"hello\"");
}

#[test]
fn substr_negative_lengths_take_before_the_start() {
    check("sql_substr", "\"hello\" 4 -2", "\"el\"");
    check("sql_substr", "\"hello\" 3 -5", "\"he\"");
    check("sql_substr", "\"hello\" -1 -2", "\"ll\"");
    check("sql_substr", "\"hello\" 2 0", "\"\"");
    check("sql_substr", "\"hello\" 2 -9223372036854775808", "\"h\"");
}

#[test]
fn substr_nulls_blobs_and_odd_arguments() {
    check("sql_substr", "nil 1", "nil");
    check("sql_substr", "\"a\" nil", "nil");
    check("sql_substr", "\"abc\" 1 nil", "nil");
    check("sql_substr", "\"hello\" 2.9 2", "\"el\"");
    check("sql_substr", "\"hello\" \"2\"", "\"ello\"");
    check(
        "sql_substr",
        "\"hello\" -9223372036854775808 9223372036854775807",
        "\"hell\"",
    );
    let blob = Value::Bytes(vec![1, 2, 3, 4]);
    assert_eq!(
        call_with("sql_substr", &[blob.clone(), Value::Int(2), Value::Int(2)]),
        call_with("identity", &[Value::Bytes(vec![2, 3])])
    );
    assert_eq!(
        call_with("sql_substr", &[blob, Value::Int(-1)]),
        call_with("identity", &[Value::Bytes(vec![4])])
    );
}

#[test]
fn trims_remove_spaces_only() {
    check("sql_trim", "\"  a b  \"", "\"a b\"");
    check("sql_ltrim", "\"  a  \"", "\"a  \"");
    check("sql_rtrim", "\"  a  \"", "\"  a\"");
    check("sql_trim", "\"\\ta\\t\"", "\"\\ta\\t\"");
    check("sql_trim", "5", "\"5\"");
    check("sql_trim", "nil", "nil");
}

#[test]
fn round_is_half_away_from_zero_and_a_double() {
    check("sql_round", "2.5", "3.0");
    check("sql_round", "-2.5", "-3.0");
    check("sql_round", "2.4", "2.0");
    check("sql_round", "7", "7.0");
    check("sql_round", "1234.5678 2", "1234.57");
    check("sql_round", "0.125 2", "0.13");
    check("sql_round", "-0.125 2", "-0.13");
    check("sql_round", "2.675 2", "2.68");
    check("sql_round", "1.5 -1", "2.0");
    check("sql_round", "0.0004 3", "0.0");
    check("sql_round", "0.0005 3", "0.001");
    check("sql_round", "0.3333333333 40", "0.3333333333");
    check(
        "sql_round",
        "12345678901234567890.5",
        "1.2345678901234567e19",
    );
    check("sql_round", "nil", "nil");
    check("sql_round", "1.5 nil", "nil");
    check("sql_round", "\"1.5\"", "2.0");
    check("sql_round", "\"abc\"", "0.0");
}

#[test]
fn typeof_names_the_storage_class() {
    check("sql_typeof", "nil", "\"null\"");
    check("sql_typeof", "1", "\"integer\"");
    check("sql_typeof", "true", "\"integer\"");
    check("sql_typeof", "1.0", "\"real\"");
    check("sql_typeof", "\"1\"", "\"text\"");
    assert_eq!(call_with("sql_typeof", &[Value::Bytes(vec![])]), "\"blob\"");
    check("sql_typeof", ":a", "error: expects an SQL value");
}

#[test]
fn cast_to_integer() {
    check("sql_cast", "3.9 \"INTEGER\"", "3");
    check("sql_cast", "-3.9 \"integer\"", "-3");
    check("sql_cast", "1e300 \"INTEGER\"", "9223372036854775807");
    check("sql_cast", "\"  42abc\" \"INTEGER\"", "42");
    check("sql_cast", "\"-17\" \"INTEGER\"", "-17");
    check("sql_cast", "\"1e3\" \"INTEGER\"", "1");
    check("sql_cast", "\"3.7\" \"INTEGER\"", "3");
    check("sql_cast", "\"\" \"INTEGER\"", "0");
    check("sql_cast", "\"abc\" \"INTEGER\"", "0");
    check(
        "sql_cast",
        "\"99999999999999999999\" \"INTEGER\"",
        "9223372036854775807",
    );
    check(
        "sql_cast",
        "\"-99999999999999999999\" \"INTEGER\"",
        "-9223372036854775808",
    );
    check("sql_cast", "true \"INTEGER\"", "1");
}

#[test]
fn cast_to_real() {
    check("sql_cast", "3 \"REAL\"", "3.0");
    check("sql_cast", "\"1.5e2xyz\" \"REAL\"", "150.0");
    check("sql_cast", "\".5\" \"REAL\"", "0.5");
    check("sql_cast", "\"5.\" \"REAL\"", "5.0");
    check("sql_cast", "\"-\" \"REAL\"", "0.0");
    check("sql_cast", "\"1e\" \"REAL\"", "1.0");
    check("sql_cast", "\"\" \"REAL\"", "0.0");
    check("sql_cast", "\"-1e999\" \"REAL\"", "##-Inf");
}

#[test]
fn cast_to_text() {
    check("sql_cast", "12 \"TEXT\"", "\"12\"");
    check("sql_cast", "1.0 \"TEXT\"", "\"1.0\"");
    check("sql_cast", "1e20 \"TEXT\"", "\"1.0e+20\"");
    check("sql_cast", "\"a\" \"text\"", "\"a\"");
    assert_eq!(
        call_with(
            "sql_cast",
            &[Value::Bytes(b"hi".to_vec()), Value::Str("TEXT".into())]
        ),
        "\"hi\""
    );
}

#[test]
fn cast_to_numeric() {
    check("sql_cast", "\"42\" \"NUMERIC\"", "42");
    check("sql_cast", "\"3.0\" \"NUMERIC\"", "3");
    check("sql_cast", "\"-5.25e+2\" \"NUMERIC\"", "-525");
    check("sql_cast", "\"3.5\" \"NUMERIC\"", "3.5");
    check("sql_cast", "\"12abc\" \"NUMERIC\"", "12");
    check("sql_cast", "\"abc\" \"NUMERIC\"", "0");
    check(
        "sql_cast",
        "\"9223372036854775808\" \"NUMERIC\"",
        "9.223372036854776e18",
    );
    check(
        "sql_cast",
        "\"9223372036854775807\" \"NUMERIC\"",
        "9223372036854775807",
    );
    check("sql_cast", "4.0 \"NUMERIC\"", "4.0");
    check("sql_cast", "7 \"NUMERIC\"", "7");
}

#[test]
fn cast_to_boolean_and_null() {
    check("sql_cast", "2 \"BOOLEAN\"", "true");
    check("sql_cast", "0.0 \"BOOLEAN\"", "false");
    check("sql_cast", "\"abc\" \"BOOLEAN\"", "false");
    check("sql_cast", "\"1x\" \"BOOLEAN\"", "true");
    check("sql_cast", "nil \"BOOLEAN\"", "nil");
    check("sql_cast", "nil \"INTEGER\"", "nil");
    check("sql_cast", "nil \"TEXT\"", "nil");
}

#[test]
fn cast_to_an_unknown_type_is_an_error() {
    check("sql_cast", "1 \"BLOB\"", "error: cannot cast to BLOB");
    check(
        "sql_cast",
        "nil \"VARCHAR\"",
        "error: cannot cast to VARCHAR",
    );
    check("sql_cast", "1 1", "error: expects a type name");
    check("sql_cast", ":a \"TEXT\"", "error: expects an SQL value");
}

#[test]
fn count_skips_nulls() {
    check_agg("sql_count", "1 nil 2.5 \"a\" false", "4");
    check_agg("sql_count", "nil nil", "0");
    check_agg("sql_count", "", "0");
}

#[test]
fn sum_of_integers_is_an_integer() {
    check_agg("sql_sum", "1 2 nil 3", "6");
    check_agg("sql_sum", "true true 1", "3");
    check_agg("sql_sum", "9223372036854775807 1 -1", "9223372036854775807");
}

#[test]
fn sum_with_a_double_is_a_double() {
    check_agg("sql_sum", "1 2.5 nil", "3.5");
    check_agg("sql_sum", "0.1 0.2 0.3", "0.6");
    check_agg("sql_sum", "1e100 1.0 -1e100", "1.0");
}

#[test]
fn sum_of_nothing_is_null() {
    check_agg("sql_sum", "", "nil");
    check_agg("sql_sum", "nil nil", "nil");
}

#[test]
fn sum_errors() {
    check_agg(
        "sql_sum",
        "9223372036854775807 1",
        "error: integer overflow",
    );
    check_agg("sql_sum", "1 :a", "error: expects an SQL value");
}

#[test]
fn sum_of_text_follows_sqlite() {
    // A text that is a whole integer adds exactly; any other text makes the sum a double.
    check_agg("sql_sum", "\"12\" 3", "15");
    check_agg("sql_sum", "\"12\" \"12abc\" \"abc\" 3", "27.0");
    check_agg("sql_avg", "\"12\" \"12abc\" \"abc\" 3", "6.75");
    check_agg("sql_sum", "1 :a", "error: expects an SQL value");
}

#[test]
fn total_is_always_a_double() {
    check_agg("sql_total", "1 2 nil", "3.0");
    check_agg("sql_total", "", "0.0");
    check_agg("sql_total", "nil", "0.0");
    check_agg("sql_total", "9223372036854775807 1", "9.223372036854776e18");
    check_agg("sql_total", "1.5 1", "2.5");
}

#[test]
fn avg_is_a_double_mean_of_non_nulls() {
    check_agg("sql_avg", "1 2 nil", "1.5");
    check_agg("sql_avg", "2 4", "3.0");
    check_agg("sql_avg", "1.0 2 nil 6", "3.0");
    check_agg(
        "sql_avg",
        "9223372036854775807 9223372036854775807",
        "9.223372036854776e18",
    );
    check_agg("sql_avg", "", "nil");
    check_agg("sql_avg", "nil nil", "nil");
}

#[test]
fn min_and_max_use_the_cross_type_order() {
    check_agg("sql_min", "3 nil 1.5 \"a\"", "1.5");
    check_agg("sql_max", "3 nil 1.5 \"a\"", "\"a\"");
    check_agg("sql_max", "\"B\" \"a\"", "\"a\"");
    check_agg("sql_min", "2 2.0", "2");
    check_agg("sql_max", "2.0 2", "2.0");
    check_agg("sql_min", "true 5", "true");
}

#[test]
fn min_and_max_of_nothing_are_null() {
    check_agg("sql_min", "", "nil");
    check_agg("sql_max", "nil nil", "nil");
    check_agg("sql_max", "1 :a", "error: expects an SQL value");
    check_agg("sql_min", ":a", "error: expects an SQL value");
}

#[test]
fn sql_aggregates_take_no_parameters() {
    let r = crate::aggregate("sql_sum", &[Value::Int(1)], vec![]);
    assert!(r.is_err_and(|e| e.message.contains("takes 1 argument(s)")));
}

/// Every `sql_*` built-in, on every combination of awkward arguments its arity allows (up
/// to three), answers or fails without panicking.
#[test]
fn no_sql_builtin_panics() {
    let samples: Vec<Value> = vec![
        Value::Nil,
        Value::Bool(true),
        Value::Int(0),
        Value::Int(-1),
        Value::Int(i64::MIN),
        Value::Int(i64::MAX),
        Value::Float(-0.0),
        Value::Float(0.5),
        Value::Float(-1e300),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NAN),
        Value::Str(String::new()),
        Value::Str(" -12.5e3xé%_".into()),
        Value::Str("INTEGER".into()),
        Value::Str("numeric".into()),
        Value::Str("%".into()),
        Value::Bytes(vec![0xff, b'1']),
        Value::Ref(u64::MAX),
        Value::Keyword("k".into()),
        Value::Tuple(vec![Value::Int(1)]),
    ];
    for b in crate::builtins()
        .iter()
        .filter(|b| b.name.starts_with("sql_"))
    {
        if b.kind == crate::Kind::Aggregate {
            for x in &samples {
                for y in &samples {
                    let _ = crate::aggregate(b.name, &[], vec![x.clone(), y.clone()]);
                }
            }
            continue;
        }
        let max = b.arity.max.unwrap_or(3).min(3);
        for n in b.arity.min..=max {
            let mut idx = vec![0; n];
            loop {
                let args: Vec<Value> = idx.iter().map(|&i| samples[i].clone()).collect();
                let _ = crate::call(b.name, &args);
                // The next combination, as an odometer over the samples.
                let Some(k) = idx.iter().rposition(|&i| i + 1 < samples.len()) else {
                    break;
                };
                idx[k] += 1;
                idx[k + 1..].iter_mut().for_each(|i| *i = 0);
            }
        }
    }
}

#[test]
fn text_prefix_readers() {
    assert_eq!(real_prefix(b"  -1.5e3x"), (-1500.0, false));
    assert_eq!(real_prefix(b"12abc"), (12.0, true));
    assert_eq!(real_prefix(b"."), (0.0, true));
    assert_eq!(real_prefix(b"+.5"), (0.5, false));
    assert_eq!(int_prefix(b"\t+007x"), (7, false));
    assert_eq!(int_prefix(b"-"), (0, false));
    assert_eq!(int_prefix(b"9223372036854775808"), (i64::MAX, true));
    assert_eq!(int_prefix(b"-9223372036854775808"), (i64::MIN, false));
}
