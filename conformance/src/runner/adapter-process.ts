/**
 * One adapter process as the runner sees it: started from the `--client` command line (through the shell), its
 * stdin/stdout speaking the adapter protocol, its stderr kept as log lines, its events collected per case.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { type AdapterConnection, connectAdapter } from '../adapter/adapter-channel.ts';
import { ADAPTER_KILL_GRACE_MS } from '../constants.ts';
import type { AdapterEvent } from '../proto.ts';

/** See {@link startAdapter}. */
export interface AdapterProcess {
  readonly connection: AdapterConnection;
  /** Events since the last {@link AdapterProcess.resetEvents}. */
  readonly events: AdapterEvent[];
  resetEvents(): void;
  /** Log lines (stderr) since the last {@link AdapterProcess.takeLog}. */
  takeLog(): string[];
  /** True until the process exits or its output ends. */
  readonly alive: boolean;
  /** Why it is not alive, if it is not. */
  readonly exit: string | undefined;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(): Promise<void>;
}

/** How many log lines are kept for a failure report. */
const LOG_LINES = 200;

/** Starts the adapter `command` (a shell command line). `onLog` sees each stderr line as it comes (for --trace). */
export function startAdapter(command: string, onLog?: (line: string) => void): AdapterProcess {
  // A process group of its own, so that SIGTERM reaches the adapter and not only the shell that started it.
  const child: ChildProcess = spawn(command, {
    shell: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let events: AdapterEvent[] = [];
  let log: string[] = [];
  let exit: string | undefined;
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      onLog?.(line);
      log.push(line);
    }
    if (log.length > LOG_LINES) log = log.slice(-LOG_LINES);
  });
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exit ??= `the adapter exited (${signal ?? `code ${code}`})`;
      resolve();
    });
    child.on('error', (error) => {
      exit ??= `the adapter could not start: ${error.message}`;
      resolve();
    });
  });
  // A dead adapter's stdin errors on write (EPIPE): the connection reports it; nothing else must throw.
  child.stdin!.on('error', () => undefined);
  const connection = connectAdapter(child.stdin!, child.stdout!, (event) => events.push(event));
  void connection.closed.then((error) => {
    exit ??= error ? error.message : 'the adapter closed its output';
  });
  return {
    connection,
    get events() {
      return events;
    },
    resetEvents() {
      events = [];
    },
    takeLog() {
      const out = partial === '' ? log : [...log, partial];
      log = [];
      partial = '';
      return out;
    },
    get alive() {
      return exit === undefined;
    },
    get exit() {
      return exit;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        signal(child, 'SIGTERM');
        const timer = setTimeout(() => signal(child, 'SIGKILL'), ADAPTER_KILL_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      exit ??= 'stopped by the runner';
    },
  };
}

/** Signals the adapter's process group (the shell and what it started). */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, name);
  } catch {
    child.kill(name);
  }
}
