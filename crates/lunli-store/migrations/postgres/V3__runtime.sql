-- Runtime human control: suspensions (the kill switch), subjects' consent and mode, the
-- gateway's API keys, and a version number that every change to runtime-relevant state bumps,
-- so that gateway instances sharing this store know when to reload. The triggers fire on the
-- same events as the SQLite store's.

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
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO runtime_state (id, version) VALUES (1, 0);

-- The counter lives in the schema of the table that changed, whatever the session's search_path.
CREATE FUNCTION bump_runtime_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.runtime_state SET version = version + 1 WHERE id = 1', TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$;

CREATE TRIGGER suspensions_changed AFTER INSERT OR UPDATE OR DELETE ON suspensions
    FOR EACH ROW EXECUTE FUNCTION bump_runtime_version();
CREATE TRIGGER consents_changed AFTER INSERT OR UPDATE ON consents
    FOR EACH ROW EXECUTE FUNCTION bump_runtime_version();
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION bump_runtime_version();
CREATE TRIGGER system_versions_changed AFTER INSERT ON system_versions
    FOR EACH ROW EXECUTE FUNCTION bump_runtime_version();
CREATE TRIGGER intakes_changed AFTER INSERT ON intakes
    FOR EACH ROW EXECUTE FUNCTION bump_runtime_version();
CREATE TRIGGER assessments_changed AFTER INSERT OR UPDATE ON assessments
    FOR EACH ROW EXECUTE FUNCTION bump_runtime_version();
