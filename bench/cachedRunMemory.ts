import { spawnSync } from 'node:child_process';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { orderBinding } from '../workflows';
import * as msg from '../workflows/messages';
import { FLOOR_WORKFLOWS_PATH, startMessageFloor } from './floor/run';
import {
  createEnvWithSearchAttributes,
  createFakeWorker,
  FakeProvider,
  input,
  taskQueue,
} from '../test/workflow/fakeProvider';

// `npm run bench:memory` (= `npx tsx bench/cachedRunMemory.ts`): the worker memory an open order costs while its
// run is in the worker's cache (`maxCachedWorkflows`, 1000 in worker/createWorker.ts; a bound order, and an ended
// one in its late-events window, stay cached). One worker process per side, bindflow's orders (bound through the
// fake provider, then left open) and the message-shaped floor's runs (past their first update, then left open):
// the process's RSS at 100, 300, 600 and 900 open runs, and the slope between the first and the last in KB per run.

const CHECKPOINTS = [100, 300, 600, 900];

async function measure(side: 'order' | 'floor'): Promise<void> {
  const env = await createEnvWithSearchAttributes();
  const queue = taskQueue(`memory-${side}`);
  const worker =
    side === 'order'
      ? await createFakeWorker(env, new FakeProvider(), queue)
      : await Worker.create({
          connection: env.nativeConnection,
          taskQueue: queue,
          workflowBundle: await bundleWorkflowCode({
            workflowsPath: FLOOR_WORKFLOWS_PATH,
            logger: new DefaultLogger('WARN'),
          }),
          activities: { noop: async () => undefined },
          maxCachedWorkflows: 1000,
        });
  const running = worker.run();
  const open = (id: string) =>
    side === 'order'
      ? env.client.workflow.executeUpdateWithStart(msg.awaitBound, {
          args: [10_000, { clientDeadline: true }],
          startWorkflowOperation: new WithStartWorkflowOperation(orderBinding, {
            workflowId: `binding-${id}`,
            taskQueue: queue,
            args: [input(id, { durationSeconds: 7 * 24 * 3600 })],
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        })
      : startMessageFloor(env.client, queue, id);
  const rows: { runs: number; rssMb: number; cached: number }[] = [];
  try {
    let n = 0;
    for (const target of CHECKPOINTS) {
      while (n < target) {
        const batch = Array.from({ length: Math.min(20, target - n) }, () => open(`memory-${side}-${n++}`));
        await Promise.all(batch);
      }
      await new Promise((r) => setTimeout(r, 2000));
      rows.push({
        runs: n,
        rssMb: Math.round(process.memoryUsage().rss / 1048576),
        cached: worker.getStatus().numCachedWorkflows,
      });
    }
  } finally {
    worker.shutdown();
    await running;
    await env.teardown();
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  const kbPerRun = Math.round(((last.rssMb - first.rssMb) * 1024) / (last.runs - first.runs));
  process.stdout.write(`${JSON.stringify({ side, rows, kbPerCachedRun: kbPerRun })}\n`);
}

function main(): void {
  const side = process.argv[2];
  if (side === 'order' || side === 'floor') {
    measure(side).catch((err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
    return;
  }
  // Each side in a process of its own: RSS does not shrink back between them.
  for (const s of ['order', 'floor']) {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, s], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    process.stdout.write(
      r.stdout
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .join('\n') + '\n',
    );
    if (r.status !== 0) process.exitCode = 1;
  }
}

main();
