-- The audit log: append-only, one hash chain per tenant ('system' for events of no tenant).
-- Each row stores the SHA-256 of its own content and of the row before it in its chain, so an
-- edited, inserted or deleted row breaks the chain where `caly audit verify` finds it.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY NOT NULL,
    chain       TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT,
    ip          TEXT,
    user_agent  TEXT,
    request_id  TEXT,
    event       TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    UNIQUE (chain, seq)
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
