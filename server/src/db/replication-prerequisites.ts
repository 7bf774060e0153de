/**
 * Whether a Postgres server and role can serve logical replication, as a pure function of the settings read from
 * the server, so that every failure message is unit-tested without a misconfigured server.
 */

import type { SqlClient } from './sql-client.ts';

/** Oldest supported server: Postgres 15 (pgoutput skips empty transactions, `pg_publication_namespace`). */
export const MIN_SERVER_VERSION_NUM = 150_000;

/** What {@link checkReplicationPrerequisites} needs to know, as read by {@link readReplicationSettings}. */
export interface ReplicationSettings {
  /** `wal_level` (`logical` needed). */
  readonly walLevel: string;
  /** `server_version_num`, e.g. 180004. */
  readonly serverVersionNum: number;
  /** `max_replication_slots`. */
  readonly maxReplicationSlots: number;
  /** `current_user`. */
  readonly roleName: string;
  /** The role is a superuser. */
  readonly superuser: boolean;
  /** The role has REPLICATION (or, on Amazon RDS, is a member of `rds_replication`). */
  readonly replication: boolean;
}

/** Which prerequisite failed. */
export type ReplicationProblemKind =
  | 'wal_level'
  | 'replication_privilege'
  | 'max_replication_slots'
  | 'server_version'
  /** The slot name is taken by a slot of another kind, plugin or database. */
  | 'slot_mismatch';

/** One failed prerequisite: what is wrong and how to fix it. */
export interface ReplicationProblem {
  readonly kind: ReplicationProblemKind;
  readonly message: string;
}

/** The server or role cannot serve logical replication, or a slot/publication exists in an unusable form. */
export class ReplicationSetupError extends Error {
  override readonly name = 'ReplicationSetupError';
  readonly problems: readonly ReplicationProblem[];

  constructor(problems: readonly ReplicationProblem[]) {
    super(
      problems.length === 1
        ? problems[0]!.message
        : `Postgres is not ready for logical replication:\n${problems.map((p) => `- ${p.message}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

/**
 * Lists everything that keeps the server or role from serving logical replication (empty when ready). Each
 * message says what is wrong and how to fix it on self-hosted Postgres, Neon and managed services.
 */
export function checkReplicationPrerequisites(settings: ReplicationSettings): ReplicationProblem[] {
  const problems: ReplicationProblem[] = [];
  if (settings.serverVersionNum < MIN_SERVER_VERSION_NUM) {
    problems.push({
      kind: 'server_version',
      message:
        `Postgres ${Math.floor(settings.serverVersionNum / 10_000)} is too old: VibeStack needs Postgres 15 or ` +
        'newer for logical replication. Upgrade the server.',
    });
  }
  if (settings.walLevel !== 'logical') {
    problems.push({
      kind: 'wal_level',
      message:
        `wal_level is "${settings.walLevel}", but logical replication needs "logical". Self-hosted: run ` +
        '`ALTER SYSTEM SET wal_level = logical;` as a superuser and restart Postgres. Neon: enable logical ' +
        'replication in the project settings. Amazon RDS/Aurora: set rds.logical_replication = 1 in the ' +
        'parameter group and reboot. Google Cloud SQL: set the flag cloudsql.logical_decoding = on.',
    });
  }
  if (settings.maxReplicationSlots < 1) {
    problems.push({
      kind: 'max_replication_slots',
      message:
        'max_replication_slots is 0, so no replication slot can be created. Run ' +
        '`ALTER SYSTEM SET max_replication_slots = 10;` as a superuser and restart Postgres.',
    });
  }
  if (!settings.superuser && !settings.replication) {
    problems.push({
      kind: 'replication_privilege',
      message:
        `Role "${settings.roleName}" has neither the REPLICATION attribute nor SUPERUSER, so it cannot create ` +
        `or read a replication slot. As a superuser run \`ALTER ROLE "${settings.roleName.replaceAll('"', '""')}" ` +
        'WITH REPLICATION;` (Amazon RDS: `GRANT rds_replication TO …`; Neon: use a role created in the Neon ' +
        'console or API after enabling logical replication), or connect as a role that has it.',
    });
  }
  return problems;
}

/** Throws a {@link ReplicationSetupError} listing every failed prerequisite. */
export function assertReplicationPrerequisites(settings: ReplicationSettings): void {
  const problems = checkReplicationPrerequisites(settings);
  if (problems.length > 0) throw new ReplicationSetupError(problems);
}

interface SettingsRow {
  wal_level: string;
  server_version_num: string;
  max_replication_slots: string;
  role_name: string;
  superuser: string;
  replication: string;
}

/** Reads the {@link ReplicationSettings} of the session's server and role. */
export async function readReplicationSettings(client: SqlClient): Promise<ReplicationSettings> {
  const { rows } = await client.query<SettingsRow>(
    `SELECT current_setting('wal_level') AS wal_level,
            current_setting('server_version_num') AS server_version_num,
            current_setting('max_replication_slots') AS max_replication_slots,
            r.rolname AS role_name,
            r.rolsuper AS superuser,
            r.rolreplication OR EXISTS (
              SELECT FROM pg_catalog.pg_roles g
               WHERE g.rolname = 'rds_replication' AND pg_catalog.pg_has_role(r.oid, g.oid, 'member')
            ) AS replication
       FROM pg_catalog.pg_roles r
      WHERE r.rolname = current_user`,
  );
  const row = rows[0];
  if (!row) throw new Error('current_user has no row in pg_roles');
  return {
    walLevel: row.wal_level,
    serverVersionNum: Number(row.server_version_num),
    maxReplicationSlots: Number(row.max_replication_slots),
    roleName: row.role_name,
    superuser: row.superuser === 't',
    replication: row.replication === 't',
  };
}
