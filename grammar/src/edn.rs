//! The EDN reader: a logos lexer and a lalrpop grammar for the whole of EDN (nil, booleans,
//! integers, floats, strings with escapes, characters, keywords, symbols, lists, vectors, maps,
//! sets, tagged literals such as `#inst` / `#uuid`, `;` comments and `#_` discard).
//!
//! Every node carries its byte span. Commas are whitespace.

use crate::span::Span;

/// One EDN form.
#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Char(char),
    /// A keyword without its leading colon: `person/name` for `:person/name`.
    Keyword(String),
    /// A symbol, including `?x` variables, `$` sources, `_` and `...`.
    Symbol(String),
    List(Vec<Node>),
    Vector(Vec<Node>),
    /// Entries in source order (duplicate keys are a parse error).
    Map(Vec<(Node, Node)>),
    /// Elements in source order (duplicates are a parse error).
    Set(Vec<Node>),
    /// A tagged literal `#tag form`; the tag without `#` (`inst`, `uuid`, `my/tag`).
    Tagged(String, Box<Node>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub form: Form,
    pub span: Span,
}

// Parsing entry points (implemented with the lexer and grammar in `edn/`):
//
// pub fn parse_forms(src: &str) -> Result<Vec<Node>, Vec<Diagnostic>>   // zero or more forms
// pub fn parse_one(src: &str) -> Result<Node, Vec<Diagnostic>>          // exactly one form
//
// and `impl fmt::Display for Node` printing canonical EDN (`[1 2]`, `{:a 1}`, `#{1}`, `"s\n"`,
// `\c`, `#inst "..."`), which parses back to an equal tree modulo spans.
