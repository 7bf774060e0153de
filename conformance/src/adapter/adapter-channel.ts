/**
 * Both ends of the adapter protocol (adapter.proto) over byte streams: size-delimited protobuf messages, as
 * protobuf-es `sizeDelimitedEncode` / `sizeDelimitedDecodeStream` frame them. The runner's end sends commands and
 * matches replies by id; the adapter's end (for adapters written in TypeScript) reads commands, answers each
 * through a handler, and emits events.
 */

import type { Readable, Writable } from 'node:stream';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { sizeDelimitedDecodeStream, sizeDelimitedEncode } from '@bufbuild/protobuf/wire';
import {
  type AdapterCommand,
  AdapterCommandSchema,
  type AdapterEvent,
  AdapterEventSchema,
  AdapterMessageSchema,
  type AdapterReply,
  AdapterReplySchema,
  CommandErrorCode,
  type CommandErrorSchema,
  type CommandOkSchema,
} from '../proto.ts';

/** The largest message either side reads, in bytes (protobuf-es's default limit). */
export const MAX_ADAPTER_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The adapter broke the protocol: a reply out of order, an undecodable message, or it went away. */
export class AdapterProtocolError extends Error {
  override readonly name = 'AdapterProtocolError';
}

function write(stream: Writable, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

/** A command's `command` case, without its id. */
export type CommandInit = NonNullable<MessageInitShape<typeof AdapterCommandSchema>['command']>;

/** The runner's end: see {@link connectAdapter}. */
export interface AdapterConnection {
  /**
   * Sends a command and resolves with the adapter's reply (ok or error). One command at a time: calling again
   * before the reply arrived rejects. Rejects with {@link AdapterProtocolError} when the adapter breaks the
   * protocol or its output ends.
   */
  send(command: CommandInit): Promise<AdapterReply>;
  /** Resolves when the adapter's output ends, with the error that ended it, if any. */
  readonly closed: Promise<Error | undefined>;
}

/**
 * Talks to an adapter whose stdin is `input` and stdout is `output`. `onEvent` gets each event as it arrives.
 *
 * @example
 * const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'inherit'] });
 * const adapter = connectAdapter(child.stdin, child.stdout, (event) => trace(event));
 * const reply = await adapter.send({ case: 'init', value: { testName, serverUrl, storageDir } });
 */
export function connectAdapter(
  input: Writable,
  output: Readable,
  onEvent: (event: AdapterEvent) => void,
): AdapterConnection {
  let nextId = 1n;
  let pending: { id: bigint; resolve(reply: AdapterReply): void; reject(error: Error): void } | undefined;
  let ended: Error | undefined;
  const fail = (error: Error) => {
    ended ??= error;
    pending?.reject(error);
    pending = undefined;
  };
  const closed = (async (): Promise<Error | undefined> => {
    try {
      for await (const message of sizeDelimitedDecodeStream(AdapterMessageSchema, output, {
        readMaxBytes: MAX_ADAPTER_MESSAGE_BYTES,
      })) {
        if (message.message.case === 'event') onEvent(message.message.value);
        else if (message.message.case === 'reply') {
          const reply = message.message.value;
          if (!pending || reply.commandId !== pending.id) {
            throw new AdapterProtocolError(`a reply to command ${reply.commandId}, which is not pending`);
          }
          const { resolve } = pending;
          pending = undefined;
          resolve(reply);
        }
        // An AdapterMessage of a case this runner does not know: ignored, as protobuf evolution allows.
      }
      fail(new AdapterProtocolError('the adapter closed its output'));
      return undefined;
    } catch (error) {
      const wrapped =
        error instanceof AdapterProtocolError
          ? error
          : new AdapterProtocolError(`unreadable adapter output: ${(error as Error).message}`, {
              cause: error,
            });
      fail(wrapped);
      return wrapped;
    }
  })();
  return {
    send(command) {
      if (ended) return Promise.reject(ended);
      if (pending) return Promise.reject(new AdapterProtocolError('a command is already pending'));
      const id = nextId++;
      const reply = new Promise<AdapterReply>((resolve, reject) => {
        pending = { id, resolve, reject };
      });
      write(
        input,
        sizeDelimitedEncode(AdapterCommandSchema, create(AdapterCommandSchema, { id, command })),
      ).catch((error: Error) =>
        fail(new AdapterProtocolError(`cannot write to the adapter: ${error.message}`)),
      );
      return reply;
    },
    closed,
  };
}

/** What an adapter's handler returns for a command: a result (unset for commands without one), or an error. */
export type CommandOutcome =
  | { readonly ok: NonNullable<MessageInitShape<typeof CommandOkSchema>['result']> }
  | { readonly error: MessageInitShape<typeof CommandErrorSchema> };

/** The adapter's end: see {@link serveAdapter}. */
export interface AdapterHost {
  /** Reports an event to the runner. */
  emit(event: NonNullable<MessageInitShape<typeof AdapterEventSchema>['event']>): Promise<void>;
  /** Resolves when the runner's input ends (the adapter should then exit). */
  readonly done: Promise<void>;
}

/**
 * Serves the adapter protocol for a TypeScript adapter: reads commands from `input` (the process's stdin), calls
 * `handle` for each, one at a time, and writes its reply to `output` (stdout). A handler that throws answers
 * COMMAND_ERROR_CODE_FAILED with the error's message.
 */
export function serveAdapter(
  input: Readable,
  output: Writable,
  handle: (command: AdapterCommand['command']) => Promise<CommandOutcome>,
): AdapterHost {
  const send = (message: NonNullable<MessageInitShape<typeof AdapterMessageSchema>['message']>) =>
    write(output, sizeDelimitedEncode(AdapterMessageSchema, create(AdapterMessageSchema, { message })));
  const done = (async () => {
    for await (const command of sizeDelimitedDecodeStream(AdapterCommandSchema, input, {
      readMaxBytes: MAX_ADAPTER_MESSAGE_BYTES,
    })) {
      let outcome: CommandOutcome;
      try {
        outcome = await handle(command.command);
      } catch (error) {
        outcome = { error: { code: CommandErrorCode.FAILED, message: (error as Error).message } };
      }
      const reply = create(AdapterReplySchema, {
        commandId: command.id,
        outcome:
          'ok' in outcome
            ? { case: 'ok', value: { result: outcome.ok } }
            : { case: 'error', value: outcome.error },
      });
      await send({ case: 'reply', value: reply });
    }
  })();
  return {
    emit: (event) => send({ case: 'event', value: create(AdapterEventSchema, { event }) }),
    done,
  };
}
