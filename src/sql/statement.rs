//! What the splitter produces: statements with their spans and what they do.

use std::borrow::Cow;

use serde::Serialize;

/// What a statement does, as far as the three phases care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementKind {
    /// Schema changes: CREATE/ALTER/DROP of objects (except indexes), COMMENT, GRANT, REVOKE.
    Ddl,
    /// `CREATE [UNIQUE] INDEX`.
    Index,
    /// Writes rows: INSERT, UPDATE, DELETE, MERGE, TRUNCATE, COPY … FROM, SELECT … INTO,
    /// and any statement whose `WITH` clause holds one of those.
    Dml,
    /// Reads only: SELECT, VALUES, TABLE, COPY … TO.
    Select,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT …: the runner owns transactions.
    TransactionControl,
    /// DO and CALL: procedural code whose effect the lexer cannot see.
    Procedural,
    /// Everything else: SET, VACUUM, ANALYZE, LOCK, EXPLAIN, …
    Utility,
}

impl StatementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Ddl => "ddl",
            StatementKind::Index => "index",
            StatementKind::Dml => "dml",
            StatementKind::Select => "select",
            StatementKind::TransactionControl => "transaction-control",
            StatementKind::Procedural => "procedural",
            StatementKind::Utility => "utility",
        }
    }
}

/// A named parameter (psql variable syntax): `:lo`, `:'name'`, `:"name"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    pub name: String,
    /// Byte offset of the `:`.
    pub offset: usize,
    /// `:'name'` or `:"name"` rather than `:name`.
    pub quoted: bool,
}

/// One SQL statement of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// Byte offset of the first token (comments before it are not part of it).
    pub start: usize,
    /// Byte offset just past the last token, before the terminating `;`.
    pub end: usize,
    /// 1-based line and character column of `start`.
    pub line: u32,
    pub column: u32,
    pub kind: StatementKind,
    /// The command, from the leading keywords: `CREATE INDEX`, `ALTER TABLE`, `UPDATE`, …
    pub tag: Cow<'static, str>,
    /// Tables written by the statement's own DML (not by function bodies), lower-cased
    /// unless quoted, schema-qualified as written.
    pub writes: Vec<String>,
    /// A `WITH` clause holds INSERT/UPDATE/DELETE/MERGE.
    pub dml_in_cte: bool,
    /// May run inside a transaction block (false for `CONCURRENTLY`, VACUUM, CREATE
    /// DATABASE, ALTER SYSTEM, … and for transaction control itself).
    pub in_transaction: bool,
    pub params: Vec<Param>,
    /// For CREATE, ALTER and DROP: how many bytes from `start` the words that name the
    /// command (`CREATE UNIQUE INDEX`, `ALTER TABLE`) take; the object's name comes next
    /// (after `IF [NOT] EXISTS`), and readers of it start there instead of lexing the
    /// statement again. 0 for other statements. (A `u32` fits in the struct's padding:
    /// a wider field made every statement bigger and splitting measurably slower.)
    #[serde(skip)]
    pub head_len: u32,
}

impl Statement {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }

    /// Where the object's name begins in a CREATE, ALTER or DROP (see `head_len`).
    pub fn head_end(&self) -> Option<usize> {
        (self.head_len > 0).then(|| self.start + self.head_len as usize)
    }
}

/// psql-only syntax met while splitting: not SQL, so no server will accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PsqlSyntaxKind {
    /// `\set`, `\gset`, `\d` …: a backslash command, to the end of its line.
    MetaCommand,
    /// The data lines after `COPY … FROM stdin;`, up to `\.`.
    CopyData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PsqlSyntax {
    pub kind: PsqlSyntaxKind,
    pub start: usize,
    pub end: usize,
    pub line: u32,
}
