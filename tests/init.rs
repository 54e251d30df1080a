//! `sqlrail init` (a new project, and adopting a folder of other tools' migrations) and
//! `sqlrail completions`.

mod support;

use std::path::Path;

use support::{TestDb, sqlrail};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn init_in_an_empty_folder_makes_a_project_lint_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = sqlrail(&["init"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    for dir_name in ["sql/ddl", "sql/indexes", "sql/backfills"] {
        assert!(dir.path().join(dir_name).is_dir(), "{dir_name}");
    }
    assert!(read(&dir.path().join("manifest.yaml")).contains("migrations:"));
    assert!(read(&dir.path().join("lint-rules.yaml")).contains("fail_on:"));
    let (code, _, stderr) = sqlrail(&["lint"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    // A first migration through `new` and `manifest sync` gets a fingerprint proposed.
    let (code, _, stderr) = sqlrail(&["new", "ddl", "create_leads"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let file = dir.path().join("sql/ddl/V1__create_leads.sql");
    let mut sql = read(&file);
    sql.push_str(
        "CREATE TABLE leads (id bigint PRIMARY KEY);\nCREATE INDEX idx_leads_x ON leads (id);\n",
    );
    std::fs::write(&file, sql).unwrap();
    let (code, _, stderr) = sqlrail(&["manifest", "sync"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        read(&dir.path().join("manifest.yaml"))
            .contains("fingerprint: { all: [ { table: leads }, { index: idx_leads_x } ] }"),
        "{stderr}"
    );
    // The header `new` writes passes lint (it once tripped backfill-comment).
    let (code, _, stderr) = sqlrail(&["lint"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = sqlrail(&["init"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("manifest.yaml already exists"), "{stderr}");
}

/// A folder of plain numbered files (no tool's layout): a down script, a Flyway-style
/// name, an unnumbered file, a data fix and a concurrent index build.
fn numbered_project(dir: &Path) {
    let m = dir.join("db/migrations");
    std::fs::create_dir_all(&m).unwrap();
    let files = [
        (
            "001_create_users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text, email_lower text);\n",
        ),
        ("001_create_users.down.sql", "DROP TABLE users;\n"),
        (
            "002_users_email.sql",
            "CREATE INDEX CONCURRENTLY idx_users_email ON users (email);\n",
        ),
        (
            "3_fill_lower.sql",
            "UPDATE users SET email_lower = lower(email) WHERE email_lower IS NULL;\n",
        ),
        (
            "10__Orders Table.sql",
            "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);\nINSERT INTO orders VALUES (1, NULL);\n",
        ),
        (
            "views.sql",
            "CREATE VIEW user_emails AS SELECT email FROM users;\n",
        ),
    ];
    for (name, sql) in files {
        std::fs::write(m.join(name), sql).unwrap();
    }
}

#[test]
fn init_adopts_numbered_files_in_order_and_leaves_the_originals() {
    let dir = tempfile::tempdir().unwrap();
    numbered_project(dir.path());
    let before: Vec<(String, String)> = walk(dir.path());
    let (code, _, stderr) = sqlrail(&["init"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let manifest = read(&dir.path().join("manifest.yaml"));
    let ids: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- id: "))
        .collect();
    // History's order, data steps kept in place, the concurrent build placed at its point.
    assert_eq!(
        ids,
        [
            "ddl/V1__create_users",
            "indexes/V1__idx_users_email",
            "ddl/V2__fill_lower",
            "ddl/V3__orders_table",
        ],
        "{manifest}"
    );
    assert!(
        manifest.contains("after: ddl/V1__create_users"),
        "{manifest}"
    );
    assert!(
        manifest.contains("fingerprint: { table: users }"),
        "{manifest}"
    );
    assert!(
        stderr.contains("skipped db/migrations/001_create_users.down.sql: a down script"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped db/migrations/views.sql: not a migration"),
        "{stderr}"
    );
    let after: Vec<(String, String)> = walk(dir.path())
        .into_iter()
        .filter(|(p, _)| p.starts_with("db/"))
        .collect();
    assert_eq!(before, after, "the originals are left as they were");
    assert_eq!(
        read(&dir.path().join("sql/ddl/V2__fill_lower.sql")),
        "UPDATE users SET email_lower = lower(email) WHERE email_lower IS NULL;\n"
    );
}

#[test]
fn init_rename_moves_what_is_adopted_unchanged_and_the_project_applies() {
    let db = TestDb::new("init_rename");
    let dir = tempfile::tempdir().unwrap();
    numbered_project(dir.path());
    let (code, _, stderr) = sqlrail(&["init", "--rename"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    for moved in [
        "sql/ddl/V1__create_users.sql",
        "sql/indexes/V1__idx_users_email.sql",
        "sql/ddl/V2__fill_lower.sql",
        "sql/ddl/V3__orders_table.sql",
    ] {
        assert!(dir.path().join(moved).is_file(), "{moved}: {stderr}");
    }
    assert!(!dir.path().join("db/migrations/3_fill_lower.sql").exists());
    assert!(
        dir.path()
            .join("db/migrations/001_create_users.down.sql")
            .exists()
    );
    // The checksums were computed under the new names: the manifest is in sync.
    let (code, _, stderr) = sqlrail(&["manifest", "sync", "--check"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    // And the adopted project applies, the index built at its point in the history.
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ddl: 3 applied"), "{stderr}");
    assert!(stderr.contains("indexes: 1 built"), "{stderr}");
    let built_before_fill = stderr
        .find("built            indexes/V1__idx_users_email")
        .unwrap()
        < stderr.find("applied          ddl/V2__fill_lower").unwrap();
    assert!(built_before_fill, "{stderr}");
}

fn walk(root: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            (rel, read(e.path()))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn completions_cover_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, stdout, stderr) = sqlrail(&["completions", shell], dir.path());
        assert_eq!(code, 0, "{shell}: {stderr}");
        for word in ["apply", "reset", "init", "lint", "seed", "database-url"] {
            assert!(stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let (code, _, stderr) = sqlrail(&["completions", "tcsh"], dir.path());
    assert_eq!(code, 2, "{stderr}");
}
