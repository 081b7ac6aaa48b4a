-- When the call's media stream first connected: a media token is good for one connection only.
ALTER TABLE calls ADD COLUMN media_connected_at BIGINT;

-- Calls still open, found at start-up (left by a crash) and by carriers' status callbacks.
CREATE INDEX calls_status_idx ON calls (status, direction);
CREATE INDEX calls_carrier_call_idx ON calls (carrier, carrier_call_id);
