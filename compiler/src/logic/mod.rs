//! The PomoLogic IR: its types, text form, checks, and the front ends that produce it.

pub mod builder;
pub mod check;
pub mod ir;
pub mod lower_edn;
pub mod parse;
pub mod print;
