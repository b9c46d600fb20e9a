-- TOTP back-off: failures counts the wrong codes since the last accepted
-- one; locked_until (Unix microseconds, NULL when not locked) is when the
-- next code may be tried.

ALTER TABLE user_totp ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_totp ADD COLUMN locked_until INTEGER;
