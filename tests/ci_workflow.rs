//! The shipped GitHub workflow is valid YAML and every sqlrail command in it parses with
//! the real command-line definition (a renamed flag would otherwise break users' CI).

use clap::Parser;
use sqlrail::cli::Cli;

#[test]
fn the_lint_workflow_uses_real_commands_and_flags() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/github/lint.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let workflow: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let steps = workflow["jobs"]["lint"]["steps"].as_sequence().unwrap();
    let mut commands = 0;
    for step in steps {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        for line in run.lines() {
            let Some((_, rest)) = line.split_once("target/release/sqlrail ") else {
                continue;
            };
            // Up to a redirection or `||`.
            let args: Vec<&str> = rest
                .split_whitespace()
                .take_while(|a| !a.starts_with('>') && *a != "||")
                .collect();
            let argv = std::iter::once("sqlrail").chain(args.iter().copied());
            if let Err(e) = Cli::try_parse_from(argv) {
                panic!(
                    "`sqlrail {}` in the workflow does not parse:\n{e}",
                    args.join(" ")
                );
            }
            commands += 1;
        }
    }
    assert_eq!(commands, 3, "the workflow's sqlrail commands");
}
