//! The INSERTs of rows written together: a session's (its row, its first token, its audit
//! entries and, on a first sign-in, the identity's binding), joined as CTEs of one statement
//! so that they cost one round trip, and the audit entries' own INSERT.
//!
//! Each INSERT is `INSERT ... SELECT`, so that the same text can take its user id either as a
//! value or from column `bound_id` of a CTE `b` the statement starts with (the one-statement
//! sign-ins, where the user is found, or created, by that same statement). The server gives
//! each placeholder its target column's type.

use crate::connection::Db;
use crate::sql::Sql;
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, Session};
use authgate_store::{ExternalIdentity, StoreResult};

/// Where the inserted rows' user id comes from.
#[derive(Clone, Copy)]
pub(crate) enum UserFrom<'q> {
    /// The values themselves (`session.user_id`, `token.user_id`, each entry's `user_id`).
    Values,
    /// Column `bound_id` of the statement's CTE `b`: the rows are written once for each row of
    /// `b` that `filter` (a WHERE clause on `b`, or "") keeps, and not at all when none is.
    B { filter: &'q str },
}

/// The rows that start a session.
pub(crate) struct SessionRows<'a> {
    pub session: &'a Session,
    pub token: &'a IssuedToken,
    pub audit: &'a [NewAuditEntry],
    /// On a first sign-in, the identity bound to the user now.
    pub binding: Option<Binding<'a>>,
}

/// An identity's binding to the session's user.
pub(crate) struct Binding<'a> {
    pub identity: &'a ExternalIdentity,
    /// `identity.meta` as stored (`authgate_store::stored_meta`).
    pub meta: &'a str,
    pub at: i64,
}

impl<'a> SessionRows<'a> {
    /// Appends them as the CTEs `i` (the binding), `s`, `t` and `a` (when there are audit
    /// entries), to a statement that ends
    /// where a CTE may begin (after `WITH ` or `, `).
    pub(crate) fn push_ctes(&self, sql: &mut Sql<'a>, user: UserFrom<'_>) {
        if let Some(binding) = &self.binding {
            sql.push("i AS (");
            push_binding(sql, binding, self.session.user_id, user);
            sql.push("), ");
        }
        sql.push("s AS (");
        push_session(sql, self.session, user);
        sql.push("), t AS (");
        push_token(sql, self.token, user);
        sql.push(")");
        if !self.audit.is_empty() {
            sql.push(", a AS (");
            push_audit(sql, self.audit, user);
            sql.push(")");
        }
    }

    /// Writes them for their own user ids, as one statement.
    pub(crate) async fn write(&self, db: &mut impl Db) -> StoreResult<()> {
        let mut sql = Sql::new("WITH ");
        self.push_ctes(&mut sql, UserFrom::Values);
        sql.push(" SELECT 1");
        db.execute_sql(&sql).await?;
        Ok(())
    }
}

/// `INSERT INTO identities ...` binding `b.identity` to `user_id` (or to `b.bound_id`).
pub(crate) fn push_binding<'a>(
    sql: &mut Sql<'a>,
    b: &Binding<'a>,
    user_id: i64,
    user: UserFrom<'_>,
) {
    let at = sql.param(b.at);
    sql.push(
        "INSERT INTO identities (authenticator, uuid, user_id, nickname, avatar, meta, \
         created_at, updated_at) SELECT ",
    );
    sql.bind(&b.identity.authenticator).push(", ");
    sql.bind(&b.identity.uuid).push(", ");
    push_user(sql, user_id, user);
    sql.push(", ").bind(&b.identity.nickname);
    sql.push(", ").bind(&b.identity.avatar);
    sql.push(", ").bind(b.meta);
    sql.push(&format!(", {at}, {at}"));
    push_from_b(sql, user);
}

fn push_session<'a>(sql: &mut Sql<'a>, s: &'a Session, user: UserFrom<'_>) {
    sql.push(
        "INSERT INTO sessions (id, user_id, authenticator, signed_in_at, last_renewed_at, ip, \
         user_agent) SELECT ",
    );
    sql.bind(&s.id).push(", ");
    push_user(sql, s.user_id, user);
    sql.push(", ").bind(&s.authenticator);
    sql.push(", ").bind(s.signed_in_at);
    sql.push(", ").bind(s.last_renewed_at);
    sql.push(", ").bind(&s.ip);
    sql.push(", ").bind(&s.user_agent);
    push_from_b(sql, user);
}

/// `INSERT INTO issued_tokens ...` of a new token (not renewed yet).
pub(crate) fn push_token<'a>(sql: &mut Sql<'a>, t: &'a IssuedToken, user: UserFrom<'_>) {
    sql.push("INSERT INTO issued_tokens (jti, session_id, user_id, issued_at, expires_at) SELECT ");
    sql.bind(&t.jti).push(", ");
    sql.bind(&t.session_id).push(", ");
    push_user(sql, t.user_id, user);
    sql.push(", ").bind(t.issued_at);
    sql.push(", ").bind(t.expires_at);
    push_from_b(sql, user);
}

/// `INSERT INTO audit_log ...` of `entries`, in their order (ids ascending): one `SELECT`
/// each, joined with `UNION ALL`, which keeps their order.
pub(crate) fn push_audit<'a>(sql: &mut Sql<'a>, entries: &'a [NewAuditEntry], user: UserFrom<'_>) {
    sql.push(
        "INSERT INTO audit_log (at, event, result, user_id, actor_id, authenticator, ip, \
         user_agent, reason, detail) ",
    );
    for (n, e) in entries.iter().enumerate() {
        if n > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push("SELECT ").bind(e.at).push("::bigint, ");
        sql.bind(&e.event).push("::text, ");
        sql.bind(e.outcome.as_str()).push("::text, ");
        match user {
            UserFrom::Values => sql.bind(e.user_id).push("::bigint"),
            UserFrom::B { .. } => sql.push("b.bound_id"),
        };
        sql.push(", ").bind(e.actor_id).push("::bigint, ");
        sql.bind(&e.authenticator).push("::text, ");
        sql.bind(&e.ip).push("::text, ");
        sql.bind(&e.user_agent).push("::text, ");
        sql.bind(&e.reason).push("::text, ");
        let detail = serde_json::to_string(&e.detail).expect("a JSON object serialises");
        sql.bind(detail).push("::text");
        push_from_b(sql, user);
    }
}

fn push_user(sql: &mut Sql<'_>, user_id: i64, user: UserFrom<'_>) {
    match user {
        UserFrom::Values => sql.bind(user_id),
        UserFrom::B { .. } => sql.push("b.bound_id"),
    };
}

fn push_from_b(sql: &mut Sql<'_>, user: UserFrom<'_>) {
    if let UserFrom::B { filter } = user {
        sql.push(" FROM b ").push(filter);
    }
}
