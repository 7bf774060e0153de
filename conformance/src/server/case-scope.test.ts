import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { readFixtureFile } from '../fixture/fixture-file.ts';
import { ScopedTableSchema } from '../proto.ts';
import { BUILTIN_FIXTURES } from '../runner/suite-loader.ts';
import { cellText } from '../state/canonical-state.ts';
import { caseScope, visibleState } from './case-scope.ts';
import { stateAt } from './case-world.ts';

const scoped = readFixtureFile(join(BUILTIN_FIXTURES, 'scoped.json'));
const rule = create(ScopedTableSchema, { table: 'public.notes', column: 'owner', claim: 'sub' });

describe('case scope', () => {
  it('builds claim rules for scoped tables and shares the others', () => {
    const scope = caseScope(scoped, [rule]);
    expect(scope.byName.get('public.notes')?.rule).toEqual({ kind: 'claim', column: 'owner', claim: 'sub' });
    expect(scope.byName.get('public.folders')?.rule).toEqual({ kind: 'shared' });
    expect(() => caseScope(scoped, [{ ...rule, table: 'public.nope' }])).toThrow(/not in the fixture/);
    expect(() => caseScope(scoped, [{ ...rule, column: 'nope' }])).toThrow(/no column nope/);
  });

  it("keeps only the conformance user's rows of scoped tables, and every row of shared ones", () => {
    const all = stateAt(scoped, 2);
    const seen = visibleState(all, [rule]);
    const notes = (s: typeof all) => s.tables.find((t) => t.name === 'notes')!;
    expect(notes(all).rows).toHaveLength(3);
    expect(notes(seen).rows.map((r) => cellText(r.cells[1]))).toEqual(['conformance-user']);
    expect(seen.tables.find((t) => t.name === 'folders')).toEqual(
      all.tables.find((t) => t.name === 'folders'),
    );
    expect(visibleState(all, [])).toBe(all);
  });
});
