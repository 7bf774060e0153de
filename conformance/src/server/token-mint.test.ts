import { describe, expect, it } from 'vitest';
import { createHs256Verifier } from '../../../server/src/core/auth/index.ts';
import { CONFORMANCE_USER } from '../constants.ts';
import { createTokenMint } from './token-mint.ts';

describe('token mint', () => {
  it('issues tokens the server accepts for the case user, each one different, also within one second', async () => {
    const secret = new Uint8Array(32).fill(7);
    const tokens = createTokenMint(secret, () => 1_700_000_000_000);
    const issued = await Promise.all([tokens.mint(), tokens.mint(), tokens.mint()]);
    expect(new Set(issued).size).toBe(3);
    const verifier = createHs256Verifier({ secret });
    for (const token of issued) {
      const claims = await verifier.verify(token, 1_700_000_000);
      expect(claims).toMatchObject({ sub: CONFORMANCE_USER });
    }
    await expect(
      createHs256Verifier({ secret: new Uint8Array(32).fill(8) }).verify(issued[0]!, 1_700_000_000),
    ).rejects.toThrow();
  });
});
