-- Audit retention: when events older than the retention are deleted, the
-- seq and hash of the last deleted one are kept here, so that `audit
-- verify` checks the kept part from that hash on. A trail never pruned has
-- seq 0 and the genesis hash.

CREATE TABLE audit_checkpoint (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    pruned_at INTEGER NOT NULL
);
INSERT INTO audit_checkpoint (id, seq, hash, pruned_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);
