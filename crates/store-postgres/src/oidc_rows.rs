//! The OpenID Connect provider's columns and how its rows become values, beside `rows.rs` and
//! in its manner: columns are read by name, and each list is what its decoder reads.

use crate::rows::{get, user};
use authgate_store::{
    json_object, GrantContext, GrantSummary, OidcClientRecord, OidcGrant, StoreResult,
};
use tokio_postgres::Row;

pub(crate) const CLIENT_COLUMNS: &str =
    "id, name, secret_hash, settings, enabled, created_at, updated_at";

/// A grant (`g`), its user (`u`) and whether its session was revoked, from `oidc_grants g`
/// joined with `users u`. The grant's `id` and `created_at` are renamed: the user's columns
/// keep their names, for [`user`].
pub(crate) const GRANT_CONTEXT_COLUMNS: &str = "g.id AS grant_id, g.client_id, g.user_id, \
     g.session_id, g.offline, g.refreshable, g.scope, g.claims, g.nonce, g.auth_time, g.amr, \
     g.redirect_uri, g.code_challenge, g.code_hash, g.code_expires_at, g.code_used_at, \
     g.created_at AS grant_created_at, g.expires_at, g.revoked_at, u.id, u.username, u.email, \
     u.phone, u.nickname, u.is_admin, u.enabled, u.password_hash, u.password_changed_at, \
     u.created_at, u.updated_at, \
     EXISTS (SELECT 1 FROM revocations r WHERE r.session_id = g.session_id) AS session_revoked";

/// A live grant with its client's name and its user's, for the account and admin pages.
pub(crate) const GRANT_SUMMARY_SELECT: &str = "SELECT g.id AS grant_id, g.client_id, \
     c.name AS client_name, g.user_id, u.username, g.scope, g.offline, g.created_at, \
     g.expires_at, g.session_id FROM oidc_grants g JOIN oidc_clients c ON c.id = g.client_id \
     JOIN users u ON u.id = g.user_id";

pub(crate) fn client(row: &Row) -> StoreResult<OidcClientRecord> {
    Ok(OidcClientRecord {
        id: get(row, "id")?,
        name: get(row, "name")?,
        secret_hash: get(row, "secret_hash")?,
        settings: json_object(get(row, "settings")?)?,
        enabled: get(row, "enabled")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// A row of [`GRANT_CONTEXT_COLUMNS`].
pub(crate) fn grant_context(row: &Row) -> StoreResult<GrantContext> {
    Ok(GrantContext {
        grant: OidcGrant {
            id: get(row, "grant_id")?,
            client_id: get(row, "client_id")?,
            user_id: get(row, "user_id")?,
            session_id: get(row, "session_id")?,
            offline: get(row, "offline")?,
            refreshable: get(row, "refreshable")?,
            scope: get(row, "scope")?,
            claims: get(row, "claims")?,
            nonce: get(row, "nonce")?,
            auth_time: get(row, "auth_time")?,
            amr: get(row, "amr")?,
            redirect_uri: get(row, "redirect_uri")?,
            code_challenge: get(row, "code_challenge")?,
            code_hash: get(row, "code_hash")?,
            code_expires_at: get(row, "code_expires_at")?,
            code_used_at: get(row, "code_used_at")?,
            created_at: get(row, "grant_created_at")?,
            expires_at: get(row, "expires_at")?,
            revoked_at: get(row, "revoked_at")?,
        },
        user: user(row)?,
        session_revoked: get(row, "session_revoked")?,
    })
}

/// A row of [`GRANT_SUMMARY_SELECT`].
pub(crate) fn grant_summary(row: &Row) -> StoreResult<GrantSummary> {
    Ok(GrantSummary {
        grant_id: get(row, "grant_id")?,
        client_id: get(row, "client_id")?,
        client_name: get(row, "client_name")?,
        user_id: get(row, "user_id")?,
        username: get(row, "username")?,
        scope: get(row, "scope")?,
        offline: get(row, "offline")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        session_id: get(row, "session_id")?,
    })
}
