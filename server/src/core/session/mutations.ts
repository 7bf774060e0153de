/**
 * Client writes, until they are built (docs/protocol.md §14 is normative; the write path is a later issue).
 * Meanwhile every mutation gets the honest answer: REJECTED with PERMISSION_DENIED "writes are not enabled on
 * this server", so that no client ever treats a write as applied (field note 8). The id rules of §14.3 hold:
 * replays are ALREADY_APPLIED, a gap is fatal MUTATION_OUT_OF_ORDER, the last processed id is recorded.
 */

import { create } from '@bufbuild/protobuf';
import {
  ErrorCode,
  MAX_MUTATIONS_PER_BATCH,
  type MutationBatch,
  MutationOp,
  type MutationResult,
  MutationResultSchema,
  MutationResultsSchema,
  MutationStatus,
  type ServerMessage,
  ServerMessageSchema,
  SyncError,
} from '@vibestack/proto';

/** The rejection message of the temporary read-only write path. */
export const WRITES_DISABLED_MESSAGE = 'writes are not enabled on this server';

/** The outcome of one batch. */
export interface MutationOutcome {
  /** Results for the mutations processed, in id order. */
  readonly results: readonly MutationResult[];
  readonly lastMutationId: bigint;
  /** Set when the batch must end the connection (after the results are sent). */
  readonly fatal?: SyncError;
}

/** Processes a batch against the last processed mutation id. */
export function rejectMutations(batch: MutationBatch, lastMutationId: bigint): MutationOutcome {
  const n = batch.mutations.length;
  if (n === 0 || n > MAX_MUTATIONS_PER_BATCH) {
    return {
      results: [],
      lastMutationId,
      fatal: new SyncError(
        ErrorCode.MALFORMED_FRAME,
        `a MutationBatch holds 1–${MAX_MUTATIONS_PER_BATCH} mutations, got ${n}`,
      ),
    };
  }
  const results: MutationResult[] = [];
  let last = lastMutationId;
  for (const m of batch.mutations) {
    if (m.mutationId <= last) {
      results.push(
        create(MutationResultSchema, { mutationId: m.mutationId, status: MutationStatus.ALREADY_APPLIED }),
      );
      continue;
    }
    if (m.mutationId !== last + 1n) {
      return {
        results,
        lastMutationId: last,
        fatal: new SyncError(
          ErrorCode.MUTATION_OUT_OF_ORDER,
          `mutation ${m.mutationId} does not follow the last processed mutation ${last}`,
        ),
      };
    }
    const malformed = !(m.op in MutationOp) || m.op === MutationOp.UNSPECIFIED || m.hlc === undefined;
    results.push(
      create(MutationResultSchema, {
        mutationId: m.mutationId,
        status: MutationStatus.REJECTED,
        errorCode: malformed ? ErrorCode.MALFORMED_FRAME : ErrorCode.PERMISSION_DENIED,
        message: malformed ? 'the mutation has no valid op or no hlc' : WRITES_DISABLED_MESSAGE,
      }),
    );
    last = m.mutationId;
  }
  return { results, lastMutationId: last };
}

/** The `MutationResults` frame of an outcome, or `undefined` when there are no results. */
export function resultsMessage(outcome: MutationOutcome): ServerMessage | undefined {
  if (outcome.results.length === 0) return undefined;
  const value = create(MutationResultsSchema, { results: [...outcome.results] });
  return create(ServerMessageSchema, { message: { case: 'mutationResults', value } });
}
