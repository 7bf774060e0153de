/**
 * What a sync client running in a child process (child-client.ts) and the test that drives it (child-client-
 * process.ts) say to each other over Node's IPC channel. Test-only.
 */

/** The child's settings, passed as JSON in the {@link CHILD_CONFIG_ENV} environment variable. */
export interface ChildConfig {
  /** A file-backed PGlite data directory (created on first use). */
  readonly dataDir: string;
  /** The server and the token to sync with; absent: only open the database and answer queries (no sync). */
  readonly sync?: { readonly url: string; readonly token: string };
  /** Record every applied server transaction (apply-probe.ts), with the keys it inserted into `table`. */
  readonly probe?: { readonly table: string; readonly run: number };
  /**
   * Never commit the apply transaction that inserts the row with first column `key` into `table`: announce it
   * (`blocked` message, `BLOCKED` on stdout) and wait forever inside it, for the test to kill the process.
   */
  readonly blockOn?: { readonly table: string; readonly key: string };
}

/** The environment variable that carries the {@link ChildConfig}. */
export const CHILD_CONFIG_ENV = 'VIBESTACK_CHILD_CLIENT';

/** The marker the child prints on stdout when it blocks inside an apply transaction. */
export const BLOCKED_MARKER = 'BLOCKED';

/** Messages from the test to the child. */
export type ParentMessage =
  | { readonly type: 'query'; readonly id: number; readonly sql: string }
  | { readonly type: 'stop' };

/** Messages from the child to the test. */
export type ChildMessage =
  | { readonly type: 'ready' }
  | {
      readonly type: 'status';
      readonly state: string;
      /** The applied LSN as Postgres prints it. */
      readonly appliedLsn: string;
      readonly error?: string;
    }
  | {
      readonly type: 'blocked';
      /** Commit LSNs of the transactions in the blocked apply work. */
      readonly commitLsns: readonly string[];
      /** The applied LSN the blocked work would have committed. */
      readonly lsn: string;
    }
  | {
      readonly type: 'rows';
      readonly id: number;
      readonly rows?: (string | null)[][];
      readonly error?: string;
    }
  | { readonly type: 'stopped' };
