-- The tamper-evident audit trail. Each event is chained to the one before
-- it: hash = hex(SHA-256(prev_hash || '\n' || event)); the first prev_hash
-- is 64 zeros. event is the canonical JSON exactly as it was hashed;
-- event_time, type and user_id are copied from it for queries. audit_head
-- holds the last seq and hash; appenders update it in the transaction that
-- inserts their events.

CREATE TABLE audit_events (
    seq        BIGINT PRIMARY KEY,
    event_time TIMESTAMPTZ NOT NULL,
    type       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    event      TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (event_time);
CREATE INDEX audit_events_type ON audit_events (type, seq);
CREATE INDEX audit_events_user ON audit_events (user_id, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
