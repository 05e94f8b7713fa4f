-- Runtime human control: suspensions (the kill switch), subjects' consent and mode, the
-- gateway's API keys, and a version number that every change to runtime-relevant state bumps,
-- so that gateway instances sharing this store know when to reload.

CREATE TABLE suspensions (
    system  TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT '',   -- '' suspends the whole system
    record  TEXT NOT NULL,
    PRIMARY KEY (system, purpose)
);

CREATE TABLE consents (
    system  TEXT NOT NULL,
    subject TEXT NOT NULL,
    record  TEXT NOT NULL,
    PRIMARY KEY (system, subject)
);

CREATE TABLE api_keys (
    id     TEXT PRIMARY KEY,
    record TEXT NOT NULL
);

CREATE TABLE runtime_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO runtime_state (id, version) VALUES (1, 0);

CREATE TRIGGER suspensions_ins AFTER INSERT ON suspensions BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER suspensions_upd AFTER UPDATE ON suspensions BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER suspensions_del AFTER DELETE ON suspensions BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER consents_ins AFTER INSERT ON consents BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER consents_upd AFTER UPDATE ON consents BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER api_keys_ins AFTER INSERT ON api_keys BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER api_keys_upd AFTER UPDATE ON api_keys BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER system_versions_ins AFTER INSERT ON system_versions BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER intakes_ins AFTER INSERT ON intakes BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER assessments_ins AFTER INSERT ON assessments BEGIN UPDATE runtime_state SET version = version + 1; END;
CREATE TRIGGER assessments_upd AFTER UPDATE ON assessments BEGIN UPDATE runtime_state SET version = version + 1; END;
