/**
 * `npm start` checks the Worker settings it will pass before it starts anything: a malformed one ends it at
 * once with one line naming the setting. (The run that would start Postgres and wrangler is not repeated here;
 * `worker-vars.test.ts` covers what is passed and `worker.workerd.test.ts` what the Worker does with it.)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { randomFreePort } from './free-port.ts';

const START = fileURLToPath(new URL('./start.ts', import.meta.url));

function runStart(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', START], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGINT'), 20_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

it('refuses a malformed SYNC_SCOPES from the environment with one line, before starting anything', async () => {
  // A database nobody listens on: should the check not happen, the start fails on it instead, starting nothing.
  const deadUrl = `postgres://postgres:secret-pw@127.0.0.1:${await randomFreePort()}/nowhere`;
  const result = await runStart({
    DATABASE_URL: deadUrl,
    SYNC_SCOPES: '[{"table":"public.tasks","rule":{"kind":"owner"}}]',
  });
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(
    '[vibestack] Configuration error, nothing started: SYNC_SCOPES: entry 1 (public.tasks): "rule.kind" must be ' +
      '"shared" or "claim", got string "owner"\n',
  );
}, 30_000);
