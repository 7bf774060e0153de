// @vitest-environment happy-dom
/**
 * The provider and its accessors: the hooks read the provided client and database, and throw a clear error
 * outside a provider; a database without the live extension is refused up front.
 */

import type { PGliteWithLive } from '@electric-sql/pglite/live';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SyncProvider, usePGlite, useSyncClient } from './sync-provider.tsx';
import { createFakeClient } from './testing/fake-client.ts';
import { render } from './testing/render.tsx';
import { useLiveIncrementalQuery, useLiveQuery } from './use-live-query.ts';
import { useSyncStatus } from './use-sync-status.ts';

// Stands in for a PGlite: these tests never query it.
const db = { live: {} } as unknown as PGliteWithLive;

afterEach(() => {
  vi.restoreAllMocks();
  document.body.replaceChildren(); // containers of trees that failed to render
});

/** Calls `hook` when it renders and hands its value to `got`. */
function Probe({ hook, got }: { hook: () => unknown; got: (value: unknown) => void }) {
  got(hook());
  return null;
}

/** Renders a component that calls `hook`; resolves to what the hook returned. */
async function call<T>(hook: () => T, wrap = true): Promise<T> {
  let got: { value: T } | undefined;
  const probe = <Probe hook={hook} got={(value) => (got = { value: value as T })} />;
  const view = await render(
    wrap ? (
      <SyncProvider client={createFakeClient()} db={db}>
        {probe}
      </SyncProvider>
    ) : (
      probe
    ),
  );
  await view.unmount();
  if (got === undefined) throw new Error('the probe did not render');
  return got.value;
}

describe('SyncProvider', () => {
  it('gives the client and the database to the components below', async () => {
    const client = createFakeClient();
    let seen: unknown[] = [];
    const view = await render(
      <SyncProvider client={client} db={db}>
        <div>
          <Probe hook={() => [useSyncClient(), usePGlite()]} got={(value) => (seen = value as unknown[])} />
        </div>
      </SyncProvider>,
    );
    expect(seen[0]).toBe(client);
    expect(seen[1]).toBe(db);
    await view.unmount();
  });

  it.each<[string, () => unknown]>([
    ['useSyncClient', () => useSyncClient()],
    ['usePGlite', () => usePGlite()],
    ['useSyncStatus', () => useSyncStatus()],
    ['useLiveQuery', () => useLiveQuery('SELECT 1')],
    ['useLiveIncrementalQuery', () => useLiveIncrementalQuery('SELECT 1 AS id', [], 'id')],
  ])('%s throws outside a SyncProvider', async (name, hook) => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined); // React reports the render error too
    await expect(call(hook, false)).rejects.toThrow(`${name}() must be called inside a <SyncProvider>`);
    expect(await call(() => 'fine')).toBe('fine');
  });

  it('refuses a database without the live extension', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const plain = {} as PGliteWithLive;
    await expect(render(<SyncProvider client={createFakeClient()} db={plain} />)).rejects.toThrow(
      /no live extension/,
    );
  });
});
