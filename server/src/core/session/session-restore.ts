/**
 * The streams of a session restored from a {@link LiveCheckpoint}: an empty outbox with the outstanding
 * credit, and the change-log stream continuing live from its cursor. A restored session has no snapshot stream
 * (only a LIVE session is checkpointed, and its snapshot, if any, ended with SnapshotEnd).
 */

import { ErrorCode, SyncError } from '@vibestack/proto';
import { LogStream } from './log-stream.ts';
import { Outbox } from './outbox.ts';
import type { LiveCheckpoint } from './session-checkpoint.ts';
import type { ResolvedSessionConfig } from './session-config.ts';
import { type Streams, streamContext } from './session-start.ts';
import type { SessionEffect } from './session-types.ts';
import type { TableViews } from './table-views.ts';

/** Rebuilds the streams of a checkpointed session. */
export function restoreStreams(p: {
  readonly config: ResolvedSessionConfig;
  readonly checkpoint: LiveCheckpoint;
  readonly views: TableViews;
  readonly emit: (effect: SessionEffect) => void;
  readonly now: () => number;
}): Streams {
  const cp = p.checkpoint;
  const outbox = new Outbox(cp.credit);
  const ctx = streamContext({ ...p, outbox, claims: cp.claims, maxFrameBytes: cp.frameLimit });
  const log = new LogStream(
    ctx,
    {
      endSnapshot: () => {
        throw new SyncError(ErrorCode.INTERNAL, 'a restored session has no snapshot to end');
      },
    },
    { head: BigInt(cp.log.head), floor: BigInt(cp.log.floor) },
  );
  log.restore(cp.log);
  return { outbox, log, snapshot: undefined };
}
