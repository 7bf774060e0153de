/**
 * The PGlite shell of the apply pipeline: runs each apply work of the client session in ONE local transaction
 * that also writes the resume state (`_vibestack.state`), with `vibestack.applying = 'on'` and the text-value
 * settings of docs/protocol.md §7.3 set locally, so the data and its LSN are committed together or not at all.
 */

import { type Relation, TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';
import type { ApplyWork } from '../core/client-types.ts';
import { APPLYING_SETTING } from '../core/constants.ts';
import { applyTransactions } from './apply-changes.ts';
import { type LocalTable, prepareTable } from './local-tables.ts';
import { tunePGliteMemFs } from './memory-fs.ts';
import {
  addSyncedTable,
  openMetadata,
  type StoredState,
  setAppliedLsn,
  setSnapshotPosition,
} from './metadata.ts';
import { applyHandoff, commitSnapshot, discardStaging, stageChunks } from './snapshot-staging.ts';
import { ident, literal, type SqlRunner } from './sql.ts';

/** The PGlite surface the store needs (`PGlite` and `PGliteInterface` satisfy it). */
export interface PGliteLike extends SqlRunner {
  transaction<T>(callback: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

/** Options of {@link createSyncStore}. */
export interface SyncStoreOptions {
  /** Makes a new client id for a database that has none; default `crypto.randomUUID()`. */
  readonly newClientId?: () => string;
  /**
   * Test seam: runs inside each apply transaction after all its writes, just before the commit. Throwing from
   * it rolls the transaction back, as a crash between apply and commit would.
   */
  readonly beforeCommit?: (work: ApplyWork, tx: SqlRunner) => Promise<void> | void;
  /**
   * Make the files of PGlite's in-memory file system (memory and `idb://` storage) grow geometrically, which
   * speeds bulk loads up (see `memory-fs.ts`); contents are unchanged. Default true; false leaves the instance
   * as it is.
   */
  readonly tuneMemoryFs?: boolean;
}

/** The local side of sync over one PGlite database. */
export interface SyncStore {
  /** Creates the metadata on first use; returns the client id and what was committed before. */
  open(): Promise<StoredState>;
  /** Runs one apply work in one local transaction. Rejects (having rolled back) when it cannot. */
  apply(work: ApplyWork): Promise<void>;
}

const LOCAL_SETTINGS = [
  ...Object.entries(TEXT_VALUE_SESSION_SETTINGS).map(([k, v]) => `SET LOCAL ${k} = ${literal(v)}`),
  `SET LOCAL ${APPLYING_SETTING.split('.').map(ident).join('.')} = 'on'`,
].join(';\n');
/**
 * For a superuser (PGlite's default `postgres`): new WAL segment files are not zero-filled first. Bulk applies
 * write tens of MB of WAL; zero-filling each new 16 MB segment, 8 kB at a time, is pure overhead here (recycled
 * segments are never zeroed either, so recovery does not rely on it).
 */
const SUPERUSER_SETTINGS = `${LOCAL_SETTINGS};\nSET LOCAL wal_init_zero = off`;

/** The relations a work writes to (each descriptor object once). */
function relationsOf(work: ApplyWork): Set<Relation> {
  const out = new Set<Relation>();
  switch (work.kind) {
    case 'transactions':
    case 'snapshot-handoff':
      for (const t of work.transactions) {
        for (const c of t.changes) {
          if (c.op === 'truncate') for (const r of c.relations) out.add(r);
          else out.add(c.relation);
        }
      }
      break;
    case 'snapshot-chunks':
      for (const c of work.chunks) out.add(c.relation);
      break;
    case 'snapshot-commit':
      for (const r of work.tables) out.add(r);
      break;
  }
  return out;
}

/**
 * Creates the store over an application-owned PGlite instance (any storage, any extensions).
 *
 * @example
 * const store = createSyncStore(await PGlite.create());
 * const { clientId, resume } = await store.open();
 * const session = createClientSession({ clientId, resume });
 */
export function createSyncStore(db: PGliteLike, options: SyncStoreOptions = {}): SyncStore {
  // Local tables per descriptor object: a re-sent Relation is a new object and is prepared again.
  const tables = new WeakMap<Relation, LocalTable>();
  let settings = LOCAL_SETTINGS;

  async function prepare(relations: ReadonlySet<Relation>): Promise<(r: Relation) => LocalTable> {
    for (const r of relations) {
      if (tables.has(r)) continue;
      const table = await prepareTable(db, r);
      await addSyncedTable(db, table.schema, table.name);
      tables.set(r, table);
    }
    return (r) => tables.get(r)!;
  }

  async function run(tx: SqlRunner, work: ApplyWork, tableOf: (r: Relation) => LocalTable): Promise<void> {
    switch (work.kind) {
      case 'transactions':
        await applyTransactions(tx, work.transactions, tableOf);
        await setAppliedLsn(tx, work.lsn);
        return;
      case 'snapshot-begin':
        await discardStaging(tx);
        await setSnapshotPosition(tx, undefined);
        return;
      case 'snapshot-chunks':
        await stageChunks(tx, work.chunks, tableOf);
        await setSnapshotPosition(tx, { snapshotId: work.snapshotId, cursor: work.cursor });
        return;
      case 'snapshot-handoff':
        await applyHandoff(tx, work.transactions, tableOf);
        return;
      case 'snapshot-commit':
        await commitSnapshot(tx, work.tables.map(tableOf), work.rowCounts);
        await setAppliedLsn(tx, work.lsn, true);
        return;
    }
  }

  return {
    async open() {
      if (options.tuneMemoryFs !== false) tunePGliteMemFs(db);
      const { rows } = await db.query<{ su: boolean }>("SELECT current_setting('is_superuser') = 'on' AS su");
      settings = rows[0]?.su === true ? SUPERUSER_SETTINGS : LOCAL_SETTINGS;
      return openMetadata(db, options.newClientId ?? (() => crypto.randomUUID()));
    },
    async apply(work) {
      const tableOf = await prepare(relationsOf(work));
      await db.transaction(async (tx) => {
        await tx.exec(settings);
        await run(tx, work, tableOf);
        await options.beforeCommit?.(work, tx);
      });
    },
  };
}
