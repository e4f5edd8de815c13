import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';

// The floor's worker process (spawned by bench/processes.ts): the same worker options as
// worker/createWorker.ts, so the only difference with bindflow is the workflow and activity code.

async function main(): Promise<void> {
  const address = process.env.FLOOR_ADDRESS ?? '127.0.0.1:7233';
  const taskQueue = process.env.FLOOR_TASK_QUEUE ?? 'floor';
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowsPath: path.join(__dirname, 'workflows.ts'),
    activities: { noop: async () => undefined },
    maxConcurrentActivityTaskExecutions: 50,
    maxConcurrentWorkflowTaskExecutions: 40,
    maxCachedWorkflows: 1000,
  });
  process.once('SIGTERM', () => worker.shutdown());
  process.stdout.write('FLOOR READY\n');
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
