-- Each export file as it was when a pass last read it whole, and the settings it was read
-- with: a file whose size, times and inode are the same, read with the same settings, cannot
-- have changed and is not opened again (SPEC §3). Written in the transaction that moves the
-- watermark.
CREATE TABLE files (
    source       TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    len          INTEGER NOT NULL,
    modified_ns  INTEGER NOT NULL,
    changed_ns   INTEGER NOT NULL,
    inode        INTEGER NOT NULL,
    reading      TEXT    NOT NULL,
    read_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (source, path)
);
