-- Unresolved reviews per system, kept by triggers as reviews are queued and resolved, so the
-- dashboard's inventory reads one row per system instead of counting a queue that may hold
-- hundreds of thousands of items (issue 15).
CREATE TABLE review_counts (
    system  TEXT PRIMARY KEY,
    pending INTEGER NOT NULL
);
INSERT INTO review_counts (system, pending)
    SELECT system, COUNT(*) FROM reviews WHERE status IN ('open', 'claimed') GROUP BY system;

CREATE TRIGGER review_counts_ins AFTER INSERT ON reviews WHEN NEW.status IN ('open', 'claimed') BEGIN
    INSERT INTO review_counts (system, pending) VALUES (NEW.system, 1)
        ON CONFLICT (system) DO UPDATE SET pending = pending + 1;
END;
CREATE TRIGGER review_counts_upd AFTER UPDATE OF status ON reviews
    WHEN (OLD.status IN ('open', 'claimed')) <> (NEW.status IN ('open', 'claimed')) BEGIN
    INSERT INTO review_counts (system, pending) VALUES (NEW.system, 0) ON CONFLICT (system) DO NOTHING;
    UPDATE review_counts SET pending = pending + (CASE WHEN NEW.status IN ('open', 'claimed') THEN 1 ELSE -1 END)
        WHERE system = NEW.system;
END;
