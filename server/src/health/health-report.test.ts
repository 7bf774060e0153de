import { PROTOCOL_VERSION } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import type { DatabaseHealth } from './database-probe.ts';
import { createHealthReport, healthReason } from './health-report.ts';
import type { ReplicationHealth, ReplicationProbe } from './replication-health.ts';

const database: DatabaseHealth = {
  configured: true,
  reachable: true,
  walLevel: 'logical',
  serverVersion: '18.4',
  latencyMs: 3,
  checkedAt: '2025-01-01T00:00:00.000Z',
};
const replication: ReplicationHealth = {
  status: 'ok',
  slot: 'ok',
  lastDurableLsn: '0/1000',
  slotConfirmedLsn: '0/1001',
  retainedWalBytes: 100,
  logBytes: 10,
  logTransactions: 1,
  logFloor: '0/0',
  lagMs: 5,
  lastPollAt: '2025-01-01T00:00:00.000Z',
  lastError: null,
  subscribers: 2,
  missingTables: [],
  snapshots: { holders: 0, waiting: 0, capacity: 16 },
};
const probe = (db: Partial<DatabaseHealth>, repl: Partial<ReplicationHealth> = {}): ReplicationProbe => ({
  database: { ...database, ...db },
  replication: { ...replication, ...repl },
});

describe('healthReason', () => {
  it('is undefined for a healthy probe, and names the most fundamental problem otherwise', () => {
    expect(healthReason(probe({}))).toBeUndefined();
    expect(healthReason(probe({}, { slot: 'not_created', status: 'starting' }))).toBeUndefined();
    expect(healthReason(probe({ reachable: false }, { slot: 'unknown', status: 'error' }))).toBe(
      'database_unreachable',
    );
    expect(healthReason(probe({ walLevel: 'replica' }, { status: 'error' }))).toBe('wal_level_not_logical');
    expect(healthReason(probe({}, { slot: 'missing', status: 'error' }))).toBe('replication_slot_missing');
    expect(healthReason(probe({}, { slot: 'lost' }))).toBe('replication_slot_lost');
    expect(healthReason(probe({}, { status: 'error', lastError: 'boom' }))).toBe('replication_error');
    expect(healthReason(new Error('no DO'))).toBe('replication_unavailable');
  });
});

describe('createHealthReport', () => {
  const publicPart = { service: 'vibestack', protocolVersion: PROTOCOL_VERSION };

  it('shows anyone the status and a coarse reason only', () => {
    const missing = probe({}, { slot: 'missing', lastError: 'replication slot "x" does not exist' });
    expect(createHealthReport({ databaseConfigured: true, probe: missing, detailed: false })).toEqual({
      status: 'degraded',
      ...publicPart,
      reason: 'replication_slot_missing',
    });
    expect(createHealthReport({ databaseConfigured: true, probe: probe({}), detailed: false })).toEqual({
      status: 'ok',
      ...publicPart,
    });
    expect(createHealthReport({ databaseConfigured: false, detailed: false })).toEqual({
      status: 'ok',
      ...publicPart,
    });
  });

  it('adds the details when asked for', () => {
    const p = probe({ reachable: false, walLevel: null, serverVersion: null, error: 'ECONNREFUSED' });
    expect(createHealthReport({ databaseConfigured: true, probe: p, detailed: true })).toEqual({
      status: 'degraded',
      ...publicPart,
      reason: 'database_unreachable',
      database: p.database,
      replication: p.replication,
    });
    expect(
      createHealthReport({ databaseConfigured: true, probe: new Error('gone'), detailed: true }),
    ).toEqual({
      status: 'degraded',
      ...publicPart,
      reason: 'replication_unavailable',
      error: 'gone',
    });
    expect(createHealthReport({ databaseConfigured: false, detailed: true }).database).toMatchObject({
      configured: false,
    });
  });
});
