import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecordArgs } from './record-command.ts';

describe('parseRecordArgs', () => {
  it('writes beside the workload directory by default, or to --out, named after the file or --name', () => {
    expect(parseRecordArgs(['--workload', 'suite/workloads/basic.sql', '--workload', 'x/types.sql'])).toEqual(
      [
        { workload: resolve('suite/workloads/basic.sql'), out: resolve('suite/fixtures/basic.json') },
        { workload: resolve('x/types.sql'), out: resolve('fixtures/types.json') },
      ],
    );
    expect(parseRecordArgs(['--workload', 'a.sql', '--out', '/tmp/f', '--name', 'b'])).toEqual([
      { workload: resolve('a.sql'), out: join('/tmp/f', 'b.json') },
    ]);
  });

  it('needs a workload, and --name only with one', () => {
    expect(() => parseRecordArgs([])).toThrow(/--workload/);
    expect(() => parseRecordArgs(['--workload', 'a.sql', '--workload', 'b.sql', '--name', 'c'])).toThrow(
      /--name/,
    );
    expect(() => parseRecordArgs(['--workload', 'a.sql', '--bogus'])).toThrow();
  });
});
