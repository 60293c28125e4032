//! The kernel stage (ARCHITECTURE §7, "jit"): PomoRA plans lowered to loop nests over slots
//! and indexes ([`lower`]), then made smaller by a pipeline of named passes ([`pipeline`]).

pub mod lower;
pub mod passes;
pub mod pipeline;
