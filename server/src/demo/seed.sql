-- VibeStack demo rows: 3 users, 4 projects, 48 tasks, 32 comments. Deterministic (ids are md5-derived UUIDs,
-- timestamps fixed) so tests and demos can name rows. Run once, on an empty `users` table: applyDemoSchema()
-- checks that inside the same transaction.

INSERT INTO users (id, email, display_name, password_hash, avatar, is_admin, settings, created_at) VALUES
  ('00000000-0000-4000-8000-00000000000a', 'alice@example.com', 'Alice',
   'demo-not-a-real-hash:alice', decode('89504e47', 'hex'), true,
   '{"theme": "dark", "notifications": {"email": true}}', '2025-01-01T09:00:00Z'),
  ('00000000-0000-4000-8000-00000000000b', 'bob@example.com', 'Bob',
   'demo-not-a-real-hash:bob', NULL, false,
   '{"theme": "light"}', '2025-01-02T09:00:00Z'),
  ('00000000-0000-4000-8000-00000000000c', 'carol@example.com', 'Carol',
   'demo-not-a-real-hash:carol', NULL, false,
   '{}', '2025-01-03T09:00:00Z');

INSERT INTO projects (id, owner_id, name, description, budget, is_archived, tags, starts_on, view_count, created_at)
SELECT
  md5('project-' || p)::uuid,
  (ARRAY['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000a',
         '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c'])[p]::uuid,
  (ARRAY['Website relaunch', 'Mobile app', 'Data warehouse', 'Office move'])[p],
  'Demo project ' || p,
  (ARRAY[12500.00, 98000.50, 250000.99, 4300.25])[p]::numeric(12, 2),
  p = 4,
  CASE p WHEN 1 THEN ARRAY['web', 'marketing'] WHEN 2 THEN ARRAY['mobile', 'ios']
         WHEN 3 THEN ARRAY['data', 'sql'] ELSE ARRAY['ops', 'facilities'] END,
  DATE '2025-02-01' + (p * 14),
  p::bigint * 3000000000,
  TIMESTAMPTZ '2025-01-10T08:00:00Z' + make_interval(days => p)
FROM generate_series(1, 4) AS p;

INSERT INTO tasks (id, project_id, assignee_id, title, notes, status, priority, estimate_hours, sort_key, due_on,
                   labels, metadata, attachment, created_at, updated_at)
SELECT
  md5('task-' || t)::uuid,
  md5('project-' || ((t - 1) % 4 + 1))::uuid,
  CASE WHEN t % 7 = 0 THEN NULL
       ELSE (ARRAY['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b',
                   '00000000-0000-4000-8000-00000000000c'])[(t - 1) % 3 + 1]::uuid END,
  'Task ' || t,
  CASE WHEN t % 5 = 0 THEN NULL ELSE 'Notes for task ' || t || E' — ünïcödé ✓' END,
  (ARRAY['todo', 'in_progress', 'blocked', 'done'])[(t - 1) % 4 + 1]::task_status,
  t % 4,
  CASE WHEN t % 6 = 0 THEN NULL ELSE t * 0.75 END,
  t::bigint * 1024,
  CASE WHEN t % 3 = 0 THEN NULL ELSE DATE '2025-03-01' + t END,
  CASE WHEN t % 2 = 0 THEN ARRAY['even', 'demo'] ELSE ARRAY['demo'] END,
  jsonb_build_object('points', t % 5, 'source', 'demo', 'checklist', jsonb_build_array(t, t + 1)),
  CASE WHEN t % 10 = 0 THEN decode(md5('attachment-' || t), 'hex') ELSE NULL END,
  TIMESTAMPTZ '2025-02-01T10:00:00Z' + make_interval(hours => t),
  TIMESTAMPTZ '2025-02-01T10:00:00Z' + make_interval(hours => t * 2)
FROM generate_series(1, 48) AS t;

INSERT INTO comments (id, task_id, author_id, body, is_edited, created_at)
SELECT
  md5('comment-' || t || '-' || n)::uuid,
  md5('task-' || t)::uuid,
  (ARRAY['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b',
         '00000000-0000-4000-8000-00000000000c'])[(t + n) % 3 + 1]::uuid,
  'Comment ' || n || ' on task ' || t,
  n = 2,
  TIMESTAMPTZ '2025-02-02T12:00:00Z' + make_interval(hours => t, mins => n)
FROM generate_series(1, 48) AS t, generate_series(1, 2) AS n
WHERE t % 3 = 0;
