/** The server's `Error` frame and the close that follows a fatal one (docs/protocol.md §2.3, §9). */

import { create } from '@bufbuild/protobuf';
import {
  closeCodeForError,
  ErrorCode,
  ErrorSchema,
  errorCodeName,
  MAX_ERROR_MESSAGE_BYTES,
  type ServerMessage,
  ServerMessageSchema,
  type SyncError,
} from '@vibestack/proto';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}

/** The code a fatal error is sent with: UNSPECIFIED is never sent (INTERNAL instead). */
export function sendableCode(error: SyncError): ErrorCode {
  return error.code === ErrorCode.UNSPECIFIED ? ErrorCode.INTERNAL : error.code;
}

/** The fatal `Error` frame for an error. */
export function fatalErrorMessage(error: SyncError, supportedVersions: readonly number[]): ServerMessage {
  const code = sendableCode(error);
  const value = create(ErrorSchema, {
    code,
    message: truncateUtf8(error.rawMessage, MAX_ERROR_MESSAGE_BYTES),
    fatal: true,
    retryAfterMs: error.retryAfterMs ?? 0,
    supportedProtocolVersions: code === ErrorCode.UNSUPPORTED_VERSION ? [...supportedVersions] : [],
  });
  return create(ServerMessageSchema, { message: { case: 'error', value } });
}

/** The close after a fatal error: `4000 + code`, reason the enum name (§2.3). */
export function closeFor(error: SyncError): { readonly code: number; readonly reason: string } {
  const code = sendableCode(error);
  return { code: closeCodeForError(code), reason: `ERROR_CODE_${errorCodeName(code)}` };
}
