/**
 * Per-user visibility (docs/protocol.md §8.4 "Scope"): which tables are synced, which rows and columns each
 * user sees, and how a logged change looks to one user.
 */

export type { ClaimRule, ScopeConfig, ScopeRule, SharedRule, TableScope } from './scope-config.ts';
export {
  createScopeConfig,
  qualifiedName,
  requiresReplicaIdentityFull,
  splitQualifiedName,
  tableScopeOf,
} from './scope-config.ts';
export type { ScopedShape } from './scoped-shape.ts';
export { scopeShape } from './scoped-shape.ts';
export type { ClientChange, ScopedShapeLookup } from './transform-change.ts';
export { resolveRowFetch, transformChange } from './transform-change.ts';
export type { Claims, RowVisibility } from './visibility.ts';
export { claimText, datumVisibility, rowVisibility, rowVisible, visibleColumns } from './visibility.ts';
