import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOCAL_STATE_DIR, START_STATE_FILE } from '../constants.ts';
import { isProcessAlive, processCommandLine } from './process-control.ts';
import { isGroupAlive, stopProcessGroup } from './wrangler-dev.ts';

/** What a running `npm start` records, so that the next start can clean up after a SIGKILL. */
export interface StartState {
  /** The `npm start` (tsx) process. */
  readonly pid: number;
  /** wrangler's process id, which is also its process group id (workerd included). */
  readonly wranglerPid?: number;
}

function stateFile(projectRoot: string): string {
  return join(projectRoot, LOCAL_STATE_DIR, START_STATE_FILE);
}

function readStartState(projectRoot: string): StartState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(stateFile(projectRoot), 'utf8')) as Partial<StartState>;
    return typeof parsed.pid === 'number' ? (parsed as StartState) : undefined;
  } catch {
    return undefined;
  }
}

/** Records the current start (overwrites). */
export function writeStartState(projectRoot: string, state: StartState): void {
  const file = stateFile(projectRoot);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(state)}\n`);
}

/** Removes the record if it is this process's. */
export function removeStartState(projectRoot: string): void {
  if (readStartState(projectRoot)?.pid === process.pid) rmSync(stateFile(projectRoot), { force: true });
}

/**
 * If an earlier `npm start` died without cleaning up (SIGKILL), stops the `wrangler dev`/workerd it left
 * behind. Throws when an earlier start is still running (one `npm start` per checkout).
 */
export async function clearStaleStart(projectRoot: string, log: (line: string) => void): Promise<void> {
  const state = readStartState(projectRoot);
  if (!state || state.pid === process.pid) return;
  if (isProcessAlive(state.pid) && (processCommandLine(state.pid) ?? '').includes('start')) {
    throw new Error(
      `VibeStack is already running from this checkout (process ${state.pid}). Stop it first (Ctrl-C in its ` +
        `terminal, or kill ${state.pid}).`,
    );
  }
  const pgid = state.wranglerPid;
  if (pgid !== undefined && isGroupAlive(pgid)) {
    const leader = isProcessAlive(pgid) ? processCommandLine(pgid) : undefined;
    // A live leader that is not wrangler means the id was reused: not ours to stop.
    if (leader === undefined || leader.includes('wrangler')) {
      log(`Stopping wrangler/workerd left running by an earlier start (process group ${pgid}).`);
      await stopProcessGroup(pgid);
    }
  }
  rmSync(stateFile(projectRoot), { force: true });
}
