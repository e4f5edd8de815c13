import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { PushSchema, PrivateNumberClient, type PrivateNumberClientOptions } from '../../provider';
import { startSimulator, type Simulator } from '../../simulator';
import { createBindflowWorker } from '../../worker/createWorker';
import { BindflowMetrics } from '../../worker/metrics';
import * as msg from '../../workflows/messages';
import { providerEventsFromPush } from '../../workflows/providerEvents';
import { orderIdFromUserData, workflowIdForOrder } from '../../workflows/userData';
import type { ProviderPort } from '../../activities';
import { createLogger } from '../../lib/log';

// Integration harness: the simulator, a minimal push receiver that turns pushes into signals (the
// real webhook lives in client/), and workers wired to both.

export interface SimHarness {
  sim: Simulator;
  numberPool: string[];
  pushesReceived: number;
  close(): Promise<void>;
}

export async function startSimHarness(client: Client): Promise<SimHarness> {
  const state = { pushesReceived: 0 };
  // Signals still in flight when the harness closes must finish before the test closes its Connection:
  // a gRPC retry firing on a closed channel throws outside any test.
  const inFlight = new Set<Promise<unknown>>();
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const handling = (async () => {
        const parsed = PushSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        if (!parsed.success) return res.writeHead(400).end();
        state.pushesReceived++;
        const byOrder = new Map<string, ReturnType<typeof providerEventsFromPush>>();
        for (const ev of providerEventsFromPush(parsed.data)) {
          const orderId = orderIdFromUserData(ev.userData);
          if (!orderId) continue;
          byOrder.set(orderId, [...(byOrder.get(orderId) ?? []), ev]);
        }
        for (const [orderId, events] of byOrder) {
          await client.workflow.getHandle(workflowIdForOrder(orderId)).signal(msg.providerEvents, events);
        }
        res.writeHead(200).end();
      })().catch(() => {
        if (!res.headersSent) res.writeHead(503).end();
      });
      inFlight.add(handling);
      void handling.finally(() => inFlight.delete(handling));
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  const pushUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/privatenumber`;
  const sim = await startSimulator({ port: 0, pushUrl, logger: createLogger('simulator', {}, () => undefined) });
  const numberPool = Object.values(sim.core.opts.pool).flat();
  return {
    sim,
    numberPool,
    get pushesReceived() {
      return state.pushesReceived;
    },
    async close() {
      await sim.close();
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Provider client options for tests: short timeouts so a `timeout` fault costs a second, not ten. */
export function testClientOptions(sim: Simulator): PrivateNumberClientOptions {
  return {
    baseUrl: sim.url,
    appKey: sim.appKey,
    appSecret: sim.appSecret,
    connectTimeoutMs: 1000,
    headersTimeoutMs: 1500,
    bodyTimeoutMs: 1500,
  };
}

export async function startSimWorker(
  connection: NativeConnection,
  taskQueue: string,
  h: SimHarness,
  extra: { providerClient?: ProviderPort; metrics?: BindflowMetrics; callbackSecret?: string } = {},
): Promise<{ worker: Worker; running: Promise<void>; metrics: BindflowMetrics }> {
  const metrics = extra.metrics ?? new BindflowMetrics();
  const options = testClientOptions(h.sim);
  const worker = await createBindflowWorker({
    connection,
    namespace: 'default',
    taskQueue,
    provider: options,
    providerClient: extra.providerClient ?? new PrivateNumberClient(options),
    numberPool: h.numberPool,
    metrics,
    ...(extra.callbackSecret ? { callbackSecret: extra.callbackSecret } : {}),
    // Test receivers listen on 127.0.0.1, which a deployment refuses unless listed.
    callbackDelivery: { targets: { allowHosts: new Set(['127.0.0.1', 'localhost']) } },
    log: createLogger('worker', {}, () => undefined),
    shutdownGraceTime: '1s',
  });
  return { worker, running: worker.run(), metrics };
}

/** Bindings at the simulator carrying this order's userData. */
export function bindingsOf(sim: Simulator, orderId: string) {
  return sim.bindings().filter((b) => orderIdFromUserData(b.userData ?? null) === orderId);
}

/**
 * The order's bindings at the simulator, split into the one its workflow owns (subscription `owned`)
 * and the orphans of binds whose answer was lost (AX only, same userData, another subscription), which
 * reconciliation unbinds.
 */
export function ownedAndOrphans(sim: Simulator, orderId: string, owned: string | null) {
  const mine = bindingsOf(sim, orderId);
  return {
    owned: mine.filter((b) => b.subscriptionId === owned),
    orphans: mine.filter((b) => b.subscriptionId !== owned),
  };
}

/** One reconciliation sweep of the harness's pool (no grace), on a worker of `taskQueue`. */
export async function sweepOnce(client: Client, taskQueue: string, h: SimHarness) {
  const { reconcileBindings } = await import('../../workflows/reconcile');
  return client.workflow.execute(reconcileBindings, {
    taskQueue,
    workflowId: `reconcile-sweep-${process.pid}-${++sweepSeq}`,
    args: [{ numberPool: h.numberPool, graceSeconds: 0 }],
  });
}
let sweepSeq = 0;
