-- lunli's shared store on PostgreSQL: the same tables, meaning and version numbers as
-- migrations/sqlite. Aggregates are kept whole as JSON documents (the governance library owns
-- their shape); the columns beside them are what queries select and order on. Documents are
-- TEXT rather than JSONB so that they come back byte for byte as written (JSONB reorders keys
-- and refuses the \u0000 escape); `record::jsonb` turns them into JSONB for ad-hoc queries.
-- Integers are BIGINT: lunli's ids, versions and indices are unsigned and below 2^63.

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
    system  TEXT   NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    record  TEXT   NOT NULL,
    PRIMARY KEY (system, version)
);

CREATE TABLE intakes (
    id      BIGINT PRIMARY KEY,
    system  TEXT   NOT NULL,
    version BIGINT NOT NULL,
    tier    TEXT   NOT NULL,
    record  TEXT   NOT NULL,
    FOREIGN KEY (system, version) REFERENCES system_versions (system, version)
);
CREATE INDEX intakes_by_system ON intakes (system, version, id);

CREATE TABLE assessments (
    id      BIGINT PRIMARY KEY,
    system  TEXT   NOT NULL,
    version BIGINT NOT NULL,
    record  TEXT   NOT NULL,
    FOREIGN KEY (system, version) REFERENCES system_versions (system, version)
);
CREATE INDEX assessments_by_system ON assessments (system, id);

-- The tamper-evident ledger: leaf i is the canonical JSON of entry i (see lunli-ledger).
CREATE TABLE ledger_entries (
    idx       BIGINT PRIMARY KEY CHECK (idx >= 0),
    leaf_hash BYTEA  NOT NULL,
    entry     BYTEA  NOT NULL
);

CREATE TABLE ledger_heads (
    size      BIGINT PRIMARY KEY,
    root      BYTEA  NOT NULL,
    timestamp TEXT   NOT NULL,
    signature BYTEA  NOT NULL
);
