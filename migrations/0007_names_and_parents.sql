-- How the accounting system shows each record (a customer's display name, else first and
-- last name; an invoice's number) and a customer's email as the export writes it, so that
-- `failures` and `show` name records as a bookkeeper finds them.
ALTER TABLE records ADD COLUMN name TEXT;
ALTER TABLE records ADD COLUMN email TEXT;

-- The customer each sub-customer (a QuickBooks job) belongs to, from the customer export:
-- an invoice billed to a job goes to BlueTape under its top-level customer.
CREATE TABLE parents (
    source      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    parent_id   TEXT    NOT NULL,
    PRIMARY KEY (source, id)
) WITHOUT ROWID;
