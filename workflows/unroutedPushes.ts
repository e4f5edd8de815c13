import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import { OrderIdSchema, type ProviderEvent } from './types';

// Provider pushes that no open order owns, kept durably for operators (visible in the Web UI, query
// `listUnrouted`) so the webhook can answer 200. Sharded, each shard bounded in events and in history:
//
// - pushes naming an order (its run finished, or never started): `unrouted-{orderId}`, search attribute
//   `OrderId`, so `OrderId = "o-1"` finds the order and its late pushes together; it completes after
//   ORDER_SHARD_IDLE_MS without a new push (a later push starts it again) and keeps the last KEEP_LAST_PER_ORDER;
// - pushes naming no order: one shard per UTC day of receipt, `bindflow-unrouted-pushes-YYYY-MM-DD`, which
//   completes DAY_SHARD_CLOSE_AFTER_MS after its day ends and keeps the last KEEP_LAST.
//
// Each continues as new when its history grows, carrying what it keeps. Runs begun before the sharding (one
// store, id `bindflow-unrouted-pushes`, started without input or with only {total, events}) keep their old
// behaviour, so their histories replay unchanged.

/** Before 0.2 the one and only store; now the prefix of the per-day shards. */
export const UNROUTED_WORKFLOW_ID = 'bindflow-unrouted-pushes';
export const KEEP_LAST = 1000;
export const KEEP_LAST_PER_ORDER = 200;
export const ORDER_SHARD_IDLE_MS = 24 * 3600_000;
export const DAY_SHARD_CLOSE_AFTER_MS = 6 * 3600_000;
/** Continue as new beyond this many history events, or when Temporal suggests it. */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 2000;

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export function unroutedWorkflowIdForOrder(orderId: string): string {
  return `unrouted-${orderId}`;
}

/** The per-day shard for pushes received at `receivedAt` (its UTC date). */
export function unroutedWorkflowIdForDay(receivedAt: Date): string {
  return `${UNROUTED_WORKFLOW_ID}-${unroutedDay(receivedAt)}`;
}

export function unroutedDay(receivedAt: Date): string {
  return receivedAt.toISOString().slice(0, 10);
}

export interface UnroutedEvent {
  receivedAt: string;
  reason: string;
  orderId: string | null;
  event: ProviderEvent;
}

/** What a shard keeps and carries over on continue-as-new. */
interface Kept {
  total: number;
  events: UnroutedEvent[];
}

/** Built where it is used, once per run (see reconcile.ts): an order's run never needs it. */
function shardSchema() {
  return z.discriminatedUnion('shard', [
    z.object({ shard: z.literal('order'), orderId: OrderIdSchema }),
    z.object({
      shard: z.literal('day'),
      day: z
        .string()
        .regex(DAY_RE, 'must be a UTC date YYYY-MM-DD')
        .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'must be a real date'),
    }),
  ]);
}
export type UnroutedShard = z.infer<ReturnType<typeof shardSchema>>;

/** A shard's input: which shard, and what an earlier run of it carried over. */
export type UnroutedInput = UnroutedShard &
  Partial<Kept> & {
    lastReceivedAt?: string;
    /** Continue as new beyond this many history events (default CONTINUE_AS_NEW_AFTER_EVENTS); for tests. */
    continueAsNewAfterEvents?: number;
  };

export const unroutedEvents =
  defineSignal<[{ reason: string; orderId: string | null; events: ProviderEvent[] }]>('unroutedEvents');
export const listUnrouted = defineQuery<{ total: number; events: UnroutedEvent[] }>('listUnrouted');

export async function unroutedPushes(input?: UnroutedInput | Partial<Kept>): Promise<void> {
  if (input && 'shard' in input) return shardStore(input);
  return singleStore(input);
}

/** Events kept in order of receipt, deduplicated (the platform re-pushes up to six times), the oldest dropped. */
function keeper(carried: Partial<Kept> | undefined, keepLast: number) {
  let total = carried?.total ?? 0;
  const events: UnroutedEvent[] = carried?.events ?? [];
  const seen = new Set(events.map((e) => e.event.dedupKey));
  let received = 0;
  setHandler(unroutedEvents, ({ reason, orderId, events: incoming }) => {
    const receivedAt = new Date().toISOString();
    received++;
    for (const event of incoming) {
      if (seen.has(event.dedupKey)) continue;
      seen.add(event.dedupKey);
      events.push({ receivedAt, reason, orderId, event });
      total++;
    }
    while (events.length > keepLast) seen.delete(events.shift()!.event.dedupKey);
  });
  setHandler(listUnrouted, () => ({ total, events }));
  return {
    kept: (): Kept => ({ total, events }),
    /** How many signals this run has handled. */
    received: () => received,
  };
}

/** The shards of 0.2: bounded in time and history. */
async function shardStore(input: UnroutedInput): Promise<void> {
  const parsed = shardSchema().safeParse(input);
  if (!parsed.success) {
    // Nothing to keep for a shard that cannot be named; complete rather than wedge (the webhook never sends this).
    return;
  }
  const shard = parsed.data;
  const limit = input.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS;
  const continueAsNewDue = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > limit;
  const store = keeper(input, shard.shard === 'order' ? KEEP_LAST_PER_ORDER : KEEP_LAST);
  let lastReceivedAt = input.lastReceivedAt ? Date.parse(input.lastReceivedAt) : Date.now();
  const dayEnds = shard.shard === 'day' ? Date.parse(`${shard.day}T00:00:00Z`) + 24 * 3600_000 : 0;
  const closesAt = () =>
    shard.shard === 'order' ? lastReceivedAt + ORDER_SHARD_IDLE_MS : dayEnds + DAY_SHARD_CLOSE_AFTER_MS;
  let handled = store.received();
  for (;;) {
    const left = closesAt() - Date.now();
    if (left <= 0 && store.received() === handled) break;
    if (continueAsNewDue()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof unroutedPushes>({
        ...shard,
        ...(input.continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents: limit } : {}),
        ...store.kept(),
        lastReceivedAt: new Date(lastReceivedAt).toISOString(),
      });
    }
    handled = store.received();
    // Wakes on a new push (the order shard's idle timer starts again), on a suggested continue-as-new, or at closing.
    if (left > 0) await condition(() => store.received() !== handled || continueAsNewDue(), left);
    if (store.received() !== handled) lastReceivedAt = Date.now();
  }
  await condition(allHandlersFinished);
}

/** The one store of 0.1 (`bindflow-unrouted-pushes`), unchanged so that its histories replay. */
async function singleStore(carried?: Partial<Kept>): Promise<void> {
  const store = keeper(carried, KEEP_LAST);
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2000);
  await condition(allHandlersFinished);
  await continueAsNew<typeof unroutedPushes>(store.kept());
}
