/**
 * Starts child-client.ts in its own Node process (`node --import tsx`, with an IPC channel) and drives it: waits
 * for its messages, runs queries on its database, stops it, or SIGKILLs it. Test-only.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CHILD_CONFIG_ENV,
  type ChildConfig,
  type ChildMessage,
  type ParentMessage,
} from './child-client-protocol.ts';
import type { TextRows } from './text-rows.ts';

/** A running child client. */
export interface ChildClient {
  readonly pid: number;
  /** Every message received so far, in order. */
  readonly messages: readonly ChildMessage[];
  /** Its stdout and stderr lines so far. */
  readonly output: readonly string[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first message (from the start) that satisfies `match`; rejects on exit or timeout. */
  waitFor<M extends ChildMessage>(match: (m: ChildMessage) => m is M, timeoutMs: number): Promise<M>;
  waitFor(match: (m: ChildMessage) => boolean, timeoutMs: number): Promise<ChildMessage>;
  /** Runs `sql` on the child's database (§7.3 settings) and returns the rows as text. */
  query(sql: string): Promise<TextRows>;
  /** Stops the client, closes the database and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILLs the process and waits for the exit. */
  kill(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./child-client.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Starts a child client with `config`; resolves once it has opened its database (and started syncing). */
export async function startChildClient(config: ChildConfig, timeoutMs = 60_000): Promise<ChildClient> {
  const child: ChildProcess = fork(SCRIPT, [], {
    cwd: PACKAGE_DIR,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const messages: ChildMessage[] = [];
  const output: string[] = [];
  const waiters = new Set<() => void>();
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      gone = true;
      for (const w of waiters) w();
      resolve({ code, signal });
    });
  });
  child.on('message', (m: ChildMessage) => {
    messages.push(m);
    for (const w of waiters) w();
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) output.push(line);
    });
  }

  const waitFor = (match: (m: ChildMessage) => boolean, ms: number): Promise<ChildMessage> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`child ${child.pid}: no matching message within ${ms} ms; output:\n${output.join('\n')}`),
        );
      }, ms);
      function check(): void {
        const found = messages.find(match);
        if (found === undefined && !gone) return;
        clearTimeout(timer);
        waiters.delete(check);
        if (found !== undefined) resolve(found);
        else reject(new Error(`child ${child.pid} exited; output:\n${output.join('\n')}`));
      }
      waiters.add(check);
      check();
    });

  let nextId = 0;
  const post = (message: ParentMessage): void => {
    child.send(message);
  };
  const handle: ChildClient = {
    pid: child.pid ?? -1,
    messages,
    output,
    exited,
    waitFor: waitFor as ChildClient['waitFor'],
    async query(sql) {
      const id = nextId++;
      post({ type: 'query', id, sql });
      const reply = await waitFor((m) => m.type === 'rows' && m.id === id, 60_000);
      if (reply.type !== 'rows' || reply.rows === undefined) {
        throw new Error(`query failed in the child: ${reply.type === 'rows' ? reply.error : ''}`);
      }
      return reply.rows;
    },
    async stop() {
      if (gone) return;
      post({ type: 'stop' });
      await exited;
    },
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
  await waitFor((m) => m.type === 'ready', timeoutMs);
  return handle;
}
