import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { getBinding } from '../workflows/messages';
import { PrivacyNumberX, SubscriptionId } from '../workflows/searchAttributes';
import { workflowIdForOrder } from '../workflows/userData';
import { providerCall } from './failures';
import { axOnNumber } from './pool';
import type { ProviderPort } from './ports';
import type { BindflowActivities } from './types';

// Reconciliation's two questions: what is bound on this X, and does an open workflow own it?

export interface ReconcileDeps {
  provider: ProviderPort;
  /** A client of the worker's namespace, to ask the order's workflow. */
  client: Client;
}

export function reconcileActivities(
  deps: ReconcileDeps,
): Pick<BindflowActivities, 'listBindingsOnNumber' | 'bindingOwnership'> {
  return {
    async listBindingsOnNumber({ numberX }) {
      const ax = await providerCall(() => axOnNumber(deps.provider, numberX));
      return ax ? [ax] : [];
    },

    async bindingOwnership({ orderId, numberX, subscriptionId }) {
      const handle = deps.client.workflow.getHandle(workflowIdForOrder(orderId));
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
    },
  };
}
