import v8 from 'node:v8';
import vm from 'node:vm';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { orderBinding } from '../workflows';
import * as msg from '../workflows/messages';
import { providerEventsFromPush } from '../workflows/providerEvents';
import { getWorkflowBundle } from '../worker/bundle';
import { eventSignal, releaseUpdate } from './floor/workflows';
import { FLOOR_WORKFLOWS_PATH, startMessageFloor } from './floor/run';
import { sourceLocator } from '../scripts/cpu-profile-summary';
import {
  createEnvWithSearchAttributes,
  createFakeWorker,
  FakeProvider,
  input,
  taskQueue,
} from '../test/workflow/fakeProvider';

// `npm run bench:replay-compare` (= `npx tsx bench/replayCompare.ts`): the worker's share of an order, measured
// without the noise of a loaded stack. One order of the benchmark's shape (Update-with-Start until bound, a call's
// 4 signalled pushes, a release) and one run of the message-shaped floor (the same engine calls, no bindflow code)
// run once on the time-skipping server; their histories are then replayed REPLAY_COUNT times each (default 200),
// alternating in rounds, in this process. A replay does all the workflow-side work of a worker for that history
// (new run set-up, every activation, every promise in the sandbox) without the network, so CPU per replay compares
// the two workflows' worker cost side by side. Also counts the promises created in the sandbox per replay (each one
// costs the SDK's stack-trace hook; see docs/benchmarks.md).

type History = temporal.api.history.v1.IHistory;

const COUNT = Number(process.env.REPLAY_COUNT ?? 200);
const ROUNDS = 4;

interface Measured {
  cpuMs: number;
  wallMs: number;
  sandboxPromises: number;
  sandboxCalls: number;
}

// Calls into the workflow sandbox: the SDK runs its pre-compiled call-into-scope script for each one.
let sandboxCalls = 0;
const runInContext = vm.Script.prototype.runInContext;
vm.Script.prototype.runInContext = function (this: vm.Script, ...args: Parameters<vm.Script['runInContext']>) {
  sandboxCalls++;
  return runInContext.apply(this, args);
};

async function replay(
  bundle: WorkflowBundleWithSourceMap,
  history: History,
  tag: string,
  n: number,
  sites?: string[],
): Promise<Measured> {
  const histories = Array.from({ length: n }, (_, i) => ({ workflowId: `${tag}-${i}`, history }));
  let sandboxPromises = 0;
  const calls0 = sandboxCalls;
  const stop = v8.promiseHooks.onInit((p: Promise<unknown>) => {
    if (p.constructor === Promise) return;
    sandboxPromises++; // a promise of the workflow's own V8 context
    if (sites) sites.push(new Error().stack ?? '');
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) if (r.error) throw r.error;
  } finally {
    stop();
  }
  const c = process.cpuUsage(c0);
  return {
    cpuMs: (c.user + c.system) / 1000 / n,
    wallMs: (performance.now() - t0) / n,
    sandboxPromises: sandboxPromises / n,
    sandboxCalls: (sandboxCalls - calls0) / n,
  };
}

/**
 * REPLAY_PROMISE_SITES=1: where one replay of the order creates its sandbox promises, by the nearest frame in
 * bindflow's workflow code (or the SDK's, when none is on the stack), mapped through the bundle's source map.
 */
function promiseSites(stacks: string[], bundleCode: string): string {
  const at = bundleCode.lastIndexOf('//# sourceMappingURL=data:');
  const base64 = at >= 0 ? bundleCode.slice(at).split('base64,')[1] : undefined;
  if (!base64) return 'promise sites: the bundle has no inline source map\n';
  const locate = sourceLocator([JSON.parse(Buffer.from(base64.trim(), 'base64').toString('utf8'))]);
  const counts = new Map<string, number>();
  for (const stack of stacks) {
    let sdk: string | undefined;
    let own: string | undefined;
    for (const line of stack.split('\n')) {
      const m = /at (?:(.*?) \()?(\S*workflow-bundle-[0-9a-f]+\.js):(\d+):(\d+)\)?$/.exec(line.trim());
      if (!m) continue;
      const found = locate({
        functionName: m[1] ?? '',
        url: m[2],
        lineNumber: Number(m[3]) - 1,
        columnNumber: Number(m[4]) - 1,
      } as Parameters<typeof locate>[0]);
      if (!found) continue;
      const where = `${found.location}${m[1] ? ` ${m[1]}` : ''}`;
      if (found.area === 'workflow sandbox: bindflow code') {
        own = where;
        break;
      }
      sdk ??= where;
    }
    const key = own ?? `(SDK only) ${sdk ?? 'unknown'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(n).padStart(5)}  ${k}`);
  return `promises created in the sandbox by one replay of the order: ${stacks.length}\n${rows.join('\n')}\n`;
}

async function recordHistories(): Promise<{
  order: History;
  floor: History;
  floorBundle: WorkflowBundleWithSourceMap;
}> {
  const env = await createEnvWithSearchAttributes();
  const provider = new FakeProvider();
  const orderQueue = taskQueue('replay-order');
  const floorQueue = taskQueue('replay-floor');
  const floorBundle = await bundleWorkflowCode({
    workflowsPath: FLOOR_WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN'),
  });
  const orderWorker = await createFakeWorker(env, provider, orderQueue);
  const floorWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: floorQueue,
    workflowBundle: floorBundle,
    activities: { noop: async () => undefined },
  });
  const running = [orderWorker.run(), floorWorker.run()];
  try {
    const orderId = `replay-compare-${process.pid}`;
    const bound = await env.client.workflow.executeUpdateWithStart(msg.awaitBound, {
      args: [10_000, { clientDeadline: true }],
      startWorkflowOperation: new WithStartWorkflowOperation(orderBinding, {
        workflowId: `binding-${orderId}`,
        taskQueue: orderQueue,
        args: [input(orderId)],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
    const order = env.client.workflow.getHandle(`binding-${orderId}`);
    const caller = '+8613800000002';
    const called = bound.numberX ?? '';
    const event = (eventType: string, timestamp: string, extra: Record<string, unknown> = {}) =>
      providerEventsFromPush({ eventType, statusInfo: { sessionId: 's1', timestamp, caller, called, ...extra } });
    // What the webhook signals for one answered call with BINDFLOW_CALL_EVENTS=all: callin, answer, disconnect, record.
    await order.signal(msg.providerEvents, event('callin', '2026-11-29 10:00:00'));
    await order.signal(msg.providerEvents, event('answer', '2026-11-29 10:00:03'));
    await order.signal(msg.providerEvents, event('disconnect', '2026-11-29 10:00:33', { stateCode: 0 }));
    await order.signal(
      msg.providerEvents,
      providerEventsFromPush({
        eventType: 'fee',
        feeLst: [
          {
            icid: 'icid-1',
            sessionId: 's1',
            direction: 0,
            callerNum: caller,
            calleeNum: called,
            fwdAnswerTime: '2026-11-29 10:00:03',
            callEndTime: '2026-11-29 10:00:33',
          },
        ],
      }),
    );
    await order.executeUpdate(msg.release, { args: [{}] });
    await order.result();

    const floorId = `floormsg-replay-${process.pid}`;
    await startMessageFloor(env.client, floorQueue, floorId);
    const floor = env.client.workflow.getHandle(floorId);
    for (let s = 0; s < 4; s++) await floor.signal(eventSignal, `e${s}`);
    await floor.executeUpdate(releaseUpdate);
    await floor.result();
    return { order: await order.fetchHistory(), floor: await floor.fetchHistory(), floorBundle };
  } finally {
    orderWorker.shutdown();
    floorWorker.shutdown();
    await Promise.all(running);
    await env.teardown();
  }
}

async function main(): Promise<void> {
  const { order, floor, floorBundle } = await recordHistories();
  const orderBundle = await getWorkflowBundle();
  // Warm both (thread start, bundle compile), then alternate.
  await replay(orderBundle, order, 'warm-order', 3);
  await replay(floorBundle, floor, 'warm-floor', 3);
  if (process.env.REPLAY_PROMISE_SITES) {
    const sites: string[] = [];
    await replay(orderBundle, order, 'sites', 1, sites);
    process.stdout.write(promiseSites(sites, orderBundle.code));
  }
  const o: Measured[] = [];
  const f: Measured[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    o.push(await replay(orderBundle, order, `order-${r}`, Math.ceil(COUNT / ROUNDS)));
    f.push(await replay(floorBundle, floor, `floor-${r}`, Math.ceil(COUNT / ROUNDS)));
  }
  const mean = (xs: Measured[], k: keyof Measured) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
  const round = (x: number, d = 2) => Number(x.toFixed(d));
  const describe = (h: History, xs: Measured[]) => ({
    historyEvents: h.events?.length ?? 0,
    workflowTasks: (h.events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes).length,
    cpuMsPerReplay: round(mean(xs, 'cpuMs')),
    sandboxPromises: round(mean(xs, 'sandboxPromises'), 1),
    sandboxCalls: round(mean(xs, 'sandboxCalls'), 1),
  });
  process.stdout.write(
    `${JSON.stringify({
      replays: COUNT,
      order: describe(order, o),
      messageFloor: describe(floor, f),
      cpuRatioToMessageFloor: round(mean(o, 'cpuMs') / mean(f, 'cpuMs')),
      perRoundRatios: o.map((x, i) => round(x.cpuMs / f[i].cpuMs)),
    })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
