//! Passes over PomoLogic programs. Each pass rewrites a program in place and reports whether it
//! changed anything (ARCHITECTURE, convention 3); tests start from PomoLogic text.

pub mod magic_sets;
