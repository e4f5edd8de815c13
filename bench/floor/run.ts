import type { Client } from '@temporalio/client';
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
