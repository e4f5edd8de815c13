import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { NotifyInput } from '../../activities/types';
import { getWorkflowBundle } from '../../worker/bundle';
import { BindflowMetrics } from '../../worker/metrics';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import { createEnvWithSearchAttributes, FakeProvider, input, taskQueue } from './fakeProvider';

// The outbox's decision to give a notification up is the workflow's: it reaches
// bindflow_notifications_total{outcome="given_up"} through a sink (not recorded in history, not repeated on replay).

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
});
afterAll(async () => {
  await env?.teardown();
});

test('a receiver that refuses (4xx): each notification counted rejected by the activity, given_up by the workflow', async () => {
  const provider = new FakeProvider();
  const metrics = new BindflowMetrics();
  const queue = taskQueue('notify-metrics');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle: await getWorkflowBundle(),
    sinks: metrics.sinks(),
    activities: {
      ...provider.activities(),
      notify: async (i: NotifyInput) => {
        metrics.notification(i.body.type, 'rejected');
        throw ApplicationFailure.nonRetryable('notification answered HTTP 410', 'NotifyHttp');
      },
    },
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: 'binding-o-notify-metrics',
      args: [input('o-notify-metrics', { userCallbackUrl: 'https://orders.example/hooks' })],
    });
    await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    await handle.executeUpdate(msg.release, { args: [{}] });
    expect((await handle.result()).state).toBe('released');
  });
  const text = await metrics.registry.metrics();
  for (const type of ['binding.bound', 'binding.released']) {
    expect(text).toContain(`bindflow_notifications_total{type="${type}",outcome="rejected"} 1`);
    expect(text).toContain(`bindflow_notifications_total{type="${type}",outcome="given_up"} 1`);
  }
  expect(text).toContain('bindflow_notifications_total{type="binding.expired",outcome="given_up"} 0');
});
