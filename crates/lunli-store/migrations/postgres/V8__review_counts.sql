-- Unresolved reviews per system, kept by a trigger as reviews are queued and resolved, so the
-- dashboard's inventory reads one row per system instead of counting a queue that may hold
-- hundreds of thousands of items (issue 15).
CREATE TABLE review_counts (
    system  TEXT PRIMARY KEY,
    pending BIGINT NOT NULL
);
INSERT INTO review_counts (system, pending)
    SELECT system, COUNT(*) FROM reviews WHERE status IN ('open', 'claimed') GROUP BY system;

-- The counts live in the schema of the table that changed, whatever the session's search_path.
CREATE FUNCTION count_pending_reviews() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT := 0;
BEGIN
    IF NEW.status IN ('open', 'claimed') THEN
        delta := delta + 1;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN ('open', 'claimed') THEN
        delta := delta - 1;
    END IF;
    IF delta <> 0 THEN
        EXECUTE format('INSERT INTO %I.review_counts AS c (system, pending) VALUES ($1, $2) '
                       'ON CONFLICT (system) DO UPDATE SET pending = c.pending + $2', TG_TABLE_SCHEMA)
            USING NEW.system, delta;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reviews_counted AFTER INSERT OR UPDATE OF status ON reviews
    FOR EACH ROW EXECUTE FUNCTION count_pending_reviews();
