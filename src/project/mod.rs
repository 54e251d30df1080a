//! A migration project on disk: `manifest.yaml` plus the files under `sql/ddl`,
//! `sql/indexes` and `sql/backfills`, matched one to one and loaded once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::config::{ConfigError, Manifest, Phase, parse_file_name};

/// One migration file, read and named.
#[derive(Debug, Clone)]
pub struct Migration {
    /// `ddl/V12__add_leads`.
    pub id: String,
    pub phase: Phase,
    pub version: u64,
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    /// refinery's checksum (SipHash-1-3 of name, version and text), so a refinery-made
    /// ledger and ours agree.
    pub checksum: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("no manifest.yaml in {}: sqlrail needs one at the project root (see docs/manifest.md)", root.display())]
    NoManifest { root: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: the file is {:.1} MiB; sqlrail reads SQL files up to {} MiB. A file this size is a data dump, not a migration: load it with psql or COPY", path.display(), *bytes as f64 / 1048576.0, MAX_SQL_FILE / (1 << 20))]
    TooLarge { path: PathBuf, bytes: u64 },
    #[error("{}: the file is not valid UTF-8 (first bad byte at offset {offset}); save it as UTF-8", path.display())]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{}:{line}:{column}: unterminated {unclosed} opened here runs to the end of the file; close it", path.display())]
    Unterminated {
        path: PathBuf,
        line: u32,
        column: u32,
        unclosed: crate::sql::Unclosed,
    },
    #[error("{}: file name is not a migration name: expected `V<number>__<name>.sql` (refinery's convention), e.g. `V7__add_leads_phone.sql`", path.display())]
    BadFileName { path: PathBuf },
    #[error("{}: version {version} is also used by {}; each version appears once per directory", path.display(), other.display())]
    DuplicateVersion {
        path: PathBuf,
        other: PathBuf,
        version: u64,
    },
    #[error("{}:{line}: migration `{id}` has no file; expected {}", manifest.display(), expected.display())]
    MissingFile {
        manifest: PathBuf,
        line: u32,
        id: String,
        expected: PathBuf,
    },
    #[error("{}: no manifest.yaml entry for `{id}`; add `- id: {id}` with its fingerprint to {}", path.display(), manifest.display())]
    MissingEntry {
        path: PathBuf,
        id: String,
        manifest: PathBuf,
    },
}

/// The project around `dir`: the nearest directory (`dir` or above) with a `manifest.yaml`,
/// else the nearest with a `sql/` directory (a project without a manifest yet).
pub fn find_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join("manifest.yaml").is_file())
        .or_else(|| dir.ancestors().find(|d| d.join("sql").is_dir()))
        .map(Path::to_owned)
}

/// refinery's checksum of a migration named `stem` (`V3__leads`) with text `sql`, or
/// `None` if refinery does not accept the name.
pub fn checksum(stem: &str, sql: &str) -> Option<u64> {
    refinery::Migration::unapplied(stem, sql)
        .ok()
        .map(|m| m.checksum())
}

/// The largest SQL file sqlrail reads: far above any real migration (the example project's
/// largest is a few KiB), low enough that a mistaken data dump is refused, not loaded.
pub const MAX_SQL_FILE: u64 = 32 << 20;

/// Reads a SQL file as UTF-8 text.
pub fn read_sql(path: &Path) -> Result<String, ProjectError> {
    let read_error = |source| ProjectError::Read {
        path: path.to_owned(),
        source,
    };
    // The size comes from the open file (one path lookup per file, not two: lint opens
    // twenty thousand files on the bench tree), and is checked before reading, so a huge
    // file costs no memory.
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let len = file.metadata().map_err(read_error)?.len();
    if len > MAX_SQL_FILE {
        return Err(ProjectError::TooLarge {
            path: path.to_owned(),
            bytes: len,
        });
    }
    let bytes = read_sized(&mut file, len as usize).map_err(read_error)?;
    // simdutf8 validates with AVX2 or SSE4.2 where the CPU has them: 0.14 instructions a
    // byte on the lint bench tree (390 MB), the standard library 0.74. The standard
    // library then finds where invalid text goes wrong.
    if simdutf8::basic::from_utf8(&bytes).is_err() {
        let offset = std::str::from_utf8(&bytes)
            .err()
            .map_or(0, |e| e.valid_up_to());
        return Err(ProjectError::NotUtf8 {
            path: path.to_owned(),
            offset,
        });
    }
    // SAFETY: `bytes` was validated as UTF-8 just above.
    Ok(unsafe { String::from_utf8_unchecked(bytes) })
}

/// Reads `file`, whose size was `len` when it was opened, to its end. One `read` asks for
/// a byte more than `len`: getting exactly `len` back is the end of the file. Where `lint`
/// opens twenty thousand files, `read_to_end` cost three more system calls per file (its
/// own `statx` and `lseek` for the size, and a last `read` that returns nothing). A file
/// that changed size since it was opened is read on to its end.
fn read_sized(file: &mut std::fs::File, len: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(len + 1);
    loop {
        match read_appending(file, &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if bytes.len() == len {
            // The size `metadata` gave, and not a byte more although one more was asked for.
            break;
        }
        if bytes.len() == bytes.capacity() {
            // The file grew: read on, in steps as large as what came so far.
            bytes.reserve(bytes.len());
        }
    }
    Ok(bytes)
}

/// One `read` into the spare capacity of `bytes`, appending what came; its size.
///
/// Unix reads into memory that is not initialised: zeroing a buffer only for the kernel to
/// overwrite it cost 1.6% of a lint run (the bench tree's 390 MB, on memory the allocator
/// reuses from file to file, so not fresh zeroed pages). `Read::read_buf`, which does the
/// same safely, is not stable yet.
#[cfg(unix)]
fn read_appending(file: &mut std::fs::File, bytes: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let spare = bytes.spare_capacity_mut();
    // SAFETY: `read(2)` writes at most `spare.len()` bytes to the spare capacity, which
    // `bytes` owns and nothing else refers to, and never reads it.
    let n = unsafe { libc::read(file.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
    let Ok(n) = usize::try_from(n) else {
        return Err(std::io::Error::last_os_error());
    };
    // SAFETY: the kernel initialised the first `n` bytes of the spare capacity.
    unsafe { bytes.set_len(bytes.len() + n) };
    Ok(n)
}

#[cfg(not(unix))]
fn read_appending(file: &mut std::fs::File, bytes: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    let filled = bytes.len();
    bytes.resize(bytes.capacity(), 0);
    let n = file.read(&mut bytes[filled..]);
    bytes.truncate(filled + *n.as_ref().unwrap_or(&0));
    n
}

/// The error for `text` (of `path`) failing to lex, with the line and column where the
/// unclosed construct opened.
pub fn unterminated(path: &Path, text: &str, error: crate::sql::LexError) -> ProjectError {
    let (line, column) = crate::sql::LineIndex::new(text).position(text, error.start);
    ProjectError::Unterminated {
        path: path.to_owned(),
        line,
        column,
        unclosed: error.unclosed,
    }
}

/// Reads one migration file from `path` in `phase`.
pub fn read_migration(phase: Phase, path: &Path) -> Result<Migration, ProjectError> {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let (version, name) = parse_file_name(file_name).ok_or_else(|| ProjectError::BadFileName {
        path: path.to_owned(),
    })?;
    let sql = read_sql(path)?;
    // The id keeps the file's own spelling (`V007__x` stays `V007__x`).
    let stem = file_name.strip_suffix(".sql").unwrap_or(file_name);
    let checksum = checksum(stem, &sql).ok_or_else(|| ProjectError::BadFileName {
        path: path.to_owned(),
    })?;
    Ok(Migration {
        id: format!("{}/{stem}", phase.dir()),
        phase,
        version,
        name: name.to_owned(),
        path: path.to_owned(),
        sql,
        checksum,
    })
}

/// The `.sql` files under `sql/<phase>/` of `root`, sorted by version.
pub fn discover(root: &Path, phase: Phase) -> Result<Vec<Migration>, ProjectError> {
    let dir = root.join("sql").join(phase.dir());
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut migrations: Vec<Migration> = Vec::new();
    for entry in walkdir::WalkDir::new(&dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(&dir).to_owned();
            let source = e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("symbolic link loop"));
            ProjectError::Read { path, source }
        })?;
        if !entry.file_type().is_file() || entry.path().extension().is_none_or(|e| e != "sql") {
            continue;
        }
        migrations.push(read_migration(phase, entry.path())?);
    }
    migrations.sort_by_key(|m| m.version);
    if let Some(pair) = migrations.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(ProjectError::DuplicateVersion {
            path: pair[1].path.clone(),
            other: pair[0].path.clone(),
            version: pair[1].version,
        });
    }
    Ok(migrations)
}

/// A loaded project: the manifest and every migration, ddl first, then indexes, then
/// backfills, each by version.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
    pub migrations: Vec<Migration>,
    /// `migrations` by id, built on the first look-up.
    by_id: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
}

impl Project {
    /// Loads and cross-checks `root`: every manifest entry has a file and every file an entry.
    pub fn load(root: &Path) -> Result<Project, ProjectError> {
        let manifest_path = root.join("manifest.yaml");
        if !manifest_path.is_file() {
            return Err(ProjectError::NoManifest {
                root: root.to_owned(),
            });
        }
        // Read once: parsed here, and searched for entry lines in the errors below.
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|source| ProjectError::Read {
                path: manifest_path.clone(),
                source,
            })?;
        let manifest = Manifest::parse(&manifest_path, &text)?;
        let mut migrations = Vec::new();
        for phase in Phase::ALL {
            migrations.extend(discover(root, phase)?);
        }
        let files: HashSet<&str> = migrations.iter().map(|m| m.id.as_str()).collect();
        if let Some(entry) = manifest
            .migrations
            .iter()
            .find(|e| !files.contains(e.id.as_str()))
        {
            return Err(ProjectError::MissingFile {
                manifest: manifest_path.clone(),
                line: crate::config::line_of_id(&text, &entry.id),
                id: entry.id.clone(),
                expected: root.join("sql").join(format!("{}.sql", entry.id)),
            });
        }
        let project = Project::new(root, manifest_path, manifest, migrations);
        if let Some(m) = project
            .migrations
            .iter()
            .find(|m| project.entry(&m.id).is_none())
        {
            return Err(ProjectError::MissingEntry {
                path: m.path.clone(),
                id: m.id.clone(),
                manifest: project.manifest_path.clone(),
            });
        }
        project.check_placements(&text)?;
        Ok(project)
    }

    /// A project of `migrations` (ddl first, then indexes, then backfills, each by
    /// version) and `manifest`, not checked against each other.
    pub fn new(
        root: &Path,
        manifest_path: PathBuf,
        manifest: Manifest,
        migrations: Vec<Migration>,
    ) -> Project {
        Project {
            root: root.to_owned(),
            manifest_path,
            manifest,
            migrations,
            by_id: std::sync::OnceLock::new(),
        }
    }

    /// The manifest entry of migration `id`.
    pub fn entry(&self, id: &str) -> Option<&crate::config::Entry> {
        self.manifest.entry(id)
    }

    /// The migration `id`.
    pub fn migration(&self, id: &str) -> Option<&Migration> {
        let by_id = self.by_id.get_or_init(|| {
            self.migrations
                .iter()
                .enumerate()
                .map(|(i, m)| (m.id.clone(), i))
                .collect()
        });
        by_id.get(id).map(|&i| &self.migrations[i])
    }

    /// `after:` and `before:` name DDL migrations of the project, on index and backfill
    /// entries only.
    fn check_placements(&self, text: &str) -> Result<(), ProjectError> {
        let entry_lines = crate::config::EntryLines::of(text);
        for entry in &self.manifest.migrations {
            let targets = [("after", &entry.after), ("before", &entry.before)];
            for (key, target) in targets {
                let Some(target) = target else { continue };
                let line = entry_lines.line(&entry.id, 0);
                let invalid = |message: String| {
                    ProjectError::Config(ConfigError::Invalid {
                        path: self.manifest_path.clone(),
                        line,
                        message,
                    })
                };
                if entry.id.starts_with("ddl/") {
                    return Err(invalid(format!(
                        "migration `{}`: `{key}:` places an index build or a backfill in the DDL sequence; a DDL migration's place is its version",
                        entry.id
                    )));
                }
                if entry.after.is_some() && entry.before.is_some() {
                    return Err(invalid(format!(
                        "migration `{}` has both `after:` and `before:`; give one",
                        entry.id
                    )));
                }
                if !target.starts_with("ddl/") || self.entry(target).is_none() {
                    return Err(invalid(format!(
                        "migration `{}`: `{key}: {target}` names no DDL migration of this project; give the id of one, e.g. `{key}: ddl/V12__add_leads_email`",
                        entry.id
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn phase(&self, phase: Phase) -> impl Iterator<Item = &Migration> {
        self.migrations.iter().filter(move |m| m.phase == phase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_sql_names_the_first_bad_byte_and_refuses_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("V1__x.sql");
        // Valid for 40 bytes (past one 32-byte block of the validator), then a lone 0xff.
        let mut bytes = b"SELECT 'caf\xc3\xa9';".to_vec();
        bytes.resize(40, b' ');
        bytes.extend_from_slice(b"\xff;\n");
        std::fs::write(&path, &bytes).unwrap();
        match read_sql(&path) {
            Err(ProjectError::NotUtf8 { offset, .. }) => assert_eq!(offset, 40),
            other => panic!("expected NotUtf8, got {other:?}"),
        }
        std::fs::write(&path, "SELECT 1;\n").unwrap();
        assert_eq!(read_sql(&path).unwrap(), "SELECT 1;\n");
        assert!(matches!(
            read_sql(dir.path()),
            Err(ProjectError::Read { .. })
        ));
    }

    #[test]
    fn read_sized_reads_to_the_end_whatever_size_it_was_told() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.sql");
        let text: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &text).unwrap();
        // The size at open, a file that grew since (told less), one that shrank (told more).
        for told in [
            text.len(),
            0,
            1,
            4096,
            text.len() - 1,
            text.len() + 1,
            3 * text.len(),
        ] {
            let mut file = std::fs::File::open(&path).unwrap();
            assert_eq!(read_sized(&mut file, told).unwrap(), text, "told {told}");
        }
        std::fs::write(&path, b"").unwrap();
        let mut file = std::fs::File::open(&path).unwrap();
        assert_eq!(read_sized(&mut file, 0).unwrap(), b"");
    }

    #[test]
    fn ids_keep_the_file_spelling_and_versions_clash_across_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let ddl = dir.path().join("sql/ddl");
        std::fs::create_dir_all(&ddl).unwrap();
        std::fs::write(ddl.join("V01__a.sql"), "SELECT 1;").unwrap();
        let found = discover(dir.path(), Phase::Ddl).unwrap();
        assert_eq!((found[0].id.as_str(), found[0].version), ("ddl/V01__a", 1));
        std::fs::write(ddl.join("V1__b.sql"), "SELECT 2;").unwrap();
        let err = discover(dir.path(), Phase::Ddl).unwrap_err().to_string();
        assert!(err.contains("version 1 is also used by"), "{err}");
    }

    /// Loads a throwaway project with `manifest` and `files` (path under sql/, bytes) and
    /// returns the error, with the temporary directory's path replaced by `<root>`.
    fn load_error(manifest: Option<&str>, files: &[(&str, &[u8])]) -> String {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = manifest {
            std::fs::write(dir.path().join("manifest.yaml"), text).unwrap();
        }
        for (path, bytes) in files {
            let path = dir.path().join("sql").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        let err = Project::load(dir.path()).unwrap_err().to_string();
        err.replace(&dir.path().display().to_string(), "<root>")
    }

    #[test]
    fn project_errors_name_the_file_and_line() {
        let one = "migrations:\n  - id: ddl/V1__a\n";
        assert_eq!(
            load_error(None, &[]),
            "no manifest.yaml in <root>: sqlrail needs one at the project root (see docs/manifest.md)"
        );
        assert_eq!(
            load_error(
                Some("migrations:\n  - id: ddl/V1__a\n  - id: ddl/V2__b\n"),
                &[("ddl/V1__a.sql", b"SELECT 1;")]
            ),
            "<root>/manifest.yaml:3: migration `ddl/V2__b` has no file; expected <root>/sql/ddl/V2__b.sql"
        );
        assert_eq!(
            load_error(
                Some(one),
                &[
                    ("ddl/V1__a.sql", b"SELECT 1;"),
                    ("indexes/V1__i.sql", b"SELECT 1;")
                ]
            ),
            "<root>/sql/indexes/V1__i.sql: no manifest.yaml entry for `indexes/V1__i`; add `- id: indexes/V1__i` with its fingerprint to <root>/manifest.yaml"
        );
        assert!(load_error(Some(one), &[("ddl/V1__a.sql", b"SELECT 1;"), ("ddl/V2-b.sql", b"")])
            .starts_with("<root>/sql/ddl/V2-b.sql: file name is not a migration name: expected `V<number>__<name>.sql`"));
        assert_eq!(
            load_error(Some(one), &[("ddl/V1__a.sql", b"SELECT '\xe9';")]),
            "<root>/sql/ddl/V1__a.sql: the file is not valid UTF-8 (first bad byte at offset 8); save it as UTF-8"
        );
        assert_eq!(
            load_error(Some("migrations: [\n"), &[]),
            "<root>/manifest.yaml:2:1: did not find expected node content"
        );
    }

    #[test]
    fn the_example_project_loads_with_refinery_checksums() {
        let project = Project::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(project.phase(Phase::Ddl).count() >= 30);
        assert!(project.phase(Phase::Indexes).count() >= 8);
        assert!(project.phase(Phase::Backfills).count() >= 4);
        let first = &project.migrations[0];
        let expected = refinery::Migration::unapplied("V1__core_tables", &first.sql)
            .unwrap()
            .checksum();
        assert_eq!(
            (first.id.as_str(), first.checksum),
            ("ddl/V1__core_tables", expected)
        );
    }
}
