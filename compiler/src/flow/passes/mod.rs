//! The flow stage's passes (ARCHITECTURE §5), one file each, named as in
//! [`super::pipeline::PASSES`].

pub mod narrow;

#[cfg(test)]
mod tests;
