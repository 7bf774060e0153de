/**
 * The handshake as a small state machine of its own (docs/protocol.md §4.2): Hello checks 1–4 at once, then the
 * token (check 5) and the client record (checks 6–8) as they come back from the shell. Every failure is a
 * SyncError with the code of the first failed check.
 */

import { ErrorCode, type Hello, SyncError, type SyncMode } from '@vibestack/proto';
import type { JwtClaims } from '../auth/index.ts';
import { checkAccess, checkHello } from './handshake.ts';
import type { ResolvedSessionConfig } from './session-config.ts';
import type { ClientRecord, SessionEffect, SessionEvent } from './session-types.ts';

/** An accepted Hello: everything the Welcome and the streams need. */
export interface AcceptedHello {
  readonly hello: Hello;
  readonly protocolVersion: number;
  readonly claims: JwtClaims;
  readonly mode: SyncMode;
  readonly record: ClientRecord | undefined;
}

/** Where the handshake stands. */
export class HandshakeFlow {
  readonly #config: ResolvedSessionConfig;
  #hello: Hello | undefined;
  #version = 0;
  #claims: JwtClaims | undefined;
  #awaiting: 'token' | 'client' | undefined;

  constructor(config: ResolvedSessionConfig) {
    this.#config = config;
  }

  /** Which shell answer the handshake waits for. */
  get awaiting(): 'token' | 'client' | undefined {
    return this.#awaiting;
  }

  /** Checks 1–4 and asks for the token check. @throws SyncError */
  onHello(hello: Hello): SessionEffect {
    this.#version = checkHello(hello, this.#config.clientId, this.#config.supportedProtocolVersions);
    if (hello.authToken === '')
      throw new SyncError(ErrorCode.UNAUTHENTICATED, 'the Hello carries no auth_token');
    this.#hello = hello;
    this.#awaiting = 'token';
    return { type: 'verify-token', token: hello.authToken };
  }

  /** Check 5 passed in the shell: load the client record. @throws SyncError without a `sub`. */
  onClaims(claims: JwtClaims): SessionEffect {
    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw new SyncError(ErrorCode.UNAUTHENTICATED, 'the token has no "sub" claim');
    }
    this.#claims = claims;
    this.#awaiting = 'client';
    return { type: 'load-client', clientId: this.#config.clientId };
  }

  /** Checks 6–8. @throws SyncError PERMISSION_DENIED, SCHEMA_MISMATCH or MUST_REFETCH. */
  onClientLoaded(ev: Extract<SessionEvent, { type: 'client-loaded' }>): AcceptedHello {
    this.#awaiting = undefined;
    const hello = this.#hello!;
    const claims = this.#claims!;
    const mode = checkAccess(hello, claims.sub, ev, this.#config.acceptsSchemaVersion);
    return { hello, protocolVersion: this.#version, claims, mode, record: ev.record };
  }
}
