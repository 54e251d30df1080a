//! `sqlrail split`: how files split into statements, for people (text) and tools (json).

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::cli::{Format, SplitArgs};
use crate::error::{Error, Exit};
use crate::project::{read_sql, unterminated};
use crate::sql::{PsqlSyntax, Statement, split};

#[derive(Serialize)]
struct FileReport<'a> {
    path: &'a Path,
    statements: Vec<Statement>,
    psql: Vec<PsqlSyntax>,
}

#[derive(Serialize)]
struct Report<'a> {
    files: Vec<FileReport<'a>>,
    errors: Vec<String>,
}

pub fn run(args: &SplitArgs) -> Result<Exit, Error> {
    let mut report = Report {
        files: Vec::new(),
        errors: Vec::new(),
    };
    let mut sources = Vec::new();
    for path in &args.files {
        match read_and_split(path) {
            Ok((sql, file)) => {
                report.files.push(FileReport {
                    path,
                    statements: file.statements,
                    psql: file.psql,
                });
                sources.push(sql);
            }
            Err(message) => {
                crate::say!("error: {message}");
                report.errors.push(message);
            }
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            // Serialised first, so that a closed pipe surfaces as a plain I/O error.
            let json = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
            writeln!(out, "{json}")?;
        }
        Format::Text => {
            for (file, sql) in report.files.iter().zip(&sources) {
                write_text(&mut out, file, sql)?;
            }
        }
    }
    match report.errors.len() {
        0 => Ok(Exit::Success),
        n => Err(Error::Reported(format!(
            "{n} of {} files could not be split",
            args.files.len()
        ))),
    }
}

/// Reads `path` and splits it; the error names the file, line and column.
fn read_and_split(path: &Path) -> Result<(String, crate::sql::SqlFile), String> {
    let sql = read_sql(path).map_err(|e| e.to_string())?;
    match split(&sql) {
        Ok(file) => Ok((sql, file)),
        Err(error) => Err(unterminated(path, &sql, error).to_string()),
    }
}

fn write_text(out: &mut impl Write, file: &FileReport, sql: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} statements",
        file.path.display(),
        file.statements.len()
    )?;
    for s in &file.statements {
        let mut extras = Vec::new();
        if !s.writes.is_empty() {
            extras.push(format!(
                "writes {}{}",
                s.writes.join(", "),
                if s.dml_in_cte { " (via WITH)" } else { "" }
            ));
        }
        if !s.params.is_empty() {
            let mut names: Vec<String> = s.params.iter().map(|p| format!(":{}", p.name)).collect();
            names.dedup();
            names.sort();
            names.dedup();
            extras.push(names.join(" "));
        }
        if !s.in_transaction {
            extras.push("outside a transaction".into());
        }
        let first_line = s.text(sql).lines().next().unwrap_or_default();
        let preview: String = first_line.chars().take(60).collect();
        let ellipsis = if preview.len() < s.text(sql).len() {
            "…"
        } else {
            ""
        };
        writeln!(
            out,
            "  {:>5}:{:<3} {:<19} {:<22} {preview}{ellipsis}",
            s.line,
            s.column,
            s.kind.as_str(),
            s.tag
        )?;
        if !extras.is_empty() {
            writeln!(out, "  {:>9} {}", "", extras.join("; "))?;
        }
    }
    for p in &file.psql {
        writeln!(
            out,
            "  {:>5}     psql-only {:?}: not SQL, no server accepts it",
            p.line, p.kind
        )?;
    }
    Ok(())
}
