-- Invoices (SPEC §9) share the outbox with customers: each row has its kind; an invoice can
-- wait for its customer or be cancelled; an update or cancel BlueTape refused is flagged
-- with its reason until the source changes the invoice. SQLite cannot change a CHECK, so the
-- table is rebuilt. Its CHECKs compare with `=`: SQLite codes an `IN` list of constants as a
-- lookup that made a large first pass's inserts measurably slower (BENCHMARKS.md).
CREATE TABLE records_new (
    source              TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    kind                TEXT    NOT NULL DEFAULT 'customer'
        CHECK (kind = 'customer' OR kind = 'invoice'),
    state               TEXT    NOT NULL
        CHECK (state = 'pending' OR state = 'created' OR state = 'exists'
               OR state = 'rejected' OR state = 'failed' OR state = 'waiting'
               OR state = 'cancelled'),
    source_modified_ms  INTEGER,
    body                TEXT,
    content_hash        TEXT,
    reason              TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_status         INTEGER,
    next_attempt_ms     INTEGER,
    blue_tape_id        TEXT,
    sign_up_url         TEXT,
    done_at_ms          INTEGER,
    first_seen_pass     INTEGER NOT NULL,
    staged_pass         INTEGER,
    changed_pass        INTEGER,
    updated_at_ms       INTEGER NOT NULL,
    update_pending      INTEGER NOT NULL DEFAULT 0,
    -- An invoice's customer: the id of a customer record.
    customer_id         TEXT,
    -- An invoice BlueTape has that the export now marks void or deleted.
    cancel_pending      INTEGER NOT NULL DEFAULT 0,
    -- 'update' or 'cancel': BlueTape refused it, for refused_reason; not tried again until
    -- the source changes the record.
    refused             TEXT    CHECK (refused = 'update' OR refused = 'cancel'),
    refused_reason      TEXT,
    PRIMARY KEY (source, id)
) WITHOUT ROWID;

INSERT INTO records_new (source, id, state, source_modified_ms, body, content_hash, reason,
                         attempts, last_status, next_attempt_ms, blue_tape_id, sign_up_url,
                         done_at_ms, first_seen_pass, staged_pass, changed_pass, updated_at_ms,
                         update_pending)
SELECT source, id, state, source_modified_ms, body, content_hash, reason, attempts,
       last_status, next_attempt_ms, blue_tape_id, sign_up_url, done_at_ms, first_seen_pass,
       staged_pass, changed_pass, updated_at_ms, update_pending
FROM records;

DROP TABLE records;
ALTER TABLE records_new RENAME TO records;

CREATE INDEX records_queue ON records (source, state, source_modified_ms, id);
CREATE INDEX records_updates ON records (source, source_modified_ms, id) WHERE update_pending = 1;
CREATE INDEX records_cancels ON records (source, source_modified_ms, id) WHERE cancel_pending = 1;
-- Invoices waiting for a customer, found when it is created.
CREATE INDEX records_waiting ON records (source, customer_id) WHERE state = 'waiting';

-- Each pass's invoice counts (SPEC §9's summary line).
ALTER TABLE passes ADD COLUMN invoices_created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE passes ADD COLUMN invoices_exists INTEGER NOT NULL DEFAULT 0;
ALTER TABLE passes ADD COLUMN invoices_updated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE passes ADD COLUMN invoices_cancelled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE passes ADD COLUMN invoices_waiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE passes ADD COLUMN invoices_rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE passes ADD COLUMN invoices_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE passes ADD COLUMN invoices_left_out INTEGER NOT NULL DEFAULT 0;
