import { reconcileBindings } from '../../workflows/reconcile';
import { between, drillOrder, orderLife, runOrders, sleep, type OrderOutcome } from './driver';
import type { BenchStack } from '../stack';

// Drill (a): orders while the worker process is SIGKILLed at random moments and started again.

export interface KillDrillResult {
  orders: OrderOutcome[];
  kills: number;
  leftAtProvider: number;
  seconds: number;
}

export async function workerKillDrill(
  stack: BenchStack,
  opts: {
    orders: number;
    concurrency: number;
    run: number;
    killEveryMs: [number, number];
    downMs: [number, number];
    /** Orders are held bound for a random time up to this (default 1.5 s). */
    maxHoldMs?: number;
  },
  say: (s: string) => void = () => undefined,
): Promise<KillDrillResult> {
  const t0 = Date.now();
  let done = false;
  let kills = 0;
  const chaos = (async () => {
    // The first kill comes early (the first orders are mid-bind), the next ones once the new worker runs.
    for (let first = true; !done; first = false) {
      await sleep(first ? between(300, 1500) : between(...opts.killEveryMs));
      if (done) break;
      await stack.worker.stop('SIGKILL');
      kills++;
      say(`drill kill: worker SIGKILLed (#${kills}) at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await sleep(between(...opts.downMs));
      await stack.respawnWorker();
    }
  })();
  let orders: OrderOutcome[];
  try {
    orders = await runOrders(opts.orders, opts.concurrency, (i) =>
      orderLife(stack, () => stack.api.url, drillOrder(opts.run, i, 'kill'), between(0, opts.maxHoldMs ?? 1500)),
    );
  } finally {
    done = true;
    await chaos;
  }
  // A kill mid-bind leaves the lost attempt's AX as an orphan: one reconciliation sweep, as in production.
  await stack.api.client.workflow.execute(reconcileBindings, {
    taskQueue: stack.taskQueue,
    workflowId: `drill-kill-sweep-${opts.run}-${Date.now()}`,
    args: [{ numberPool: stack.pool, graceSeconds: 0 }],
  });
  const mine = new Set(orders.map((o) => o.orderId));
  const leftAtProvider = stack.sim.bindings().filter((b) => {
    const id = /^bf1:([^:]+):/.exec(b.userData ?? '')?.[1];
    return id !== undefined && mine.has(id);
  }).length;
  return { orders, kills, leftAtProvider, seconds: Math.round((Date.now() - t0) / 1000) };
}
