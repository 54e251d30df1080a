//! `sqlrail lint`: static checks of migration files, the manifest and the lint rules.
//! Rules run per statement on the lexed stream, never on raw text (`design.md` §4).
//!
//! Flow: files are linted in parallel (`engine`), taken in path order and handed over in
//! that order as each is done (`crate::speed::in_order`). A file is finished (allow comments applied, findings sorted, and rendered when streaming) in
//! its worker, or, when it has `CALL`s of procedures that earlier files may define, once
//! the files before it are done. The project's consistency rules need every file, so a
//! project run collects the findings; the caller applies the baseline.

pub mod allow;
mod alter_action;
pub mod baseline;
mod body;
mod checks;
mod column_types;
#[cfg(test)]
mod conformance_tests;
pub(crate) use crate::sql::code;
mod context;
pub mod engine;
mod finding;
mod message;
mod pattern;
pub mod project;
mod rule;
pub mod rules;
mod settings;
pub mod target;
#[cfg(test)]
pub(crate) mod test_utils;
mod volatility;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{Manifest, Phase};
use crate::project::{ProjectError, read_sql, unterminated};

pub use engine::{FileLint, Keep, Source};
pub use finding::{Finding, Findings, Tally};
pub use rule::{Check, Place, Report, Rule};
pub use settings::LintSettings;

use checks::KnownChecks;
use project::{ProjectContext, ProjectFile, project_of};
use rules::dml_in_do_block::{self, Procedure};

/// A project whose manifest the consistency rules check.
#[derive(Debug, Clone)]
pub struct ProjectInput {
    pub manifest_path: PathBuf,
    /// As shown in findings.
    pub manifest_display: String,
}

/// What a lint run found.
pub struct Outcome {
    /// After allow comments, in output order (empty when streamed).
    pub findings: Findings,
    /// Every finding, streamed or collected, by severity.
    pub tally: Tally,
    /// Files that could not be read, were not UTF-8 or did not lex (exit 2).
    pub problems: Vec<ProjectError>,
    pub files: usize,
}

/// How `run` hands over findings.
pub enum Delivery<'a> {
    /// Collected into `Outcome::findings`. With `keep_sources` findings keep their file's
    /// text, which snippets and baseline keys read; without it each file's text is freed
    /// as soon as the file is done.
    /// Every finding's end is placed.
    Collect { keep_sources: bool },
    /// Nothing is collected: each file's findings (sorted) are rendered by `render` in the
    /// worker that linted the file, and the bytes handed to `emit` in output order as soon
    /// as every file before it is done. Memory holds the few files finished ahead of an
    /// earlier one, not the tree and its million findings. A project run collects instead (its consistency rules need
    /// every file first), and the caller renders `Outcome::findings`.
    Stream {
        render: &'a (dyn Fn(&[Finding]) -> Vec<u8> + Sync),
        emit: &'a mut (dyn FnMut(Vec<u8>) + Send),
        /// `render` reads the findings' text (snippets).
        render_reads_text: bool,
        /// `render` reads where findings end (`Finding::end`).
        render_reads_ends: bool,
    },
}

/// One linted file and, when it was finished and rendered in its worker, its output.
struct Linted {
    lint: FileLint,
    rendered: Option<(Vec<u8>, Tally)>,
}

/// Lints `sources` (and the manifest of `project`, when given), files in parallel and
/// in natural path order; findings go where `delivery` says.
pub fn run(
    mut sources: Vec<Source>,
    project: Option<&ProjectInput>,
    settings: &LintSettings,
    delivery: Delivery<'_>,
) -> Result<Outcome, ProjectError> {
    let files = sources.len();
    let (mut stream, keep) = match delivery {
        Delivery::Stream {
            render,
            emit,
            render_reads_text,
            render_reads_ends,
        } if project.is_none() => (
            Some((render, emit)),
            Keep {
                text: render_reads_text,
                ends: render_reads_ends,
            },
        ),
        Delivery::Stream { .. } => (None, Keep::ALL),
        Delivery::Collect { keep_sources } => (
            None,
            Keep {
                text: keep_sources || project.is_some(),
                ends: true,
            },
        ),
    };
    let render = stream.as_ref().map(|(render, _)| *render);
    let streaming = stream.is_some();
    sources.sort_by(|a, b| natural_order(&a.display, &b.display));
    let known = |id: &str| known_rule(settings, id);
    let lint_one = |source: &Source| -> Result<Linted, ProjectError> {
        let text = Arc::new(read_sql(&source.path)?);
        let mut lint = engine::lint_text(source.clone(), text.clone(), settings, keep)
            .map_err(|e| unterminated(&source.path, &text, e))?;
        // A file that needs no other file is finished here, in parallel.
        let mut rendered = None;
        if !lint.needs_earlier_files() {
            lint.apply_allows(settings, &known);
            lint.sort_findings();
            if let Some(render) = render {
                let findings = std::mem::take(&mut lint.findings);
                rendered = Some((render(&findings), Tally::of(&findings)));
            }
            if !keep.text || streaming {
                lint.release_text();
            }
        }
        Ok(Linted { lint, rendered })
    };

    let mut linted = Vec::new();
    let mut problems = Vec::new();
    let mut tally = Tally::default();
    // What the DDL files linted so far define, in path order.
    let mut earlier = Earlier::default();
    crate::speed::in_order::for_each_in_order(&sources, lint_one, |result| {
        let Linted { mut lint, rendered } = match result {
            Ok(linted) => linted,
            Err(problem) => {
                problems.push(problem);
                return;
            }
        };
        finish_in_order(&mut lint, &mut earlier, settings);
        match (&mut stream, rendered) {
            (Some((_, emit)), Some((bytes, counts))) => {
                tally.add(counts);
                emit(bytes);
            }
            (Some((render, emit)), None) => {
                tally.add(Tally::of(&lint.findings));
                emit(render(&lint.findings));
            }
            (None, _) => linted.push(lint),
        }
    });
    if stream.is_some() {
        return Ok(Outcome {
            findings: Findings::default(),
            tally,
            problems,
            files,
        });
    }
    let findings = conclude(linted, project, settings)?;
    Ok(Outcome {
        tally: Tally::of(findings.iter()),
        findings,
        problems,
        files,
    })
}

/// Whether `id` names a rule, built in or custom.
fn known_rule(settings: &LintSettings, id: &str) -> bool {
    rules::find(id).is_some() || settings.custom.iter().any(|c| c.rule.id == id)
}

/// What the DDL files before a file define, which its findings may depend on.
#[derive(Debug, Default)]
pub struct Earlier {
    pub procedures: Vec<Procedure>,
    pub checks: KnownChecks,
}

/// Finishes `lint` once every file before it is: a file with `CALL`s or conditional
/// findings (which `run`'s workers leave unfinished) has them judged against `earlier`,
/// its allows applied and its findings sorted. Then what it defines joins `earlier` for
/// the files after it.
pub fn finish_in_order(lint: &mut FileLint, earlier: &mut Earlier, settings: &LintSettings) {
    if !lint.allows_applied {
        judge_calls(lint, &earlier.procedures, settings);
        judge_conditional(lint, &earlier.checks, settings);
        lint.apply_allows(settings, &|id| known_rule(settings, id));
        lint.sort_findings();
    }
    if lint.source.phase == Phase::Ddl {
        earlier.procedures.extend(lint.procedures.iter().cloned());
        earlier
            .checks
            .record(lint.check_events.iter().map(|(_, event)| event));
    }
}

/// A conditional finding stands unless the checks of the earlier files, and those of its
/// own file before its statement, prove what would withdraw it.
fn judge_conditional(lint: &mut FileLint, earlier: &KnownChecks, settings: &LintSettings) {
    for (rule, report) in std::mem::take(&mut lint.conditional) {
        let statement = report.statement.unwrap_or(usize::MAX);
        let proven = report.unless.as_ref().is_some_and(|evidence| {
            let mut known = earlier.relevant_to(evidence);
            known.record(
                lint.check_events
                    .iter()
                    .filter(|(i, _)| *i < statement)
                    .map(|(_, event)| event),
            );
            known.proves(evidence)
        });
        if !proven {
            lint.push(settings, rule, report);
        }
    }
}

/// What needs every file, once each is finished (`finish_in_order`): the project's
/// consistency rules, and the findings grouped and sorted by file, line, column and rule.
pub fn conclude(
    mut linted: Vec<FileLint>,
    project: Option<&ProjectInput>,
    settings: &LintSettings,
) -> Result<Findings, ProjectError> {
    // Findings are grouped by file and sorted twice, files by path and each file's by
    // position: sorting one list of every finding by path would compare paths a million
    // times on a big tree.
    let mut groups: Vec<Vec<Finding>> = Vec::with_capacity(linted.len() + 1);
    if let Some(project) = project {
        let mut manifest = Vec::new();
        for (n, finding) in project_findings(project, &linted, settings)? {
            match n {
                Some(n) => linted[n].findings.push(finding),
                None => manifest.push(finding),
            }
        }
        groups.push(manifest);
    }
    groups.extend(linted.into_iter().map(|l| l.findings));
    groups.retain(|g| !g.is_empty());
    groups.sort_by(|a, b| natural_order(&a[0].path, &b[0].path));
    groups.par_iter_mut().for_each(finding::sort);
    Ok(Findings::from_groups(groups))
}

/// Compares paths with digit runs as numbers, so `V2__b` sorts before `V10__a`; paths
/// equal so (`V01__a`, `V1__a`) in byte order, so that the order is total and does not
/// depend on the order files were found in.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Up to the first difference the paths are equal either way; it is the start of the
    // digit run holding it, if any, that decides. Paths of one tree share most of their
    // bytes, and the walk no longer sorts directories, so this is most of the comparing.
    let mut from = common_prefix(a, b);
    while from > 0 && a[from - 1].is_ascii_digit() {
        from -= 1;
    }
    numbers_as_numbers(&a[from..], &b[from..]).then_with(|| a.cmp(b))
}

/// The length of the longest common prefix of `a` and `b`, eight bytes at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= len {
        let word = |s: &[u8]| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
        let differ = word(a) ^ word(b);
        if differ != 0 {
            return i + differ.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    i + a[i..len]
        .iter()
        .zip(&b[i..len])
        .take_while(|(x, y)| x == y)
        .count()
}

fn numbers_as_numbers(mut a: &[u8], mut b: &[u8]) -> std::cmp::Ordering {
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (digits(a), digits(b));
                fn trim(s: &[u8]) -> &[u8] {
                    let zeros = s.iter().take_while(|&&c| c == b'0').count();
                    &s[zeros..]
                }
                let (da, db) = (trim(&a[..na]), trim(&b[..nb]));
                let order = da.len().cmp(&db.len()).then(da.cmp(db));
                if order.is_ne() {
                    return order;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

/// `dml-in-do-block` for the `CALL`s of `lint`: a call is a finding when the procedure it
/// names was created before it in migration order, by a DDL file earlier in path order
/// (`earlier`) or earlier in the same file, and writes data. The latest definition wins,
/// as `CREATE OR REPLACE` does at deploy time. A procedure created only later cannot be
/// what the call runs, so it is not consulted; this is also what lets `run` finish each
/// file as soon as the files before it are done.
fn judge_calls(lint: &mut FileLint, earlier: &[Procedure], settings: &LintSettings) {
    for call in std::mem::take(&mut lint.calls) {
        let own = lint
            .procedures
            .iter()
            .filter(|p| p.statement < call.statement);
        let writes = earlier
            .iter()
            .chain(own)
            .rev()
            .find(|p| dml_in_do_block::names_match(&call.procedure, &p.name))
            .and_then(|p| p.writes.clone());
        if let Some(table) = writes {
            let what = format!("`CALL {}`", call.procedure);
            let report = dml_in_do_block::report(
                &lint.text,
                call.span,
                call.statement,
                settings,
                &what,
                &table,
            );
            lint.push(settings, &rules::DML_IN_DO_BLOCK, report);
        }
    }
}

/// The project consistency rules over the manifest and every linted file of the project.
fn project_findings(
    project: &ProjectInput,
    linted: &[FileLint],
    settings: &LintSettings,
) -> Result<Vec<(Option<usize>, Finding)>, ProjectError> {
    let manifest_text =
        std::fs::read_to_string(&project.manifest_path).map_err(|source| ProjectError::Read {
            path: project.manifest_path.clone(),
            source,
        })?;
    // Messages name the manifest as the user sees it.
    let manifest = Manifest::parse(Path::new(&project.manifest_display), &manifest_text)?;
    let files: Vec<ProjectFile> = linted
        .iter()
        .map(|l| {
            ProjectFile::new(
                l.source.path.clone(),
                l.source.display.clone(),
                l.source.phase,
                Some(l.text.clone()),
            )
        })
        .collect();
    let history_project = project_of(&project.manifest_path, &manifest, &files);
    let history = crate::history::History::of(&history_project);
    let context = ProjectContext {
        manifest_path: &project.manifest_path,
        manifest_text: &manifest_text,
        manifest: &manifest,
        files: &files,
        history: &history,
        entry_lines: crate::config::EntryLines::of(&manifest_text),
        line_starts: project::line_starts(&manifest_text),
        file_by_id: files
            .iter()
            .enumerate()
            .filter_map(|(n, f)| Some((f.id.as_deref()?, n)))
            .collect(),
    };
    let manifest_source: Arc<String> = Arc::new(manifest_text.clone());
    let manifest_display: Arc<str> = Arc::from(project.manifest_display.as_str());
    let manifest_file: Arc<Path> = Arc::from(project.manifest_path.as_path());
    let manifest_lines = crate::sql::LineIndex::new(&manifest_text);
    let mut out = Vec::new();
    let mut reports = Vec::new();
    for rule in rules::ALL {
        let Check::Project(check) = rule.check else {
            continue;
        };
        check(&context, &mut reports);
        for report in reports.drain(..) {
            let Some(severity) =
                settings.severity(rule.id, report.report.severity.unwrap_or(rule.severity))
            else {
                continue;
            };
            let (file, display, source, lines) = match report.place {
                Place::Manifest => (
                    manifest_file.clone(),
                    manifest_display.clone(),
                    Some(manifest_source.clone()),
                    None,
                ),
                Place::File(n) => (
                    linted[n].file.clone(),
                    linted[n].path.clone(),
                    Some(linted[n].text.clone()),
                    Some(n),
                ),
            };
            let span = report.report.span;
            let position = |offset: usize| match lines {
                None => manifest_lines.position(&manifest_text, offset),
                Some(n) => linted[n].position(offset),
            };
            let (line, column) = position(span.start);
            let end = Some(position(span.end));
            let finding = Finding {
                rule: Cow::Borrowed(rule.id),
                severity,
                path: display,
                file,
                line,
                column,
                end,
                span,
                message: report.report.message,
                help: report.report.help,
                statement: None,
                statement_span: None,
                source,
            };
            out.push((lines, finding));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loose files (no project), in path order: a `CALL` of a procedure not created yet,
    /// the procedure (it writes), a file calling it (finished only once the files before
    /// it are done, though later files are linted alongside), one with allow comments.
    fn loose_files() -> (tempfile::TempDir, Vec<Source>) {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (
                "V3__allows.sql",
                "-- sqlrail:allow drop reason=\"gone\"\nDROP TABLE old;\nUPDATE t SET a = 1;\n",
            ),
            ("V0__early_call.sql", "CALL p();\n"),
            (
                "V1__procedure.sql",
                "CREATE PROCEDURE p() LANGUAGE sql AS $$ DELETE FROM t $$;\n",
            ),
            (
                "V2__call.sql",
                "CALL p();\n-- sqlrail:allow rename\nSELECT 1;\n",
            ),
        ];
        let sources = files
            .iter()
            .map(|(name, text)| {
                let path = dir.path().join(name);
                std::fs::write(&path, text).unwrap();
                Source {
                    display: name.to_string(),
                    path,
                    phase: Phase::Ddl,
                }
            })
            .collect();
        (dir, sources)
    }

    #[test]
    fn streaming_or_freeing_sources_changes_no_finding() {
        let (_dir, sources) = loose_files();
        let settings = LintSettings::defaults();
        let collect = |keep_sources| Delivery::Collect { keep_sources };
        let kept = run(sources.clone(), None, &settings, collect(true)).unwrap();
        let freed = run(sources.clone(), None, &settings, collect(false)).unwrap();
        let shown = |o: &Outcome| {
            o.findings
                .iter()
                .map(|f| {
                    format!(
                        "{}:{}:{} {} {}",
                        f.path, f.line, f.column, f.rule, f.message
                    )
                })
                .collect::<Vec<_>>()
        };
        let rules: Vec<&str> = kept.findings.iter().map(|f| f.rule.as_ref()).collect();
        for rule in [
            "dml-in-ddl",
            "dml-in-do-block",
            "allow-missing-reason",
            "unused-allow",
        ] {
            assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
        }
        assert!(
            !rules.contains(&"drop"),
            "the allow silences `drop`: {rules:?}"
        );
        assert_eq!(shown(&kept), shown(&freed));
        assert!(kept.findings.iter().all(|f| f.source.is_some()));
        // Without `keep_sources` no finding holds its file's text, not even those of files
        // with a CALL, which are finished outside the workers.
        assert!(freed.findings.iter().any(|f| f.path.contains("call")));
        assert!(freed.findings.iter().all(|f| f.source.is_none()));
    }

    #[test]
    fn paths_sort_with_numbers_as_numbers() {
        let mut paths = vec![
            "sql/ddl/V10__a.sql",
            "sql/ddl/V2__b.sql",
            "sql/ddl/V1__c.sql",
            "sql/backfills/V9__d.sql",
        ];
        paths.sort_by(|a, b| natural_order(a, b));
        assert_eq!(
            paths,
            [
                "sql/backfills/V9__d.sql",
                "sql/ddl/V1__c.sql",
                "sql/ddl/V2__b.sql",
                "sql/ddl/V10__a.sql"
            ]
        );
    }

    /// The shortcut past the common prefix gives the comparison from the first byte, and
    /// paths equal as numbers fall back to their bytes.
    #[test]
    fn natural_order_is_total_and_skips_common_prefixes_exactly() {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let cases = [
            ("copy10/a.sql", "copy9/a.sql", Greater),
            ("a/copy19/x", "a/copy110/x", Less),
            ("dir/V100__b.sql", "dir/V100__a.sql", Greater),
            ("longer-common-prefix/V2", "longer-common-prefix/V10", Less),
            ("V01__a.sql", "V1__a.sql", Less),
            ("V1__a.sql", "V01__a.sql", Greater),
            ("V007", "V7", Less),
            ("same/path.sql", "same/path.sql", Equal),
            ("abc", "abcd", Less),
            ("x12345678/9", "x12345678/10", Less),
        ];
        for (a, b, expected) in cases {
            assert_eq!(natural_order(a, b), expected, "{a} vs {b}");
            assert_eq!(natural_order(b, a), expected.reverse(), "{b} vs {a}");
            let reference = numbers_as_numbers(a.as_bytes(), b.as_bytes());
            assert_eq!(reference.then_with(|| a.cmp(b)), expected, "{a} vs {b}");
        }
    }

    proptest::proptest! {
        #[test]
        fn natural_order_agrees_with_comparing_from_the_start(
            a in "[a0-2/]{0,24}",
            b in "[a0-2/]{0,24}",
        ) {
            let reference = numbers_as_numbers(a.as_bytes(), b.as_bytes()).then_with(|| a.cmp(&b));
            proptest::prop_assert_eq!(natural_order(&a, &b), reference);
        }
    }
}
