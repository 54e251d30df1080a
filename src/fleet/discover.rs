//! `discover:`: targets listed by a query on a directory database (a `tenants` table),
//! read once per run, before any target starts.

use std::path::Path;

use crate::config::RetrySettings;
use crate::db::connect::{Strategy, Target as Connection, choose};

use super::targets::{DiscoverText, FleetError, Target, checked, valid_name};

/// The targets the directory's query lists, in its row order. Each row is `(name, url)`,
/// read as text (the simple query protocol), so any column types do.
pub fn discover(
    path: &Path,
    discover: &DiscoverText,
    env: &dyn Fn(&str) -> Option<String>,
    retry: &RetrySettings,
) -> Result<Vec<Target>, FleetError> {
    let fail = |message: String| FleetError::Discover {
        path: path.to_owned(),
        message,
    };
    let url = match (&discover.url, &discover.url_env) {
        (Some(url), _) => url.clone(),
        (None, Some(var)) => env(var)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| fail(format!("url_env {var} is not set (or empty); export it")))?,
        (None, None) => unreachable!("checked when the file was read"),
    };
    let connection = Connection::parse(&url, "discover.url").map_err(|e| fail(e.to_string()))?;
    let shown = connection.describe();
    let strategy = Strategy::Single(Box::new(connection));
    let mut chosen = choose(&strategy, retry, &|_| {}).map_err(|(target, e)| {
        fail(format!(
            "cannot connect to {target}: {}",
            crate::db::errors::one_line(&e.to_string())
        ))
    })?;
    let messages = chosen.client.simple_query(&discover.sql).map_err(|e| {
        fail(format!(
            "the query failed on {shown}: {}",
            crate::db::errors::one_line(&crate::db::errors::describe(&e))
        ))
    })?;
    let mut targets: Vec<Target> = Vec::new();
    for message in messages {
        let postgres::SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let n = targets.len() + 1;
        if row.len() < 2 {
            return Err(fail(format!(
                "row {n} has {} column(s); the query must return (name, url)",
                row.len()
            )));
        }
        let (Some(name), Some(url)) = (row.get(0), row.get(1)) else {
            return Err(fail(format!("row {n}: name or url is NULL")));
        };
        if !valid_name(name) {
            return Err(fail(format!(
                "row {n}: target name {name:?}: use letters, digits, `-`, `_` and `.`"
            )));
        }
        targets.push(checked(name, url.to_owned()).map_err(fail)?);
    }
    Ok(targets)
}
