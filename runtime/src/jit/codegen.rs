//! Cranelift code generation for kernels: each [`Kernel`] of a [`KernelPlan`] becomes one native
//! function `fn(ctx, params) -> i64` following the contract of [`super::abi`] (words, parameter
//! layout, helpers). This is the only module that touches Cranelift (STYLE 9): it owns the
//! contexts and builds functions through the `Module` trait, so an object-file backend or a
//! Cranelift upgrade changes this file alone.
//!
//! The loop nest is generated iteratively: every looping operation (`Scan`, `Probe`, `Map`) opens
//! a loop whose "continue" block advances to its next row, and every later operation jumps to the
//! innermost continue block when its row fails. The outermost loop leaves to a block that returns
//! 0; a helper failure leaves to a block that returns -1. Registers, loop counters and chain
//! positions are Cranelift `Variable`s, so the SSA form is the frontend's business. All words of
//! the parameter block are loaded once in the entry block, so nothing the driver passes is
//! reloaded per row. Key, argument and row words handed to helpers go through one scratch stack
//! slot as wide as the widest such list; every value stored there is consumed by the helper call
//! that immediately follows, so sharing it is safe.
//!
//! Invariants: generation never panics on a plan (bad ids, registers or layouts give `Err`), the
//! CLIF text of a kernel depends only on the plan (the function is named `%k<id>` while printed,
//! helpers are declared in [`abi::HELPERS`] order), and compiled code stays valid as long as its
//! [`Codegen`] lives. The target's pointers must be 64 bits wide, like the words.

use super::abi::{self, KernelFn, NONE, Param, int_word};
use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Block, FuncRef, InstBuilder, MemFlagsData, Signature, StackSlot, StackSlotData,
    StackSlotKind, UserFuncName, Value as Val, types,
};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use pomo_types::Value;
use pomo_types::kernel::*;
use pomo_types::ra::CmpOp;
use std::mem::ManuallyDrop;

/// The helpers' positions in [`abi::HELPERS`] (and in every helper table of this module).
const PROBE: usize = 0;
const EXISTS: usize = 1;
const INSERT: usize = 2;
const TEST: usize = 3;
const MAP: usize = 4;

/// Compiles kernels into one JIT module and keeps their code alive.
pub struct Codegen {
    /// Freed in `Drop`, which is why it is wrapped: `free_memory` consumes the module.
    module: ManuallyDrop<JITModule>,
    /// A second module for large kernels, whose code Cranelift allocates registers for in a
    /// single pass (made on first use). The backtracking allocator's time grows faster than
    /// linearly in a function's size: a 64-table join's kernel spent 200 ms in it.
    large: Option<(ManuallyDrop<JITModule>, [FuncId; 5])>,
    /// The helper addresses (as integers, so that the generator stays `Send`).
    symbols: Vec<(&'static str, usize)>,
    ctx: Context,
    fctx: FunctionBuilderContext,
    helpers: [FuncId; 5],
    /// Numbers the compiled functions, whose symbol names must be unique in the module.
    next: u32,
}

impl Codegen {
    /// Sets up the host ISA and a JIT module whose helper symbols resolve to `symbols`, which
    /// must name every helper of [`abi::HELPERS`].
    pub fn new(symbols: &[(&'static str, *const u8)]) -> Result<Codegen, String> {
        let (module, helpers) = jit_module(symbols, "backtracking")?;
        Ok(Codegen {
            ctx: module.make_context(),
            module: ManuallyDrop::new(module),
            large: None,
            symbols: symbols.iter().map(|(n, a)| (*n, *a as usize)).collect(),
            fctx: FunctionBuilderContext::new(),
            helpers,
            next: 0,
        })
    }

    /// Compiles one kernel; returns its entry point (the run path: no CLIF text is kept).
    pub fn compile_fn(&mut self, plan: &KernelPlan, k: KernelId) -> Result<KernelFn, String> {
        self.compile_inner(plan, k, &[], false).map(|(f, _)| f)
    }

    /// Compiles one kernel whose `growing` slots (by slot id) may gain rows while it runs:
    /// their columns and their indexes' chains are read through the parameter block at each
    /// row, since a helper call (a probe that loads rows from the store) may move them.
    pub fn compile_growing(
        &mut self,
        plan: &KernelPlan,
        k: KernelId,
        growing: &[bool],
    ) -> Result<KernelFn, String> {
        self.compile_inner(plan, k, growing, false).map(|(f, _)| f)
    }

    /// Compiles one kernel; returns its entry point and its CLIF text (the function as
    /// Cranelift prints it before compilation), which depends only on the plan.
    pub fn compile(
        &mut self,
        plan: &KernelPlan,
        k: KernelId,
    ) -> Result<(KernelFn, String), String> {
        self.compile_inner(plan, k, &[], true)
            .map(|(f, t)| (f, t.unwrap_or_default()))
    }

    fn compile_inner(
        &mut self,
        plan: &KernelPlan,
        k: KernelId,
        growing: &[bool],
        want_text: bool,
    ) -> Result<(KernelFn, Option<String>), String> {
        let large = plan
            .kernels
            .get(k.0 as usize)
            .is_some_and(|kn| kn.ops.len() > LARGE_KERNEL_OPS);
        if large && self.large.is_none() {
            let symbols: Vec<(&'static str, *const u8)> = self
                .symbols
                .iter()
                .map(|(n, a)| (*n, *a as *const u8))
                .collect();
            let (m, h) = jit_module(&symbols, "single_pass")?;
            self.large = Some((ManuallyDrop::new(m), h));
        }
        let (module, helpers): (&mut JITModule, [FuncId; 5]) = match (large, &mut self.large) {
            (true, Some((m, h))) => (m, *h),
            _ => (&mut self.module, self.helpers),
        };
        let built = build(
            module,
            &helpers,
            &mut self.ctx,
            &mut self.fctx,
            plan,
            k,
            growing,
            want_text,
        );
        let text = match built {
            Ok(text) => text,
            Err(e) => {
                // A half-built function leaves both contexts dirty; the builder context has no
                // public reset, so it is replaced.
                module.clear_context(&mut self.ctx);
                self.fctx = FunctionBuilderContext::new();
                return Err(e);
            }
        };
        let name = format!("pomo_kernel_{}", self.next);
        self.next += 1;
        let sig = self.ctx.func.signature.clone();
        // The context is cleared on every path, so a failed definition leaves it reusable.
        let id = match module.declare_function(&name, Linkage::Local, &sig) {
            Ok(id) => {
                self.ctx.func.name = UserFuncName::user(0, id.as_u32());
                let defined = module.define_function(id, &mut self.ctx);
                module.clear_context(&mut self.ctx);
                defined.map_err(|e| format!("jit: kernel k{}: {e:?}", k.0))?;
                id
            }
            Err(e) => {
                module.clear_context(&mut self.ctx);
                return Err(format!("jit: kernel k{}: {e}", k.0));
            }
        };
        module
            .finalize_definitions()
            .map_err(|e| format!("jit: kernel k{}: {e}", k.0))?;
        let code = module.get_finalized_function(id);
        // SAFETY: the function was built with the signature of `KernelFn` in the platform's
        // default calling convention, which is `extern "C"`, and the module keeps it alive.
        let f = unsafe { std::mem::transmute::<*const u8, KernelFn>(code) };
        Ok((f, text))
    }
}

impl Drop for Codegen {
    fn drop(&mut self) {
        // SAFETY: the modules are taken exactly once, here; the contract of `compile` is that
        // their functions are not called after the Codegen is gone.
        unsafe { ManuallyDrop::take(&mut self.module).free_memory() }
        if let Some((m, _)) = &mut self.large {
            // SAFETY: as above.
            unsafe { ManuallyDrop::take(m).free_memory() }
        }
    }
}

/// The CLIF text of every kernel of a plan, in kernel order, each verified. Helpers are only
/// declared (in a throwaway module that is never finalized), so no addresses are needed.
pub fn clif_text(plan: &KernelPlan) -> Result<String, String> {
    let mut module = JITModule::new(JITBuilder::with_isa(isa()?, default_libcall_names()));
    let result = (|| {
        let helpers = declare_helpers(&mut module)?;
        let mut ctx = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let mut out = String::new();
        for k in 0..plan.kernels.len() {
            let k = KernelId(k as u32);
            let text = build(
                &mut module,
                &helpers,
                &mut ctx,
                &mut fctx,
                plan,
                k,
                &[],
                true,
            )?
            .unwrap_or_default();
            cranelift_codegen::verify_function(&ctx.func, module.isa())
                .map_err(|e| format!("jit: kernel k{}: {e}", k.0))?;
            module.clear_context(&mut ctx);
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&text);
        }
        Ok(out)
    })();
    // SAFETY: nothing was defined in this module, so no code from it can be running.
    unsafe { module.free_memory() };
    result
}

/// Kernels with more operations than this (wide joins) are compiled with the single-pass
/// register allocator.
const LARGE_KERNEL_OPS: usize = 40;

/// A JIT module on the host ISA whose helper symbols resolve to `symbols`, with the helpers
/// declared.
fn jit_module(
    symbols: &[(&'static str, *const u8)],
    regalloc: &str,
) -> Result<(JITModule, [FuncId; 5]), String> {
    let mut builder = JITBuilder::with_isa(isa_with(regalloc)?, default_libcall_names());
    for name in abi::HELPERS {
        let Some((_, addr)) = symbols.iter().find(|(n, _)| n == name) else {
            return Err(format!("jit: no address for helper {name}"));
        };
        builder.symbol(*name, *addr);
    }
    let mut module = JITModule::new(builder);
    let helpers = declare_helpers(&mut module)?;
    Ok((module, helpers))
}

fn isa() -> Result<OwnedTargetIsa, String> {
    isa_with("backtracking")
}

/// The host ISA with the settings the JIT needs: absolute calls to helpers (no PIC, no colocated
/// libcalls) and full optimisation. Cranelift's IR verifier runs in debug builds (the tests);
/// release builds trust the generator, whose input plans are validated before any code is made.
fn isa_with(regalloc: &str) -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    for (name, value) in [
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        ("opt_level", "speed"),
        ("regalloc_algorithm", regalloc),
        ("enable_verifier", verify),
    ] {
        flags
            .set(name, value)
            .map_err(|e| format!("jit: setting {name}: {e}"))?;
    }
    let isa = cranelift_native::builder()
        .map_err(|e| format!("jit: host not supported: {e}"))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("jit: {e}"))?;
    if isa.pointer_type() != types::I64 {
        return Err("jit: kernels need 64-bit pointers".to_string());
    }
    Ok(isa)
}

/// Declares the helpers as imports, in [`abi::HELPERS`] order, with their ABI signatures.
fn declare_helpers<M: Module>(module: &mut M) -> Result<[FuncId; 5], String> {
    let ptr = module.target_config().pointer_type();
    let mut ids = Vec::with_capacity(abi::HELPERS.len());
    for (h, name) in abi::HELPERS.iter().enumerate() {
        let mut sig = module.make_signature();
        sig.params.push(AbiParam::new(ptr));
        sig.params.push(AbiParam::new(types::I32));
        if h == MAP {
            // The result buffer number.
            sig.params.push(AbiParam::new(types::I32));
        }
        sig.params.push(AbiParam::new(ptr));
        sig.returns
            .push(AbiParam::new(if h == MAP { ptr } else { types::I32 }));
        let id = module
            .declare_function(name, Linkage::Import, &sig)
            .map_err(|e| format!("jit: declaring {name}: {e}"))?;
        ids.push(id);
    }
    ids.try_into()
        .map_err(|_| "jit: abi::HELPERS does not list five helpers".to_string())
}

/// The signature of every kernel: `(ctx, params) -> i64`.
fn kernel_signature<M: Module>(module: &M) -> Signature {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I64));
    sig
}

/// Builds kernel `k` into `ctx.func` (named `%k<id>`) and returns its CLIF text.
// The two contexts are reused across kernels, so they are passed in beside the plan.
#[allow(clippy::too_many_arguments)]
fn build<M: Module>(
    module: &mut M,
    helpers: &[FuncId; 5],
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    plan: &KernelPlan,
    k: KernelId,
    growing: &[bool],
    want_text: bool,
) -> Result<Option<String>, String> {
    let kernel = check(plan, k)?;
    ctx.func.signature = kernel_signature(module);
    ctx.func.name = UserFuncName::testcase(format!("k{}", k.0));
    let config = module.target_config();
    let b = FunctionBuilder::new(&mut ctx.func, fctx);
    let mut g = Gen {
        b,
        module,
        plan,
        kernel,
        helper_ids: *helpers,
        helper_refs: [None; 5],
        layout: abi::layout(plan, k),
        params: Vec::new(),
        growing,
        block_ptr: None,
        regs: Vec::new(),
        ctx_ptr: None,
        scratch: None,
        fail: None,
    };
    g.body()?;
    g.b.seal_all_blocks();
    g.b.finalize(config);
    Ok(want_text.then(|| ctx.func.display().to_string()))
}

/// Checks every id a kernel uses, so that neither [`abi::layout`] nor generation can index out
/// of bounds.
fn check(plan: &KernelPlan, k: KernelId) -> Result<&Kernel, String> {
    let kernel = plan
        .kernels
        .get(k.0 as usize)
        .ok_or_else(|| format!("jit: no kernel k{}", k.0))?;
    let slot = |s: &SlotId| {
        if (s.0 as usize) < plan.slots.len() {
            Ok(())
        } else {
            Err(format!("jit: kernel k{}: no slot s{}", k.0, s.0))
        }
    };
    let index = |i: &IndexId| match plan.indexes.get(i.0 as usize) {
        Some(ix) => slot(&ix.slot),
        None => Err(format!("jit: kernel k{}: no index i{}", k.0, i.0)),
    };
    let call = |c: &CallId| {
        if (c.0 as usize) < plan.calls.len() {
            Ok(())
        } else {
            Err(format!("jit: kernel k{}: no call c{}", k.0, c.0))
        }
    };
    slot(&kernel.target)?;
    for op in &kernel.ops {
        match op {
            Op::Scan { slot: s, .. } => slot(s)?,
            Op::Probe { index: i, .. } | Op::Exists { index: i, .. } => index(i)?,
            Op::Same(..) => {}
            Op::Filter { disjuncts } => {
                disjuncts.iter().flatten().try_for_each(|l| call(&l.call))?
            }
            Op::Map { call: c, .. } => call(c)?,
        }
    }
    Ok(kernel)
}

/// Probes to look up early: for each probe whose key registers are all bound before the loop
/// that immediately encloses it, the position of the operation after which its key is known
/// (it is looked up just before that operation's successor). A probe whose key depends on the
/// loop right around it stays where it is.
fn hoisted_probes(kernel: &Kernel) -> std::collections::HashMap<usize, Vec<usize>> {
    let mut bound_at: Vec<Option<usize>> = vec![None; kernel.regs as usize];
    let mut out: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    let mut last_loop: Option<usize> = None;
    for (i, op) in kernel.ops.iter().enumerate() {
        if let Op::Probe { key, .. } = op
            && let Some(enclosing) = last_loop
        {
            // The latest operation that binds a key register (constants: the first operation).
            let dep = key
                .iter()
                .filter_map(|t| match t {
                    Term::Reg(r) => bound_at.get(*r as usize).copied().flatten(),
                    Term::Const(_) => None,
                })
                .max()
                .unwrap_or(0);
            if dep < enclosing {
                out.entry(dep + 1).or_default().push(i);
            }
        }
        let mut bind = |r: &Reg| {
            if let Some(b) = bound_at.get_mut(*r as usize) {
                b.get_or_insert(i);
            }
        };
        match op {
            Op::Scan { cols, .. } | Op::Probe { cols, .. } => {
                cols.iter().for_each(|b| {
                    if let Bind::Store(r) = b {
                        bind(r)
                    }
                });
                last_loop = Some(i);
            }
            Op::Map { outs, .. } => {
                outs.iter().flatten().for_each(&mut bind);
                last_loop = Some(i);
            }
            _ => {}
        }
    }
    out
}

/// The integer condition that orders even (inline integer) words like their integers.
fn int_cc(op: CmpOp) -> IntCC {
    match op {
        CmpOp::Eq => IntCC::Equal,
        CmpOp::Ne => IntCC::NotEqual,
        CmpOp::Lt => IntCC::SignedLessThan,
        CmpOp::Le => IntCC::SignedLessThanOrEqual,
        CmpOp::Gt => IntCC::SignedGreaterThan,
        CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
    }
}

/// The word of a constant known at compile time to be an inline integer.
fn inline_word(t: &Term) -> Option<u64> {
    match t {
        Term::Const(Value::Int(i)) => int_word(*i),
        _ => None,
    }
}

/// Whether a term is a constant whose word is not an inline integer (so it is odd).
fn odd_const(t: &Term) -> bool {
    matches!(t, Term::Const(_)) && inline_word(t).is_none()
}

/// Memory flags for every access: params, columns, chains, helper results and the scratch slot
/// are all aligned and valid while the kernel runs.
fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// How a loop's continue block advances, filled after the nest so that blocks are built one at a
/// time (the builder cannot leave a block half-filled).
enum Advance {
    /// `var += 1` (scan rows, map result rows).
    Count { var: Variable },
    /// `var = next[var]` (index chains).
    Chain { var: Variable, next: Val },
    /// The same, with `next` read from the parameter block's word `at` (a growing slot's
    /// chain, which a helper call may have moved).
    ChainAt { var: Variable, at: i32 },
}

/// One loop of the nest: where a failing row goes, and how it advances.
struct Loop {
    cont: Block,
    header: Block,
    advance: Advance,
}

/// The state of building one kernel.
struct Gen<'a, 'b, M: Module> {
    b: FunctionBuilder<'b>,
    module: &'a mut M,
    plan: &'a KernelPlan,
    kernel: &'a Kernel,
    helper_ids: [FuncId; 5],
    helper_refs: [Option<FuncRef>; 5],
    layout: Vec<Param>,
    /// The words of the parameter block, loaded in the entry block (so they dominate every use).
    params: Vec<Val>,
    /// Slots that may grow while the kernel runs (by slot id; empty: none), and the parameter
    /// block's address, from which their columns and chains are read at each row.
    growing: &'a [bool],
    block_ptr: Option<Val>,
    regs: Vec<Variable>,
    ctx_ptr: Option<Val>,
    scratch: Option<StackSlot>,
    /// The block returning -1, created on first use.
    fail: Option<Block>,
}

impl<M: Module> Gen<'_, '_, M> {
    /// Opens a loop over `0..limit` (rows of a scan, rows of a map's result); the counter is
    /// the returned variable.
    fn count_loop(&mut self, limit: Val, cont: Block) -> (Loop, Variable) {
        let var = self.b.declare_var(types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.def_var(var, zero);
        let l = self.open(
            var,
            Advance::Count { var },
            |b, i| b.ins().icmp(IntCC::UnsignedLessThan, i, limit),
            cont,
        );
        (l, var)
    }

    fn body(&mut self) -> Result<(), String> {
        // Detached from `self`, so that walking the kernel does not borrow the generator.
        let (plan, kernel) = (self.plan, self.kernel);
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let args = self.b.block_params(entry).to_vec();
        self.ctx_ptr = Some(args[0]);
        self.block_ptr = Some(args[1]);
        for i in 0..self.layout.len() {
            let w = self
                .b
                .ins()
                .load(types::I64, flags(), args[1], (8 * i) as i32);
            self.params.push(w);
        }
        // Registers start at zero, so a register read before any write (which a valid plan
        // never does) still has a defined value.
        let zero = self.b.ins().iconst(types::I64, 0);
        for _ in 0..kernel.regs {
            let v = self.b.declare_var(types::I64);
            self.b.def_var(v, zero);
            self.regs.push(v);
        }
        let width = self.scratch_width();
        self.scratch = Some(self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (8 * width.max(1)) as u32,
            3,
        )));

        let done = self.b.create_block();
        let mut loops: Vec<Loop> = Vec::new();
        let mut reachable = true;
        let hoisted = hoisted_probes(kernel);
        let mut heads: Vec<Option<Variable>> = vec![None; kernel.ops.len()];
        for (i, op) in kernel.ops.iter().enumerate() {
            // Probes whose keys are bound by now, but that sit inside later loops, look their
            // key up here once instead of once per row of those loops.
            for &j in hoisted.get(&i).into_iter().flatten() {
                if let Op::Probe { index, key, .. } = &kernel.ops[j] {
                    let first = self.probe_head(*index, key)?;
                    let var = self.b.declare_var(types::I32);
                    self.b.def_var(var, first);
                    heads[j] = Some(var);
                }
            }
            let cont = loops.last().map_or(done, |l| l.cont);
            match op {
                Op::Scan { slot, cols } => {
                    let len = self.param(&Param::Len(*slot))?;
                    let bases = self.bases(*slot, cols)?;
                    let (l, var) = self.count_loop(len, cont);
                    let row = self.b.use_var(var);
                    self.binds(&bases, cols, row, l.cont)?;
                    loops.push(l);
                }
                Op::Probe { index, key, cols } => {
                    let slot = plan.indexes[index.0 as usize].slot;
                    let grows = self.growing.get(slot.0 as usize).copied().unwrap_or(false);
                    let (advance_next, bases) = if grows {
                        (None, Vec::new())
                    } else {
                        let next = self.param(&Param::Next(*index))?;
                        (Some(next), self.bases(slot, cols)?)
                    };
                    let first = match heads[i] {
                        Some(h) => self.b.use_var(h),
                        None => self.probe_head(*index, key)?,
                    };
                    let var = self.b.declare_var(types::I32);
                    self.b.def_var(var, first);
                    let advance = match advance_next {
                        Some(next) => Advance::Chain { var, next },
                        None => Advance::ChainAt {
                            var,
                            at: self.param_offset(&Param::Next(*index))?,
                        },
                    };
                    let l = self.open(
                        var,
                        advance,
                        |b, row| b.ins().icmp_imm_u(IntCC::NotEqual, row, i64::from(NONE)),
                        cont,
                    );
                    // A growing slot's columns are read after every probe that may have
                    // moved them: here, at each row of the chain.
                    let bases = if grows {
                        self.live_bases(slot, cols)?
                    } else {
                        bases
                    };
                    let row = self.b.use_var(var);
                    let row = self.b.ins().uextend(types::I64, row);
                    self.binds(&bases, cols, row, l.cont)?;
                    loops.push(l);
                }
                Op::Exists {
                    index,
                    key,
                    negated,
                } => {
                    let keyp = self.store_terms(key)?;
                    let id = self.b.ins().iconst(types::I32, i64::from(index.0));
                    let found = self.call(EXISTS, &[id, keyp]);
                    let ok = self.b.create_block();
                    if *negated {
                        self.b.ins().brif(found, cont, &[], ok, &[]);
                    } else {
                        self.b.ins().brif(found, ok, &[], cont, &[]);
                    }
                    self.b.switch_to_block(ok);
                }
                Op::Same(x, y) => {
                    let x = self.term(x)?;
                    let y = self.term(y)?;
                    let same = self.b.ins().icmp(IntCC::Equal, x, y);
                    let ok = self.b.create_block();
                    self.b.ins().brif(same, ok, &[], cont, &[]);
                    self.b.switch_to_block(ok);
                }
                Op::Filter { disjuncts } => {
                    if !self.filter(disjuncts, cont)? {
                        // `false`: the rest of the nest is dead, so it is not generated.
                        reachable = false;
                        break;
                    }
                }
                Op::Map { call, outs } => {
                    let argp = self.store_terms(&plan.calls[call.0 as usize].args)?;
                    let id = self.b.ins().iconst(types::I32, i64::from(call.0));
                    let buf = self.b.ins().iconst(types::I32, i as i64);
                    let res = self.call(MAP, &[id, buf, argp]);
                    let got = self.b.create_block();
                    let fail = self.fail_block();
                    self.b.ins().brif(res, got, &[], fail, &[]);
                    self.b.switch_to_block(got);
                    let n = self.b.ins().load(types::I64, flags(), res, 0);
                    let (l, var) = self.count_loop(n, cont);
                    if outs.iter().any(Option::is_some) {
                        // Row j starts at word 1 + j * width of the result.
                        let j = self.b.use_var(var);
                        let off = self.b.ins().imul_imm_s(j, (8 * outs.len()) as i64);
                        let row = self.b.ins().iadd(res, off);
                        for (c, out) in outs.iter().enumerate() {
                            if let Some(r) = out {
                                let v = self.b.ins().load(
                                    types::I64,
                                    flags(),
                                    row,
                                    (8 * (1 + c)) as i32,
                                );
                                let var = self.reg(*r)?;
                                self.b.def_var(var, v);
                            }
                        }
                    }
                    loops.push(l);
                }
            }
        }
        if reachable {
            let rowp = self.store_terms(&kernel.emit)?;
            let target = self.b.ins().iconst(types::I32, i64::from(kernel.target.0));
            self.call(INSERT, &[target, rowp]);
            let cont = loops.last().map_or(done, |l| l.cont);
            self.b.ins().jump(cont, &[]);
        }
        // Continue blocks, innermost first: advance, then test again at the header.
        while let Some(l) = loops.pop() {
            self.b.switch_to_block(l.cont);
            match l.advance {
                Advance::Count { var } => {
                    let x = self.b.use_var(var);
                    let x = self.b.ins().iadd_imm_s(x, 1);
                    self.b.def_var(var, x);
                }
                Advance::Chain { var, .. } | Advance::ChainAt { var, .. } => {
                    let next = match l.advance {
                        Advance::ChainAt { at, .. } => {
                            let block = self.block_ptr.ok_or("jit: no parameter block")?;
                            self.b.ins().load(types::I64, flags(), block, at)
                        }
                        Advance::Chain { next, .. } => next,
                        Advance::Count { .. } => unreachable!("matched a chain above"),
                    };
                    let x = self.b.use_var(var);
                    let x = self.b.ins().uextend(types::I64, x);
                    let off = self.b.ins().ishl_imm_u(x, 2);
                    let addr = self.b.ins().iadd(next, off);
                    let x = self.b.ins().load(types::I32, flags(), addr, 0);
                    self.b.def_var(var, x);
                }
            }
            self.b.ins().jump(l.header, &[]);
        }
        self.b.switch_to_block(done);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().return_(&[zero]);
        if let Some(fail) = self.fail {
            self.b.switch_to_block(fail);
            let minus = self.b.ins().iconst(types::I64, -1);
            self.b.ins().return_(&[minus]);
        }
        Ok(())
    }

    /// Opens a loop over `var` (already defined): jumps to a header that tests `more` and
    /// either enters the body (the current block afterwards) or leaves to `exit`.
    fn open(
        &mut self,
        var: Variable,
        advance: Advance,
        more: impl FnOnce(&mut FunctionBuilder<'_>, Val) -> Val,
        exit: Block,
    ) -> Loop {
        let header = self.b.create_block();
        let body = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let x = self.b.use_var(var);
        let c = more(&mut self.b, x);
        self.b.ins().brif(c, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        Loop {
            cont,
            header,
            advance,
        }
    }

    /// Generates a DNF filter; on return the current block is where it holds. Returns false
    /// (and leaves the current block filled) when the filter is the constant `false`.
    fn filter(&mut self, disjuncts: &[Vec<Lit>], cont: Block) -> Result<bool, String> {
        if disjuncts.is_empty() {
            self.b.ins().jump(cont, &[]);
            return Ok(false);
        }
        let pass = self.b.create_block();
        for (d, lits) in disjuncts.iter().enumerate() {
            let last = d + 1 == disjuncts.len();
            // An empty conjunction is `true`, so later disjuncts are never tested.
            let next = if last || lits.is_empty() {
                cont
            } else {
                self.b.create_block()
            };
            for lit in lits {
                self.lit(lit, next)?;
            }
            self.b.ins().jump(pass, &[]);
            if lits.is_empty() || last {
                break;
            }
            self.b.switch_to_block(next);
        }
        self.b.switch_to_block(pass);
        Ok(true)
    }

    /// Tests one literal: continues in a new current block when it holds, jumps to `no` when
    /// it does not.
    fn lit(&mut self, lit: &Lit, no: Block) -> Result<(), String> {
        let yes = self.b.create_block();
        // Where the test's raw result sends control, before negation.
        let (t, f) = if lit.negated { (no, yes) } else { (yes, no) };
        // A constant that is not an inline integer is never even, so the native path is skipped.
        let fast = lit
            .cmp
            .as_ref()
            .filter(|(_, x, y)| !odd_const(x) && !odd_const(y));
        match fast {
            Some((op, x, y)) => {
                let op = *op;
                let xv = self.term(x)?;
                let yv = self.term(y)?;
                // Only registers need the run-time tag test; inline constants are even.
                let tagged: Vec<Val> = [(x, xv), (y, yv)]
                    .into_iter()
                    .filter(|(t, _)| matches!(t, Term::Reg(_)))
                    .map(|(_, v)| v)
                    .collect();
                let native = self.b.create_block();
                if tagged.is_empty() {
                    self.b.ins().jump(native, &[]);
                } else {
                    let any = tagged[1..]
                        .iter()
                        .fold(tagged[0], |a, v| self.b.ins().bor(a, *v));
                    let odd = self.b.ins().band_imm_u(any, 1);
                    let slow = self.b.create_block();
                    self.b.ins().brif(odd, slow, &[], native, &[]);
                    self.b.switch_to_block(slow);
                    self.test(lit.call, t, f)?;
                }
                self.b.switch_to_block(native);
                let c = self.b.ins().icmp(int_cc(op), xv, yv);
                self.b.ins().brif(c, t, &[], f, &[]);
            }
            None => self.test(lit.call, t, f)?,
        }
        self.b.switch_to_block(yes);
        Ok(())
    }

    /// Calls `pomo_test` on a call's arguments: to `t` when it holds, `f` when not, and out of
    /// the kernel with -1 when it failed.
    fn test(&mut self, call: CallId, t: Block, f: Block) -> Result<(), String> {
        let plan = self.plan;
        let argp = self.store_terms(&plan.calls[call.0 as usize].args)?;
        let id = self.b.ins().iconst(types::I32, i64::from(call.0));
        let r = self.call(TEST, &[id, argp]);
        let failed = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
        let fail = self.fail_block();
        let ok = self.b.create_block();
        self.b.ins().brif(failed, fail, &[], ok, &[]);
        self.b.switch_to_block(ok);
        self.b.ins().brif(r, t, &[], f, &[]);
        Ok(())
    }

    /// Reads the columns of row `row` (an I64 row number): stores registers and jumps to `no`
    /// when a checked column differs. Columns are handled in order, so a check may read a
    /// register stored by an earlier column of the same row.
    fn binds(
        &mut self,
        bases: &[Option<Val>],
        cols: &[Bind],
        row: Val,
        no: Block,
    ) -> Result<(), String> {
        if bases.iter().all(Option::is_none) {
            return Ok(());
        }
        let off = self.b.ins().ishl_imm_u(row, 3);
        for (b, base) in cols.iter().zip(bases) {
            let Some(base) = base else { continue };
            let addr = self.b.ins().iadd(*base, off);
            let w = self.b.ins().load(types::I64, flags(), addr, 0);
            match b {
                Bind::Skip => {}
                Bind::Store(r) => {
                    let var = self.reg(*r)?;
                    self.b.def_var(var, w);
                }
                Bind::Check(t) => {
                    let t = self.term(t)?;
                    let same = self.b.ins().icmp(IntCC::Equal, w, t);
                    let ok = self.b.create_block();
                    self.b.ins().brif(same, ok, &[], no, &[]);
                    self.b.switch_to_block(ok);
                }
            }
        }
        Ok(())
    }

    /// The column base of every column a loop reads (`None` for skipped columns).
    fn bases(&mut self, slot: SlotId, cols: &[Bind]) -> Result<Vec<Option<Val>>, String> {
        cols.iter()
            .enumerate()
            .map(|(c, b)| match b {
                Bind::Skip => Ok(None),
                _ => self.param(&Param::Col(slot, c)).map(Some),
            })
            .collect()
    }

    /// Stores terms in the scratch slot and returns its address. The caller passes it to a
    /// helper call right away, before the slot is reused.
    fn store_terms(&mut self, terms: &[Term]) -> Result<Val, String> {
        let vals = terms
            .iter()
            .map(|t| self.term(t))
            .collect::<Result<Vec<_>, _>>()?;
        let ss = self.scratch.ok_or("jit: no scratch slot")?;
        let addr = self.b.ins().stack_addr(types::I64, ss, 0);
        for (i, v) in vals.into_iter().enumerate() {
            self.b.ins().store(flags(), v, addr, (8 * i) as i32);
        }
        Ok(addr)
    }

    /// The widest list of words the scratch slot holds.
    fn scratch_width(&self) -> usize {
        let calls = &self.plan.calls;
        let args = |c: &CallId| calls.get(c.0 as usize).map_or(0, |c| c.args.len());
        let mut w = self.kernel.emit.len();
        for op in &self.kernel.ops {
            w = w.max(match op {
                Op::Probe { key, .. } | Op::Exists { key, .. } => key.len(),
                Op::Filter { disjuncts } => disjuncts
                    .iter()
                    .flatten()
                    .map(|l| args(&l.call))
                    .max()
                    .unwrap_or(0),
                Op::Map { call, .. } => args(call),
                Op::Scan { .. } | Op::Same(..) => 0,
            });
        }
        w
    }

    /// The word of a term.
    fn term(&mut self, t: &Term) -> Result<Val, String> {
        match t {
            Term::Reg(r) => {
                let var = self.reg(*r)?;
                Ok(self.b.use_var(var))
            }
            Term::Const(v) => match inline_word(t) {
                Some(w) => Ok(self.b.ins().iconst(types::I64, w as i64)),
                None => self.param(&Param::Const(v.clone())),
            },
        }
    }

    fn reg(&self, r: Reg) -> Result<Variable, String> {
        self.regs.get(r as usize).copied().ok_or_else(|| {
            format!(
                "jit: register r{r} out of range ({} registers)",
                self.regs.len()
            )
        })
    }

    /// The byte offset of a parameter in the parameter block.
    fn param_offset(&self, p: &Param) -> Result<i32, String> {
        self.layout
            .iter()
            .position(|q| q == p)
            .map(|i| (8 * i) as i32)
            .ok_or_else(|| format!("jit: parameter {p:?} missing from the layout"))
    }

    /// The column bases of a growing slot, read from the parameter block where they are now.
    fn live_bases(&mut self, slot: SlotId, cols: &[Bind]) -> Result<Vec<Option<Val>>, String> {
        let block = self.block_ptr.ok_or("jit: no parameter block")?;
        let mut out = Vec::with_capacity(cols.len());
        for (c, b) in cols.iter().enumerate() {
            out.push(match b {
                Bind::Skip => None,
                _ => {
                    let at = self.param_offset(&Param::Col(slot, c))?;
                    Some(self.b.ins().load(types::I64, flags(), block, at))
                }
            });
        }
        Ok(out)
    }

    /// The word of a parameter, loaded in the entry block.
    fn param(&self, p: &Param) -> Result<Val, String> {
        self.layout
            .iter()
            .position(|q| q == p)
            .map(|i| self.params[i])
            .ok_or_else(|| format!("jit: parameter {p:?} missing from the layout"))
    }

    /// The first row of an index's chain for a key (an I32, [`NONE`] for none). A one-column
    /// key reads the index's array itself when the index is dense (the run says so through
    /// `DenseLen`), and calls `pomo_probe` otherwise.
    fn probe_head(&mut self, index: IndexId, key: &[Term]) -> Result<Val, String> {
        let id = self.b.ins().iconst(types::I32, i64::from(index.0));
        if key.len() != 1 {
            let keyp = self.store_terms(key)?;
            return Ok(self.call(PROBE, &[id, keyp]));
        }
        let len = self.param(&Param::DenseLen(index))?;
        let base = self.param(&Param::DenseBase(index))?;
        let heads = self.param(&Param::DenseHeads(index))?;
        let k = self.term(&key[0])?;
        let (dense, inside, read, none, helper) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        let join = self.b.create_block();
        self.b.append_block_param(join, types::I32);
        self.b.ins().brif(len, dense, &[], helper, &[]);

        self.b.switch_to_block(dense);
        let d = self.b.ins().isub(k, base);
        let odd = self.b.ins().band_imm_u(d, 1);
        self.b.ins().brif(odd, none, &[], inside, &[]);

        self.b.switch_to_block(inside);
        let slot = self.b.ins().ushr_imm_u(d, 1);
        let fits = self.b.ins().icmp(IntCC::UnsignedLessThan, slot, len);
        self.b.ins().brif(fits, read, &[], none, &[]);

        self.b.switch_to_block(read);
        let off = self.b.ins().ishl_imm_u(slot, 2);
        let addr = self.b.ins().iadd(heads, off);
        let h = self.b.ins().load(types::I32, flags(), addr, 0);
        self.b.ins().jump(join, &[h.into()]);

        self.b.switch_to_block(none);
        let nothing = self.b.ins().iconst(types::I32, i64::from(NONE as i32));
        self.b.ins().jump(join, &[nothing.into()]);

        self.b.switch_to_block(helper);
        let keyp = self.store_terms(key)?;
        let r = self.call(PROBE, &[id, keyp]);
        self.b.ins().jump(join, &[r.into()]);

        self.b.switch_to_block(join);
        Ok(self.b.block_params(join)[0])
    }

    /// Calls helper `h` with the context followed by `args`; returns its result.
    fn call(&mut self, h: usize, args: &[Val]) -> Val {
        let f = match self.helper_refs[h] {
            Some(f) => f,
            None => {
                let f = self
                    .module
                    .declare_func_in_func(self.helper_ids[h], self.b.func);
                self.helper_refs[h] = Some(f);
                f
            }
        };
        let mut all = Vec::with_capacity(args.len() + 1);
        all.extend(self.ctx_ptr);
        all.extend_from_slice(args);
        let inst = self.b.ins().call(f, &all);
        self.b.inst_results(inst)[0]
    }

    fn fail_block(&mut self) -> Block {
        *self.fail.get_or_insert_with(|| self.b.create_block())
    }
}

#[cfg(test)]
mod tests;
