//! SQL text to statements: the lexer, the splitter, the statement classifier and line
//! numbers. No I/O happens here.

mod classify;
pub mod code;
pub mod effects;
pub(crate) mod find;
mod keywords;
pub mod lexer;
pub mod lines;
pub(crate) mod long_runs;
pub mod names;
mod normalize;
pub mod placeholders;
mod skim;
mod splitter;
mod statement;

pub use lexer::{LexError, Lexer, Token, TokenKind, Unclosed};
pub use lines::LineIndex;
pub use normalize::normalized_hash;
pub use splitter::{SqlFile, recycle, split, split_by_tokens};
pub use statement::{Param, PsqlSyntax, PsqlSyntaxKind, Statement, StatementKind};
