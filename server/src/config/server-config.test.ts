import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { tryLoadServerConfig } from './config-check.ts';
import { ConfigError } from './config-error.ts';
import { loadServerConfig } from './server-config.ts';

describe('loadServerConfig', () => {
  it('defaults: pg, the protocol heartbeat interval', () => {
    const config = loadServerConfig({});
    expect(config.driver).toEqual({ name: 'pg' });
    expect(config.heartbeatIntervalMs).toBe(DEFAULT_HEARTBEAT_INTERVAL_MS);
  });

  it('reads HEARTBEAT_INTERVAL_MS within 1000–300000 and refuses anything else', () => {
    expect(loadServerConfig({ HEARTBEAT_INTERVAL_MS: '1000' }).heartbeatIntervalMs).toBe(1_000);
    expect(loadServerConfig({ HEARTBEAT_INTERVAL_MS: '300000' }).heartbeatIntervalMs).toBe(300_000);
    for (const bad of ['999', '300001', '1500.5', 'soon', '-1']) {
      expect(() => loadServerConfig({ HEARTBEAT_INTERVAL_MS: bad })).toThrow(/HEARTBEAT_INTERVAL_MS/);
    }
  });

  it('carries the NEON_* settings with the neon driver', () => {
    const env = {
      DB_DRIVER: 'neon',
      NEON_WS_PROXY: '127.0.0.1:9000/v2',
      NEON_USE_SECURE_WEBSOCKET: 'false',
      NEON_PIPELINE_TLS: '0',
      NEON_PIPELINE_CONNECT: 'false',
    };
    expect(loadServerConfig(env).driver).toEqual({
      name: 'neon',
      neon: {
        wsProxy: '127.0.0.1:9000/v2',
        useSecureWebSocket: false,
        pipelineTLS: false,
        pipelineConnect: false,
      },
    });
    expect(loadServerConfig({ DB_DRIVER: 'neon' }).driver).toEqual({ name: 'neon', neon: {} });
    expect(loadServerConfig({ DB_DRIVER: 'neon', NEON_PIPELINE_CONNECT: 'password' }).driver).toEqual({
      name: 'neon',
      neon: { pipelineConnect: 'password' },
    });
  });

  it('refuses malformed NEON_* values and unknown drivers', () => {
    expect(() => loadServerConfig({ DB_DRIVER: 'neon', NEON_USE_SECURE_WEBSOCKET: 'no' })).toThrow(
      /NEON_USE_SECURE_WEBSOCKET/,
    );
    expect(() => loadServerConfig({ DB_DRIVER: 'neon', NEON_PIPELINE_CONNECT: 'yes' })).toThrow(
      /NEON_PIPELINE_CONNECT/,
    );
    expect(() => loadServerConfig({ DB_DRIVER: 'mysql' })).toThrow(/DB_DRIVER/);
  });

  it('reads SYNC_SCOPES, and defaults to the demo scopes', () => {
    const scopes = '[{"table":"public.items","rule":{"kind":"shared"}}]';
    expect(loadServerConfig({ SYNC_SCOPES: scopes }).scope.tables.map((t) => t.table)).toEqual([
      'public.items',
    ]);
    expect(loadServerConfig({}).scope.byName.has('public.tasks')).toBe(true);
  });

  it('fails with one ConfigError line naming the setting (SYNC_SCOPES no longer throws a bare SyntaxError)', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ SYNC_SCOPES: '[{table: public.tasks}]' }, /^SYNC_SCOPES: is not valid JSON/],
      [
        { SYNC_SCOPES: '[{"table":"public.t","rule":{"kind":"any"}}]' },
        /^SYNC_SCOPES: entry 1 \(public\.t\): "rule\.kind"/,
      ],
      [{ LOG_RETENTION_MS: '7d' }, /^LOG_RETENTION_MS: must be a positive integer, got "7d"$/],
      [{ DB_DRIVER: 'mysql' }, /^DB_DRIVER: must be pg or neon, got "mysql"$/],
      // A secret: its length is named, never its value.
      [{ HEALTH_TOKEN: 'short-secret' }, /^HEALTH_TOKEN: must be at least 16 characters \(.*\), got 12$/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadServerConfig(env)).toThrow(ConfigError);
      expect(() => loadServerConfig(env)).toThrow(message);
      const check = tryLoadServerConfig(env);
      expect(check.ok).toBe(false);
      if (!check.ok) expect(check.error.message).toMatch(message);
    }
  });
});
