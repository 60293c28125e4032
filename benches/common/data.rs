//! The benchmark data: the files the peer programs and pomo's benches read, generated from
//! fixed seeds so that every program reads byte-identical files.
//!
//! The random draws are those of CPython's `random.Random(seed)` (MT19937 seeded by
//! `init_by_array([seed])`, `randrange(n)` by rejection on `getrandbits(bit_length(n))`,
//! `choice` through `randrange`), so the files are the same as those the benchmark kit's
//! original generator writes and the peers' published figures were measured on.
//!
//! Files (tab-separated, one fact a line), by workload:
//! - `tc_rand.tsv` random directed graph (2,500 nodes, 5,000 edges), with `_add`/`_del`
//!   variants and `.incr` (the edge added and the edge deleted); `tc_rand_tiny*` the same on 50
//!   nodes; `tc_chain.tsv` the chain 0 → … → 1999 (and `_add`, `_del`, `.incr`, `_tiny`);
//! - `sg_tree.tsv`, `sg_tree_small.tsv` random recursive forests (child, parent);
//! - `eav_person.tsv` (e, name, age) and `eav_friend.tsv` (e, friend);
//! - `ds_people.tsv` (e, name, last name, sex, age, salary), DataScript's benchmark shape, and
//!   `ds_follows_wide.tsv`/`ds_follows_long.tsv`, its `follows` trees;
//! - `sizes.json`, the row counts.

use rand_mt::Mt;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// CPython's `random.Random` draws over MT19937.
struct Py(Mt);

impl Py {
    fn new(seed: u32) -> Py {
        Py(Mt::new_with_key([seed]))
    }

    /// `randrange(n)`: `getrandbits(k)` with `k = n.bit_length()` until below `n`.
    fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0 && n <= 1 << 32);
        let k = 64 - n.leading_zeros();
        loop {
            let r = u64::from(self.0.next_u32() >> (32 - k));
            if r < n {
                return r;
            }
        }
    }

    fn choice<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const TC_RAND: (u64, usize) = (2500, 5000);
const TC_RAND_TINY: (u64, usize) = (50, 100);
const TC_CHAIN_L: i64 = 2000;
const TC_CHAIN_TINY_L: i64 = 50;
const SG_N: u64 = 8000;
const SG_ROOTS: u64 = 4;
const SG_SMALL_N: u64 = 400;
const EAV_PEOPLE: u64 = 100_000;
const EAV_NAMES: u64 = 5_000;
const EAV_MAX_FRIENDS: u64 = 5;
const DS_PEOPLE: u64 = 20_000;
const FIRST: [&str; 8] = [
    "Ivan", "Petr", "Sergei", "Oleg", "Yuri", "Dmitry", "Fedor", "Denis",
];
const LAST: [&str; 6] = [
    "Ivanov",
    "Petrov",
    "Sidorov",
    "Kovalev",
    "Kuznetsov",
    "Voronoi",
];

/// Writes rows of displayable cells; the number of rows.
fn write<R: AsRef<[String]>>(dir: &Path, name: &str, rows: &[R]) -> usize {
    let mut s = String::new();
    for r in rows {
        s.push_str(&r.as_ref().join("\t"));
        s.push('\n');
    }
    std::fs::write(dir.join(name), s).unwrap_or_else(|e| panic!("{name}: {e}"));
    rows.len()
}

fn pairs(ps: &[(i64, i64)]) -> Vec<[String; 2]> {
    ps.iter()
        .map(|(a, b)| [a.to_string(), b.to_string()])
        .collect()
}

/// Writes every file into `dir`.
pub fn generate(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut sizes: Vec<(String, String)> = Vec::new();
    let mut size = |name: &str, v: String| sizes.push((name.to_string(), v));

    let incr = |name: &str, edges: &[(i64, i64)], add: (i64, i64), del: (i64, i64)| {
        let mut with: Vec<(i64, i64)> = edges.to_vec();
        with.push(add);
        with.sort();
        let without: Vec<(i64, i64)> = edges.iter().copied().filter(|e| *e != del).collect();
        let n_add = write(dir, &format!("{name}_add.tsv"), &pairs(&with));
        let n_del = write(dir, &format!("{name}_del.tsv"), &pairs(&without));
        std::fs::write(
            dir.join(format!("{name}.incr")),
            format!("{} {} {} {}\n", add.0, add.1, del.0, del.1),
        )
        .unwrap();
        // The sizes of the three files (`.incr`'s as the JSON object the kit's generator writes).
        [
            (format!("{name}_add.tsv"), n_add.to_string()),
            (format!("{name}_del.tsv"), n_del.to_string()),
            (
                format!("{name}.incr"),
                format!(
                    "{{\n  \"add\": [\n   {},\n   {}\n  ],\n  \"del\": [\n   {},\n   {}\n  ]\n }}",
                    add.0, add.1, del.0, del.1
                ),
            ),
        ]
    };

    for (name, seed, (n, m)) in [
        ("tc_rand", 1001, TC_RAND),
        ("tc_rand_tiny", 1002, TC_RAND_TINY),
    ] {
        let mut rng = Py::new(seed);
        let mut set = BTreeSet::new();
        while set.len() < m {
            let u = rng.below(n) as i64;
            let v = rng.below(n) as i64;
            if u != v {
                set.insert((u, v));
            }
        }
        let edges: Vec<(i64, i64)> = set.iter().copied().collect();
        let k = write(dir, &format!("{name}.tsv"), &pairs(&edges));
        size(&format!("{name}.tsv"), k.to_string());
        let add = loop {
            let a = (rng.below(n) as i64, rng.below(n) as i64);
            if a.0 != a.1 && !set.contains(&a) {
                break a;
            }
        };
        let del = edges[rng.below(edges.len() as u64) as usize];
        for (k, v) in incr(name, &edges, add, del) {
            size(&k, v);
        }
    }

    let chain: Vec<(i64, i64)> = (0..TC_CHAIN_L - 1).map(|i| (i, i + 1)).collect();
    size(
        "tc_chain.tsv",
        write(dir, "tc_chain.tsv", &pairs(&chain)).to_string(),
    );
    let add = (TC_CHAIN_L - 1, TC_CHAIN_L);
    let del = (TC_CHAIN_L / 2 - 1, TC_CHAIN_L / 2);
    for (k, v) in incr("tc_chain", &chain, add, del) {
        size(&k, v);
    }
    let tiny: Vec<(i64, i64)> = (0..TC_CHAIN_TINY_L - 1).map(|i| (i, i + 1)).collect();
    size(
        "tc_chain_tiny.tsv",
        write(dir, "tc_chain_tiny.tsv", &pairs(&tiny)).to_string(),
    );

    let forest = |seed: u32, n: u64| -> Vec<(i64, i64)> {
        let mut rng = Py::new(seed);
        (SG_ROOTS..n)
            .map(|i| (i as i64, rng.below(i) as i64))
            .collect()
    };
    size(
        "sg_tree.tsv",
        write(dir, "sg_tree.tsv", &pairs(&forest(2001, SG_N))).to_string(),
    );
    size(
        "sg_tree_small.tsv",
        write(dir, "sg_tree_small.tsv", &pairs(&forest(2002, SG_SMALL_N))).to_string(),
    );

    let mut rng = Py::new(3001);
    let (mut person, mut friend) = (Vec::new(), Vec::new());
    for e in 1..=EAV_PEOPLE {
        person.push([
            e.to_string(),
            format!("name{}", rng.below(EAV_NAMES)),
            rng.below(100).to_string(),
        ]);
        let k = rng.below(EAV_MAX_FRIENDS + 1) as usize;
        let mut fs = BTreeSet::new();
        while fs.len() < k {
            let f = 1 + rng.below(EAV_PEOPLE);
            if f != e {
                fs.insert(f);
            }
        }
        friend.extend(fs.into_iter().map(|f| (e as i64, f as i64)));
    }
    size(
        "eav_person.tsv",
        write(dir, "eav_person.tsv", &person).to_string(),
    );
    size(
        "eav_friend.tsv",
        write(dir, "eav_friend.tsv", &pairs(&friend)).to_string(),
    );
    size("eav_datoms", (2 * person.len() + friend.len()).to_string());

    let mut rng = Py::new(4001);
    let people: Vec<[String; 6]> = (1..=DS_PEOPLE)
        .map(|e| {
            [
                e.to_string(),
                rng.choice(&FIRST).to_string(),
                rng.choice(&LAST).to_string(),
                rng.choice(&["male", "female"]).to_string(),
                rng.below(100).to_string(),
                rng.below(100_000).to_string(),
            ]
        })
        .collect();
    size(
        "ds_people.tsv",
        write(dir, "ds_people.tsv", &people).to_string(),
    );
    size("ds_datoms", (5 * people.len()).to_string());

    // DataScript's wide-db(depth 4, width 6): node i has children i*w .. i*w+w-1, depth first.
    fn wide(i: i64, d: u32, w: i64, out: &mut Vec<(i64, i64)>) {
        if d > 0 {
            for c in 0..w {
                let ch = i * w + c;
                out.push((i, ch));
                wide(ch, d - 1, w, out);
            }
        }
    }
    let mut w = Vec::new();
    wide(1, 4, 6, &mut w);
    let w: Vec<(i64, i64)> = w
        .into_iter()
        .map(|(a, b)| (a + 100_000, b + 100_000))
        .collect();
    size(
        "ds_follows_wide.tsv",
        write(dir, "ds_follows_wide.tsv", &pairs(&w)).to_string(),
    );
    // DataScript's long-db(depth 30, width 5): five disjoint chains of 30 edges.
    let (depth, width) = (30i64, 5i64);
    let l: Vec<(i64, i64)> = (0..width)
        .flat_map(|x| (0..depth).map(move |y| (x * (depth + 1) + y, x * (depth + 1) + y + 1)))
        .map(|(a, b)| (a + 200_000, b + 200_000))
        .collect();
    size(
        "ds_follows_long.tsv",
        write(dir, "ds_follows_long.tsv", &pairs(&l)).to_string(),
    );

    // `sizes.json`, keys sorted, one-space indents, as `json.dump(indent=1, sort_keys=True)`.
    sizes.sort();
    let mut json = String::from("{\n");
    for (i, (k, v)) in sizes.iter().enumerate() {
        let sep = if i + 1 < sizes.len() { "," } else { "" };
        let _ = writeln!(json, " \"{k}\": {v}{sep}");
    }
    json.push('}');
    std::fs::write(dir.join("sizes.json"), json).unwrap();
}
