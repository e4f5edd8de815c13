import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { connectDevServer, devServerAddress, uniqueTaskQueue } from '../helpers/devServer';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import {
  bindingsOf,
  ownedAndOrphans,
  startSimHarness,
  startSimWorker,
  sweepOnce,
  type SimHarness,
} from '../workflow/simHarness';

// A worker process killed (SIGKILL) after its AX bind reached the provider but before it reported
// back; another worker takes over: the order ends bound with exactly one binding it owns (the killed
// attempt's AX is an orphan that one reconciliation sweep removes).

let client: Client;
let connection: NativeConnection;
let closeConnection: () => Promise<void>;
let h: SimHarness;
let child: ChildProcess | undefined;
const taskQueue = uniqueTaskQueue('worker-restart');

beforeAll(async () => {
  const c = await connectDevServer();
  client = c.client;
  connection = c.nativeConnection;
  closeConnection = async () => {
    await c.nativeConnection.close();
    await c.connection.close();
  };
  h = await startSimHarness(client);
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await h?.close();
  await closeConnection?.();
});

function waitForLine(proc: ChildProcess, line: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${line} within ${timeoutMs} ms`)), timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.split('\n').includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`worker exited (${code}) before ${line}`)));
  });
}

test('a worker killed mid-bind and replaced: bound with one binding owned, the orphan swept', async () => {
  const orderId = `kill-${process.pid}`;
  child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(__dirname, '..', 'workflow', 'killableWorker.ts')], {
    env: {
      ...process.env,
      BINDFLOW_KILLABLE_WORKER: JSON.stringify({
        address: devServerAddress(),
        taskQueue,
        provider: { baseUrl: h.sim.url, appKey: h.sim.appKey, appSecret: h.sim.appSecret },
        numberPool: h.numberPool,
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitForLine(child, 'READY', 60_000);

  const handle = await client.workflow.start(orderBinding, {
    taskQueue,
    workflowId: `binding-${orderId}`,
    args: [
      {
        orderId,
        partyA: '+8613800000011',
        parties: [{ label: 'b', number: '+8613800000012' }],
        areaCode: '010',
        durationSeconds: 3600,
      },
    ],
  });
  await waitForLine(child, 'COMMITTED', 30_000);
  child.kill('SIGKILL');
  expect(bindingsOf(h.sim, orderId)).toHaveLength(1); // committed, but nobody knows its subscriptionId yet

  const w = await startSimWorker(connection, taskQueue, h);
  try {
    const bound = await handle.executeUpdate(msg.awaitBound, { args: [60_000] });
    expect(bound.state).toBe('bound');
    // The killed worker's bind had committed: the retry bound again, and that first AX is an orphan.
    const { owned, orphans } = ownedAndOrphans(h.sim, orderId, bound.subscriptionId);
    expect(owned).toHaveLength(1);
    expect(owned[0].yb).toHaveLength(1);
    expect(orphans).toHaveLength(1);
    expect(orphans[0].yb).toEqual([]);
    await handle.executeUpdate(msg.release, { args: [{}] });
    await sweepOnce(client, taskQueue, h);
    expect(bindingsOf(h.sim, orderId)).toEqual([]);
  } finally {
    w.worker.shutdown();
    await w.running;
  }
}, 120_000);
