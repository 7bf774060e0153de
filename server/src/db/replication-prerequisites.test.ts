import { describe, expect, it } from 'vitest';
import {
  assertReplicationPrerequisites,
  checkReplicationPrerequisites,
  type ReplicationSettings,
  ReplicationSetupError,
} from './replication-prerequisites.ts';

const READY: ReplicationSettings = {
  walLevel: 'logical',
  serverVersionNum: 180_004,
  maxReplicationSlots: 10,
  roleName: 'app',
  superuser: false,
  replication: true,
};

describe('checkReplicationPrerequisites', () => {
  it('accepts a logical server with a REPLICATION role, or a superuser', () => {
    expect(checkReplicationPrerequisites(READY)).toEqual([]);
    expect(checkReplicationPrerequisites({ ...READY, replication: false, superuser: true })).toEqual([]);
  });

  it('explains wal_level with the fix for self-hosted, Neon and managed services', () => {
    const [problem, ...rest] = checkReplicationPrerequisites({ ...READY, walLevel: 'replica' });
    expect(rest).toEqual([]);
    expect(problem?.kind).toBe('wal_level');
    expect(problem?.message).toContain('wal_level is "replica"');
    expect(problem?.message).toContain('ALTER SYSTEM SET wal_level = logical');
    expect(problem?.message).toContain('restart');
    expect(problem?.message).toContain('Neon: enable logical replication');
  });

  it('explains a missing REPLICATION attribute with the ALTER ROLE to run', () => {
    const problems = checkReplicationPrerequisites({ ...READY, roleName: 'We"ird', replication: false });
    expect(problems.map((p) => p.kind)).toEqual(['replication_privilege']);
    expect(problems[0]?.message).toContain('ALTER ROLE "We""ird" WITH REPLICATION');
  });

  it('reports every problem at once, old servers and zero slots included', () => {
    const settings = { ...READY, walLevel: 'minimal', serverVersionNum: 140_010, maxReplicationSlots: 0 };
    const kinds = checkReplicationPrerequisites({ ...settings, replication: false }).map((p) => p.kind);
    expect(kinds).toEqual(['server_version', 'wal_level', 'max_replication_slots', 'replication_privilege']);
    expect(() => assertReplicationPrerequisites({ ...settings, replication: false })).toThrow(
      ReplicationSetupError,
    );
    expect(() => assertReplicationPrerequisites(READY)).not.toThrow();
  });
});
