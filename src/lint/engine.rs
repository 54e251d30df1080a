//! Lints one file: split it, run every file rule and custom rule on it, and turn reports
//! into findings with positions and baseline keys. Allow comments are applied after, once
//! the findings that need earlier files (a `CALL` of a procedure defined in one) are in.

use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::config::{Phase, RuleLevel, Severity};
use crate::speed::scratch::{reserve_empty, worth_keeping};
use crate::sql::lines::{LineCounter, position_from};
use crate::sql::{LexError, LineIndex, SqlFile, Statement};

use super::allow::{self, Allow};
use super::checks::{self, CheckEvent};
use super::context::FileContext;
use super::finding::Finding;
use super::rule::{Check, Report, Rule};
use super::rules::{self, dml_in_do_block};
use super::settings::{LintSettings, leveled};

/// One file to lint.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    /// As shown in findings.
    pub display: String,
    pub phase: Phase,
}

/// What a file's findings carry beyond their rule, message and start.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    /// The file's text, which snippets and baseline keys read. Without it no finding holds
    /// the text, and none costs a count on it.
    pub text: bool,
    /// Where each finding ends (json, sarif and github print it). Placing an end walks the
    /// finding's bytes, a whole statement for most: 22 million of the 423 million
    /// instructions of a gcc lint of three copies of the corpus.
    pub ends: bool,
}

impl Keep {
    pub const ALL: Keep = Keep {
        text: true,
        ends: true,
    };
}

/// What linting one file produced.
pub struct FileLint {
    pub source: Source,
    /// `source.display` and `source.path`, shared by the file's findings.
    pub path: Arc<str>,
    pub file: Arc<Path>,
    pub text: Arc<String>,
    /// What findings carry; see `lint_text`.
    keep: Keep,
    pub findings: Vec<Finding>,
    pub allows: Vec<Allow>,
    /// Whether `apply_allows` has run.
    pub allows_applied: bool,
    pub procedures: Vec<dml_in_do_block::Procedure>,
    pub calls: Vec<Call>,
    /// Reports that an earlier file's checks may withdraw (`Report::unless`), judged by
    /// `finish_in_order`.
    pub conditional: Vec<(&'static Rule, Report)>,
    /// The file's CHECK constraints, for the files after it.
    pub check_events: Vec<(usize, CheckEvent)>,
    /// Built on first use: findings made while linting get their positions in one walk
    /// over the text (`report_positions`); only later ones (allows, calls) need the index.
    lines: OnceLock<LineIndex>,
    /// Each statement's bytes.
    spans: Vec<Range<usize>>,
}

/// Where a finding is: what turning a report into a finding needs of its file.
struct Place<'a> {
    path: &'a Arc<str>,
    file: &'a Arc<Path>,
    /// `None`: findings do not hold the file's text.
    text: Option<&'a Arc<String>>,
    spans: &'a [Range<usize>],
}

/// A `CALL` in a DDL file, judged once every file's procedures are known.
pub struct Call {
    pub statement: usize,
    pub span: Range<usize>,
    pub procedure: String,
}

/// A rule's report with the rule's id and the report's final severity.
type Leveled = (Cow<'static, str>, Severity, Report);

thread_local! {
    /// The report lists of the last file linted on this thread, emptied, for the next
    /// (see `crate::speed::scratch`).
    static SPARE_REPORTS: Cell<(Vec<Leveled>, Vec<Report>)> = Cell::default();
}

/// Lints `text`, the contents of `source`. Fails only when the text does not lex. Findings
/// hold the text and their ends as `keep` says.
pub fn lint_text(
    source: Source,
    text: Arc<String>,
    settings: &LintSettings,
    keep: Keep,
) -> Result<FileLint, LexError> {
    let sql = crate::sql::split(&text)?;
    let file = FileContext::new(&source.path, source.phase, &text, &sql, settings);
    // Reports of rules that are off are never made.
    // Sized for a finding per statement (in PostgreSQL's regression SQL, every DDL
    // statement of a backfill file is one), so that neither list grows by copying.
    let (mut reports, mut buffer) = SPARE_REPORTS.with(Cell::take);
    reserve_empty(&mut reports, sql.statements.len() + 8);
    reserve_empty(&mut buffer, sql.statements.len() + 8);
    let mut conditional = Vec::new();
    for (rule, level) in settings.builtin_rules() {
        let Check::File(check) = rule.check else {
            continue;
        };
        if level == Some(RuleLevel::Off) {
            continue;
        }
        check(&file, &mut buffer);
        for r in buffer.drain(..) {
            if r.unless.is_some() {
                conditional.push((rule, r));
                continue;
            }
            if let Some(severity) = leveled(level, r.severity.unwrap_or(rule.severity)) {
                reports.push((Cow::Borrowed(rule.id), severity, r));
            }
        }
    }
    // Masked once for every custom rule, and only when one needs it (see `first_in_each`);
    // each matches statement by statement.
    let masked = OnceLock::new();
    let masked = || masked.get_or_init(|| masked_text(&text, &sql)).as_str();
    for custom in settings.custom_for(source.phase) {
        let Some(severity) = settings.severity(&custom.rule.id, custom.rule.severity) else {
            continue;
        };
        // Each statement is matched on its own: a match must not run into the next one.
        let hits = custom
            .pattern
            .first_in_each(&text, masked, &sql.statements, |s| s.start..s.end);
        for (i, hit) in hits {
            let mut report = Report::statement(i, hit, custom.rule.message.clone());
            report.help = custom.rule.help.clone().map(Cow::Owned);
            let id = Cow::Owned(custom.rule.id.clone());
            reports.push((id, severity, report));
        }
    }
    let path: Arc<str> = Arc::from(source.display.as_str());
    let file_path: Arc<Path> = Arc::from(source.path.as_path());
    let spans: Vec<Range<usize>> = sql.statements.iter().map(|s| s.start..s.end).collect();
    let place = Place {
        path: &path,
        file: &file_path,
        text: keep.text.then_some(&text),
        spans: &spans,
    };
    let positions = report_positions(
        &text,
        &sql.statements,
        reports.iter().map(|(_, _, r)| r),
        keep.ends,
    );
    // Made in output order, so that `FileLint::sort_findings` finds them sorted: sorting
    // the findings themselves (about 190 bytes each) moved every one of them twice.
    let findings = match output_order(&reports) {
        Some(order) => order
            .into_iter()
            .map(|(_, _, k)| {
                let k = k as usize;
                finding(&place, &mut reports[k], positions[k])
            })
            .collect(),
        None => reports
            .iter_mut()
            .zip(positions)
            .map(|(leveled, at)| finding(&place, leveled, at))
            .collect(),
    };
    reports.clear();
    if worth_keeping(&reports) && worth_keeping(&buffer) {
        SPARE_REPORTS.with(|spare| spare.set((reports, buffer)));
    }
    let allows = allow::collect(&file);
    let procedures = dml_in_do_block::procedures(&file);
    let check_events = if source.phase == Phase::Ddl {
        checks::events(&file)
    } else {
        Vec::new()
    };
    let calls = dml_in_do_block::calls(&file)
        .into_iter()
        .map(|(i, procedure)| Call {
            statement: i,
            span: file.span_of(i),
            procedure,
        })
        .collect();
    // The next file linted on this thread fills the same lists.
    drop(file);
    crate::sql::recycle(sql);
    Ok(FileLint {
        source,
        path,
        file: file_path,
        text: text.clone(),
        keep,
        findings,
        allows,
        allows_applied: false,
        procedures,
        calls,
        conditional,
        check_events,
        lines: OnceLock::new(),
        spans,
    })
}

impl FileLint {
    /// Whether the file waits for the files before it to be finished: its `CALL`s and
    /// its conditional findings are judged on what they define.
    pub fn needs_earlier_files(&self) -> bool {
        !self.calls.is_empty() || !self.conditional.is_empty()
    }

    /// Frees the file's text, line index and statement spans once nothing will need them
    /// (the findings of a file linted without `Keep::text` do not hold the text): on a big
    /// tree this keeps memory proportional to the findings, and lets the allocator reuse
    /// one file's pages for the next file. Afterwards nothing may be pushed: call this
    /// after `apply_allows`.
    pub fn release_text(&mut self) {
        debug_assert!(self.calls.is_empty(), "calls still need the text");
        debug_assert!(self.conditional.is_empty(), "findings still need the text");
        debug_assert!(self.findings.iter().all(|f| f.source.is_none()));
        self.keep.text = false;
        self.text = Arc::default();
        self.lines = OnceLock::new();
        self.spans = Vec::new();
    }

    /// Sorts the findings into output order.
    pub fn sort_findings(&mut self) {
        super::finding::sort(&mut self.findings);
    }

    /// Line and column of a byte offset of this file.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        self.lines
            .get_or_init(|| LineIndex::new(&self.text))
            .position(&self.text, offset)
    }

    /// Adds a finding of `rule` from a report (no-op when the rule is off).
    pub fn push(&mut self, settings: &LintSettings, rule: &Rule, report: Report) {
        let at = (
            self.position(report.span.start),
            self.keep.ends.then(|| self.position(report.span.end)),
        );
        let place = Place {
            path: &self.path,
            file: &self.file,
            text: self.keep.text.then_some(&self.text),
            spans: &self.spans,
        };
        let Some(severity) = settings.severity(rule.id, report.severity.unwrap_or(rule.severity))
        else {
            return;
        };
        let finding = finding(&place, &mut (Cow::Borrowed(rule.id), severity, report), at);
        self.findings.push(finding);
    }

    /// Applies the allow comments: drops the findings they cover and adds findings for
    /// allows without a reason, naming unknown rules, or silencing nothing.
    pub fn apply_allows(&mut self, settings: &LintSettings, known: &dyn Fn(&str) -> bool) {
        self.allows_applied = true;
        let mut allows = std::mem::take(&mut self.allows);
        self.findings.retain(|f| {
            let covers = |a: &Allow| {
                (a.file_level || (f.statement.is_some() && a.statement == f.statement))
                    && a.rules.iter().any(|r| *r == f.rule)
            };
            // A statement-level allow wins over a file-level one, so that each is used.
            let by_statement = allows.iter().position(|a| !a.file_level && covers(a));
            let by_file = || allows.iter().position(|a| a.file_level && covers(a));
            match by_statement.or_else(by_file) {
                Some(n) => {
                    let rule = allows[n].rules.iter().position(|r| *r == f.rule);
                    allows[n].used[rule.unwrap_or(0)] = true;
                    false
                }
                None => true,
            }
        });
        for allow in &allows {
            let span = allow.span.clone();
            if allow.reason.is_none() {
                let report = Report::file(span.clone(), "allow comment without a reason")
                    .help("add reason=\"…\": why this exception is safe");
                self.push(settings, &rules::ALLOW_MISSING_REASON, report);
            }
            for (rule, used) in allow.rules.iter().zip(&allow.used) {
                let report = if !known(rule) {
                    Report::file(span.clone(), format!("`{rule}` is not a rule"))
                        .help("`sqlrail lint --list-rules` lists the rules")
                } else if !used {
                    let target = if allow.file_level {
                        "this file"
                    } else {
                        "the statement it is attached to"
                    };
                    Report::file(
                        span.clone(),
                        format!("allow of `{rule}` silences nothing in {target}"),
                    )
                    .help("delete it, or move it to the line before the statement it is about")
                } else {
                    continue;
                };
                let rule = if known(rule) {
                    &rules::UNUSED_ALLOW
                } else {
                    &rules::UNKNOWN_RULE
                };
                self.push(settings, rule, report);
            }
        }
    }
}

/// The finding of a report, whose texts it takes (leaving empty ones).
fn finding(
    place: &Place<'_>,
    (rule, severity, report): &mut Leveled,
    ((line, column), end): Position,
) -> Finding {
    Finding {
        rule: std::mem::take(rule),
        severity: *severity,
        path: place.path.clone(),
        file: place.file.clone(),
        line,
        column,
        end,
        span: report.span.clone(),
        message: std::mem::take(&mut report.message),
        help: report.help.take(),
        statement: report.statement,
        statement_span: report.statement.map(|i| place.spans[i].clone()),
        source: place.text.cloned(),
    }
}

/// The order of a file's reports in the output, which is `finding::sort`'s: by line and
/// column, then rule id, then as reported. A report's line and column grow with its start
/// offset, so offsets order them; rule ids are ranked once per file (each rule reports as
/// one run). `None`: already in order. Each entry is (start, rank of the rule id, report
/// index).
fn output_order(reports: &[Leveled]) -> Option<Vec<(usize, u32, u32)>> {
    // Each rule's reports are one run: rank the runs' distinct ids.
    let mut ids: Vec<&str> = Vec::new();
    let mut runs: Vec<(usize, &str)> = Vec::new();
    for (k, (rule, _, _)) in reports.iter().enumerate() {
        // Each report of a built-in rule borrows the rule's own id: one address.
        let same = |id: &str| std::ptr::eq(id, &**rule) || id == &**rule;
        if runs.last().is_none_or(|&(_, id)| !same(id)) {
            runs.push((k, rule));
            if !ids.contains(&&**rule) {
                ids.push(rule);
            }
        }
    }
    ids.sort_unstable();
    let mut keys = Vec::with_capacity(reports.len());
    for (n, &(first, id)) in runs.iter().enumerate() {
        let rank = ids.binary_search(&id).expect("every id was collected") as u32;
        let last = runs.get(n + 1).map_or(reports.len(), |&(next, _)| next);
        for (k, (_, _, report)) in reports.iter().enumerate().take(last).skip(first) {
            keys.push((report.span.start, rank, k as u32));
        }
    }
    if keys.is_sorted() {
        return None;
    }
    // Stable, as it finds and merges the per-rule runs (pdqsort, unstable, does not, and
    // cost more here).
    keys.sort_by_key(|&(start, rank, _)| (start, rank));
    Some(keys)
}

/// A finding's start and, when placed, its end: (line, column) each.
type Position = ((u32, u32), Option<(u32, u32)>);

/// The line and column of each report's start and, with `ends`, its end. A report that
/// starts where its statement starts (most do) takes the statement's position from the
/// splitter and walks only its own bytes for its end; the others are placed in one forward
/// walk over `text` (offsets visited in order), cheaper than an index of every line of the
/// file.
fn report_positions<'a>(
    text: &str,
    statements: &[Statement],
    reports: impl Iterator<Item = &'a Report>,
    ends: bool,
) -> Vec<Position> {
    let bytes = text.as_bytes();
    let mut positions: Vec<Position> = Vec::with_capacity(reports.size_hint().0);
    // (offset, k): the start (k even) or end (k odd) of report k / 2.
    let mut offsets: Vec<(usize, usize)> = Vec::new();
    for (k, report) in reports.enumerate() {
        let span = &report.span;
        match report.statement.map(|i| &statements[i]) {
            Some(s) if s.start == span.start && span.end >= span.start => {
                let start = (s.line, s.column);
                let end = ends.then(|| position_from(bytes, s.start, start, span.end));
                positions.push((start, end));
            }
            _ => {
                positions.push(((0, 0), ends.then_some((0, 0))));
                offsets.push((span.start, 2 * k));
                if ends {
                    offsets.push((span.end, 2 * k + 1));
                }
            }
        }
    }
    if offsets.is_empty() {
        return positions;
    }
    offsets.sort_unstable();
    let mut lines = LineCounter::new(bytes);
    for (offset, slot) in offsets {
        let at = lines.position(offset);
        match &mut positions[slot / 2] {
            (start, _) if slot % 2 == 0 => *start = at,
            (_, end) => *end = Some(at),
        }
    }
    positions
}

/// The file's text with comments and literals blanked (same byte offsets), for custom
/// patterns: a pattern must not match inside a string or a function body. The splitter
/// already found every comment and literal, so nothing is lexed again.
fn masked_text(text: &str, sql: &SqlFile) -> String {
    let mut masked = text.as_bytes().to_vec();
    for token in sql.comments.iter().chain(&sql.literals) {
        masked[token.start..token.end].fill(b' ');
    }
    // Whole tokens were blanked, and every token starts and ends next to an ASCII byte (a
    // quote, `$`, `-`, `/`, a prefix letter, a newline), so the bytes are still UTF-8:
    // checked in debug builds only, as validating the copy cost 1% of a lint run.
    debug_assert!(std::str::from_utf8(&masked).is_ok());
    // SAFETY: `masked` is `text`, valid UTF-8, with whole tokens replaced by spaces; see
    // above.
    unsafe { String::from_utf8_unchecked(masked) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::pattern::SpanPattern;

    /// The lines (and rules) of custom-rule findings when `sql` is linted as DDL.
    fn custom_hits(pattern: &str, sql: &str) -> Vec<(u32, String)> {
        let text = format!(
            "custom:\n  - id: mine\n    message: m\n    pattern: '{pattern}'\n    directories: [ddl]\n"
        );
        let path = Path::new("lint-rules.yaml");
        let rules = crate::config::LintRules::parse(path, &text).unwrap();
        let settings = LintSettings::new(rules, Some((path, &text))).unwrap();
        let source = Source {
            path: PathBuf::from("V1__x.sql"),
            display: "V1__x.sql".into(),
            phase: Phase::Ddl,
        };
        let lint = lint_text(source, Arc::new(sql.to_owned()), &settings, Keep::ALL).unwrap();
        lint.findings
            .iter()
            .filter(|f| f.rule == "mine")
            .map(|f| (f.line, f.message.to_string()))
            .collect()
    }

    #[test]
    fn custom_patterns_match_within_one_statement() {
        let pattern = r"(?i)\bTRUNCATE\b[\s\S]*\bCASCADE\b";
        // The whole file matches across two statements; no statement does.
        assert!(custom_hits(pattern, "TRUNCATE a;\nALTER TABLE b DROP c CASCADE;\n").is_empty());
        // Leftmost file matches that no statement holds, then one that does.
        let sql = "SELECT 1;\nTRUNCATE a;\nDROP b CASCADE;\nTRUNCATE c;\nTRUNCATE d CASCADE;\nTRUNCATE e;\n";
        assert_eq!(custom_hits(pattern, sql), [(5, "m".to_owned())]);
        let twice = "TRUNCATE a CASCADE; TRUNCATE b CASCADE;\nTRUNCATE c CASCADE\n";
        assert_eq!(custom_hits(pattern, twice).len(), 3);
        assert!(custom_hits(pattern, "SELECT 'truncate x cascade';\n").is_empty());
        assert_eq!(
            custom_hits(pattern, "SELECT 1;\ntruncate t cascade;\n"),
            [(2, "m".to_owned())]
        );
        // Anchors mean the statement's ends, which the whole file does not share.
        assert_eq!(
            custom_hits("^DROP", "SELECT 1;\nDROP TABLE x;\n"),
            [(2, "m".to_owned())]
        );
        assert_eq!(
            custom_hits("x;?$", "SELECT x;\nSELECT y;\n"),
            [(1, "m".to_owned())]
        );
        // Blanks where a literal was are matched as the spaces they became, although the
        // raw text does not hold the pattern's prefix literal.
        assert_eq!(
            custom_hits("a {3}y", "SELECT 1;\nSELECT a'' y;\n"),
            [(2, "m".to_owned())]
        );
    }

    proptest::proptest! {
        /// The whole-file search finds exactly what matching each statement of the masked
        /// text would: statement edges are where `SpanPattern` needs them.
        #[test]
        fn file_searches_agree_with_matching_each_statement(
            words in proptest::collection::vec(proptest::sample::select(vec![
                "TRUNCATE", "cascade", "Cascade", "x", ";", " ", "\n", "'TRUNCATE'",
                "-- CASCADE\n", "$$;CASCADE$$", "(", ")", "truncatex", "x--y\n", "/*x*/x", "''",
            ]), 0..40),
            pattern in proptest::sample::select(vec![
                r"(?i)\bTRUNCATE\b[\s\S]*\bCASCADE\b", r"(?i)cascade", r"\bx\b", r"x\s*\(",
                r"x\b", r"\by", r"(?i)[a-z]*cascade", r"x {3}\(",
            ]),
        ) {
            let text = words.concat();
            let Ok(sql) = crate::sql::split(&text) else { return Ok(()) };
            let pattern = SpanPattern::new(regex::Regex::new(pattern).unwrap());
            let masked = masked_text(&text, &sql);
            let spans: Vec<Range<usize>> = sql.statements.iter().map(|s| s.start..s.end).collect();
            proptest::prop_assert_eq!(
                pattern.first_in_each(&text, || &masked, &sql.statements, |s| s.start..s.end),
                crate::lint::pattern::tests::each(&pattern, &masked, &spans)
            );
        }

        /// Reports come one run per rule, each in the rule's own order; `output_order`
        /// gives what a stable sort of every report by start, then rule id, gives.
        #[test]
        fn output_order_is_a_stable_sort_by_start_and_rule(
            runs in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["b-rule", "a-rule", "custom", "a-rulf", "zz"]),
                    proptest::collection::vec(0usize..30, 0..12),
                ),
                0..6,
            ),
        ) {
            let mut reports: Vec<Leveled> = Vec::new();
            for (id, starts) in &runs {
                // An owned id, as custom rules have: equal ids need not share an address.
                let id: Cow<'static, str> = if *id == "custom" {
                    Cow::Owned((*id).to_owned())
                } else {
                    Cow::Borrowed(id)
                };
                for &start in starts {
                    reports.push((id.clone(), Severity::Low, Report::file(start..start + 1, "m")));
                }
            }
            let mut expected: Vec<usize> = (0..reports.len()).collect();
            expected.sort_by(|&a, &b| {
                (reports[a].2.span.start, &reports[a].0).cmp(&(reports[b].2.span.start, &reports[b].0))
            });
            let got: Vec<usize> = match output_order(&reports) {
                Some(order) => order.into_iter().map(|(_, _, k)| k as usize).collect(),
                None => (0..reports.len()).collect(),
            };
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn report_positions_match_the_line_index() {
        let text = "SELECT 1;\nUPDATE t\n  SET é = 2;\n\nDROP TABLE x;";
        let statements = crate::sql::split(text).unwrap().statements;
        // Whole statements (placed from their statement), parts of statements and spans
        // of no statement (placed by the walk), in no particular order.
        let whole = |i: usize| Report::statement(i, statements[i].start..statements[i].end, "");
        let reports = [
            whole(2),
            whole(1),
            Report::statement(1, 21..27, ""),
            whole(0),
            Report::file(21..30, ""),
            Report::file(42..42, ""),
        ];
        let index = LineIndex::new(text);
        let expected: Vec<Position> = reports
            .iter()
            .map(|r| {
                (
                    index.position(text, r.span.start),
                    Some(index.position(text, r.span.end)),
                )
            })
            .collect();
        assert_eq!(
            report_positions(text, &statements, reports.iter(), true),
            expected
        );
        assert_eq!(expected[1], ((2, 1), Some((3, 12))));
        // Without ends, the same starts.
        let starts: Vec<Position> = expected.iter().map(|&(start, _)| (start, None)).collect();
        assert_eq!(
            report_positions(text, &statements, reports.iter(), false),
            starts
        );
    }

    #[test]
    fn masking_blanks_literals_and_comments_only() {
        let text = "UPDATE t SET a = 'TRUNCATE x' -- CASCADE\n WHERE b = $$CASCADE$$";
        let sql = crate::sql::split(text).unwrap();
        let masked = masked_text(text, &sql);
        assert_eq!(masked.len(), text.len());
        assert!(masked.starts_with("UPDATE t SET a = "));
        assert!(!masked.contains("TRUNCATE") && !masked.contains("CASCADE"));
        assert!(masked.contains("WHERE b ="));
    }
}
