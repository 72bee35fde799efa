//! Failure limits under concurrency (the rule is `authgate_core::failure_limit`): a
//! transaction holds the rows of every key it decides on, in one order for every
//! transaction (no two wait for each other's rows), with one statement to hold them and one
//! to write them.

use crate::connection::{Db, Tx};
use crate::rows::{self, FAILURE_COUNT_COLUMNS};
use authgate_core::failure_limit::{FailureCount, FailureLimit, Settle};
use authgate_store::{FailureSlots, StoreError, StoreResult};

/// `SignInStore::take_failure_slots`, in `tx`; commits what it decided.
pub(super) async fn take(
    mut tx: Tx<'_>,
    keys: &[(String, FailureLimit)],
    now: i64,
) -> StoreResult<FailureSlots> {
    let keys = in_lock_order(keys, |k| &k.0);
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let held = hold(&mut tx, &names).await?;
    let (answer, counts) = authgate_store::decide_failure_slots(&keys, &held, now);
    if answer == FailureSlots::Busy {
        // Dropping the transaction rolls it back: nothing is taken.
        return Ok(answer);
    }
    write(&mut tx, &counts).await?;
    tx.commit().await?;
    Ok(answer)
}

/// `SignInStore::settle_failure_slots`, in `tx`; commits.
pub(super) async fn settle(
    mut tx: Tx<'_>,
    keys: &[(String, FailureLimit, Settle)],
    now: i64,
) -> StoreResult<()> {
    let keys = in_lock_order(keys, |k| &k.0);
    let names: Vec<&str> = keys.iter().map(|(k, _, _)| k.as_str()).collect();
    let held = hold(&mut tx, &names).await?;
    let settled: Vec<(&str, FailureCount)> = keys
        .iter()
        .zip(held)
        .map(|((key, limit, how), count)| (key.as_str(), limit.settle(count, *how, now)))
        .collect();
    write(&mut tx, &settled).await?;
    tx.commit().await
}

/// One order for every transaction that holds failure rows.
fn in_lock_order<T: Clone>(items: &[T], key: impl Fn(&T) -> &String) -> Vec<T> {
    let mut sorted = items.to_vec();
    sorted.sort_by(|a, b| key(a).cmp(key(b)));
    sorted
}

/// The keys' counters, in the order of `keys`, their rows created if needed and held until
/// the transaction ends (the no-op update takes the row locks, in the order given).
async fn hold(tx: &mut Tx<'_>, keys: &[&str]) -> StoreResult<Vec<FailureCount>> {
    let sql = format!(
        "INSERT INTO signin_failures (key, failures, window_started_at, locked_until) \
         SELECT k.key, 0, 0, 0 FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n) \
         ORDER BY k.n \
         ON CONFLICT (key) DO UPDATE SET failures = signin_failures.failures \
         RETURNING {FAILURE_COUNT_COLUMNS}"
    );
    let held = tx
        .query(&sql, &[&keys])
        .await?
        .iter()
        .map(rows::failure_count)
        .collect::<StoreResult<Vec<_>>>()?;
    keys.iter()
        .map(|key| {
            held.iter()
                .find(|(k, _)| k == key)
                .map(|(_, count)| *count)
                .ok_or_else(|| StoreError::Corrupt(format!("no failure counter for {key}")))
        })
        .collect()
}

/// Stores the keys' new counters (their rows held by [`hold`]).
async fn write(tx: &mut Tx<'_>, counts: &[(&str, FailureCount)]) -> StoreResult<()> {
    if counts.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&FailureCount) -> i64| counts.iter().map(|(_, c)| f(c)).collect::<Vec<_>>();
    let keys: Vec<&str> = counts.iter().map(|(k, _)| *k).collect();
    tx.execute(
        "INSERT INTO signin_failures (key, failures, window_started_at, locked_until, strikes, \
         pending, pending_until) \
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], \
                              $5::bigint[], $6::bigint[], $7::bigint[]) \
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         window_started_at = excluded.window_started_at, locked_until = excluded.locked_until, \
         strikes = excluded.strikes, pending = excluded.pending, \
         pending_until = excluded.pending_until",
        &[
            &keys,
            &column(|c| c.failures),
            &column(|c| c.window_started_at),
            &column(|c| c.locked_until),
            &column(|c| c.strikes),
            &column(|c| c.pending),
            &column(|c| c.pending_until),
        ],
    )
    .await?;
    Ok(())
}
