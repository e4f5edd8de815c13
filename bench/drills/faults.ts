import { reconcileBindings } from '../../workflows/reconcile';
import type { FaultRule } from '../../simulator';
import { between, drillOrder, orderLife, runOrders, type OrderOutcome } from './driver';
import type { BenchStack } from '../stack';

// Drill (c): the provider fails 30% of requests (500s, hangs, flow control, answers lost after the
// commit); afterwards, with the faults off, one reconciliation sweep; nothing may be left bound.

export type FaultKind = FaultRule['fault'];

/** Rules giving each kind an equal share of `total` (the first matching rule that fires wins). */
export function faultMix(kinds: FaultKind[], total: number, countPerKind?: number): FaultRule[] {
  const share = total / kinds.length;
  let left = 1;
  return kinds.map((fault) => {
    const p = share / left;
    left -= share;
    return { api: '*', fault, probability: Math.min(1, p), ...(countPerKind ? { count: countPerKind } : {}) };
  });
}

export interface FaultDrillResult {
  orders: OrderOutcome[];
  faultsFired: Record<string, number>;
  leftAfterRelease: number;
  sweep: { checked: number; orphansUnbound: number; foreign: number; errors: number };
  leftAfterSweep: number;
  seconds: number;
}

export async function faultDrill(
  stack: BenchStack,
  opts: {
    orders: number;
    concurrency: number;
    run: number;
    kinds: FaultKind[];
    total: number;
    /** Stop each kind after this many (CI: the run converges in bounded time). */
    countPerKind?: number;
    /** Per order; retries back off up to minutes under heavy faults. */
    orderTimeoutMs?: number;
  },
  say: (s: string) => void = () => undefined,
): Promise<FaultDrillResult> {
  const t0 = Date.now();
  const rules = faultMix(opts.kinds, opts.total, opts.countPerKind);
  stack.sim.setFaults(rules);
  let orders: OrderOutcome[];
  const fired: Record<string, number> = {};
  try {
    orders = await runOrders(opts.orders, opts.concurrency, (i) =>
      orderLife(
        stack,
        () => stack.api.url,
        drillOrder(opts.run, i, 'fault'),
        between(0, 500),
        opts.orderTimeoutMs ?? 600_000,
      ),
    );
  } finally {
    for (const r of stack.sim.core.faults.get()) fired[r.fault] = (fired[r.fault] ?? 0) + r.applied;
    stack.sim.setFaults([]);
  }
  const leftAfterRelease = stack.sim.bindings().length;
  say(`drill faults: ${JSON.stringify(fired)} fired; ${leftAfterRelease} bindings left after release`);
  const sweep = await stack.api.client.workflow.execute(reconcileBindings, {
    taskQueue: stack.taskQueue,
    workflowId: `drill-sweep-${opts.run}-${Date.now()}`,
    args: [{ numberPool: stack.pool, graceSeconds: 0 }],
  });
  return {
    orders,
    faultsFired: fired,
    leftAfterRelease,
    sweep,
    leftAfterSweep: stack.sim.bindings().length,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
}
