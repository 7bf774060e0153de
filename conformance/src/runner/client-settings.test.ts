import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { type Case, CaseSchema } from '../proto.ts';
import { clientSettingsFor } from './client-settings.ts';

const runner = { authToken: 'runner-token', clientId: 'runner-id' };

describe('client settings for init', () => {
  it("merges the case's settings with the runner's token and client id, ignoring the case's own", () => {
    const testCase = create(CaseSchema, {
      client: {
        initialCredit: 3,
        maxFrameBytes: 70_000,
        schemaVersion: 'app-v7',
        maxBackoffMs: 100,
        authToken: 'ignored',
        clientId: 'ignored',
      },
    }) as Case;
    expect(clientSettingsFor(testCase, runner)).toMatchObject({
      initialCredit: 3,
      maxFrameBytes: 70_000,
      schemaVersion: 'app-v7',
      maxBackoffMs: 100,
      authToken: 'runner-token',
      clientId: 'runner-id',
    });
  });

  it("leaves the client's defaults without `client`", () => {
    expect(clientSettingsFor(create(CaseSchema, {}) as Case, runner)).toMatchObject({
      initialCredit: 0,
      maxFrameBytes: 0,
      schemaVersion: '',
      maxBackoffMs: 0,
      ...runner,
    });
  });
});
