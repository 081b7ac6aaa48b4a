-- A text conversation's agent state between messages (the sandbox), saved after every message
-- with a version so that two messages racing on one conversation cannot both apply.
CREATE TABLE conversations (
    call_id      TEXT PRIMARY KEY NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state        TEXT NOT NULL,
    version      BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
