//! Keeps the README true: every built-in the stdlib knows is listed in its table, under its
//! EDN spellings and its canonical name.

#[test]
fn readme_lists_every_builtin() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for b in pomo::stdlib::builtins() {
        assert!(
            readme.contains(&format!("`{}`", b.name)),
            "README does not list `{}`",
            b.name
        );
        for n in b.edn_names {
            assert!(
                readme.contains(&format!("`{n}`")),
                "README does not list `{n}`"
            );
        }
    }
}
