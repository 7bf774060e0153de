import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Whether a process with this id exists and is not a zombie. Works for processes of other users too
 * (`EPERM` from `kill(pid, 0)` still means "exists").
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // An orphan whose parent never reaps it stays a zombie: it holds no port and no files any more.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // No /proc (macOS): trust kill(0).
  }
}

/** The command line of a process (arguments joined by spaces), or `undefined` when it cannot be read. */
export function processCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    try {
      return (
        execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim() || undefined
      );
    } catch {
      return undefined;
    }
  }
}

/** Resolves `true` once `pid` is gone, `false` when `timeoutMs` passes first. Polls every 50 ms. */
export async function waitForProcessExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Sends `signal` to a process (or, with a negative id, a process group), ignoring "no such process". */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Stops a process that is not necessarily our child: each signal in turn, waiting `stepTimeoutMs` after each,
 * until it is gone. Resolves `true` when it stopped.
 *
 * @param signals e.g. `['SIGINT', 'SIGQUIT', 'SIGKILL']` for Postgres (fast, immediate, forced shutdown).
 */
export async function stopProcess(
  pid: number,
  signals: readonly NodeJS.Signals[],
  stepTimeoutMs: number,
): Promise<boolean> {
  for (const signal of signals) {
    if (!isProcessAlive(pid)) return true;
    signalProcess(pid, signal);
    if (await waitForProcessExit(pid, stepTimeoutMs)) return true;
  }
  return !isProcessAlive(pid);
}
