-- Tenants (one store each) and their users. Ids are UUIDv7 text; times are UTC microseconds
-- since the Unix epoch, the one representation both engines read through sqlx's Any driver
-- (which reads no SQLite BOOLEAN either: states are timestamps, e.g. deactivated_at).
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL DEFAULT 'Asia/Kolkata',
    language    TEXT NOT NULL DEFAULT 'hinglish' CHECK (language IN ('hi', 'en', 'hinglish')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email          TEXT NOT NULL,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'supervisor', 'viewer')),
    password_hash  TEXT,
    deactivated_at BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_tenant_idx ON users (tenant_id);
