-- Calls, what was said in them, and the actions agents asked for. A call row is written when
-- the call starts and each turn before it is acknowledged, so a crash loses nothing said.
CREATE TABLE calls (
    id                 TEXT PRIMARY KEY NOT NULL,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    direction          TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'web', 'sandbox')),
    carrier            TEXT NOT NULL,
    carrier_call_id    TEXT,
    caller_number      TEXT,
    called_number      TEXT,
    status             TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed', 'interrupted')),
    outcome            TEXT CHECK (outcome IN ('resolved', 'transferred', 'abandoned')),
    language           TEXT,
    started_at         BIGINT NOT NULL,
    answered_at        BIGINT,
    ended_at           BIGINT,
    end_reason         TEXT,
    -- From the caller's first words ending to the agent's first audio, in ms.
    first_response_ms  BIGINT,
    recording_key      TEXT,
    summary            TEXT,
    notes              TEXT NOT NULL DEFAULT '',
    -- Set when someone at the store marks the call handled.
    resolved_at        BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- Keyset pages newest first within a tenant, and the filters beside it.
CREATE INDEX calls_tenant_started_idx ON calls (tenant_id, started_at, id);
CREATE INDEX calls_tenant_caller_idx ON calls (tenant_id, caller_number, started_at, id);

CREATE TABLE call_turns (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_id         TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    speaker         TEXT NOT NULL CHECK (speaker IN ('caller', 'agent', 'system')),
    text            TEXT NOT NULL,
    language        TEXT,
    intent          TEXT,
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    -- For agent turns cut short by the caller: what was heard, the rest is not in `text`.
    interrupted_at  BIGINT,
    -- Speech-to-text, dialogue and text-to-speech time of this turn, in ms.
    stt_ms          BIGINT,
    dialogue_ms     BIGINT,
    tts_ms          BIGINT,
    UNIQUE (call_id, seq)
);

CREATE INDEX call_turns_intent_idx ON call_turns (tenant_id, intent);

CREATE TABLE actions (
    id               TEXT PRIMARY KEY NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_id          TEXT REFERENCES calls (id) ON DELETE SET NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('cancel', 'refund', 'return', 'exchange', 'address_change')),
    order_number     TEXT NOT NULL,
    params           TEXT NOT NULL,
    -- Money this action moves, in paise (refunds).
    amount_paise     BIGINT,
    status           TEXT NOT NULL
                     CHECK (status IN ('proposed', 'awaiting_approval', 'approved', 'rejected', 'executed', 'failed')),
    -- The same key twice is the same action: a retried or repeated "yes" never acts twice.
    idempotency_key  TEXT NOT NULL,
    requested_at     BIGINT NOT NULL,
    decided_by       TEXT,
    decided_at       BIGINT,
    reason           TEXT,
    result           TEXT,
    executed_at      BIGINT,
    updated_at       BIGINT NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);

CREATE INDEX actions_tenant_status_idx ON actions (tenant_id, status, requested_at);
CREATE INDEX actions_call_idx ON actions (call_id);
