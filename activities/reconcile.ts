import { CancelledFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DEFAULT_RECONCILE_RATE } from '../lib/config';
import { createLogger, type Logger } from '../lib/log';
import { isProviderError } from '../provider';
import { getBinding } from '../workflows/messages';
import { PrivacyNumberX, SubscriptionId } from '../workflows/searchAttributes';
import { orderIdFromUserData, workflowIdForOrder } from '../workflows/userData';
import { providerCall } from './failures';
import { axOnNumber, forEachConcurrently, pacedAxOnNumber, QueryPacer } from './pool';
import type { ProviderPort } from './ports';
import type {
  BindflowActivities,
  OrphanBinding,
  OwnershipInput,
  OwnershipResult,
  ReconcileNumbersInput,
  ReconcileNumbersResult,
} from './types';

// Reconciliation's two questions: what is bound on this X, and does an open workflow own it? A sweep
// asks them a page of numbers at a time (`reconcileNumbers`), paced below the platform's flow control.

/** Provider queries in flight at once within a page. */
export const DEFAULT_RECONCILE_CONCURRENCY = 4;
/** Longest sleep between two heartbeats (the workflow gives the page activity a 30 s heartbeat timeout). */
const HEARTBEAT_EVERY_MS = 5_000;

export interface ReconcileDeps {
  provider: ProviderPort;
  /** A client of the worker's namespace, to ask the order's workflow. */
  client: Client;
  /** Most provider queries per second of a sweep on this worker (default 10); ignored when `pacer` is given. */
  queriesPerSecond?: number;
  /** Replaces the worker's pacer (tests: a fast one, or one on a fake clock). */
  pacer?: QueryPacer;
  /** Provider queries in flight at once within a page (default 4). */
  concurrency?: number;
  /** Replaces the ownership check by the order's workflow (tests). */
  ownership?: (input: OwnershipInput) => Promise<OwnershipResult>;
  /** Clock for the grace period (ms). */
  now?: () => number;
  log?: Logger;
}

/** Asks the order's workflow (or its closed record) whether it holds this binding. */
export async function ownershipByWorkflow(client: Client, input: OwnershipInput): Promise<OwnershipResult> {
  const { orderId, numberX, subscriptionId } = input;
  const handle = client.workflow.getHandle(workflowIdForOrder(orderId));
  let desc;
  try {
    desc = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { ownership: 'orphan', subscriptionId };
    throw err;
  }
  if (desc.status.name === 'RUNNING') {
    // A query is answered from the workflow's current state, unlike eventually consistent visibility.
    const view = await handle.query(getBinding);
    if (view.state === 'binding') return { ownership: 'busy', subscriptionId };
    const same = view.numberX === numberX && (subscriptionId === null || view.subscriptionId === subscriptionId);
    if (same && view.state === 'bound') return { ownership: 'owned', subscriptionId: view.subscriptionId };
    return { ownership: 'orphan', subscriptionId };
  }
  // Closed: whatever of this order is still bound is an orphan; its record may name the subscription.
  const sa = desc.typedSearchAttributes;
  const recorded = sa.get(PrivacyNumberX) === numberX ? (sa.get(SubscriptionId) ?? null) : null;
  return { ownership: 'orphan', subscriptionId: subscriptionId ?? recorded };
}

/** A sleep that heartbeats at least every few seconds and ends early (throwing) when the activity is cancelled. */
function heartbeatingSleep(ctx: Context, progress: () => unknown): (ms: number) => Promise<void> {
  return async (ms) => {
    for (let left = ms; left > 0; left -= HEARTBEAT_EVERY_MS) {
      await ctx.sleep(Math.min(left, HEARTBEAT_EVERY_MS));
      ctx.heartbeat(progress());
    }
  };
}

export function reconcileActivities(
  deps: ReconcileDeps,
): Pick<BindflowActivities, 'listBindingsOnNumber' | 'bindingOwnership' | 'reconcileNumbers'> {
  const log = deps.log ?? createLogger('activities');
  // One pacer for every page this worker runs: the rate holds whatever runs at once.
  const pacer = deps.pacer ?? new QueryPacer({ perSecond: deps.queriesPerSecond ?? DEFAULT_RECONCILE_RATE });
  const concurrency = deps.concurrency ?? DEFAULT_RECONCILE_CONCURRENCY;
  const ownership = deps.ownership ?? ((input: OwnershipInput) => ownershipByWorkflow(deps.client, input));
  const now = deps.now ?? Date.now;

  return {
    async listBindingsOnNumber({ numberX }) {
      const ax = await providerCall(() => axOnNumber(deps.provider, numberX));
      return ax ? [ax] : [];
    },

    async bindingOwnership(input) {
      return ownership(input);
    },

    async reconcileNumbers({ numbersX, graceSeconds }: ReconcileNumbersInput): Promise<ReconcileNumbersResult> {
      const ctx = Context.current();
      const graceMs = graceSeconds * 1000;
      const result: ReconcileNumbersResult = { checked: 0, foreign: 0, errors: 0, orphans: [] };
      const orphans: OrphanBinding[] = [];
      let done = 0;
      const progress = () => ({ done, of: numbersX.length });
      const sleep = heartbeatingSleep(ctx, progress);

      await forEachConcurrently(numbersX, concurrency, async (numberX) => {
        let ax;
        try {
          ax = await pacedAxOnNumber(deps.provider, numberX, { pacer, sleep });
        } catch (err) {
          if (err instanceof CancelledFailure) throw err;
          result.errors++;
          log.warn('reconcile: privacy number not checked', {
            numberX,
            error: isProviderError(err) ? err.code : err instanceof Error ? err.message : String(err),
          });
          return;
        } finally {
          done++;
          ctx.heartbeat(progress());
        }
        if (!ax) return;
        result.checked++;
        const orderId = orderIdFromUserData(ax.userData);
        if (!orderId) {
          result.foreign++;
          return;
        }
        if (graceMs > 0 && ax.subscribedAt && now() - Date.parse(ax.subscribedAt) < graceMs) return;
        let owner;
        try {
          owner = await ownership({ orderId, numberX, subscriptionId: ax.subscriptionId });
        } catch (err) {
          result.errors++;
          log.warn('reconcile: ownership not told', { orderId, numberX, error: (err as Error).message });
          return;
        }
        if (owner.ownership !== 'orphan') return;
        if (!owner.subscriptionId) {
          // Neither the provider nor the order's record names it: nothing to unbind by; its duration ends it.
          result.errors++;
          log.warn('orphan binding without a known subscription', { orderId, numberX });
          return;
        }
        orphans.push({ orderId, numberX, subscriptionId: owner.subscriptionId });
      });
      // In pool order, whatever order the concurrent queries finished in.
      const position = new Map(numbersX.map((n, i) => [n, i]));
      result.orphans = orphans.sort((a, b) => (position.get(a.numberX) ?? 0) - (position.get(b.numberX) ?? 0));
      return result;
    },
  };
}
