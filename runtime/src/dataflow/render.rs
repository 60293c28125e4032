//! Building a timely/differential dataflow from a flow plan, at run time.
//!
//! One dataflow per engine, with an outer `u64` timestamp (the epoch). Fed relations (base
//! relations, inputs, carried `R@prev` sources) are input collections; constant rows come from
//! one constants input; each stratum's definitions are rendered node by node, a recursive
//! stratum inside one iterative scope (`Product<u64, u64>`) whose variables are its relations.
//! The renderer is generic over the scope's timestamp only and never recurses into an iterative
//! scope (that would instantiate ever deeper nested timestamp types at compile time).

use super::Row;
use crate::engine::{Context, Env};
use differential_dataflow::lattice::Lattice;
use differential_dataflow::operators::arrange::{Arranged, TraceAgent};
use differential_dataflow::operators::iterate::VecVariable;
use differential_dataflow::trace::implementations::{KeySpine, ValSpine};
use differential_dataflow::trace::wrappers::enter::TraceEnter;
use differential_dataflow::{AsCollection, ExchangeData, VecCollection};
use pomo_stdlib::EvalError;
use pomo_types::Value;
use pomo_types::flow::*;
use pomo_types::ra::{Attr, CmpOp, Formula, Operand, Test};
use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use timely::dataflow::Scope;
use timely::order::Product;
use timely::progress::Timestamp;
use timely::progress::timestamp::Refines;

pub(crate) type Coll<'s, T> = VecCollection<'s, T, Row, isize>;
type Arr<'s, T> = Arranged<'s, TraceAgent<ValSpine<Row, Row, T, isize>>>;
type KArr<'s, T> = Arranged<'s, TraceAgent<KeySpine<Row, T, isize>>>;
/// An arrangement of the outer scope, entered into an iterative one.
type EArr<'s, T> = Arranged<'s, TraceEnter<TraceAgent<ValSpine<Row, Row, u64, isize>>, T>>;
type EKArr<'s, T> = Arranged<'s, TraceEnter<TraceAgent<KeySpine<Row, u64, isize>>, T>>;

/// An arrangement built in the scope, or one of the outer scope that does not change while a
/// recursive stratum iterates (built once, read by every round).
#[derive(Clone)]
enum AnyArr<'s, T: Time> {
    Native(Arr<'s, T>),
    Entered(EArr<'s, T>),
}

#[derive(Clone)]
enum AnyKArr<'s, T: Time> {
    Native(KArr<'s, T>),
    Entered(EKArr<'s, T>),
}

/// Joins two arrangements of any kind with one closure.
macro_rules! join_any {
    ($l:expr, $r:expr, $a:ident, $b:ident, $f:expr) => {
        match ($l, $r) {
            ($a::Native(l), $b::Native(r)) => l.join_core(r, $f),
            ($a::Native(l), $b::Entered(r)) => l.join_core(r, $f),
            ($a::Entered(l), $b::Native(r)) => l.join_core(r, $f),
            ($a::Entered(l), $b::Entered(r)) => l.join_core(r, $f),
        }
    };
}

/// How many rounds a recursive stratum may take in one epoch; like the reference evaluator's
/// limit, it turns a program that keeps inventing values into an error instead of a hang.
pub const MAX_ROUNDS: u64 = 100_000;

/// What every operator closure shares: the plan, the bindings of functions, the first error.
pub(crate) struct Shared {
    pub flow: FlowPlan,
    pub env: Env,
    pub error: Mutex<Option<String>>,
}

impl Shared {
    pub fn fail(&self, message: String) {
        let mut e = self.error.lock().expect("error slot poisoned");
        if e.is_none() {
            *e = Some(message);
        }
    }
}

/// The collections a rendered scope reads its sources from.
pub(crate) trait Sources<'s, T: Time> {
    fn source(&mut self, name: &str) -> Coll<'s, T>;
    /// The constants input, rows tagged with their values node in column 0.
    fn constants(&mut self) -> Coll<'s, T>;
    /// A node that does not depend on the scope's variables, rendered outside and entered.
    fn invariant_node(&mut self, _id: NodeId) -> Option<Coll<'s, T>> {
        None
    }
    fn invariant_arr(&mut self, _id: ArrId) -> Option<EArr<'s, T>> {
        None
    }
    fn invariant_karr(&mut self, _id: ArrId) -> Option<EKArr<'s, T>> {
        None
    }
}

pub(crate) trait Time: Timestamp + Lattice + ExchangeData + Ord + Refines<u64> {}
impl<T: Timestamp + Lattice + ExchangeData + Ord + Refines<u64>> Time for T {}

/// Rendered nodes and arrangements of one scope.
pub(crate) struct Memo<'s, T: Time> {
    nodes: HashMap<NodeId, Coll<'s, T>>,
    arrs: HashMap<ArrId, AnyArr<'s, T>>,
    karrs: HashMap<ArrId, AnyKArr<'s, T>>,
}

impl<'s, T: Time> Memo<'s, T> {
    pub fn new() -> Self {
        Memo {
            nodes: HashMap::new(),
            arrs: HashMap::new(),
            karrs: HashMap::new(),
        }
    }
}

fn build(out: &[JCol], k: &Row, l: &Row, r: &Row) -> Row {
    let src = |c: JCol| match c {
        JCol::Key(i) => (k, i),
        JCol::Left(i) => (l, i),
        JCol::Right(i) => (r, i),
    };
    // Integer rows are built without going through values.
    match out {
        [] => return Row::new(),
        [a] => {
            let (row, i) = src(*a);
            if let Some(x) = row.int(i) {
                return Row::int1(x);
            }
        }
        [a, b] => {
            let ((ra, i), (rb, j)) = (src(*a), src(*b));
            if let (Some(x), Some(y)) = (ra.int(i), rb.int(j)) {
                return Row::ints(x, y);
            }
        }
        _ => {}
    }
    out.iter()
        .map(|c| {
            let (row, i) = src(*c);
            row.get(i)
        })
        .collect()
}

/// The columns of a row that are not in `key`, in order.
fn rest(len: usize, key: &[usize]) -> SmallVec<[usize; 4]> {
    (0..len).filter(|c| !key.contains(c)).collect()
}

/// Renders a node in a scope.
pub(crate) fn node<'s, T: Time>(
    sh: &Arc<Shared>,
    id: NodeId,
    memo: &mut Memo<'s, T>,
    src: &mut dyn Sources<'s, T>,
) -> Coll<'s, T> {
    if let Some(c) = memo.nodes.get(&id) {
        return c.clone();
    }
    if let Some(c) = src.invariant_node(id) {
        memo.nodes.insert(id, c.clone());
        return c;
    }
    let c: Coll<'s, T> = match sh.flow.node(id).clone() {
        Node::Source(name) => src.source(&name),
        Node::Values { arity, .. } => {
            let tag = Value::Int(id.0 as i64);
            src.constants()
                .filter(move |r| r.get(0) == tag)
                .map(move |r| (1..=arity).map(|i| r.get(i)).collect())
        }
        Node::Initial(x) => {
            let x = node(sh, x, memo, src);
            let first = src.source(super::EPOCH0).map(|r| (r, ())).arrange_by_key();
            x.map(|r| (Row::new(), r))
                .join_core(first, |_k, r: &Row, _| Some(*r))
        }
        Node::Filter {
            schema,
            formula,
            input,
        } => {
            let x = node(sh, input, memo, src);
            let sh = sh.clone();
            let f = Compiled::new(&formula, &schema);
            x.filter(
                move |r| match r.with_values(schema.len(), |v| f.eval(&sh, &schema, v)) {
                    Ok(b) => b,
                    Err(e) => {
                        sh.fail(e.message);
                        false
                    }
                },
            )
        }
        Node::Project { cols, input } => {
            let x = node(sh, input, memo, src);
            x.map(move |r| r.project(&cols))
        }
        Node::Map {
            schema,
            bind,
            rhs,
            input,
        } => {
            let x = node(sh, input, memo, src);
            let sh = sh.clone();
            let arity = schema.len();
            x.flat_map(move |r| {
                let ext = match r.with_values(arity, |v| {
                    Context::new(&sh.env).map_tuple(&bind, &rhs, &schema, v)
                }) {
                    Ok(rows) => rows,
                    Err(e) => {
                        sh.fail(e.message);
                        Vec::new()
                    }
                };
                ext.into_iter()
                    .map(|e| r.extended(arity, e))
                    .collect::<Vec<_>>()
            })
        }
        Node::Union(xs) => {
            let parts: Vec<Coll<'s, T>> = xs.iter().map(|x| node(sh, *x, memo, src)).collect();
            let mut it = parts.into_iter();
            let first = it.next().expect("a union has parts");
            first.concatenate(it)
        }
        Node::Distinct(x) => node(sh, x, memo, src).distinct(),
        Node::Join {
            left,
            right,
            out,
            filter: None,
        } => {
            let l = arr(sh, left, memo, src);
            let r = arr(sh, right, memo, src);
            join_any!(l, r, AnyArr, AnyArr, move |k: &Row, a: &Row, b: &Row| {
                Some(build(&out, k, a, b))
            })
        }
        Node::Join {
            left,
            right,
            out,
            filter: Some(f),
        } => {
            let l = arr(sh, left, memo, src);
            let r = arr(sh, right, memo, src);
            let sh = sh.clone();
            let test = Compiled::new(&f.formula, &f.schema);
            join_any!(l, r, AnyArr, AnyArr, move |k: &Row, a: &Row, b: &Row| {
                let col = |c: &JCol| match *c {
                    JCol::Key(i) => (k, i),
                    JCol::Left(i) => (a, i),
                    JCol::Right(i) => (b, i),
                };
                // Comparisons of integer columns are decided without building values.
                let ints: Option<SmallVec<[i64; 4]>> = f
                    .cols
                    .iter()
                    .map(|c| {
                        let (row, i) = col(c);
                        row.int(i)
                    })
                    .collect();
                if let Some(held) = ints.and_then(|xs| test.eval_ints(&xs)) {
                    return held.then(|| build(&out, k, a, b));
                }
                let vals: SmallVec<[Value; 4]> = f
                    .cols
                    .iter()
                    .map(|c| {
                        let (row, i) = col(c);
                        row.get(i)
                    })
                    .collect();
                match test.eval(&sh, &f.schema, &vals) {
                    Ok(true) => Some(build(&out, k, a, b)),
                    Ok(false) => None,
                    Err(e) => {
                        sh.fail(e.message);
                        None
                    }
                }
            })
        }
        Node::SemiJoin { left, right, out } => {
            let l = arr(sh, left, memo, src);
            let r = karr(sh, right, memo, src);
            let empty = Row::new();
            join_any!(l, r, AnyArr, AnyKArr, move |k: &Row, a: &Row, _: &()| {
                Some(build(&out, k, a, &empty))
            })
        }
        Node::AntiJoin {
            input,
            left,
            right,
            out,
        } => {
            let x = node(sh, input, memo, src);
            let l = arr(sh, left, memo, src);
            let r = karr(sh, right, memo, src);
            let empty = Row::new();
            let semi = join_any!(l, r, AnyArr, AnyKArr, move |k: &Row, a: &Row, _: &()| {
                Some(build(&out, k, a, &empty))
            });
            x.concat(semi.negate())
        }
        Node::Reduce {
            schema,
            keys,
            aggs,
            input,
        } => {
            let x = node(sh, input, memo, src);
            let sh = sh.clone();
            let (arity, nkeys, naggs) = (schema.len(), keys.len(), aggs.len());
            x.distinct()
                .map(move |r| (r.project(&keys), r))
                .reduce(
                    move |_k, vals: &[(&Row, isize)], out: &mut Vec<(Row, isize)>| {
                        let rows: Vec<Vec<Value>> =
                            vals.iter().map(|(r, _)| r.to_vec(arity)).collect();
                        let tuples: Vec<&[Value]> = rows.iter().map(|r| r.as_slice()).collect();
                        match Context::new(&sh.env).aggregate_group(&aggs, &schema, &tuples) {
                            Ok(v) => out.push((v.into_iter().collect(), 1)),
                            Err(e) => sh.fail(e.message),
                        }
                    },
                )
                .map(move |(k, v): (Row, Row)| k.extended(nkeys, v.to_vec(naggs)))
        }
    };
    memo.nodes.insert(id, c.clone());
    c
}

/// A formula with its attributes resolved to columns. Comparisons of two integers are decided
/// here; every other test goes through the same stdlib code as the reference evaluator.
struct Compiled {
    disjuncts: Vec<Vec<CLit>>,
}

enum Opnd {
    Col(usize),
    Const(Value),
}

enum CLit {
    Cmp {
        negated: bool,
        op: CmpOp,
        lhs: Opnd,
        rhs: Opnd,
    },
    Other(Formula),
}

impl Compiled {
    fn new(f: &Formula, schema: &[Attr]) -> Compiled {
        let opnd = |o: &Operand| match o {
            Operand::Const(c) => Some(Opnd::Const(c.clone())),
            Operand::Attr(a) => schema.iter().position(|x| x == a).map(Opnd::Col),
        };
        Compiled {
            disjuncts: f
                .disjuncts
                .iter()
                .map(|d| {
                    d.iter()
                        .map(|l| match &l.test {
                            Test::Cmp { op, lhs, rhs } => match (opnd(lhs), opnd(rhs)) {
                                (Some(lhs), Some(rhs)) => CLit::Cmp {
                                    negated: l.negated,
                                    op: *op,
                                    lhs,
                                    rhs,
                                },
                                _ => CLit::Other(Formula::conj(vec![l.clone()])),
                            },
                            Test::Call { .. } => CLit::Other(Formula::conj(vec![l.clone()])),
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// Decides the formula on integer columns when every test is a comparison of columns and
    /// integer constants; `None` otherwise.
    fn eval_ints(&self, row: &[i64]) -> Option<bool> {
        let get = |o: &Opnd| match o {
            Opnd::Col(c) => Some(row[*c]),
            Opnd::Const(Value::Int(v)) => Some(*v),
            Opnd::Const(_) => None,
        };
        let mut any = false;
        for d in &self.disjuncts {
            let mut all = true;
            for l in d {
                let CLit::Cmp {
                    negated,
                    op,
                    lhs,
                    rhs,
                } = l
                else {
                    return None;
                };
                let (a, b) = (get(lhs)?, get(rhs)?);
                all &= op.holds(a.cmp(&b)) != *negated;
            }
            any |= all;
        }
        Some(any)
    }

    fn eval(&self, sh: &Shared, schema: &[Attr], row: &[Value]) -> Result<bool, EvalError> {
        fn get<'a>(o: &'a Opnd, row: &'a [Value]) -> &'a Value {
            match o {
                Opnd::Col(c) => &row[*c],
                Opnd::Const(v) => v,
            }
        }
        for d in &self.disjuncts {
            let mut all = true;
            for l in d {
                let holds = match l {
                    CLit::Cmp {
                        negated,
                        op,
                        lhs,
                        rhs,
                    } => {
                        let (a, b) = (get(lhs, row), get(rhs, row));
                        let v = match (a, b) {
                            (Value::Int(_), Value::Int(_)) => op.eval(a, b),
                            _ => pomo_stdlib::call(op.builtin(), &[a.clone(), b.clone()])?
                                .is_some_and(|v| pomo_stdlib::truthy(&v)),
                        };
                        v != *negated
                    }
                    CLit::Other(f) => Context::new(&sh.env).formula(f, schema, row)?,
                };
                if !holds {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn arr<'s, T: Time>(
    sh: &Arc<Shared>,
    id: ArrId,
    memo: &mut Memo<'s, T>,
    src: &mut dyn Sources<'s, T>,
) -> AnyArr<'s, T> {
    if let Some(a) = memo.arrs.get(&id) {
        return a.clone();
    }
    if let Some(a) = src.invariant_arr(id) {
        let a = AnyArr::Entered(a);
        memo.arrs.insert(id, a.clone());
        return a;
    }
    let spec = sh.flow.arrangement(id).clone();
    let x = node(sh, spec.input, memo, src);
    let key = spec.key.clone();
    let vals = rest(sh.flow.arity(spec.input), &key);
    let a = x
        .map(move |r| (r.project(&key), r.project(&vals)))
        .arrange_by_key();
    let a = AnyArr::Native(a);
    memo.arrs.insert(id, a.clone());
    a
}

fn karr<'s, T: Time>(
    sh: &Arc<Shared>,
    id: ArrId,
    memo: &mut Memo<'s, T>,
    src: &mut dyn Sources<'s, T>,
) -> AnyKArr<'s, T> {
    if let Some(a) = memo.karrs.get(&id) {
        return a.clone();
    }
    if let Some(a) = src.invariant_karr(id) {
        let a = AnyKArr::Entered(a);
        memo.karrs.insert(id, a.clone());
        return a;
    }
    let spec = sh.flow.arrangement(id).clone();
    let x = node(sh, spec.input, memo, src);
    let key = spec.key.clone();
    let a = AnyKArr::Native(x.map(move |r| r.project(&key)).distinct().arrange_by_self());
    memo.karrs.insert(id, a.clone());
    a
}

/// The outer scope's sources: fed inputs, constants, and the relations earlier strata defined.
pub(crate) struct Outer<'s> {
    pub fed: HashMap<String, Coll<'s, u64>>,
    pub constants: Coll<'s, u64>,
    pub defined: HashMap<String, Coll<'s, u64>>,
}

impl<'s> Sources<'s, u64> for Outer<'s> {
    fn source(&mut self, name: &str) -> Coll<'s, u64> {
        if let Some(c) = self.defined.get(name).or_else(|| self.fed.get(name)) {
            return c.clone();
        }
        // A relation nothing defines or feeds (a derived relation without rules) is empty.
        self.constants.clone().filter(|_| false)
    }
    fn constants(&mut self) -> Coll<'s, u64> {
        self.constants.clone()
    }
}

/// Sources inside an iterative scope: the stratum's variables, else the outer collections,
/// entered once.
struct Inner<'a, 's, 'i> {
    sh: &'a Arc<Shared>,
    outer: &'a mut Outer<'s>,
    outer_memo: &'a mut Memo<'s, u64>,
    /// The nodes and arrangements that read the stratum's variables; the others are rendered
    /// in the outer scope and entered.
    variant: &'a (HashSet<NodeId>, HashSet<ArrId>),
    scope: Scope<'i, Product<u64, u64>>,
    vars: HashMap<String, Coll<'i, Product<u64, u64>>>,
    entered: HashMap<String, Coll<'i, Product<u64, u64>>>,
    constants: Option<Coll<'i, Product<u64, u64>>>,
}

impl<'s, 'i> Sources<'i, Product<u64, u64>> for Inner<'_, 's, 'i> {
    fn source(&mut self, name: &str) -> Coll<'i, Product<u64, u64>> {
        if let Some(c) = self.vars.get(name).or_else(|| self.entered.get(name)) {
            return c.clone();
        }
        let c = self.outer.source(name).enter(self.scope);
        self.entered.insert(name.to_string(), c.clone());
        c
    }
    fn constants(&mut self) -> Coll<'i, Product<u64, u64>> {
        if let Some(c) = &self.constants {
            return c.clone();
        }
        let c = self.outer.constants.clone().enter(self.scope);
        self.constants = Some(c.clone());
        c
    }
    fn invariant_node(&mut self, id: NodeId) -> Option<Coll<'i, Product<u64, u64>>> {
        if self.variant.0.contains(&id) {
            return None;
        }
        let c = node(self.sh, id, self.outer_memo, self.outer);
        Some(c.enter(self.scope))
    }
    fn invariant_arr(&mut self, id: ArrId) -> Option<EArr<'i, Product<u64, u64>>> {
        if self.variant.1.contains(&id) {
            return None;
        }
        match arr(self.sh, id, self.outer_memo, self.outer) {
            AnyArr::Native(a) => Some(a.enter(self.scope)),
            AnyArr::Entered(_) => None,
        }
    }
    fn invariant_karr(&mut self, id: ArrId) -> Option<EKArr<'i, Product<u64, u64>>> {
        if self.variant.1.contains(&id) {
            return None;
        }
        match karr(self.sh, id, self.outer_memo, self.outer) {
            AnyKArr::Native(a) => Some(a.enter(self.scope)),
            AnyKArr::Entered(_) => None,
        }
    }
}

/// The nodes and arrangements that depend on the relations `names` (a stratum's variables).
fn variant(flow: &FlowPlan, names: &HashSet<String>) -> (HashSet<NodeId>, HashSet<ArrId>) {
    fn visit(
        flow: &FlowPlan,
        names: &HashSet<String>,
        id: NodeId,
        seen: &mut HashMap<NodeId, bool>,
    ) -> bool {
        if let Some(v) = seen.get(&id) {
            return *v;
        }
        let n = flow.node(id);
        let v = match n {
            Node::Source(s) => names.contains(s),
            _ => {
                let mut v = false;
                for i in n.inputs() {
                    v |= visit(flow, names, i, seen);
                }
                for a in n.arrangements() {
                    v |= visit(flow, names, flow.arrangement(a).input, seen);
                }
                v
            }
        };
        seen.insert(id, v);
        v
    }
    let mut seen = HashMap::new();
    for i in 0..flow.nodes.len() {
        visit(flow, names, NodeId(i as u32), &mut seen);
    }
    let nodes: HashSet<NodeId> = seen
        .into_iter()
        .filter(|(_, v)| *v)
        .map(|(k, _)| k)
        .collect();
    let arrs = (0..flow.arrangements.len())
        .map(|a| ArrId(a as u32))
        .filter(|a| nodes.contains(&flow.arrangement(*a).input))
        .collect();
    (nodes, arrs)
}

/// Renders every stratum; returns each definition's collection (`R`, or `R@next`).
pub(crate) fn strata<'s>(
    sh: &Arc<Shared>,
    scope: Scope<'s, u64>,
    outer: &mut Outer<'s>,
) -> Vec<(String, Coll<'s, u64>)> {
    let mut out = Vec::new();
    let mut memo: Memo<'s, u64> = Memo::new();
    for st in &sh.flow.strata {
        if !st.recursive {
            for d in &st.defs {
                let c = node(sh, d.node, &mut memo, outer);
                let name = if d.next {
                    format!("{}@next", d.relation)
                } else {
                    d.relation.clone()
                };
                if !d.next {
                    outer.defined.insert(d.relation.clone(), c.clone());
                }
                out.push((name, c));
            }
            continue;
        }
        let names: HashSet<String> = st.defs.iter().map(|d| d.relation.clone()).collect();
        let variant = variant(&sh.flow, &names);
        let results: Vec<(String, Coll<'s, u64>)> = scope.iterative::<u64, _, _>(|inner| {
            let mut variables = Vec::new();
            let mut vars = HashMap::new();
            for d in &st.defs {
                let (var, coll) = VecVariable::new(inner, Product::new(0, 1));
                vars.insert(d.relation.clone(), coll);
                variables.push(var);
            }
            let mut src = Inner {
                sh,
                outer,
                outer_memo: &mut memo,
                variant: &variant,
                scope: inner,
                vars,
                entered: HashMap::new(),
                constants: None,
            };
            let mut imemo: Memo<'_, Product<u64, u64>> = Memo::new();
            let mut results = Vec::new();
            for (d, var) in st.defs.iter().zip(variables) {
                let c = node(sh, d.node, &mut imemo, &mut src);
                // Stop a stratum that does not converge, and say so.
                let shc = sh.clone();
                let c = timely::dataflow::operators::vec::Filter::filter(
                    c.inner,
                    move |(_, t, _): &(Row, Product<u64, u64>, isize)| {
                        if t.inner >= MAX_ROUNDS {
                            shc.fail(format!(
                                "recursion did not converge after {MAX_ROUNDS} iterations"
                            ));
                            false
                        } else {
                            true
                        }
                    },
                )
                .as_collection();
                var.set(c.clone());
                results.push((d.relation.clone(), c.leave(scope)));
            }
            results
        });
        for (name, c) in results {
            outer.defined.insert(name.clone(), c.clone());
            out.push((name, c));
        }
    }
    out
}
