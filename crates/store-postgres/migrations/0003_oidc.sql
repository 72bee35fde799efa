-- OpenID Connect provider. Codes and refresh tokens are kept as SHA-256 hashes.

-- Tokens are signed with EdDSA and RS256 keys side by side, and a rotated key is kept
-- (inactive) until the tokens it signed have expired.
ALTER TABLE signing_keys ADD COLUMN retired_at BIGINT;
DROP INDEX signing_keys_one_active;
-- At most one active key per algorithm, even when two nodes start on an empty database at once.
CREATE UNIQUE INDEX signing_keys_one_active_per_alg ON signing_keys (alg) WHERE active;

-- Relying parties. `settings` is the client's configuration as the server wrote it (JSON).
CREATE TABLE oidc_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One authorization of a client by a user: the code, then the tokens issued from it.
CREATE TABLE oidc_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    offline BOOLEAN NOT NULL,
    refreshable BOOLEAN NOT NULL,
    scope TEXT NOT NULL,
    claims TEXT,
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    amr TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    code_hash TEXT NOT NULL UNIQUE,
    code_expires_at BIGINT NOT NULL,
    code_used_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oidc_grants_user_idx ON oidc_grants (user_id);
CREATE INDEX oidc_grants_client_idx ON oidc_grants (client_id);
CREATE INDEX oidc_grants_expiry_idx ON oidc_grants (expires_at);
CREATE INDEX oidc_grants_session_idx ON oidc_grants (session_id);

-- `used_at` is set by the one rotation a token allows: a second use is a reuse.
CREATE TABLE oidc_refresh_tokens (
    hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    issued_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX oidc_refresh_tokens_grant_idx ON oidc_refresh_tokens (grant_id);

-- Access tokens revoked before their expiry, kept until then.
CREATE TABLE oidc_revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- The scopes (space-separated) a user consented to for a client.
CREATE TABLE oidc_consents (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
-- A client's deletion finds its consents.
CREATE INDEX oidc_consents_client_idx ON oidc_consents (client_id);
