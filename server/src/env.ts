/**
 * The Worker's environment bindings. Values come from `wrangler.jsonc` `vars`, `.dev.vars` / `--var` in local
 * development, or `wrangler secret put` in production; connection settings are never written in code.
 */
import type { ConfigEnv } from './config/config-env.ts';

export type { ConfigEnv } from './config/config-env.ts';

/** Everything the Worker gets: configuration plus the Durable Object namespaces. */
export interface Env extends ConfigEnv {
  readonly REPLICATION: DurableObjectNamespace<import('./do/replication-do.ts').ReplicationDO>;
  readonly SYNC: DurableObjectNamespace<import('./do/sync-do.ts').SyncDO>;
}

/** Hono environment type of the Worker app. */
export interface AppEnv {
  readonly Bindings: Env;
}
