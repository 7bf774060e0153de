import { expect, it } from 'vitest';
import { createTokenProvider, type TokenProvider } from './token-source.ts';

it('passes a fixed token as a string, so that the client fails when it is refused', () => {
  expect(createTokenProvider({ kind: 'fixed', token: 'abc' }, {})).toBe('abc');
});

/** The provider of a token command. */
function commandTokens(command: string, env: Record<string, string | undefined>): TokenProvider {
  const tokens = createTokenProvider({ kind: 'command', command }, env);
  if (typeof tokens === 'string') throw new Error('a token command gave a fixed token');
  return tokens;
}

it('runs the token command for every token, telling it when a fresh one is needed', async () => {
  const tokens = commandTokens('printf "  tok-%s-%s\\n" "$VIBESTACK_TOKEN_FRESH" "$SUFFIX"', {
    PATH: process.env.PATH,
    SUFFIX: 'x',
  });
  expect(await tokens(false)).toBe('tok-0-x');
  expect(await tokens(true)).toBe('tok-1-x');
});

it('reports a failing or silent token command', async () => {
  const failing = commandTokens('echo "auth server down" >&2; exit 3', {});
  await expect(failing(false)).rejects.toThrow(/--token-command failed .*: auth server down/);
  const silent = commandTokens('true', { PATH: process.env.PATH });
  await expect(silent(false)).rejects.toThrow(/printed no token/);
});
