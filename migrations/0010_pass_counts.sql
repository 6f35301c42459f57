-- What each pass counted, one row per kind of record it carried (a lane), instead of a set
-- of columns per kind on `passes`: a new kind of record needs no new columns. The counts
-- of passes already kept are carried over, then their columns dropped.
CREATE TABLE pass_counts (
    pass              INTEGER NOT NULL,
    kind              TEXT    NOT NULL,
    read              INTEGER NOT NULL DEFAULT 0,
    new               INTEGER NOT NULL DEFAULT 0,
    created           INTEGER NOT NULL DEFAULT 0,
    "exists"          INTEGER NOT NULL DEFAULT 0,
    rejected          INTEGER NOT NULL DEFAULT 0,
    failed            INTEGER NOT NULL DEFAULT 0,
    changed_upstream  INTEGER NOT NULL DEFAULT 0,
    updated           INTEGER NOT NULL DEFAULT 0,
    inactive          INTEGER NOT NULL DEFAULT 0,
    future            INTEGER NOT NULL DEFAULT 0,
    cancelled         INTEGER NOT NULL DEFAULT 0,
    waiting           INTEGER NOT NULL DEFAULT 0,
    refused           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pass, kind)
) WITHOUT ROWID;

-- `future` was kept for the whole pass: it stays with the customers' counts.
INSERT INTO pass_counts (pass, kind, read, new, created, "exists", rejected, failed,
                         changed_upstream, updated, inactive, future)
SELECT id, 'customer', read, new, created, "exists", rejected, failed, changed_upstream,
       updated, inactive, future
FROM passes WHERE outcome != 'running';

INSERT INTO pass_counts (pass, kind, created, "exists", updated, cancelled, waiting, rejected,
                         failed, inactive)
SELECT id, 'invoice', invoices_created, invoices_exists, invoices_updated, invoices_cancelled,
       invoices_waiting, invoices_rejected, invoices_failed, invoices_left_out
FROM passes
WHERE outcome != 'running'
  AND invoices_created + invoices_exists + invoices_updated + invoices_cancelled
      + invoices_waiting + invoices_rejected + invoices_failed + invoices_left_out > 0;

ALTER TABLE passes DROP COLUMN read;
ALTER TABLE passes DROP COLUMN new;
ALTER TABLE passes DROP COLUMN created;
ALTER TABLE passes DROP COLUMN "exists";
ALTER TABLE passes DROP COLUMN rejected;
ALTER TABLE passes DROP COLUMN failed;
ALTER TABLE passes DROP COLUMN changed_upstream;
ALTER TABLE passes DROP COLUMN updated;
ALTER TABLE passes DROP COLUMN inactive;
ALTER TABLE passes DROP COLUMN future;
ALTER TABLE passes DROP COLUMN invoices_created;
ALTER TABLE passes DROP COLUMN invoices_exists;
ALTER TABLE passes DROP COLUMN invoices_updated;
ALTER TABLE passes DROP COLUMN invoices_cancelled;
ALTER TABLE passes DROP COLUMN invoices_waiting;
ALTER TABLE passes DROP COLUMN invoices_rejected;
ALTER TABLE passes DROP COLUMN invoices_failed;
ALTER TABLE passes DROP COLUMN invoices_left_out;
