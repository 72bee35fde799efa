-- authgate schema, SQLite flavour. Times are epoch milliseconds; JSON is TEXT.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT,
    email TEXT,
    phone TEXT,
    nickname TEXT,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash TEXT,
    password_changed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_phone_key ON users (phone);

CREATE TABLE authenticators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    auth_type TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    sort BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    authenticator TEXT NOT NULL REFERENCES authenticators (name) ON DELETE CASCADE,
    uuid TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nickname TEXT,
    avatar TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (authenticator, uuid)
);
CREATE INDEX identities_user_idx ON identities (user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    authenticator TEXT NOT NULL,
    signed_in_at BIGINT NOT NULL,
    last_renewed_at BIGINT,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id, signed_in_at);

CREATE TABLE issued_tokens (
    jti TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    renewed_to TEXT,
    renewed_at BIGINT
);
CREATE INDEX issued_tokens_session_idx ON issued_tokens (session_id);

-- A revoked session refuses every token of its chain.
CREATE TABLE revocations (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    revoked_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    revoked_by BIGINT
);

CREATE TABLE token_policy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token_ttl_ms BIGINT NOT NULL,
    session_ttl_ms BIGINT NOT NULL,
    renew_window_ms BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO token_policy (id, token_ttl_ms, session_ttl_ms, renew_window_ms, updated_at)
VALUES (1, 86400000, 604800000, 86400000, 0);

CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    authenticator TEXT NOT NULL,
    redirect TEXT NOT NULL,
    binding_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_states_expiry_idx ON oauth_states (expires_at);

CREATE TABLE signin_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    result TEXT NOT NULL,
    user_id BIGINT,
    actor_id BIGINT,
    authenticator TEXT,
    ip TEXT,
    user_agent TEXT,
    reason TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, at);
CREATE INDEX audit_log_event_idx ON audit_log (event, at);

-- Values that must be equal on every node; `sealed` ones are encrypted with the secret key.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    sealed BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
-- At most one active key, even when two nodes start on an empty database at once.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (active) WHERE active;
