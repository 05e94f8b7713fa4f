-- Indexes for the keyset-paged lists' filters: incidents by status (the unresolved ones) and by
-- system, reviews by system. Each ends in id, the key pages continue after.
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_system ON incidents (system, id);
CREATE INDEX reviews_system ON reviews (system, id);
