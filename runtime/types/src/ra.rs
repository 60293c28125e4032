//! PomoRA plans (ARCHITECTURE §5): the relational-algebra program that every backend executes.
//!
//! A [`Plan`] declares its relations, then lists strata of statements; a statement assigns an
//! expression to a relation version (`R`, `R@delta`, `R@new`, `R@next`) or loops to a fixpoint.
//! Expressions live in an arena ([`Plan::exprs`]) and refer to their inputs by [`ExprId`]
//! (ARCHITECTURE, convention 6), so passes rewrite nodes in place and walks use work lists. Lowering builds trees
//! (no node has two parents); unreachable nodes may linger after a pass and are dropped by
//! [`Plan::compact`]. Attributes are named; an expression's attribute order is defined by
//! [`Plan::schema`] and is what printing and the runtime use.

use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// An attribute name: a relation's attribute (`from`) or a variable (`?x`).
pub type Attr = String;

/// How a query input binds (`:in ?x`, `[?a ?b]`, `[?x ...]`, `[[?a ?b]]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BindKind {
    Scalar,
    Tuple,
    Collection,
    Relation,
}

/// What one position of a query's input signature takes, in order: the signature a compilation
/// returns and an artifact stores, so that running a query never rebuilds it from names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputSlot {
    /// A database (`$`, `$name`).
    Source(String),
    /// A rule set (`%`): compiled into the plan, ignored when given.
    Rules,
    /// A value bound to the named input relation.
    Relation { name: String, kind: BindKind },
    /// `_`: ignored.
    Ignore,
}

impl BindKind {
    pub fn keyword(self) -> &'static str {
        match self {
            BindKind::Scalar => "scalar",
            BindKind::Tuple => "tuple",
            BindKind::Collection => "collection",
            BindKind::Relation => "relation",
        }
    }
    pub fn from_keyword(s: &str) -> Option<BindKind> {
        Some(match s {
            "scalar" => BindKind::Scalar,
            "tuple" => BindKind::Tuple,
            "collection" => BindKind::Collection,
            "relation" => BindKind::Relation,
            _ => return None,
        })
    }
}

/// The shape of a query's result (`:find ?a ?b`, `[?a ...]`, `?a .`, `[?a ?b]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FindKind {
    Relation,
    Collection,
    Scalar,
    Tuple,
}

impl FindKind {
    pub fn keyword(self) -> &'static str {
        match self {
            FindKind::Relation => "relation",
            FindKind::Collection => "collection",
            FindKind::Scalar => "scalar",
            FindKind::Tuple => "tuple",
        }
    }
    pub fn from_keyword(s: &str) -> Option<FindKind> {
        Some(match s {
            "relation" => FindKind::Relation,
            "collection" => FindKind::Collection,
            "scalar" => FindKind::Scalar,
            "tuple" => FindKind::Tuple,
            _ => return None,
        })
    }
}

/// `:keys`, `:strs`, `:syms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReturnKind {
    Keys,
    Strs,
    Syms,
}

impl ReturnKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ReturnKind::Keys => "keys",
            ReturnKind::Strs => "strs",
            ReturnKind::Syms => "syms",
        }
    }
    pub fn from_keyword(s: &str) -> Option<ReturnKind> {
        Some(match s {
            "keys" => ReturnKind::Keys,
            "strs" => ReturnKind::Strs,
            "syms" => ReturnKind::Syms,
            _ => return None,
        })
    }
}

/// How an output relation becomes a query result. The relation's attributes are the find
/// columns followed by the `with` columns; with `with` columns and no aggregate the result is
/// the bag of find columns (DataScript's semantics).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OutputSpec {
    pub find: FindKind,
    pub with: Vec<Attr>,
    pub ret: Option<(ReturnKind, Vec<String>)>,
    /// Find columns that hold entities to pull (`(pull ?e pattern)`).
    pub pulls: Vec<PullSpec>,
    /// A SQL result: row identities, sort keys, limit (`None` for Datalog queries).
    pub sql: Option<SqlShape>,
}

/// How a SQL query's output relation becomes its rows. The relation's attributes are
/// `hidden` identity columns (entity ids and the like that keep equal rows apart: SQL is
/// bag-valued), then the printed columns, then the sort keys. The rows are the relation's
/// tuples (one per distinct tuple, so equal printed rows with different identities stay),
/// sorted by `order`, cut by `offset` and `limit`, and projected on the printed columns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SqlShape {
    pub hidden: usize,
    /// The printed columns' names (as SQL names them: alias, column name or expression text).
    pub names: Vec<String>,
    /// Sort keys: a column index into the relation and whether it sorts descending.
    pub order: Vec<(usize, bool)>,
    pub limit: Option<u64>,
    pub offset: u64,
}

impl SqlShape {
    /// The shape as the arguments of an `.output` line's `sql(…)` option.
    pub fn args(&self) -> Vec<String> {
        let mut out = vec![format!("hidden={}", self.hidden)];
        out.extend(self.names.iter().map(|n| format!("name={n}")));
        out.extend(
            self.order
                .iter()
                .map(|(c, d)| format!("order={c}{}", if *d { " desc" } else { "" })),
        );
        if let Some(l) = self.limit {
            out.push(format!("limit={l}"));
        }
        if self.offset > 0 {
            out.push(format!("offset={}", self.offset));
        }
        out
    }

    /// Reads [`SqlShape::args`] back.
    pub fn from_args(args: &[String]) -> Result<SqlShape, String> {
        let mut s = SqlShape {
            hidden: 0,
            names: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: 0,
        };
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("`{v}` is not a number"))
        };
        for a in args {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("`{a}`: expected key=value"))?;
            match k {
                "hidden" => s.hidden = num(v)? as usize,
                "name" => s.names.push(v.to_string()),
                "order" => {
                    let (c, desc) = match v.strip_suffix(" desc") {
                        Some(c) => (c, true),
                        None => (v, false),
                    };
                    s.order.push((num(c)? as usize, desc));
                }
                "limit" => s.limit = Some(num(v)?),
                "offset" => s.offset = num(v)?,
                _ => return Err(format!("unknown sql shape key `{k}`")),
            }
        }
        Ok(s)
    }
}

/// `(pull $src ?e pattern)` in `:find`: the entity in find column `column` is replaced by the
/// map the pattern pulls from source `source`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PullSpec {
    pub column: usize,
    pub source: String,
    pub pattern: PullPattern,
}

/// A pull pattern, as data (DataScript's pattern grammar in EDN values), or the input relation
/// whose scalar value is the pattern (`(pull ?e ?pattern)`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PullPattern {
    Const(Value),
    Input(String),
}

impl OutputSpec {
    pub fn relation() -> OutputSpec {
        OutputSpec {
            find: FindKind::Relation,
            with: Vec::new(),
            ret: None,
            pulls: Vec::new(),
            sql: None,
        }
    }

    /// The parts of the spec as text: the find kind, then `with(…)` and `keys(…)` when given.
    /// `.output` lines join them with spaces, PomoRA declarations with commas in brackets.
    pub fn parts(&self) -> Vec<String> {
        let mut parts = vec![self.find.keyword().to_string()];
        if !self.with.is_empty() {
            parts.push(format!("with({})", self.with.join(", ")));
        }
        if let Some((kind, names)) = &self.ret {
            let quoted: Vec<String> = names.iter().map(|n| quote(n)).collect();
            parts.push(format!("{}({})", kind.keyword(), quoted.join(", ")));
        }
        for p in &self.pulls {
            let (kind, text) = match &p.pattern {
                PullPattern::Const(v) => ("const", crate::value::to_edn(v)),
                PullPattern::Input(r) => ("input", r.clone()),
            };
            let args = [
                p.column.to_string(),
                p.source.clone(),
                kind.to_string(),
                text,
            ];
            let quoted: Vec<String> = args.iter().map(|a| quote(a)).collect();
            parts.push(format!("pull({})", quoted.join(", ")));
        }
        if let Some(sql) = &self.sql {
            let quoted: Vec<String> = sql.args().iter().map(|a| quote(a)).collect();
            parts.push(format!("sql({})", quoted.join(", ")));
        }
        parts
    }
}

fn quote(s: &str) -> String {
    let mut out = String::new();
    crate::value::write_string_literal(&mut out, s).expect("writing to a String cannot fail");
    out
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RelKind {
    /// A base relation of a PomoLogic program: the store's entities with the attributes
    /// `:R/a`, or the rows an application feeds.
    Base,
    /// A store view: the datoms (`e a v t m added`) of the database or collection bound to
    /// `source` (`$`, `$name`). The front ends create views (`datom`, `datom$name`, `fact`);
    /// no later stage recognises one by its name.
    View { source: String },
    /// The causal graph of the database bound to `source`: `(fact, cause)`, the CID of every
    /// fact in the view's time bounds and of each fact it names as a cause. The front ends
    /// create it (`cause`, `cause$name`).
    Causes { source: String },
    /// A query input.
    Input(BindKind),
    /// Derived by the plan.
    Derived,
    /// Derived, and the plan's result.
    Output(OutputSpec),
}

impl RelKind {
    /// The store view over `source` (`$`, `$name`).
    pub fn view(source: &str) -> RelKind {
        RelKind::View {
            source: source.to_string(),
        }
    }

    /// The source a store view reads; `None` for every other kind.
    pub fn view_source(&self) -> Option<&str> {
        match self {
            RelKind::View { source } => Some(source),
            _ => None,
        }
    }

    /// Whether the relation's tuples come from outside the plan (a base relation, a store
    /// view or an input) rather than being derived by it.
    pub fn is_loaded(&self) -> bool {
        matches!(
            self,
            RelKind::Base | RelKind::View { .. } | RelKind::Causes { .. } | RelKind::Input(_)
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RelDecl {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub kind: RelKind,
}

/// Which version of a relation a statement reads or writes (semi-naive evaluation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Version {
    /// The accumulated relation.
    Total,
    /// The tuples new in the previous iteration.
    Delta,
    /// The tuples derived in this iteration and not yet known.
    New,
    /// Tuples delivered at the next epoch (inductive rules).
    Next,
}

impl Version {
    pub fn suffix(self) -> &'static str {
        match self {
            Version::Total => "",
            Version::Delta => "@delta",
            Version::New => "@new",
            Version::Next => "@next",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RelRef {
    pub name: String,
    pub version: Version,
}

impl RelRef {
    pub fn total(name: impl Into<String>) -> RelRef {
        RelRef {
            name: name.into(),
            version: Version::Total,
        }
    }
    pub fn with_version(name: impl Into<String>, version: Version) -> RelRef {
        RelRef {
            name: name.into(),
            version,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExprId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The symbol PomoRA text uses.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// `a op b` ⇔ `b op.flip() a`.
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            o => o,
        }
    }

    /// `!(a op b)` ⇔ `a op.negate() b`.
    pub fn negate(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Ne,
            CmpOp::Ne => CmpOp::Eq,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Le => CmpOp::Gt,
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Ge => CmpOp::Lt,
        }
    }

    /// Evaluates the comparison on two values (the order of [`Value`]).
    pub fn eval(self, a: &Value, b: &Value) -> bool {
        self.holds(a.cmp(b))
    }

    /// Whether the comparison holds for two operands that compare as `ord`.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        match self {
            CmpOp::Eq => ord.is_eq(),
            CmpOp::Ne => ord.is_ne(),
            CmpOp::Lt => ord.is_lt(),
            CmpOp::Le => ord.is_le(),
            CmpOp::Gt => ord.is_gt(),
            CmpOp::Ge => ord.is_ge(),
        }
    }

    /// The stdlib predicate that evaluates the comparison (`eq`, `lt`, …).
    pub fn builtin(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operand {
    Attr(Attr),
    Const(Value),
}

/// A function being called: a built-in by canonical name, or a host function held in an
/// attribute (an input bound to a function).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Callee {
    Builtin(String),
    Attr(Attr),
}

impl std::fmt::Display for Callee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Callee::Builtin(n) => f.write_str(n),
            Callee::Attr(a) => f.write_str(a),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Test {
    Cmp {
        op: CmpOp,
        lhs: Operand,
        rhs: Operand,
    },
    /// A predicate call.
    Call { func: Callee, args: Vec<Operand> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FLit {
    pub negated: bool,
    pub test: Test,
}

impl FLit {
    /// `attr = constant`, positive: the literal of a data pattern's constant.
    pub fn as_eq_const(&self) -> Option<(&Attr, &Value)> {
        match self {
            FLit {
                negated: false,
                test:
                    Test::Cmp {
                        op: CmpOp::Eq,
                        lhs: Operand::Attr(x),
                        rhs: Operand::Const(c),
                    },
            } => Some((x, c)),
            _ => None,
        }
    }
}

/// A formula in disjunctive normal form: `true` has one empty conjunction, `false` none.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Formula {
    pub disjuncts: Vec<Vec<FLit>>,
}

impl Formula {
    pub fn truth() -> Formula {
        Formula {
            disjuncts: vec![Vec::new()],
        }
    }
    pub fn falsity() -> Formula {
        Formula {
            disjuncts: Vec::new(),
        }
    }
    pub fn conj(lits: Vec<FLit>) -> Formula {
        Formula {
            disjuncts: vec![lits],
        }
    }
    pub fn is_true(&self) -> bool {
        self.disjuncts.iter().any(|d| d.is_empty())
    }
    pub fn is_false(&self) -> bool {
        self.disjuncts.is_empty()
    }
    /// The single conjunction, when the formula has exactly one.
    pub fn as_conjunction(&self) -> Option<&[FLit]> {
        match self.disjuncts.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
    /// The attributes the formula reads.
    pub fn attrs(&self) -> BTreeSet<Attr> {
        let mut out = BTreeSet::new();
        for lit in self.disjuncts.iter().flatten() {
            lit_attrs(lit, &mut out);
        }
        out
    }
}

/// Adds the attributes a formula literal reads to `out`.
pub fn lit_attrs(lit: &FLit, out: &mut BTreeSet<Attr>) {
    let mut add = |o: &Operand| {
        if let Operand::Attr(a) = o {
            out.insert(a.clone());
        }
    };
    match &lit.test {
        Test::Cmp { lhs, rhs, .. } => {
            add(lhs);
            add(rhs);
        }
        Test::Call { func, args } => {
            if let Callee::Attr(a) = func {
                add(&Operand::Attr(a.clone()));
            }
            args.iter().for_each(add);
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AggCall {
    pub out: Attr,
    pub func: Callee,
    pub args: Vec<Operand>,
}

/// The left side of a `map`: what the function's result binds. `None` entries are `_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MapBind {
    Scalar(Attr),
    Tuple(Vec<Option<Attr>>),
    Coll(Attr),
    Rel(Vec<Option<Attr>>),
}

impl MapBind {
    /// The attributes the map adds, in order.
    pub fn attrs(&self) -> Vec<Attr> {
        match self {
            MapBind::Scalar(a) | MapBind::Coll(a) => vec![a.clone()],
            MapBind::Tuple(xs) | MapBind::Rel(xs) => xs.iter().flatten().cloned().collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MapRhs {
    Call { func: Callee, args: Vec<Operand> },
    Operand(Operand),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expr {
    Rel(RelRef),
    Project {
        attrs: Vec<Attr>,
        input: ExprId,
    },
    Rename {
        pairs: Vec<(Attr, Attr)>,
        input: ExprId,
    },
    Select {
        formula: Formula,
        input: ExprId,
    },
    Union(Vec<ExprId>),
    Diff(ExprId, ExprId),
    Product(ExprId, ExprId),
    Join(ExprId, ExprId),
    ThetaJoin {
        formula: Formula,
        left: ExprId,
        right: ExprId,
    },
    EquiJoin {
        pairs: Vec<(Attr, Attr)>,
        left: ExprId,
        right: ExprId,
    },
    SemiJoin(ExprId, ExprId),
    AntiJoin(ExprId, ExprId),
    GroupBy {
        keys: Vec<Attr>,
        aggs: Vec<AggCall>,
        input: ExprId,
    },
    /// Extends each tuple with the result of a function (or an operand's value); a collection or
    /// relation binding yields one tuple per element, and a call that returns nothing drops the
    /// tuple.
    Map {
        bind: MapBind,
        rhs: MapRhs,
        input: ExprId,
    },
    Values {
        attrs: Vec<Attr>,
        rows: Vec<Vec<Value>>,
    },
}

impl Expr {
    /// The expression's inputs, in order.
    pub fn children(&self) -> Vec<ExprId> {
        match self {
            Expr::Rel(_) | Expr::Values { .. } => vec![],
            Expr::Project { input, .. }
            | Expr::Rename { input, .. }
            | Expr::Select { input, .. }
            | Expr::GroupBy { input, .. }
            | Expr::Map { input, .. } => vec![*input],
            Expr::Union(xs) => xs.clone(),
            Expr::Diff(a, b)
            | Expr::Product(a, b)
            | Expr::Join(a, b)
            | Expr::SemiJoin(a, b)
            | Expr::AntiJoin(a, b)
            | Expr::ThetaJoin {
                left: a, right: b, ..
            }
            | Expr::EquiJoin {
                left: a, right: b, ..
            } => vec![*a, *b],
        }
    }

    /// Mutable references to the expression's inputs.
    pub fn children_mut(&mut self) -> Vec<&mut ExprId> {
        match self {
            Expr::Rel(_) | Expr::Values { .. } => vec![],
            Expr::Project { input, .. }
            | Expr::Rename { input, .. }
            | Expr::Select { input, .. }
            | Expr::GroupBy { input, .. }
            | Expr::Map { input, .. } => vec![input],
            Expr::Union(xs) => xs.iter_mut().collect(),
            Expr::Diff(a, b)
            | Expr::Product(a, b)
            | Expr::Join(a, b)
            | Expr::SemiJoin(a, b)
            | Expr::AntiJoin(a, b)
            | Expr::ThetaJoin {
                left: a, right: b, ..
            }
            | Expr::EquiJoin {
                left: a, right: b, ..
            } => vec![a, b],
        }
    }

    /// The operator's name in PomoRA text.
    pub fn op_name(&self) -> &'static str {
        match self {
            Expr::Rel(_) => "rel",
            Expr::Project { .. } => "project",
            Expr::Rename { .. } => "rename",
            Expr::Select { .. } => "select",
            Expr::Union(_) => "union",
            Expr::Diff(..) => "diff",
            Expr::Product(..) => "product",
            Expr::Join(..) => "join",
            Expr::ThetaJoin { .. } => "theta_join",
            Expr::EquiJoin { .. } => "equijoin",
            Expr::SemiJoin(..) => "semijoin",
            Expr::AntiJoin(..) => "antijoin",
            Expr::GroupBy { .. } => "group_by",
            Expr::Map { .. } => "map",
            Expr::Values { .. } => "values",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stmt {
    Assign {
        target: RelRef,
        expr: ExprId,
    },
    /// Runs `body` until every relation in `until` is empty.
    Loop {
        body: Vec<Stmt>,
        until: Vec<RelRef>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stratum {
    pub recursive: bool,
    pub stmts: Vec<Stmt>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Plan {
    pub relations: Vec<RelDecl>,
    pub strata: Vec<Stratum>,
    pub exprs: Vec<Expr>,
}

impl Plan {
    pub fn add(&mut self, e: Expr) -> ExprId {
        self.exprs.push(e);
        ExprId((self.exprs.len() - 1) as u32)
    }

    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.exprs[id.0 as usize]
    }

    pub fn expr_mut(&mut self, id: ExprId) -> &mut Expr {
        &mut self.exprs[id.0 as usize]
    }

    pub fn relation(&self, name: &str) -> Option<&RelDecl> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The plan's output relation, if it has one.
    pub fn output(&self) -> Option<&RelDecl> {
        self.relations
            .iter()
            .find(|r| matches!(r.kind, RelKind::Output(_)))
    }

    /// Every statement root, in program order (loop bodies included).
    pub fn roots(&self) -> Vec<ExprId> {
        fn walk(stmts: &[Stmt], out: &mut Vec<ExprId>) {
            for s in stmts {
                match s {
                    Stmt::Assign { expr, .. } => out.push(*expr),
                    Stmt::Loop { body, .. } => walk(body, out),
                }
            }
        }
        let mut out = Vec::new();
        for st in &self.strata {
            walk(&st.stmts, &mut out);
        }
        out
    }

    /// The attributes of an expression, in their defined order. Unknown relations have no
    /// attributes (the validator reports them).
    ///
    /// ```
    /// use pomo_types::ra::*;
    /// let mut plan = Plan::default();
    /// plan.relations.push(RelDecl { name: "edge".into(), attrs: vec!["from".into(), "to".into()], kind: RelKind::Base });
    /// let edge = plan.add(Expr::Rel(RelRef::total("edge")));
    /// let renamed = plan.add(Expr::Rename { pairs: vec![("from".into(), "?x".into())], input: edge });
    /// assert_eq!(plan.schema(renamed), vec!["?x".to_string(), "to".to_string()]);
    /// assert_eq!(plan.expr_line(renamed), "rename[from -> ?x](edge)");
    /// ```
    pub fn schema(&self, id: ExprId) -> Vec<Attr> {
        match self.expr(id) {
            Expr::Rel(r) => self
                .relation(&r.name)
                .map(|d| d.attrs.clone())
                .unwrap_or_default(),
            Expr::Project { attrs, .. } => attrs.clone(),
            Expr::Rename { pairs, input } => {
                let mut s = self.schema(*input);
                for a in &mut s {
                    if let Some((_, t)) = pairs.iter().find(|(f, _)| f == a) {
                        a.clone_from(t);
                    }
                }
                s
            }
            Expr::Select { input, .. } => self.schema(*input),
            Expr::Union(xs) => xs.first().map(|x| self.schema(*x)).unwrap_or_default(),
            Expr::Diff(a, _) | Expr::SemiJoin(a, _) | Expr::AntiJoin(a, _) => self.schema(*a),
            Expr::Product(a, b)
            | Expr::Join(a, b)
            | Expr::ThetaJoin {
                left: a, right: b, ..
            }
            | Expr::EquiJoin {
                left: a, right: b, ..
            } => {
                let mut s = self.schema(*a);
                for x in self.schema(*b) {
                    if !s.contains(&x) {
                        s.push(x);
                    }
                }
                s
            }
            Expr::GroupBy { keys, aggs, .. } => keys
                .iter()
                .cloned()
                .chain(aggs.iter().map(|a| a.out.clone()))
                .collect(),
            Expr::Map { bind, input, .. } => {
                let mut s = self.schema(*input);
                for a in bind.attrs() {
                    if !s.contains(&a) {
                        s.push(a);
                    }
                }
                s
            }
            Expr::Values { attrs, .. } => attrs.clone(),
        }
    }

    /// Copies the expressions reachable from the statements into a fresh arena, in the order a
    /// depth-first walk of the statements meets them, so that equal plans have equal arenas.
    pub fn compact(&mut self) {
        let mut new_exprs: Vec<Expr> = Vec::new();
        let old = std::mem::take(&mut self.exprs);
        fn copy(old: &[Expr], id: ExprId, out: &mut Vec<Expr>) -> ExprId {
            let mut e = old[id.0 as usize].clone();
            for c in e.children_mut() {
                *c = copy(old, *c, out);
            }
            out.push(e);
            ExprId((out.len() - 1) as u32)
        }
        fn walk(stmts: &mut [Stmt], old: &[Expr], out: &mut Vec<Expr>) {
            for s in stmts {
                match s {
                    Stmt::Assign { expr, .. } => *expr = copy(old, *expr, out),
                    Stmt::Loop { body, .. } => walk(body, old, out),
                }
            }
        }
        let mut strata = std::mem::take(&mut self.strata);
        for st in &mut strata {
            walk(&mut st.stmts, &old, &mut new_exprs);
        }
        self.strata = strata;
        self.exprs = new_exprs;
    }
}
