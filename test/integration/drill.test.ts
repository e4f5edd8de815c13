import { devServerAddress } from '../helpers/devServer';
import { startBenchStack, type BenchStack } from '../../bench/stack';
import { httpAgent } from '../../bench/orders';
import type { OrderOutcome } from '../../bench/drills/driver';
import { workerKillDrill } from '../../bench/drills/killWorker';
import { serverRestartDrill } from '../../bench/drills/serverRestart';
import { faultDrill } from '../../bench/drills/faults';
import { unreachableDrill } from '../../bench/drills/unreachable';

// The fault drills of `npm run drill`, bounded for CI: fewer orders, and no flow-control faults (each
// makes an activity wait 60 s before its retry; `npm run drill` includes them). The worker is the real
// `bindflow worker` process; the simulator and the API run in this process.

const log = (s: string) => process.stdout.write(`${s}\n`);

function expectEveryOrderClean(orders: OrderOutcome[], count: number): void {
  expect(orders).toHaveLength(count);
  for (const o of orders) {
    // Bound with its own AX and one YB (a lost attempt's AX is an AX-only orphan, swept), released.
    expect({ id: o.orderId, bound: o.boundState, ax: o.ownedAxWhenBound, yb: o.ownedYbWhenBound }).toEqual({
      id: o.orderId,
      bound: 'bound',
      ax: 1,
      yb: 1,
    });
    expect(o.axWhenBound).toBe(1 + o.orphansWhenBound);
    expect({ id: o.orderId, final: o.finalState, left: o.ownedAfterRelease }).toEqual({
      id: o.orderId,
      final: 'released',
      left: 0,
    });
  }
}

describe('drills on the shared dev server', () => {
  let stack: BenchStack;
  beforeAll(async () => {
    stack = await startBenchStack({
      poolSize: 200,
      address: devServerAddress(),
      taskQueue: `drill-${process.pid}-${Date.now()}`,
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  }, 90_000);

  test('(d) Temporal unreachable while the platform pushes: 503, then retries land, each call once', async () => {
    const r = await unreachableDrill(stack, { orders: 3, run: 21 });
    log(`drill unreachable: ${JSON.stringify(r)}`);
    expect(r.pushes).toBeGreaterThanOrEqual(3 * 5);
    expect(r.refusedWith503).toBeGreaterThanOrEqual(3);
    expect(r.otherRefusals).toBe(0);
    expect(r.deliveredAfterRestore).toBe(r.pushes);
    expect(r.ordersExact).toBe(3);
    expect(r.ordersUnchangedByReplay).toBe(3);
    expect(r.leftAtProvider).toBe(0);
  }, 150_000);

  test('(a) the worker SIGKILLed at random moments: every order bound once, then released, nothing left', async () => {
    const r = await workerKillDrill(stack, {
      orders: 20,
      concurrency: 4,
      run: 22,
      maxHoldMs: 3000,
      killEveryMs: [2000, 6000],
      downMs: [200, 1500],
    });
    log(`drill kill: ${r.orders.length} orders, ${r.kills} kills, ${r.seconds} s`);
    expect(r.kills).toBeGreaterThanOrEqual(1);
    expectEveryOrderClean(r.orders, 20);
    expect(r.leftAtProvider).toBe(0);
  }, 240_000);

  test('(c) provider faults at 30% (500s, hangs, lost answers): nothing left after release and one sweep', async () => {
    const r = await faultDrill(stack, {
      orders: 12,
      concurrency: 6,
      run: 23,
      kinds: ['http500', 'timeout', 'commitThenDrop'],
      total: 0.3,
      countPerKind: 5,
      orderTimeoutMs: 240_000,
    });
    log(
      `drill faults: fired ${JSON.stringify(r.faultsFired)}, left after release ${r.leftAfterRelease}, sweep ${JSON.stringify(r.sweep)}, ${r.seconds} s`,
    );
    expect(Object.values(r.faultsFired).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    for (const o of r.orders) {
      // With retries most orders bind despite the faults; one whose retries ran out ends failed, never half-bound.
      expect(['bound', 'failed']).toContain(o.boundState);
      // Bound with one YB under its AX; a lost AX answer was bound again, its orphan (AX only) left to the sweep.
      if (o.boundState === 'bound') {
        expect(o.ybWhenBound).toBe(1);
        expect(o.axWhenBound).toBeGreaterThanOrEqual(1);
      }
      expect(['released', 'failed']).toContain(o.finalState);
    }
    expect(r.leftAfterSweep).toBe(0);
  }, 300_000);
});

describe('drill on its own dev server', () => {
  let stack: BenchStack;
  beforeAll(async () => {
    stack = await startBenchStack({ poolSize: 100, synchronous: 'NORMAL' });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await httpAgent.close();
  }, 60_000);

  test('(b) the dev server restarted mid-run on its file database: every workflow resumes', async () => {
    const r = await serverRestartDrill(stack, {
      orders: 15,
      concurrency: 5,
      run: 24,
      restartAfterMs: 3000,
      downMs: 2000,
    });
    log(`drill restart: ${JSON.stringify({ ...r, orders: r.orders.length })}`);
    expect(r.startedBeforeRestart).toBeGreaterThan(0);
    expectEveryOrderClean(r.orders, 15);
    expect(r.leftAtProvider).toBe(0);
  }, 240_000);
});
