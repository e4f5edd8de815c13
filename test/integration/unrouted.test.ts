import path from 'node:path';
import { Worker } from '@temporalio/worker';
import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { signHeaders } from '../../provider/aksk';
import { buildApi } from '../../client/api';
import { createLogger } from '../../lib/log';
import { listUnrouted, unroutedWorkflowIdForOrder } from '../../workflows/unroutedPushes';
import * as sa from '../../workflows/searchAttributes';
import { connectDevServer, uniqueTaskQueue } from '../helpers/devServer';
import { SIM_APP, TEST_TOKEN } from '../helpers/api';

// The webhook keeps pushes that name an order with no open run in that order's own store, `unrouted-{orderId}`,
// found in visibility by the order's id, alongside its binding.

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met; last: ${JSON.stringify(last).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}

describe('unrouted pushes are kept per order', () => {
  let client: Client;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let app: FastifyInstance;
  const logLines: string[] = [];
  const taskQueue = uniqueTaskQueue('unrouted');
  const run = Date.now().toString(36);

  beforeAll(async () => {
    ({ client, connection, nativeConnection } = await connectDevServer());
    // Only the store's workflow runs here: orders without a run of their own are what this file is about.
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: path.join(__dirname, '../../workflows/unroutedPushes.ts'),
    });
    running = worker.run();
    app = buildApi({
      client,
      connection,
      taskQueue,
      apiToken: TEST_TOKEN,
      ...SIM_APP,
      log: createLogger('api', {}, (l) => logLines.push(l)),
    });
    await app.ready();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    worker?.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
  });

  const callEvent = (orderId: string, sessionId: string, eventType = 'disconnect') => ({
    eventType,
    statusInfo: {
      sessionId,
      timestamp: '2026-11-29 10:00:22',
      caller: '+8613800007001',
      called: '+8675500007001',
      stateCode: 0,
      subscriptionId: `sub-${orderId}`,
      userData: `bf1:${orderId}:tok1`,
    },
  });

  async function deliver(push: unknown) {
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/privatenumber',
      headers: { ...signHeaders(SIM_APP), 'content-type': 'application/json' },
      payload: JSON.stringify(push),
    });
    expect(res.statusCode).toBe(200);
  }

  test('a push for an order that never ran: kept in unrouted-{orderId}, deduplicated, tagged OrderId', async () => {
    const orderId = `never-${run}`;
    await deliver(callEvent(orderId, `s1-${run}`));
    await deliver(callEvent(orderId, `s1-${run}`)); // the platform pushes again
    await deliver(callEvent(orderId, `s1-${run}`, 'callin'));
    const handle = client.workflow.getHandle(unroutedWorkflowIdForOrder(orderId));
    const kept = await handle.query(listUnrouted);
    expect(kept.total).toBe(2);
    expect(kept.events.map((e) => [e.orderId, e.reason, e.event.kind])).toEqual([
      [orderId, 'order not running', 'callEvent'],
      [orderId, 'order not running', 'callEvent'],
    ]);
    const d = await handle.describe();
    expect(d.type).toBe('unroutedPushes');
    expect(d.status.name).toBe('RUNNING');
    expect(d.typedSearchAttributes.get(sa.OrderId)).toBe(orderId);
    // Operators find it by the order's id, as they find the order.
    const found = await eventually(
      async () => {
        const ids: string[] = [];
        for await (const wf of client.workflow.list({ query: `OrderId = '${orderId}'` })) ids.push(wf.workflowId);
        return ids;
      },
      (ids) => ids.length > 0,
    );
    expect(found).toEqual([`unrouted-${orderId}`]);
    // The webhook logs no party number.
    expect(logLines.join('\n')).not.toMatch(/13800007001/);
    await handle.terminate('test over');
  });

  test("a push for an order whose run has closed goes to that order's store", async () => {
    const orderId = `closed-${run}`;
    // A closed run of binding-{orderId} (never picked up: its queue has no worker; then terminated).
    const order = await client.workflow.start('orderBinding', {
      workflowId: `binding-${orderId}`,
      taskQueue: uniqueTaskQueue('nobody'),
      args: [{ orderId }],
    });
    await order.terminate('ended');
    await deliver(callEvent(orderId, `s2-${run}`));
    const handle = client.workflow.getHandle(unroutedWorkflowIdForOrder(orderId));
    expect((await handle.query(listUnrouted)).events.map((e) => e.event.sessionId)).toEqual([`s2-${run}`]);
    // A completed store (here: terminated) takes the next push in a new run of the same id.
    const firstRun = (await handle.describe()).runId;
    await handle.terminate('as if idle for a day');
    await deliver(callEvent(orderId, `s3-${run}`));
    const again = await handle.describe();
    expect(again.runId).not.toBe(firstRun);
    expect((await handle.query(listUnrouted)).events.map((e) => e.event.sessionId)).toEqual([`s3-${run}`]);
    await handle.terminate('test over');
  });
});
