import type { TableScope } from '../core/scope/scope-config.ts';

/**
 * Which demo tables sync and who sees what (the default when `SYNC_SCOPES` is not set): users are shared but
 * their password hash never leaves the server; a user sees the projects they own, the tasks assigned to them
 * and the comments they wrote. (Relation-based scopes — "tasks of my projects" — are a later issue.)
 */
export const DEMO_SCOPES: readonly TableScope[] = [
  { table: 'public.users', rule: { kind: 'shared' }, serverOnlyColumns: ['password_hash'] },
  { table: 'public.projects', rule: { kind: 'claim', column: 'owner_id', claim: 'sub' } },
  { table: 'public.tasks', rule: { kind: 'claim', column: 'assignee_id', claim: 'sub' } },
  { table: 'public.comments', rule: { kind: 'claim', column: 'author_id', claim: 'sub' } },
];
