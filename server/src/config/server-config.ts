/**
 * The server's configuration, read from the Worker environment (wrangler vars / secrets / `.dev.vars`), never
 * from code. Every name and default is here.
 */

import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  MAX_HEARTBEAT_INTERVAL_MS,
  MIN_HEARTBEAT_INTERVAL_MS,
} from '@vibestack/proto';
import { HEALTH_TOKEN_MIN_LENGTH, LOOPBACK_HOSTNAMES, MIN_JWT_SECRET_BYTES } from '../constants.ts';
import { createScopeConfig, type ScopeConfig } from '../core/scope/scope-config.ts';
import type { NeonDriverOptions, SqlDriverConfig } from '../db/sql-client.ts';
import type { ConfigEnv } from './config-env.ts';
import { ConfigError, shownValue } from './config-error.ts';
import { DEMO_SCOPES } from './demo-scopes.ts';
import { parseSyncScopes } from './sync-scopes.ts';

/** Replication and change-log settings. */
export interface ReplicationConfig {
  readonly publication: string;
  readonly slot: string;
  /** Rows per FETCH from the slot cursor. */
  readonly fetchSize: number;
  /** Rows one poll reads before it stops at the next commit. */
  readonly maxRowsPerPoll: number;
  /** Changes per stored chunk (bounds memory per transaction). */
  readonly chunkChanges: number;
  /** Poll interval right after activity, and the most it backs off to when idle, in ms. */
  readonly minPollIntervalMs: number;
  readonly maxPollIntervalMs: number;
  /** Change-log retention. */
  readonly retentionMaxBytes: number;
  readonly retentionMaxAgeMs: number;
}

/** Everything the Worker and its Durable Objects need. */
export interface ServerConfig {
  readonly databaseUrl: string | undefined;
  /** The driver (`DB_DRIVER`) with its settings (`NEON_*` for `neon`); pass it to `openSqlClient`. */
  readonly driver: SqlDriverConfig;
  /** HS256 secret for client tokens (`JWT_SECRET`); at least {@link MIN_JWT_SECRET_BYTES} outside dev. */
  readonly jwtSecret: string | undefined;
  /** The identity provider's JWKS (`JWKS_URL`) for RS256 / ES256 / EdDSA tokens. Sync refuses every token
   * when neither this nor {@link ServerConfig.jwtSecret} is set. */
  readonly jwksUrl: string | undefined;
  /** Required `iss` of every token (`JWT_ISSUER`), or none. */
  readonly jwtIssuer: string | undefined;
  /** Required `aud` of every token (`JWT_AUDIENCE`), or none. */
  readonly jwtAudience: string | undefined;
  /** Dev-only routes (token minting) are served, and `/health` details to anyone. Never set in production. */
  readonly dev: boolean;
  /** `HEALTH_TOKEN`: `Authorization: Bearer <it>` gets the details of `/health`. */
  readonly healthToken: string | undefined;
  readonly scope: ScopeConfig;
  readonly replication: ReplicationConfig;
  /** `Welcome.heartbeat_interval_ms` of every sync connection (docs/protocol.md §11), ms; 1 000–300 000. */
  readonly heartbeatIntervalMs: number;
  /** Initial syncs reading from the database at once (`SNAPSHOT_CONCURRENCY`), each on its own connection. */
  readonly snapshotConcurrency: number;
}

/** Default of {@link ServerConfig.snapshotConcurrency}: well below Postgres' default `max_connections` (100). */
export const DEFAULT_SNAPSHOT_CONCURRENCY = 16;

/** Defaults of {@link ReplicationConfig}. */
export const REPLICATION_DEFAULTS: ReplicationConfig = {
  publication: 'vibestack',
  slot: 'vibestack',
  fetchSize: 2_000,
  maxRowsPerPoll: 20_000,
  chunkChanges: 1_000,
  minPollIntervalMs: 10,
  maxPollIntervalMs: 1_000,
  retentionMaxBytes: 256 * 1024 * 1024,
  retentionMaxAgeMs: 7 * 24 * 3600 * 1000,
};

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new ConfigError(name, `must be a positive integer, got ${shownValue(value)}`);
  return n;
}

function intInRange(
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new ConfigError(name, `must be an integer within ${min}–${max}, got ${shownValue(value)}`);
  return n;
}

function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, `must be true or false, got ${shownValue(value)}`);
}

/**
 * The Neon driver's settings from `NEON_*`. All unset (the default) reaches Neon itself; a local WebSocket→TCP
 * relay in front of a plain Postgres needs `NEON_WS_PROXY=127.0.0.1:<port>/v2`, `NEON_USE_SECURE_WEBSOCKET=false`,
 * `NEON_PIPELINE_TLS=false` and `NEON_PIPELINE_CONNECT=false` (see server/README.md).
 */
function neonOptions(env: ConfigEnv): NeonDriverOptions {
  const useSecureWebSocket = flag(env.NEON_USE_SECURE_WEBSOCKET, 'NEON_USE_SECURE_WEBSOCKET');
  const pipelineTLS = flag(env.NEON_PIPELINE_TLS, 'NEON_PIPELINE_TLS');
  const connect = env.NEON_PIPELINE_CONNECT;
  if (connect !== undefined && connect !== '' && connect !== 'password' && connect !== 'false')
    throw new ConfigError('NEON_PIPELINE_CONNECT', `must be password or false, got ${shownValue(connect)}`);
  return {
    ...(env.NEON_WS_PROXY ? { wsProxy: env.NEON_WS_PROXY } : {}),
    ...(useSecureWebSocket === undefined ? {} : { useSecureWebSocket }),
    ...(pipelineTLS === undefined ? {} : { pipelineTLS }),
    ...(connect === 'password' ? { pipelineConnect: 'password' as const } : {}),
    ...(connect === 'false' ? { pipelineConnect: false as const } : {}),
  };
}

/** `HEALTH_TOKEN`, which must be long enough not to be guessed (its value is never shown). */
function healthToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length < HEALTH_TOKEN_MIN_LENGTH) {
    throw new ConfigError(
      'HEALTH_TOKEN',
      `must be at least ${HEALTH_TOKEN_MIN_LENGTH} characters (e.g. openssl rand -hex 32), got ${value.length}`,
    );
  }
  return value;
}

/**
 * `JWT_SECRET`, unset when empty. Outside dev it must have at least {@link MIN_JWT_SECRET_BYTES} bytes: an HS256
 * secret shorter than the hash output can be brute-forced offline from any one token (RFC 7518 §3.2). The
 * message names the variable and the length, never the value.
 */
function jwtSecret(value: string | undefined, dev: boolean): string | undefined {
  if (value === undefined || value === '') return undefined;
  const bytes = new TextEncoder().encode(value).length;
  if (!dev && bytes < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError(
      'JWT_SECRET',
      `is ${bytes} bytes long; it must be at least ${MIN_JWT_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`). Shorter secrets are accepted only in dev mode (VIBESTACK_DEV=1).`,
    );
  }
  return value;
}

/** `JWKS_URL`, unset when empty: an `https:` URL, or `http:` to a loopback host (a local identity provider). */
function jwksUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('JWKS_URL', `must be an absolute URL, got ${shownValue(value)}`);
  }
  const loopback = LOOPBACK_HOSTNAMES.includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(
      'JWKS_URL',
      `must be an https: URL (http: only for a loopback host), got ${shownValue(value)}`,
    );
  }
  return url.href;
}

/**
 * Reads the configuration from the environment.
 * @throws ConfigError on a malformed value, naming the setting in one line without its value when it is a
 * secret (a misconfiguration should fail loudly, not sync the wrong rows).
 */
export function loadServerConfig(env: ConfigEnv): ServerConfig {
  const scope = env.SYNC_SCOPES ? parseSyncScopes(env.SYNC_SCOPES) : createScopeConfig(DEMO_SCOPES);
  const driver = env.DB_DRIVER ?? 'pg';
  if (driver !== 'pg' && driver !== 'neon')
    throw new ConfigError('DB_DRIVER', `must be pg or neon, got ${shownValue(driver)}`);
  const dev = env.VIBESTACK_DEV === '1';
  return {
    databaseUrl: env.DATABASE_URL,
    driver: driver === 'neon' ? { name: driver, neon: neonOptions(env) } : { name: driver },
    jwtSecret: jwtSecret(env.JWT_SECRET, dev),
    jwksUrl: jwksUrl(env.JWKS_URL),
    jwtIssuer: env.JWT_ISSUER || undefined,
    jwtAudience: env.JWT_AUDIENCE || undefined,
    dev,
    healthToken: healthToken(env.HEALTH_TOKEN),
    scope,
    replication: {
      ...REPLICATION_DEFAULTS,
      publication: env.REPLICATION_PUBLICATION ?? REPLICATION_DEFAULTS.publication,
      slot: env.REPLICATION_SLOT ?? REPLICATION_DEFAULTS.slot,
      retentionMaxBytes: positiveInt(
        env.LOG_RETENTION_BYTES,
        REPLICATION_DEFAULTS.retentionMaxBytes,
        'LOG_RETENTION_BYTES',
      ),
      retentionMaxAgeMs: positiveInt(
        env.LOG_RETENTION_MS,
        REPLICATION_DEFAULTS.retentionMaxAgeMs,
        'LOG_RETENTION_MS',
      ),
    },
    heartbeatIntervalMs: intInRange(
      env.HEARTBEAT_INTERVAL_MS,
      DEFAULT_HEARTBEAT_INTERVAL_MS,
      MIN_HEARTBEAT_INTERVAL_MS,
      MAX_HEARTBEAT_INTERVAL_MS,
      'HEARTBEAT_INTERVAL_MS',
    ),
    snapshotConcurrency: intInRange(
      env.SNAPSHOT_CONCURRENCY,
      DEFAULT_SNAPSHOT_CONCURRENCY,
      1,
      1_000,
      'SNAPSHOT_CONCURRENCY',
    ),
  };
}
