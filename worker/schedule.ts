import {
  isGrpcServiceError,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  ServiceError,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { parseDuration } from '../client/cliArgs';
import type { Logger } from '../lib/log';
import { reconcileBindings, type ReconcileInput } from '../workflows/reconcile';

// The reconciliation Schedule: sweeps the number pool every `intervalSeconds`; one run at a time.
// Every worker creates it at start, or updates it in place (several workers starting at once included).

export const RECONCILE_SCHEDULE_ID = 'bindflow-reconcile';

/** A sweep run (at most `pagesPerRun` pages; a large pool continues as new) that takes longer is stopped. */
const MIN_RUN_TIMEOUT_SECONDS = 15 * 60;

export interface ReconcileScheduleOptions {
  intervalSeconds: number;
  taskQueue: string;
  numberPool: string[];
  graceSeconds?: number;
  scheduleId?: string;
}

/** `BINDFLOW_RECONCILE_INTERVAL` in seconds, or null for `0` / `off` (the worker leaves the Schedule alone). */
export function reconcileIntervalSeconds(text: string): number | null {
  if (text.trim().toLowerCase() === 'off') return null;
  const seconds = parseDuration(text, 'BINDFLOW_RECONCILE_INTERVAL');
  return seconds === 0 ? null : seconds;
}

function scheduleParts(opts: ReconcileScheduleOptions) {
  const spec = { intervals: [{ every: `${opts.intervalSeconds}s` }] } satisfies ScheduleOptions['spec'];
  const action = {
    type: 'startWorkflow' as const,
    workflowType: reconcileBindings,
    taskQueue: opts.taskQueue,
    args: [
      { numberPool: opts.numberPool, ...(opts.graceSeconds !== undefined ? { graceSeconds: opts.graceSeconds } : {}) },
    ] as [ReconcileInput],
    workflowRunTimeout: `${Math.max(MIN_RUN_TIMEOUT_SECONDS, opts.intervalSeconds * 5)}s`,
    staticSummary: `reconcile ${opts.numberPool.length} privacy numbers`,
  } satisfies ScheduleOptions['action'];
  return { spec, action };
}

/** gRPC codes retrying cannot fix: bad credentials or permissions, a bad request, an unknown namespace. */
const PERMANENT_GRPC_CODES = new Set([3, 5, 7, 12, 16]); // INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNIMPLEMENTED, UNAUTHENTICATED

function grpcCode(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  if (err instanceof ServiceError && isGrpcServiceError(err.cause)) return err.cause.code;
  return undefined;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof ScheduleNotFoundError) return true; // deleted between our create and update: create again
  if (err instanceof TypeError) return false; // an invalid spec
  const code = grpcCode(err);
  return code === undefined ? err instanceof ServiceError : !PERMANENT_GRPC_CODES.has(code);
}

export interface UpsertOptions {
  /** Tries in all, for conflicts with other workers starting at once and transient failures (default 5). */
  tries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Creates the Schedule, or updates it in place when it exists (keeping its state, e.g. paused); says which. */
export async function upsertReconcileSchedule(
  client: Client,
  opts: ReconcileScheduleOptions,
  retry: UpsertOptions = {},
): Promise<{ scheduleId: string; created: boolean }> {
  if (!Number.isInteger(opts.intervalSeconds) || opts.intervalSeconds < 1)
    throw new Error('intervalSeconds must be a positive integer');
  const scheduleId = opts.scheduleId ?? RECONCILE_SCHEDULE_ID;
  const { spec, action } = scheduleParts(opts);
  const tries = retry.tries ?? 5;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      try {
        await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
        return { scheduleId, created: true };
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      }
      await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
      return { scheduleId, created: false };
    } catch (err) {
      if (attempt >= tries || !isRetryable(err)) throw err;
      // Workers starting together: spread the retries.
      await sleep(Math.round(200 * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
  }
}

/** Creates the Schedule, or updates it in place when it exists (a restart with a new interval or pool). */
export async function ensureReconcileSchedule(client: Client, opts: ReconcileScheduleOptions): Promise<string> {
  return (await upsertReconcileSchedule(client, opts)).scheduleId;
}

export type ScheduleOutcome = 'created' | 'updated' | 'not-managed' | 'no-pool' | 'failed';

export interface ManageScheduleOptions {
  /** Null: `BINDFLOW_RECONCILE_INTERVAL` is `0` / `off`. */
  intervalSeconds: number | null;
  taskQueue: string;
  numberPool: string[];
  scheduleId?: string;
  log: Logger;
  retry?: UpsertOptions;
}

/**
 * What a worker does at start: creates or updates the Schedule, and never fails for it. An empty pool
 * or an interval of `off` leaves any existing Schedule as it is; a failure (say, an API key without
 * permission to manage schedules) is logged and the worker runs on.
 */
export async function manageReconcileSchedule(client: Client, opts: ManageScheduleOptions): Promise<ScheduleOutcome> {
  const scheduleId = opts.scheduleId ?? RECONCILE_SCHEDULE_ID;
  const { log } = opts;
  if (opts.numberPool.length === 0) {
    log.warn(
      'PRIVATENUMBER_NUMBER_POOL is empty: no reconciliation schedule is created (an existing one is left as it is); lost bind responses and orphans are left to their provider-side duration',
      { scheduleId },
    );
    return 'no-pool';
  }
  if (opts.intervalSeconds === null) {
    log.info('BINDFLOW_RECONCILE_INTERVAL is off: this worker leaves the reconciliation schedule alone', {
      scheduleId,
    });
    return 'not-managed';
  }
  try {
    const { created } = await upsertReconcileSchedule(
      client,
      {
        intervalSeconds: opts.intervalSeconds,
        taskQueue: opts.taskQueue,
        numberPool: opts.numberPool,
        scheduleId,
      },
      opts.retry,
    );
    log.info(created ? 'reconciliation schedule created' : 'reconciliation schedule updated', {
      scheduleId,
      intervalSeconds: opts.intervalSeconds,
      numbers: opts.numberPool.length,
      taskQueue: opts.taskQueue,
    });
    return created ? 'created' : 'updated';
  } catch (err) {
    const denied = grpcCode(err) === 7 || grpcCode(err) === 16;
    log.warn(
      `reconciliation schedule not created or updated, orphans are not swept until it is (the worker runs on)${
        denied ? ': the Temporal credentials lack permission to manage schedules' : ''
      }`,
      { scheduleId, error: (err as Error).message, grpcCode: grpcCode(err) },
    );
    return 'failed';
  }
}
