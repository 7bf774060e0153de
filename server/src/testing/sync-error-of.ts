/** Test helpers for promises that must fail with a `SyncError`. */
import { ErrorCode, isSyncError, type SyncError } from '@vibestack/proto';

/** The `SyncError` `p` rejects with; any other outcome fails the test. */
export async function syncErrorOf(p: Promise<unknown>): Promise<SyncError> {
  try {
    await p;
  } catch (e) {
    if (isSyncError(e)) return e;
    throw e;
  }
  throw new Error('expected a SyncError');
}

/** The message of the UNAUTHENTICATED error `p` (a token check) rejects with; anything else fails the test. */
export async function rejection(p: Promise<unknown>): Promise<string> {
  const error = await syncErrorOf(p);
  if (error.code !== ErrorCode.UNAUTHENTICATED) throw error;
  return error.rawMessage;
}
