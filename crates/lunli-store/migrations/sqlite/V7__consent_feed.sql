-- Consents are applied by gateways one change at a time (issue 15): every change gets the next
-- sequence number, and a gateway reads only the changes after the last one it applied, instead
-- of reloading every consent whenever one changes. So a consent change no longer bumps the
-- runtime version (which makes gateways reload systems, suspensions and keys).
DROP TRIGGER consents_ins;
DROP TRIGGER consents_upd;
ALTER TABLE consents ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE consents SET seq = rowid;
CREATE UNIQUE INDEX consents_seq ON consents (seq);
