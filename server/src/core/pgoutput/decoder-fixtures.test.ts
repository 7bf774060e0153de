import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPgoutputDecoder, decodePgoutputMessage } from './decoder.ts';
import { bytesToHex, type FixtureFile, hexToBytes, toJson } from './fixture-json.ts';
import { encodePgoutputMessage } from './test-encoder.ts';
import { createTransactionAssembler } from './transaction-assembler.ts';

// Replays pgoutput bytes recorded from real Postgres (decoder.pg.test.ts with VIBESTACK_RECORD_PGOUTPUT_FIXTURES=1)
// without Postgres.

const dir = new URL('./fixtures/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, file: JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as FixtureFile }));

describe('recorded pgoutput fixtures', () => {
  it('are present', () => {
    expect(fixtures.map((f) => f.name)).toEqual([
      'changes.json',
      'stream-v2.json',
      'toast.json',
      'type-matrix.json',
    ]);
  });

  describe.each(fixtures)('$name', ({ file }) => {
    const decodeAll = () =>
      file.messages.map((m) => {
        const bytes = hexToBytes(m.hex);
        const message = decodePgoutputMessage(bytes, { inStream: m.inStream });
        expect(bytesToHex(bytes)).toBe(m.hex); // the input is not modified
        return message;
      });

    it('every message decodes to its recorded expectation, deterministically', () => {
      const first = decodeAll();
      expect(first.map(toJson)).toEqual(file.messages.map((m) => m.expected));
      expect(decodeAll().map(toJson)).toEqual(first.map(toJson));
    });

    it('totals match the recorded summary', () => {
      const counts: Record<string, number> = {};
      for (const message of decodeAll()) counts[message.type] = (counts[message.type] ?? 0) + 1;
      expect(counts).toEqual(file.summary.counts);
      expect(file.messages.reduce((sum, m) => sum + m.hex.length / 2, 0)).toBe(file.summary.bytes);
    });

    it('the stateful decoder finds the same stream blocks in order', () => {
      const decoder = createPgoutputDecoder();
      for (const m of file.messages) {
        expect(decoder.inStream).toBe(m.inStream);
        decoder.decode(hexToBytes(m.hex));
      }
      expect(decoder.inStream).toBe(false);
    });

    it('the test encoder reproduces the recorded bytes exactly', () => {
      for (const [i, message] of decodeAll().entries()) {
        expect(bytesToHex(encodePgoutputMessage(message))).toBe(file.messages[i]!.hex);
      }
    });

    it('assembles without protocol violations, one commit per Begin / Stream Commit', () => {
      const assembler = createTransactionAssembler({ maxChunkChanges: 7, shapeFor: (r) => r.relationOid });
      const events = decodeAll().flatMap((m) => [...assembler.push(m)]);
      expect(assembler.busy).toBe(false);
      const commits = events.filter((e) => e.type === 'commit');
      expect(commits).toHaveLength(
        (file.summary.counts.begin ?? 0) + (file.summary.counts['stream-commit'] ?? 0),
      );
      const changeCount = ['insert', 'update', 'delete', 'truncate'].reduce(
        (sum, type) => sum + (file.summary.counts[type] ?? 0),
        0,
      );
      expect(commits.reduce((sum, c) => sum + c.changes, 0)).toBe(changeCount);
    });
  });
});
