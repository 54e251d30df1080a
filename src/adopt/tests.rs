use std::path::Path;

use super::*;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// `(id, after/before, origin)` of what a folder's files become.
fn adopted(files: &[(&str, &str)]) -> (Option<crate::config::Tool>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let mut found = find(dir.path()).unwrap();
    let plan = plan(&mut found).unwrap();
    let shown = plan
        .iter()
        .map(|a| {
            let place = a
                .after
                .as_ref()
                .map(|x| format!(" after {x}"))
                .or_else(|| a.before.as_ref().map(|x| format!(" before {x}")))
                .unwrap_or_default();
            format!(
                "{}{place} <- {}",
                a.id(),
                a.origin.as_deref().unwrap_or("-")
            )
        })
        .collect();
    (found.tool, shown)
}

#[test]
fn goose_up_sections_in_version_order_with_concurrent_builds_placed() {
    let (tool, files) = adopted(&[
        (
            "db/migrations/20210102_b.sql",
            "-- +goose Up\n-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY a_x ON a (x);\nCREATE INDEX CONCURRENTLY a_y ON a (y);\n-- +goose Down\nDROP INDEX a_x;\n",
        ),
        (
            "db/migrations/20210101_a.sql",
            "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (x int, y int);\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE a;\n",
        ),
        (
            "db/migrations/20210103_c.sql",
            "-- +goose Up\nALTER TABLE a ADD COLUMN z int;\n",
        ),
        ("db/migrations/README.md", "docs"),
        ("db/seed.sql", "INSERT INTO a VALUES (1, 2);"),
    ]);
    assert_eq!(tool, Some(crate::config::Tool::Goose));
    assert_eq!(
        files,
        [
            "ddl/V1__a <- 20210101",
            "indexes/V1__a_x after ddl/V1__a <- 20210102",
            "indexes/V2__a_y after ddl/V1__a <- 20210102",
            "ddl/V2__c <- 20210103",
        ]
    );
}

#[test]
fn diesel_folders_in_version_order_without_down_scripts() {
    let (tool, files) = adopted(&[
        (
            "migrations/00000000000000_diesel_initial_setup/up.sql",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';",
        ),
        (
            "migrations/00000000000000_diesel_initial_setup/down.sql",
            "DROP FUNCTION f();",
        ),
        (
            "migrations/2020-01-02-000000_second/up.sql",
            "CREATE TABLE b (id int);",
        ),
        (
            "migrations/2020-01-02-000000_second/down.sql",
            "DROP TABLE b;",
        ),
        (
            "migrations/2019-12-31-000000_first/up.sql",
            "CREATE TABLE a (id int);",
        ),
        (
            "migrations/2019-12-31-000000_first/down.sql",
            "DROP TABLE a;",
        ),
        (
            "migrations/2020-02-01-000000_idx/up.sql",
            "CREATE INDEX CONCURRENTLY b_id ON b (id);",
        ),
        (
            "migrations/2020-02-01-000000_idx/metadata.toml",
            "run_in_transaction = false\n",
        ),
    ]);
    assert_eq!(tool, Some(crate::config::Tool::Diesel));
    assert_eq!(
        files,
        [
            "ddl/V1__diesel_initial_setup <- 00000000000000",
            "ddl/V2__first <- 20191231000000",
            "ddl/V3__second <- 20200102000000",
            "indexes/V1__b_id after ddl/V3__second <- 20200201000000",
        ]
    );
}

#[test]
fn other_layouts() {
    let (tool, files) = adopted(&[
        ("migrations/2_b.up.sql", "CREATE TABLE b (id int);"),
        ("migrations/2_b.down.sql", "DROP TABLE b;"),
        ("migrations/10_c.up.sql", "CREATE TABLE c (id int);"),
        ("migrations/1_a.up.sql", "CREATE TABLE a (id int);"),
    ]);
    assert_eq!(tool, Some(crate::config::Tool::GolangMigrate));
    assert_eq!(
        files,
        ["ddl/V1__a <- 1", "ddl/V2__b <- 2", "ddl/V3__c <- 10"]
    );
    let (tool, files) = adopted(&[
        (
            "db/migrations/20240102_b.sql",
            "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n",
        ),
        (
            "db/migrations/20240101_a.sql",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:down\n",
        ),
    ]);
    assert_eq!(tool, Some(crate::config::Tool::Dbmate));
    assert_eq!(
        files,
        [
            "indexes/V1__i before ddl/V1__b <- 20240101",
            "ddl/V1__b <- 20240102"
        ]
    );
    let (tool, files) = adopted(&[
        ("sql/V1.1__b.sql", "CREATE TABLE b (id int);"),
        ("sql/V1__a.sql", "CREATE TABLE a (id int);"),
        ("sql/R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;"),
        ("sql/V2__c.sql", "CREATE TABLE c (id int);"),
    ]);
    assert_eq!(tool, Some(crate::config::Tool::Flyway));
    assert_eq!(
        files,
        ["ddl/V1__a <- 1", "ddl/V2__b <- 1.1", "ddl/V3__c <- 2"]
    );
    let (tool, files) = adopted(&[
        (
            "sqitch.plan",
            "%syntax-version=1.0.0\n%project=app\n\nusers 2024-01-01T00:00:00Z Me <me@x> # users\n@v1 2024-01-02T00:00:00Z Me <me@x>\nappschema [users] 2024-01-03T00:00:00Z Me <me@x>\n",
        ),
        (
            "deploy/appschema.sql",
            "BEGIN;\nCREATE SCHEMA app;\nCOMMIT;\n",
        ),
        (
            "deploy/users.sql",
            "-- Deploy users\nBEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n",
        ),
        ("revert/users.sql", "DROP TABLE users;"),
    ]);
    assert_eq!(tool, Some(crate::config::Tool::Sqitch));
    assert_eq!(
        files,
        ["ddl/V1__users <- users", "ddl/V2__appschema <- appschema"]
    );
}

#[test]
fn non_transactional_files_are_cut_after_a_new_enum_value_and_wrapping_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "db/migrations/1_v.sql",
                "-- +goose Up\n-- +goose NO TRANSACTION\nALTER TYPE dir ADD VALUE 'x';\nUPDATE t SET d = 'x';\n",
            ),
            (
                "sqitch_like/9_w.sql",
                "BEGIN;\nCREATE TABLE w (id int);\nCOMMIT;\n",
            ),
        ],
    );
    let mut found = find(dir.path()).unwrap();
    let plan = plan(&mut found).unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(plan[0].sql.trim(), "ALTER TYPE dir ADD VALUE 'x';");
    assert_eq!(plan[1].sql.trim(), "UPDATE t SET d = 'x';");
    assert!(found.skipped.iter().any(|(p, _)| p.ends_with("9_w.sql")));
}
