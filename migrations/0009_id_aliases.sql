-- Records an API knows by other ids than the store (SPEC §11): a store moved from Xero's CSV
-- export (ids from AccountNumber, else the contact's name) to Xero's API (ContactID) keeps its
-- ids, which BlueTape knows, and reads each contact's ContactID as the id it was sent under.
CREATE TABLE id_aliases (
    source  TEXT NOT NULL,
    api_id  TEXT NOT NULL,
    id      TEXT NOT NULL,
    PRIMARY KEY (source, api_id)
);
CREATE UNIQUE INDEX id_aliases_by_id ON id_aliases (source, id);
