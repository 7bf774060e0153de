import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tunePGliteMemFs } from './memory-fs.ts';

interface EmFs {
  open(path: string, flags: string): unknown;
  close(stream: unknown): void;
  write(stream: unknown, data: Uint8Array, offset: number, length: number, position: number): number;
  ftruncate(fd: number, size: number): void;
  readFile(path: string): Uint8Array;
  stat(path: string): { size: number };
  lookupPath(path: string): { node: { contents: Uint8Array } };
}
const fsOf = (db: PGlite) => (db as unknown as { Module: { FS: EmFs } }).Module.FS;

let tuned: PGlite;
let plain: PGlite;
beforeAll(async () => {
  [tuned, plain] = await Promise.all([PGlite.create(), PGlite.create()]);
  expect(tunePGliteMemFs(tuned)).toBe(true);
});
afterAll(async () => {
  await tuned.close();
  await plain.close();
});

type Op = { kind: 'write'; at: number; bytes: Uint8Array } | { kind: 'truncate'; size: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    at: fc.nat(200_000),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 5_000 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), size: fc.nat(250_000) }),
);

describe('tunePGliteMemFs', () => {
  it('keeps file contents and sizes exactly as a plain file would be after any writes and truncates', () => {
    const fs = fsOf(tuned);
    let n = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const path = `/tmp/memfs-prop-${n++}`;
        let model = new Uint8Array(0);
        const stream = fs.open(path, 'w+') as { fd: number };
        for (const o of ops) {
          if (o.kind === 'write') {
            fs.write(stream, o.bytes, 0, o.bytes.length, o.at);
            const next = new Uint8Array(Math.max(model.length, o.at + o.bytes.length));
            next.set(model);
            next.set(o.bytes, o.at);
            model = next;
          } else {
            fs.ftruncate(stream.fd, o.size);
            const next = new Uint8Array(o.size);
            next.set(model.subarray(0, o.size));
            model = next;
          }
        }
        fs.close(stream);
        expect(fs.stat(path).size).toBe(model.length);
        expect(Buffer.from(fs.readFile(path)).equals(Buffer.from(model))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('grows a file that is extended step by step geometrically, not by a copy per step', () => {
    const reallocations = (db: PGlite) => {
      const fs = fsOf(db);
      const stream = fs.open('/tmp/memfs-growth', 'w+') as { fd: number };
      let count = 0;
      let last: Uint8Array | undefined;
      for (let step = 1; step <= 200; step++) {
        fs.ftruncate(stream.fd, step * 65_536); // as posix_fallocate does when Postgres extends a table
        const contents = fs.lookupPath('/tmp/memfs-growth').node.contents;
        if (contents !== last) count++;
        last = contents;
      }
      fs.close(stream);
      return count;
    };
    expect(reallocations(plain)).toBe(200);
    expect(reallocations(tuned)).toBeLessThan(20);
  });

  it('leaves Postgres data intact: a bulk load and a copy between tables read back the same', async () => {
    for (const db of [tuned, plain]) {
      await db.exec(`CREATE TABLE big (id int PRIMARY KEY, payload text);
        INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 20000) g;
        CREATE TABLE copy AS SELECT * FROM big;`);
    }
    const digest = async (db: PGlite) =>
      (
        await db.query<{ d: string }>(
          "SELECT md5(string_agg(id || ':' || payload, ',' ORDER BY id)) AS d FROM copy",
        )
      ).rows[0]!.d;
    expect(await digest(tuned)).toBe(await digest(plain));
  });

  it('does nothing to an object without a reachable MEMFS', () => {
    expect(tunePGliteMemFs({})).toBe(false);
    expect(
      tunePGliteMemFs({
        get Module(): never {
          throw new Error('closed');
        },
      }),
    ).toBe(false);
  });
});
