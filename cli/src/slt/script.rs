//! SQLite's sqllogictest format, read as SQLite's runner reads it, rewritten into the text the
//! `sqllogictest` crate parses, line for line (so every record keeps its line number).
//!
//! Two things differ. SQLite's runner ends a line's tokens at `#`, so a header line may carry a
//! comment (`onlyif mysql # DIV for integer division`); the crate refuses such a line, so the
//! comment is cut from every header line (the conditions and the record's first line, never
//! from SQL or results). And in SQLite's runner the conditions before `halt` decide whether that
//! `halt` ends the file (`skipif sqlite` + `halt` stops the other engines only), where the crate
//! keeps the conditions for the next statement and ignores `halt`; here a `halt` that applies
//! cuts the file there, and one that does not becomes a comment together with its conditions.
//! A record's conditions are its lines before its first line: a blank line ends a record.

/// Whether a record with `conditions` (`onlyif X` / `skipif X` lines, comments cut) runs for
/// an engine claiming `labels` (the engine's name among them). Labels compare ignoring ASCII
/// case, as SQLite's runner compares engine names.
pub fn runs_for(conditions: &[(bool, &str)], labels: &[String]) -> bool {
    conditions.iter().all(|(only_if, label)| {
        let claimed = labels.iter().any(|l| l.eq_ignore_ascii_case(label));
        claimed == *only_if
    })
}

/// The script with comments cut from header lines and every `halt` settled for `labels`.
pub fn prepare(script: &str, labels: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    // Where the current record's condition lines start in `out`, with each condition.
    let mut conditions: Vec<(usize, bool, String)> = Vec::new();
    let mut in_record_body = false;
    for line in script.lines() {
        if line.trim().is_empty() {
            in_record_body = false;
            conditions.clear();
            out.push(line.to_string());
            continue;
        }
        if in_record_body || line.starts_with('#') {
            out.push(line.to_string());
            continue;
        }
        let header = line.split('#').next().unwrap_or("").trim_end();
        let tokens: Vec<&str> = header.split_whitespace().collect();
        match tokens.as_slice() {
            [keyword @ ("onlyif" | "skipif"), label, ..] => {
                conditions.push((out.len(), *keyword == "onlyif", label.to_string()));
                out.push(format!("{keyword} {label}"));
            }
            ["halt", ..] => {
                let list: Vec<(bool, &str)> = conditions
                    .iter()
                    .map(|(_, o, l)| (*o, l.as_str()))
                    .collect();
                if runs_for(&list, labels) {
                    // The rest of the file is not read, as SQLite's runner stops here; the
                    // conditions go too, so that the crate does not keep them for nothing.
                    if let Some((first, _, _)) = conditions.first() {
                        out.truncate(*first);
                    }
                    break;
                }
                for (at, _, _) in &conditions {
                    out[*at] = format!("# (not for this engine) {}", out[*at]);
                }
                conditions.clear();
                out.push("# (not for this engine) halt".into());
            }
            _ => {
                in_record_body = true;
                out.push(header.to_string());
            }
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prepares `script` for an engine claiming `labels` (beside `pomo`).
    fn check(script: &str, labels: &[&str], expected: &str) {
        let mut claimed: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        claimed.push("pomo".into());
        assert_eq!(prepare(script, &claimed), expected);
    }

    #[test]
    fn comments_after_conditions_are_cut() {
        check(
            "onlyif mysql # DIV for integer division: \nquery I rowsort label-1\nSELECT 1\n----\n1\n",
            &[],
            "onlyif mysql\nquery I rowsort label-1\nSELECT 1\n----\n1\n",
        );
    }

    #[test]
    fn a_comment_after_a_record_line_is_cut() {
        check(
            "statement ok # a comment\nCREATE TABLE t(a INTEGER)\n",
            &[],
            "statement ok\nCREATE TABLE t(a INTEGER)\n",
        );
    }

    #[test]
    fn sql_and_results_keep_their_hashes() {
        check(
            "query T nosort\nSELECT '#x' # not a comment for the runner\n----\n#x\n",
            &[],
            "query T nosort\nSELECT '#x' # not a comment for the runner\n----\n#x\n",
        );
    }

    #[test]
    fn trailing_blanks_after_a_condition_are_dropped() {
        check(
            "onlyif mssql \nstatement ok\nX\n",
            &[],
            "onlyif mssql\nstatement ok\nX\n",
        );
    }

    #[test]
    fn a_halt_for_another_engine_becomes_a_comment() {
        check(
            "# skip if ms sql server\nonlyif mssql\nhalt\n\nstatement ok\nX\n",
            &["sqlite"],
            "# skip if ms sql server\n# (not for this engine) onlyif mssql\n# (not for this engine) halt\n\nstatement ok\nX\n",
        );
    }

    #[test]
    fn skipif_sqlite_halt_stops_only_engines_not_claiming_sqlite() {
        let script = "skipif sqlite\nhalt\n\nstatement ok\nX\n";
        check(
            script,
            &["sqlite"],
            "# (not for this engine) skipif sqlite\n# (not for this engine) halt\n\nstatement ok\nX\n",
        );
        check(script, &[], "\n");
    }

    #[test]
    fn a_halt_without_conditions_ends_the_file() {
        check(
            "statement ok\nX\n\nhalt\n\nstatement ok\nY\n",
            &[],
            "statement ok\nX\n\n",
        );
    }

    #[test]
    fn the_engine_name_is_a_label() {
        check("onlyif pomo\nhalt\n\nstatement ok\nX\n", &[], "\n");
    }

    #[test]
    fn labels_compare_ignoring_case() {
        assert!(runs_for(&[(true, "SQLite")], &["sqlite".into()]));
        assert!(!runs_for(&[(false, "SQLITE")], &["sqlite".into()]));
    }

    #[test]
    fn every_condition_must_hold() {
        let labels = vec!["sqlite".to_string()];
        assert!(runs_for(&[(true, "sqlite"), (false, "mysql")], &labels));
        assert!(!runs_for(&[(true, "sqlite"), (true, "mysql")], &labels));
        assert!(runs_for(&[], &labels));
    }
}
