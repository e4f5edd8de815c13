import { log } from '@temporalio/workflow';
import { reconciliation } from './activityStubs';
import { orderIdFromUserData } from './userData';

// The sweeper behind the reconciliation Schedule: every binding on the app's privacy numbers must be
// owned by an open orderBinding workflow; one that is not (a lost bind response that landed late, a
// workflow terminated by hand) is unbound. Bindings without bindflow's userData are left alone.

export interface ReconcileInput {
  /** The app's privacy numbers (X) to sweep. */
  numberPool: string[];
  /** Bindings younger than this are skipped: their workflow may not have recorded them yet. */
  graceSeconds?: number;
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

export async function reconcileBindings(input: ReconcileInput): Promise<ReconcileResult> {
  const graceMs = (input.graceSeconds ?? DEFAULT_RECONCILE_GRACE_SECONDS) * 1000;
  const result: ReconcileResult = { checked: 0, orphansUnbound: 0, foreign: 0, errors: 0 };
  const seen = new Set<string>();
  for (const numberX of new Set(input.numberPool)) {
    let bindings;
    try {
      bindings = await reconciliation.listBindingsOnNumber({ numberX });
    } catch {
      result.errors++;
      continue;
    }
    for (const b of bindings) {
      const key = b.subscriptionId ?? `${numberX}:${b.userData}`;
      if (seen.has(key)) continue;
      seen.add(key);
      result.checked++;
      const orderId = orderIdFromUserData(b.userData);
      if (!orderId) {
        result.foreign++;
        continue;
      }
      if (graceMs > 0 && b.subscribedAt && Date.now() - Date.parse(b.subscribedAt) < graceMs) continue;
      try {
        const owner = await reconciliation.bindingOwnership({ orderId, numberX, subscriptionId: b.subscriptionId });
        if (owner.ownership !== 'orphan') continue;
        if (!owner.subscriptionId) {
          // Neither the provider nor the order's record names it: nothing to unbind by; its duration ends it.
          result.errors++;
          log.warn('orphan binding without a known subscription', { orderId, numberX });
          continue;
        }
        await reconciliation.unbind({ subscriptionId: owner.subscriptionId });
        result.orphansUnbound++;
        log.info('orphan binding unbound', { orderId, subscriptionId: owner.subscriptionId, numberX });
      } catch {
        result.errors++;
      }
    }
  }
  return result;
}
