import { proxyActivities } from '@temporalio/workflow';

// The Temporal floor: a workflow doing nothing but `count` sequential no-op activities, the same number
// of activity calls as one bindflow order (bindAx, bindYb, unbind). Nothing here can be made cheaper.

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1m' });

export async function floorOrder(count: number): Promise<number> {
  for (let i = 0; i < count; i++) await noop();
  return count;
}
