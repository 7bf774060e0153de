/**
 * The conformance adapter of `@vibestack/client` (conformance/README.md, "Writing an adapter"): it answers the
 * runner's commands with a `createSyncClient` over PGlite and reports the client's connections and commits as
 * events.
 *
 * Storage: one in-memory PGlite per adapter process (a PGlite takes seconds to start), wiped for every case.
 * `restart` keeps the instance — committed data is all a restarted process would find on disk — and loses
 * uncommitted work through the store's `beforeCommit` seam, which rolls back any local transaction still
 * running when the restart begins. The client is created on `connect`, since `createSyncClient` connects at once.
 *
 * Tokens: the client's token source returns the case's current token — the one of `init`, then of each
 * `connect` or `set_token` that hands over another. Events of a client that `init` or `restart` ended (its last
 * `closed` included) are not reported.
 */

import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { createSyncClient, type SyncClient, type WebSocketLike } from '@vibestack/client';
import type { AdapterCommand } from '@vibestack/conformance';
import {
  AdapterFeature,
  type AdapterHost,
  type ClientSettings,
  CommandErrorCode,
  type CommandOutcome,
  type DumpStateResult,
} from '@vibestack/conformance';
import {
  type ClientMessage,
  decodeClientFrame,
  decodeServerFrame,
  ErrorCode,
  encodeClientFrame,
  encodeServerFrame,
  errorForCloseCode,
  MAX_MAX_FRAME_BYTES,
  type ServerMessage,
} from '@vibestack/proto';
import { WebSocket as NodeWebSocket } from 'ws';
import { dumpLocalState } from './local-dump.ts';

/** Options of {@link createTypeScriptAdapter}. */
export interface TypeScriptAdapterOptions {
  /** Test seam: changes each dump before it is answered (a deliberately broken adapter). */
  readonly alterDump?: (dump: DumpStateResult) => DumpStateResult;
  /**
   * Test seam: changes (or, returning `undefined`, drops) each frame the client sends, e.g. to make it
   * acknowledge what it did not apply. `applied` lists the LSNs the client committed so far.
   */
  readonly alterOutgoing?: (message: ClientMessage, applied: readonly bigint[]) => ClientMessage | undefined;
  /**
   * Test seam: changes each binary frame before the client receives it (e.g. to hide `retry_after_ms`). Frames
   * that do not decode are passed on unchanged.
   */
  readonly alterIncoming?: (message: ServerMessage) => ServerMessage;
  /** Test seam: awaited before each command is handled (e.g. to crash or hang on one). */
  readonly beforeCommand?: (command: AdapterCommand['command']) => Promise<void> | void;
  /** Writes a log line (stderr). */
  readonly log: (line: string) => void;
}

/** The adapter's command handler; bind it to a host with `serveAdapter`. */
export interface TypeScriptAdapter {
  handle(command: AdapterCommand['command']): Promise<CommandOutcome>;
  attach(host: AdapterHost): void;
}

const WIPE = `
DO $$ DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
  LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP;
END $$;
CREATE SCHEMA public;`;

const STOPPED_STATES = new Set(['FAILED', 'STOPPED', 'IDLE']);

/** The first byte of a `ServerMessage` holding an `Error` (field 11, length-delimited). */
const ERROR_FRAME_TAG = 0x5a;

/** Creates the adapter (one per process). */
export function createTypeScriptAdapter(options: TypeScriptAdapterOptions): TypeScriptAdapter {
  let host: AdapterHost | undefined;
  let db: PGlite | undefined;
  let client: SyncClient | undefined;
  let serverUrl = '';
  let settings: ClientSettings | undefined;
  let token = '';
  /** Bumped on every init and restart: events of an older client are not reported. */
  let generation = 0;
  let crashing = false;
  let lastApplied = 0n;
  const appliedLsns: bigint[] = [];
  const sockets = new Set<NodeWebSocket>();

  const emit = (event: Parameters<AdapterHost['emit']>[0]) => {
    host?.emit(event).catch((error: Error) => options.log(`cannot report an event: ${error.message}`));
  };

  const database = async () => {
    db ??= await PGlite.create();
    return db;
  };

  /** Ends the client as abruptly as the process can: sockets cut, running local work rolled back. */
  const crash = async () => {
    generation++;
    const c = client;
    client = undefined;
    if (c === undefined) return;
    crashing = true;
    for (const ws of sockets) ws.terminate();
    sockets.clear();
    await c.stop().catch(() => undefined);
    crashing = false;
  };

  /** A WebSocket class that reports the client's connections as adapter events. */
  const socketClass = (gen: number) =>
    class ObservedSocket extends NodeWebSocket {
      #closedBy: number | undefined;
      /** The fatal Error the server sent, if any. */
      #received: ErrorCode | undefined;
      constructor(url: string, protocols: string | string[]) {
        super(url, protocols);
        sockets.add(this);
        let first = true;
        this.addEventListener('message', (event) => {
          if (gen !== generation || !(event.data instanceof ArrayBuffer)) return;
          const bytes = new Uint8Array(event.data);
          // Only the first frame (the Welcome) and Error frames (field 11, tag 0x5a) are decoded here.
          if (!first && bytes[0] !== ERROR_FRAME_TAG) return;
          const wasFirst = first;
          first = false;
          try {
            const m = decodeServerFrame(bytes, MAX_MAX_FRAME_BYTES).message;
            if (m.case === 'welcome' && wasFirst) {
              emit({
                case: 'connected',
                value: { mode: m.value.mode, protocolVersion: m.value.protocolVersion },
              });
            } else if (m.case === 'error' && m.value.fatal) {
              this.#received = m.value.code;
            }
          } catch {
            // Malformed: the client handles it.
          }
        });
        this.addEventListener('close', (event) => {
          sockets.delete(this);
          // After the client's own listener has run: its status then says whether it reconnects.
          queueMicrotask(() => {
            if (gen !== generation) return;
            const byClient = this.#closedBy !== undefined;
            const code = byClient ? this.#closedBy! : event.code;
            const error = this.#received ?? errorForCloseCode(code) ?? ErrorCode.UNSPECIFIED;
            const state = client?.status.state ?? 'STOPPED';
            emit({
              case: 'closed',
              value: {
                code,
                reason: event.reason,
                byClient,
                error,
                willReconnect: !STOPPED_STATES.has(state),
              },
            });
          });
        });
      }
      // ws hands every received message to its listeners through `emit('message', data, isBinary)`.
      override emit(event: string | symbol, ...args: unknown[]): boolean {
        const alter = options.alterIncoming;
        if (alter !== undefined && event === 'message' && args[0] instanceof ArrayBuffer) {
          try {
            const message = decodeServerFrame(new Uint8Array(args[0]), MAX_MAX_FRAME_BYTES);
            args[0] = encodeServerFrame(alter(message)).slice().buffer;
          } catch {
            // Malformed: passed on for the client to handle.
          }
        }
        return super.emit(event, ...args);
      }
      override send(data: Uint8Array): void {
        const alter = options.alterOutgoing;
        if (alter === undefined) {
          super.send(data);
          return;
        }
        const changed = alter(decodeClientFrame(data, MAX_MAX_FRAME_BYTES), appliedLsns);
        if (changed !== undefined) super.send(encodeClientFrame(changed));
      }
      override close(code?: number, reason?: string): void {
        this.#closedBy = code ?? 1005;
        super.close(code, reason);
      }
    };

  const startClient = async () => {
    const gen = generation;
    const local = await database();
    const c = await createSyncClient({
      url: serverUrl,
      db: local,
      token: () => token,
      WebSocket: socketClass(gen) as unknown as new (
        url: string,
        protocols: string | string[],
      ) => WebSocketLike,
      log: (level, message) => options.log(`client ${level}: ${message}`),
      // The case's client settings; 0 and '' mean the client's defaults.
      session: {
        ...(settings?.initialCredit ? { initialCredit: settings.initialCredit } : {}),
        ...(settings?.maxFrameBytes ? { maxFrameBytes: settings.maxFrameBytes } : {}),
        ...(settings?.schemaVersion ? { schemaVersion: settings.schemaVersion } : {}),
        ...(settings?.maxBackoffMs ? { maxBackoffMs: settings.maxBackoffMs } : {}),
      },
      store: {
        newClientId: () => settings?.clientId || randomUUID(),
        beforeCommit: () => {
          if (crashing) throw new Error('the adapter is restarting: this local transaction is lost');
        },
      },
    });
    c.subscribe((status) => {
      if (gen !== generation) return;
      if (status.appliedLsn > lastApplied) {
        lastApplied = status.appliedLsn;
        appliedLsns.push(status.appliedLsn);
        emit({ case: 'lsnApplied', value: { lsn: status.appliedLsn } });
      }
    });
    return c;
  };

  const appliedLsn = async () =>
    client?.status.appliedLsn ?? (await dumpLocalState(await database())).appliedLsn;

  const awaitLsn = async (lsn: bigint, timeoutMs: number): Promise<CommandOutcome> => {
    const c = client;
    if (c === undefined) {
      const applied = await appliedLsn();
      if (applied >= lsn) return { ok: { case: 'awaitLsn', value: { appliedLsn: applied } } };
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      return {
        error: { code: CommandErrorCode.TIMEOUT, appliedLsn: await appliedLsn(), message: 'not connected' },
      };
    }
    return new Promise<CommandOutcome>((resolve) => {
      let unsubscribe = () => {};
      const timer = setTimeout(() => {
        unsubscribe();
        resolve({ error: { code: CommandErrorCode.TIMEOUT, appliedLsn: c.status.appliedLsn } });
      }, timeoutMs);
      const check = () => {
        const s = c.status;
        if (s.appliedLsn >= lsn) {
          clearTimeout(timer);
          unsubscribe();
          resolve({ ok: { case: 'awaitLsn', value: { appliedLsn: s.appliedLsn } } });
        } else if (s.state === 'FAILED' || s.state === 'STOPPED') {
          clearTimeout(timer);
          unsubscribe();
          resolve({
            error: {
              code: CommandErrorCode.CLIENT_STOPPED,
              syncError: s.error?.code ?? ErrorCode.UNSPECIFIED,
              appliedLsn: s.appliedLsn,
              message: s.error?.message ?? s.state,
            },
          });
        }
      };
      unsubscribe = c.subscribe(check);
      check();
    });
  };

  return {
    attach(h) {
      host = h;
    },
    async handle(command) {
      await options.beforeCommand?.(command);
      switch (command.case) {
        case 'init': {
          await crash();
          const local = await database();
          await local.exec(WIPE);
          const s = command.value.settings;
          serverUrl = command.value.serverUrl;
          settings = s;
          token = s?.authToken ?? '';
          lastApplied = 0n;
          appliedLsns.length = 0;
          return {
            ok: {
              case: 'init',
              value: {
                adapterName: 'vibestack-client-ts',
                clientVersion: '0.1.0',
                features: [AdapterFeature.PERSISTENT_STORAGE, AdapterFeature.SNAPSHOT_RESUME],
              },
            },
          };
        }
        case 'connect':
          if (serverUrl === '')
            return { error: { code: CommandErrorCode.INVALID, message: 'connect before init' } };
          if (command.value.authToken !== '') token = command.value.authToken;
          client ??= await startClient();
          return { ok: { case: undefined } };
        case 'disconnect': {
          const c = client;
          client = undefined;
          await c?.stop();
          return { ok: { case: undefined } };
        }
        case 'restart': {
          await crash();
          if (command.value.dropStorage) await (await database()).exec(WIPE);
          lastApplied = 0n;
          return { ok: { case: undefined } };
        }
        case 'setToken':
          // The token source returns it from the client's next connection attempt on.
          token = command.value.authToken;
          return { ok: { case: undefined } };
        case 'awaitLsn':
          return awaitLsn(command.value.lsn, command.value.timeoutMs || 10_000);
        case 'dumpState': {
          const dump = await dumpLocalState(await database());
          return { ok: { case: 'dumpState', value: options.alterDump ? options.alterDump(dump) : dump } };
        }
        default:
          return { error: { code: CommandErrorCode.UNSUPPORTED, message: `no command ${command.case}` } };
      }
    },
  };
}
