/**
 * The lines `sync` writes to stderr: one per state change, progress (rows staged, LSN applied) at most once per
 * interval, the client's log lines, and the outcome — as text (`vibestack-client: LIVE lsn=0/1A2B3C4`) or, with
 * `--json`, as one JSON object per line (docs/cli.md lists the fields).
 */

import { errorCodeName, formatLsn, isSyncError, type Lsn } from '@vibestack/proto';
import type { ClientState, ClientStatus } from '../core/client-types.ts';
import { CLI_NAME, PROGRESS_INTERVAL_MS } from './constants.ts';

/** An error as the CLI reports it: the protocol error code name (e.g. `UNAUTHENTICATED`) and the message. */
export interface ReportedError {
  readonly code: string;
  readonly message: string;
}

/** The outcome of a run, the last line. */
export type FinalEvent =
  | { readonly type: 'caught-up'; readonly appliedLsn: Lsn }
  /** `appliedLsn` is absent when the run stopped before the client started. */
  | { readonly type: 'stopped'; readonly appliedLsn?: Lsn; readonly signal?: string }
  | ({ readonly type: 'error'; readonly appliedLsn: Lsn } & ReportedError);

/** Writes status lines. */
export interface StatusReporter {
  /** A status of the client (state changes at once, progress throttled). */
  status(status: ClientStatus): void;
  /** A log line of the client or the CLI. */
  log(level: 'info' | 'warn', message: string): void;
  /** The outcome; prints a withheld progress line first. */
  final(event: FinalEvent): void;
  /** Cancels the timer of a withheld progress line. */
  close(): void;
}

/** Options of {@link createStatusReporter}. */
export interface StatusReporterOptions {
  readonly json: boolean;
  /** Writes one line (without newline). */
  readonly write: (line: string) => void;
  /** Progress-only lines at most this often, in ms; default 1000. */
  readonly intervalMs?: number;
  /** How errors are worded (error-wording.ts); default the client's code and message. */
  readonly wordError?: ErrorReporter;
  readonly now?: () => number;
}

/** The code name and message of anything the client reports as an error. */
export function reportedError(error: unknown): ReportedError {
  if (isSyncError(error)) return { code: errorCodeName(error.code), message: error.rawMessage };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** Whether the status's `error` explains the state (it is kept as "last error" after a recovery too). */
const SHOWS_ERROR: ReadonlySet<ClientState> = new Set(['BACKOFF', 'FAILED']);

/** How a status line words the error of a BACKOFF/FAILED status; default {@link reportedError}. */
export type ErrorReporter = (error: unknown) => ReportedError;

/** The error to show with a status, if any. */
function shownError(status: ClientStatus, word: ErrorReporter): ReportedError | undefined {
  return status.error !== undefined && SHOWS_ERROR.has(status.state) ? word(status.error) : undefined;
}

/** A status as a JSON object line. */
export function statusJson(status: ClientStatus, word: ErrorReporter = reportedError): string {
  const error = shownError(status, word);
  const snapshot = status.snapshot;
  return JSON.stringify({
    type: 'status',
    state: status.state,
    appliedLsn: formatLsn(status.appliedLsn),
    ...(snapshot === undefined
      ? {}
      : {
          stagedRows: snapshot.stagedRows,
          ...(snapshot.estimatedRows === undefined
            ? {}
            : { estimatedRows: snapshot.estimatedRows.toString() }),
          receivedBytes: snapshot.receivedBytes,
          resumed: snapshot.resumed,
        }),
    ...(error === undefined ? {} : { error }),
  });
}

/** Bytes for people: `512 B`, `3.1 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A status as a text line. */
export function statusText(status: ClientStatus, word: ErrorReporter = reportedError): string {
  let line = `${CLI_NAME}: ${status.state} lsn=${formatLsn(status.appliedLsn)}`;
  if (status.snapshot !== undefined) {
    const { stagedRows, estimatedRows, receivedBytes, resumed } = status.snapshot;
    const total = estimatedRows === undefined ? '' : `/~${estimatedRows}`;
    line += ` rows=${stagedRows}${total} received=${formatBytes(receivedBytes)}${resumed ? ' resumed' : ''}`;
  }
  const error = shownError(status, word);
  if (error !== undefined) line += ` error=${error.code}: ${error.message}`;
  return line;
}

function finalText(event: FinalEvent): string {
  switch (event.type) {
    case 'caught-up':
      return `${CLI_NAME}: caught up at ${formatLsn(event.appliedLsn)}`;
    case 'stopped': {
      const at = event.appliedLsn === undefined ? '' : ` at ${formatLsn(event.appliedLsn)}`;
      return `${CLI_NAME}: stopped${at}${event.signal === undefined ? '' : ` (${event.signal})`}`;
    }
    case 'error':
      return `${CLI_NAME}: error: ${event.code}: ${event.message}`;
  }
}

function finalJson(event: FinalEvent): string {
  const { appliedLsn, ...rest } = event;
  return JSON.stringify({
    ...rest,
    ...(appliedLsn === undefined ? {} : { appliedLsn: formatLsn(appliedLsn) }),
  });
}

/**
 * Creates the reporter.
 *
 * @example
 * const reporter = createStatusReporter({ json: false, write: (l) => process.stderr.write(`${l}\n`) });
 * client.subscribe((s) => reporter.status(s));
 */
export function createStatusReporter(options: StatusReporterOptions): StatusReporter {
  const interval = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const word = options.wordError ?? reportedError;
  const format = (status: ClientStatus) => (options.json ? statusJson : statusText)(status, word);
  let lastState: ClientState | undefined;
  let lastLine: string | undefined;
  let lastAt = Number.NEGATIVE_INFINITY;
  let withheld: ClientStatus | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const print = (status: ClientStatus) => {
    clearTimeout(timer);
    timer = undefined;
    withheld = undefined;
    const line = format(status);
    if (line === lastLine) return;
    options.write(line);
    lastLine = line;
    lastState = status.state;
    lastAt = now();
  };
  const flush = () => {
    if (withheld !== undefined) print(withheld);
  };

  return {
    status(status) {
      if (status.state !== lastState || now() - lastAt >= interval) {
        print(status);
        return;
      }
      withheld = status;
      if (timer === undefined) {
        timer = setTimeout(flush, Math.max(0, lastAt + interval - now()));
        timer.unref?.();
      }
    },
    log(level, message) {
      options.write(
        options.json ? JSON.stringify({ type: 'log', level, message }) : `${CLI_NAME}: ${level}: ${message}`,
      );
    },
    final(event) {
      flush();
      options.write(options.json ? finalJson(event) : finalText(event));
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
