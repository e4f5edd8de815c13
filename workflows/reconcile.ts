import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { BindflowActivities, OrphanBinding } from '../activities/types';
import { reconciliation } from './activityStubs';

// The sweeper behind the reconciliation Schedule: every binding on the app's privacy numbers must be
// owned by an open orderBinding workflow; one that is not (a lost bind response that landed late, a
// workflow terminated by hand) is unbound. Bindings without bindflow's userData are left alone.
//
// A pool of thousands of numbers is swept a page at a time (one activity per page: paced provider
// queries, a few in flight, ownership checked), `pagesPerRun` pages per run; the next run
// (continue-as-new) resumes at `cursor` with the totals so far, so no history grows without bound.

export interface ReconcileInput {
  /** The app's privacy numbers (X) to sweep. */
  numberPool: string[];
  /** Bindings younger than this are skipped: their workflow may not have recorded them yet. */
  graceSeconds?: number;
  /** Numbers per page (one activity each). */
  pageSize?: number;
  /** Pages per run before continuing as new. */
  pagesPerRun?: number;
  /** Where this run resumes in the pool (without its duplicates): set by continue-as-new. */
  cursor?: number;
  /** The sweep's totals from its earlier runs: set by continue-as-new. */
  totals?: ReconcileResult;
}

export interface ReconcileResult {
  checked: number;
  orphansUnbound: number;
  /** Bindings not made by bindflow (no `bf1:` userData): reported, never touched. */
  foreign: number;
  /** Numbers or bindings that could not be checked this run (retried by the next run). */
  errors: number;
}

export const DEFAULT_RECONCILE_GRACE_SECONDS = 120;
export const DEFAULT_RECONCILE_PAGE_SIZE = 100;
export const DEFAULT_RECONCILE_PAGES_PER_RUN = 10;
/** Orphans of one page unbound at once. */
const UNBIND_CONCURRENCY = 4;

/**
 * Built where it is used, once per run: every module of the workflow bundle is evaluated again for each new
 * workflow run (an order's too), and a module-level schema would be a few KB that every run kept for its life.
 */
function reconcileInputSchema() {
  const count = z.number().int().min(0);
  return z.object({
    numberPool: z.array(z.string().min(1).max(32)),
    graceSeconds: count.optional(),
    pageSize: z.number().int().min(1).max(1000).optional(),
    pagesPerRun: z.number().int().min(1).max(1000).optional(),
    cursor: count.optional(),
    totals: z.object({ checked: count, orphansUnbound: count, foreign: count, errors: count }).optional(),
  });
}

/** A page's queries at the worker's paced rate take seconds, longer under flow control: heartbeats tell it is alive. */
const pages = proxyActivities<Pick<BindflowActivities, 'reconcileNumbers'>>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3 },
});

export async function reconcileBindings(input: ReconcileInput): Promise<ReconcileResult> {
  const parsed = reconcileInputSchema().safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    throw ApplicationFailure.nonRetryable(`invalid reconcile input: ${problems.join('; ')}`, 'InvalidInput', {
      problems,
    });
  }
  const opts = parsed.data;
  const graceSeconds = opts.graceSeconds ?? DEFAULT_RECONCILE_GRACE_SECONDS;
  const pageSize = opts.pageSize ?? DEFAULT_RECONCILE_PAGE_SIZE;
  const pagesPerRun = opts.pagesPerRun ?? DEFAULT_RECONCILE_PAGES_PER_RUN;
  const pool = [...new Set(opts.numberPool)];
  const totals: ReconcileResult = opts.totals
    ? { ...opts.totals }
    : { checked: 0, orphansUnbound: 0, foreign: 0, errors: 0 };
  let cursor = Math.min(opts.cursor ?? 0, pool.length);

  for (let page = 0; cursor < pool.length; page++) {
    if (page >= pagesPerRun || workflowInfo().continueAsNewSuggested) {
      // No handlers today; should one be added, it finishes before the run does.
      await condition(allHandlersFinished);
      return continueAsNew<typeof reconcileBindings>({ ...input, cursor, totals });
    }
    const numbersX = pool.slice(cursor, cursor + pageSize);
    try {
      const r = await pages.reconcileNumbers({ numbersX, graceSeconds });
      totals.checked += r.checked;
      totals.foreign += r.foreign;
      totals.errors += r.errors;
      await unbindOrphans(r.orphans, totals);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The page's retries ran out: its numbers wait for the next sweep.
      totals.errors += numbersX.length;
      log.warn('reconcile page not checked', { cursor, numbers: numbersX.length, error: (err as Error).message });
    }
    cursor += numbersX.length;
  }
  return totals;
}

async function unbindOrphans(orphans: OrphanBinding[], totals: ReconcileResult): Promise<void> {
  for (let i = 0; i < orphans.length; i += UNBIND_CONCURRENCY) {
    await Promise.all(
      orphans.slice(i, i + UNBIND_CONCURRENCY).map(async ({ orderId, numberX, subscriptionId }) => {
        try {
          await reconciliation.unbind({ subscriptionId });
          totals.orphansUnbound++;
          log.info('orphan binding unbound', { orderId, subscriptionId, numberX });
        } catch {
          totals.errors++;
        }
      }),
    );
  }
}
