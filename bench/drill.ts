import { startApi, startBenchStack } from './stack';
import { workerKillDrill } from './drills/killWorker';
import { serverRestartDrill } from './drills/serverRestart';
import { faultDrill } from './drills/faults';
import { unreachableDrill } from './drills/unreachable';
import { fuzzApi } from './drills/fuzz';
import { boundUnderFaultsDrill } from './drills/boundUnderFaults';
import type { OrderOutcome } from './drills/driver';
import { httpAgent } from './orders';

// `npm run drill`: the five fault drills at full size on one local stack (dev server on a file
// database, simulator, `bindflow worker` as a child process, API). Exit code 1 if any check fails.
// DRILL_ORDERS (default 100), DRILL_ONLY=kill,restart,faults,unreachable,fuzz to run some.
// DRILL_ONLY=boundUnderFaults: issue #11 item 6 (20 orders at once unless DRILL_ORDERS, heavy bind and
// unbind faults, every order bound within 120 s, nothing left after release and one sweep); not in the default set.

const ORDERS = Number(process.env.DRILL_ORDERS ?? 100);
/** Faults of each kind at most (DRILL_FAULT_CAP=0: unlimited). */
const FAULT_CAP = Number(process.env.DRILL_FAULT_CAP ?? 25) || undefined;
const ONLY = (process.env.DRILL_ONLY ?? 'unreachable,kill,restart,faults,fuzz').split(',');
const say = (s: string) => process.stdout.write(`${s}\n`);

/** Problems with a set of order outcomes: bound with exactly one AX and one YB, released, nothing left. */
export function orderProblems(orders: OrderOutcome[]): string[] {
  const bad: string[] = [];
  for (const o of orders) {
    if (o.boundState !== 'bound') bad.push(`${o.orderId}: ended ${o.boundState} instead of bound`);
    // Its own binding: one AX with one YB; anything else for A must be AX-only orphans of lost answers.
    else if (o.ownedAxWhenBound !== 1 || o.ownedYbWhenBound !== 1 || o.axWhenBound !== 1 + o.orphansWhenBound)
      bad.push(`${o.orderId}: ${o.axWhenBound} AX / ${o.ybWhenBound} YB at the provider when bound`);
    if (o.finalState !== 'released' && !(o.boundState === 'failed' && o.finalState === 'failed'))
      bad.push(`${o.orderId}: final state ${o.finalState}`);
    if (o.ownedAfterRelease !== 0) bad.push(`${o.orderId}: its AX still bound after release`);
  }
  return bad;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const stack = await startBenchStack({ poolSize: Math.max(300, ORDERS * 3), synchronous: 'NORMAL' });
  const summary: Record<string, unknown> = { orders: ORDERS };
  const problems: string[] = [];
  try {
    if (ONLY.includes('unreachable')) {
      const r = await unreachableDrill(stack, { orders: 10, run: 11 });
      say(`unreachable: ${JSON.stringify(r)}`);
      if (
        r.refusedWith503 < 1 ||
        r.otherRefusals !== 0 ||
        r.deliveredAfterRestore !== r.pushes ||
        r.ordersExact !== r.orders ||
        r.ordersUnchangedByReplay !== r.orders ||
        r.leftAtProvider
      )
        problems.push(`unreachable: ${JSON.stringify(r)}`);
      summary.unreachable = r;
    }
    if (ONLY.includes('kill')) {
      const r = await workerKillDrill(
        stack,
        { orders: ORDERS, concurrency: 10, run: 12, killEveryMs: [2000, 8000], downMs: [200, 2000] },
        say,
      );
      const bad = [...orderProblems(r.orders), ...(r.leftAtProvider ? [`${r.leftAtProvider} bindings left`] : [])];
      say(
        `kill: ${r.orders.length} orders, ${r.kills} SIGKILLs, ${r.seconds} s, problems: ${bad.length ? bad.join('; ') : 'none'}`,
      );
      problems.push(...bad.map((b) => `kill: ${b}`));
      summary.kill = { orders: r.orders.length, kills: r.kills, seconds: r.seconds, problems: bad.length };
    }
    if (ONLY.includes('restart')) {
      const r = await serverRestartDrill(
        stack,
        { orders: Math.min(ORDERS, 60), concurrency: 10, run: 13, restartAfterMs: 4000, downMs: 3000 },
        say,
      );
      const bad = [...orderProblems(r.orders), ...(r.leftAtProvider ? [`${r.leftAtProvider} bindings left`] : [])];
      say(
        `restart: ${r.orders.length} orders, ${r.startedBeforeRestart} started before the restart, down ${r.downSeconds} s, problems: ${bad.length ? bad.join('; ') : 'none'}`,
      );
      problems.push(...bad.map((b) => `restart: ${b}`));
      summary.restart = {
        orders: r.orders.length,
        startedBeforeRestart: r.startedBeforeRestart,
        downSeconds: r.downSeconds,
        problems: bad.length,
      };
    }
    if (ONLY.includes('faults')) {
      const r = await faultDrill(
        stack,
        {
          orders: ORDERS,
          concurrency: 20,
          run: 14,
          kinds: ['http500', 'timeout', 'flowControl', 'commitThenDrop'],
          total: 0.3,
          // Capped: without a cap, an order whose bindAx needed a retry never ends while the faults last
          // (the adoption scan queries the whole pool; one failed query fails the attempt). See docs.
          countPerKind: FAULT_CAP,
        },
        say,
      );
      const failed = r.orders.filter((o) => o.boundState !== 'bound').length;
      say(
        `faults: ${r.orders.length} orders (${failed} ended failed after retries), fired ${JSON.stringify(r.faultsFired)}, ` +
          `left after release ${r.leftAfterRelease}, sweep ${JSON.stringify(r.sweep)}, left after sweep ${r.leftAfterSweep}, ${r.seconds} s`,
      );
      if (r.leftAfterSweep !== 0) problems.push(`faults: ${r.leftAfterSweep} bindings left after the sweep`);
      summary.faults = { ...r, orders: r.orders.length, failed };
    }
    if (ONLY.includes('boundUnderFaults')) {
      const r = await boundUnderFaultsDrill(stack, { orders: process.env.DRILL_ORDERS ? ORDERS : 20, run: 15 }, say);
      const ms = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(1)} s` : 'not bound');
      for (const o of r.perOrder)
        say(
          `  ${o.orderId}: ${o.boundMs === undefined ? o.state : ms(o.boundMs)}, final ${o.finalState}, attempts ${JSON.stringify(o.attempts ?? {})}` +
            (o.lastFailures?.length ? `, ${o.lastFailures.join('; ')}` : ''),
        );
      for (const p of r.stillBindingAtTarget)
        say(`  at ${r.targetMs / 1000} s ${p.orderId} ${p.state}: ${JSON.stringify(p.pending)}`);
      say(
        `boundUnderFaults: ${r.orders} orders, time-to-bound p50 ${ms(r.boundMs.p50)}, p90 ${ms(r.boundMs.p90)}, max ${ms(r.boundMs.max)}; ` +
          `${r.boundWithinTarget}/${r.orders} bound within ${r.targetMs / 1000} s (${r.boundAtAll} at all); fired ${JSON.stringify(r.faultsFired)}; ` +
          `left after release ${r.leftAfterRelease}, sweep ${JSON.stringify(r.sweep)}, left after sweep ${r.leftAfterSweep}; ${r.seconds} s; worker log ${r.workerLog}`,
      );
      if (r.boundWithinTarget !== r.orders)
        problems.push(
          `boundUnderFaults: ${r.orders - r.boundWithinTarget} of ${r.orders} orders not bound within ${r.targetMs / 1000} s`,
        );
      if (r.leftAfterSweep !== 0) problems.push(`boundUnderFaults: ${r.leftAfterSweep} bindings left after the sweep`);
      if ('error' in r.sweep) problems.push(`boundUnderFaults: sweep failed: ${r.sweep.error}`);
      summary.boundUnderFaults = { ...r, perOrder: undefined, stillBindingAtTarget: r.stillBindingAtTarget.length };
    }
    if (ONLY.includes('fuzz')) {
      const fuzzApiHandle = await startApi({ address: stack.server.address, taskQueue: stack.taskQueue });
      try {
        const r = await fuzzApi(fuzzApiHandle.url, { rounds: 10, perRound: 1000 });
        say(`fuzz: ${r.requests} requests, statuses ${JSON.stringify(r.byStatus)}, heap MiB ${r.heapMb.join(' ')}`);
        if (r.offenders.length) problems.push(`fuzz: non-4xx answers ${JSON.stringify(r.offenders)}`);
        summary.fuzz = r;
      } finally {
        await fuzzApiHandle.close();
      }
    }
  } finally {
    await stack.close();
    await httpAgent.close();
  }
  summary.problems = problems;
  summary.seconds = Math.round((Date.now() - t0) / 1000);
  say(problems.length ? `drill: ${problems.length} problems` : 'drill: every check passed');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (problems.length) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`drill failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
