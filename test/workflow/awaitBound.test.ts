import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import { createEnvWithSearchAttributes, createFakeWorker, FakeProvider, input, taskQueue } from './fakeProvider';

// awaitBound with the caller's own deadline (what the API sends since issue 15) starts no workflow timer: one
// billable action less per order. Callers without the option keep the timer (and runs replay either way).

const TIMER_STARTED = temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
});
afterAll(async () => {
  await env?.teardown();
});

test('clientDeadline: no timer for the patience; 0 answers at once while binding; the update resolves once bound', async () => {
  const provider = new FakeProvider();
  const fast = provider.activities();
  let openGate: () => void = () => undefined;
  const gate = new Promise<void>((r) => (openGate = r));
  const queue = taskQueue('await-bound');
  const worker = await createFakeWorker(env, provider, queue, {
    bindAx: async (i) => {
      await gate;
      return fast.bindAx(i);
    },
  });
  await worker.runUntil(async () => {
    const timers = async (workflowId: string) =>
      ((await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
        (e) => e.eventType === TIMER_STARTED,
      ).length;
    const gated = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: 'binding-o-await-gated',
      args: [input('o-await-gated')],
    });
    const now = await gated.executeUpdate(msg.awaitBound, { args: [0, { clientDeadline: true }] });
    expect(now.state).toBe('binding');
    const later = gated.executeUpdate(msg.awaitBound, { args: [600_000, { clientDeadline: true }] });
    await new Promise((r) => setTimeout(r, 300));
    expect(await timers(gated.workflowId)).toBe(0); // still binding, nobody's patience is a timer
    openGate();
    expect((await later).state).toBe('bound');

    // Side by side, started as the API does (Update-with-Start), waited on with and without the option.
    const startAndWait = (orderId: string, args: [number, msg.AwaitBoundOptions?]) =>
      env.client.workflow.executeUpdateWithStart(msg.awaitBound, {
        args,
        startWorkflowOperation: new WithStartWorkflowOperation(orderBinding, {
          taskQueue: queue,
          workflowId: `binding-${orderId}`,
          args: [input(orderId)],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
    expect((await startAndWait('o-await-untimed', [10_000, { clientDeadline: true }])).state).toBe('bound');
    expect((await startAndWait('o-await-timed', [10_000])).state).toBe('bound');
    const untimed = env.client.workflow.getHandle('binding-o-await-untimed');
    const timed = env.client.workflow.getHandle('binding-o-await-timed');
    // Bound: the expiry timer runs in both; the timed wait added its own.
    expect(await timers(untimed.workflowId)).toBe(1);
    expect(await timers(timed.workflowId)).toBe(2);
    for (const h of [gated, untimed, timed]) await h.executeUpdate(msg.release, { args: [{}] });
    expect(provider.liveCount()).toBe(0);
  });
});
