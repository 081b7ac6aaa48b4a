-- A tenant's settings, versioned: the current document and every earlier one. Numbers that
-- reach a tenant are unique across tenants, so an incoming call finds exactly one store.
-- Provider credentials are stored encrypted (AES-256-GCM), with only their last 4 characters
-- in the clear for display.
CREATE TABLE tenant_settings (
    tenant_id   TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    document    TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE settings_history (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    document    TEXT NOT NULL,
    changed     TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE phone_numbers (
    number     TEXT PRIMARY KEY NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);

CREATE INDEX phone_numbers_tenant_idx ON phone_numbers (tenant_id);

CREATE TABLE tenant_secrets (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    last4       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
