import { expect, it } from 'vitest';
import { createTokenProvider } from './token-source.ts';

it('returns a fixed token, and refuses to renew it', async () => {
  const tokens = createTokenProvider({ kind: 'fixed', token: 'abc' }, {});
  expect(await tokens(false)).toBe('abc');
  await expect(tokens(true)).rejects.toThrow(/cannot be renewed/);
});

it('runs the token command for every token, telling it when a fresh one is needed', async () => {
  const tokens = createTokenProvider(
    { kind: 'command', command: 'printf "  tok-%s-%s\\n" "$VIBESTACK_TOKEN_FRESH" "$SUFFIX"' },
    { PATH: process.env.PATH, SUFFIX: 'x' },
  );
  expect(await tokens(false)).toBe('tok-0-x');
  expect(await tokens(true)).toBe('tok-1-x');
});

it('reports a failing or silent token command', async () => {
  const failing = createTokenProvider(
    { kind: 'command', command: 'echo "auth server down" >&2; exit 3' },
    {},
  );
  await expect(failing(false)).rejects.toThrow(/--token-command failed .*: auth server down/);
  const silent = createTokenProvider({ kind: 'command', command: 'true' }, { PATH: process.env.PATH });
  await expect(silent(false)).rejects.toThrow(/printed no token/);
});
