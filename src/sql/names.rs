//! Identifiers as PostgreSQL folds them: unquoted names lower-cased (ASCII letters only,
//! scansup.c), quoted names kept as written with `""` undoubled.

/// `"a""b"` → `a"b`. `U&"x"` keeps its escapes (such names are only compared and shown).
pub fn unquote(text: &str) -> String {
    let inner = text.trim_start_matches(['U', 'u', '&']);
    inner[1..inner.len() - 1].replace("\"\"", "\"")
}

/// One part of a name as written in configuration (`Leads`, `"Leads"`), folded.
pub fn fold_part(part: &str) -> String {
    let part = part.trim();
    if part.len() >= 2 && part.starts_with('"') && part.ends_with('"') {
        unquote(part)
    } else {
        part.to_ascii_lowercase()
    }
}

/// A dotted name from configuration (`crm.Leads`), every part folded.
pub fn fold_qualified(name: &str) -> String {
    name.split('.').map(fold_part).collect::<Vec<_>>().join(".")
}

/// Whether two folded relation names can denote the same relation: equal, or equal in
/// their last part when either leaves the schema to the search path.
pub fn same_relation(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.rsplit_once('.'), b.rsplit_once('.')) {
        (Some(_), Some(_)) => false,
        (Some((_, a)), None) => a == b,
        (None, Some((_, b))) => a == b,
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_follows_postgres() {
        assert_eq!(fold_qualified("CRM.\"Leads\""), "crm.Leads");
        assert_eq!(unquote("\"a\"\"b\""), "a\"b");
        assert!(same_relation("public.leads", "leads"));
        assert!(same_relation("leads", "leads"));
        assert!(!same_relation("crm.leads", "public.leads"));
        assert!(!same_relation("leads", "Leads"));
    }
}
