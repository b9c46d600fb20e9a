-- Users signed in through a connector (an LDAP directory or an upstream
-- OpenID Connect provider): the connector's id and the subject it vouches
-- for, unique as a pair once the subject is set (one local user per
-- upstream identity; a user an administrator pre-created for a connector
-- has the connector id and an empty subject until the first sign-in links
-- it), and the directory groups of the last sign-in or refresh, a JSON array
-- of strings. Local users keep '' and '[]'.

ALTER TABLE users ADD COLUMN connector_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN connector_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN directory_groups TEXT NOT NULL DEFAULT '[]';
CREATE UNIQUE INDEX users_connector_identity ON users (connector_id, connector_subject) WHERE connector_subject <> '';
