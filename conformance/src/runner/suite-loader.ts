/**
 * Finds the suites of a run: the built-in ones (`conformance/suites/*.yaml`) and those of every extra `--suite`
 * directory, each case with its fixture resolved (`fixtures/<name>.json` beside the suite file, else the
 * built-in fixture of that name).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { FIXTURE_SUFFIX, FIXTURES_DIR, SUITE_SUFFIXES, SUITES_DIR } from '../constants.ts';
import { readFixtureFile } from '../fixture/fixture-file.ts';
import type { Case, Fixture, Suite } from '../proto.ts';
import { fixturePointsOf, parseSuite, resolvePoint, SuiteError, tablesOf } from '../suite/suite-file.ts';

/** The package root (`conformance/`). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The built-in suites' directory. */
export const BUILTIN_SUITES = join(PACKAGE_ROOT, SUITES_DIR);

/** The built-in fixtures' directory. */
export const BUILTIN_FIXTURES = join(PACKAGE_ROOT, FIXTURES_DIR);

/** One case of a run, ready to run. */
export interface LoadedCase {
  /** `<suite>/<case>`. */
  readonly name: string;
  readonly suite: Suite;
  readonly testCase: Case;
  readonly fixture: Fixture;
  /** The suite file. */
  readonly source: string;
}

/** Reads every suite file of `dirs` (built-in first) and resolves fixtures. @throws SuiteError */
export function loadSuites(dirs: readonly string[]): LoadedCase[] {
  const fixtures = new Map<string, Fixture>();
  const fixtureFor = (suiteDir: string, name: string, source: string): Fixture => {
    const candidates = [
      join(suiteDir, FIXTURES_DIR, `${name}${FIXTURE_SUFFIX}`),
      join(BUILTIN_FIXTURES, `${name}${FIXTURE_SUFFIX}`),
    ];
    const path = candidates.find((p) => existsSync(p));
    if (path === undefined) throw new SuiteError(source, [`no fixture ${JSON.stringify(name)}`]);
    let fixture = fixtures.get(path);
    if (fixture === undefined) {
      fixture = readFixtureFile(path);
      fixtures.set(path, fixture);
    }
    return fixture;
  };
  const out: LoadedCase[] = [];
  const suiteNames = new Map<string, string>();
  for (const dir of new Set([BUILTIN_SUITES, ...dirs.map((d) => resolve(d))])) {
    if (!existsSync(dir)) throw new SuiteError(dir, ['no such directory']);
    const files = readdirSync(dir)
      .filter((f) => SUITE_SUFFIXES.some((s) => f.endsWith(s)))
      .sort();
    for (const file of files) {
      const source = join(dir, file);
      let document: unknown;
      try {
        document = YAML.parse(readFileSync(source, 'utf8'));
      } catch (error) {
        throw new SuiteError(source, [`not YAML: ${(error as Error).message}`]);
      }
      const suite = parseSuite(document, source);
      const previous = suiteNames.get(suite.name);
      if (previous !== undefined && previous !== source) {
        throw new SuiteError(source, [`suite name ${suite.name} is also used by ${previous}`]);
      }
      suiteNames.set(suite.name, source);
      for (const testCase of suite.cases) {
        const fixture = fixtureFor(dir, testCase.fixture, source);
        for (const point of fixturePointsOf(testCase)) {
          try {
            resolvePoint(fixture, point);
          } catch (error) {
            throw new SuiteError(source, [`case ${testCase.name}: ${(error as Error).message}`]);
          }
        }
        const known = new Set(fixture.tables.map((t) => `${t.schema}.${t.name}`));
        for (const table of tablesOf(testCase)) {
          if (!known.has(table)) {
            throw new SuiteError(source, [
              `case ${testCase.name}: table ${table} is not in fixture ${testCase.fixture}`,
            ]);
          }
        }
        out.push({ name: `${suite.name}/${testCase.name}`, suite, testCase, fixture, source });
      }
    }
  }
  return out;
}

/** A glob over case names: `*` matches any run of characters, `?` one character. */
export function globMatcher(glob: string): (name: string) => boolean {
  const pattern = glob
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${pattern}$`);
  return (name) => re.test(name);
}

/** Reads a known-failing file: one glob per line, `#` starts a comment, blank lines ignored. */
export function readKnownFailing(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}
