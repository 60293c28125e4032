//! What the benchmarks that compare pomo with the peer programs (datafrog, the hand-written
//! kernels, the differential-dataflow program; see `benches/README.md`) share: the workloads'
//! PomoLogic programs, the data files ([`data`], generated when missing) and the median the
//! peers report.

pub mod data;

use std::path::Path;

/// Transitive closure (workloads 1a, 1b, 5).
pub const TC: &str = ".decl edge(from, to)\n\
    path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\n\
    path(from: ?x, to: ?z) :- path(from: ?x, to: ?y), edge(from: ?y, to: ?z).\n";

/// Same-generation (workload 2).
pub const SG: &str = ".decl par(child, parent)\n\
    sg(x: ?x, y: ?y) :- par(child: ?x, parent: ?p), par(child: ?y, parent: ?p), ?x != ?y.\n\
    sg(x: ?x, y: ?y) :- par(child: ?x, parent: ?a), sg(x: ?a, y: ?b), par(child: ?y, parent: ?b).\n";

/// Writes the benchmark data into `dir` unless it is there.
pub fn ensure_data(dir: &Path) {
    if dir.join("sizes.json").exists() {
        return;
    }
    data::generate(dir);
}

/// The tab-separated rows of a data file.
pub fn read_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

/// The first two columns of a data file, as integers.
pub fn read_pairs(path: &Path) -> Vec<(i64, i64)> {
    read_rows(path)
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap()))
        .collect()
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
