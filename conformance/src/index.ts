/**
 * `@vibestack/conformance` — checks a VibeStack client against the `vibestack.sync.v1` protocol by replaying
 * WAL streams recorded from real Postgres (conformance/README.md).
 *
 * For adapter authors (TypeScript): the adapter protocol's messages and `serveAdapter`. For suite authors: suites,
 * fixtures and the canonical state dump. For tools: the recorder, the fixture feeder (the reference server's
 * source of transactions), the reference server and the runner.
 */

// Adapters.
export type {
  AdapterConnection,
  AdapterHost,
  CommandInit,
  CommandOutcome,
} from './adapter/adapter-channel.ts';
export {
  AdapterProtocolError,
  connectAdapter,
  MAX_ADAPTER_MESSAGE_BYTES,
  serveAdapter,
} from './adapter/adapter-channel.ts';
// Fixtures.
export type { FixtureFeeder, FixtureFeederOptions } from './fixture/fixture-feeder.ts';
export { createFixtureFeeder, fixturePointLsn } from './fixture/fixture-feeder.ts';
export {
  FixtureError,
  fixtureJson,
  fixtureLayouts,
  formatJson,
  parseFixture,
  readFixtureFile,
} from './fixture/fixture-file.ts';
export type { TableModel } from './fixture/table-model.ts';
export { createTableModel } from './fixture/table-model.ts';
// The generated messages (vibestack.conformance.v1).
export * from './proto.ts';
// Recording.
export type { RecordFixtureOptions } from './record/record-fixture.ts';
export { RecordError, recordFixture } from './record/record-fixture.ts';
export type { Workload, WorkloadStatement } from './record/workload.ts';
export { parseWorkload, WorkloadError } from './record/workload.ts';
// Running suites (the `vibestack-conformance --client …` command, for tools that embed it).
export type { CaseOutcome, CaseStatus } from './runner/run-case.ts';
export type { CaseResult, CaseVerdict, RunOptions, RunResult } from './runner/run-suites.ts';
export { runSuites } from './runner/run-suites.ts';
export type { LoadedCase } from './runner/suite-loader.ts';
export { loadSuites } from './runner/suite-loader.ts';
export type { ReferenceServer, RegisteredCase } from './server/reference-server.ts';
export { startReferenceServer } from './server/reference-server.ts';
// The canonical state dump.
export type { TableLayout } from './state/canonical-state.ts';
export { canonicalState, cellOf, cellText, layoutOf, NULL_CELL } from './state/canonical-state.ts';
export type { DiffOptions, StateDifference } from './state/state-diff.ts';
export { diffStates, formatDifference } from './state/state-diff.ts';
// Suites.
export { fixturePointsOf, parseSuite, resolvePoint, SuiteError } from './suite/suite-file.ts';
