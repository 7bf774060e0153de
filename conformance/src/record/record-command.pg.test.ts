import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testClusterAdmin } from '@vibestack/server/dev';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL_ENV } from '../constants.ts';
import { fixtureJson, readFixtureFile } from '../fixture/fixture-file.ts';
import { parseRecordArgs, runRecord } from './record-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'vs-conformance-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vibestack-conformance record (real Postgres)', () => {
  it('records a workload on the DATABASE_URL server into fixtures/ beside workloads/', async () => {
    mkdirSync(join(dir, 'workloads'));
    const workload = join(dir, 'workloads', 'tiny.sql');
    writeFileSync(workload, '-- Tiny.\nCREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1);\n');
    const lines: string[] = [];
    const written = await runRecord(
      parseRecordArgs(['--workload', workload]),
      { [DATABASE_URL_ENV]: testClusterAdmin().url },
      (line) => lines.push(line),
    );
    const out = join(dir, 'fixtures', 'tiny.json');
    expect(written).toEqual([out]);
    const fixture = readFixtureFile(out);
    expect(fixture.description).toBe('Tiny.');
    expect(fixture.commits).toHaveLength(1);
    expect(readFileSync(out, 'utf8')).toBe(fixtureJson(fixture));
    expect(lines.at(-1)).toBe(`wrote ${out}: 1 transactions, 4 messages`);
  });
});
