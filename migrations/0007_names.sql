-- How the accounting system shows each record (a customer's display name, else first and
-- last name; an invoice's number) and a customer's email as the export writes it, so that
-- `failures` and `show` name records as a bookkeeper finds them.
ALTER TABLE records ADD COLUMN name TEXT;
ALTER TABLE records ADD COLUMN email TEXT;
