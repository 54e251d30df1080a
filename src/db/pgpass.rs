//! libpq's password file: the password for a connection that names none, from
//! `PGPASSFILE` or `~/.pgpass`, so a deploy host configured for `psql` works unchanged.
//!
//! Lines are `hostname:port:database:username:password`; `*` in the first four fields
//! matches anything; `\:` and `\\` stand for `:` and `\`; `#` starts a comment line; the
//! first matching line wins. Like libpq, a file that group or others can read is ignored
//! (with a warning), since its password is no secret.

use std::path::{Path, PathBuf};

/// Where the password file is: `PGPASSFILE`, else `$HOME/.pgpass`.
pub fn location(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("PGPASSFILE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".pgpass")))
}

/// What a lookup is for: the connection's host as written (a name, an address or a
/// socket directory), port, database and user.
pub struct Wanted<'a> {
    pub host: &'a str,
    pub port: u16,
    pub dbname: &'a str,
    pub user: &'a str,
}

/// The password for `wanted` from the file at `path`: `Ok(None)` when there is no file or
/// no line matches; `Err(warning)` when the file is there but ignored.
pub fn lookup(path: &Path, wanted: &Wanted) -> Result<Option<String>, String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Err(format!(
            "warning: password file {} is not a plain file; ignored",
            path.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "warning: password file {} can be read by group or others; ignored (chmod 600 it)",
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "warning: password file {} cannot be read: {e}; ignored",
            path.display()
        )
    })?;
    Ok(find(&text, wanted))
}

/// The first line of `text` that matches `wanted`, its password.
pub fn find(text: &str, wanted: &Wanted) -> Option<String> {
    // A socket in a default directory is "localhost" to libpq.
    let socket_default = matches!(
        wanted.host,
        "/var/run/postgresql" | "/run/postgresql" | "/tmp"
    );
    let port = wanted.port.to_string();
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .filter_map(fields)
        .find(|[host, p, db, user, _]| {
            let matches = |field: &str, value: &str| field == "*" || field == value;
            (matches(host, wanted.host) || (socket_default && host == "localhost"))
                && matches(p, &port)
                && matches(db, wanted.dbname)
                && matches(user, wanted.user)
        })
        .map(|[.., password]| password)
}

/// A line's five fields, unescaped; `None` if it has fewer (libpq skips such lines).
fn fields(line: &str) -> Option<[String; 5]> {
    let mut out: Vec<String> = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.last_mut().unwrap().push(next);
                }
            }
            // The password is the rest of the line, colons included.
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted<'a>(host: &'a str, dbname: &'a str) -> Wanted<'a> {
        Wanted {
            host,
            port: 5432,
            dbname,
            user: "app",
        }
    }

    #[test]
    fn first_matching_line_wins_with_wildcards() {
        let file = "# comment\n\
                    db.internal:5432:crm:app:first\n\
                    *:5432:crm:app:second\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            find(file, &wanted("db.internal", "crm")).as_deref(),
            Some("first")
        );
        assert_eq!(
            find(file, &wanted("10.0.0.5", "crm")).as_deref(),
            Some("second")
        );
        assert_eq!(
            find(file, &wanted("10.0.0.5", "other")).as_deref(),
            Some("fallback")
        );
        assert_eq!(find("db:5433:crm:app:x\n", &wanted("db", "crm")), None);
    }

    #[test]
    fn escapes_and_colons_in_the_password() {
        let file = r"we\:ird:5432:crm:app:pa\:ss:word\\";
        assert_eq!(
            find(file, &wanted("we:ird", "crm")).as_deref(),
            Some(r"pa:ss:word\")
        );
        assert_eq!(find("short:line\n", &wanted("short", "crm")), None);
    }

    #[test]
    fn the_default_socket_directory_is_localhost() {
        let file = "localhost:5432:crm:app:sock\n";
        assert_eq!(
            find(file, &wanted("/var/run/postgresql", "crm")).as_deref(),
            Some("sock")
        );
        assert_eq!(find(file, &wanted("/srv/pg", "crm")), None);
    }

    #[test]
    fn a_file_others_can_read_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:secret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warning = lookup(&path, &wanted("h", "d")).unwrap_err();
        assert!(warning.contains("chmod 600"), "{warning}");
        assert!(!warning.contains("secret"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            lookup(&path, &wanted("h", "d")).unwrap().as_deref(),
            Some("secret")
        );
        assert_eq!(
            lookup(&dir.path().join("none"), &wanted("h", "d")),
            Ok(None)
        );
    }
}
