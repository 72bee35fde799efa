//! The two things that happen once, on any node: a code redeemed, a refresh token rotated.
//! Each is one statement (one round trip, one commit) that starts with a conditional UPDATE:
//! callers racing for the same row queue on its lock, and each one after the first finds the
//! condition false once the first committed (PostgreSQL checks the row again as it now stands),
//! so it changes nothing and answers no row. What follows a second use (revoking the grant) is a
//! conditional UPDATE of its own.

use crate::connection::{Conn, Db};
use crate::oidc_rows::{self, GRANT_CONTEXT_COLUMNS};
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
    // The refresh token is stored only if the grant allows one; the grant is the one redeemed,
    // whatever the caller put in the record (it knows the code, not the grant).
    let sql = format!(
        "WITH g AS (UPDATE oidc_grants SET code_used_at = $3 WHERE code_hash = $1 \
         AND client_id = $2 AND code_used_at IS NULL AND code_expires_at > $3 RETURNING *), \
         t AS (INSERT INTO oidc_refresh_tokens (hash, grant_id, issued_at) \
         SELECT $4::text, g.id, $5::bigint FROM g \
         WHERE g.refreshable AND $4::text IS NOT NULL RETURNING 1) \
         SELECT {GRANT_CONTEXT_COLUMNS}, EXISTS (SELECT 1 FROM t) AS refresh_issued \
         FROM g JOIN users u ON u.id = g.user_id"
    );
    let (hash, issued_at) = (refresh.map(|r| &r.hash), refresh.map(|r| r.issued_at));
    let redeemed = conn
        .query_opt(&sql, &[&code_hash, &client_id, &now, &hash, &issued_at])
        .await?;
    if let Some(row) = redeemed {
        return Ok(CodeRedemption::Redeemed {
            context: oidc_rows::grant_context(&row)?,
            refresh_issued: get(&row, "refresh_issued")?,
        });
    }
    // Used before (expired or not): someone holds a copy of the code.
    let reused = conn
        .query_opt(
            "UPDATE oidc_grants SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE code_hash = $1 AND client_id = $2 AND code_used_at IS NOT NULL RETURNING id",
            &[&code_hash, &client_id, &now],
        )
        .await?;
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
    let sql = format!(
        "WITH used AS (UPDATE oidc_refresh_tokens SET used_at = $3 WHERE hash = $1 \
         AND used_at IS NULL AND grant_id IN (SELECT id FROM oidc_grants WHERE client_id = $2 \
         AND revoked_at IS NULL) RETURNING grant_id), \
         t AS (INSERT INTO oidc_refresh_tokens (hash, grant_id, issued_at) \
         SELECT $4::text, used.grant_id, $3 FROM used) \
         SELECT {GRANT_CONTEXT_COLUMNS} FROM used JOIN oidc_grants g ON g.id = used.grant_id \
         JOIN users u ON u.id = g.user_id"
    );
    let rotated = conn
        .query_opt(&sql, &[&old_hash, &client_id, &now, &new_hash])
        .await?;
    if let Some(row) = rotated {
        return Ok(Rotation::Rotated(oidc_rows::grant_context(&row)?));
    }
    // Rotated before, in a grant still live: the family is revoked.
    let reused = conn
        .query_opt(
            "UPDATE oidc_grants SET revoked_at = $3 WHERE revoked_at IS NULL AND client_id = $2 \
             AND id = (SELECT grant_id FROM oidc_refresh_tokens \
             WHERE hash = $1 AND used_at IS NOT NULL) RETURNING id",
            &[&old_hash, &client_id, &now],
        )
        .await?;
    Ok(match reused {
        Some(row) => Rotation::Reused {
            grant_id: get(&row, "id")?,
        },
        None => Rotation::Unknown,
    })
}
