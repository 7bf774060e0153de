/** The frames a client sends (docs/protocol.md §4.1, §8.7, §9, §10, §11), built from the generated messages. */

import { create } from '@bufbuild/protobuf';
import {
  type ClientMessage,
  ClientMessageSchema,
  type ErrorCode,
  ErrorSchema,
  errorCodeName,
  HelloSchema,
  type Lsn,
  MAX_ERROR_MESSAGE_BYTES,
} from '@vibestack/proto';
import type { SnapshotPosition } from './client-types.ts';

/** The fields of a Hello the session fills in. */
export interface HelloFields {
  readonly protocolVersions: readonly number[];
  readonly token: string;
  readonly clientId: string;
  readonly resumeLsn: Lsn;
  readonly snapshot: SnapshotPosition | undefined;
  readonly schemaVersion: string;
  readonly initialCredit: number;
  readonly maxFrameBytes: number;
  readonly clientAgent: string;
  readonly lastSentMutationId: bigint;
}

export function helloFrame(f: HelloFields): ClientMessage {
  const hello = create(HelloSchema, {
    protocolVersions: [...f.protocolVersions],
    authToken: f.token,
    clientId: f.clientId,
    resumeLsn: f.resumeLsn,
    schemaVersion: f.schemaVersion,
    initialCredit: f.initialCredit,
    maxFrameBytes: f.maxFrameBytes,
    clientAgent: f.clientAgent,
    lastSentMutationId: f.lastSentMutationId,
    // §4.5: snapshot_resume only with resume_lsn = 0.
    ...(f.snapshot === undefined || f.resumeLsn !== 0n
      ? {}
      : { snapshotResume: { snapshotId: f.snapshot.snapshotId, cursor: f.snapshot.cursor } }),
  });
  return create(ClientMessageSchema, { message: { case: 'hello', value: hello } });
}

export const ackFrame = (lsn: Lsn): ClientMessage =>
  create(ClientMessageSchema, { message: { case: 'ack', value: { lsn } } });

export const creditFrame = (frames: number): ClientMessage =>
  create(ClientMessageSchema, { message: { case: 'credit', value: { frames } } });

export const pingFrame = (nonce: bigint): ClientMessage =>
  create(ClientMessageSchema, { message: { case: 'ping', value: { nonce } } });

export const pongFrame = (nonce: bigint): ClientMessage =>
  create(ClientMessageSchema, { message: { case: 'pong', value: { nonce } } });

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** A fatal client Error (§9.1); the close code is `4000 + code` and the reason `ERROR_CODE_<name>`. */
export function fatalErrorFrame(code: ErrorCode, message: string): ClientMessage {
  const error = create(ErrorSchema, {
    code,
    message: truncateUtf8(message, MAX_ERROR_MESSAGE_BYTES),
    fatal: true,
  });
  return create(ClientMessageSchema, { message: { case: 'error', value: error } });
}

/** The close reason for an error code (§2.3). */
export const closeReason = (code: ErrorCode): string => `ERROR_CODE_${errorCodeName(code)}`;
