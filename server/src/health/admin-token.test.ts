import { describe, expect, it } from 'vitest';
import { presentsToken } from './admin-token.ts';

describe('presentsToken', () => {
  const token = 'health-token-0123456789';
  it('accepts exactly "Bearer <token>"', async () => {
    expect(await presentsToken(`Bearer ${token}`, token)).toBe(true);
    for (const header of [
      undefined,
      '',
      token,
      `bearer ${token}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(1)}`,
      'Bearer ',
    ]) {
      expect(await presentsToken(header, token), String(header)).toBe(false);
    }
  });

  it('accepts nothing when no token is configured', async () => {
    expect(await presentsToken('Bearer ', undefined)).toBe(false);
    expect(await presentsToken('Bearer ', '')).toBe(false);
  });
});
