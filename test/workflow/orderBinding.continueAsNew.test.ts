import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import type { ProviderEvent } from '../../workflows/types';
import { createEnvWithSearchAttributes, createFakeWorker, FakeProvider, input, taskQueue } from './fakeProvider';

// A long-lived binding with thousands of provider events continues as new, carrying its state.

let env: TestWorkflowEnvironment;
let provider: FakeProvider;
let worker: Worker;
let running: Promise<void>;
const queue = taskQueue('can');

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
  provider = new FakeProvider();
  worker = await createFakeWorker(env, provider, queue);
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

function callEvents(i: number, subscriptionId: string): ProviderEvent[] {
  const base = {
    sessionId: `s-${i}`,
    subscriptionId,
    userData: null,
    caller: '+8613800000002',
    called: '+8675500000001',
  };
  const t = new Date(Date.UTC(2026, 10, 29, 10, 0, i % 60)).toISOString().replace('.000', '');
  return [
    { ...base, kind: 'callEvent', dedupKey: `ev:s-${i}:callin`, eventType: 'callin', timestamp: t },
    {
      ...base,
      kind: 'callEvent',
      dedupKey: `ev:s-${i}:disconnect`,
      eventType: 'disconnect',
      timestamp: t,
      stateCode: 8101,
    },
  ];
}

/**
 * 1000 rather than the default 4000, to keep the test short; the mechanism under test is the same. (At ~4100 events
 * a workflow task once took ~10 s here and expired again and again: every push copied every call's view, making a
 * replay quadratic in the calls. Fixed; `npm run bench:replay` measures it.)
 */
const CAN_AFTER = 1000;

test('continues as new after thousands of events, keeping the binding, its calls and its expiry', async () => {
  const handle = await env.client.workflow.start(orderBinding, {
    taskQueue: queue,
    workflowId: 'binding-o-can',
    args: [input('o-can', { durationSeconds: 7 * 24 * 3600, continueAsNewAfterEvents: CAN_AFTER })],
  });
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  const firstRunId = (await handle.describe()).runId;
  const extended = await handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 3600 }] });

  // Each signal adds at least one history event; duplicates are sent too and must not count. The test's bound
  // is generous (the waits below for a continue-as-new that the time-skipping server refuses while signals race
  // it vary from run to run); it measures nothing about speed.
  const signals = CAN_AFTER + 200;
  for (let i = 0; i < signals; i++) {
    await handle.signal(msg.providerEvents, callEvents(i % 250, bound.subscriptionId!));
    // Past the threshold, let the run continue as new before pushing more: a continue-as-new that keeps
    // racing new signals is refused by the server each time (UNHANDLED_COMMAND), and the time-skipping
    // server, unlike the real one, never holds the signals back to break that loop.
    if (i % 50 === 49 && ((await handle.describe()).historyLength ?? 0) >= CAN_AFTER) {
      for (let w = 0; w < 300 && (await handle.describe()).runId === firstRunId; w++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  const after = await handle.query(msg.getBinding);
  expect((await handle.describe()).runId).not.toBe(firstRunId);
  expect(after.state).toBe('bound');
  expect(after.subscriptionId).toBe(bound.subscriptionId);
  expect(after.numberX).toBe(bound.numberX);
  expect(after.parties).toEqual(bound.parties);
  expect(after.expiresAt).toBe(extended.expiresAt);
  expect(after.calls).toHaveLength(250);
  expect(after.calls.every((c) => c.outcome === 'no-answer')).toBe(true);
  expect(provider.liveCount()).toBe(1);

  const summary = await handle.result();
  expect(summary.state).toBe('expired');
  expect(summary.callCount).toBe(250);
  expect(Date.parse(summary.endedAt)).toBeGreaterThanOrEqual(Date.parse(extended.expiresAt));
  expect(provider.liveCount()).toBe(0);
}, 600_000);
