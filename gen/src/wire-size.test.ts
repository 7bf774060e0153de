/**
 * The value encoding's compactness target (docs/protocol.md §7): a change costs at most 40% of the bytes
 * Electric's JSON shape-log format uses for the same change. Measured on rows shaped like the demo schema's
 * `tasks` table, for transactions of 1 and of 100 inserts, and for single-column updates.
 */
import { describe, expect, it } from 'vitest';
import { sampleTaskRows, wireSizeRatios } from './testing/task-rows.ts';

describe('wire size compared with Electric JSON', () => {
  const ratios = wireSizeRatios(sampleTaskRows(100));

  it('one insert per transaction: ≤ 40%', () => {
    expect(ratios.singleInsert).toBeLessThanOrEqual(0.4);
  });

  it('100 inserts in one transaction: ≤ 40%', () => {
    expect(ratios.batchInsert).toBeLessThanOrEqual(0.4);
  });

  it('single-column updates (other columns marked unchanged): ≤ 40%', () => {
    expect(ratios.columnUpdate).toBeLessThanOrEqual(0.4);
  });
});
