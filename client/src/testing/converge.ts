/** Waiting until the client's local rows equal the server's (the client applies asynchronously). Test-only. */

import { expect } from 'vitest';
import type { TextRows } from './text-rows.ts';

/**
 * Waits until `local()` equals `server()`; on timeout fails with the difference. Reads the server first, so a
 * local state that overtook a stale server read cannot pass.
 */
export async function expectConverges(
  local: () => Promise<TextRows>,
  server: () => Promise<TextRows>,
  timeoutMs = 30_000,
): Promise<TextRows> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const theirs = await server();
    const mine = await local();
    if (JSON.stringify(mine) === JSON.stringify(theirs)) return mine;
    if (Date.now() > deadline) {
      expect(mine).toEqual(theirs);
      return mine;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
