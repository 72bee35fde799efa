//! The two things that happen once: a code redeemed, a refresh token rotated. Each is one
//! write: a conditional UPDATE that only the first caller finds a row for, then what follows
//! from it. A second use revokes the grant in that same write.

use super::contexts::grant_context;
use crate::errors::DbError;
use authgate_store::{CodeRedemption, RefreshTokenRecord, Rotation};
use rusqlite::{Connection, OptionalExtension};

/// `redeem_code`, on the writer's connection.
pub(super) fn redeem(
    conn: &Connection,
    code_hash: &str,
    client_id: &str,
    refresh: Option<&RefreshTokenRecord>,
    now: i64,
) -> Result<CodeRedemption, DbError> {
    let redeemed: Option<(String, bool)> = conn
        .prepare_cached(
            "UPDATE oidc_grants SET code_used_at = ?3 WHERE code_hash = ?1 AND client_id = ?2 \
             AND code_used_at IS NULL AND code_expires_at > ?3 RETURNING id, refreshable",
        )?
        .query_row((code_hash, client_id, now), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((grant_id, refreshable)) = redeemed {
        let refresh_issued = match refresh {
            Some(token) if refreshable => {
                // The grant is the one redeemed, whatever the caller put in the record (it
                // knows the code, not the grant).
                insert_refresh_token(conn, &token.hash, &grant_id, token.issued_at)?;
                true
            }
            _ => false,
        };
        let context = grant_context(conn, &grant_id)?;
        return Ok(CodeRedemption::Redeemed {
            context,
            refresh_issued,
        });
    }
    // Used before (expired or not): someone holds a copy of the code.
    let reused: Option<String> = conn
        .prepare_cached(
            "UPDATE oidc_grants SET revoked_at = COALESCE(revoked_at, ?3) \
             WHERE code_hash = ?1 AND client_id = ?2 AND code_used_at IS NOT NULL RETURNING id",
        )?
        .query_row((code_hash, client_id, now), |r| r.get(0))
        .optional()?;
    Ok(match reused {
        Some(grant_id) => CodeRedemption::Reused { grant_id },
        None => CodeRedemption::Unknown,
    })
}

/// `rotate_refresh_token`, on the writer's connection.
pub(super) fn rotate(
    conn: &Connection,
    old_hash: &str,
    client_id: &str,
    new_hash: &str,
    now: i64,
) -> Result<Rotation, DbError> {
    let rotated: Option<String> = conn
        .prepare_cached(
            "UPDATE oidc_refresh_tokens SET used_at = ?3 WHERE hash = ?1 AND used_at IS NULL \
             AND grant_id IN (SELECT id FROM oidc_grants WHERE client_id = ?2 \
             AND revoked_at IS NULL) RETURNING grant_id",
        )?
        .query_row((old_hash, client_id, now), |r| r.get(0))
        .optional()?;
    if let Some(grant_id) = rotated {
        insert_refresh_token(conn, new_hash, &grant_id, now)?;
        return Ok(Rotation::Rotated(grant_context(conn, &grant_id)?));
    }
    // Rotated before, in a grant still live: the family is revoked.
    let reused: Option<String> = conn
        .prepare_cached(
            "UPDATE oidc_grants SET revoked_at = ?3 WHERE revoked_at IS NULL AND client_id = ?2 \
             AND id = (SELECT grant_id FROM oidc_refresh_tokens \
             WHERE hash = ?1 AND used_at IS NOT NULL) RETURNING id",
        )?
        .query_row((old_hash, client_id, now), |r| r.get(0))
        .optional()?;
    Ok(match reused {
        Some(grant_id) => Rotation::Reused { grant_id },
        None => Rotation::Unknown,
    })
}

fn insert_refresh_token(
    conn: &Connection,
    hash: &str,
    grant_id: &str,
    issued_at: i64,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO oidc_refresh_tokens (hash, grant_id, issued_at) VALUES (?1, ?2, ?3)",
    )?
    .execute((hash, grant_id, issued_at))?;
    Ok(())
}
