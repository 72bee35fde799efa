//! The two things that happen once, on any node: a code redeemed, a refresh token rotated.
//! Each is one READ COMMITTED transaction that starts with a conditional UPDATE: callers racing
//! for the same row queue on its lock, and each one after the first finds the condition false
//! once the first committed (PostgreSQL checks the row again as it now stands), so it changes
//! nothing. What follows a second use (revoking the grant) is done in the same transaction.

use super::contexts::grant_context;
use crate::connection::{Conn, Db, Tx};
use crate::rows::get;
use authgate_store::{CodeRedemption, RefreshTokenRecord, Rotation, StoreResult};

/// `redeem_code`.
pub(super) async fn redeem(
    conn: &mut Conn,
    code_hash: &str,
    client_id: &str,
    refresh: Option<&RefreshTokenRecord>,
    now: i64,
) -> StoreResult<CodeRedemption> {
    let mut tx = conn.transaction().await?;
    let redeemed = tx
        .query_opt(
            "UPDATE oidc_grants SET code_used_at = $3 WHERE code_hash = $1 AND client_id = $2 \
             AND code_used_at IS NULL AND code_expires_at > $3 RETURNING id, refreshable",
            &[&code_hash, &client_id, &now],
        )
        .await?;
    if let Some(row) = redeemed {
        let grant_id: String = get(&row, "id")?;
        let refreshable: bool = get(&row, "refreshable")?;
        let refresh_issued = match refresh {
            Some(token) if refreshable => {
                // The grant is the one redeemed, whatever the caller put in the record (it
                // knows the code, not the grant).
                insert_refresh_token(&mut tx, &token.hash, &grant_id, token.issued_at).await?;
                true
            }
            _ => false,
        };
        let context = grant_context(&mut tx, &grant_id).await?;
        tx.commit().await?;
        return Ok(CodeRedemption::Redeemed {
            context,
            refresh_issued,
        });
    }
    // Used before (expired or not): someone holds a copy of the code.
    let reused = tx
        .query_opt(
            "UPDATE oidc_grants SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE code_hash = $1 AND client_id = $2 AND code_used_at IS NOT NULL RETURNING id",
            &[&code_hash, &client_id, &now],
        )
        .await?;
    tx.commit().await?;
    Ok(match reused {
        Some(row) => CodeRedemption::Reused {
            grant_id: get(&row, "id")?,
        },
        None => CodeRedemption::Unknown,
    })
}

/// `rotate_refresh_token`.
pub(super) async fn rotate(
    conn: &mut Conn,
    old_hash: &str,
    client_id: &str,
    new_hash: &str,
    now: i64,
) -> StoreResult<Rotation> {
    let mut tx = conn.transaction().await?;
    let rotated = tx
        .query_opt(
            "UPDATE oidc_refresh_tokens SET used_at = $3 WHERE hash = $1 AND used_at IS NULL \
             AND grant_id IN (SELECT id FROM oidc_grants WHERE client_id = $2 \
             AND revoked_at IS NULL) RETURNING grant_id",
            &[&old_hash, &client_id, &now],
        )
        .await?;
    if let Some(row) = rotated {
        let grant_id: String = get(&row, "grant_id")?;
        insert_refresh_token(&mut tx, new_hash, &grant_id, now).await?;
        let context = grant_context(&mut tx, &grant_id).await?;
        tx.commit().await?;
        return Ok(Rotation::Rotated(context));
    }
    // Rotated before, in a grant still live: the family is revoked.
    let reused = tx
        .query_opt(
            "UPDATE oidc_grants SET revoked_at = $3 WHERE revoked_at IS NULL AND client_id = $2 \
             AND id = (SELECT grant_id FROM oidc_refresh_tokens \
             WHERE hash = $1 AND used_at IS NOT NULL) RETURNING id",
            &[&old_hash, &client_id, &now],
        )
        .await?;
    tx.commit().await?;
    Ok(match reused {
        Some(row) => Rotation::Reused {
            grant_id: get(&row, "id")?,
        },
        None => Rotation::Unknown,
    })
}

async fn insert_refresh_token(
    tx: &mut Tx<'_>,
    hash: &str,
    grant_id: &str,
    issued_at: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO oidc_refresh_tokens (hash, grant_id, issued_at) VALUES ($1, $2, $3)",
        &[&hash, &grant_id, &issued_at],
    )
    .await?;
    Ok(())
}
