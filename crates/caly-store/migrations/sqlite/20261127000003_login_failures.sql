-- Failed sign-ins per email (normalised, known or not, so that a lockout reveals nothing about
-- which emails exist). Rows older than the lockout window are pruned as new ones arrive.
CREATE TABLE login_failures (
    email      TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);

CREATE INDEX login_failures_email_idx ON login_failures (email, failed_at);
