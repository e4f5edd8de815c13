import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import { providerEventsFromPush } from '../../workflows/providerEvents';
import { createEnvWithSearchAttributes, createFakeWorker, FakeProvider, input, taskQueue } from './fakeProvider';

// Party changes, the saga on a failed YB, and provider events (dedup, one record per call, recordings).

let env: TestWorkflowEnvironment;
let provider: FakeProvider;
let worker: Worker;
let queue: string;
let running: Promise<void>;

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
});
afterAll(async () => {
  await env?.teardown();
});
beforeEach(async () => {
  provider = new FakeProvider();
  queue = taskQueue('changes');
  worker = await createFakeWorker(env, provider, queue);
  running = worker.run();
});
afterEach(async () => {
  worker.shutdown();
  await running;
});

const A = '+8613800000001';
const B = '+8613800000002';
const B2 = '+8613800000003';
const B3 = '+8613800000004';

function start(orderId: string, overrides: Record<string, unknown> = {}) {
  return env.client.workflow.start(orderBinding, {
    taskQueue: queue,
    workflowId: `binding-${orderId}`,
    args: [input(orderId, overrides)],
  });
}

test('reassigning a B party unbinds its YB and binds a new one; A keeps X; add and remove work', async () => {
  const handle = await start('o-reassign');
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  const binding = provider.bindings.get(bound.subscriptionId!)!;

  const reassigned = await handle.executeUpdate(msg.setParty, { args: [{ label: 'b', number: B2 }] });
  expect(reassigned.numberX).toBe(bound.numberX);
  expect(reassigned.subscriptionId).toBe(bound.subscriptionId);
  expect(reassigned.parties).toEqual([{ label: 'b', number: B2, numberY: binding.yb.get(B2) }]);
  expect([...binding.yb.keys()]).toEqual([B2]); // the old driver's YB is gone

  const added = await handle.executeUpdate(msg.setParty, { args: [{ label: 'shop', number: B3 }] });
  expect(added.parties.map((p) => p.label)).toEqual(['b', 'shop']);
  expect(binding.yb.size).toBe(2);

  const removed = await handle.executeUpdate(msg.removeParty, { args: [{ label: 'b' }] });
  expect(removed.parties.map((p) => p.label)).toEqual(['shop']);
  expect([...binding.yb.keys()]).toEqual([B3]);

  const bad = await handle.executeUpdate(msg.setParty, { args: [{ label: 'x', number: A }] }).catch((e) => e);
  expect(bad).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(String(bad.cause?.message)).toMatch(/must differ from partyA/);

  await handle.executeUpdate(msg.release, { args: [{}] });
  expect(provider.liveCount()).toBe(0);
});

test('a YB rejected at start runs the saga: AX unbound, state failed with the reason', async () => {
  provider.rejectYbFor.add(B2);
  const handle = await start('o-saga', {
    parties: [
      { label: 'driver', number: B },
      { label: 'shop', number: B2 },
    ],
    userCallbackUrl: 'https://orders.example/hooks',
  });
  const summary = await handle.result();
  expect(summary.state).toBe('failed');
  expect(summary.reason).toMatch(/party "shop" failed: 1012102/);
  expect(provider.calls).toEqual(['bindAx', 'bindYb', 'bindYb', 'unbind']);
  expect(provider.liveCount()).toBe(0);
  expect(provider.notifications.map((n) => n.body.type)).toEqual(['binding.failed']);
  expect((await handle.query(msg.getBinding)).failure?.reason).toMatch(/shop/);
});

test('binds whose answers are always lost end failed without sweeping; the orphans carry the order for reconciliation', async () => {
  provider.dropAxResponses = true;
  const handle = await start('o-lost');
  const summary = await handle.result();
  expect(summary.state).toBe('failed');
  expect(summary.reason).toMatch(/binding X for party A failed/);
  const attempts = provider.calls.filter((c) => c === 'bindAx').length;
  expect(attempts).toBeGreaterThan(1);
  // No pool sweep on the order's path: each retry binds again at once; what landed is reconciliation's.
  expect(provider.calls.filter((c) => c !== 'bindAx')).toEqual([]);
  const orphans = [...provider.bindings.values()];
  expect(orphans).toHaveLength(attempts);
  expect(new Set(orphans.map((b) => b.userData)).size).toBe(1);
  expect(orphans[0].userData).toMatch(/^bf1:o-lost:/);
});

test('a rejected reassignment fails the update and leaves the order bound without that party', async () => {
  const handle = await start('o-reassign-fail');
  await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  provider.rejectYbFor.add(B2);
  const err = await handle.executeUpdate(msg.setParty, { args: [{ label: 'b', number: B2 }] }).catch((e) => e);
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(String(err.cause?.message)).toMatch(/party "b" failed/);
  const view = await handle.query(msg.getBinding);
  expect(view.state).toBe('bound');
  expect(view.parties).toEqual([]);
  await handle.executeUpdate(msg.release, { args: [{}] });
  expect(provider.liveCount()).toBe(0);
});

test('re-pushed events are deduplicated into one record per call; a recording link is fetched', async () => {
  const handle = await start('o-calls', { record: true, userCallbackUrl: 'https://orders.example/hooks' });
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  const Y = bound.parties[0].numberY!;
  const common = { sessionId: 's-1', subscriptionId: bound.subscriptionId, userData: 'bf1:o-calls:abc' };
  const events = [
    ...providerEventsFromPush({
      eventType: 'callin',
      statusInfo: { ...common, timestamp: '2026-11-29 10:00:00', caller: B, called: bound.numberX },
    }),
    ...providerEventsFromPush({
      eventType: 'answer',
      statusInfo: { ...common, timestamp: '2026-11-29 10:00:05', caller: B, called: bound.numberX },
    }),
    ...providerEventsFromPush({
      eventType: 'disconnect',
      statusInfo: { ...common, timestamp: '2026-11-29 10:00:47', caller: B, called: bound.numberX, stateCode: 0 },
    }),
    ...providerEventsFromPush({
      eventType: 'fee',
      feeLst: [
        {
          ...common,
          icid: 'icid-1',
          direction: 0,
          callerNum: B,
          calleeNum: bound.numberX,
          fwdDstNum: A,
          callInTime: '2026-11-29 10:00:00',
          fwdAnswerTime: '2026-11-29 10:00:05',
          callEndTime: '2026-11-29 10:00:47',
          recordFlag: 1,
          recordDomain: 'ostor.example',
          recordObjectName: 'rec-1.wav',
        },
      ],
    }),
  ];
  // The platform re-pushes up to six times, in any order and in separate deliveries.
  for (let i = 0; i < 6; i++) await handle.signal(msg.providerEvents, i % 2 ? [...events].reverse() : events);
  await env.sleep('1m');

  const view = await handle.query(msg.getBinding);
  expect(view.calls).toEqual([
    {
      sessionId: 's-1',
      direction: 'b-to-a',
      partyLabel: 'b',
      startedAt: '2026-11-29T10:00:00Z',
      answeredAt: '2026-11-29T10:00:05Z',
      endedAt: '2026-11-29T10:00:47Z',
      talkSeconds: 42,
      outcome: 'answered',
      stateCode: 0,
      recorded: true,
      recordingUrl: 'https://records.example/rec-1.wav?sig=abc',
    },
  ]);
  expect(Y).toMatch(/^\+86/);
  const types = provider.notifications.map((n) => n.body.type);
  expect(types).toEqual(['binding.bound', 'call.completed', 'recording.ready']);
  await handle.executeUpdate(msg.release, { args: [{}] });
});

test('events of another subscription are ignored', async () => {
  const handle = await start('o-foreign');
  await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  await handle.signal(
    msg.providerEvents,
    providerEventsFromPush({
      eventType: 'callin',
      statusInfo: {
        sessionId: 's-x',
        subscriptionId: 'someone-else',
        timestamp: '2026-11-29 10:00:00',
        caller: B,
        called: A,
      },
    }),
  );
  expect((await handle.query(msg.getBinding)).calls).toEqual([]);
  await handle.executeUpdate(msg.release, { args: [{}] });
});

test('a release that arrives while binding waits for the bind under way, binds no further party, then unbinds', async () => {
  const slowQueue = taskQueue('changes-slow');
  const fast = provider.activities();
  const slow = await createFakeWorker(env, provider, slowQueue, {
    bindAx: async (input) => {
      await new Promise((r) => setTimeout(r, 1000));
      return fast.bindAx(input);
    },
  });
  await slow.runUntil(async () => {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: slowQueue,
      workflowId: 'binding-o-early-release',
      args: [input('o-early-release')],
    });
    const released = await handle.executeUpdate(msg.release, { args: [{ reason: 'cancelled' }] });
    expect(released.state).toBe('released');
    expect(provider.calls).toEqual(['bindAx', 'unbind']);
    expect(released.parties).toEqual([{ label: 'b', number: B, numberY: null }]);
    expect(provider.liveCount()).toBe(0);
  });
});
