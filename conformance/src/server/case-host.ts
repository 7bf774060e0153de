/**
 * One case on the reference server: its world (fixture, change log, snapshot, client records), the connections
 * the client opened with what happened on them, the client mistakes seen so far, and the head moves the runner
 * asks for. Connections are matched to the case's connection scripts by their order (of upgrade requests).
 */

import { SYNC_SUBPROTOCOL } from '@vibestack/proto';
import type { WebSocket } from 'ws';
import { createHs256Verifier } from '../../../server/src/core/auth/index.ts';
import { fixturePointLsn } from '../fixture/fixture-feeder.ts';
import type { Case, ConnectionScript, Fixture, FixturePoint } from '../proto.ts';
import { resolvePoint } from '../suite/suite-file.ts';
import { caseScope } from './case-scope.ts';
import { type CaseWorld, createCaseWorld } from './case-world.ts';
import { type ConnectionRecord, newConnectionRecord } from './connection-record.ts';
import { type SessionShell, serveSession } from './session-shell.ts';
import { checkRefusedToken, checkResumePoint, checkRetryAfter } from './standing-checks.ts';

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
  /**
   * The client process was restarted (`restart`): the new one cannot know what the server told the old one, so
   * refused tokens and `retry_after_ms` of earlier connections no longer bind it.
   */
  restarted(): void;
  /** False when the next connection's script says `no_subprotocol`: its upgrade must not select the subprotocol. */
  selectsSubprotocol(): boolean;
  /**
   * Serves a new WebSocket of this case, whose upgrade request arrived at `upgradeAt` (ms since 1970; default
   * now).
   */
  accept(ws: WebSocket, clientId: string, upgradeAt?: number): void;
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
  /** Connections from this one on were opened by the current client process (earlier ones before a restart). */
  let processFrom = 0;
  const scriptOf = (index: number): ConnectionScript | undefined =>
    testCase.connections.find((c) => c.connection === index) ??
    testCase.connections.find((c) => c.connection === 0);
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
    const expectation = scriptOf(record.index)?.expectHello;
    const expected = expectation?.resume;
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
    const schemaVersion = expectation?.schemaVersion;
    if (schemaVersion !== undefined && hello.schemaVersion !== schemaVersion) {
      fail(
        `${label}: expected schema_version ${JSON.stringify(schemaVersion)}, got ${JSON.stringify(hello.schemaVersion)}`,
      );
    }
    // Standing checks: a resume point is something the server delivered, never below an acknowledgement; a
    // refused token is never sent again.
    const earlier = connections.slice(0, record.index - 1);
    for (const problem of checkResumePoint(record, earlier, earlier.slice(ackFloorFrom))) fail(problem);
    const refused = checkRefusedToken(record, earlier.slice(processFrom));
    if (refused !== undefined) fail(refused);
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
    restarted() {
      processFrom = connections.length;
    },
    selectsSubprotocol() {
      return scriptOf(connections.length + 1)?.noSubprotocol !== true;
    },
    accept(ws, clientId, upgradeAt = Date.now()) {
      const subprotocol = ws.protocol === SYNC_SUBPROTOCOL;
      const record = newConnectionRecord(connections.length + 1, clientId, upgradeAt, subprotocol);
      const previous = connections.length > processFrom ? connections[connections.length - 1] : undefined;
      connections.push(record);
      trace(
        `connection ${record.index}: opened (client_id ${clientId}${subprotocol ? '' : ', no subprotocol selected'})`,
      );
      const early = checkRetryAfter(record, previous);
      if (early !== undefined) fail(early);
      const script = scriptOf(record.index);
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
