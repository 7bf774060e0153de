-- Live changes on three tables: inserts, updates (a primary-key change, an unchanged out-of-line TOAST value),
-- deletes, a delete and re-insert of one key in one transaction, one transaction over three tables, a
-- transaction with no row changes (a logical message only), a transaction begun before another but committed
-- after it, an update of every row, and a truncate.
CREATE TABLE projects (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE tasks (
  id int PRIMARY KEY,
  project_id bigint REFERENCES projects (id),
  title text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  notes text
);
-- Out of line and uncompressed: an update that leaves `notes` alone sends it as unchanged ('u').
ALTER TABLE tasks ALTER COLUMN notes SET STORAGE EXTERNAL;
CREATE TABLE tags (task_id int, tag text, PRIMARY KEY (task_id, tag));

INSERT INTO projects VALUES (1, 'Home'), (2, 'Work');
INSERT INTO tasks (id, project_id, title) VALUES (1, 1, 'Buy milk'), (2, 1, 'Call Ana'), (3, 2, 'File taxes');
UPDATE tasks SET done = true WHERE id = 2;
UPDATE tasks SET id = 20 WHERE id = 2;
UPDATE tasks SET notes = repeat('a long note ', 300) WHERE id = 1;
UPDATE tasks SET title = 'Buy oat milk' WHERE id = 1;
BEGIN;
DELETE FROM tasks WHERE id = 3;
INSERT INTO tasks (id, project_id, title) VALUES (3, 2, 'File taxes again');
COMMIT;
BEGIN;
INSERT INTO projects VALUES (3, 'Garden');
INSERT INTO tasks (id, project_id, title, notes) VALUES (4, 3, 'Plant tulips', '');
INSERT INTO tags VALUES (4, 'spring'), (4, 'outdoor'), (1, 'shopping');
COMMIT;
SELECT pg_logical_emit_message(true, 'vibestack/conformance', 'no row changes');
-- @session late
BEGIN;
UPDATE projects SET name = 'Work (old)' WHERE id = 2;
-- @session main
DELETE FROM tags WHERE task_id = 4 AND tag = 'outdoor';
-- @session late
COMMIT;
-- @session main
UPDATE tasks SET done = NOT done;
DELETE FROM tasks WHERE id = 20;
TRUNCATE tags;
INSERT INTO tags VALUES (1, 'again');
