import { describe, expect, it } from 'vitest';
import { checkServerConfig } from './config-check.ts';

describe('checkServerConfig', () => {
  it('logs a misconfiguration once per isolate, however often it is asked', () => {
    const lines: string[] = [];
    const env = { SYNC_SCOPES: '{"not":"a list"}' };
    for (let i = 0; i < 5; i++) {
      const check = checkServerConfig(env, (line) => lines.push(line));
      expect(check.ok).toBe(false);
    }
    // Another environment object with the same mistake (a new request object) is not logged again either.
    checkServerConfig({ ...env }, (line) => lines.push(line));
    expect(lines).toEqual([
      '[vibestack] misconfigured, every request is refused with 503: SYNC_SCOPES: must be a JSON array of ' +
        'table scopes, got an object',
    ]);
  });

  it('hands back the configuration when it is valid, and logs nothing', () => {
    const lines: string[] = [];
    const env = { HEARTBEAT_INTERVAL_MS: '2000' };
    const check = checkServerConfig(env, (line) => lines.push(line));
    expect(check.ok && check.config.heartbeatIntervalMs).toBe(2_000);
    expect(checkServerConfig(env)).toBe(check);
    expect(lines).toEqual([]);
  });
});
