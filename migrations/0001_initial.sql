-- The outbox: one row per customer id per source, with its state (SPEC §4).
CREATE TABLE records (
    source              TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    state               TEXT    NOT NULL
        CHECK (state IN ('pending', 'created', 'exists', 'rejected', 'failed')),
    -- sourceModifiedDate in milliseconds since the epoch; NULL when it could not be read.
    source_modified_ms  INTEGER,
    -- The API body to send (JSON), for pending and failed records.
    body                TEXT,
    -- Digest of the raw record, to notice a change in a record that has no usable date.
    content_hash        TEXT,
    reason              TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_status         INTEGER,
    next_attempt_ms     INTEGER,
    blue_tape_id        TEXT,
    sign_up_url         TEXT,
    -- When it became created/exists.
    done_at_ms          INTEGER,
    first_seen_pass     INTEGER NOT NULL,
    -- The pass that last queued or rejected it, and the pass that last saw it change after
    -- it was created.
    staged_pass         INTEGER,
    changed_pass        INTEGER,
    updated_at_ms       INTEGER NOT NULL,
    PRIMARY KEY (source, id)
) WITHOUT ROWID;

CREATE INDEX records_queue ON records (source, state, source_modified_ms, id);

-- The greatest sourceModifiedDate seen in a finished read of each source.
CREATE TABLE watermarks (
    source      TEXT    PRIMARY KEY,
    value_ms    INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

-- One row per pass, for `status` and for answering "what happened when".
CREATE TABLE passes (
    id                INTEGER PRIMARY KEY,
    source            TEXT    NOT NULL,
    started_at_ms     INTEGER NOT NULL,
    finished_at_ms    INTEGER,
    -- running, ok, rejected, unavailable, unauthorized, endpoint, source_error, interrupted
    outcome           TEXT    NOT NULL,
    full              INTEGER NOT NULL DEFAULT 0,
    read              INTEGER NOT NULL DEFAULT 0,
    new               INTEGER NOT NULL DEFAULT 0,
    created           INTEGER NOT NULL DEFAULT 0,
    "exists"          INTEGER NOT NULL DEFAULT 0,
    rejected          INTEGER NOT NULL DEFAULT 0,
    failed            INTEGER NOT NULL DEFAULT 0,
    changed_upstream  INTEGER NOT NULL DEFAULT 0,
    message           TEXT
);
