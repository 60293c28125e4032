//! Kernels built by hand, compiled, and run against mock helpers over plain Rust tables;
//! results are compared with the same loops written in Rust.

use super::*;
use pomo_types::ra::{Callee, Test};
use std::collections::{HashMap, HashSet};
use std::ffi::c_void;

/// An index: for each key, its first row, and for each row the next with the same key.
struct MockIndex {
    key: Vec<usize>,
    first: HashMap<Vec<u64>, u32>,
    next: Vec<u32>,
}

/// A mock map call: the result rows for the decoded arguments, or `None` for a failure.
type MapFn = fn(u32, &[Value]) -> Option<Vec<Vec<u64>>>;

/// What the helpers see behind the context pointer.
struct Mock {
    /// Per slot, per column, one word per row.
    cols: Vec<Vec<Vec<u64>>>,
    indexes: Vec<MockIndex>,
    arity: Vec<usize>,
    args: Vec<usize>,
    /// Interned values: `consts[i]` has the word `i << 1 | 1`.
    consts: Vec<Value>,
    inserted: Vec<(u32, Vec<u64>)>,
    seen: HashSet<(u32, Vec<u64>)>,
    test: fn(u32, &[Value]) -> i32,
    map: MapFn,
    bufs: HashMap<u32, Vec<u64>>,
    tests: usize,
}

fn w(i: i64) -> u64 {
    int_word(i).unwrap()
}

impl Mock {
    /// Tables given row by row, per slot; `consts` pre-interns values the rows refer to.
    fn new(plan: &KernelPlan, rows: Vec<Vec<Vec<u64>>>, consts: Vec<Value>) -> Mock {
        let arity: Vec<usize> = plan.slots.iter().map(Slot::arity).collect();
        let mut cols: Vec<Vec<Vec<u64>>> = arity.iter().map(|&n| vec![Vec::new(); n]).collect();
        for (s, rs) in rows.iter().enumerate() {
            for r in rs {
                for (c, x) in r.iter().enumerate() {
                    cols[s][c].push(*x);
                }
            }
        }
        let indexes = plan
            .indexes
            .iter()
            .map(|ix| {
                let rs = rows.get(ix.slot.0 as usize).cloned().unwrap_or_default();
                let mut first = HashMap::new();
                let mut next = vec![NONE; rs.len()];
                for (i, r) in rs.iter().enumerate().rev() {
                    let key: Vec<u64> = ix.key.iter().map(|&c| r[c]).collect();
                    next[i] = first.get(&key).copied().unwrap_or(NONE);
                    first.insert(key, i as u32);
                }
                MockIndex {
                    key: ix.key.clone(),
                    first,
                    next,
                }
            })
            .collect();
        Mock {
            cols,
            indexes,
            arity,
            args: plan.calls.iter().map(|c| c.args.len()).collect(),
            consts,
            inserted: Vec::new(),
            seen: HashSet::new(),
            test: |_, _| 0,
            map: |_, _| None,
            bufs: HashMap::new(),
            tests: 0,
        }
    }

    fn word(&mut self, v: &Value) -> u64 {
        let i = match self.consts.iter().position(|c| c == v) {
            Some(i) => i,
            None => {
                self.consts.push(v.clone());
                self.consts.len() - 1
            }
        };
        (i as u64) << 1 | 1
    }

    fn value(&self, x: u64) -> Value {
        if x & 1 == 0 {
            Value::Int(x as i64 >> 1)
        } else {
            self.consts[(x >> 1) as usize].clone()
        }
    }

    fn params(&mut self, plan: &KernelPlan, k: KernelId) -> Vec<u64> {
        abi::layout(plan, k)
            .iter()
            .map(|p| match p {
                Param::Len(s) => self.cols[s.0 as usize].first().map_or(0, Vec::len) as u64,
                Param::Col(s, c) => self.cols[s.0 as usize][*c].as_ptr() as u64,
                Param::Next(i) => self.indexes[i.0 as usize].next.as_ptr() as u64,
                Param::Const(v) => self.word(v),
                // The mock's indexes are hash maps: every probe calls the helper.
                Param::DenseLen(_) | Param::DenseBase(_) | Param::DenseHeads(_) => 0,
            })
            .collect()
    }

    /// The rows inserted into a slot, in order.
    fn rows(&self, slot: u32) -> Vec<Vec<u64>> {
        self.inserted
            .iter()
            .filter(|(s, _)| *s == slot)
            .map(|(_, r)| r.clone())
            .collect()
    }
}

unsafe fn mock<'a>(ctx: *mut c_void) -> &'a mut Mock {
    unsafe { &mut *(ctx as *mut Mock) }
}

unsafe fn words<'a>(p: *const u64, n: usize) -> &'a [u64] {
    if n == 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(p, n) }
    }
}

extern "C" fn probe(ctx: *mut c_void, index: u32, key: *const u64) -> u32 {
    let m = unsafe { mock(ctx) };
    let ix = &m.indexes[index as usize];
    let key = unsafe { words(key, ix.key.len()) };
    ix.first.get(key).copied().unwrap_or(NONE)
}

extern "C" fn exists(ctx: *mut c_void, index: u32, key: *const u64) -> u32 {
    (probe(ctx, index, key) != NONE) as u32
}

extern "C" fn insert(ctx: *mut c_void, slot: u32, row: *const u64) -> u32 {
    let m = unsafe { mock(ctx) };
    let row = unsafe { words(row, m.arity[slot as usize]) }.to_vec();
    if m.seen.insert((slot, row.clone())) {
        m.inserted.push((slot, row));
        1
    } else {
        0
    }
}

extern "C" fn test(ctx: *mut c_void, call: u32, args: *const u64) -> i32 {
    let m = unsafe { mock(ctx) };
    m.tests += 1;
    let args: Vec<Value> = unsafe { words(args, m.args[call as usize]) }
        .iter()
        .map(|x| m.value(*x))
        .collect();
    (m.test)(call, &args)
}

extern "C" fn map(ctx: *mut c_void, call: u32, buf: u32, args: *const u64) -> *const u64 {
    let m = unsafe { mock(ctx) };
    let args: Vec<Value> = unsafe { words(args, m.args[call as usize]) }
        .iter()
        .map(|x| m.value(*x))
        .collect();
    match (m.map)(call, &args) {
        None => std::ptr::null(),
        Some(rows) => {
            let mut out = vec![rows.len() as u64];
            rows.iter().for_each(|r| out.extend(r));
            let out = m.bufs.entry(buf).insert_entry(out).into_mut();
            out.as_ptr()
        }
    }
}

fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("pomo_probe", probe as *const u8),
        ("pomo_exists", exists as *const u8),
        ("pomo_insert", insert as *const u8),
        ("pomo_test", test as *const u8),
        ("pomo_map", map as *const u8),
    ]
}

/// Compiles kernel `k` and runs it over the mock; returns the kernel's result.
fn run(plan: &KernelPlan, k: u32, m: &mut Mock) -> i64 {
    let mut cg = Codegen::new(&symbols()).unwrap();
    let (f, _) = cg.compile(plan, KernelId(k)).unwrap();
    let params = m.params(plan, KernelId(k));
    unsafe { f(m as *mut Mock as *mut c_void, params.as_ptr()) }
}

fn slot(n: usize) -> Slot {
    Slot {
        kind: SlotKind::Temp,
        attrs: (0..n).map(|i| format!("a{i}")).collect(),
    }
}

fn call(args: Vec<Term>) -> Call {
    Call {
        kind: CallKind::Test(Test::Call {
            func: Callee::Builtin("f".into()),
            args: vec![],
        }),
        schema: (0..args.len()).map(|i| format!("a{i}")).collect(),
        args,
    }
}

fn r(i: Reg) -> Term {
    Term::Reg(i)
}

fn int(i: i64) -> Term {
    Term::Const(Value::Int(i))
}

fn lit(call: u32, negated: bool, cmp: Option<(CmpOp, Term, Term)>) -> Lit {
    Lit {
        negated,
        call: CallId(call),
        cmp,
    }
}

fn kernel(target: u32, regs: u32, ops: Vec<Op>, emit: Vec<Term>) -> Kernel {
    Kernel {
        target: SlotId(target),
        also: None,
        regs,
        ops,
        emit,
    }
}

/// A small pseudo-random graph (deduplicated edges over 0..n).
fn graph(n: u64, edges: usize, seed: u64) -> Vec<(u64, u64)> {
    let mut x = seed;
    let mut out = Vec::new();
    for _ in 0..edges {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let e = ((x >> 33) % n, (x >> 17) % n);
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

/// Transitive closure's step (TC `k0`): scan delta, probe edge by its source, skip pairs
/// already in path, insert into new; plus kernels using `Check` and `Same`.
fn tc_plan() -> KernelPlan {
    KernelPlan {
        slots: vec![slot(2), slot(2), slot(2), slot(2)],
        indexes: vec![
            Index {
                slot: SlotId(1),
                key: vec![0],
            },
            Index {
                slot: SlotId(0),
                key: vec![0, 1],
            },
        ],
        kernels: vec![
            kernel(
                3,
                3,
                vec![
                    Op::Scan {
                        slot: SlotId(2),
                        cols: vec![Bind::Store(0), Bind::Store(1)],
                    },
                    Op::Probe {
                        index: IndexId(0),
                        key: vec![r(1)],
                        cols: vec![Bind::Skip, Bind::Store(2)],
                    },
                    Op::Exists {
                        index: IndexId(1),
                        key: vec![r(0), r(2)],
                        negated: true,
                    },
                ],
                vec![r(0), r(2)],
            ),
            // Self loops: the second column is checked against the first's register.
            kernel(
                3,
                1,
                vec![Op::Scan {
                    slot: SlotId(1),
                    cols: vec![Bind::Store(0), Bind::Check(r(0))],
                }],
                vec![r(0), r(0)],
            ),
            // Edges into node 3, paired with the pairs of path starting there.
            kernel(
                3,
                3,
                vec![
                    Op::Scan {
                        slot: SlotId(1),
                        cols: vec![Bind::Store(0), Bind::Store(1)],
                    },
                    Op::Same(r(1), int(3)),
                    Op::Probe {
                        index: IndexId(1),
                        key: vec![r(1), r(1)],
                        cols: vec![Bind::Skip, Bind::Skip],
                    },
                    Op::Exists {
                        index: IndexId(0),
                        key: vec![r(0)],
                        negated: false,
                    },
                ],
                vec![r(0), r(1)],
            ),
        ],
        ..KernelPlan::default()
    }
}

#[test]
fn tc_step_matches_rust() {
    let plan = tc_plan();
    let mut edge = graph(12, 40, 7);
    // A self loop for k1 and an edge into 3 for k2.
    for e in [(5, 5), (4, 3)] {
        if !edge.contains(&e) {
            edge.push(e);
        }
    }
    let mut path: Vec<(u64, u64)> = graph(12, 50, 11);
    // Kernel k2 needs the pair (3, 3) and at least one edge into 3.
    path.retain(|&p| p != (3, 3));
    path.push((3, 3));
    let delta: Vec<(u64, u64)> = path.iter().copied().step_by(2).collect();
    let rows = |v: &[(u64, u64)]| {
        v.iter()
            .map(|&(a, b)| vec![w(a as i64), w(b as i64)])
            .collect::<Vec<_>>()
    };
    let tables = vec![rows(&path), rows(&edge), rows(&delta), vec![]];

    let mut m = Mock::new(&plan, tables.clone(), vec![]);
    assert_eq!(run(&plan, 0, &mut m), 0);
    let mut expected: Vec<Vec<u64>> = Vec::new();
    for &(x, y) in &delta {
        for &(y2, z) in &edge {
            if y2 == y && !path.contains(&(x, z)) {
                let row = vec![w(x as i64), w(z as i64)];
                if !expected.contains(&row) {
                    expected.push(row);
                }
            }
        }
    }
    assert!(!expected.is_empty());
    assert_eq!(m.rows(3), expected);

    let mut m = Mock::new(&plan, tables.clone(), vec![]);
    assert_eq!(run(&plan, 1, &mut m), 0);
    let loops: Vec<Vec<u64>> = edge
        .iter()
        .filter(|(a, b)| a == b)
        .map(|&(a, _)| vec![w(a as i64), w(a as i64)])
        .collect();
    assert_eq!(m.rows(3), loops);

    let mut m = Mock::new(&plan, tables, vec![]);
    assert_eq!(run(&plan, 2, &mut m), 0);
    let into3: Vec<Vec<u64>> = edge
        .iter()
        .filter(|&&(a, b)| b == 3 && edge.iter().any(|e| e.0 == a))
        .map(|&(a, b)| vec![w(a as i64), w(b as i64)])
        .collect();
    assert!(!into3.is_empty() && !loops.is_empty());
    assert_eq!(m.rows(3), into3);
}

#[test]
fn check_of_a_non_inline_constant() {
    let s = Value::Str("s".into());
    let plan = KernelPlan {
        slots: vec![slot(2), slot(1)],
        kernels: vec![kernel(
            1,
            1,
            vec![Op::Scan {
                slot: SlotId(0),
                cols: vec![Bind::Store(0), Bind::Check(Term::Const(s.clone()))],
            }],
            vec![r(0)],
        )],
        ..KernelPlan::default()
    };
    // `s` is interned first, so its word is 1.
    let rows = vec![
        vec![w(1), 1],
        vec![w(2), w(0)],
        vec![w(3), 1],
        vec![w(4), 3],
    ];
    let mut m = Mock::new(&plan, vec![rows, vec![]], vec![s, Value::Str("t".into())]);
    assert_eq!(run(&plan, 0, &mut m), 0);
    assert_eq!(m.rows(1), vec![vec![w(1)], vec![w(3)]]);
}

/// Rows mixing inline integers and interned strings (words 1 and 3: "x" and "y").
fn filter_rows() -> Vec<Vec<u64>> {
    vec![
        vec![w(1), w(2)],
        vec![w(5), w(2)],
        vec![1, w(9)],
        vec![w(-3), 3],
        vec![w(-7), w(-1)],
        vec![3, w(4)],
        vec![w(6), w(6)],
        vec![1, 1],
    ]
}

fn filter_plan(ops: Vec<Op>, calls: Vec<Call>) -> KernelPlan {
    let mut all = vec![Op::Scan {
        slot: SlotId(0),
        cols: vec![Bind::Store(0), Bind::Store(1)],
    }];
    all.extend(ops);
    KernelPlan {
        slots: vec![slot(2), slot(2)],
        calls,
        kernels: vec![kernel(1, 2, all, vec![r(0), r(1)])],
        ..KernelPlan::default()
    }
}

fn run_filter(ops: Vec<Op>, calls: Vec<Call>, t: fn(u32, &[Value]) -> i32) -> (i64, Mock) {
    let plan = filter_plan(ops, calls);
    let xy = vec![Value::Str("x".into()), Value::Str("y".into())];
    let mut m = Mock::new(&plan, vec![filter_rows(), vec![]], xy);
    m.test = t;
    let res = run(&plan, 0, &mut m);
    (res, m)
}

fn ints(vs: &[Value]) -> Option<(i64, i64)> {
    match vs {
        [Value::Int(a), Value::Int(b)] => Some((*a, *b)),
        _ => None,
    }
}

#[test]
fn filter_lt_inline_and_slow_path() {
    let (res, m) = run_filter(
        vec![Op::Filter {
            disjuncts: vec![vec![lit(0, false, Some((CmpOp::Lt, r(0), r(1))))]],
        }],
        vec![call(vec![r(0), r(1)])],
        // The slow path says "true" for any non-integer pair, so its use is visible.
        |_, a| ints(a).map_or(1, |(a, b)| (a < b) as i32),
    );
    assert_eq!(res, 0);
    let expected: Vec<Vec<u64>> = filter_rows()
        .into_iter()
        .filter(|r| (r[0] | r[1]) & 1 == 1 || (r[0] as i64) < (r[1] as i64))
        .collect();
    assert_eq!(m.rows(1), expected);
    let odd = filter_rows()
        .iter()
        .filter(|r| (r[0] | r[1]) & 1 == 1)
        .count();
    assert_eq!(m.tests, odd);
}

#[test]
fn filter_dnf_with_a_non_inline_constant() {
    // not (r0 = "x") or r1 > 5
    let x = Term::Const(Value::Str("x".into()));
    let (res, m) = run_filter(
        vec![Op::Filter {
            disjuncts: vec![
                vec![lit(0, true, Some((CmpOp::Eq, r(0), x.clone())))],
                vec![lit(1, false, Some((CmpOp::Gt, r(1), int(5))))],
            ],
        }],
        vec![call(vec![r(0), x]), call(vec![r(1), int(5)])],
        |c, a| match c {
            0 => (a[0] == a[1]) as i32,
            _ => ints(a).is_some_and(|(a, b)| a > b) as i32,
        },
    );
    assert_eq!(res, 0);
    let expected: Vec<Vec<u64>> = filter_rows()
        .into_iter()
        .filter(|r| r[0] != 1 || (r[1] & 1 == 0 && (r[1] as i64 >> 1) > 5))
        .collect();
    assert_eq!(m.rows(1), expected);
    // The first literal always takes the slow path; the second only on odd words.
    let slow2 = filter_rows()
        .iter()
        .filter(|r| r[0] == 1 && r[1] & 1 == 1)
        .count();
    assert_eq!(m.tests, filter_rows().len() + slow2);
}

#[test]
fn filter_constants_and_predicate_calls() {
    let all = filter_rows();
    let (_, m) = run_filter(vec![Op::Filter { disjuncts: vec![] }], vec![], |_, _| 1);
    assert!(m.rows(1).is_empty());
    let (_, m) = run_filter(
        vec![Op::Filter {
            disjuncts: vec![vec![]],
        }],
        vec![],
        |_, _| 0,
    );
    assert_eq!(m.rows(1), all);
    // A predicate without a comparison, negated, after a `Same` on two registers.
    let (res, m) = run_filter(
        vec![
            Op::Same(r(0), r(0)),
            Op::Filter {
                disjuncts: vec![vec![lit(0, true, None)]],
            },
        ],
        vec![call(vec![r(0)])],
        |_, a| matches!(a[0], Value::Str(_)) as i32,
    );
    assert_eq!(res, 0);
    let ints: Vec<Vec<u64>> = all.into_iter().filter(|r| r[0] & 1 == 0).collect();
    assert_eq!(m.rows(1), ints);
}

#[test]
fn test_failure_returns_minus_one() {
    let (res, m) = run_filter(
        vec![Op::Filter {
            disjuncts: vec![vec![lit(0, false, None)]],
        }],
        vec![call(vec![r(0)])],
        |_, a| if a[0] == Value::Int(-3) { -1 } else { 1 },
    );
    assert_eq!(res, -1);
    // Rows before the failing one (the fourth) were inserted; none after.
    assert_eq!(m.rows(1), filter_rows()[..3].to_vec());
}

fn map_plan() -> KernelPlan {
    KernelPlan {
        slots: vec![slot(1), slot(3)],
        calls: vec![call(vec![r(0)])],
        kernels: vec![kernel(
            1,
            3,
            vec![
                Op::Scan {
                    slot: SlotId(0),
                    cols: vec![Bind::Store(0)],
                },
                Op::Map {
                    call: CallId(0),
                    outs: vec![Some(1), None, Some(2)],
                },
            ],
            vec![r(0), r(1), r(2)],
        )],
        ..KernelPlan::default()
    }
}

#[test]
fn map_binds_each_result_row() {
    let plan = map_plan();
    let mut m = Mock::new(
        &plan,
        vec![vec![vec![w(1)], vec![w(2)], vec![w(3)]], vec![]],
        vec![],
    );
    m.map = |_, a| match a[0] {
        Value::Int(2) => Some(vec![]),
        Value::Int(x) => Some(vec![
            vec![w(x), w(99), w(10 * x)],
            vec![w(x + 1), w(98), w(20 * x)],
        ]),
        _ => None,
    };
    assert_eq!(run(&plan, 0, &mut m), 0);
    let expected: Vec<Vec<u64>> = [1, 3]
        .iter()
        .flat_map(|&x| [vec![w(x), w(x), w(10 * x)], vec![w(x), w(x + 1), w(20 * x)]])
        .collect();
    assert_eq!(m.rows(1), expected);

    let mut m = Mock::new(&plan, vec![vec![vec![w(1)], vec![w(2)]], vec![]], vec![]);
    m.map = |_, a| (a[0] == Value::Int(1)).then(|| vec![vec![w(0), w(0), w(0)]]);
    assert_eq!(run(&plan, 0, &mut m), -1);
    assert_eq!(m.rows(1).len(), 1);
}

#[test]
fn clif_text_is_deterministic() {
    let plan = tc_plan();
    let a = clif_text(&plan).unwrap();
    assert_eq!(a, clif_text(&plan).unwrap());
    assert!(
        a.contains("function %k0(") && a.contains("function %k2("),
        "{a}"
    );
    let mut cg = Codegen::new(&symbols()).unwrap();
    let (_, t0) = cg.compile(&plan, KernelId(0)).unwrap();
    let (_, t0b) = cg.compile(&plan, KernelId(0)).unwrap();
    assert_eq!(t0, t0b);
    assert!(a.starts_with(&t0));
}

#[test]
fn bad_plans_are_errors() {
    let mut plan = tc_plan();
    plan.kernels[0].emit.push(r(7));
    let mut cg = Codegen::new(&symbols()).unwrap();
    assert!(cg.compile(&plan, KernelId(0)).is_err());
    assert!(cg.compile(&plan, KernelId(9)).is_err());
    // The generator is still usable after a failed build.
    assert!(cg.compile(&plan, KernelId(1)).is_ok());
    plan.kernels[1].ops.push(Op::Exists {
        index: IndexId(5),
        key: vec![],
        negated: false,
    });
    assert!(clif_text(&plan).is_err());
    assert!(Codegen::new(&symbols()[1..]).is_err());
}
