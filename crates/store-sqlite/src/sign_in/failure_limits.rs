//! Failure limits on SQLite (the rule is `authgate_core::failure_limit`, the decision
//! `authgate_store::decide_failure_slots`): the keys' counters are read and written inside the
//! writer's transaction, which holds the database's only write lock, so no row locks are
//! needed.

use crate::errors::DbError;
use crate::rows::{self, FAILURE_COLUMNS};
use authgate_core::failure_limit::{FailureCount, FailureLimit};
use authgate_store::FailureSlots;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};
use std::collections::HashMap;

/// Takes one slot under every key, or none (`authgate_core::failure_limit` decides).
pub(super) fn take_slots(
    conn: &Connection,
    keys: &[(String, FailureLimit)],
    now: i64,
) -> Result<FailureSlots, DbError> {
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let counts = failure_counts(conn, &names)?;
    let (answer, changed) = authgate_store::decide_failure_slots(keys, &counts, now);
    write_failure_counts(conn, &changed)?;
    Ok(answer)
}

/// The keys' counters, in the order of `keys` (a key never seen has the default), read in
/// one statement.
pub(super) fn failure_counts(
    conn: &Connection,
    keys: &[&str],
) -> Result<Vec<FailureCount>, DbError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {FAILURE_COLUMNS} FROM signin_failures WHERE key IN ({})",
        placeholders(1, keys.len())
    );
    let stored = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(keys), rows::failure_count)?
        .collect::<rusqlite::Result<HashMap<String, FailureCount>>>()?;
    Ok(keys
        .iter()
        .map(|k| stored.get(*k).copied().unwrap_or_default())
        .collect())
}

/// Stores the keys' new counters, in one statement.
pub(super) fn write_failure_counts(
    conn: &Connection,
    counts: &[(&str, FailureCount)],
) -> Result<(), DbError> {
    if counts.is_empty() {
        return Ok(());
    }
    const COLUMNS: usize = 7;
    let rows: Vec<String> = (0..counts.len())
        .map(|i| format!("({})", placeholders(i * COLUMNS + 1, COLUMNS)))
        .collect();
    let sql = format!(
        "INSERT INTO signin_failures ({FAILURE_COLUMNS}) VALUES {} \
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         window_started_at = excluded.window_started_at, locked_until = excluded.locked_until, \
         strikes = excluded.strikes, pending = excluded.pending, \
         pending_until = excluded.pending_until",
        rows.join(", ")
    );
    let values = counts.iter().flat_map(|(key, c)| {
        [
            Value::Text(key.to_string()),
            c.failures.into(),
            c.window_started_at.into(),
            c.locked_until.into(),
            c.strikes.into(),
            c.pending.into(),
            c.pending_until.into(),
        ]
    });
    conn.prepare_cached(&sql)?
        .execute(params_from_iter(values))?;
    Ok(())
}

/// `?first, ?first+1, ...`: `n` numbered placeholders.
pub(super) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
