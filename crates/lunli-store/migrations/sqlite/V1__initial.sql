-- lunli's embedded store. Aggregates are kept whole as JSON documents (the governance library
-- owns their shape); the columns beside them are what queries select and order on.

CREATE TABLE people (
    id     TEXT PRIMARY KEY,
    record TEXT NOT NULL
);

CREATE TABLE vendors (
    id     TEXT PRIMARY KEY,
    record TEXT NOT NULL
);

-- Append-only: a change to a system is a new version.
CREATE TABLE system_versions (
    system  TEXT    NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    record  TEXT    NOT NULL,
    PRIMARY KEY (system, version)
);

CREATE TABLE intakes (
    id      INTEGER PRIMARY KEY,
    system  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    tier    TEXT    NOT NULL,
    record  TEXT    NOT NULL,
    FOREIGN KEY (system, version) REFERENCES system_versions (system, version)
);
CREATE INDEX intakes_by_system ON intakes (system, version, id);

CREATE TABLE assessments (
    id      INTEGER PRIMARY KEY,
    system  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    record  TEXT    NOT NULL,
    FOREIGN KEY (system, version) REFERENCES system_versions (system, version)
);
CREATE INDEX assessments_by_system ON assessments (system, id);

-- The tamper-evident ledger: leaf i is the canonical JSON of entry i (see lunli-ledger).
CREATE TABLE ledger_entries (
    idx       INTEGER PRIMARY KEY CHECK (idx >= 0),
    leaf_hash BLOB    NOT NULL,
    entry     BLOB    NOT NULL
);

CREATE TABLE ledger_heads (
    size      INTEGER PRIMARY KEY,
    root      BLOB    NOT NULL,
    timestamp TEXT    NOT NULL,
    signature BLOB    NOT NULL
);
