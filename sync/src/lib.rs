//! placeholder
pub mod block;
pub mod car;
