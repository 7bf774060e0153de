/**
 * Deliberately broken adapters, to test that the suites catch broken clients: the TypeScript client's adapter
 * with one fault injected. Run as `node conformance/src/testing/broken-adapter.js <fault>`. Test-only.
 */

import { create } from '@bufbuild/protobuf';
import {
  AckSchema,
  type ClientMessage,
  ClientMessageSchema,
  ErrorSchema,
  HelloSchema,
  type ServerMessage,
  ServerMessageSchema,
} from '@vibestack/proto';
import { runAdapter } from '../../adapters/typescript/main.ts';
import type { DumpStateResult } from '../proto.ts';

/** The faults on offer. */
export const FAULTS = [
  'wrong-dump',
  'no-ack',
  'ack-beyond',
  'resume-behind',
  'crash-on-dump',
  'hang-on-dump',
  'resend-refused-token',
  'ignore-retry-after',
] as const;
export type Fault = (typeof FAULTS)[number];

/** Drops the last row of every table with rows: a client that loses data. */
function dropLastRows(dump: DumpStateResult): DumpStateResult {
  const state = dump.state;
  if (state === undefined) return dump;
  for (const table of state.tables) table.rows = table.rows.slice(0, -1);
  return dump;
}

/** Server frames as a broken client would see them: `ignore-retry-after` never sees `retry_after_ms`. */
function hideRetryAfter(message: ServerMessage): ServerMessage {
  const m = message.message;
  if (m.case !== 'error' || m.value.retryAfterMs === 0) return message;
  const error = create(ErrorSchema, { ...m.value, retryAfterMs: 0 });
  return create(ServerMessageSchema, { message: { case: 'error', value: error } });
}

/** Client frames as a broken client would send them. */
function alterFor(fault: Fault) {
  /** The token of the client's first Hello (`resend-refused-token` sends it in every later one). */
  let firstToken: string | undefined;
  return (message: ClientMessage, applied: readonly bigint[]): ClientMessage | undefined => {
    const m = message.message;
    if (fault === 'resend-refused-token' && m.case === 'hello') {
      firstToken ??= m.value.authToken;
      const hello = create(HelloSchema, { ...m.value, authToken: firstToken });
      return create(ClientMessageSchema, { message: { case: 'hello', value: hello } });
    }
    if (fault === 'no-ack' && m.case === 'ack') return undefined;
    if (fault === 'ack-beyond' && m.case === 'ack') {
      const ack = create(AckSchema, { lsn: m.value.lsn + 1_000_000n });
      return create(ClientMessageSchema, { message: { case: 'ack', value: ack } });
    }
    if (fault === 'resume-behind' && m.case === 'hello' && m.value.resumeLsn !== 0n) {
      // Resume from an LSN before the one committed, as a client that acknowledged before applying would.
      const earlier = applied.filter((lsn) => lsn < m.value.resumeLsn);
      const hello = create(HelloSchema, { ...m.value, resumeLsn: earlier[earlier.length - 1] ?? 0n });
      return create(ClientMessageSchema, { message: { case: 'hello', value: hello } });
    }
    return message;
  };
}

const fault = process.argv[2] as Fault;
if (!FAULTS.includes(fault)) {
  process.stderr.write(`usage: broken-adapter.js <${FAULTS.join('|')}>\n`);
  process.exit(2);
}
await runAdapter({
  ...(fault === 'wrong-dump' ? { alterDump: dropLastRows } : {}),
  ...(fault === 'ignore-retry-after' ? { alterIncoming: hideRetryAfter } : {}),
  alterOutgoing: alterFor(fault),
  beforeCommand: async (command) => {
    if (command.case !== 'dumpState') return;
    if (fault === 'crash-on-dump') process.exit(3);
    if (fault === 'hang-on-dump') await new Promise(() => undefined);
  },
});
