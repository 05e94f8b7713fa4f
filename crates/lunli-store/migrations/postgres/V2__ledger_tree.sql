-- The compact Merkle tree (size and peaks, see lunli_ledger::CompactTree) as of the latest signed
-- head, so that signing the next head reads only the entries appended since. One row. A cache:
-- signing uses it only when its root equals the latest head's signed root, and verification
-- never reads it, recomputing everything from the entries.
CREATE TABLE ledger_tree (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    size  BIGINT NOT NULL CHECK (size >= 0),
    -- the peaks' 32-byte hashes, concatenated, biggest subtree first
    peaks BYTEA  NOT NULL
);
