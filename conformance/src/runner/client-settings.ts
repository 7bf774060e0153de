/**
 * The client settings the runner sends with `init` (adapter.proto `ClientSettings`): the case's own
 * (`Case.client`: credit, frame limit, schema version, backoff cap) with the credential and client id the runner
 * chose, which a case cannot set.
 */

import { create } from '@bufbuild/protobuf';
import { type Case, type ClientSettings, ClientSettingsSchema } from '../proto.ts';

/** What the runner fills in itself. */
export interface RunnerSettings {
  /** The token the reference server issued for the case. */
  readonly authToken: string;
  /** The client id the case's local database gets. */
  readonly clientId: string;
}

/** The case's client settings with the runner's token and client id (any `auth_token`/`client_id` it set is ignored). */
export function clientSettingsFor(testCase: Case, runner: RunnerSettings): ClientSettings {
  const own = testCase.client;
  return create(ClientSettingsSchema, {
    initialCredit: own?.initialCredit ?? 0,
    maxFrameBytes: own?.maxFrameBytes ?? 0,
    schemaVersion: own?.schemaVersion ?? '',
    maxBackoffMs: own?.maxBackoffMs ?? 0,
    authToken: runner.authToken,
    clientId: runner.clientId,
  });
}
