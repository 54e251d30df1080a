//! Migration ids and file names: `sql/ddl/V12__add_leads.sql` is the migration
//! `ddl/V12__add_leads`, version 12, named `add_leads`, as refinery reads the name.

use super::Phase;

/// A migration id split into its parts: `ddl/V12__add_leads` → (Ddl, 12, "add_leads").
/// Ids follow file names exactly: `<dir>/<file stem>` (see [`parse_stem`]).
pub fn parse_id(id: &str) -> Option<(Phase, u64, &str)> {
    let (dir, stem) = id.split_once('/')?;
    let (version, name) = parse_stem(stem)?;
    Some((Phase::from_dir(dir)?, version, name))
}

/// A file's name as a migration: `V12__add_leads.sql` → (12, "add_leads").
pub fn parse_file_name(file_name: &str) -> Option<(u64, &str)> {
    parse_stem(file_name.strip_suffix(".sql")?)
}

/// A migration stem (`V12__add_leads`) as refinery reads it, with an integer version.
pub fn parse_stem(stem: &str) -> Option<(u64, &str)> {
    let (version, name) = stem.strip_prefix('V')?.split_once("__")?;
    let valid = !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return None;
    }
    // refinery stores versions as i32; larger ones would not round-trip through its ledger.
    let version: u64 = version.parse().ok().filter(|v| *v <= i32::MAX as u64)?;
    Some((version, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_refinery() {
        assert_eq!(
            parse_file_name("V12__add_leads.sql"),
            Some((12, "add_leads"))
        );
        for bad in [
            "V12_add.sql",
            "v1__a.sql",
            "V1__a-b.sql",
            "V__a.sql",
            "U1__a.sql",
            "V1__.sql",
            "V1__a.txt",
            "V99999999999__a.sql",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }
}
