-- When a user last chose their password (reset, invitation, change); `caly scan` flags the demo
-- owner while it still has the password printed at first start.
ALTER TABLE users ADD COLUMN password_changed_at BIGINT;
