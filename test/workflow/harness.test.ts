import { Worker } from '@temporalio/worker';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv } from '../helpers/timeSkipping';
import * as activities from '../fixtures/wiring/echoActivities';

describe('workflow harness: the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('runs the round-trip workflow', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'harness',
      workflowsPath: path.join(__dirname, '../fixtures/wiring/echoWorkflow.ts'),
      activities,
    });
    const out = await worker.runUntil(
      env.client.workflow.execute('echoWorkflow', { taskQueue: 'harness', workflowId: 'echo-1', args: ['x'] }),
    );
    expect(out).toBe('echo:x');
  });
});
