//! The OpenID Connect provider's columns and how its rows become values, beside `rows.rs` and
//! in its manner: each column list sits beside the function that reads it by position.

use crate::rows::{object, user};
use authgate_store::{GrantContext, GrantSummary, OidcClientRecord, OidcGrant};
use rusqlite::Row;

/// In [`OidcClientRecord`]'s field order.
pub(crate) const CLIENT_COLUMNS: &str =
    "id, name, secret_hash, settings, enabled, created_at, updated_at";

pub(crate) fn client(r: &Row<'_>) -> rusqlite::Result<OidcClientRecord> {
    Ok(OidcClientRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        secret_hash: r.get(2)?,
        settings: object(r, 3)?,
        enabled: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// A grant (`g`, in [`OidcGrant`]'s field order), its user (`u`) and whether its session was
/// revoked: from `oidc_grants g` joined with `users u`.
pub(crate) const GRANT_CONTEXT_COLUMNS: &str = "g.id, g.client_id, g.user_id, g.session_id, \
     g.offline, g.refreshable, g.scope, g.claims, g.nonce, g.auth_time, g.amr, g.redirect_uri, \
     g.code_challenge, g.code_hash, g.code_expires_at, g.code_used_at, g.created_at, \
     g.expires_at, g.revoked_at, u.id, u.username, u.email, u.phone, u.nickname, u.is_admin, \
     u.enabled, u.password_hash, u.password_changed_at, u.created_at, u.updated_at, \
     EXISTS (SELECT 1 FROM revocations r WHERE r.session_id = g.session_id)";

/// A row of [`GRANT_CONTEXT_COLUMNS`], starting at column `at`.
pub(crate) fn grant_context(r: &Row<'_>, at: usize) -> rusqlite::Result<GrantContext> {
    Ok(GrantContext {
        grant: OidcGrant {
            id: r.get(at)?,
            client_id: r.get(at + 1)?,
            user_id: r.get(at + 2)?,
            session_id: r.get(at + 3)?,
            offline: r.get(at + 4)?,
            refreshable: r.get(at + 5)?,
            scope: r.get(at + 6)?,
            claims: r.get(at + 7)?,
            nonce: r.get(at + 8)?,
            auth_time: r.get(at + 9)?,
            amr: r.get(at + 10)?,
            redirect_uri: r.get(at + 11)?,
            code_challenge: r.get(at + 12)?,
            code_hash: r.get(at + 13)?,
            code_expires_at: r.get(at + 14)?,
            code_used_at: r.get(at + 15)?,
            created_at: r.get(at + 16)?,
            expires_at: r.get(at + 17)?,
            revoked_at: r.get(at + 18)?,
        },
        user: user(r, at + 19)?,
        session_revoked: r.get(at + 30)?,
    })
}

/// A live grant with its client's name and its user's, for the account and admin pages.
pub(crate) const GRANT_SUMMARY_SELECT: &str = "SELECT g.id, g.client_id, c.name, g.user_id, \
     u.username, g.scope, g.offline, g.created_at, g.expires_at, g.session_id FROM oidc_grants g \
     JOIN oidc_clients c ON c.id = g.client_id JOIN users u ON u.id = g.user_id";

pub(crate) fn grant_summary(r: &Row<'_>) -> rusqlite::Result<GrantSummary> {
    Ok(GrantSummary {
        grant_id: r.get(0)?,
        client_id: r.get(1)?,
        client_name: r.get(2)?,
        user_id: r.get(3)?,
        username: r.get(4)?,
        scope: r.get(5)?,
        offline: r.get(6)?,
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
        session_id: r.get(9)?,
    })
}
