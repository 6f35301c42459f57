-- A link to an accounting system's API (SPEC §11): the company it reads, and its OAuth tokens.
-- Both providers rotate refresh tokens: the one before the last refresh is kept until its
-- grace period ends, for a refresh whose answer was lost.
CREATE TABLE connections (
    provider                TEXT    PRIMARY KEY,
    company_id              TEXT    NOT NULL,
    company_name            TEXT,
    access_token            TEXT    NOT NULL,
    access_expires_ms       INTEGER NOT NULL,
    refresh_token           TEXT,
    refresh_expires_ms      INTEGER,
    previous_refresh_token  TEXT,
    previous_until_ms       INTEGER,
    linked_at_ms            INTEGER NOT NULL,
    refreshed_at_ms         INTEGER NOT NULL
);
