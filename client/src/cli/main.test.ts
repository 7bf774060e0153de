import { expect, it } from 'vitest';
import type { CliIo } from './cli-io.ts';
import { main } from './main.ts';

function fakeIo(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: async (text) => {
      out.push(text);
    },
    err: (line) => err.push(line),
    readStdin: async () => '',
    env,
  };
  return { io, out, err };
}

it('prints help on stdout and exits 0', async () => {
  const { io, out, err } = fakeIo();
  expect(await main(['help', 'sync'], io)).toBe(0);
  expect(out.join('')).toMatch(/^Usage: vibestack-client sync /);
  expect(err).toEqual([]);
});

it('reports a usage error on stderr with a pointer to the help, exit 2', async () => {
  const { io, out, err } = fakeIo();
  expect(await main(['sync', '--url', 'http://x', '--dir', 'd'], io)).toBe(2);
  expect(out).toEqual([]);
  expect(err).toEqual([
    'vibestack-client: sync: a token is required: --token, --token-command or VIBESTACK_TOKEN',
    'vibestack-client: run "vibestack-client sync --help" for usage',
  ]);
  expect(await main([], fakeIo().io)).toBe(2);
});

it('fails with exit 1 when query finds no database', async () => {
  const { io, err } = fakeIo();
  expect(await main(['query', '--dir', '/nonexistent/vibestack', 'SELECT 1'], io)).toBe(1);
  expect(err).toEqual([
    'vibestack-client: no database in /nonexistent/vibestack (create it with "vibestack-client sync")',
  ]);
});
