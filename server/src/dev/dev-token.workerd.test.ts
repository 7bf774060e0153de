/**
 * `GET /dev/token` in real workerd: `ttl` is whole seconds within 1 s – 30 days, anything else a 400 with a
 * message (it used to be a 500 for `ttl=abc` and a token with a negative or absurd lifetime otherwise), and the
 * token carries the configured `iss` / `aud`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_TOKEN_DEFAULT_TTL_SECONDS, DEV_TOKEN_MAX_TTL_SECONDS } from '../constants.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';

let worker: WranglerDev;

beforeAll(async () => {
  worker = await startWranglerDev({
    vars: {
      JWT_SECRET: 'dev',
      VIBESTACK_DEV: '1',
      JWT_ISSUER: 'https://idp.test/',
      JWT_AUDIENCE: 'vibestack',
    },
  });
}, 90_000);

afterAll(() => worker?.stop());

const payload = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('GET /dev/token', () => {
  it('mints a token for ttl seconds (a day by default) with the configured iss and aud', async () => {
    for (const [query, ttl] of [
      ['', DEV_TOKEN_DEFAULT_TTL_SECONDS],
      ['&ttl=1', 1],
      ['&ttl=60', 60],
      [`&ttl=${DEV_TOKEN_MAX_TTL_SECONDS}`, DEV_TOKEN_MAX_TTL_SECONDS],
    ] as const) {
      const response = await fetch(`${worker.url}/dev/token?sub=u1${query}`);
      expect(response.status, query).toBe(200);
      const body = (await response.json()) as { token: string; sub: string; expiresAt: string };
      const claims = payload(body.token);
      expect(claims).toMatchObject({ sub: 'u1', iss: 'https://idp.test/', aud: 'vibestack' });
      expect(claims.exp).toBe((claims.iat as number) + ttl);
      expect(body.expiresAt).toBe(new Date((claims.exp as number) * 1000).toISOString());
    }
  });

  it('answers 400 with a message for a ttl that is not whole seconds within 1 s – 30 days', async () => {
    for (const ttl of [
      'abc',
      '',
      '-5',
      '0',
      '1.5',
      '1e3',
      String(DEV_TOKEN_MAX_TTL_SECONDS + 1),
      '9'.repeat(20),
    ]) {
      const response = await fetch(`${worker.url}/dev/token?sub=u1&ttl=${encodeURIComponent(ttl)}`);
      expect(response.status, ttl).toBe(400);
      expect(await response.json()).toEqual({
        error: {
          code: 'bad_request',
          message: `ttl must be a whole number of seconds within 1–2592000 (30 days), got ${JSON.stringify(ttl)}`,
        },
      });
    }
    const noSub = await fetch(`${worker.url}/dev/token?ttl=60`);
    expect(noSub.status).toBe(400);
  });
});
