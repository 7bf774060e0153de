/**
 * `vibestack-client sync`: keeps a file-backed PGlite in sync with the server until a signal, a failure, or —
 * with `--until-caught-up` — until everything up to the server's head is committed locally. Every way out
 * stops the client (closing the socket, waiting for the local transaction in flight) and closes the database.
 */

import { mkdir } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { PGlite } from '@electric-sql/pglite';
import type { Lsn } from '@vibestack/proto';
import type { ClientStatus } from '../core/client-types.ts';
import { storedClientId } from '../pglite/metadata.ts';
import { createSyncClient, type SyncClient } from '../sync-client.ts';
import type { SyncCommand } from './args.ts';
import { CliError } from './cli-error.ts';
import { type CliIo, errLine } from './cli-io.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_SIGNAL_BASE } from './constants.ts';
import { isDatabaseDirectory, isUsableForSync, lockDirectory } from './dir-lock.ts';
import { createErrorWording, type ErrorWording } from './error-wording.ts';
import { createStatusReporter, type StatusReporter } from './status-lines.ts';
import { createOutcomeJudge, type Outcome } from './sync-outcome.ts';
import { type PhaseMark, phaseTimer } from './timing.ts';
import { createTokenProvider } from './token-source.ts';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** SIGINT and SIGTERM end the run cleanly; a second one exits at once, for a stop that hangs. */
function watchSignals(io: CliIo, onSignal: (signal: NodeJS.Signals) => void): () => void {
  let received = false;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      io.err(errLine(`${signal} again: exiting without a clean stop`));
      process.exit(EXIT_SIGNAL_BASE + osConstants.signals[signal]);
    }
    received = true;
    onSignal(signal);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
  };
}

/** Runs the client on an open database until the outcome; stops it. */
async function syncDatabase(
  db: PGlite,
  command: SyncCommand,
  io: CliIo,
  reporter: StatusReporter,
  outcome: { promise: Promise<Outcome>; settle: (o: Outcome) => void; settled: () => boolean },
  word: ErrorWording,
  mark: PhaseMark,
): Promise<{ outcome: Outcome; appliedLsn: Lsn }> {
  const judge = createOutcomeJudge(command, outcome.settle, word);
  const { default: WebSocket } = await import('ws');
  const client: SyncClient = await createSyncClient({
    url: command.url,
    db,
    token: createTokenProvider(command.token, io.env),
    WebSocket,
    ...(command.compression ? {} : { perMessageDeflate: false }),
    log: (level, message) => reporter.log(level, message),
  });
  mark('client started');
  let connected = false;
  const onStatus = (s: ClientStatus) => {
    if (outcome.settled()) return;
    if (!connected && s.state === 'AWAIT_WELCOME') {
      connected = true;
      mark('connected');
    }
    reporter.status(s);
    judge(s);
  };
  const unsubscribe = client.subscribe(onStatus);
  onStatus(client.status);
  let timeout: ReturnType<typeof setTimeout> | undefined;
  if (command.timeoutMs !== undefined) {
    timeout = setTimeout(() => {
      const s = client.status;
      const error = s.error === undefined ? undefined : word(s.error);
      const last = error === undefined ? '' : `; last error ${error.code}: ${error.message}`;
      outcome.settle({
        kind: 'failed',
        error: {
          code: 'TIMEOUT',
          message: `not caught up within ${command.timeoutMs! / 1000} s (state ${s.state}${last})`,
        },
      });
    }, command.timeoutMs);
  }
  const result = await outcome.promise;
  mark(result.kind);
  clearTimeout(timeout);
  unsubscribe();
  await client.stop();
  return { outcome: result, appliedLsn: client.status.appliedLsn };
}

/**
 * `--url` named a client id that is not the directory's: a client id belongs to one local database
 * (docs/protocol.md §4.4), and a new database gets a new one.
 */
function clientIdMismatch(command: SyncCommand, stored: string | undefined): CliError {
  const owner =
    stored === undefined
      ? `${command.dir} holds no client yet, and a new database gets a new client id`
      : `${command.dir} belongs to client id ${stored}`;
  return CliError.usage(
    `sync: --url names client_id=${command.clientId}, but ${owner} (a client id belongs to one local ` +
      `database). Leave ?client_id=… out of --url: the CLI sends the client id stored in --dir.`,
  );
}

/** Runs the `sync` command; resolves to the exit code. */
export async function runSync(command: SyncCommand, io: CliIo): Promise<number> {
  const mark = phaseTimer(io.env, io.err);
  const word = createErrorWording(command.token);
  const reporter = createStatusReporter({ json: command.json, write: io.err, wordError: word });
  let settled: Outcome | undefined;
  let settle!: (o: Outcome) => void;
  const promise = new Promise<Outcome>((resolve) => {
    settle = (o) => {
      if (settled !== undefined) return;
      settled = o;
      resolve(o);
    };
  });
  // Watched from the start: a signal during the (slow) database open still ends the run cleanly.
  const unwatch = watchSignals(io, (signal) => settle({ kind: 'signal', signal }));
  try {
    if (command.clientId !== undefined && !(await isDatabaseDirectory(command.dir))) {
      throw clientIdMismatch(command, undefined);
    }
    await mkdir(command.dir, { recursive: true });
    if (!(await isUsableForSync(command.dir))) {
      throw new CliError(`${command.dir} is not empty and holds no PGlite database; choose another --dir`);
    }
    const lock = await lockDirectory(command.dir);
    mark('locked');
    let end: { outcome: Outcome; appliedLsn?: Lsn };
    try {
      const db = await PGlite.create(command.dir);
      mark('database open');
      try {
        if (command.clientId !== undefined) {
          const stored = await storedClientId(db);
          if (stored !== command.clientId) throw clientIdMismatch(command, stored);
        }
        end =
          settled === undefined
            ? await syncDatabase(
                db,
                command,
                io,
                reporter,
                { promise, settle, settled: () => settled !== undefined },
                word,
                mark,
              )
            : { outcome: settled };
      } finally {
        await db.close();
        mark('database closed');
      }
    } finally {
      await lock.release();
    }
    return finish(end, command, reporter);
  } finally {
    reporter.close();
    unwatch();
  }
}

/** Prints the outcome; returns the exit code. */
function finish(
  end: { outcome: Outcome; appliedLsn?: Lsn },
  command: SyncCommand,
  reporter: StatusReporter,
): number {
  const { outcome } = end;
  const appliedLsn = end.appliedLsn ?? 0n;
  switch (outcome.kind) {
    case 'caught-up':
      reporter.final({ type: 'caught-up', appliedLsn });
      return EXIT_OK;
    case 'signal':
      reporter.final({
        type: 'stopped',
        ...(end.appliedLsn === undefined ? {} : { appliedLsn }),
        signal: outcome.signal,
      });
      return command.untilCaughtUp ? EXIT_SIGNAL_BASE + osConstants.signals[outcome.signal] : EXIT_OK;
    case 'failed':
      reporter.final({ type: 'error', appliedLsn, ...outcome.error });
      return EXIT_FAILURE;
  }
}
