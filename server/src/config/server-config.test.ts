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

  it('refuses a JWT_SECRET under 32 bytes outside dev, naming JWT_SECRET and never the value', () => {
    const short = 'a-secret-of-31-bytes-0123456789';
    expect(new TextEncoder().encode(short).length).toBe(31);
    let message = '';
    try {
      loadServerConfig({ JWT_SECRET: short });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^JWT_SECRET: is 31 bytes long; it must be at least 32 bytes/);
    expect(message).not.toContain(short);
    // Bytes, not characters: 16 two-byte characters are 32 bytes.
    expect(loadServerConfig({ JWT_SECRET: 'é'.repeat(16) }).jwtSecret).toBe('é'.repeat(16));
    expect(loadServerConfig({ JWT_SECRET: `${short}!` }).jwtSecret).toBe(`${short}!`);
    // Dev mode (VIBESTACK_DEV=1) takes any secret; unset or empty means none.
    expect(loadServerConfig({ JWT_SECRET: 'dev', VIBESTACK_DEV: '1' }).jwtSecret).toBe('dev');
    expect(loadServerConfig({ JWT_SECRET: '' }).jwtSecret).toBeUndefined();
    expect(loadServerConfig({}).jwtSecret).toBeUndefined();
  });

  it('reads JWKS_URL (https:, or http: to a loopback host), JWT_ISSUER and JWT_AUDIENCE', () => {
    const config = loadServerConfig({
      JWKS_URL: 'https://example.auth0.com/.well-known/jwks.json',
      JWT_ISSUER: 'https://example.auth0.com/',
      JWT_AUDIENCE: 'vibestack',
    });
    expect(config).toMatchObject({
      jwksUrl: 'https://example.auth0.com/.well-known/jwks.json',
      jwtIssuer: 'https://example.auth0.com/',
      jwtAudience: 'vibestack',
    });
    for (const local of ['http://127.0.0.1:9999/jwks', 'http://localhost/jwks', 'http://[::1]:80/jwks']) {
      expect(loadServerConfig({ JWKS_URL: local }).jwksUrl).toBe(new URL(local).href);
    }
    expect(loadServerConfig({ JWKS_URL: '', JWT_ISSUER: '' })).toMatchObject({
      jwksUrl: undefined,
      jwtIssuer: undefined,
    });
    for (const bad of ['http://idp.example.com/jwks', 'ftp://127.0.0.1/jwks', '/jwks', 'not a url']) {
      expect(() => loadServerConfig({ JWKS_URL: bad })).toThrow(/^JWKS_URL: must be/);
    }
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
