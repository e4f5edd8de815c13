import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ProviderEvent } from '../../workflows/types';
import * as sa from '../../workflows/searchAttributes';
import {
  DAY_SHARD_CLOSE_AFTER_MS,
  KEEP_LAST_PER_ORDER,
  listUnrouted,
  ORDER_SHARD_IDLE_MS,
  UNROUTED_WORKFLOW_ID,
  unroutedEvents,
  unroutedPushes,
  unroutedWorkflowIdForDay,
  unroutedWorkflowIdForOrder,
  type UnroutedInput,
} from '../../workflows/unroutedPushes';
import { createEnvWithSearchAttributes, taskQueue } from './fakeProvider';

// The unrouted store's shards: per order (idle timeout, bounded, reusable id) and per day (closes after its day),
// each continuing as new when its history grows; the single store of 0.1 keeps working.

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const queue = taskQueue('unrouted');
const HOUR = 3600_000;

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowsPath: path.join(__dirname, '../../workflows/unroutedPushes.ts'),
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

function ev(key: string, orderId = 'o-x'): ProviderEvent {
  return {
    kind: 'callEvent',
    dedupKey: key,
    eventType: 'disconnect',
    sessionId: `s-${key}`,
    timestamp: '2026-11-29T10:00:00Z',
    caller: '+86138****0002',
    called: '+86755****0001',
    subscriptionId: null,
    userData: `bf1:${orderId}:t1`,
  };
}

function push(workflowId: string, args: UnroutedInput, events: ProviderEvent[], orderId: string | null = null) {
  return env.client.workflow.signalWithStart(unroutedPushes, {
    workflowId,
    taskQueue: queue,
    args: [args],
    signal: unroutedEvents,
    signalArgs: [{ reason: orderId ? 'order not running' : 'no order owns this push', orderId, events }],
    ...(args.shard === 'order' ? { typedSearchAttributes: [{ key: sa.OrderId, value: args.orderId }] } : {}),
  });
}

const status = async (workflowId: string) => (await env.client.workflow.getHandle(workflowId).describe()).status.name;

describe('per-order shard', () => {
  const orderId = 'o-late';
  const id = unroutedWorkflowIdForOrder(orderId);

  test('keeps deduplicated pushes, completes after a day without one (each push restarts the wait)', async () => {
    expect(id).toBe('unrouted-o-late');
    const handle = await push(id, { shard: 'order', orderId }, [ev('a'), ev('b')], orderId);
    await push(id, { shard: 'order', orderId }, [ev('a')], orderId); // re-pushed by the platform
    expect(await handle.query(listUnrouted)).toMatchObject({ total: 2, events: [{ orderId }, { orderId }] });
    expect((await handle.describe()).typedSearchAttributes.get(sa.OrderId)).toBe(orderId);

    await env.sleep(ORDER_SHARD_IDLE_MS - 4 * HOUR);
    await push(id, { shard: 'order', orderId }, [ev('c')], orderId);
    const lastPushAt = await env.currentTimeMs();
    await env.sleep(ORDER_SHARD_IDLE_MS - 4 * HOUR);
    expect(await status(id)).toBe('RUNNING'); // 40 h after it started, 20 h after its last push

    await handle.result();
    const closedAt = (await handle.describe()).closeTime!.getTime();
    expect(closedAt - lastPushAt).toBeGreaterThanOrEqual(ORDER_SHARD_IDLE_MS - 1000);
    expect(closedAt - lastPushAt).toBeLessThan(ORDER_SHARD_IDLE_MS + HOUR);
    const kept = await handle.query(listUnrouted);
    expect(kept.total).toBe(3);
    expect(kept.events.map((e) => e.event.dedupKey)).toEqual(['a', 'b', 'c']);
  });

  test('a completed shard takes a later push in a new run of the same id', async () => {
    const first = (await env.client.workflow.getHandle(id).describe()).runId;
    const handle = await push(id, { shard: 'order', orderId }, [ev('d')], orderId);
    const d = await handle.describe();
    expect(d.runId).not.toBe(first);
    expect(d.status.name).toBe('RUNNING');
    expect((await handle.query(listUnrouted)).events.map((e) => e.event.dedupKey)).toEqual(['d']);
    await handle.terminate('test over');
  });

  test(`keeps at most the last ${KEEP_LAST_PER_ORDER} events, counting all`, async () => {
    const many = Array.from({ length: KEEP_LAST_PER_ORDER + 50 }, (_, i) => ev(`m-${i}`, 'o-many'));
    const handle = await push(
      unroutedWorkflowIdForOrder('o-many'),
      { shard: 'order', orderId: 'o-many' },
      many,
      'o-many',
    );
    const kept = await handle.query(listUnrouted);
    expect(kept.total).toBe(KEEP_LAST_PER_ORDER + 50);
    expect(kept.events).toHaveLength(KEEP_LAST_PER_ORDER);
    expect(kept.events[0].event.dedupKey).toBe('m-50');
    await handle.terminate('test over');
  });
});

describe('per-day shard', () => {
  test('is named by the UTC date of receipt and completes some hours after its day ends', async () => {
    const now = await env.currentTimeMs();
    const id = unroutedWorkflowIdForDay(new Date(now));
    const day = new Date(now).toISOString().slice(0, 10);
    expect(id).toBe(`${UNROUTED_WORKFLOW_ID}-${day}`);
    const handle = await push(id, { shard: 'day', day }, [ev('x', 'unknown')]);
    await handle.result();
    const closedAt = (await handle.describe()).closeTime!.getTime();
    const dayEnds = Date.parse(`${day}T00:00:00Z`) + 24 * HOUR;
    expect(closedAt).toBeGreaterThanOrEqual(dayEnds + DAY_SHARD_CLOSE_AFTER_MS - 1000);
    expect(closedAt).toBeLessThan(dayEnds + DAY_SHARD_CLOSE_AFTER_MS + HOUR);
    expect((await handle.query(listUnrouted)).events.map((e) => e.event.dedupKey)).toEqual(['x']);
  });

  test('a push for a day long closed is still kept (in a run that completes at once)', async () => {
    const handle = await push(
      unroutedWorkflowIdForDay(new Date('2020-01-01T12:00:00Z')),
      { shard: 'day', day: '2020-01-01' },
      [ev('old')],
    );
    await handle.result();
    expect((await handle.query(listUnrouted)).total).toBe(1);
  });

  test('continues as new when its history grows, carrying what it keeps', async () => {
    const tomorrow = new Date((await env.currentTimeMs()) + 24 * HOUR);
    const day = tomorrow.toISOString().slice(0, 10); // ahead: stays open through the test
    const id = unroutedWorkflowIdForDay(tomorrow);
    const args: UnroutedInput = { shard: 'day', day, continueAsNewAfterEvents: 100 };
    const first = await push(id, args, [ev('k-0')]);
    const firstRunId = (await first.describe()).runId;
    // Each push is one signal event in its history: push past the bound, then let the run roll over. (A run
    // cannot continue as new while signals keep arriving during its workflow task: Temporal then fails the task
    // so that no signal is lost, and the next one tries again.)
    const handle = env.client.workflow.getHandle(id);
    let pushes = 0;
    while ((await handle.describe()).historyLength <= 100) {
      await push(id, args, [ev(`k-${++pushes}`)]);
      expect(pushes).toBeLessThan(200);
    }
    let latest = await handle.describe();
    for (const until = Date.now() + 20_000; latest.runId === firstRunId && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 100));
      latest = await handle.describe();
    }
    expect(latest.runId).not.toBe(firstRunId);
    // Only once its history grew: a push adds at most 4 events (its signal and a workflow task's 3), so
    // passing 100 events takes some 24 pushes (one CI run counted exactly 25).
    expect(pushes).toBeGreaterThanOrEqual(20);
    expect(latest.status.name).toBe('RUNNING');
    // Pushes go on into the new run, which keeps counting.
    await push(id, args, [ev('k-last'), ev('k-0')]);
    const kept = await handle.query(listUnrouted);
    expect(kept.total).toBe(pushes + 2);
    expect(new Set(kept.events.map((e) => e.event.dedupKey)).size).toBe(pushes + 2);
    await handle.terminate('test over');
  });

  test('an unnamable shard input completes rather than wedging', async () => {
    const handle = await env.client.workflow.start(unroutedPushes, {
      workflowId: 'unrouted-bad-input',
      taskQueue: queue,
      args: [{ shard: 'day', day: 'yesterday' } as UnroutedInput],
    });
    await expect(handle.result()).resolves.toBeUndefined();
  });
});

test('the single store of 0.1 (no shard in its input) still keeps pushes and stays open', async () => {
  const handle = await env.client.workflow.signalWithStart(unroutedPushes, {
    workflowId: UNROUTED_WORKFLOW_ID,
    taskQueue: queue,
    args: [],
    signal: unroutedEvents,
    signalArgs: [{ reason: 'no order owns this push', orderId: null, events: [ev('legacy')] }],
  });
  await env.sleep(72 * HOUR);
  expect(await status(UNROUTED_WORKFLOW_ID)).toBe('RUNNING');
  expect(await handle.query(listUnrouted)).toMatchObject({ total: 1, events: [{ event: { dedupKey: 'legacy' } }] });
  await handle.terminate('test over');
});
