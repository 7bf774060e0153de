/**
 * Splitting and decoding a compact JWS (RFC 7515 §7.1) without verifying it: three base64url parts, a JSON
 * object header with a string `alg`, and a JSON object payload.
 */

import { ErrorCode, SyncError } from '@vibestack/proto';
import { decodeBase64Url } from './base64url.ts';

/** A JOSE header (RFC 7515 §4). Only `alg` is required; `kid` selects a key when several are configured. */
export interface JwtHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
  readonly [name: string]: unknown;
}

/** A token taken apart: what the signature covers, the signature, and the decoded JSON parts. */
export interface DecodedJwt {
  readonly header: JwtHeader;
  /** The payload object, not yet checked (see `checkClaims`). */
  readonly payload: Readonly<Record<string, unknown>>;
  /** The ASCII bytes of `<header>.<payload>`, the input of the signature. */
  readonly signingInput: Uint8Array<ArrayBuffer>;
  readonly signature: Uint8Array<ArrayBuffer>;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const textEncoder = new TextEncoder();

/** A SyncError UNAUTHENTICATED; every token failure is this code (docs/protocol.md §4.3). */
export function unauthenticated(message: string, cause?: unknown): SyncError {
  return new SyncError(ErrorCode.UNAUTHENTICATED, message, cause === undefined ? {} : { cause });
}

function jsonObject(part: string, what: string): Record<string, unknown> {
  const bytes = decodeBase64Url(part);
  if (bytes === undefined) throw unauthenticated(`malformed token: the ${what} is not base64url`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(textDecoder.decode(bytes));
  } catch (cause) {
    throw unauthenticated(`malformed token: the ${what} is not UTF-8 JSON`, cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw unauthenticated(`malformed token: the ${what} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Decodes a compact JWS without checking its signature or claims.
 * @throws SyncError UNAUTHENTICATED ("malformed token: …") when it is not a well-formed JWS.
 */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw unauthenticated('malformed token: expected three dot-separated parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = jsonObject(headerPart, 'header');
  if (typeof header.alg !== 'string') throw unauthenticated('malformed token: the header has no "alg"');
  // RFC 7515 §4.1.11: a recipient must reject a token with critical extensions it does not understand; we
  // understand none.
  if (header.crit !== undefined) throw unauthenticated('malformed token: unsupported "crit" header');
  const payload = jsonObject(payloadPart, 'payload');
  const signature = decodeBase64Url(signaturePart);
  if (signature === undefined) throw unauthenticated('malformed token: the signature is not base64url');
  return {
    header: header as JwtHeader,
    payload,
    signingInput: new Uint8Array(textEncoder.encode(`${headerPart}.${payloadPart}`)),
    signature,
  };
}
