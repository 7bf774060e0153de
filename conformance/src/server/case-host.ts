/**
 * One case on the reference server: its world (fixture, change log, snapshot, client records), the connections
 * the client opened with what happened on them, the client mistakes seen so far, and the head moves the runner
 * asks for. Connections are matched to the case's connection scripts by their order.
 */

import { maxLsn } from '@vibestack/proto';
import type { WebSocket } from 'ws';
import { createHs256Verifier } from '../../../server/src/core/auth/index.ts';
import { fixturePointLsn } from '../fixture/fixture-feeder.ts';
import type { Case, Fixture, FixturePoint } from '../proto.ts';
import { resolvePoint } from '../suite/suite-file.ts';
import { CONFORMANCE_CLAIMS, caseScope } from './case-scope.ts';
import { type CaseWorld, createCaseWorld } from './case-world.ts';
import { type ConnectionRecord, newConnectionRecord } from './connection-record.ts';
import { type SessionShell, serveSession } from './session-shell.ts';

/** See {@link createCaseHost}. */
export interface CaseHost {
  readonly fixture: Fixture;
  readonly world: CaseWorld;
  /** Every connection the client opened, in order. */
  readonly connections: readonly ConnectionRecord[];
  /** Client mistakes seen (each fails the case). */
  readonly failures: readonly string[];
  /** The LSN of a point of the case's fixture. */
  lsnOf(point: FixturePoint | undefined): bigint;
  /** Lets the fixture's transactions through `count` commit; connected sessions stream them. */
  advanceHead(count: number): void;
  /** Moves the retention floor to after `count` transactions; connected sessions behind it are told. */
  advanceFloor(count: number): void;
  /** The client lost its storage on purpose (`restart{drop_storage}`): earlier acknowledgements no longer bind it. */
  forgetAcks(): void;
  /** Serves a new WebSocket of this case. */
  accept(ws: WebSocket, clientId: string): void;
  /** Resolves true once `predicate` holds (checked after every change), false after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Ends every connection and frees the world. */
  close(): void;
}

/** Options of {@link createCaseHost}. */
export interface CaseHostOptions {
  /** The HS256 secret tokens of the run are signed with. */
  readonly secret: Uint8Array;
  readonly trace?: (line: string) => void;
}

/** Sets up the server side of a case (the log holds the transactions through the case's head). */
export function createCaseHost(fixture: Fixture, testCase: Case, options: CaseHostOptions): CaseHost {
  const server = testCase.server;
  const count = (p: FixturePoint | undefined, fallback: number) =>
    p?.point.case === undefined ? fallback : resolvePoint(fixture, p);
  const snapshotAt = count(server?.snapshotAt, 0);
  const world = createCaseWorld(fixture, {
    snapshotAt,
    head: count(server?.head, snapshotAt),
    floor: count(server?.floor, 0),
  });
  const scope = caseScope(fixture, server?.scopedTables ?? []);
  const verifier = createHs256Verifier({ secret: options.secret });
  const connections: ConnectionRecord[] = [];
  const shells: SessionShell[] = [];
  const failures: string[] = [];
  const waiters = new Set<() => void>();
  const snapshots = new Map<string, string>();
  const trace = options.trace ?? (() => undefined);
  /** Connections from this one on bind the client's resume points (earlier ones were before a storage drop). */
  let ackFloorFrom = 0;
  const lsnOf = (p: FixturePoint | undefined) => fixturePointLsn(fixture, count(p, 0));
  const fail = (message: string) => {
    trace(`FAILURE: ${message}`);
    failures.push(message);
  };
  const changed = () => {
    for (const w of [...waiters]) w();
  };

  const checkHello = (record: ConnectionRecord) => {
    const hello = record.hello!;
    const label = `connection ${record.index}`;
    const script =
      testCase.connections.find((c) => c.connection === record.index) ??
      testCase.connections.find((c) => c.connection === 0);
    const expected = script?.expectHello?.resume;
    const resume = hello.resumeLsn;
    const snap = hello.snapshotResume;
    trace(`${label}: Hello resume_lsn=${resume}${snap ? ` snapshot_resume=${snap.snapshotId}` : ''}`);
    if (expected?.case === 'fresh' && (resume !== 0n || snap !== undefined)) {
      fail(
        `${label}: expected a fresh Hello, got resume_lsn ${resume}${snap ? ' with snapshot_resume' : ''}`,
      );
    } else if (expected?.case === 'resumeAt' && resume !== lsnOf(expected.value)) {
      fail(`${label}: expected resume_lsn ${lsnOf(expected.value)}, got ${resume}`);
    } else if (expected?.case === 'snapshotResume') {
      if (resume !== 0n || snap === undefined) fail(`${label}: expected a Hello with snapshot_resume`);
      else if (!snapshots.has(snap.snapshotId))
        fail(`${label}: snapshot_resume names ${JSON.stringify(snap.snapshotId)}, a snapshot never sent`);
    }
    // Standing checks: a resume point is something the server delivered, never below an acknowledgement.
    if (resume !== 0n) {
      const earlier = connections.slice(0, record.index - 1);
      if (!earlier.some((c) => c.delivered.has(resume))) {
        fail(`${label}: resume_lsn ${resume} is no commit, SnapshotEnd or Progress LSN the server sent`);
      }
      const acked = earlier.slice(ackFloorFrom).reduce((m, c) => maxLsn(m, c.maxAck), 0n);
      if (resume < acked) {
        fail(
          `${label}: resume_lsn ${resume} is below the LSN ${acked} the client acknowledged (ack before apply?)`,
        );
      }
    }
  };

  return {
    fixture,
    world,
    connections,
    failures,
    lsnOf,
    advanceHead(n) {
      world.feeder.advanceTo(n);
      for (const shell of shells) shell.onHead();
      changed();
    },
    advanceFloor(n) {
      world.moveFloor(n);
      for (const shell of shells) shell.onHead();
      changed();
    },
    forgetAcks() {
      ackFloorFrom = connections.length;
    },
    accept(ws, clientId) {
      const record = newConnectionRecord(connections.length + 1, clientId, Date.now());
      connections.push(record);
      trace(`connection ${record.index}: opened (client_id ${clientId})`);
      const script =
        testCase.connections.find((c) => c.connection === record.index) ??
        testCase.connections.find((c) => c.connection === 0);
      shells.push(
        serveSession(
          {
            world,
            scope,
            settings: server,
            verifier,
            snapshots,
            fail,
            checkHello,
            changed,
            trace: (line) => trace(line),
          },
          ws,
          record,
          script,
        ),
      );
      changed();
    },
    waitFor(predicate, timeoutMs) {
      return new Promise((resolve) => {
        const check = () => {
          if (!predicate()) return;
          cleanup();
          resolve(true);
        };
        const timer = setTimeout(() => {
          cleanup();
          resolve(predicate());
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      for (const shell of shells) shell.terminate();
      for (const w of [...waiters]) w();
      world.close();
    },
  };
}

/** The claims of the tokens the runner issues: the case's user, valid for an hour. */
export function conformanceClaims(nowMs: number): Record<string, unknown> {
  return { ...CONFORMANCE_CLAIMS, exp: Math.floor(nowMs / 1000) + 3600 };
}
