import {
  allHandlersFinished,
  condition,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import * as sa from '../../workflows/searchAttributes';

// The Temporal floor: a workflow doing nothing but `count` sequential no-op activities, the same number
// of activity calls as one bindflow order (bindAx, bindYb, unbind). Nothing here can be made cheaper.

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1m' });

export async function floorOrder(count: number): Promise<number> {
  for (let i = 0; i < count; i++) await noop();
  return count;
}

// The same engine work as one bindflow order with none of bindflow's code: started by Update-with-Start
// that returns once two activities ran, a signal per push the webhook signals (4 with BINDFLOW_CALL_EVENTS=all,
// 2 with final), then a release update running the
// third activity. The distance between this and bindflow is bindflow's own cost.

export const boundUpdate = defineUpdate<number>('bound');
export const releaseUpdate = defineUpdate<number>('release');
export const eventSignal = defineSignal<[string]>('event');

/** The handlers both message-driven floors share: `bound` waits for two activities, `release` for the third. */
function floorHandlers() {
  const st = { activitiesDone: 0, events: 0, released: false };
  setHandler(boundUpdate, async () => {
    await condition(() => st.activitiesDone >= 2);
    return st.activitiesDone;
  });
  setHandler(eventSignal, () => void st.events++);
  setHandler(releaseUpdate, async () => {
    st.released = true;
    await condition(() => st.activitiesDone >= 3);
    return st.events;
  });
  return st;
}

export async function floorMessages(): Promise<number> {
  const st = floorHandlers();
  await noop();
  st.activitiesDone++;
  await noop();
  st.activitiesDone++;
  await condition(() => st.released);
  await noop();
  st.activitiesDone++;
  await condition(allHandlersFinished);
  return st.events;
}

// The order-shaped floor: the engine work an order's lifecycle itself needs, still with none of bindflow's code.
// Started and waited for until bound as bindflow's PUT does (Update-with-Start, or with BINDFLOW_BIND_WAIT=history
// a plain start and a long-poll of the history for the memo it writes once bound, as an order does), search
// attributes given at start, one upsert once bound (the same attributes as an order's), an
// expiry timer that the release cancels, one upsert once released, and a late-events window timer during which
// the run stays open. Its billable actions per run equal an order's; the distance between this and bindflow is
// bindflow's code, not the engine work it asks for.

export interface OrderFloorInput {
  orderId: string;
  expirySeconds: number;
  windowSeconds: number;
}

export const ORDER_FLOOR_MEMO = 'floorView';

/** About the size of an order's bound view memo. */
function floorView(input: OrderFloorInput) {
  return {
    orderId: input.orderId,
    workflowId: input.orderId,
    state: 'bound',
    subscriptionId: `floor-sub-${input.orderId}-0000-0000-000000000000`,
    numberX: '+8675500000000',
    parties: [{ label: 'b', numberY: '+8675500000001' }],
    expiresAt: new Date(Date.now() + input.expirySeconds * 1000).toISOString(),
    extensionRemainingSeconds: input.expirySeconds,
    calls: [],
    requestedAt: new Date().toISOString(),
  };
}

export async function floorOrderShaped(input: OrderFloorInput): Promise<number> {
  const st = floorHandlers();
  await noop();
  st.activitiesDone++;
  await noop();
  const expiresAt = new Date(Date.now() + input.expirySeconds * 1000);
  upsertSearchAttributes([
    { key: sa.BindingState, value: 'bound' },
    { key: sa.SubscriptionId, value: `floor-sub-${input.orderId}` },
    { key: sa.PrivacyNumberX, value: '+8675500000000' },
    { key: sa.PrivacyNumbersY, value: ['+8675500000001'] },
    { key: sa.ExpiresAt, value: expiresAt },
  ]);
  upsertMemo({ [ORDER_FLOOR_MEMO]: Uint8Array.from(new TextEncoder().encode(JSON.stringify(floorView(input)))) });
  st.activitiesDone++;
  await condition(() => st.released, input.expirySeconds * 1000);
  await noop();
  st.activitiesDone++;
  upsertSearchAttributes([{ key: sa.BindingState, value: 'released' }]);
  await condition(allHandlersFinished);
  await sleep(input.windowSeconds * 1000);
  return st.events;
}
