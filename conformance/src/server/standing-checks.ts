/**
 * The standing checks: what every case checks on every connection, whatever its script says
 * (conformance/README.md). Each takes the connection records the server kept and returns the client's mistakes
 * as failure messages. Pure: the case host calls them when a connection opens and when its Hello arrives.
 */

import { closeCodeForError, ErrorCode, maxLsn } from '@vibestack/proto';
import type { ConnectionRecord } from './connection-record.ts';

/** The server refused the connection's token: an UNAUTHENTICATED `Error`, or the bare close code 4001. */
export function refusedToken(c: ConnectionRecord): boolean {
  return (
    c.serverError === ErrorCode.UNAUTHENTICATED ||
    (c.closedByServer && c.serverCloseCode === closeCodeForError(ErrorCode.UNAUTHENTICATED))
  );
}

/**
 * §4.3: a Hello never carries a token the server refused with UNAUTHENTICATED on an earlier connection.
 * `earlier` are the connections of the same client process before this one (a restarted client cannot know).
 */
export function checkRefusedToken(
  record: ConnectionRecord,
  earlier: readonly ConnectionRecord[],
): string | undefined {
  const token = record.hello?.authToken;
  if (token === undefined) return undefined;
  const refused = earlier.find((c) => c.hello?.authToken === token && refusedToken(c));
  return refused === undefined
    ? undefined
    : `connection ${record.index}: the Hello resent the token refused with UNAUTHENTICATED on connection ${refused.index} (§4.3)`;
}

/**
 * §9.2, §9.4: after the server closed a connection with an `Error` carrying `retry_after_ms` R, the client's
 * next connection does not start (its upgrade request does not arrive) earlier than R ms after that close was
 * sent. No tolerance below R: a client that counts from when it received the close starts later than the server
 * sent it. `previous` is the connection before this one of the same client process, if any.
 */
export function checkRetryAfter(
  record: ConnectionRecord,
  previous: ConnectionRecord | undefined,
): string | undefined {
  const closedAt = previous?.serverClosedAt;
  const wait = previous?.serverRetryAfterMs ?? 0;
  if (previous === undefined || closedAt === undefined || wait === 0) return undefined;
  const gap = record.openedAt - closedAt;
  if (gap >= wait) return undefined;
  const error = previous.serverError === undefined ? '' : ` ${ErrorCode[previous.serverError]}`;
  return `connection ${record.index}: the client opened it ${gap} ms after the server closed connection ${previous.index} with${error} retry_after_ms ${wait} (§9.4: wait at least that long)`;
}

/**
 * §4.5, §8.7: a resume point is an LSN the server delivered (a commit, SnapshotEnd or Progress LSN), never below
 * what the client acknowledged. `earlier` are the connections before this one; `binding` those of them whose
 * acknowledgements bind the client (not those before a storage drop).
 */
export function checkResumePoint(
  record: ConnectionRecord,
  earlier: readonly ConnectionRecord[],
  binding: readonly ConnectionRecord[],
): string[] {
  const resume = record.hello?.resumeLsn ?? 0n;
  if (resume === 0n) return [];
  const label = `connection ${record.index}`;
  const problems: string[] = [];
  if (!earlier.some((c) => c.delivered.has(resume))) {
    problems.push(`${label}: resume_lsn ${resume} is no commit, SnapshotEnd or Progress LSN the server sent`);
  }
  const acked = binding.reduce((m, c) => maxLsn(m, c.maxAck), 0n);
  if (resume < acked) {
    problems.push(
      `${label}: resume_lsn ${resume} is below the LSN ${acked} the client acknowledged (ack before apply?)`,
    );
  }
  return problems;
}
