import { PassThrough } from 'node:stream';
import { create, toBinary } from '@bufbuild/protobuf';
import { sizeDelimitedEncode } from '@bufbuild/protobuf/wire';
import { SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import {
  AdapterCommandSchema,
  type AdapterEvent,
  AdapterFeature,
  AdapterMessageSchema,
  CommandErrorCode,
} from '../proto.ts';
import { AdapterProtocolError, connectAdapter, serveAdapter } from './adapter-channel.ts';

/** A runner end and an adapter end joined by two pipes; `raw` sees the bytes the runner writes. */
function pair() {
  const toAdapter = new PassThrough();
  const toRunner = new PassThrough();
  const raw: Buffer[] = [];
  toAdapter.on('data', (chunk: Buffer) => raw.push(chunk));
  const events: AdapterEvent[] = [];
  const runner = connectAdapter(toAdapter, toRunner, (e) => events.push(e));
  return { toAdapter, toRunner, raw, events, runner };
}

describe('adapter channel', () => {
  it('carries commands and replies, with events in between, as size-delimited messages', async () => {
    const { toAdapter, toRunner, raw, events, runner } = pair();
    const adapter = serveAdapter(toAdapter, toRunner, async (command) => {
      switch (command.case) {
        case 'init':
          return {
            ok: {
              case: 'init',
              value: { adapterName: `fake for ${command.value.testName}`, features: [AdapterFeature.WRITES] },
            },
          };
        case 'connect':
          await adapter.emit({ case: 'connected', value: { mode: SyncMode.INITIAL, protocolVersion: 1 } });
          await adapter.emit({ case: 'lsnApplied', value: { lsn: 42n } });
          return { ok: { case: undefined } };
        case 'awaitLsn':
          return { error: { code: CommandErrorCode.TIMEOUT, appliedLsn: 42n, message: 'not yet' } };
        case 'dumpState':
          throw new Error('store closed');
        default:
          return { error: { code: CommandErrorCode.UNSUPPORTED } };
      }
    });

    const init = await runner.send({
      case: 'init',
      value: { testName: 'suite/case', serverUrl: 'http://x/' },
    });
    expect(init.commandId).toBe(1n);
    expect(init.outcome).toMatchObject({
      case: 'ok',
      value: { result: { case: 'init', value: { adapterName: 'fake for suite/case', features: [3] } } },
    });
    // The first bytes on the adapter's stdin: the varint length, then the AdapterCommand.
    const first = create(AdapterCommandSchema, {
      id: 1n,
      command: { case: 'init', value: { testName: 'suite/case', serverUrl: 'http://x/' } },
    });
    const body = toBinary(AdapterCommandSchema, first);
    expect(Buffer.concat(raw).subarray(0, body.length + 1)).toEqual(Buffer.from([body.length, ...body]));

    const connect = await runner.send({ case: 'connect', value: {} });
    expect(connect).toMatchObject({
      commandId: 2n,
      outcome: { case: 'ok', value: { result: { case: undefined } } },
    });
    expect(events.map((e) => e.event.case)).toEqual(['connected', 'lsnApplied']);

    expect((await runner.send({ case: 'awaitLsn', value: { lsn: 50n } })).outcome).toMatchObject({
      case: 'error',
      value: { code: CommandErrorCode.TIMEOUT, appliedLsn: 42n },
    });
    expect((await runner.send({ case: 'dumpState', value: {} })).outcome).toMatchObject({
      case: 'error',
      value: { code: CommandErrorCode.FAILED, message: 'store closed' },
    });
    expect((await runner.send({ case: 'write', value: {} })).outcome).toMatchObject({
      case: 'error',
      value: { code: CommandErrorCode.UNSUPPORTED },
    });

    toAdapter.end();
    await adapter.done;
    toRunner.end();
    expect(await runner.closed).toBeUndefined();
    await expect(runner.send({ case: 'disconnect', value: {} })).rejects.toThrow(AdapterProtocolError);
  });

  it('one command at a time; a reply to another id, garbage or the end of output fails the pending command', async () => {
    const busy = pair();
    const first = busy.runner.send({ case: 'connect', value: {} });
    await expect(busy.runner.send({ case: 'connect', value: {} })).rejects.toThrow(/already pending/);
    busy.toRunner.end();
    await expect(first).rejects.toThrow(/closed its output/);

    const wrongId = pair();
    const pending = wrongId.runner.send({ case: 'dumpState', value: {} });
    const stray = create(AdapterMessageSchema, {
      message: { case: 'reply', value: { commandId: 7n, outcome: { case: 'ok', value: {} } } },
    });
    wrongId.toRunner.write(sizeDelimitedEncode(AdapterMessageSchema, stray));
    await expect(pending).rejects.toThrow(/command 7, which is not pending/);
    expect(await wrongId.runner.closed).toBeInstanceOf(AdapterProtocolError);

    const garbage = pair();
    const waiting = garbage.runner.send({ case: 'connect', value: {} });
    garbage.toRunner.write(Buffer.from([3, 0xff, 0xff, 0xff]));
    await expect(waiting).rejects.toThrow(/unreadable adapter output/);
  });
});
