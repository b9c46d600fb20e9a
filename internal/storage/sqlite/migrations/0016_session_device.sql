-- Where each browser session at the server signed in from, for the
-- session list on /account: the client address (as the trusted-proxy
-- rules see it), the User-Agent (bounded in length) and when the
-- session was last used. Sessions from before keep empty values.

ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen INTEGER;
