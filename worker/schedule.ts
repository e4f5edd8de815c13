import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { reconcileBindings, type ReconcileInput } from '../workflows/reconcile';

// The reconciliation Schedule: sweeps the number pool every `intervalSeconds`; one run at a time.

export const RECONCILE_SCHEDULE_ID = 'bindflow-reconcile';

export interface ReconcileScheduleOptions {
  intervalSeconds: number;
  taskQueue: string;
  numberPool: string[];
  graceSeconds?: number;
  scheduleId?: string;
}

/** Creates the Schedule, or updates it in place when it exists (a restart with a new interval or pool). */
export async function ensureReconcileSchedule(client: Client, opts: ReconcileScheduleOptions): Promise<string> {
  if (!Number.isInteger(opts.intervalSeconds) || opts.intervalSeconds < 1)
    throw new Error('intervalSeconds must be a positive integer');
  const scheduleId = opts.scheduleId ?? RECONCILE_SCHEDULE_ID;
  const spec = { intervals: [{ every: `${opts.intervalSeconds}s` }] } satisfies ScheduleOptions['spec'];
  const action = {
    type: 'startWorkflow' as const,
    workflowType: reconcileBindings,
    taskQueue: opts.taskQueue,
    args: [
      { numberPool: opts.numberPool, ...(opts.graceSeconds !== undefined ? { graceSeconds: opts.graceSeconds } : {}) },
    ] as [ReconcileInput],
    workflowRunTimeout: `${Math.max(60, opts.intervalSeconds * 5)}s`,
    staticSummary: `reconcile ${opts.numberPool.length} privacy numbers`,
  } satisfies ScheduleOptions['action'];
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
  }
  return scheduleId;
}
