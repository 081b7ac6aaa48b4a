-- The rest of an agent turn's latency breakdown: the silence that ended the caller's turn, the
-- model's first token, lookups and actions, our own overhead, and end of speech → first frame.
ALTER TABLE call_turns ADD COLUMN eos_ms BIGINT;
ALTER TABLE call_turns ADD COLUMN llm_ms BIGINT;
ALTER TABLE call_turns ADD COLUMN tool_ms BIGINT;
ALTER TABLE call_turns ADD COLUMN overhead_ms BIGINT;
ALTER TABLE call_turns ADD COLUMN response_ms BIGINT;
