//! Compiled artifacts of every corpus query (EDN, PomoLogic, SQL): the same source gives the
//! same bytes and CID, the file reads back to the same plans, and a truncated or edited file
//! is refused.

use pomo::runtime::artifact::Artifact;
use pomo::{Input, Options};
use std::path::Path;

fn corpus() -> Vec<std::path::PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/queries"));
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_str().unwrap().ends_with(".rules.edn"))
        .collect();
    v.sort();
    v
}

fn artifact(path: &Path) -> Artifact {
    let text = std::fs::read_to_string(path).unwrap();
    let rules = std::fs::read_to_string(path.with_file_name(format!(
        "{}.rules.edn",
        path.file_stem().unwrap().to_str().unwrap()
    )))
    .ok();
    let catalog = pomo::compiler::sql::Catalog::default();
    let input = match path.extension().and_then(|e| e.to_str()) {
        Some("pomo") => Input::Logic(&text),
        Some("sql") => Input::Sql {
            text: &text,
            catalog: &catalog,
        },
        _ => Input::Edn {
            query: &text,
            rules: rules.as_deref(),
        },
    };
    pomo::query::prepare(&input, &Options::default())
        .unwrap_or_else(|d| panic!("{}: {d:?}", path.display()))
        .artifact()
}

#[test]
fn every_corpus_query_compiles_to_a_stable_artifact_that_reads_back() {
    let mut n = 0;
    for path in corpus() {
        let a = artifact(&path);
        let (cid, bytes) = a
            .to_file_bytes()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Compiling the same file again gives the same CID and bytes.
        let (cid2, bytes2) = artifact(&path).to_file_bytes().unwrap();
        assert_eq!(
            cid,
            cid2,
            "{}: the CID changed between compilations",
            path.display()
        );
        assert_eq!(bytes, bytes2);
        let (back, cid3) =
            Artifact::from_file_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(cid3, cid);
        assert_eq!(
            back,
            a,
            "{}: the artifact does not read back",
            path.display()
        );
        n += 1;
    }
    assert!(n > 150, "only {n} artifacts");
}

#[test]
fn a_truncated_or_edited_artifact_is_refused() {
    let path = corpus()
        .into_iter()
        .find(|p| p.ends_with("rec-transitive.edn") || p.to_str().unwrap().contains("rec-"))
        .unwrap();
    let (_, bytes) = artifact(&path).to_file_bytes().unwrap();
    for cut in [1, bytes.len() / 3, bytes.len() - 1] {
        let e = Artifact::from_file_bytes(&bytes[..cut]).unwrap_err();
        assert!(e.message.starts_with("not a valid artifact file"), "{e}");
    }
    // Every single-byte edit of the block is caught (the CID check, or the framing).
    let mut caught = 0;
    for i in (bytes.len() / 2..bytes.len()).step_by(7) {
        let mut edited = bytes.clone();
        edited[i] ^= 0x20;
        assert!(
            Artifact::from_file_bytes(&edited).is_err(),
            "edit at {i} not caught"
        );
        caught += 1;
    }
    assert!(caught > 10);
}
