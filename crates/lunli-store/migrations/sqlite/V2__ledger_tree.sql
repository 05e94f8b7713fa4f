-- The compact Merkle tree (size and peaks, see lunli_ledger::CompactTree) as of the latest signed
-- head, so that signing the next head reads only the entries appended since. One row. A cache:
-- signing uses it only when its root equals the latest head's signed root, and verification
-- never reads it, recomputing everything from the entries.
CREATE TABLE ledger_tree (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    size  INTEGER NOT NULL CHECK (size >= 0),
    -- the peaks' 32-byte hashes, concatenated, biggest subtree first
    peaks BLOB    NOT NULL
);

-- Leaf hashes alone, in index order: building a proof or a subtree root reads 40 bytes a leaf
-- from here instead of every entry's whole row.
CREATE INDEX ledger_leaves ON ledger_entries (idx, leaf_hash);
