//! Lowering of PomoRA plans to kernel plans (ARCHITECTURE §7, "jit"; types in
//! [`pomo_types::kernel`]).
//!
//! Statements and loops stay as PomoRA has them, so the semi-naive evaluation (deltas, the
//! closing `diff(…, R)`, the fixpoint test) is exactly the reference evaluator's. Each assigned
//! expression becomes one loop nest per branch of its unions: the left spine of its joins is the
//! nest (the left-most leaf is scanned, each right input probed through an index on the join
//! columns), selections become filters, semijoins, antijoins and differences become existence
//! tests on an index, and maps become calls that bind registers. A right input that is not a
//! (renamed, projected) relation is first materialized into a temporary slot by kernels of its
//! own; so is a right input under a selection that can fail, so that every tuple the reference
//! evaluator tests is tested here too (a failing test is an error on both backends).
//!
//! A data pattern with a constant attribute (`select[a = :person/name](datom)`) reads a view
//! slot holding only that attribute's datoms; constant entities and values in the same pattern
//! become index probes on it.
//!
//! Invariants: a kernel never writes a slot it reads (an assignment whose expression reads its
//! target goes through a temporary); slot, index and call ids are assigned in the order the
//! statements meet them, so equal plans lower to equal kernel plans.

use pomo_types::Value;
use pomo_types::kernel::{self as k, *};
use pomo_types::ra::{
    self, Attr, Expr, ExprId, FLit, Formula, Operand, Plan, RelRef, Test, Version,
};
use std::collections::{BTreeSet, HashMap};

/// Lowers an (optimized) PomoRA plan to a kernel plan.
///
/// ```
/// use pomo_compiler::{compile, Input};
/// let c = compile(&Input::Logic(".decl edge(from, to)\n\
///     path(from: ?x, to: ?y) :- edge(from: ?x, to: ?y).\n\
///     path(from: ?x, to: ?z) :- path(from: ?x, to: ?y), edge(from: ?y, to: ?z).\n"), &Default::default()).unwrap();
/// let text = c.kernel.to_string();
/// assert!(text.contains("scan path@delta(r0, r1)"));
/// assert!(text.contains("insert path(r0, r2) new into path@new"));
/// assert!(text.contains("loop by path#0"));
/// ```
pub fn lower(plan: &Plan) -> KernelPlan {
    let mut l = Lowering {
        ra: plan,
        out: KernelPlan {
            relations: plan.relations.clone(),
            ..KernelPlan::default()
        },
        slots: HashMap::new(),
        indexes: HashMap::new(),
        calls: HashMap::new(),
    };
    for st in &plan.strata {
        let stmts = l.stmts(&st.stmts);
        l.out.strata.push(k::Stratum {
            recursive: st.recursive,
            stmts,
        });
    }
    l.out
}

/// A loop nest being built: its operations, registers, and the term holding each attribute of
/// the expression's schema, in schema order.
#[derive(Clone, Debug)]
struct Pipe {
    ops: Vec<Op>,
    regs: u32,
    vars: Vec<(Attr, Term)>,
}

impl Pipe {
    fn fresh(&mut self) -> Reg {
        self.regs += 1;
        self.regs - 1
    }
    fn get(&self, a: &str) -> Option<&Term> {
        self.vars.iter().find(|(x, _)| x == a).map(|(_, t)| t)
    }
}

/// How a right input is read: a slot, what each of its attributes is (a column or a constant),
/// and constant key columns (from a pattern's constant entity or value).
#[derive(Clone, Debug)]
struct Access {
    slot: SlotId,
    vars: Vec<(Attr, Col)>,
    consts: Vec<(usize, Value)>,
}

/// Constants of a pattern by attribute (`a = :person/name`).
type Consts = Vec<(Attr, Value)>;

#[derive(Clone, Debug)]
enum Col {
    At(usize),
    Const(Value),
}

struct Lowering<'a> {
    ra: &'a Plan,
    out: KernelPlan,
    slots: HashMap<SlotKind, SlotId>,
    indexes: HashMap<(SlotId, Vec<usize>), IndexId>,
    calls: HashMap<Call, CallId>,
}

impl Lowering<'_> {
    fn slot(&mut self, kind: SlotKind, attrs: Vec<Attr>) -> SlotId {
        // A slot of the same kind is shared only under the same column names: two constant
        // relations with equal rows (two empty ones, say) may name their columns differently.
        if !matches!(kind, SlotKind::Temp)
            && let Some(s) = self.slots.get(&kind)
            && self.out.slots[s.0 as usize].attrs == attrs
        {
            return *s;
        }
        let id = SlotId(self.out.slots.len() as u32);
        self.out.slots.push(Slot {
            kind: kind.clone(),
            attrs,
        });
        if !matches!(kind, SlotKind::Temp) {
            self.slots.insert(kind, id);
        }
        id
    }

    fn rel_slot(&mut self, r: &RelRef) -> SlotId {
        let attrs = self
            .ra
            .relation(&r.name)
            .map(|d| d.attrs.clone())
            .unwrap_or_default();
        self.slot(
            SlotKind::Rel {
                name: r.name.clone(),
                version: r.version,
            },
            attrs,
        )
    }

    fn index(&mut self, slot: SlotId, key: Vec<usize>) -> IndexId {
        if let Some(i) = self.indexes.get(&(slot, key.clone())) {
            return *i;
        }
        let id = IndexId(self.out.indexes.len() as u32);
        self.out.indexes.push(Index {
            slot,
            key: key.clone(),
        });
        self.indexes.insert((slot, key), id);
        id
    }

    fn call(&mut self, c: Call) -> CallId {
        if let Some(i) = self.calls.get(&c) {
            return *i;
        }
        let id = CallId(self.out.calls.len() as u32);
        self.out.calls.push(c.clone());
        self.calls.insert(c, id);
        id
    }

    fn stmts(&mut self, stmts: &[ra::Stmt]) -> Vec<Stmt> {
        let mut out = Vec::new();
        for s in stmts {
            match s {
                ra::Stmt::Assign { target, expr } => self.assign(target, *expr, &mut out),
                ra::Stmt::Loop { body, until } => {
                    let body = self.stmts(body);
                    let until: Vec<SlotId> = until.iter().map(|r| self.rel_slot(r)).collect();
                    out.push(Stmt::Loop {
                        body,
                        until,
                        partition: None,
                    });
                }
            }
        }
        out
    }

    fn assign(&mut self, target: &RelRef, expr: ExprId, out: &mut Vec<Stmt>) {
        let tslot = self.rel_slot(target);
        let attrs = self.out.slot(tslot).attrs.clone();
        // `R@delta := R@new`: the new tuples become the delta and `R@new` is reassigned before
        // it is read again, so the rows move instead of being copied.
        if let Expr::Rel(src) = self.ra.expr(expr)
            && target.version == Version::Delta
            && src.version == Version::New
            && src.name == target.name
        {
            let source = self.rel_slot(src);
            out.push(Stmt::Move {
                target: tslot,
                source,
            });
            return;
        }
        // `R := union(R, …)` appends to R.
        let (append, branches) = match self.ra.expr(expr) {
            Expr::Union(xs) if xs.iter().any(|x| self.is_rel(*x, target)) => (
                true,
                xs.iter()
                    .copied()
                    .filter(|x| !self.is_rel(*x, target))
                    .collect::<Vec<_>>(),
            ),
            _ => (false, vec![expr]),
        };
        let mut pre = Vec::new();
        let mut pipes = Vec::new();
        for b in branches {
            pipes.extend(self.pipes(b, &mut pre));
        }
        out.extend(pre);
        let reads_target = pipes.iter().any(|p| self.reads(p, tslot));
        let into = if reads_target {
            let t = self.slot(SlotKind::Temp, attrs.clone());
            out.push(Stmt::Clear(t));
            t
        } else {
            if !append {
                out.push(Stmt::Clear(tslot));
            }
            tslot
        };
        for p in pipes {
            out.push(self.emit(p, into, &attrs));
        }
        if reads_target {
            out.push(if append {
                Stmt::Union {
                    target: tslot,
                    source: into,
                }
            } else {
                Stmt::Move {
                    target: tslot,
                    source: into,
                }
            });
        }
    }

    fn is_rel(&self, e: ExprId, r: &RelRef) -> bool {
        matches!(self.ra.expr(e), Expr::Rel(x) if x == r)
    }

    fn reads(&self, p: &Pipe, slot: SlotId) -> bool {
        p.ops.iter().any(|op| match op {
            Op::Scan { slot: s, .. } => *s == slot,
            Op::Probe { index, .. } | Op::Exists { index, .. } => {
                self.out.indexes[index.0 as usize].slot == slot
            }
            _ => false,
        })
    }

    /// The statement that puts a pipe's rows into `target` (columns `attrs`): a bulk union
    /// when the pipe only copies a slot, else a kernel.
    fn emit(&mut self, p: Pipe, target: SlotId, attrs: &[Attr]) -> Stmt {
        let emit: Vec<Term> = attrs
            .iter()
            .map(|a| {
                p.get(a)
                    .cloned()
                    .expect("a validated plan binds every attribute")
            })
            .collect();
        if let [Op::Scan { slot, cols }] = p.ops.as_slice() {
            let copies = cols.len() == emit.len()
                && cols
                    .iter()
                    .zip(&emit)
                    .all(|(c, e)| matches!((c, e), (Bind::Store(r), Term::Reg(s)) if r == s));
            if copies && *slot != target {
                return Stmt::Union {
                    target,
                    source: *slot,
                };
            }
        }
        let id = KernelId(self.out.kernels.len() as u32);
        self.out.kernels.push(Kernel {
            target,
            also: None,
            regs: p.regs,
            ops: p.ops,
            emit,
        });
        Stmt::Run(id)
    }

    /// Materializes an expression into a fresh temporary slot (statements go to `pre`).
    fn materialize(&mut self, e: ExprId, pre: &mut Vec<Stmt>) -> SlotId {
        let attrs = self.ra.schema(e);
        let pipes = self.pipes(e, pre);
        let t = self.slot(SlotKind::Temp, attrs.clone());
        pre.push(Stmt::Clear(t));
        for p in pipes {
            let s = self.emit(p, t, &attrs);
            pre.push(s);
        }
        t
    }

    fn scan(&mut self, slot: SlotId) -> Pipe {
        let attrs = self.out.slot(slot).attrs.clone();
        let mut p = Pipe {
            ops: Vec::new(),
            regs: 0,
            vars: Vec::new(),
        };
        let mut cols = Vec::new();
        for a in attrs {
            let r = p.fresh();
            cols.push(Bind::Store(r));
            p.vars.push((a, Term::Reg(r)));
        }
        p.ops.push(Op::Scan { slot, cols });
        p
    }

    /// The loop nests of an expression, one per union branch.
    fn pipes(&mut self, e: ExprId, pre: &mut Vec<Stmt>) -> Vec<Pipe> {
        match self.ra.expr(e).clone() {
            Expr::Rel(r) => {
                let s = self.rel_slot(&r);
                vec![self.scan(s)]
            }
            Expr::Values { attrs, rows } => {
                let s = self.slot(SlotKind::Values(rows), attrs);
                vec![self.scan(s)]
            }
            Expr::Select { formula, input } => {
                if let Some((acc, rest)) = self.view_access(&formula, input) {
                    let mut p = Pipe {
                        ops: Vec::new(),
                        regs: 0,
                        vars: Vec::new(),
                    };
                    self.probe(&mut p, &acc, &[]);
                    self.filter(&mut p, &Formula::conj(rest));
                    return vec![p];
                }
                let mut ps = self.pipes(input, pre);
                for p in &mut ps {
                    self.filter(p, &formula);
                }
                ps
            }
            Expr::Project { attrs, input } => {
                let mut ps = self.pipes(input, pre);
                for p in &mut ps {
                    p.vars = attrs
                        .iter()
                        .map(|a| (a.clone(), p.get(a).cloned().expect("projected attribute")))
                        .collect();
                }
                ps
            }
            Expr::Rename { pairs, input } => {
                let mut ps = self.pipes(input, pre);
                for p in &mut ps {
                    for (a, _) in &mut p.vars {
                        if let Some((_, to)) = pairs.iter().find(|(f, _)| f == a) {
                            a.clone_from(to);
                        }
                    }
                }
                ps
            }
            Expr::Union(xs) => {
                let schema = self.ra.schema(e);
                let mut out = Vec::new();
                for x in xs {
                    for mut p in self.pipes(x, pre) {
                        p.vars = schema
                            .iter()
                            .map(|a| (a.clone(), p.get(a).cloned().expect("union attribute")))
                            .collect();
                        out.push(p);
                    }
                }
                out
            }
            Expr::Join(a, b) | Expr::Product(a, b) => self.join(a, b, None, None, pre),
            Expr::EquiJoin { pairs, left, right } => self.join(left, right, Some(pairs), None, pre),
            Expr::ThetaJoin {
                formula,
                left,
                right,
            } => self.join(left, right, None, Some(formula), pre),
            Expr::SemiJoin(a, b) => self.exists(a, b, false, pre),
            Expr::AntiJoin(a, b) | Expr::Diff(a, b) => self.exists(a, b, true, pre),
            Expr::GroupBy { keys, aggs, input } => {
                let inp = self.materialize(input, pre);
                let in_attrs = self.out.slot(inp).attrs.clone();
                let cols = keys
                    .iter()
                    .map(|k| in_attrs.iter().position(|a| a == k).expect("group key"))
                    .collect();
                let t = self.slot(SlotKind::Temp, self.ra.schema(e));
                pre.push(Stmt::Clear(t));
                pre.push(Stmt::GroupBy {
                    input: inp,
                    keys: cols,
                    aggs,
                    target: t,
                });
                vec![self.scan(t)]
            }
            Expr::Map { bind, rhs, input } => {
                let mut ps = self.pipes(input, pre);
                for p in &mut ps {
                    let mut read = BTreeSet::new();
                    match &rhs {
                        ra::MapRhs::Operand(Operand::Attr(a)) => {
                            read.insert(a.clone());
                        }
                        ra::MapRhs::Operand(Operand::Const(_)) => {}
                        ra::MapRhs::Call { func, args } => {
                            ra::lit_attrs(
                                &FLit {
                                    negated: false,
                                    test: Test::Call {
                                        func: func.clone(),
                                        args: args.clone(),
                                    },
                                },
                                &mut read,
                            );
                        }
                    }
                    let schema: Vec<Attr> = read.into_iter().collect();
                    let args = schema
                        .iter()
                        .map(|a| p.get(a).cloned().expect("map argument"))
                        .collect();
                    let call = self.call(Call {
                        kind: CallKind::Map {
                            bind: bind.clone(),
                            rhs: rhs.clone(),
                        },
                        schema,
                        args,
                    });
                    let mut outs = Vec::new();
                    for a in bind.attrs() {
                        if p.get(&a).is_some() {
                            // The reference evaluator keeps the first column of a name.
                            outs.push(None);
                        } else {
                            let r = p.fresh();
                            outs.push(Some(r));
                            p.vars.push((a, Term::Reg(r)));
                        }
                    }
                    p.ops.push(Op::Map { call, outs });
                }
                ps
            }
        }
    }

    /// A selection over a store view whose constants pick an index: the view slot and the
    /// literals left to test.
    fn view_access(&mut self, f: &Formula, input: ExprId) -> Option<(Access, Vec<FLit>)> {
        let Expr::Rel(r) = self.ra.expr(input) else {
            return None;
        };
        if !is_view(self.ra, &r.name) {
            return None;
        }
        let conj = f.as_conjunction()?;
        let attrs = self.ra.relation(&r.name)?.attrs.clone();
        let mut consts: Vec<(Attr, Value)> = Vec::new();
        let mut rest = Vec::new();
        // The constants the reference evaluator reads through an index (`view_scan`): the
        // first of each position, an entity as an integer or a lookup ref, an attribute as a
        // keyword, any value.
        for l in conj {
            match l.as_eq_const() {
                Some((x, c)) if !consts.iter().any(|(y, _)| y == x) && index_const(x, c) => {
                    consts.push((x.clone(), c.clone()))
                }
                _ => rest.push(l.clone()),
            }
        }
        if consts.is_empty() {
            return None;
        }
        consts.sort_by(|a, b| a.0.cmp(&b.0));
        // The view's loader reads every constant through the store's index for it (AVET for
        // an attribute and a value, EAVT for an entity), so a view holds only the datoms the
        // pattern can match and a query reads no more of the store than it needs. The loader
        // also resolves lookup refs and matches numbers by `=` (2 and 2.0), as the reference
        // does.
        let (view, keys): (Consts, Consts) = (consts, Vec::new());
        let slot = self.slot(
            SlotKind::View {
                rel: r.name.clone(),
                consts: view.clone(),
            },
            attrs.clone(),
        );
        let mut vars = Vec::new();
        let mut key = Vec::new();
        for (i, a) in attrs.iter().enumerate() {
            if let Some((_, v)) = view.iter().find(|(x, _)| x == a && x == "a") {
                vars.push((a.clone(), Col::Const(v.clone())));
            } else if let Some((_, v)) = keys.iter().find(|(x, _)| x == a) {
                key.push((i, v.clone()));
                vars.push((a.clone(), Col::Const(v.clone())));
            } else {
                vars.push((a.clone(), Col::At(i)));
            }
        }
        Some((
            Access {
                slot,
                vars,
                consts: key,
            },
            rest,
        ))
    }

    /// How a join's right input is read; anything but a (renamed, projected) relation or a
    /// view pattern is materialized first.
    fn access(&mut self, e: ExprId, pre: &mut Vec<Stmt>) -> Access {
        match self.ra.expr(e).clone() {
            Expr::Rel(r) => {
                let slot = self.rel_slot(&r);
                self.whole(slot)
            }
            Expr::Rename { pairs, input } => {
                let mut acc = self.access(input, pre);
                for (a, _) in &mut acc.vars {
                    if let Some((_, to)) = pairs.iter().find(|(f, _)| f == a) {
                        a.clone_from(to);
                    }
                }
                acc
            }
            Expr::Project { attrs, input } => {
                let mut acc = self.access(input, pre);
                acc.vars.retain(|(a, _)| attrs.contains(a));
                acc.vars
                    .sort_by_key(|(a, _)| attrs.iter().position(|x| x == a));
                acc
            }
            Expr::Select { formula, input } => match self.view_access(&formula, input) {
                Some((acc, rest)) if rest.is_empty() => acc,
                _ => self.temp_access(e, pre),
            },
            _ => self.temp_access(e, pre),
        }
    }

    fn temp_access(&mut self, e: ExprId, pre: &mut Vec<Stmt>) -> Access {
        let slot = self.materialize(e, pre);
        self.whole(slot)
    }

    /// Every column of a slot, under the slot's attribute names.
    fn whole(&self, slot: SlotId) -> Access {
        let attrs = self.out.slot(slot).attrs.clone();
        Access {
            slot,
            vars: attrs
                .into_iter()
                .enumerate()
                .map(|(i, a)| (a, Col::At(i)))
                .collect(),
            consts: Vec::new(),
        }
    }

    /// Nests a probe of `acc` in the pipe: the key is the constant columns, then the columns
    /// matched with the pipe's attributes (`pairs`: pipe attribute, access attribute); the
    /// access's other attributes are bound to fresh registers.
    fn probe(&mut self, p: &mut Pipe, acc: &Access, pairs: &[(Attr, Attr)]) {
        let arity = self.out.slot(acc.slot).arity();
        let mut key: Vec<(usize, Term)> = acc
            .consts
            .iter()
            .map(|(c, v)| (*c, Term::Const(v.clone())))
            .collect();
        let mut checks = Vec::new();
        let mut matched = BTreeSet::new();
        let mut new_vars = Vec::new();
        for (l, r) in pairs {
            let lt = p.get(l).cloned().expect("join attribute on the left");
            match acc.vars.iter().find(|(a, _)| a == r).map(|(_, c)| c) {
                Some(Col::At(c)) => {
                    if let Some((_, t)) = key.iter().find(|(k, _)| k == c) {
                        checks.push((lt.clone(), t.clone()));
                    } else {
                        key.push((*c, lt.clone()));
                    }
                }
                Some(Col::Const(v)) => checks.push((lt.clone(), Term::Const(v.clone()))),
                None => {}
            }
            if l != r {
                // An equijoin keeps both names; the right one holds the left one's value.
                new_vars.push((r.clone(), lt));
            }
            matched.insert(r.clone());
        }
        key.sort_by_key(|(c, _)| *c);
        let mut cols = vec![Bind::Skip; arity];
        for (a, c) in &acc.vars {
            if matched.contains(a) {
                continue;
            }
            match c {
                Col::At(i) => {
                    if key.iter().any(|(k, _)| k == i) {
                        // A key column read under a second name holds the key's value.
                        let t = key.iter().find(|(k, _)| k == i).map(|(_, t)| t.clone());
                        new_vars.push((a.clone(), t.expect("key term")));
                        continue;
                    }
                    if let Bind::Store(r) = &cols[*i] {
                        new_vars.push((a.clone(), Term::Reg(*r)));
                        continue;
                    }
                    let r = p.fresh();
                    cols[*i] = Bind::Store(r);
                    new_vars.push((a.clone(), Term::Reg(r)));
                }
                Col::Const(v) => new_vars.push((a.clone(), Term::Const(v.clone()))),
            }
        }
        if key.is_empty() {
            p.ops.push(Op::Scan {
                slot: acc.slot,
                cols,
            });
        } else {
            let index = self.index(acc.slot, key.iter().map(|(c, _)| *c).collect());
            p.ops.push(Op::Probe {
                index,
                key: key.into_iter().map(|(_, t)| t).collect(),
                cols,
            });
        }
        for (a, b) in checks {
            p.ops.push(Op::Same(a, b));
        }
        for (a, t) in new_vars {
            if p.get(&a).is_none() {
                p.vars.push((a, t));
            }
        }
    }

    fn join(
        &mut self,
        a: ExprId,
        b: ExprId,
        pairs: Option<Vec<(Attr, Attr)>>,
        theta: Option<Formula>,
        pre: &mut Vec<Stmt>,
    ) -> Vec<Pipe> {
        let mut ps = self.pipes(a, pre);
        let acc = self.access(b, pre);
        for p in &mut ps {
            let pairs: Vec<(Attr, Attr)> = match &pairs {
                Some(xs) => xs.clone(),
                None => acc
                    .vars
                    .iter()
                    .filter(|(x, _)| p.get(x).is_some())
                    .map(|(x, _)| (x.clone(), x.clone()))
                    .collect(),
            };
            self.probe(p, &acc, &pairs);
            if let Some(f) = &theta {
                self.filter(p, f);
            }
        }
        ps
    }

    /// Whether an access picks rows by a constant besides the attribute (an entity or a
    /// value), in its key or in its view's loader: few rows next to a whole attribute.
    fn selective(&self, acc: &Access) -> bool {
        !acc.consts.is_empty()
            || matches!(&self.out.slot(acc.slot).kind,
                SlotKind::View { consts, .. } if consts.iter().any(|(x, _)| x != "a"))
    }

    /// Whether an expression is read by `access` without materializing it: a relation or a
    /// store-view pattern of constants, renamed and projected.
    fn is_plain(&self, e: ExprId) -> bool {
        match self.ra.expr(e) {
            Expr::Rel(_) => true,
            Expr::Rename { input, .. } | Expr::Project { input, .. } => self.is_plain(*input),
            Expr::Select { formula, input } => {
                let Expr::Rel(r) = self.ra.expr(*input) else {
                    return false;
                };
                let Some(conj) = formula.as_conjunction() else {
                    return false;
                };
                let mut seen = BTreeSet::new();
                is_view(self.ra, &r.name)
                    && conj.iter().all(|l| match l.as_eq_const() {
                        Some((x, c)) => seen.insert(x.clone()) && index_const(x, c),
                        None => false,
                    })
            }
            _ => false,
        }
    }

    fn exists(&mut self, a: ExprId, b: ExprId, negated: bool, pre: &mut Vec<Stmt>) -> Vec<Pipe> {
        // `semijoin(a, b)` where b picks rows by constants (`[?e :name "Ivan"]`) and a is a
        // pattern: drive the loop from b's few rows and probe a, instead of scanning all of a
        // to test each row against b. Both give the set of a's rows that have a match.
        if !negated && self.is_plain(a) && self.is_plain(b) {
            let acc_b = self.access(b, pre);
            if self.selective(&acc_b) {
                let acc_a = self.access(a, pre);
                let mut p = Pipe {
                    ops: Vec::new(),
                    regs: 0,
                    vars: Vec::new(),
                };
                self.probe(&mut p, &acc_b, &[]);
                let pairs: Vec<(Attr, Attr)> = acc_a
                    .vars
                    .iter()
                    .filter(|(x, _)| p.get(x).is_some())
                    .map(|(x, _)| (x.clone(), x.clone()))
                    .collect();
                self.probe(&mut p, &acc_a, &pairs);
                let schema = self.ra.schema(a);
                p.vars = schema
                    .iter()
                    .map(|x| (x.clone(), p.get(x).cloned().expect("semijoin attribute")))
                    .collect();
                return vec![p];
            }
        }
        let mut ps = self.pipes(a, pre);
        let mut acc = self.access(b, pre);
        // A constant attribute of the right input cannot be part of an index key; test a
        // materialized copy instead.
        if acc.vars.iter().any(|(_, c)| matches!(c, Col::Const(_)))
            && ps.iter().any(|p| {
                acc.vars
                    .iter()
                    .any(|(x, c)| matches!(c, Col::Const(_)) && p.get(x).is_some())
            })
        {
            acc = self.temp_access(b, pre);
        }
        for p in &mut ps {
            let mut key: Vec<(usize, Term)> = acc
                .consts
                .iter()
                .map(|(c, v)| (*c, Term::Const(v.clone())))
                .collect();
            for (x, c) in &acc.vars {
                if let (Col::At(i), Some(t)) = (c, p.get(x)) {
                    key.push((*i, t.clone()));
                }
            }
            key.sort_by_key(|(c, _)| *c);
            let index = self.index(acc.slot, key.iter().map(|(c, _)| *c).collect());
            p.ops.push(Op::Exists {
                index,
                key: key.into_iter().map(|(_, t)| t).collect(),
                negated,
            });
        }
        ps
    }

    fn term(&self, p: &Pipe, o: &Operand) -> Term {
        match o {
            Operand::Const(v) => Term::Const(v.clone()),
            Operand::Attr(a) => p
                .get(a)
                .cloned()
                .expect("a validated plan binds the attribute"),
        }
    }

    fn filter(&mut self, p: &mut Pipe, f: &Formula) {
        if f.is_true() {
            return;
        }
        let mut disjuncts = Vec::new();
        for d in &f.disjuncts {
            let mut lits = Vec::new();
            for l in d {
                let mut read = BTreeSet::new();
                ra::lit_attrs(l, &mut read);
                let schema: Vec<Attr> = read.into_iter().collect();
                let args = schema
                    .iter()
                    .map(|a| self.term(p, &Operand::Attr(a.clone())))
                    .collect();
                let cmp = match &l.test {
                    Test::Cmp { op, lhs, rhs } => Some((*op, self.term(p, lhs), self.term(p, rhs))),
                    Test::Call { .. } => None,
                };
                let call = self.call(Call {
                    kind: CallKind::Test(l.test.clone()),
                    schema,
                    args,
                });
                lits.push(Lit {
                    negated: l.negated,
                    call,
                    cmp,
                });
            }
            disjuncts.push(lits);
        }
        p.ops.push(Op::Filter { disjuncts });
    }
}

/// Whether a pattern constant `x = c` on a store view is read through the store's index (as
/// the reference evaluator's `view_scan` reads it): an entity as an integer or a lookup ref,
/// an attribute as a keyword, any value.
fn index_const(x: &str, c: &Value) -> bool {
    match x {
        "e" => matches!(c, Value::Int(_) | Value::Tuple(_)),
        "a" => matches!(c, Value::Keyword(_)),
        "v" => true,
        _ => false,
    }
}

/// Whether a relation of the plan is a store view (by its declared kind, not its name).
fn is_view(ra: &Plan, name: &str) -> bool {
    ra.relation(name)
        .is_some_and(|d| d.kind.view_source().is_some())
}
