-- Email verification, password resets and invitations: single-use tokens stored as SHA-256,
-- and the outbox their mail waits in until delivered, so a crash or a mail outage loses none.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

CREATE TABLE one_time_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invite')),
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id, purpose);

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY NOT NULL,
    tenant_id        TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    sent_at          BIGINT,
    last_error       TEXT
);

CREATE INDEX outbox_due_idx ON outbox (sent_at, next_attempt_at);
