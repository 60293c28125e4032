//! The PomoLogic IR: its types, text form, checks, and the program builder the front ends
//! (`crate::edn`, `crate::sql`) lower into.

pub mod builder;
pub mod check;
pub mod ir;
pub mod parse;
pub mod passes;
pub mod pipeline;
pub mod print;
