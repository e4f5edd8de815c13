import {
  allHandlersFinished,
  condition,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';

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

export async function floorMessages(): Promise<number> {
  let activitiesDone = 0;
  let events = 0;
  let released = false;
  setHandler(boundUpdate, async () => {
    await condition(() => activitiesDone >= 2);
    return activitiesDone;
  });
  setHandler(eventSignal, () => void events++);
  setHandler(releaseUpdate, async () => {
    released = true;
    await condition(() => activitiesDone >= 3);
    return events;
  });
  await noop();
  activitiesDone++;
  await noop();
  activitiesDone++;
  await condition(() => released);
  await noop();
  activitiesDone++;
  await condition(allHandlersFinished);
  return events;
}
