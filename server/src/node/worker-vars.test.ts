import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_ENV_NAMES } from '../config/config-env.ts';
import { collectWorkerVars, startWorkerVars } from './worker-vars.ts';

describe('collectWorkerVars (what npm start passes to the Worker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-worker-vars-'));
  const devVarsFile = join(dir, '.dev.vars');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes every Worker setting from the environment, and nothing else from it', () => {
    const env = Object.fromEntries(CONFIG_ENV_NAMES.map((name) => [name, `v-${name}`]));
    const { vars, sources } = collectWorkerVars({
      env: { ...env, PATH: '/bin', HOME: '/root' },
      devVarsFile: join(dir, 'missing'),
    });
    expect(vars).toEqual(env);
    expect([...sources.values()].every((s) => s === 'environment')).toBe(true);
  });

  it('reads server/.dev.vars; the environment wins; empty counts as unset; unknown names are reported', () => {
    writeFileSync(
      devVarsFile,
      [
        '# local settings',
        `SYNC_SCOPES='[{"table":"public.items","rule":{"kind":"shared"}}]'`,
        'LOG_RETENTION_MS=1000',
        'HEARTBEAT_INTERVAL_MS=2000',
        'SYNC_SCOPE=typo',
        '',
      ].join('\n'),
    );
    const collected = collectWorkerVars({
      env: { LOG_RETENTION_MS: '5000', HEARTBEAT_INTERVAL_MS: '', DB_DRIVER: 'pg' },
      devVarsFile,
    });
    expect(collected.vars).toEqual({
      SYNC_SCOPES: '[{"table":"public.items","rule":{"kind":"shared"}}]',
      LOG_RETENTION_MS: '5000',
      HEARTBEAT_INTERVAL_MS: '2000',
      DB_DRIVER: 'pg',
    });
    expect(Object.fromEntries(collected.sources)).toEqual({
      SYNC_SCOPES: '.dev.vars',
      LOG_RETENTION_MS: 'environment',
      HEARTBEAT_INTERVAL_MS: '.dev.vars',
      DB_DRIVER: 'environment',
    });
    expect(collected.unknownInDevVars).toEqual(['SYNC_SCOPE']);
  });

  it("adds npm start's own settings only where none is set, and summarises names and sources, never values", () => {
    writeFileSync(devVarsFile, 'JWT_SECRET=from-file-secret\n');
    const collected = collectWorkerVars({
      env: { SYNC_SCOPES: '[]', DATABASE_URL: 'postgres://u:pw@h/db' },
      devVarsFile,
    });
    const { vars, summary } = startWorkerVars(
      collected,
      { DATABASE_URL: 'postgres://embedded', JWT_SECRET: 'dev-secret', VIBESTACK_DEV: '1' },
      'server/.dev.vars',
    );
    expect(vars).toEqual({
      DATABASE_URL: 'postgres://u:pw@h/db',
      JWT_SECRET: 'from-file-secret',
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: '[]',
    });
    expect(summary).toBe(
      'Worker settings passed: DATABASE_URL, SYNC_SCOPES (environment); JWT_SECRET (server/.dev.vars); ' +
        'VIBESTACK_DEV (npm start)',
    );
  });
});
