-- API keys for server-to-server use: shown once, stored as SHA-256, scoped, revocable.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    -- The key's first characters, to tell keys apart in lists and logs.
    prefix        TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    -- Space-separated, e.g. 'calls:read actions:write'.
    scopes        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);
