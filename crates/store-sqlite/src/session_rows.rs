//! The rows that start a session: the session, its first token and the audit entries that
//! record it (every sign-in's, a password sign-in's too), and a renewal's new token.

use crate::audit::insert_audit;
use crate::errors::DbError;
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, Session};
use rusqlite::Connection;

/// A session, its first token and the audit entries that record it.
pub(crate) fn insert_session_rows(
    conn: &Connection,
    s: &Session,
    token: &IssuedToken,
    audit: &[NewAuditEntry],
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO sessions (id, user_id, authenticator, signed_in_at, last_renewed_at, ip, \
         user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute((
        &s.id,
        s.user_id,
        &s.authenticator,
        s.signed_in_at,
        s.last_renewed_at,
        &s.ip,
        &s.user_agent,
    ))?;
    insert_token(conn, token)?;
    for entry in audit {
        insert_audit(conn, entry)?;
    }
    Ok(())
}

/// A session's first token, or a renewal's new one.
pub(crate) fn insert_token(conn: &Connection, t: &IssuedToken) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO issued_tokens (jti, session_id, user_id, issued_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute((&t.jti, &t.session_id, t.user_id, t.issued_at, t.expires_at))?;
    Ok(())
}
