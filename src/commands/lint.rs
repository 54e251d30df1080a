//! `sqlrail lint`: resolve what to lint, load the rules, lint, apply the baseline, render.

use std::io::Write;
use std::path::Path;

use crate::cli::{LintArgs, LintFormat};
use crate::config::{LintRules, Phase};
use crate::error::{Error, Exit};
use crate::lint::baseline::{Baseline, Keys};
use crate::lint::target::{RulesFile, resolve};
use crate::lint::{Delivery, LintSettings, Tally, rules};
use crate::report::{self, Summary};

pub fn run(args: &LintArgs) -> Result<Exit, Error> {
    if let Some(id) = &args.explain {
        return explain(id);
    }
    if args.list_rules {
        return list_rules();
    }
    let cwd = std::env::current_dir()?;
    let target = resolve(
        &args.paths,
        args.role.map(Phase::from),
        args.config.as_deref(),
        &cwd,
    )?;
    let settings = load_settings(target.rules_file.as_ref())?;
    let fail_on = args.fail_on.map_or(settings.fail_on, Into::into);
    let baseline_path = settings.baseline.clone();
    let baseline = match baseline_path.as_deref().filter(|_| !args.no_baseline) {
        Some(path) if !args.write_baseline => Baseline::load(path)?,
        _ => Baseline::default(),
    };
    // Findings of the line formats are rendered file by file and written while linting
    // goes on; baseline keys need every finding with its statement's text first.
    let baselined = args.write_baseline || !baseline.findings.is_empty();
    // Buffered: a big tree has a million findings, one write each would dominate. Files
    // come one rendered block each: stdout gets them in batches of 64 KiB, written
    // together without a copy (`Gathered`); stderr (text, through `anstream`, which
    // writes one piece at a time) through a 64 KiB `BufWriter`, since blocks larger than
    // the default 8 KiB went out in a write of their own. Not locked: whichever lint
    // worker finishes the next file in order writes it.
    let mut out = if args.format == LintFormat::Text {
        Output::Stderr(std::io::BufWriter::with_capacity(
            64 << 10,
            anstream::stderr(),
        ))
    } else {
        Output::Stdout(report::Gathered::new(std::io::stdout()))
    };
    let mut write_error = None;
    let render = |findings: &[crate::lint::Finding]| report::render_file(args.format, findings);
    let mut emit = |bytes: Vec<u8>| {
        if write_error.is_none() {
            write_error = out.block(bytes).err();
        }
    };
    let delivery = if args.format.renders_by_file() && !baselined {
        Delivery::Stream {
            render: &render,
            emit: &mut emit,
            render_reads_text: args.format == LintFormat::Text,
            render_reads_ends: args.format == LintFormat::Github,
        }
    } else {
        Delivery::Collect {
            keep_sources: args.format == LintFormat::Text || baselined,
        }
    };
    let outcome = crate::lint::run(target.sources, target.project.as_ref(), &settings, delivery)?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    out.flush()?;
    for problem in &outcome.problems {
        crate::say!("error: {problem}");
    }

    let keys = |findings: &crate::lint::Findings| {
        let dir = baseline_path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        let keys = Keys::new(dir);
        findings.iter().map(|f| keys.entry(f)).collect::<Vec<_>>()
    };

    if args.write_baseline {
        let Some(path) = &baseline_path else {
            return Err(Error::Usage(
                "--write-baseline needs a lint-rules.yaml (its `baseline` names the file); create one or pass --config".into(),
            ));
        };
        let entries = keys(&outcome.findings);
        let count = entries.len();
        Baseline::write(path, entries)?;
        crate::say!(
            "wrote {count} finding{} to {}; from now on only new findings fail",
            if count == 1 { "" } else { "s" },
            path.display()
        );
        return Ok(if outcome.problems.is_empty() {
            Exit::Success
        } else {
            Exit::Input
        });
    }

    let (mut findings, mut stale) = (outcome.findings, Vec::new());
    let mut tally = outcome.tally;
    let mut grandfathered = 0;
    // Keys cost a re-lex of each statement with a finding: only when there is a baseline.
    if !baseline.findings.is_empty() {
        let (new, unmatched) = baseline.filter(&keys(&findings));
        grandfathered = findings.len() - new.len();
        let mut keep = vec![false; findings.len()];
        new.into_iter().for_each(|n| keep[n] = true);
        findings.retain_flagged(&keep);
        stale = unmatched;
        tally = Tally::of(findings.iter());
    }

    let mut summary = Summary::new(tally, outcome.files, fail_on);
    summary.baselined = grandfathered;
    summary.stale_baseline = stale.len();
    summary.errors = outcome.problems.len();

    // Streamed findings are written already; collected ones (json, sarif, a baseline or a
    // project run) are written now.
    report::render(args.format, &findings, &summary, &mut out)?;
    if args.format == LintFormat::Text {
        if let (false, Some(path)) = (stale.is_empty(), &baseline_path) {
            writeln!(
                out,
                "note: {} baseline entr{} in {} no longer match a finding; run `sqlrail lint --write-baseline` to prune",
                stale.len(),
                if stale.len() == 1 { "y" } else { "ies" },
                path.display()
            )?;
        }
        writeln!(out, "{}", summary.line())?;
    }
    out.flush()?;

    if !outcome.problems.is_empty() {
        return Err(Error::Reported(format!(
            "{} of {} files could not be linted",
            outcome.problems.len(),
            outcome.files
        )));
    }
    Ok(if tally.fails(fail_on) {
        Exit::Findings
    } else {
        Exit::Success
    })
}

fn load_settings(file: Option<&RulesFile>) -> Result<LintSettings, Error> {
    let Some(file) = file else {
        return Ok(LintSettings::defaults());
    };
    // Messages name the file as the user sees it; it is read (and the baseline placed)
    // where it really is.
    let shown = Path::new(&file.display);
    let text =
        std::fs::read_to_string(&file.path).map_err(|source| crate::config::ConfigError::Read {
            path: shown.to_owned(),
            source,
        })?;
    let rules = LintRules::parse(shown, &text)?;
    let baseline = file
        .path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&rules.baseline);
    let mut settings = LintSettings::new(rules, Some((shown, &text)))?;
    settings.baseline = Some(baseline);
    Ok(settings)
}

fn explain(id: &str) -> Result<Exit, Error> {
    let rule = rules::find(id).ok_or_else(|| {
        Error::Usage(format!(
            "`{id}` is not a rule; `sqlrail lint --list-rules` lists them"
        ))
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", rules::markdown(rule))?;
    Ok(Exit::Success)
}

fn list_rules() -> Result<Exit, Error> {
    let mut out = std::io::stdout().lock();
    for rule in rules::ALL {
        writeln!(
            out,
            "{:<30} {:<8} {}",
            rule.id,
            rule.severity.as_str(),
            rule.summary
        )?;
    }
    Ok(Exit::Success)
}

/// Where `lint` writes its findings.
enum Output {
    Stdout(report::Gathered<std::io::Stdout>),
    Stderr(std::io::BufWriter<anstream::Stderr>),
}

impl Output {
    /// Writes one file's rendered findings.
    fn block(&mut self, bytes: Vec<u8>) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.push(bytes),
            Output::Stderr(out) => out.write_all(&bytes),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(buf),
            Output::Stderr(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::Stderr(out) => out.flush(),
        }
    }
}
