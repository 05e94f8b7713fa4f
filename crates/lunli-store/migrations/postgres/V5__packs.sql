-- Norm packs (Art. 24) activated for the organisation: each with its files, so that every
-- command layers exactly what was checked and activated, in activation order (`seq`).
-- Activating a new version of a pack replaces it in place.

CREATE TABLE packs (
    id     TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,
    record TEXT NOT NULL
);
