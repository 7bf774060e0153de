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
  CATALOG_REFRESH_MS,
  FANOUT_MAX_TRANSACTIONS,
  HEALTH_CACHE_MS,
  LOG_READ_MAX_CHUNKS,
  MISSING_TABLES_RECHECK_MS,
  QUIET_WAL_CHECK_MS,
  REPLICATION_DO_TABLES,
  SNAPSHOT_LEASE_MS,
} from '../constants.ts';
import { type LeaseOutcome, LeaseQueue } from '../core/budget/lease-queue.ts';
import { ChangeLog, type LogContinuation } from '../core/log/change-log.ts';
import { requiresReplicaIdentityFull, splitQualifiedName } from '../core/scope/scope-config.ts';
import { findTables, readRelations } from '../db/catalog.ts';
import { quoteTable, type TableName, tableLabel } from '../db/quote.ts';
import { toRelationDescriptors } from '../db/relation-descriptors.ts';
import { walFlushLsn } from '../db/replication-reader.ts';
import { ensureReplicationSetup, slotStatus } from '../db/setup.ts';
import { openSqlClient, type SqlClient } from '../db/sql-client.ts';
import type { Env } from '../env.ts';
import { createCachedProbe } from '../health/cached-probe.ts';
import { probeDatabase } from '../health/database-probe.ts';
import type { ReplicationHealth, ReplicationProbe, SlotState } from '../health/replication-health.ts';
import { pumpReplication } from '../replication/replication-pump.ts';
import { type CatalogState, ReplicationCatalogStore } from './catalog-store.ts';
import { durableSqlPort } from './durable-sql.ts';
import { type AttachResult, type LogPositions, type RawLogBatch, toRawLogBatch } from './log-batch.ts';

const lsnText = (lsn: bigint | null | undefined) =>
  lsn === null || lsn === undefined ? null : formatLsn(lsn);

export class ReplicationDO extends DurableObject<Env> {
  readonly #config: ServerConfig;
  readonly #catalogStore: ReplicationCatalogStore;
  #client: SqlClient | undefined;
  /** The change log, opened from storage (no database needed) or by the first setup. One instance only. */
  #log: ChangeLog | undefined;
  /** The slot and publication were checked and set up by this instance (a poll may run). */
  #ready = false;
  #lastMissingCheckAt = 0;
  /** While quiet, the slot is read again no sooner than this (ms), however WAL moves (see #poll). */
  #nextReadAt = 0;
  /** Database leases of initial syncs (SNAPSHOT_CONCURRENCY at once; see LeaseQueue). In memory only. */
  readonly #snapshotLeases: LeaseQueue;
  /** The tail of the work that uses the database connection: one piece at a time (see #exclusive). */
  #dbWork: Promise<unknown> = Promise.resolve();
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
      `CREATE TABLE IF NOT EXISTS ${REPLICATION_DO_TABLES.subscribers} (name TEXT PRIMARY KEY, seq INTEGER NOT NULL DEFAULT 0)`,
    );
    const hasSeq = ctx.storage.sql
      .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${REPLICATION_DO_TABLES.subscribers}')`)
      .toArray()
      .some((c) => c.name === 'seq');
    if (!hasSeq) {
      ctx.storage.sql.exec(
        `ALTER TABLE ${REPLICATION_DO_TABLES.subscribers} ADD COLUMN seq INTEGER NOT NULL DEFAULT 0`,
      );
    }
    this.#catalogStore = new ReplicationCatalogStore(ctx.storage.sql);
    this.#snapshotLeases = new LeaseQueue(this.#config.snapshotConcurrency, SNAPSHOT_LEASE_MS);
  }

  /**
   * Runs `work` after every earlier piece of database work has finished. The one connection is shared, and a
   * poll (a cursor in a transaction) and a setup (catalog reads in a transaction of their own) must not
   * interleave their statements on it.
   */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#dbWork.then(work, work);
    this.#dbWork = run.catch(() => undefined);
    return run;
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

  /**
   * The change log as stored, without a database round trip (`undefined` before the first setup ever): what
   * SyncDOs need to serve a handshake, a wake-up or a log read keeps working while the database is busy or away.
   */
  #storedLog(): ChangeLog | undefined {
    if (this.#log) return this.#log;
    const port = durableSqlPort(this.ctx.storage);
    if (!ChangeLog.exists(port)) return undefined;
    this.#log = ChangeLog.open(port, 0n);
    this.#notifiedHead = this.#log.head();
    return this.#log;
  }

  /**
   * Sets up publication and slot (idempotently) for the synced tables that exist, opens the log, and reads the
   * catalog. Restarts the log — every client then re-syncs (MUST_REFETCH) — when the slot was lost, or when the
   * published tables changed under an existing log (a table in SYNC_SCOPES was created later, or the setting
   * changed): the log cannot express the rows such a table already had.
   */
  async #ensureLog(): Promise<ChangeLog> {
    if (this.#log && this.#ready) return this.#log;
    const client = await this.#db();
    const { replication, scope } = this.#config;
    const status = await slotStatus(client, replication.slot);
    if (status.exists && status.lost) {
      await client.query('SELECT pg_catalog.pg_drop_replication_slot($1)', [replication.slot]);
    }
    const wanted = scope.tables.map((t) => splitQualifiedName(t.table));
    const { present, missing } = await findTables(client, wanted);
    this.#lastMissingCheckAt = Date.now();
    this.#reportMissing(missing);
    if (present.length === 0) {
      throw new Error(`none of the tables in SYNC_SCOPES exists yet (${missing.map(tableLabel).join(', ')})`);
    }
    const presentNames = new Set(present.map(tableLabel));
    for (const table of requiresReplicaIdentityFull(scope)) {
      // Scope moves need the old row of every UPDATE (see requiresReplicaIdentityFull). Names come from config.
      const name = splitQualifiedName(table);
      if (!presentNames.has(tableLabel(name))) continue;
      await client.query(`ALTER TABLE ${quoteTable(name)} REPLICA IDENTITY FULL`);
    }
    const setup = await ensureReplicationSetup(client, {
      publication: replication.publication,
      slot: replication.slot,
      tables: present,
    });
    const port = durableSqlPort(this.ctx.storage);
    const existed = ChangeLog.exists(port);
    let log = this.#storedLog();
    if (log === undefined) {
      log = ChangeLog.open(port, setup.slotConfirmedLsn);
      this.#notifiedHead = log.head();
    }
    if (existed && (setup.created || setup.publication !== 'unchanged')) {
      // A new slot under an existing log: the old slot's undelivered changes are gone. Other published tables:
      // clients hold nothing of a table added now. Either way everyone re-syncs.
      console.warn(
        setup.created
          ? 'replication slot was re-created: every client re-syncs'
          : 'the synced tables changed: every client re-syncs',
      );
      log.restartAt(setup.slotConfirmedLsn);
    }
    // A restart moved head and floor past every client: the next poll's push tells connected ones (MUST_REFETCH).
    this.#log = log;
    await this.#refreshCatalog(client, present, missing);
    this.#ready = true;
    return log;
  }

  #reportMissing(missing: readonly TableName[]): void {
    const text = missing.map(tableLabel).join(', ');
    if (text === (this.#catalogStore.load()?.missing ?? []).join(', ')) return;
    if (missing.length > 0) {
      console.warn(
        `SYNC_SCOPES names table(s) that do not exist: ${text}. The other tables are synced; these are picked ` +
          'up once created (every client then re-syncs once).',
      );
    }
  }

  /** Reads the synced tables' descriptors into storage, so that SyncDOs get them without a database trip. */
  async #refreshCatalog(
    client: SqlClient,
    present: readonly TableName[],
    missing: readonly TableName[],
  ): Promise<CatalogState> {
    const { relations } = await readRelations(client, present);
    return this.#catalogStore.save({
      relations: toRelationDescriptors(relations),
      missing: missing.map(tableLabel),
      shapes: this.#log?.shapes().length ?? 0,
      refreshedAtMs: Date.now(),
    });
  }

  /** After a poll: a table shape changed (DDL), the catalog is old, or a missing table may exist by now. */
  async #maintainCatalog(log: ChangeLog): Promise<void> {
    const state = this.#catalogStore.load();
    const now = Date.now();
    if (state && state.missing.length > 0 && now - this.#lastMissingCheckAt >= MISSING_TABLES_RECHECK_MS) {
      this.#lastMissingCheckAt = now;
      const { present } = await findTables(await this.#db(), state.missing.map(splitQualifiedName));
      // Set up again on the next poll: the table joins the publication and the log restarts (see #ensureLog).
      if (present.length > 0) this.#ready = false;
      return;
    }
    if (state && state.shapes === log.shapes().length && now - state.refreshedAtMs < CATALOG_REFRESH_MS)
      return;
    const wanted = this.#config.scope.tables.map((t) => splitQualifiedName(t.table));
    const { present, missing } = await findTables(await this.#db(), wanted);
    if (missing.length !== (state?.missing.length ?? 0)) {
      this.#ready = false;
      return;
    }
    await this.#refreshCatalog(await this.#db(), present, missing);
  }

  /** One poll; returns the delay before the next one. */
  async #poll(): Promise<number> {
    const { replication } = this.#config;
    try {
      const log = await this.#ensureLog();
      const client = await this.#db();
      const quiet = Date.now() - this.#lastActivityAt >= ACTIVE_WINDOW_MS;
      if (quiet) {
        // No write of ours for a while: ask only how far WAL is flushed (no decoding), and read the slot as soon
        // as anything was written — unless WAL keeps moving for nothing we publish, when reads back off.
        const written = (await walFlushLsn(client)) - 1n > log.head();
        if (!written || Date.now() < this.#nextReadAt) {
          this.#lastPollAt = Date.now();
          this.#lastError = null;
          await this.#maintainCatalog(log);
          return QUIET_WAL_CHECK_MS;
        }
      }
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
      await this.#maintainCatalog(log);
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
      // Stay at the fastest rate for a while after activity (writes come in bursts); then reads back off while
      // they find nothing of ours, and cheap WAL checks run in between (see above).
      const active = Date.now() - this.#lastActivityAt < ACTIVE_WINDOW_MS;
      this.#pollIntervalMs = active
        ? replication.minPollIntervalMs
        : Math.min(this.#pollIntervalMs * 2, replication.maxPollIntervalMs);
      this.#nextReadAt = active || !result.caughtUp ? 0 : Date.now() + this.#pollIntervalMs;
      if (!result.caughtUp) return 0;
      return active ? this.#pollIntervalMs : QUIET_WAL_CHECK_MS;
    } catch (error) {
      this.#lastError = error instanceof Error ? error.message : String(error);
      console.error('replication poll failed', error);
      await this.#dropClient();
      // Check the slot and publication again before the next read (the log itself stays open).
      this.#ready = false;
      return replication.maxPollIntervalMs;
    }
  }

  async #notifySubscribers(batch: RawLogBatch): Promise<void> {
    const subscribers = this.ctx.storage.sql
      .exec<{ name: string; seq: number }>(`SELECT name, seq FROM ${REPLICATION_DO_TABLES.subscribers}`)
      .toArray();
    await Promise.all(
      subscribers.map(async ({ name, seq }) => {
        const stub = this.env.SYNC.get(this.env.SYNC.idFromName(name));
        const alive = await stub.notify(batch).catch(() => false);
        // Only the subscription that was notified: one renewed meanwhile (the client reconnected) stays.
        if (!alive) {
          this.ctx.storage.sql.exec(
            `DELETE FROM ${REPLICATION_DO_TABLES.subscribers} WHERE name = ? AND seq = ?`,
            name,
            seq,
          );
        }
      }),
    );
  }

  override async alarm(): Promise<void> {
    this.#snapshotLeases.expire(Date.now());
    const delay = await this.#exclusive(() => this.#poll());
    await this.ctx.storage.setAlarm(Date.now() + delay);
  }

  /** Makes sure the poll loop runs; with `now`, polls as soon as possible. */
  async poke(now = true): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || (now && current > Date.now())) {
      this.#pollIntervalMs = this.#config.replication.minPollIntervalMs;
      this.#nextReadAt = 0;
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  /**
   * A SyncDO wants `notify(batch)` calls after new transactions (until one answers false). Subscriptions are only
   * dropped that way, never by the SyncDO, so a reconnect cannot race an unsubscribe.
   */
  #subscribe(name: string): void {
    // Every subscribe renews the subscription's sequence number (see #notifySubscribers).
    this.ctx.storage.sql.exec(
      `INSERT INTO ${REPLICATION_DO_TABLES.subscribers} (name, seq)
       VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM ${REPLICATION_DO_TABLES.subscribers}))
       ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`,
      name,
    );
  }

  /** The stored log, or (before the first setup ever) the one the setup creates. */
  async #anyLog(): Promise<ChangeLog> {
    return this.#storedLog() ?? (await this.#exclusive(() => this.#ensureLog()));
  }

  /** The log's head and floor (starting replication if it is not running yet). */
  async positions(): Promise<LogPositions> {
    await this.poke(false);
    const log = await this.#anyLog();
    return { head: log.head(), floor: log.floor() };
  }

  /**
   * Subscribes a SyncDO and returns what its session needs to start or continue — the log's head and floor and
   * the synced tables' descriptors — from storage: no database round trip, except once before the very first
   * setup. A failure is returned, not thrown (RPC errors lose their type), for the SyncDO to report.
   */
  async attach(name: string): Promise<AttachResult> {
    this.#subscribe(name);
    await this.poke(false);
    try {
      const log = await this.#anyLog();
      let catalog = this.#catalogStore.load();
      if (catalog === undefined && !this.#ready) {
        await this.#exclusive(() => this.#ensureLog());
        catalog = this.#catalogStore.load();
      }
      if (catalog === undefined) return { ok: false, reason: 'the synced tables are not described yet' };
      return { ok: true, head: log.head(), floor: log.floor(), catalog: catalog.relations };
    } catch (error) {
      console.error('attach: setting up replication failed', error);
      return { ok: false, reason: 'replication is not set up yet' };
    }
  }

  /**
   * Waits for one of the SNAPSHOT_CONCURRENCY database leases of initial syncs, first come first served. Resolves
   * `granted`, or `superseded` when the same SyncDO asked again (or withdrew) meanwhile. Renew it with every read
   * of rows ({@link renewSnapshotLease}) and give it back when the snapshot ends ({@link releaseSnapshotLease}).
   */
  acquireSnapshotLease(name: string): Promise<LeaseOutcome> {
    return new Promise((resolve) => this.#snapshotLeases.request(name, Date.now(), resolve));
  }

  renewSnapshotLease(name: string): void {
    this.#snapshotLeases.renew(name, Date.now());
  }

  /** Gives the lease back, or withdraws a request still waiting. */
  releaseSnapshotLease(name: string): void {
    this.#snapshotLeases.release(name, Date.now());
  }

  /** Where a snapshot with this xmin must start its handoff replay (see ChangeLog.replayStartForSnapshot). */
  async replayStart(xmin32: number): Promise<bigint> {
    const log = await this.#anyLog();
    return log.replayStartForSnapshot(xmin32);
  }

  /**
   * Up to `limit` committed transactions after `afterLsn` (continuing `continueAt` first), at most
   * LOG_READ_MAX_CHUNKS chunks in all: a larger transaction comes in parts. Encoded for RPC.
   */
  async readLog(afterLsn: bigint, limit: number, continueAt?: LogContinuation): Promise<RawLogBatch> {
    return this.#read(await this.#anyLog(), afterLsn, limit, continueAt);
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
    // Between two pieces of replication work, never inside one (a failing poll drops the connection).
    const probe = await this.#exclusive(() => probeDatabase(() => this.#db(), this.#config.replication.slot));
    return { logExisted, ...probe };
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
      missingTables: this.#catalogStore.load()?.missing ?? [],
      snapshots: this.#snapshotLeases.stats(),
    };
    return { database, replication };
  }
}
