//! Byte spans into a source text. Every syntax node carries one; the IRs keep them in side tables.

/// A byte range into one source file.
pub type Span = std::ops::Range<usize>;

/// Identifies a source file within one compilation (0 is the main input; the CLI gives a rules
/// file given with `--rules` the id 1).
pub type FileId = usize;
