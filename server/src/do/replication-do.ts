/**
 * ReplicationDO — one per database: owns the replication slot and the durable change log (in its SQLite
 * storage), polls pgoutput with alarms (at once while there is a backlog, backing off when idle, poked by
 * SyncDOs), and fans committed transactions out to the SyncDOs that subscribed. All decisions are in the core
 * (`core/pgoutput`, `core/log`) and `replication/replication-pump.ts`; this class only schedules and wires.
 */

import { DurableObject } from 'cloudflare:workers';
import { formatLsn } from '@vibestack/proto';
import { loadServerConfig, type ServerConfig } from '../config/server-config.ts';
import {
  ACTIVE_WINDOW_MS,
  FANOUT_MAX_TRANSACTIONS,
  HEALTH_CACHE_MS,
  LOG_READ_MAX_CHUNKS,
  REPLICATION_DO_TABLES,
} from '../constants.ts';
import { ChangeLog, type LogContinuation } from '../core/log/change-log.ts';
import { requiresReplicaIdentityFull, splitQualifiedName } from '../core/scope/scope-config.ts';
import { quoteTable } from '../db/quote.ts';
import { ensureReplicationSetup, slotStatus } from '../db/setup.ts';
import { openSqlClient, type SqlClient } from '../db/sql-client.ts';
import type { Env } from '../env.ts';
import { createCachedProbe } from '../health/cached-probe.ts';
import { probeDatabase } from '../health/database-probe.ts';
import type { ReplicationHealth, ReplicationProbe, SlotState } from '../health/replication-health.ts';
import { pumpReplication } from '../replication/replication-pump.ts';
import { durableSqlPort } from './durable-sql.ts';
import { type LogPositions, type RawLogBatch, toRawLogBatch } from './log-batch.ts';

const lsnText = (lsn: bigint | null | undefined) =>
  lsn === null || lsn === undefined ? null : formatLsn(lsn);

export class ReplicationDO extends DurableObject<Env> {
  readonly #config: ServerConfig;
  #client: SqlClient | undefined;
  #log: ChangeLog | undefined;
  #pollIntervalMs: number;
  #lastPollAt: number | null = null;
  #lastError: string | null = null;
  #lagMs: number | null = null;
  #notifiedHead = 0n;
  #lastActivityAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = loadServerConfig(env);
    this.#pollIntervalMs = this.#config.replication.minPollIntervalMs;
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${REPLICATION_DO_TABLES.subscribers} (name TEXT PRIMARY KEY)`,
    );
  }

  async #db(): Promise<SqlClient> {
    if (!this.#client) {
      const url = this.#config.databaseUrl;
      if (!url) throw new Error('DATABASE_URL is not configured');
      this.#client = await openSqlClient(url, this.#config.driver);
    }
    return this.#client;
  }

  async #dropClient(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }

  /** Sets up publication and slot (idempotently) and opens the log; restarts the log when the slot was lost. */
  async #ensureLog(): Promise<ChangeLog> {
    if (this.#log) return this.#log;
    const client = await this.#db();
    const { replication, scope } = this.#config;
    const status = await slotStatus(client, replication.slot);
    if (status.exists && status.lost) {
      await client.query('SELECT pg_catalog.pg_drop_replication_slot($1)', [replication.slot]);
    }
    for (const table of requiresReplicaIdentityFull(scope)) {
      // Scope moves need the old row of every UPDATE (see requiresReplicaIdentityFull). Names come from config.
      await client.query(`ALTER TABLE ${quoteTable(splitQualifiedName(table))} REPLICA IDENTITY FULL`);
    }
    const setup = await ensureReplicationSetup(client, {
      publication: replication.publication,
      slot: replication.slot,
      tables: scope.tables.map((t) => splitQualifiedName(t.table)),
    });
    const port = durableSqlPort(this.ctx.storage);
    const existed = ChangeLog.exists(port);
    const log = ChangeLog.open(port, setup.slotConfirmedLsn);
    // A new slot under an existing log: the old slot's undelivered changes are gone — everyone re-syncs.
    if (setup.created && existed) {
      log.restartAt(setup.slotConfirmedLsn);
    }
    this.#log = log;
    this.#notifiedHead = log.head();
    return log;
  }

  /** One poll; returns the delay before the next one. */
  async #poll(): Promise<number> {
    const { replication } = this.#config;
    try {
      const log = await this.#ensureLog();
      const client = await this.#db();
      const result = await pumpReplication(client, log, {
        slot: replication.slot,
        publication: replication.publication,
        fetchSize: replication.fetchSize,
        maxRows: replication.maxRowsPerPoll,
        chunkChanges: replication.chunkChanges,
        nowMs: Date.now,
      });
      this.#lastPollAt = Date.now();
      this.#lastError = null;
      log.enforceRetention(
        { maxBytes: replication.retentionMaxBytes, maxAgeMs: replication.retentionMaxAgeMs },
        Date.now(),
      );
      if (log.head() > this.#notifiedHead) {
        // Also when only the head moved (no transaction for anyone): sessions waiting for the log to reach a
        // snapshot's LSN, or sending Progress, need to know. The new transactions travel with the notification
        // (read once here), so live sessions need no read of their own.
        const batch = this.#read(log, this.#notifiedHead, FANOUT_MAX_TRANSACTIONS);
        this.#notifiedHead = log.head();
        // Not awaited: the next poll must not wait for the slowest SyncDO. A push that arrives out of order or
        // is lost only makes that session read the log itself.
        this.ctx.waitUntil(this.#notifySubscribers(batch));
      }
      if (result.transactions > 0) {
        const newest = log.transactionsAfter(log.head() - 1n, 1)[0];
        if (newest) this.#lagMs = Date.now() - Number(newest.commitTimeUs / 1000n);
        this.#lastActivityAt = Date.now();
      }
      // Stay at the fastest rate for a while after activity (writes come in bursts), then back off.
      this.#pollIntervalMs =
        Date.now() - this.#lastActivityAt < ACTIVE_WINDOW_MS
          ? replication.minPollIntervalMs
          : Math.min(this.#pollIntervalMs * 2, replication.maxPollIntervalMs);
      return result.caughtUp ? this.#pollIntervalMs : 0;
    } catch (error) {
      this.#lastError = error instanceof Error ? error.message : String(error);
      console.error('replication poll failed', error);
      await this.#dropClient();
      this.#log = undefined;
      return replication.maxPollIntervalMs;
    }
  }

  async #notifySubscribers(batch: RawLogBatch): Promise<void> {
    const names = this.ctx.storage.sql
      .exec<{ name: string }>(`SELECT name FROM ${REPLICATION_DO_TABLES.subscribers}`)
      .toArray()
      .map((r) => r.name);
    await Promise.all(
      names.map(async (name) => {
        const stub = this.env.SYNC.get(this.env.SYNC.idFromName(name));
        const alive = await stub.notify(batch).catch(() => false);
        if (!alive) this.unsubscribe(name);
      }),
    );
  }

  override async alarm(): Promise<void> {
    const delay = await this.#poll();
    await this.ctx.storage.setAlarm(Date.now() + delay);
  }

  /** Makes sure the poll loop runs; with `now`, polls as soon as possible. */
  async poke(now = true): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || (now && current > Date.now())) {
      this.#pollIntervalMs = this.#config.replication.minPollIntervalMs;
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  /** A SyncDO wants `notify(head)` calls after new transactions. */
  subscribe(name: string): void {
    this.ctx.storage.sql.exec(
      `INSERT OR IGNORE INTO ${REPLICATION_DO_TABLES.subscribers} (name) VALUES (?)`,
      name,
    );
  }

  unsubscribe(name: string): void {
    this.ctx.storage.sql.exec(`DELETE FROM ${REPLICATION_DO_TABLES.subscribers} WHERE name = ?`, name);
  }

  /** The log's head and floor (starting replication if it is not running yet). */
  async positions(): Promise<LogPositions> {
    await this.poke(false);
    const log = await this.#ensureLog();
    return { head: log.head(), floor: log.floor() };
  }

  /** Where a snapshot with this xmin must start its handoff replay (see ChangeLog.replayStartForSnapshot). */
  async replayStart(xmin32: number): Promise<bigint> {
    const log = await this.#ensureLog();
    return log.replayStartForSnapshot(xmin32);
  }

  /**
   * Up to `limit` committed transactions after `afterLsn` (continuing `continueAt` first), at most
   * LOG_READ_MAX_CHUNKS chunks in all: a larger transaction comes in parts. Encoded for RPC.
   */
  async readLog(afterLsn: bigint, limit: number, continueAt?: LogContinuation): Promise<RawLogBatch> {
    return this.#read(await this.#ensureLog(), afterLsn, limit, continueAt);
  }

  #read(log: ChangeLog, afterLsn: bigint, limit: number, continueAt?: LogContinuation): RawLogBatch {
    const read = log.readBatch(
      afterLsn,
      { maxTransactions: limit, maxChunks: LOG_READ_MAX_CHUNKS },
      continueAt,
    );
    return toRawLogBatch(read, log.shapes());
  }

  /** The database probe of `health()`, on this object's connection, at most once per HEALTH_CACHE_MS. */
  readonly #healthProbe = createCachedProbe(HEALTH_CACHE_MS, async () => {
    // Read before the probe: a log that existed then was started from a slot, so an absent slot was lost. (A
    // log created during the probe belongs to a slot created after it: not created yet, rather than missing.)
    const logExisted = this.#log !== undefined || ChangeLog.exists(durableSqlPort(this.ctx.storage));
    return { logExisted, ...(await probeDatabase(() => this.#db(), this.#config.replication.slot)) };
  });

  /**
   * Database reachability (probed on this object's long-lived connection, cached HEALTH_CACHE_MS), the slot's
   * state and the change log (read fresh from storage), for `/health`.
   */
  async health(): Promise<ReplicationProbe> {
    await this.poke(false);
    const { database, slot, logExisted } = await this.#healthProbe.get();
    const slotState: SlotState =
      slot === null
        ? 'unknown'
        : !slot.exists
          ? logExisted
            ? 'missing'
            : 'not_created'
          : slot.lost
            ? 'lost'
            : 'ok';
    const stats = this.#log?.stats();
    const subscribers = this.ctx.storage.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM ${REPLICATION_DO_TABLES.subscribers}`)
      .one().n;
    const replication: ReplicationHealth = {
      status: this.#lastError ? 'error' : this.#log ? 'ok' : 'starting',
      slot: slotState,
      lastDurableLsn: lsnText(stats?.head),
      slotConfirmedLsn: lsnText(slot?.confirmedFlushLsn),
      retainedWalBytes:
        slot?.retainedWalBytes === undefined || slot.retainedWalBytes === null
          ? null
          : Number(slot.retainedWalBytes),
      logBytes: stats?.bytes ?? 0,
      logTransactions: stats?.transactions ?? 0,
      logFloor: lsnText(stats?.floor),
      lagMs: this.#lagMs,
      lastPollAt: this.#lastPollAt === null ? null : new Date(this.#lastPollAt).toISOString(),
      lastError: this.#lastError,
      subscribers,
    };
    return { database, replication };
  }
}
