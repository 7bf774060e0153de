/**
 * Production auth in real workerd: the Worker verifies tokens signed by an identity provider's keys (RSA, EC
 * P-256, Ed25519 — generated here) against a JWKS that this test serves on 127.0.0.1, next to HS256 with a
 * 32-byte secret, outside dev mode. Hostile tokens are refused with UNAUTHENTICATED (4001); a key added to the
 * JWKS is found by reloading it; a flood of unknown `kid`s costs the JWKS one request per cooldown; a JWKS
 * that is down makes tokens UNAVAILABLE (4017) with a retry hint, not UNAUTHENTICATED.
 */
import { ErrorCode, type ServerMessage } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JWKS_COOLDOWN_MS } from '../core/auth/jwks-key-set.ts';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { createItemsTable, ITEMS_SCOPES } from '../testing/items-writer.ts';
import {
  generateTestKey,
  type JwksServer,
  signTestHs256,
  signTestToken,
  startJwksServer,
} from '../testing/jwt-keys.ts';
import { connectProtocolClient } from '../testing/protocol-client.ts';

const SECRET = 'jwks-workerd-test-secret-of-40-bytes-0123';
const ISSUER = 'https://idp.test/';
const AUDIENCE = 'vibestack-test';
const rsa = generateTestKey('RS256', 'rsa-1');
const ec = generateTestKey('ES256', 'ec-1');
const ed = generateTestKey('EdDSA', 'ed-1');

let db: TestDatabase;
let jwks: JwksServer;
let downJwks: JwksServer;
let worker: WranglerDev;
let downWorker: WranglerDev;
const lines: string[] = [];
let clients = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await createItemsTable(sql, 1);
  await sql.end();
  [jwks, downJwks] = await Promise.all([startJwksServer([rsa, ec, ed]), startJwksServer([rsa])]);
  downJwks.setUp(false);
  const vars = {
    DATABASE_URL: db.url,
    SYNC_SCOPES: ITEMS_SCOPES,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
  };
  // No VIBESTACK_DEV: production rules (the secret has at least 32 bytes).
  [worker, downWorker] = await Promise.all([
    startWranglerDev({
      vars: { ...vars, JWT_SECRET: SECRET, JWKS_URL: jwks.url },
      log: (line) => lines.push(line),
    }),
    startWranglerDev({ vars: { ...vars, JWKS_URL: downJwks.url } }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([worker?.stop(), downWorker?.stop()]);
  await Promise.all([jwks?.close(), downJwks?.close()]);
  await db?.drop();
}, 60_000);

/** Valid claims for user `sub`, changed by `extra`. */
function claims(sub: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600, ...extra };
}

type Outcome =
  | { readonly ok: true; readonly userId: string }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      readonly retryAfterMs: number;
      readonly closeCode: number;
    };

/** Connects with `token` on a new client id: Welcome, or the Error frame and the close code. */
async function attempt(token: string, target: WranglerDev = worker): Promise<Outcome> {
  const c = await connectProtocolClient(target.url, { clientId: `jwks-${++clients}`, token });
  const first: ServerMessage = await c.waitFor(
    (m) => m.message.case === 'welcome' || m.message.case === 'error',
    30_000,
  );
  if (first.message.case === 'welcome') {
    c.close();
    return { ok: true, userId: first.message.value.userId };
  }
  const error = first.message.case === 'error' ? first.message.value : undefined;
  const closed = await c.closed;
  return {
    ok: false,
    code: error?.code ?? ErrorCode.UNSPECIFIED,
    message: error?.message ?? '',
    retryAfterMs: error?.retryAfterMs ?? 0,
    closeCode: closed.code,
  };
}

/** Expects UNAUTHENTICATED with close 4001 and a message matching `message`. */
async function refused(token: string, message: RegExp): Promise<void> {
  const outcome = await attempt(token);
  expect(outcome).toMatchObject({ ok: false, code: ErrorCode.UNAUTHENTICATED, closeCode: 4001 });
  expect(!outcome.ok && outcome.message).toMatch(message);
}

const unknownKid = (i: number) => signTestToken(rsa, claims('mallory'), { kid: `forged-${i}` });

describe('JWKS tokens in workerd', () => {
  let firstLoadAt = 0;

  it('accepts RS256, ES256 and EdDSA tokens from the JWKS, and HS256 with JWT_SECRET', async () => {
    firstLoadAt = Date.now();
    for (const key of [rsa, ec, ed]) {
      expect(await attempt(signTestToken(key, claims(`user-${key.alg}`)))).toEqual({
        ok: true,
        userId: `user-${key.alg}`,
      });
    }
    expect(await attempt(signTestHs256(SECRET, claims('user-hs')))).toEqual({ ok: true, userId: 'user-hs' });
    // One load served every key.
    expect(jwks.requests).toBe(1);
  }, 60_000);

  it('refuses hostile and invalid tokens with UNAUTHENTICATED (4001)', async () => {
    const impostor = generateTestKey('RS256', rsa.kid);
    await refused(signTestToken(impostor, claims('mallory')), /^bad signature$/);
    await refused(signTestToken(ec, claims('mallory', { iss: 'https://evil.test/' })), /issued by/);
    await refused(signTestToken(ed, claims('mallory', { aud: 'another-app' })), /audience/);
    const past = Math.floor(Date.now() / 1000) - 3600;
    await refused(signTestToken(rsa, claims('mallory', { iat: past, exp: past + 60 })), /expired/);
    // An RS256 key named by an HS256 header, "signed" with the public key as HMAC secret: HS256 only ever
    // uses JWT_SECRET. And an RS256 key named by an ES256 header.
    await refused(
      signTestHs256(JSON.stringify(rsa.jwk), claims('mallory'), { kid: rsa.kid }),
      /^bad signature$/,
    );
    await refused(signTestToken(ec, claims('mallory'), { kid: rsa.kid }), /no ES256 key with kid "rsa-1"/);
    const unsigned = signTestToken(rsa, claims('mallory'), { alg: 'none' }).replace(/[^.]+$/, '');
    await refused(unsigned, /alg "none"/);
    // An unknown kid within the cooldown of the first load: refused without asking the JWKS again.
    await refused(unknownKid(0), /no RS256 key with kid "forged-0"/);
    expect(jwks.requests).toBe(1);
  }, 60_000);

  it('a flood of unknown kids costs one JWKS request per cooldown; a key added to the JWKS is found', async () => {
    const flood = async (n: number, extra: Promise<Outcome>[] = []) => {
      const outcomes = await Promise.all([
        ...Array.from({ length: n }, (_, i) => attempt(unknownKid(i + 1))),
        ...extra,
      ]);
      const refusedCodes = outcomes.slice(0, n).map((o) => !o.ok && o.closeCode);
      expect(refusedCodes).toEqual(Array.from({ length: n }, () => 4001));
      return outcomes.slice(n);
    };
    await flood(10);
    expect(jwks.requests).toBe(1);

    // After the cooldown the provider rotates: a new key appears. The flood and the token with the new kid
    // arrive together: one load serves them all.
    const wait = firstLoadAt + DEFAULT_JWKS_COOLDOWN_MS + 1_500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const rotated = generateTestKey('ES256', 'ec-2');
    jwks.setKeys([rsa, ec, ed, rotated]);
    const [outcome] = await flood(10, [attempt(signTestToken(rotated, claims('user-rotated')))]);
    expect(outcome).toEqual({ ok: true, userId: 'user-rotated' });
    expect(jwks.requests).toBe(2);
    await flood(10);
    expect(jwks.requests).toBe(2);
    // Several SyncDOs waited on one load: workerd did not cancel any of them.
    expect(lines.filter((l) => /different request context|will never generate a response/i.test(l))).toEqual(
      [],
    );
  }, 90_000);

  it('a JWKS that is down makes tokens UNAVAILABLE (4017) with a retry hint, and is not asked again at once', async () => {
    const token = signTestToken(rsa, claims('u'));
    for (let i = 0; i < 3; i++) {
      const outcome = await attempt(token, downWorker);
      expect(outcome).toMatchObject({ ok: false, code: ErrorCode.UNAVAILABLE, closeCode: 4017 });
      expect(!outcome.ok && outcome.message).toBe('the JWKS could not be loaded (HTTP 503)');
      expect(!outcome.ok && outcome.retryAfterMs).toBeGreaterThan(DEFAULT_JWKS_COOLDOWN_MS - 10_000);
    }
    expect(downJwks.requests).toBe(1);
  }, 60_000);
});
