//! The reads that judging a code, a refresh token or an access token needs: a grant with its
//! user and its session's revocation, each in one statement (and, for an access token, the
//! user's identities, which UserInfo answers from).

use crate::errors::DbError;
use crate::oidc_rows::{self, GRANT_CONTEXT_COLUMNS};
use crate::users::identities_of;
use authgate_store::{AccessTokenContext, GrantContext, RefreshTokenRecord};
use rusqlite::{Connection, OptionalExtension};

/// Grant `grant_id`, which exists (a write just changed it).
pub(super) fn grant_context(conn: &Connection, grant_id: &str) -> Result<GrantContext, DbError> {
    let sql = format!(
        "SELECT {GRANT_CONTEXT_COLUMNS} FROM oidc_grants g JOIN users u ON u.id = g.user_id \
         WHERE g.id = ?1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([grant_id], |r| oidc_rows::grant_context(r, 0))?)
}

pub(super) fn refresh_token_context(
    conn: &Connection,
    hash: &str,
) -> Result<Option<(RefreshTokenRecord, GrantContext)>, DbError> {
    let sql = format!(
        "SELECT t.hash, t.issued_at, t.used_at, {GRANT_CONTEXT_COLUMNS} \
         FROM oidc_refresh_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
         JOIN users u ON u.id = g.user_id WHERE t.hash = ?1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([hash], |r| {
            let context = oidc_rows::grant_context(r, 3)?;
            let token = RefreshTokenRecord {
                hash: r.get(0)?,
                grant_id: context.grant.id.clone(),
                issued_at: r.get(1)?,
                used_at: r.get(2)?,
            };
            Ok((token, context))
        })
        .optional()?)
}

pub(super) fn access_token_context(
    conn: &Connection,
    jti: &str,
    grant_id: Option<&str>,
) -> Result<AccessTokenContext, DbError> {
    // One row whatever is found: the grant's columns are NULL when there is none.
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM oidc_revoked_tokens WHERE jti = ?1), \
         {GRANT_CONTEXT_COLUMNS} FROM (SELECT 1) LEFT JOIN oidc_grants g ON g.id = ?2 \
         LEFT JOIN users u ON u.id = g.user_id"
    );
    let (revoked, grant) = conn.prepare_cached(&sql)?.query_row((jti, grant_id), |r| {
        let found: Option<String> = r.get(1)?;
        let grant = match found {
            Some(_) => Some(oidc_rows::grant_context(r, 1)?),
            None => None,
        };
        Ok((r.get(0)?, grant))
    })?;
    let identities = match &grant {
        Some(g) => identities_of(conn, g.user.id)?,
        None => Vec::new(),
    };
    Ok(AccessTokenContext {
        revoked,
        grant,
        identities,
    })
}
