import { reconcileBindings } from '../../workflows/reconcile';
import path from 'node:path';
import { startDevServer } from '../../lib/temporalServer';
import { between, drillOrder, orderLife, runOrders, sleep, type OrderOutcome } from './driver';
import type { BenchStack } from '../stack';

// Drill (b): the dev server stopped and started again on its file database in the middle of a run; the
// worker and the API reconnect by themselves and every workflow carries on from its history.

export interface RestartDrillResult {
  orders: OrderOutcome[];
  /** Orders whose workflow had started before the restart. */
  startedBeforeRestart: number;
  downSeconds: number;
  leftAtProvider: number;
  seconds: number;
}

export async function serverRestartDrill(
  stack: BenchStack,
  opts: { orders: number; concurrency: number; run: number; restartAfterMs: number; downMs: number },
  say: (s: string) => void = () => undefined,
): Promise<RestartDrillResult> {
  const t0 = Date.now();
  let startedBeforeRestart = 0;
  let downSeconds = 0;
  const restart = (async () => {
    await sleep(opts.restartAfterMs);
    startedBeforeRestart = (
      await stack.api.client.workflow.count(
        `TaskQueue = '${stack.taskQueue}' AND WorkflowId STARTS_WITH 'binding-restart-${opts.run}-'`,
      )
    ).count;
    const port = stack.server.port;
    const down = Date.now();
    await stack.server.stop();
    say(`drill restart: dev server stopped with ${startedBeforeRestart} workflows started`);
    await sleep(opts.downMs);
    stack.server = await startDevServer({
      port,
      dbFile: path.join(stack.dir, 'temporal.db'),
      synchronous: 'NORMAL',
      stdio: 'ignore',
      logLevel: 'error',
    });
    downSeconds = Math.round((Date.now() - down) / 100) / 10;
    say(`drill restart: dev server back after ${downSeconds} s`);
  })();
  const orders = await runOrders(opts.orders, opts.concurrency, (i) =>
    orderLife(stack, () => stack.api.url, drillOrder(opts.run, i, 'restart'), between(500, 2500)),
  );
  await restart;
  // A bind answered while the server was down is bound again; its orphan is reconciliation's: one sweep.
  await stack.api.client.workflow.execute(reconcileBindings, {
    taskQueue: stack.taskQueue,
    workflowId: `drill-restart-sweep-${opts.run}-${Date.now()}`,
    args: [{ numberPool: stack.pool, graceSeconds: 0 }],
  });
  const leftAtProvider = stack.sim.bindings().length;
  return { orders, startedBeforeRestart, downSeconds, leftAtProvider, seconds: Math.round((Date.now() - t0) / 1000) };
}
