//! TLS modes and password authentication against a second cluster this test starts: TLS
//! only (plain connections are rejected), scram-sha-256, and a certificate from a test CA
//! that names `localhost` only. Every case runs the real binary and checks the exit code,
//! one clear line on failure, and that the password appears nowhere in the output.

mod support;

use support::cluster::{Cluster, PASSWORD};
use support::ddl_project;

/// Runs `sqlrail` with `--database-url url` (if any) and the given environment; returns
/// (exit code, stdout + stderr).
fn run(
    args: &[&str],
    url: Option<&str>,
    env: &[(&str, String)],
    dir: &std::path::Path,
) -> (i32, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sqlrail"));
    command.args(args).current_dir(dir);
    for var in [
        "DATABASE_URL",
        "DATABASE_URL_DIRECT",
        "DATABASE_URL_POOLER",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGPASSFILE",
    ] {
        command.env_remove(var);
    }
    if let Some(url) = url {
        command.args(["--database-url", url]);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let out = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), text)
}

#[test]
fn tls_modes_and_password_authentication() {
    let cluster = Cluster::start();
    cluster.psql("CREATE DATABASE app");
    let project = ddl_project(&[("a", "CREATE TABLE a (x int);\n", None)]);
    let dir = project.path();
    let ca = format!("sslrootcert={}", cluster.path("ca.crt"));
    let other_ca = format!("sslrootcert={}", cluster.path("other-ca.crt"));

    // `require` encrypts without verifying; the cluster rejects plain connections, so
    // success here is proof the session was encrypted.
    let url = cluster.url("127.0.0.1", "app", "sslmode=require");
    let (code, out) = run(&["apply"], Some(&url), &[], dir);
    assert_eq!(code, 0, "require: {out}");
    assert!(out.contains("ddl: 1 applied"), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");

    let works: [(&str, String); 4] = [
        (
            "prefer (the default) negotiates TLS",
            cluster.url("127.0.0.1", "app", ""),
        ),
        (
            "verify-ca accepts the CA's certificate at any host name",
            cluster.url("127.0.0.1", "app", &format!("sslmode=verify-ca&{ca}")),
        ),
        (
            "verify-full accepts the certificate for its host name",
            cluster.url("localhost", "app", &format!("sslmode=verify-full&{ca}")),
        ),
        (
            "key=value strings take the same options",
            format!(
                "host=localhost port={} user=postgres password={PASSWORD} dbname=app sslmode=verify-full {ca}",
                cluster.port
            ),
        ),
    ];
    for (case, url) in &works {
        let (code, out) = run(&["status", "--format", "json"], Some(url), &[], dir);
        assert_eq!(code, 0, "{case}: {out}");
        assert!(out.contains("\"applied\""), "{case}: {out}");
        assert!(!out.contains(PASSWORD), "{case}: {out}");
    }

    // libpq's environment variables, as psql reads them.
    let env = [
        ("PGHOST", "localhost".to_owned()),
        ("PGPORT", cluster.port.to_string()),
        ("PGUSER", "postgres".to_owned()),
        ("PGPASSWORD", PASSWORD.to_owned()),
        ("PGDATABASE", "app".to_owned()),
        ("PGSSLMODE", "verify-full".to_owned()),
        ("PGSSLROOTCERT", cluster.path("ca.crt")),
    ];
    let (code, out) = run(&["status"], None, &env, dir);
    assert_eq!(code, 0, "PG* environment: {out}");
    assert!(!out.contains(PASSWORD), "{out}");

    // The password file, as libpq reads it, for a URL without a password: the first
    // matching line wins…
    let files = tempfile::tempdir().unwrap();
    let pgpass = files.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# deploy host\nlocalhost:{port}:other:postgres:wrong\n*:{port}:app:postgres:{PASSWORD}\n*:*:*:*:wrong\n",
            port = cluster.port
        ),
    )
    .unwrap();
    let mode = |bits: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(bits)).unwrap();
    };
    mode(0o600);
    let bare = format!(
        "postgres://postgres@localhost:{}/app?sslmode=verify-full&{ca}",
        cluster.port
    );
    // PGPASSWORD fills a URL (or key=value string) that names no password, as psql does;
    // it was once ignored whenever a URL was given.
    let env_password = [("PGPASSWORD", PASSWORD.to_owned())];
    for target in [
        bare.clone(),
        format!(
            "host=localhost port={} user=postgres dbname=app sslmode=verify-full {ca}",
            cluster.port
        ),
    ] {
        let (code, out) = run(&["status"], Some(&target), &env_password, dir);
        assert_eq!(code, 0, "PGPASSWORD with {target}: {out}");
        assert!(!out.contains(PASSWORD), "{out}");
    }
    let file_env = [("PGPASSFILE", pgpass.display().to_string())];
    let (code, out) = run(&["status"], Some(&bare), &file_env, dir);
    assert_eq!(code, 0, "password file: {out}");
    assert!(!out.contains(PASSWORD), "{out}");
    // …and a file others can read is ignored, with a warning, as libpq does.
    mode(0o644);
    let (code, out) = run(&["status"], Some(&bare), &file_env, dir);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("can be read by group or others; ignored (chmod 600 it)"),
        "{out}"
    );
    assert!(
        out.contains("password missing: the server asks for a password; put it in the URL, PGPASSWORD or the password file"),
        "{out}"
    );
    assert!(!out.contains(PASSWORD), "{out}");

    let fails: [(&str, String, &str); 5] = [
        (
            "disable is plain text, which the cluster rejects",
            cluster.url("127.0.0.1", "app", "sslmode=disable"),
            "no encryption",
        ),
        (
            "verify-ca refuses a certificate from another CA",
            cluster.url("127.0.0.1", "app", &format!("sslmode=verify-ca&{other_ca}")),
            "unable to get local issuer certificate",
        ),
        (
            "verify-full refuses a certificate for another host name",
            cluster.url("127.0.0.1", "app", &format!("sslmode=verify-full&{ca}")),
            "IP address mismatch",
        ),
        (
            "verify-full without a root certificate says where to put one",
            cluster.url(
                "localhost",
                "app",
                "sslmode=verify-full&sslrootcert=/nonexistent/root.crt",
            ),
            "/nonexistent/root.crt",
        ),
        (
            "a wrong password",
            format!(
                "postgres://postgres:Wrong-{PASSWORD}@127.0.0.1:{}/app?sslmode=require",
                cluster.port
            ),
            "password authentication failed for user \"postgres\"",
        ),
    ];
    for (case, url, fragment) in &fails {
        let (code, out) = run(&["apply"], Some(url), &[], dir);
        assert_eq!(code, 2, "{case}: {out}");
        assert_eq!(out.lines().count(), 1, "{case}: one line: {out}");
        assert!(out.starts_with("error: "), "{case}: {out}");
        assert!(
            out.contains(fragment),
            "{case}: expected {fragment:?} in {out}"
        );
        assert!(
            !out.contains(PASSWORD),
            "{case}: the password leaked: {out}"
        );
    }
}
