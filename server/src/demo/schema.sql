-- VibeStack demo schema: users, projects, tasks, comments.
--
-- Idempotent: every statement can run again on a database that already has the schema. It covers the column
-- types the sync engine must carry: uuid, bigint, integer, numeric(12,2), boolean, text, varchar, timestamptz,
-- date, jsonb, text[], an enum, bytea and double precision. No publication here: the replication code owns that.

DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typname = 'task_status' AND n.nspname = current_schema()
  ) THEN
    CREATE TYPE task_status AS ENUM ('todo', 'in_progress', 'blocked', 'done');
  END IF;
END
$$;

CREATE TABLE IF NOT EXISTS users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email          varchar(254) NOT NULL UNIQUE,
  display_name   text NOT NULL,
  -- SERVER-ONLY: password_hash must never leave the server (never synced to clients, never in an API answer).
  password_hash  text NOT NULL,
  avatar         bytea,
  is_admin       boolean NOT NULL DEFAULT false,
  settings       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now()
);

COMMENT ON COLUMN users.password_hash IS 'server-only: never leaves the server';

CREATE TABLE IF NOT EXISTS projects (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         varchar(120) NOT NULL,
  description  text,
  budget       numeric(12, 2),
  is_archived  boolean NOT NULL DEFAULT false,
  tags         text[] NOT NULL DEFAULT '{}',
  starts_on    date,
  view_count   bigint NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS projects_owner_id_idx ON projects (owner_id);

CREATE TABLE IF NOT EXISTS tasks (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id      uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  assignee_id     uuid REFERENCES users (id) ON DELETE SET NULL,
  title           varchar(200) NOT NULL,
  notes           text,
  status          task_status NOT NULL DEFAULT 'todo',
  priority        integer NOT NULL DEFAULT 0,
  estimate_hours  double precision,
  sort_key        bigint NOT NULL,
  due_on          date,
  labels          text[] NOT NULL DEFAULT '{}',
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  attachment      bytea,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS tasks_project_id_idx ON tasks (project_id);
CREATE INDEX IF NOT EXISTS tasks_assignee_id_idx ON tasks (assignee_id);

CREATE TABLE IF NOT EXISTS comments (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id     uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  author_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  body        text NOT NULL,
  is_edited   boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS comments_task_id_idx ON comments (task_id);
