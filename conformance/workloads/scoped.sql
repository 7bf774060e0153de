-- Rows moving into and out of one user's view: `notes` is scoped by its owner (the token's `sub` claim,
-- `conformance-user`), `folders` is shared. Notes are inserted for the user and for someone else, moved in by an
-- update of the owner, moved out by another, edited and deleted while out of view, and one moves in while its
-- large out-of-line value is unchanged (pgoutput marks it unchanged; the server fills it from the old row, which
-- REPLICA IDENTITY FULL logs whole).
CREATE TABLE folders (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE notes (id int PRIMARY KEY, owner text NOT NULL, folder_id int REFERENCES folders (id), body text, big text);
ALTER TABLE notes REPLICA IDENTITY FULL;
ALTER TABLE notes ALTER COLUMN big SET STORAGE EXTERNAL;
INSERT INTO folders VALUES (1, 'shared');
INSERT INTO notes (id, owner, folder_id, body) VALUES (1, 'conformance-user', 1, 'mine'), (2, 'other-user', 1, 'theirs'), (3, 'other-user', NULL, 'theirs too');
UPDATE notes SET owner = 'conformance-user' WHERE id = 2;
UPDATE notes SET owner = 'other-user' WHERE id = 1;
UPDATE notes SET body = 'edited while out of view' WHERE id = 1;
UPDATE notes SET big = (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) AS i) WHERE id = 3;
UPDATE notes SET owner = 'conformance-user' WHERE id = 3;
DELETE FROM notes WHERE id = 1;
BEGIN;
UPDATE notes SET owner = 'other-user', body = 'given away' WHERE id = 2;
INSERT INTO notes (id, owner, body) VALUES (4, 'conformance-user', 'new in the same transaction');
UPDATE folders SET name = 'shared (renamed)';
COMMIT;
