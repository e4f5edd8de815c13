import { Worker } from '@temporalio/worker';
import path from 'node:path';
import { connectDevServer, uniqueTaskQueue } from '../helpers/devServer';
import * as activities from '../fixtures/wiring/echoActivities';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../workflows/searchAttributes';

describe('integration harness: a real Temporal dev server', () => {
  test('runs a workflow with an activity end to end', async () => {
    const { client, connection, nativeConnection } = await connectDevServer();
    const taskQueue = uniqueTaskQueue('harness');
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: path.join(__dirname, '../fixtures/wiring/echoWorkflow.ts'),
      activities,
    });
    const result = await worker.runUntil(
      client.workflow.execute('echoWorkflow', { taskQueue, workflowId: `echo-${taskQueue}`, args: ['hi'] }),
    );
    expect(result).toBe('echo:hi');
    await nativeConnection.close();
    await connection.close();
  });

  test('has the contract search attributes registered', async () => {
    const { connection } = await connectDevServer();
    const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const name of Object.keys(CUSTOM_SEARCH_ATTRIBUTES)) expect(Object.keys(res.customAttributes)).toContain(name);
    await connection.close();
  });
});
