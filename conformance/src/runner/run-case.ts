/**
 * Runs one case: registers it on the reference server, drives the adapter through the case's steps, and checks
 * what must hold — the step expectations, the dumps, the connection scripts' expectations, the client mistakes
 * the server recorded, a final acknowledgement of what the client applied, and the case's final expectations.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@vibestack/proto';
import type { CommandInit } from '../adapter/adapter-channel.ts';
import { ACK_GRACE_MS, DEFAULT_CASE_TIMEOUT_MS, DEFAULT_STEP_TIMEOUT_MS } from '../constants.ts';
import { fixtureLayouts } from '../fixture/fixture-file.ts';
import {
  AdapterFeature,
  type AdapterReply,
  CommandErrorCode,
  type DumpStateResult,
  type FixturePoint,
  type Step,
} from '../proto.ts';
import type { CaseHost } from '../server/case-host.ts';
import { visibleState } from '../server/case-scope.ts';
import { stateAt } from '../server/case-world.ts';
import type { ReferenceServer, RegisteredCase } from '../server/reference-server.ts';
import { diffStates, formatDifference } from '../state/state-diff.ts';
import { resolvePoint } from '../suite/suite-file.ts';
import type { AdapterProcess } from './adapter-process.ts';
import { clientSettingsFor } from './client-settings.ts';
import type { LoadedCase } from './suite-loader.ts';

/** How a case ended. */
export type CaseStatus = 'passed' | 'failed' | 'skipped';

/** The outcome of one case. */
export interface CaseOutcome {
  readonly status: CaseStatus;
  /** Why it failed or was skipped (empty when it passed). */
  readonly messages: readonly string[];
  readonly durationMs: number;
  /** The adapter broke (exited, undecodable output, timed out): the runner starts a new one. */
  readonly adapterBroken: boolean;
  /** The adapter's log lines and the server's trace during the case. */
  readonly log: readonly string[];
}

/** The case was skipped (a missing feature or an UNSUPPORTED command). */
class Skip extends Error {}
/** The case failed at this point. */
class Fail extends Error {
  /** The case ran out of time (the adapter may be stuck in a command: it is replaced). */
  readonly timedOut: boolean;
  constructor(message: string, timedOut = false) {
    super(message);
    this.timedOut = timedOut;
  }
}

const commandCodeName = (code: CommandErrorCode) => CommandErrorCode[code] ?? String(code);

/** Resolves once `predicate` holds (polled), or after `timeoutMs`. */
async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Runs `entry` with `adapter` against `server`. Never throws. */
export async function runCase(
  adapter: AdapterProcess,
  server: ReferenceServer,
  entry: LoadedCase,
  options: { readonly trace?: (line: string) => void } = {},
): Promise<CaseOutcome> {
  const started = Date.now();
  const traceLines: string[] = [];
  const trace = (line: string) => {
    traceLines.push(`[server] ${line}`);
    options.trace?.(`${entry.name}: ${line}`);
  };
  const storageDir = mkdtempSync(join(tmpdir(), 'vibestack-conformance-'));
  let registered: RegisteredCase | undefined;
  const messages: string[] = [];
  let status: CaseStatus = 'passed';
  let adapterBroken = false;
  const timeoutMs = entry.testCase.timeoutMs || DEFAULT_CASE_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    registered = await server.register(entry.fixture, entry.testCase, trace);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Fail(`the case took longer than ${timeoutMs} ms`, true)),
        timeoutMs,
      );
    });
    const driving = drive(adapter, registered.host, entry, registered, storageDir);
    // After a timeout the steps may still fail on their own (the adapter is stopped): nothing to report then.
    driving.catch(() => undefined);
    await Promise.race([driving, timeout]);
  } catch (error) {
    if (error instanceof Skip) {
      status = 'skipped';
      messages.push(error.message);
    } else {
      status = 'failed';
      messages.push(error instanceof Fail ? error.message : `runner error: ${(error as Error).stack}`);
      if (error instanceof Fail && error.timedOut) adapterBroken = true;
    }
  } finally {
    clearTimeout(timer);
    registered?.close();
    rmSync(storageDir, { recursive: true, force: true });
  }
  if (!adapter.alive) adapterBroken = true;
  const log = [...adapter.takeLog().map((l) => `[adapter] ${l}`), ...traceLines];
  return { status, messages, durationMs: Date.now() - started, adapterBroken, log };
}

async function drive(
  adapter: AdapterProcess,
  host: CaseHost,
  entry: LoadedCase,
  registered: Pick<RegisteredCase, 'baseUrl' | 'token' | 'freshToken'>,
  storageDir: string,
): Promise<void> {
  const { testCase, fixture } = entry;
  const send = async (command: CommandInit): Promise<AdapterReply> => {
    try {
      return await adapter.connection.send(command);
    } catch (error) {
      throw new Fail(
        `${command.case}: ${(error as Error).message}${adapter.exit ? ` (${adapter.exit})` : ''}`,
      );
    }
  };
  /** Sends a command that must succeed; UNSUPPORTED skips the case. */
  const must = async (command: CommandInit) => {
    const reply = await send(command);
    if (reply.outcome.case === 'ok') return reply.outcome.value;
    const e = reply.outcome.value;
    if (e?.code === CommandErrorCode.UNSUPPORTED) {
      throw new Skip(`the adapter does not support ${command.case}: ${e.message}`);
    }
    throw new Fail(`${command.case} failed: ${commandCodeName(e?.code ?? 0)} ${e?.message ?? ''}`.trim());
  };
  const countOf = (p: FixturePoint | undefined) =>
    resolvePoint(fixture, p ?? ({ point: { case: 'end', value: true } } as FixturePoint));
  let applied: bigint | undefined;
  const checkDump = (
    dump: DumpStateResult,
    at: FixturePoint | undefined,
    label: string,
    absentTables: readonly string[] = [],
  ) => {
    const layouts = fixtureLayouts(fixture);
    const absent = new Set(absentTables);
    const visible = visibleState(stateAt(fixture, countOf(at)), testCase.server?.scopedTables ?? []);
    const expected = {
      ...visible,
      tables: visible.tables.filter((t) => !absent.has(`${t.schema}.${t.name}`)),
    };
    const lsn = host.lsnOf(at);
    const problems: string[] = [];
    if (dump.appliedLsn !== lsn) problems.push(`applied LSN ${dump.appliedLsn}, expected ${lsn}`);
    for (const t of dump.state?.tables ?? []) {
      const name = `${t.schema}.${t.name}`;
      if (absent.has(name)) problems.push(`${name} is listed, but it is no longer a synced table (§6.4)`);
    }
    const diff = diffStates(
      expected,
      dump.state ?? { $typeName: 'vibestack.conformance.v1.State', tables: [] },
      layouts,
    );
    problems.push(...diff.map(formatDifference));
    if (problems.length > 0) throw new Fail(`${label}: ${problems.join('; ')}`);
  };

  adapter.resetEvents();
  const init = await must({
    case: 'init',
    value: {
      testName: entry.name,
      serverUrl: registered.baseUrl,
      storageDir,
      settings: clientSettingsFor(testCase, {
        authToken: registered.token,
        clientId: `conformance-${entry.name.replace(/[^A-Za-z0-9._:-]/g, '.')}`.slice(0, 64),
      }),
    },
  });
  const features = init.result.case === 'init' ? init.result.value.features : [];
  const needed = [...entry.suite.requiredFeatures, ...testCase.requiredFeatures];
  const missing = needed.filter((f) => !features.includes(f));
  if (missing.length > 0) {
    throw new Skip(`the adapter lacks ${missing.map((f) => AdapterFeature[f]).join(', ')}`);
  }

  for (const [i, { step }] of testCase.steps.entries()) {
    const label = `step ${i + 1} (${step.case})`;
    await runStep(step, label);
  }

  async function runStep(step: Step['step'], label: string): Promise<void> {
    switch (step.case) {
      case 'connect':
      case 'disconnect':
        await must({ case: step.case, value: step.value } as CommandInit);
        return;
      case 'restart':
        if (step.value.dropStorage) host.forgetAcks();
        await must({ case: 'restart', value: step.value });
        // Connections from here on are the new process's: refusals seen by the old one do not bind it.
        host.restarted();
        return;
      case 'freshToken':
        await must({ case: 'setToken', value: { authToken: await registered.freshToken() } });
        return;
      case 'write':
        await must({ case: 'write', value: step.value });
        return;
      case 'await': {
        const lsn = host.lsnOf(step.value.at);
        const reply = await send({
          case: 'awaitLsn',
          value: { lsn, timeoutMs: step.value.timeoutMs || DEFAULT_STEP_TIMEOUT_MS },
        });
        const want = step.value.expectError;
        if (reply.outcome.case === 'ok') {
          if (want !== CommandErrorCode.UNSPECIFIED) {
            throw new Fail(`${label}: expected ${commandCodeName(want)}, but the client applied ${lsn}`);
          }
          if (reply.outcome.value.result.case === 'awaitLsn')
            applied = reply.outcome.value.result.value.appliedLsn;
          return;
        }
        const e = reply.outcome.value;
        if (e?.code === CommandErrorCode.UNSUPPORTED)
          throw new Skip(`await_lsn is unsupported: ${e.message}`);
        if (want === CommandErrorCode.UNSPECIFIED || e?.code !== want) {
          throw new Fail(
            `${label}: waiting for LSN ${lsn}: ${commandCodeName(e?.code ?? 0)}${e?.syncError ? ` (${ErrorCode[e.syncError]})` : ''} ${e?.message ?? ''}; applied LSN ${e?.appliedLsn ?? 0}`.trim(),
          );
        }
        return;
      }
      case 'dumpState': {
        const ok = await must({ case: 'dumpState', value: {} });
        if (ok.result.case !== 'dumpState') throw new Fail(`${label}: the reply carries no dump`);
        const dump = ok.result.value;
        applied = dump.appliedLsn;
        const expected = step.value.expected;
        if (expected.case === 'at') checkDump(dump, expected.value, label, step.value.absentTables);
        else if (expected.case === 'state') {
          const diff = diffStates(expected.value, dump.state ?? expected.value, fixtureLayouts(fixture));
          if (diff.length > 0) throw new Fail(`${label}: ${diff.map(formatDifference).join('; ')}`);
        }
        return;
      }
      case 'advanceHead':
        host.advanceHead(countOf(step.value));
        return;
      case 'advanceFloor':
        try {
          host.advanceFloor(countOf(step.value));
        } catch (error) {
          throw new Fail(`${label}: ${(error as Error).message}`);
        }
        return;
      case 'waitConnection': {
        const n = step.value.connection;
        const closed = step.value.closed;
        const ok = await host.waitFor(() => {
          const c = host.connections[n - 1];
          return c !== undefined && (closed ? c.end !== undefined : c.hello !== undefined);
        }, step.value.timeoutMs || DEFAULT_STEP_TIMEOUT_MS);
        if (!ok) throw new Fail(`${label}: connection ${n} did not ${closed ? 'close' : 'open'} in time`);
        return;
      }
      case 'sleep':
        await new Promise((resolve) => setTimeout(resolve, step.value.ms));
        return;
      default:
        throw new Fail(`${label}: a step this runner does not know`);
    }
  }

  // The client must acknowledge what it applied while it stays connected (§8.7).
  const problems: string[] = [];
  const last = host.connections[host.connections.length - 1];
  const lastStep = testCase.steps[testCase.steps.length - 1]?.step.case;
  const connectedAtEnd = last !== undefined && last.end === undefined;
  if (connectedAtEnd && applied !== undefined && lastStep !== 'disconnect' && lastStep !== 'restart') {
    let target = 0n;
    for (const lsn of last.delivered) if (lsn <= applied && lsn > target) target = lsn;
    const acked = () => last.maxAck >= target || last.end !== undefined;
    if (target > 0n && !(await host.waitFor(acked, ACK_GRACE_MS))) {
      problems.push(
        `connection ${last.index}: the client applied LSN ${target} but acknowledged only ${last.maxAck} within ${ACK_GRACE_MS} ms`,
      );
    }
  }
  problems.unshift(...host.failures);
  for (const script of testCase.connections) {
    const expected = script.expectClose;
    if (expected === undefined) continue;
    const targets = script.connection === 0 ? host.connections : [host.connections[script.connection - 1]];
    for (const c of targets) {
      if (c === undefined) {
        problems.push(`connection ${script.connection}: never opened, so it could not close as expected`);
        continue;
      }
      const where = `connection ${c.index}`;
      if (c.end === undefined) {
        problems.push(`${where}: still open, expected it to close`);
        continue;
      }
      if (expected.byClient && !c.end.byClient)
        problems.push(`${where}: the server closed it, expected the client to`);
      if (expected.error !== ErrorCode.UNSPECIFIED) {
        if (expected.byClient && c.clientError !== expected.error) {
          problems.push(
            `${where}: the client's Error was ${c.clientError === undefined ? 'none' : ErrorCode[c.clientError]}, expected ${ErrorCode[expected.error]}`,
          );
        }
        if (c.end.code !== 4000 + expected.error)
          problems.push(`${where}: close code ${c.end.code}, expected ${4000 + expected.error}`);
      } else if (expected.code !== 0 && c.end.code !== expected.code) {
        problems.push(`${where}: close code ${c.end.code}, expected ${expected.code}`);
      }
      if (expected.withinMs !== 0 && c.end.at - c.lastServerFrameAt > expected.withinMs) {
        problems.push(
          `${where}: closed ${c.end.at - c.lastServerFrameAt} ms after the server's last frame, expected within ${expected.withinMs} ms`,
        );
      }
    }
  }
  const expect = testCase.expect;
  if (expect !== undefined) {
    if (expect.connections !== 0 && host.connections.length !== expect.connections) {
      problems.push(
        `the client opened ${host.connections.length} connections, expected ${expect.connections}`,
      );
    }
    if (expect.stoppedWith !== ErrorCode.UNSPECIFIED) {
      // The `closed` event may trail the reply that reported the stop.
      await until(
        () => adapter.events.some((e) => e.event.case === 'closed' && !e.event.value.willReconnect),
        ACK_GRACE_MS,
      );
      const closes = adapter.events.flatMap((e) => (e.event.case === 'closed' ? [e.event.value] : []));
      const final = closes[closes.length - 1];
      if (final === undefined)
        problems.push(
          `expected the client to stop with ${ErrorCode[expect.stoppedWith]}, but it reported no close`,
        );
      else if (final.willReconnect || final.error !== expect.stoppedWith) {
        problems.push(
          `expected the client to stop with ${ErrorCode[expect.stoppedWith]}; its last close: code ${final.code}, error ${ErrorCode[final.error]}, will_reconnect ${final.willReconnect}`,
        );
      }
    }
    if (expect.finalState !== undefined && problems.length === 0) {
      const ok = await must({ case: 'dumpState', value: {} });
      if (ok.result.case !== 'dumpState') throw new Fail('final dump: the reply carries no dump');
      checkDump(ok.result.value, expect.finalState, 'final state');
    }
  }
  if (problems.length > 0) throw new Fail(problems.join('\n'));
}
