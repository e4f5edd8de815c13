import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  setHandler,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { ProviderEvent } from './types';

// Provider pushes that no open order owns (unknown userData, finished orders): kept durably for
// operators in one long-lived workflow, visible in the Web UI, so the webhook can answer 200.

export const UNROUTED_WORKFLOW_ID = 'bindflow-unrouted-pushes';
export const KEEP_LAST = 1000;

export interface UnroutedEvent {
  receivedAt: string;
  reason: string;
  orderId: string | null;
  event: ProviderEvent;
}

export const unroutedEvents =
  defineSignal<[{ reason: string; orderId: string | null; events: ProviderEvent[] }]>('unroutedEvents');
export const listUnrouted = defineQuery<{ total: number; events: UnroutedEvent[] }>('listUnrouted');

export async function unroutedPushes(carried?: { total: number; events: UnroutedEvent[] }): Promise<void> {
  let total = carried?.total ?? 0;
  const events: UnroutedEvent[] = carried?.events ?? [];
  const seen = new Set(events.map((e) => e.event.dedupKey));
  setHandler(unroutedEvents, ({ reason, orderId, events: incoming }) => {
    const receivedAt = new Date().toISOString();
    for (const event of incoming) {
      if (seen.has(event.dedupKey)) continue; // the platform re-pushes up to six times
      seen.add(event.dedupKey);
      events.push({ receivedAt, reason, orderId, event });
      total++;
    }
    while (events.length > KEEP_LAST) seen.delete(events.shift()!.event.dedupKey);
  });
  setHandler(listUnrouted, () => ({ total, events }));
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2000);
  await condition(allHandlersFinished);
  await continueAsNew<typeof unroutedPushes>({ total, events });
}
