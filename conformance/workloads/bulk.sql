-- Many rows and a large one: 300 rows in one table (enough snapshot chunks for a client to stage some before an
-- interruption, so that it can resume the snapshot from them), a row with a 40 kB value stored out of line, then
-- a transaction of 300 updates and one that deletes half the rows.
CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL, payload text);
ALTER TABLE items ALTER COLUMN payload SET STORAGE EXTERNAL;
INSERT INTO items (id, label) SELECT i, 'item ' || i FROM generate_series(1, 300) AS i;
UPDATE items SET payload = (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 1250) AS i) WHERE id = 7;
UPDATE items SET label = label || ' (v2)';
DELETE FROM items WHERE id % 2 = 0;
