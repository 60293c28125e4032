//! The library an app embeds carries no command line and no test harness: its normal
//! dependency tree has none of the CLI's crates (they belong to `pomo-cli`).

use std::process::Command;

#[test]
fn the_library_has_no_command_line_dependencies() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            "pomo",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("pomo-runtime"), "{tree}");
    for banned in [
        "clap",
        "rustyline",
        "indicatif",
        "sqllogictest",
        "csv",
        "pomo-cli",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(&format!("{banned} "))),
            "{banned} is in the library's tree:\n{tree}"
        );
    }
}
