/**
 * The pure parts of the handshake (docs/protocol.md §4): Hello field checks 2–4 in the order of §4.2, mode
 * selection (§4.5) and the Welcome.
 */

import { create } from '@bufbuild/protobuf';
import {
  CLIENT_ID_PATTERN,
  DEFAULT_INITIAL_CREDIT,
  DEFAULT_MAX_FRAME_BYTES,
  ErrorCode,
  type Hello,
  type Lsn,
  MAX_AUTH_TOKEN_BYTES,
  MAX_MAX_FRAME_BYTES,
  MAX_OFFERED_PROTOCOL_VERSIONS,
  MAX_OUTSTANDING_CREDIT,
  MIN_MAX_FRAME_BYTES,
  negotiateProtocolVersion,
  SUPPORTED_PROTOCOL_VERSIONS,
  SyncError,
  SyncMode,
  type Welcome,
  WelcomeSchema,
} from '@vibestack/proto';
import { MAX_CURSOR_BYTES } from './snapshot-cursor.ts';

/** The longest `SnapshotResume.snapshot_id`, in bytes (docs/protocol.md §13). */
export const MAX_SNAPSHOT_ID_BYTES = 128;

const encoder = new TextEncoder();

/** UTF-8 length of a string. */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

function malformed(message: string): SyncError {
  return new SyncError(ErrorCode.MALFORMED_FRAME, message);
}

/**
 * Checks 2–4 of §4.2 on a decoded Hello, including that `client_id` is the id the connection was routed with.
 * @returns the negotiated protocol version.
 * @throws SyncError MALFORMED_FRAME, UNSUPPORTED_VERSION (with the supported versions in `details`), or
 *   PROTOCOL_VIOLATION when `client_id` differs from the connection URL's (§2.1).
 */
export function checkHello(
  hello: Hello,
  routedClientId: string,
  supported: readonly number[] = SUPPORTED_PROTOCOL_VERSIONS,
): number {
  const offered = hello.protocolVersions;
  if (offered.length < 1 || offered.length > MAX_OFFERED_PROTOCOL_VERSIONS) {
    throw malformed(
      `protocol_versions must have 1–${MAX_OFFERED_PROTOCOL_VERSIONS} entries, got ${offered.length}`,
    );
  }
  const version = negotiateProtocolVersion(offered, supported);
  if (version === undefined) {
    throw new SyncError(
      ErrorCode.UNSUPPORTED_VERSION,
      `no common protocol version: offered ${offered.join(', ')}`,
      {
        details: { supportedProtocolVersions: [...supported] },
      },
    );
  }
  if (!CLIENT_ID_PATTERN.test(hello.clientId)) {
    throw malformed('client_id must be 1–64 bytes of [A-Za-z0-9._:-]');
  }
  if (hello.clientId !== routedClientId) {
    // Well-formed, but not the id the connection was routed with (§2.1): the wrong message for this connection.
    throw new SyncError(
      ErrorCode.PROTOCOL_VIOLATION,
      'Hello.client_id differs from the client_id of the connection URL',
    );
  }
  if (utf8Length(hello.authToken) > MAX_AUTH_TOKEN_BYTES)
    throw malformed(`auth_token exceeds ${MAX_AUTH_TOKEN_BYTES} bytes`);
  if (hello.initialCredit > MAX_OUTSTANDING_CREDIT)
    throw malformed(`initial_credit exceeds ${MAX_OUTSTANDING_CREDIT}`);
  const mfb = hello.maxFrameBytes;
  if (mfb !== 0 && (mfb < MIN_MAX_FRAME_BYTES || mfb > MAX_MAX_FRAME_BYTES)) {
    throw malformed(`max_frame_bytes must be 0 or ${MIN_MAX_FRAME_BYTES}–${MAX_MAX_FRAME_BYTES}`);
  }
  const resume = hello.snapshotResume;
  if (resume !== undefined) {
    if (hello.resumeLsn !== 0n) throw malformed('snapshot_resume is only allowed with resume_lsn 0');
    if (utf8Length(resume.snapshotId) > MAX_SNAPSHOT_ID_BYTES)
      throw malformed('snapshot_resume.snapshot_id is too long');
    if (resume.cursor.length > MAX_CURSOR_BYTES) throw malformed('snapshot_resume.cursor is too long');
  }
  return version;
}

/** The initial credit a Hello grants (0 means the default). */
export function initialCredit(hello: Hello): number {
  return hello.initialCredit === 0 ? DEFAULT_INITIAL_CREDIT : hello.initialCredit;
}

/** `Welcome.max_frame_bytes`: the client's limit (0 = default) capped by the server's. */
export function negotiatedFrameBytes(hello: Hello, serverMax: number): number {
  return Math.min(hello.maxFrameBytes === 0 ? DEFAULT_MAX_FRAME_BYTES : hello.maxFrameBytes, serverMax);
}

/**
 * Mode selection (§4.5) against the change log's floor and head.
 * @throws SyncError MUST_REFETCH when the resume point is outside (floor, head].
 */
export function selectMode(resumeLsn: Lsn, floor: Lsn, head: Lsn): SyncMode {
  if (resumeLsn === 0n) return SyncMode.INITIAL;
  if (resumeLsn < floor) {
    throw new SyncError(
      ErrorCode.MUST_REFETCH,
      `resume_lsn ${resumeLsn} is older than the retained change log`,
    );
  }
  if (resumeLsn > head) {
    throw new SyncError(
      ErrorCode.MUST_REFETCH,
      `resume_lsn ${resumeLsn} is beyond the server's head ${head}`,
    );
  }
  return resumeLsn < head ? SyncMode.CATCH_UP : SyncMode.LIVE;
}

/**
 * Checks 6–8 of §4.2 once the token is verified and the client record loaded: the client id is free or bound
 * to this user, the schema version can be served, the resume point is in the log.
 * @returns the mode. @throws SyncError PERMISSION_DENIED, SCHEMA_MISMATCH or MUST_REFETCH.
 */
export function checkAccess(
  hello: Hello,
  userId: string,
  loaded: {
    readonly record: { readonly userId: string } | undefined;
    readonly floor: Lsn;
    readonly head: Lsn;
  },
  acceptsSchemaVersion: (version: string) => boolean,
): SyncMode {
  if (loaded.record !== undefined && loaded.record.userId !== userId) {
    throw new SyncError(ErrorCode.PERMISSION_DENIED, 'this client id belongs to another user');
  }
  if (hello.schemaVersion !== '' && !acceptsSchemaVersion(hello.schemaVersion)) {
    throw new SyncError(
      ErrorCode.SCHEMA_MISMATCH,
      `schema version ${JSON.stringify(hello.schemaVersion)} cannot be served`,
    );
  }
  return selectMode(hello.resumeLsn, loaded.floor, loaded.head);
}

/** Builds the Welcome (§4.7). */
export function buildWelcome(fields: {
  readonly protocolVersion: number;
  readonly mode: SyncMode;
  readonly clientId: string;
  readonly userId: string;
  readonly serverLsn: Lsn;
  readonly heartbeatIntervalMs: number;
  readonly maxFrameBytes: number;
  readonly schemaVersion: string;
  readonly lastMutationId: bigint;
  readonly maxRowsPerChunk: number;
  readonly serverAgent: string;
  readonly nowMs: number;
}): Welcome {
  const { nowMs, ...rest } = fields;
  return create(WelcomeSchema, { ...rest, serverTimeMs: BigInt(Math.max(0, Math.floor(nowMs))) });
}
