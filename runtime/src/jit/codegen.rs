//! Placeholder until the Cranelift code generator lands.
use super::abi::KernelFn;
use pomo_types::kernel::{KernelId, KernelPlan};
pub struct Codegen;
impl Codegen {
    pub fn new(_symbols: &[(&'static str, *const u8)]) -> Result<Codegen, String> {
        Err("no code generator".into())
    }
    pub fn compile(
        &mut self,
        _plan: &KernelPlan,
        _k: KernelId,
    ) -> Result<(KernelFn, String), String> {
        Err("no code generator".into())
    }
}
pub fn clif_text(_plan: &KernelPlan) -> Result<String, String> {
    Err("no code generator".into())
}
