-- Runtime oversight (issue 8): the human review queue, incidents, public feedback, reported
-- outcomes and the alerts raised on them. Records are JSON, as elsewhere; `system` and
-- `status` are columns so that lists and rolling windows need no full scan of the JSON.

CREATE TABLE reviews (
    id             BIGINT PRIMARY KEY,
    system         TEXT NOT NULL,
    status         TEXT NOT NULL,
    decision_index BIGINT NOT NULL,
    record         TEXT NOT NULL
);
CREATE INDEX reviews_status ON reviews (status, id);

CREATE TABLE incidents (
    id     BIGINT PRIMARY KEY,
    system TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL
);

CREATE TABLE feedback (
    id     BIGINT PRIMARY KEY,
    system TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX feedback_system ON feedback (system, id);

CREATE TABLE outcomes (
    id     BIGINT PRIMARY KEY,
    system TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX outcomes_system ON outcomes (system, id);

CREATE TABLE alerts (
    id     BIGINT PRIMARY KEY,
    system TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX alerts_system ON alerts (system, id);
