-- Customers changed upstream after they were created, waiting to be sent as an update
-- ([sync] updates = true).
ALTER TABLE records ADD COLUMN update_pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX records_updates ON records (source, source_modified_ms, id) WHERE update_pending = 1;

ALTER TABLE passes ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE passes ADD COLUMN inactive INTEGER NOT NULL DEFAULT 0;
