// @vitest-environment happy-dom
/**
 * `useSyncStatus` over a hand-driven client: it follows every status change, re-renders for a selected value
 * only when that value changes, sees a change made between render and subscription, never commits a torn tree,
 * and unsubscribes on unmount.
 */

import type { PGliteWithLive } from '@electric-sql/pglite/live';
import { ErrorCode, SyncError } from '@vibestack/proto';
import { act, type ReactNode, startTransition, useLayoutEffect, useState } from 'react';
import { expect, it } from 'vitest';
import type { ClientStatus } from '../core/client-types.ts';
import { SyncProvider } from './sync-provider.tsx';
import { createFakeClient, type FakeSyncClient } from './testing/fake-client.ts';
import { render } from './testing/render.tsx';
import { useSyncStatus } from './use-sync-status.ts';

const db = { live: {} } as unknown as PGliteWithLive;

function Status() {
  const { state, appliedLsn, error } = useSyncStatus();
  return (
    <p>
      {state} {appliedLsn.toString()} {error?.message ?? '-'}
    </p>
  );
}

/** Shows the state only, counting its renders. */
function State({ rendered }: { rendered: () => void }) {
  rendered();
  return <p>{useSyncStatus((s) => s.state)}</p>;
}

/** Changes the status in a layout effect: after the render, before the passive effect that subscribes. */
function Changer({ client }: { client: FakeSyncClient }) {
  useLayoutEffect(() => client.set({ state: 'SNAPSHOT', appliedLsn: 0n, caughtUpLsn: 0n }), [client]);
  return null;
}

/** Shows the state and, on every commit, records what all readers show in the DOM. */
function Reader({ commits }: { commits: string[][] }) {
  const state = useSyncStatus((s) => s.state);
  useLayoutEffect(() => {
    commits.push(Array.from(document.querySelectorAll('p'), (p) => p.textContent ?? ''));
  });
  return <p>{state}</p>;
}

/** Changes the status, without notifying, the first time it renders: in the middle of the render. */
function ChangeMidRender({ client, once }: { client: FakeSyncClient; once: { done: boolean } }) {
  if (!once.done) {
    once.done = true;
    client.set({ state: 'LIVE', appliedLsn: 1n, caughtUpLsn: 0n }, false);
  }
  return null;
}

/** Two readers with a status change between them, shown when `expose`'s setter is called. */
function Torn({
  client,
  commits,
  expose,
}: {
  client: FakeSyncClient;
  commits: string[][];
  expose: (show: (on: boolean) => void) => void;
}) {
  const [on, setOn] = useState(false);
  expose(setOn);
  const [once] = useState(() => ({ done: false }));
  return on ? (
    <>
      <Reader commits={commits} />
      <ChangeMidRender client={client} once={once} />
      <Reader commits={commits} />
    </>
  ) : null;
}

const mount = (client: FakeSyncClient, children: ReactNode) =>
  render(
    <SyncProvider client={client} db={db}>
      {children}
    </SyncProvider>,
  );

const set = (client: FakeSyncClient, status: ClientStatus) => act(() => client.set(status));

it('follows the status as the client changes it', async () => {
  const client = createFakeClient();
  const view = await mount(client, <Status />);
  expect(view.container.textContent).toBe('IDLE 0 -');
  await set(client, { state: 'CONNECTING', appliedLsn: 0n, caughtUpLsn: 0n });
  expect(view.container.textContent).toBe('CONNECTING 0 -');
  await set(client, { state: 'LIVE', appliedLsn: 42n, caughtUpLsn: 0n });
  expect(view.container.textContent).toBe('LIVE 42 -');
  const error = new SyncError(ErrorCode.UNAVAILABLE, 'network down');
  await set(client, { state: 'BACKOFF', appliedLsn: 42n, caughtUpLsn: 0n, error });
  expect(view.container.textContent).toBe(`BACKOFF 42 ${error.message}`);
  await view.unmount();
  expect(client.listeners).toBe(0);
});

it('with a selector, re-renders only when the selected value changes', async () => {
  const client = createFakeClient({ state: 'LIVE', appliedLsn: 1n, caughtUpLsn: 0n });
  let renders = 0;
  const view = await mount(client, <State rendered={() => renders++} />);
  const before = renders;
  for (let lsn = 2n; lsn < 10n; lsn++) await set(client, { state: 'LIVE', appliedLsn: lsn, caughtUpLsn: 0n });
  expect(renders).toBe(before);
  await set(client, { state: 'BACKOFF', appliedLsn: 9n, caughtUpLsn: 0n });
  expect(view.container.textContent).toBe('BACKOFF');
  expect(renders).toBeGreaterThan(before);
  await view.unmount();
});

it('sees a change made after its render but before it subscribed', async () => {
  const client = createFakeClient();
  const view = await mount(
    client,
    <>
      <Status />
      <Changer client={client} />
    </>,
  );
  expect(view.container.textContent).toBe('SNAPSHOT 0 -');
  await view.unmount();
});

it('never commits components of one render showing different statuses (no tearing)', async () => {
  const client = createFakeClient();
  const commits: string[][] = [];
  let show: (on: boolean) => void = () => undefined;
  const view = await mount(client, <Torn client={client} commits={commits} expose={(s) => (show = s)} />);
  await act(async () => startTransition(() => show(true)));
  expect(commits.length).toBeGreaterThan(0);
  for (const texts of commits) expect(texts).toEqual(['LIVE', 'LIVE']);
  await view.unmount();
  expect(client.listeners).toBe(0);
});
