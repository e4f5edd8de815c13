import path from 'node:path';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import {
  boundUpdate,
  eventSignal,
  ORDER_FLOOR_MEMO,
  releaseUpdate,
  type floorMessages,
  type floorOrderShaped,
  type OrderFloorInput,
} from './workflows';
import { awaitMemoUpsert, decodeStoredPayload } from '../../client/memoWait';
import * as sa from '../../workflows/searchAttributes';
import { memoViewFromBytes } from '../../workflows/types';
import { closedLoop, summarize, type LatencySummary } from '../stats';

// Drives the floor: `total` bare workflows of `activities` no-op activities each, `concurrency` at a time,
// each started and awaited by the client (start, then wait for its result).

export interface FloorResult {
  workflows: number;
  concurrency: number;
  perSecond: number;
  latencyMs: LatencySummary;
}

export async function runFloor(
  client: Client,
  taskQueue: string,
  opts: { total: number; concurrency: number; activities: number; run: string },
): Promise<FloorResult> {
  const latencies: number[] = [];
  const wall = await closedLoop(opts.total, opts.concurrency, async (i) => {
    const t0 = performance.now();
    await client.workflow.execute('floorOrder', {
      taskQueue,
      workflowId: `floor-${opts.run}-${i}`,
      args: [opts.activities],
    });
    latencies.push(performance.now() - t0);
  });
  return {
    workflows: opts.total,
    concurrency: opts.concurrency,
    perSecond: Math.round((opts.total / wall) * 1000 * 100) / 100,
    latencyMs: summarize(latencies),
  };
}

/** The floors' workflow module (floorOrder, floorMessages, floorOrderShaped), for a worker or a bundle of its own. */
export const FLOOR_WORKFLOWS_PATH = path.join(__dirname, 'workflows.ts');

/** Starts a message-shaped floor run and returns once it is past its first update (two activities ran). */
export function startMessageFloor(client: Client, taskQueue: string, workflowId: string): Promise<number> {
  return client.workflow.executeUpdateWithStart(boundUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation<typeof floorMessages>('floorMessages', {
      workflowId,
      taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

/** The message-shaped floor: Update-with-Start until two activities ran, one signal per signalled push, a release update. */
export function runMessageFloor(
  client: Client,
  taskQueue: string,
  opts: { total: number; concurrency: number; signals: number; run: string },
): Promise<FloorResult> {
  return runMessageDriven(client, opts, `floormsg-${opts.run}`, (workflowId) =>
    startMessageFloor(client, taskQueue, workflowId),
  );
}

/**
 * The order-shaped floor (see floorOrderShaped): started with an order's search attributes and waited for until
 * bound as bindflow's PUT does under `bindWait` (BINDFLOW_BIND_WAIT): Update-with-Start, or a plain start and a
 * long-poll of the history for the memo written once bound. Then the message-shaped floor's signals and release
 * update; held open for the same late-events window after the release.
 */
export function runOrderFloor(
  client: Client,
  taskQueue: string,
  opts: {
    total: number;
    concurrency: number;
    signals: number;
    run: string;
    expirySeconds: number;
    windowSeconds: number;
    bindWait: 'update' | 'history';
  },
): Promise<FloorResult> {
  return runMessageDriven(client, opts, `floorord-${opts.run}`, async (workflowId) => {
    const start = {
      workflowId,
      taskQueue,
      args: [{ orderId: workflowId, expirySeconds: opts.expirySeconds, windowSeconds: opts.windowSeconds }] as [
        OrderFloorInput,
      ],
      workflowIdConflictPolicy: 'USE_EXISTING' as const,
      typedSearchAttributes: [
        { key: sa.OrderId, value: workflowId },
        { key: sa.BindingState, value: 'binding' },
        { key: sa.AreaCode, value: '0755' },
      ],
    };
    if (opts.bindWait === 'update') {
      return client.workflow.executeUpdateWithStart(boundUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation<typeof floorOrderShaped>('floorOrderShaped', start),
      });
    }
    const handle = await client.workflow.start<typeof floorOrderShaped>('floorOrderShaped', start);
    const execution = { workflowId, runId: handle.firstExecutionRunId };
    const payload = await awaitMemoUpsert(client, execution, ORDER_FLOOR_MEMO, Date.now() + 60_000);
    if (!payload) throw new Error(`order-shaped floor run ${workflowId} wrote no memo in 60 s`);
    const view = memoViewFromBytes(await decodeStoredPayload(client, payload));
    if (!view) throw new Error(`order-shaped floor run ${workflowId} wrote an unreadable memo`);
    return view;
  });
}

/** `total` runs, `concurrency` at a time: started (until bound, timed), then the signals, then the release update. */
async function runMessageDriven(
  client: Client,
  opts: { total: number; concurrency: number; signals: number },
  idPrefix: string,
  startUntilBound: (workflowId: string) => Promise<unknown>,
): Promise<FloorResult> {
  const latencies: number[] = [];
  const wall = await closedLoop(opts.total, opts.concurrency, async (i) => {
    const workflowId = `${idPrefix}-${i}`;
    const t0 = performance.now();
    await startUntilBound(workflowId);
    latencies.push(performance.now() - t0);
    const handle = client.workflow.getHandle(workflowId);
    for (let s = 0; s < opts.signals; s++) await handle.signal(eventSignal, `e${s}`);
    await handle.executeUpdate(releaseUpdate);
  });
  return {
    workflows: opts.total,
    concurrency: opts.concurrency,
    perSecond: Math.round((opts.total / wall) * 1000 * 100) / 100,
    latencyMs: summarize(latencies),
  };
}
