-- What happened to each record, in order: for `show --id`.
--   kind: queued, rejected, changed_upstream (staging), attempt (one request), retry, forget
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    record_id   TEXT    NOT NULL,
    pass_id     INTEGER,
    at_ms       INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    status      INTEGER,
    outcome     TEXT,
    reason      TEXT
);
CREATE INDEX events_by_record ON events (source, record_id, seq);

-- Small facts shared between processes: the daemon's next pass, a full read asked for by
-- `retry` or `forget`.
CREATE TABLE settings (
    source  TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (source, key)
);
