-- OpenID Connect standard claims of users (OIDC Core §5.1): an optional
-- email address, unique among users regardless of case when set, whether
-- it was verified, and a display name. And the post-logout redirect URIs
-- of clients (OIDC RP-Initiated Logout 1.0), a JSON array of strings.

ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email <> '';
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
