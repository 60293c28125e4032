//! The flow stage (ARCHITECTURE §7, "dataflow"): PomoRA plans lowered to dataflow graphs
//! ([`lower`]), then narrowed by a pipeline of named passes ([`pipeline`]).

pub mod lower;
pub mod passes;
pub mod pipeline;
