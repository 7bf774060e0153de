/**
 * Suites: the proto `Suite` (suite.proto) read from a parsed YAML (or JSON) document with the proto3 JSON
 * mapping, then checked for what the schema cannot say (names, unique cases and connections, fixture points
 * inside the fixture).
 */

import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import type { Fixture } from '../proto.ts';
import { type Case, type FixturePoint, type Suite, SuiteSchema } from '../proto.ts';

/** A suite document that is not a valid suite; `problems` lists every problem found. */
export class SuiteError extends Error {
  override readonly name = 'SuiteError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
  }
}

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Reads a suite from a parsed document (the value a YAML or JSON parser returns for the file).
 * @throws SuiteError listing every problem: fields the schema does not know, bad names, duplicate cases or
 *   connection scripts, a case without steps, actions out of frame order, a `no_subprotocol` connection with
 *   actions or a Hello expectation.
 * @example
 * const suite = parseSuite(YAML.parse(readFileSync('suites/live.yaml', 'utf8')), 'suites/live.yaml');
 */
export function parseSuite(document: unknown, source = 'suite'): Suite {
  let suite: Suite;
  try {
    suite = fromJson(SuiteSchema, document as JsonValue);
  } catch (error) {
    throw new SuiteError(source, [(error as Error).message]);
  }
  const problems: string[] = [];
  if (!NAME.test(suite.name)) problems.push(`suite name ${JSON.stringify(suite.name)} is not [a-z0-9-]+`);
  if (suite.cases.length === 0) problems.push('no cases');
  const seen = new Set<string>();
  for (const [i, c] of suite.cases.entries()) {
    const where = `case ${JSON.stringify(c.name || String(i + 1))}`;
    if (!NAME.test(c.name)) problems.push(`${where}: name is not [a-z0-9-]+`);
    if (seen.has(c.name)) problems.push(`${where}: name used twice`);
    seen.add(c.name);
    if (!c.fixture) problems.push(`${where}: no fixture`);
    if (c.steps.length === 0) problems.push(`${where}: no steps`);
    const connections = new Set<number>();
    for (const script of c.connections) {
      if (connections.has(script.connection)) {
        problems.push(`${where}: two scripts for connection ${script.connection}`);
      }
      connections.add(script.connection);
      const frames = script.actions.map((a) => a.afterFrame);
      if (frames.some((f, k) => k > 0 && f < frames[k - 1]!)) {
        problems.push(`${where}: connection ${script.connection}: actions are not in after_frame order`);
      }
      if (script.actions.some((a) => a.action.case === undefined)) {
        problems.push(`${where}: connection ${script.connection}: an action without a kind`);
      }
      if (script.noSubprotocol && (script.actions.length > 0 || script.expectHello !== undefined)) {
        // Nothing arrives on such a connection: actions and Hello expectations would silently never apply.
        problems.push(
          `${where}: connection ${script.connection}: no_subprotocol with actions or expect_hello (a client sends nothing there)`,
        );
      }
    }
    if (c.steps.some((s) => s.step.case === undefined)) problems.push(`${where}: a step without a kind`);
  }
  if (problems.length > 0) throw new SuiteError(source, problems);
  return suite;
}

/** Every fixture point a case names (server settings, hello expectations, steps, final state). */
export function fixturePointsOf(c: Case): FixturePoint[] {
  const points: (FixturePoint | undefined)[] = [
    c.server?.snapshotAt,
    c.server?.head,
    c.server?.floor,
    c.expect?.finalState,
  ];
  for (const script of c.connections) {
    if (script.expectHello?.resume.case === 'resumeAt') points.push(script.expectHello.resume.value);
  }
  for (const { step } of c.steps) {
    if (step.case === 'await') points.push(step.value.at);
    else if (step.case === 'dumpState' && step.value.expected.case === 'at')
      points.push(step.value.expected.value);
    else if (step.case === 'advanceHead' || step.case === 'advanceFloor') points.push(step.value);
  }
  return points.filter((p): p is FixturePoint => p !== undefined);
}

/** Every schema-qualified table a case names (scoped tables, hidden tables, absent tables of dumps). */
export function tablesOf(c: Case): string[] {
  const tables = (c.server?.scopedTables ?? []).map((t) => t.table);
  for (const script of c.connections) tables.push(...script.hiddenTables);
  for (const { step } of c.steps) if (step.case === 'dumpState') tables.push(...step.value.absentTables);
  return tables;
}

/**
 * How many of the fixture's transactions a point stands after (0 = the start).
 * @throws RangeError for a point beyond the fixture's last transaction, or an unset point.
 */
export function resolvePoint(fixture: Fixture, point: FixturePoint): number {
  switch (point.point.case) {
    case 'end':
      return fixture.commits.length;
    case 'commit':
      if (point.point.value > fixture.commits.length) {
        throw new RangeError(
          `commit ${point.point.value}: the fixture has ${fixture.commits.length} transactions`,
        );
      }
      return point.point.value;
    default:
      throw new RangeError('a fixture point without `commit` or `end`');
  }
}
