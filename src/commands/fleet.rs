//! `apply|plan|status|verify --targets FILE`: the command run against every database of a
//! fleet (see `crate::fleet` and docs/fleets.md).

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::cli::Format;
use crate::error::{Error, Exit};
use crate::fleet::outcome::{FleetCommand, TargetRun};
use crate::fleet::{TargetsFile, discover, report, rollout};

/// Runs `command` with `passed` options on every target `file` lists or discovers.
pub fn run(
    file: &Path,
    command: FleetCommand,
    passed: Vec<String>,
    format: Format,
) -> Result<Exit, Error> {
    // Everything that can be wrong before a target runs is found here: exit 2, nothing run.
    let project = super::connection::load_project()?;
    let env = |name: &str| std::env::var(name).ok();
    let targets_file = TargetsFile::load(file, &env)?;
    let mut targets = targets_file.targets.clone();
    if let Some(d) = &targets_file.discover {
        let found = discover::discover(file, d, &env, &project.manifest.settings.retry)?;
        for t in found {
            if targets.iter().any(|l| l.name == t.name) {
                return Err(crate::fleet::FleetError::Discover {
                    path: file.to_owned(),
                    message: format!("the query lists {}, which is already a target", t.name),
                }
                .into());
            }
            targets.push(t);
        }
        for c in &targets_file.rollout.canary {
            if !targets.iter().any(|t| &t.name == c) {
                return Err(crate::fleet::FleetError::Invalid {
                    path: file.to_owned(),
                    line: crate::config::line_of_key(
                        &std::fs::read_to_string(file).unwrap_or_default(),
                        "canary",
                    ),
                    message: format!(
                        "rollout.canary names {c}, which is neither listed nor discovered"
                    ),
                }
                .into());
            }
        }
    }
    if targets.is_empty() {
        return Err(crate::fleet::FleetError::Discover {
            path: file.to_owned(),
            message: "the query found no targets and none are listed".into(),
        }
        .into());
    }
    let json = format == Format::Json;
    crate::exec::stop::install(|line| crate::say!("{line}"));
    let bar = (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(targets.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} targets {elapsed}")
                .expect("a valid template"),
        );
        bar
    });
    if !json {
        crate::say!(
            "{} {} target(s) from {}: concurrency {}{}",
            command.name(),
            targets.len(),
            file.display(),
            targets_file.rollout.concurrency,
            if command == FleetCommand::Apply && !targets_file.rollout.canary.is_empty() {
                format!(", canary {}", targets_file.rollout.canary.join(", "))
            } else {
                String::new()
            }
        );
    }
    let on_done = |run: &TargetRun| {
        if json {
            return;
        }
        match &bar {
            Some(bar) => {
                bar.println(report::line(run));
                bar.inc(1);
            }
            None => crate::say!("{}", report::line(run)),
        }
    };
    let runs = rollout::Runs {
        exe: std::env::current_exe()?,
        root: project.root.clone(),
        command,
        passed,
        on_done: &on_done,
    };
    let outcomes = rollout::run(&runs, &targets, &targets_file.rollout);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let exit = report::exit(&outcomes);
    if json {
        let document = report::Document {
            command,
            targets: &outcomes,
            summary: report::Summary::of(&outcomes),
        };
        let text = serde_json::to_string_pretty(&document).map_err(std::io::Error::other)?;
        writeln!(std::io::stdout().lock(), "{text}")?;
    } else {
        let mut err = std::io::stderr().lock();
        write!(err, "\n{}", report::table(command, &outcomes))?;
        writeln!(
            err,
            "{} target(s): {}; exit {}",
            outcomes.len(),
            report::counts(&outcomes),
            exit as u8
        )?;
    }
    Ok(exit)
}
