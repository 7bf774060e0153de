import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWKS_MAX_BYTES, LOOPBACK_HOST } from '../constants.ts';
import {
  generateTestKey,
  type JwksServer,
  signTestHs256,
  signTestToken,
  startJwksServer,
} from '../testing/jwt-keys.ts';
import { syncErrorOf } from '../testing/sync-error-of.ts';
import { createTokenVerifier } from './create-token-verifier.ts';

const SECRET = 'create-token-verifier-secret-0123456789';
const NOW = Math.floor(Date.now() / 1000);
const es = generateTestKey('ES256', 'es-1');
let jwks: JwksServer;

beforeAll(async () => {
  jwks = await startJwksServer([es]);
});
afterAll(() => jwks.close());

/** An HTTP server answering every request with `handler`'s status, headers and body. */
async function serve(status: number, body: string, headers: Record<string, string> = {}) {
  const server = createServer((_req, res) => res.writeHead(status, headers).end(body));
  await new Promise<void>((r) => server.listen(0, LOOPBACK_HOST, r));
  return {
    url: `http://${LOOPBACK_HOST}:${(server.address() as AddressInfo).port}/jwks`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const unset = { jwtSecret: undefined, jwksUrl: undefined, jwtIssuer: undefined, jwtAudience: undefined };

describe('createTokenVerifier', () => {
  it('verifies HS256 with JWT_SECRET and ES256 from JWKS_URL side by side; the token alg picks', async () => {
    const v = createTokenVerifier({ ...unset, jwtSecret: SECRET, jwksUrl: jwks.url });
    expect((await v.verify(signTestHs256(SECRET, { sub: 'h' }), NOW)).sub).toBe('h');
    expect((await v.verify(signTestToken(es, { sub: 'e' }), NOW)).sub).toBe('e');
    // HS256 signed with anything but the secret, e.g. the JWKS's public key text, is refused.
    const confused = signTestHs256(JSON.stringify(es.jwk), { sub: 'x' }, { kid: es.kid });
    expect((await syncErrorOf(v.verify(confused, NOW))).rawMessage).toBe('bad signature');
  });

  it('accepts only the configured algorithms', async () => {
    const hsOnly = createTokenVerifier({ ...unset, jwtSecret: SECRET });
    expect((await syncErrorOf(hsOnly.verify(signTestToken(es, { sub: 'e' }), NOW))).rawMessage).toMatch(
      /no key accepts algorithm "ES256"/,
    );
    const jwksOnly = createTokenVerifier({ ...unset, jwksUrl: jwks.url });
    expect((await syncErrorOf(jwksOnly.verify(signTestHs256(SECRET, { sub: 'h' }), NOW))).rawMessage).toMatch(
      /no key accepts algorithm "HS256"/,
    );
    const none = await syncErrorOf(
      createTokenVerifier(unset).verify(signTestHs256(SECRET, { sub: 'h' }), NOW),
    );
    expect(none.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(none.rawMessage).toBe('the server has neither JWT_SECRET nor JWKS_URL set');
  });

  it('checks JWT_ISSUER and JWT_AUDIENCE on every token', async () => {
    const v = createTokenVerifier({
      ...unset,
      jwtSecret: SECRET,
      jwksUrl: jwks.url,
      jwtIssuer: 'idp',
      jwtAudience: 'app',
    });
    expect(await v.verify(signTestToken(es, { sub: 'e', iss: 'idp', aud: ['app'] }), NOW)).toBeDefined();
    expect(
      (await syncErrorOf(v.verify(signTestToken(es, { sub: 'e', iss: 'other', aud: 'app' }), NOW)))
        .rawMessage,
    ).toMatch(/issued by/);
    expect(
      (await syncErrorOf(v.verify(signTestHs256(SECRET, { sub: 'h', iss: 'idp' }), NOW))).rawMessage,
    ).toMatch(/audience/);
  });

  it('a JWKS endpoint that fails, redirects, is too large or is not JSON makes tokens UNAVAILABLE', async () => {
    const cases = [
      await serve(500, 'oops'),
      await serve(302, '', { location: 'http://127.0.0.1:1/elsewhere' }),
      await serve(200, 'x'.repeat(JWKS_MAX_BYTES + 1)),
      await serve(200, '{"keys": [', { 'content-type': 'application/json' }),
    ];
    const messages: string[] = [];
    for (const endpoint of cases) {
      const v = createTokenVerifier({ ...unset, jwksUrl: endpoint.url });
      const error = await syncErrorOf(v.verify(signTestToken(es, { sub: 'e' }), NOW));
      expect(error.code).toBe(ErrorCode.UNAVAILABLE);
      expect(error.retryAfterMs).toBeGreaterThan(0);
      messages.push(error.rawMessage);
      await endpoint.close();
    }
    expect(messages[0]).toBe('the JWKS could not be loaded (HTTP 500)');
    expect(messages[1]).toMatch(/HTTP 302 \(a redirect to http:\/\/127\.0\.0\.1:1\/elsewhere\)/);
    expect(messages[2]).toMatch(/larger than/);
    expect(messages[3]).toMatch(/JSON/);
  });
});
