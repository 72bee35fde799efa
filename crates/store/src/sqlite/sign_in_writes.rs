//! The sign-in path's short writes on SQLite (a DingTalk sign-in's three, a password
//! sign-in's session and failure reset), run on the writer thread (`writer.rs`): plain
//! statements with the decisions between them made right there, inside the group's
//! transaction, so no other writer can come in between.

use super::writer::SqliteWrite;
use super::SqliteStore;
use crate::error::StoreError;
use crate::queries::{MatchCandidate, OAuthState};
use crate::rows::USER_COLUMNS;
use crate::sign_in_writes::{
    QuickSignIn, SignInBound, SignUpFresh, AUDIT_INSERT, IDENTITY_INSERT, OAUTH_STATE_INSERT,
    OAUTH_STATE_TAKE, SESSION_INSERT, TOKEN_INSERT,
};
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, Session, User};
use rusqlite::{Connection, OptionalExtension};
use std::sync::LazyLock;

impl SqliteStore {
    async fn on_writer<W: SqliteWrite>(&self, write: W) -> Result<W::Output, StoreError> {
        Ok(self.writer_thread.write(write).await?)
    }

    pub(super) async fn write_oauth_state(&self, s: &OAuthState) -> Result<(), StoreError> {
        self.on_writer(InsertOAuthState(s.clone())).await
    }

    /// Deletes the state and returns it: a state is used once.
    pub(super) async fn take_oauth_state(
        &self,
        state_hash: &str,
    ) -> Result<Option<OAuthState>, StoreError> {
        self.on_writer(TakeOAuthState(state_hash.to_string())).await
    }

    pub(super) async fn write_bound_sign_in(
        &self,
        w: SignInBound,
    ) -> Result<QuickSignIn, StoreError> {
        self.on_writer(w).await
    }

    pub(super) async fn write_fresh_sign_up(
        &self,
        w: SignUpFresh,
    ) -> Result<Option<User>, StoreError> {
        self.on_writer(w).await
    }

    /// A session started elsewhere (password sign-in): its rows, written as one.
    pub(super) async fn write_session(
        &self,
        s: &Session,
        t: &IssuedToken,
        audit: &[NewAuditEntry],
    ) -> Result<(), StoreError> {
        let write = StartSession {
            session: s.clone(),
            token: t.clone(),
            audit: audit.to_vec(),
        };
        self.on_writer(write).await
    }
}

struct StartSession {
    session: Session,
    token: IssuedToken,
    audit: Vec<NewAuditEntry>,
}

impl SqliteWrite for StartSession {
    type Output = ();
    fn run(&self, conn: &Connection) -> rusqlite::Result<()> {
        insert_session(conn, &self.session, &self.token, &self.audit, None)
    }
}

struct InsertOAuthState(OAuthState);

impl SqliteWrite for InsertOAuthState {
    type Output = ();
    fn run(&self, conn: &Connection) -> rusqlite::Result<()> {
        let s = &self.0;
        conn.prepare_cached(OAUTH_STATE_INSERT)?.execute((
            &s.state_hash,
            &s.authenticator,
            &s.redirect,
            &s.binding_hash,
            s.created_at,
            s.expires_at,
            s.link_user_id,
        ))?;
        Ok(())
    }
}

struct TakeOAuthState(String);

impl SqliteWrite for TakeOAuthState {
    type Output = Option<OAuthState>;
    fn run(&self, conn: &Connection) -> rusqlite::Result<Option<OAuthState>> {
        conn.prepare_cached(OAUTH_STATE_TAKE)?
            .query_row([&self.0], |r| {
                Ok(OAuthState {
                    state_hash: r.get(0)?,
                    authenticator: r.get(1)?,
                    redirect: r.get(2)?,
                    binding_hash: r.get(3)?,
                    created_at: r.get(4)?,
                    expires_at: r.get(5)?,
                    link_user_id: r.get(6)?,
                })
            })
            .optional()
    }
}

/// The bound user (`USER_COLUMNS`) and the binding's profile as stored.
static BOUND_USER: LazyLock<String> = LazyLock::new(|| {
    let user_columns: Vec<String> = USER_COLUMNS
        .split(',')
        .map(|c| format!("u.{}", c.trim()))
        .collect();
    format!(
        "SELECT {}, i.nickname, i.avatar, i.meta FROM identities i \
         JOIN users u ON u.id = i.user_id WHERE i.authenticator = $1 AND i.uuid = $2",
        user_columns.join(", ")
    )
});

static INSERT_USER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
         password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {USER_COLUMNS}"
    )
});

/// `head` (one of the shared INSERT heads) with `n` positional values.
fn insert(head: &str, n: usize) -> String {
    let values: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("{head}VALUES ({})", values.join(", "))
}

static INSERT_SESSION: LazyLock<String> = LazyLock::new(|| insert(SESSION_INSERT, 7));
static INSERT_TOKEN: LazyLock<String> = LazyLock::new(|| insert(TOKEN_INSERT, 5));
static INSERT_AUDIT: LazyLock<String> = LazyLock::new(|| insert(AUDIT_INSERT, 10));
/// `created_at` and `updated_at` are both the 7th value.
static INSERT_IDENTITY: LazyLock<String> =
    LazyLock::new(|| format!("{IDENTITY_INSERT}VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"));

/// A user from `USER_COLUMNS`, starting at column 0.
fn user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        phone: r.get(3)?,
        nickname: r.get(4)?,
        is_admin: r.get(5)?,
        enabled: r.get(6)?,
        password_hash: r.get(7)?,
        password_changed_at: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

impl SqliteWrite for SignInBound {
    type Output = QuickSignIn;
    fn run(&self, conn: &Connection) -> rusqlite::Result<QuickSignIn> {
        let found = conn
            .prepare_cached(&BOUND_USER)?
            .query_row((&self.ext.authenticator, &self.ext.uuid), |r| {
                let bound: (Option<String>, Option<String>, String) =
                    (r.get(11)?, r.get(12)?, r.get(13)?);
                Ok((user(r)?, bound))
            })
            .optional()?;
        let Some((user, (nickname, avatar, meta))) = found else {
            return Ok(QuickSignIn::NotBound);
        };
        // What a full resolution would change besides the session: then it decides.
        let ext = &self.ext;
        let unchanged = user.enabled
            && (!self.sync_profile
                || (nickname == ext.nickname
                    && avatar == ext.avatar
                    && meta == self.meta
                    && (ext.nickname.is_none() || user.nickname == ext.nickname)));
        if !unchanged {
            return Ok(QuickSignIn::Undecided);
        }
        insert_session(conn, &self.session, &self.token, &self.audit, Some(user.id))?;
        Ok(QuickSignIn::SignedIn(user))
    }
}

impl SqliteWrite for SignUpFresh {
    type Output = Option<User>;
    fn run(&self, conn: &Connection) -> rusqlite::Result<Option<User>> {
        let ext = &self.ext;
        let exists = |sql: &str, value: &str| -> rusqlite::Result<bool> {
            conn.prepare_cached(sql)?.exists([value])
        };
        let bound = conn
            .prepare_cached("SELECT 1 FROM identities WHERE authenticator = $1 AND uuid = $2")?
            .exists((&ext.authenticator, &ext.uuid))?;
        if bound {
            return Ok(None);
        }
        for candidate in &self.candidates {
            let (sql, value) = lookup(candidate);
            if exists(sql, value)? {
                return Ok(None);
            }
        }
        // A username, e-mail or phone another user holds is left out, as in `resolve_in_tx`;
        // a lookup just made for a candidate is not made again.
        let free = |sql: &str, value: &Option<String>| -> rusqlite::Result<Option<String>> {
            Ok(match value {
                Some(v)
                    if self
                        .candidates
                        .iter()
                        .any(|c| lookup(c) == (sql, v.as_str()))
                        || !exists(sql, v)? =>
                {
                    Some(v.clone())
                }
                _ => None,
            })
        };
        let new = &self.new;
        let user = conn.prepare_cached(&INSERT_USER)?.query_row(
            (
                free(USERNAME_TAKEN, &new.username)?,
                free(EMAIL_TAKEN, &new.email)?,
                free(PHONE_TAKEN, &new.phone)?,
                &new.nickname,
                new.is_admin,
                new.enabled,
                &new.password_hash,
                self.now,
            ),
            user,
        )?;
        conn.prepare_cached(&INSERT_IDENTITY)?.execute((
            &ext.authenticator,
            &ext.uuid,
            user.id,
            &ext.nickname,
            &ext.avatar,
            &self.meta,
            self.now,
        ))?;
        insert_session(conn, &self.session, &self.token, &self.audit, Some(user.id))?;
        Ok(Some(user))
    }
}

/// The lookup that finds a user already holding the candidate's value.
fn lookup(candidate: &MatchCandidate) -> (&'static str, &str) {
    match candidate {
        MatchCandidate::Phone(phone) => (PHONE_TAKEN, phone),
        MatchCandidate::Email { value, .. } => (EMAIL_TAKEN, value),
    }
}

const USERNAME_TAKEN: &str = "SELECT 1 FROM users WHERE lower(username) = lower($1)";
const EMAIL_TAKEN: &str = "SELECT 1 FROM users WHERE email = $1";
const PHONE_TAKEN: &str = "SELECT 1 FROM users WHERE phone = $1";

/// A session, its first token and its audit entries, all for `user_id` when given (the
/// user the write just found or created), else for the user ids they carry.
fn insert_session(
    conn: &Connection,
    s: &Session,
    t: &IssuedToken,
    audit: &[NewAuditEntry],
    user_id: Option<i64>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(&INSERT_SESSION)?.execute((
        &s.id,
        user_id.unwrap_or(s.user_id),
        &s.authenticator,
        s.signed_in_at,
        s.last_renewed_at,
        &s.ip,
        &s.user_agent,
    ))?;
    conn.prepare_cached(&INSERT_TOKEN)?.execute((
        &t.jti,
        &t.session_id,
        user_id.unwrap_or(t.user_id),
        t.issued_at,
        t.expires_at,
    ))?;
    let mut insert_audit = conn.prepare_cached(&INSERT_AUDIT)?;
    for e in audit {
        insert_audit.execute((
            e.at,
            &e.event,
            e.outcome.as_str(),
            user_id.or(e.user_id),
            e.actor_id,
            &e.authenticator,
            &e.ip,
            &e.user_agent,
            &e.reason,
            serde_json::Value::Object(e.detail.clone()).to_string(),
        ))?;
    }
    Ok(())
}
