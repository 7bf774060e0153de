// @vitest-environment happy-dom
/**
 * The live-query hooks over a real in-memory PGlite with the `live` extension: rows on screen, updates after
 * writes, a restart when the SQL or the parameter values change (and none for a fresh array of the same
 * values), a clean unmount, SQL errors, and a skipped query. Trees render in StrictMode (effects run twice).
 */

import type { ReactNode } from 'react';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SyncProvider } from './sync-provider.tsx';
import { createFakeClient } from './testing/fake-client.ts';
import { type CountingDb, createCountingDb } from './testing/live-pglite.ts';
import { render, settle, texts, waitFor } from './testing/render.tsx';
import { type LiveQueryResult, useLiveIncrementalQuery, useLiveQuery } from './use-live-query.ts';

let t: CountingDb;
beforeAll(async () => {
  t = await createCountingDb();
}, 60_000);
afterAll(() => t.db.close());
beforeEach(async () => {
  await t.db.exec(`DROP TABLE IF EXISTS todos;
    CREATE TABLE todos (id int PRIMARY KEY, title text NOT NULL, list int NOT NULL);
    INSERT INTO todos VALUES (1, 'milk', 1), (2, 'eggs', 1), (3, 'tax return', 2);`);
});

interface Todo {
  id: number;
  title: string;
}

/** Shows a live-query result: state in a heading, one <li> per row. */
function Show({ result }: { result: LiveQueryResult<Todo> }) {
  const { rows, loading, error } = result;
  return (
    <>
      <h1>{error ? `error: ${error.message}` : loading ? 'loading' : `${rows.length} rows`}</h1>
      <ul>
        {rows.map((r) => (
          <li key={r.id}>{r.title}</li>
        ))}
      </ul>
    </>
  );
}

function Todos({ list, sql }: { list: number; sql?: string | null }) {
  const result = useLiveQuery<Todo>(
    sql === undefined ? 'SELECT id, title FROM todos WHERE list = $1 ORDER BY id' : sql,
    [list],
  );
  return <Show result={result} />;
}

function IncrementalTodos() {
  return <Show result={useLiveIncrementalQuery<Todo>('SELECT id, title FROM todos ORDER BY id', [], 'id')} />;
}

const inProvider = (children: ReactNode) => (
  <SyncProvider client={createFakeClient()} db={t.db}>
    {children}
  </SyncProvider>
);

const heading = (c: HTMLElement) => c.querySelector('h1')?.textContent;

describe('useLiveQuery', () => {
  it('shows the rows and follows inserts, updates and deletes', async () => {
    const view = await render(inProvider(<Todos list={1} />));
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['milk', 'eggs']));
    expect(heading(view.container)).toBe('2 rows');

    await t.db.query("INSERT INTO todos VALUES (4, 'bread', 1), (5, 'other list', 2)");
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['milk', 'eggs', 'bread']));
    await t.db.query("UPDATE todos SET title = 'oat milk' WHERE id = 1");
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['oat milk', 'eggs', 'bread']));
    await t.db.query('DELETE FROM todos WHERE id = 2');
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['oat milk', 'bread']));
    await view.unmount();
  });

  it('is loading until the first results', async () => {
    const view = await render(inProvider(<Todos list={1} />));
    // The live query starts in an effect and PGlite answers asynchronously: the first commit has no rows yet.
    const first = heading(view.container);
    expect(['loading', '2 rows']).toContain(first);
    await waitFor(() => expect(heading(view.container)).toBe('2 rows'));
    await view.unmount();
  });

  it('restarts when the parameters change, not for a fresh array of the same values', async () => {
    const view = await render(inProvider(<Todos list={1} />));
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['milk', 'eggs']));
    const starts = t.starts();
    for (let i = 0; i < 3; i++) await view.rerender(inProvider(<Todos list={1} />));
    await settle(50);
    expect(t.starts()).toBe(starts);

    await view.rerender(inProvider(<Todos list={2} />));
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['tax return']));
    expect(t.starts()).toBeGreaterThan(starts);
    // Only the running query follows changes: list 2's, not list 1's.
    await t.db.query("INSERT INTO todos VALUES (6, 'passport', 2)");
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['tax return', 'passport']));
    await waitFor(async () => expect(await t.views()).toBe(1));
    await view.unmount();
  });

  it('restarts when the SQL changes', async () => {
    const view = await render(inProvider(<Todos list={1} />));
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['milk', 'eggs']));
    await view.rerender(
      inProvider(
        <Todos list={1} sql="SELECT id, upper(title) AS title FROM todos WHERE list = $1 ORDER BY id" />,
      ),
    );
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['MILK', 'EGGS']));
    await view.unmount();
  });

  it('stops on unmount: no more results, no live query left in the database', async () => {
    const view = await render(inProvider(<Todos list={1} />));
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['milk', 'eggs']));
    expect(await t.views()).toBe(1); // StrictMode's first mount has been cleaned up already
    await view.unmount();
    await waitForViews(0);
    const delivered = t.deliveries();
    await t.db.query("INSERT INTO todos VALUES (7, 'late', 1)");
    await t.db.query("UPDATE todos SET title = 'later' WHERE id = 7");
    await settle(100);
    expect(t.deliveries()).toBe(delivered);
  });

  it('reports SQL errors, and recovers when the SQL is fixed', async () => {
    const view = await render(
      inProvider(<Todos list={1} sql="SELECT id, title FROM todoz WHERE list = $1" />),
    );
    await waitFor(() => expect(heading(view.container)).toMatch(/^error: .*todoz.*does not exist/));
    expect(texts(view.container, 'li')).toEqual([]);
    await view.rerender(inProvider(<Todos list={1} />));
    await waitFor(() => expect(heading(view.container)).toBe('2 rows'));
    await view.unmount();
    await waitForViews(0);
  });

  it('runs nothing for a null query', async () => {
    const starts = t.starts();
    const view = await render(inProvider(<Todos list={1} sql={null} />));
    await settle(50);
    expect(heading(view.container)).toBe('0 rows');
    expect(t.starts()).toBe(starts);
    await view.rerender(inProvider(<Todos list={1} />));
    await waitFor(() => expect(heading(view.container)).toBe('2 rows'));
    await view.unmount();
  });
});

describe('useLiveIncrementalQuery', () => {
  it('shows the rows and follows changes', async () => {
    const view = await render(inProvider(<IncrementalTodos />));
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['milk', 'eggs', 'tax return']));
    await t.db.exec(`INSERT INTO todos VALUES (8, 'apples', 1);
      UPDATE todos SET title = 'free range eggs' WHERE id = 2;
      DELETE FROM todos WHERE id = 3;`);
    await waitFor(() => expect(texts(view.container, 'li')).toEqual(['milk', 'free range eggs', 'apples']));
    await view.unmount();
    await waitForViews(0);
  });
});

async function waitForViews(n: number): Promise<void> {
  for (let i = 0; i < 200 && (await t.views()) !== n; i++) await settle(10);
  expect(await t.views()).toBe(n);
}
