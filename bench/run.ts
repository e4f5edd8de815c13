import { Client } from '@temporalio/client';
import { freePort } from '../lib/ports';
import { countHistory, diffCounters, scrapeActions, scrapeFrontendRequests } from './cost';
import { runFloor, runMessageFloor, runOrderFloor, type FloorResult } from './floor/run';
import { EnvSchema } from '../lib/config';
import { ORDER_DURATION_SECONDS, PUSH_ITEMS_PER_CALL, runOneOrder, httpAgent, api } from './orders';
import { spawnFloorWorker } from './processes';
import { benchApiModes, startBenchStack, partiesOf, type BenchStack } from './stack';
import { closedLoop, loadAverage, measureCpu, round, summarize, type LatencySummary } from './stats';
import { webhookLoad } from './webhookLoad';
import { enginesFromEnv, startClusterEngine, type EngineName } from './engines';
import { CLUSTER_HISTORY_SHARDS } from '../lib/temporalCluster';
import { SIGNALLED_CALL_EVENTS } from '../client/webhook';

/**
 * Which pushes reach the order as signals (BINDFLOW_CALL_EVENTS) and how the API's PUT waits for the bound view
 * (BINDFLOW_BIND_WAIT), as the `bindflow api` child reads them too.
 */
const { BINDFLOW_CALL_EVENTS: CALL_EVENTS_MODE, BINDFLOW_BIND_WAIT: BIND_WAIT_MODE } = benchApiModes();
/** The pushes of the benchmark's answered call that reach the order as signals (the others are acknowledged). */
const SIGNALS_PER_CALL =
  ['callin', 'callout', 'alerting', 'answer', 'disconnect'].filter((t) =>
    SIGNALLED_CALL_EVENTS[CALL_EVENTS_MODE].has(t),
  ).length + 1; // + the call record

// `npm run bench`: the Temporal floor and bindflow side by side in one run on this machine, then webhook
// intake and the cost of one order. Human-readable lines first; the LAST line is one JSON object.
//
// Knobs (environment): BENCH_QUICK=1 (under 3 minutes), BENCH_CONCURRENCY, BENCH_ORDERS, BENCH_ROUNDS,
// BENCH_SQLITE_SYNC (OFF|NORMAL|FULL), BENCH_DEV_ARGS (extra `temporal server start-dev` arguments),
// BENCH_WEBHOOK_PUSHES, BENCH_CPU_PROF=<dir> (CPU profiles: bench/profile.ts), BENCH_RECONCILE=on (the worker
// keeps its reconciliation schedule), BENCH_API=inprocess (the API inside this process, with the simulator and the
// load generator, as before 2026-12-02; default: `bindflow api` as a child process of its own),
// BINDFLOW_CALL_EVENTS=all|final (as the API reads it), BENCH_ENGINE=dev|cluster|both (the dev server,
// temporal-server on PostgreSQL, or both one after the other in one run, then a last JSON line comparing them).

const QUICK = process.env.BENCH_QUICK === '1';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? (QUICK ? 32 : 48));
const ORDERS = Number(process.env.BENCH_ORDERS ?? (QUICK ? 150 : 600));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 2));
const HALF_LOAD_SECONDS = QUICK ? 12 : 30;
const WEBHOOK_PUSHES = Number(process.env.BENCH_WEBHOOK_PUSHES ?? (QUICK ? 600 : 3000));
const WEBHOOK_CONCURRENCY = 32;
/** The API in this process (its CPU then mixed with the simulator's and the load generator's) or in its own. */
const API_IN_PROCESS = process.env.BENCH_API === 'inprocess';
const SYNC = (process.env.BENCH_SQLITE_SYNC ?? 'OFF') as 'OFF' | 'NORMAL' | 'FULL';
/** BENCH_DB=memory runs the dev server on its in-memory database (reference point; nothing survives). */
const IN_MEMORY = process.env.BENCH_DB === 'memory';
/** The late-events window of the benchmark's orders (the API reads BINDFLOW_LATE_EVENTS_GRACE), for the order-shaped floor. */
const LATE_EVENTS_WINDOW_SECONDS = EnvSchema.shape.BINDFLOW_LATE_EVENTS_GRACE.parse(
  process.env.BINDFLOW_LATE_EVENTS_GRACE || undefined,
);
/** bindAx, bindYb, unbind: the activity calls of one order without a recording or a callback URL. */
const ACTIVITIES_PER_ORDER = 3;

/** CPU seconds of a phase's ORDERS runs, per process → CPU milliseconds per run. */
const msPerRun = (cpu: Record<string, number>) =>
  Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v / ORDERS) * 1000, 1)]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);

interface OrdersResult {
  orders: number;
  concurrency: number;
  perSecond: number;
  boundMs: LatencySummary;
  lifecycleMs: LatencySummary;
}

async function runOrders(stack: BenchStack, run: number, total: number, concurrency: number, prefix: string) {
  const bound: number[] = [];
  const life: number[] = [];
  const ids: string[] = [];
  const wall = await closedLoop(total, concurrency, async (i) => {
    const t = await runOneOrder(stack, i, { run, prefix });
    bound.push(t.boundMs);
    life.push(t.totalMs);
    ids.push(t.orderId);
  });
  const result: OrdersResult = {
    orders: total,
    concurrency,
    perSecond: round((total / wall) * 1000),
    boundMs: summarize(bound),
    lifecycleMs: summarize(life),
  };
  return { result, ids };
}

/** Open loop: orders arrive at `rate` per second for `seconds`, whatever the latency; time-to-bound of each. */
async function runAtRate(stack: BenchStack, run: number, rate: number, seconds: number, prefix: string) {
  const bound: number[] = [];
  const pending: Promise<void>[] = [];
  const total = Math.max(1, Math.round(rate * seconds));
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(runOneOrder(stack, i, { run, prefix }).then((t) => void bound.push(t.boundMs)));
  }
  await Promise.all(pending);
  return { rate: round(rate), orders: total, boundMs: summarize(bound) };
}

async function benchOne(engineName: EngineName): Promise<Record<string, unknown>> {
  const started = Date.now();
  // Every workflow id of this run carries its tag: no collision with an earlier run's on a kept database.
  const tag = `${Date.now().toString(36)}${engineName[0]}`;
  const devArgs = (process.env.BENCH_DEV_ARGS ?? '').split(' ').filter(Boolean);
  say(
    `bench[${engineName}]: quick=${QUICK} concurrency=${CONCURRENCY} orders=${ORDERS} rounds=${ROUNDS}` +
      (engineName === 'dev' ? ` sqlite synchronous=${SYNC}` : ` temporal-server on PostgreSQL`),
  );
  say(`bench: load average before start ${loadAverage().join(' ')} (2 cores; other sessions may be running)`);
  const cluster = engineName === 'cluster' ? await startClusterEngine((l) => say(`bench[cluster]: ${l}`)) : null;
  const metricsPort = cluster ? cluster.metricsPort : await freePort();
  const stack = await startBenchStack({
    poolSize: Math.max(1000, CONCURRENCY * 4 + 200),
    synchronous: SYNC,
    inMemory: IN_MEMORY,
    extraArgs: ['--metrics-port', String(metricsPort), ...devArgs],
    apiProcess: !API_IN_PROCESS,
    ...(cluster ? { address: cluster.address } : {}),
  });
  const floorQueue = `floor-${tag}`;
  const floorWorker = await spawnFloorWorker(stack.server.address, floorQueue);
  const client = new Client({ connection: stack.api.connection });
  try {
    say(
      `bench: stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (${engineName} engine at ${stack.server.address})`,
    );
    // Warm-up: JIT, workflow bundle caches, database pages, HTTP keep-alive.
    await runFloor(client, floorQueue, {
      total: 20,
      concurrency: 10,
      activities: ACTIVITIES_PER_ORDER,
      run: `${tag}warm`,
    });
    await runOrders(stack, 90, 20, 10, `warm${tag}`);

    const floors: FloorResult[] = [];
    const orderRuns: OrdersResult[] = [];
    let sampleOrderId = '';
    let actionsDelta: Record<string, number> = {};
    let requestsDelta: Record<string, number> = {};
    let cpuPerOrder: Record<string, number> = {};
    let cpuPerFloor: Record<string, number> = {};
    let cpuPerMsgFloor: Record<string, number> = {};
    let cpuPerOrderFloor: Record<string, number> = {};
    const msgFloors: FloorResult[] = [];
    const orderFloors: FloorResult[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const pids: Record<string, number> = {
        ...(cluster ? cluster.pids : { temporal: stack.server.pid }),
        worker: stack.worker.pid,
        floorWorker: floorWorker.pid,
        // The simulator and the load generator (and the API with BENCH_API=inprocess); for the floors, the load
        // generator, which makes the Temporal client calls an API would.
        benchProcess: process.pid,
        ...(stack.api.proc ? { api: stack.api.proc.pid } : {}),
      };
      const { value: floor, cpu: floorCpu } = await measureCpu(pids, () =>
        runFloor(client, floorQueue, {
          total: ORDERS,
          concurrency: CONCURRENCY,
          activities: ACTIVITIES_PER_ORDER,
          run: `${tag}r${r}`,
        }),
      );
      floors.push(floor);
      say(
        `floor   round ${r + 1}: ${floor.perSecond} workflows/s, latency p50 ${floor.latencyMs.p50} p99 ${floor.latencyMs.p99} ms; ` +
          `CPU s ${JSON.stringify(floorCpu)}`,
      );
      const { value: msgFloor, cpu: msgCpu } = await measureCpu(pids, () =>
        runMessageFloor(client, floorQueue, {
          total: ORDERS,
          concurrency: CONCURRENCY,
          signals: SIGNALS_PER_CALL,
          run: `${tag}r${r}`,
        }),
      );
      msgFloors.push(msgFloor);
      say(
        `message floor round ${r + 1}: ${msgFloor.perSecond} workflows/s, bound p50 ${msgFloor.latencyMs.p50} ` +
          `p99 ${msgFloor.latencyMs.p99} ms; CPU s ${JSON.stringify(msgCpu)}`,
      );
      cpuPerMsgFloor = msPerRun(msgCpu);
      const { value: orderFloor, cpu: orderFloorCpu } = await measureCpu(pids, () =>
        runOrderFloor(client, floorQueue, {
          total: ORDERS,
          concurrency: CONCURRENCY,
          signals: SIGNALS_PER_CALL,
          run: `${tag}r${r}`,
          expirySeconds: ORDER_DURATION_SECONDS,
          windowSeconds: LATE_EVENTS_WINDOW_SECONDS,
          bindWait: BIND_WAIT_MODE,
        }),
      );
      orderFloors.push(orderFloor);
      say(
        `order-shaped floor round ${r + 1}: ${orderFloor.perSecond} workflows/s, bound p50 ${orderFloor.latencyMs.p50} ` +
          `p99 ${orderFloor.latencyMs.p99} ms; CPU s ${JSON.stringify(orderFloorCpu)}`,
      );
      cpuPerOrderFloor = msPerRun(orderFloorCpu);
      // The server reports metrics on an interval: let the previous phase's counts land first.
      await sleep(2000);
      const before = await scrapeActions(metricsPort);
      const requestsBefore = await scrapeFrontendRequests(metricsPort);
      const {
        value: { result, ids },
        cpu: ordersCpu,
      } = await measureCpu(pids, () => runOrders(stack, r + 1, ORDERS, CONCURRENCY, `o${tag}`));
      cpuPerOrder = msPerRun(ordersCpu);
      cpuPerFloor = msPerRun(floorCpu);
      await sleep(2000);
      actionsDelta = diffCounters(await scrapeActions(metricsPort), before);
      requestsDelta = diffCounters(await scrapeFrontendRequests(metricsPort), requestsBefore);
      orderRuns.push(result);
      sampleOrderId = ids[ids.length - 1];
      say(
        `orders  round ${r + 1}: ${result.perSecond} orders/s (ratio ${round(result.perSecond / floor.perSecond)}), ` +
          `time-to-bound p50 ${result.boundMs.p50} p95 ${result.boundMs.p95} p99 ${result.boundMs.p99} ms, ` +
          `whole life p50 ${result.lifecycleMs.p50} ms; CPU s ${JSON.stringify(ordersCpu)}`,
      );
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const floorPerSecond = round(mean(floors.map((f) => f.perSecond)));
    const ordersPerSecond = round(mean(orderRuns.map((o) => o.perSecond)));
    const msgFloorPerSecond = round(mean(msgFloors.map((f) => f.perSecond)));
    const orderFloorPerSecond = round(mean(orderFloors.map((f) => f.perSecond)));
    const peak = orderRuns[orderRuns.length - 1];

    const half = await runAtRate(stack, 50, ordersPerSecond / 2, HALF_LOAD_SECONDS, `half${tag}`);
    say(
      `half load (${half.rate} orders/s, open loop, ${half.orders} orders): time-to-bound p50 ${half.boundMs.p50} ` +
        `p95 ${half.boundMs.p95} p99 ${half.boundMs.p99} ms (p99/p50 ${round(half.boundMs.p99 / half.boundMs.p50)})`,
    );

    // Webhook intake: pushes for bound orders, straight at the webhook.
    const whOrders = 16;
    const templates: Array<Record<string, unknown>> = [];
    for (let i = 0; i < whOrders; i++) {
      const { partyA, partyB } = partiesOf(60, i);
      const put = await api<{ numberX: string }>(stack.api.url, 'PUT', `/v1/orders/wh${tag}-${i}/binding`, {
        partyA,
        partyB,
        areaCode: '0755',
        durationSeconds: 3600,
      });
      const call = stack.sim.call({ from: partyB, to: put.body.numberX, answer: true, talkSeconds: 5 });
      await stack.tracker.waitFor(call.sessionId, PUSH_ITEMS_PER_CALL);
      const callin = stack.sim
        .pushes()
        .find((p) => p.eventType === 'callin' && JSON.stringify(p.body).includes(call.sessionId));
      if (callin) templates.push(callin.body as unknown as Record<string, unknown>);
    }
    const webhook = await webhookLoad(stack.api.url, templates, WEBHOOK_PUSHES, WEBHOOK_CONCURRENCY);
    say(
      `webhook: ${webhook.perSecond} signed pushes/s accepted at concurrency ${webhook.concurrency}, ` +
        `latency p50 ${webhook.latencyMs.p50} p99 ${webhook.latencyMs.p99} ms, non-200: ${webhook.non200}`,
    );
    for (let i = 0; i < whOrders; i++) await api(stack.api.url, 'DELETE', `/v1/orders/wh${tag}-${i}/binding`);

    const history = await countHistory(client, `binding-${sampleOrderId}`);
    const floorHistory = await countHistory(client, `floor-${tag}r0-0`);
    const msgFloorHistory = await countHistory(client, `floormsg-${tag}r0-0`);
    const orderFloorHistory = await countHistory(client, `floorord-${tag}r0-0`);
    say(`history of one order (${sampleOrderId}): ${history.total} events ${JSON.stringify(history.byType)}`);
    say(
      `history of one floor workflow: ${floorHistory.total} events; message floor: ${msgFloorHistory.total} events; ` +
        `order-shaped floor: ${orderFloorHistory.total} events, ${orderFloorHistory.actions} billable actions`,
    );
    const serverActions = Object.values(actionsDelta).reduce((a, b) => a + b, 0);
    // Neither queries nor heartbeats are in the history: the server's metric counts them.
    const heartbeatsPerOrder = round((actionsDelta.RecordActivityTaskHeartbeat ?? 0) / ORDERS, 1);
    const queriesPerOrder = round((actionsDelta.QueryWorkflow ?? 0) / ORDERS, 1);
    // Reads of a run's history by any client (the API waiting for the bound view with BINDFLOW_BIND_WAIT=history;
    // a worker replaying a run its cache lost), from the frontend's request counter: not billable, but rate-limited.
    const historyReadsPerOrder = round(
      ((requestsDelta.PollWorkflowExecutionHistory ?? 0) + (requestsDelta.GetWorkflowExecutionHistory ?? 0)) / ORDERS,
      1,
    );
    say(
      `billable actions per order: ${history.actions} seen in history, ` +
        `server action metric ${round(serverActions / ORDERS)} per order ${JSON.stringify(actionsDelta)}`,
    );
    say(`frontend requests during the orders phase: ${JSON.stringify(requestsDelta)}`);
    const leftAtProvider = stack.sim.bindings().length;
    const mem = stack.worker.memory();
    say(
      `worker process: peak RSS ${mem?.peakRssMb} MiB, now ${mem?.rssMb} MiB; floor worker peak ${floorWorker.memory()?.peakRssMb} MiB`,
    );
    say(`bindings left at the provider after every release: ${leftAtProvider}`);
    say(`bench: done in ${((Date.now() - started) / 1000).toFixed(0)} s, load average ${loadAverage().join(' ')}`);

    const summary = {
      engine: engineName,
      callEvents: CALL_EVENTS_MODE,
      bindWait: BIND_WAIT_MODE,
      signalsPerCall: SIGNALS_PER_CALL,
      quick: QUICK,
      concurrency: CONCURRENCY,
      ordersPerRound: ORDERS,
      rounds: ROUNDS,
      sqliteSynchronous: cluster ? null : IN_MEMORY ? 'in-memory' : SYNC,
      historyShards: cluster ? CLUSTER_HISTORY_SHARDS : 1,
      devServerArgs: devArgs.join(' '),
      ordersPerSecond,
      floorOrdersPerSecond: floorPerSecond,
      ratioToFloor: round(ordersPerSecond / floorPerSecond),
      messageFloorOrdersPerSecond: msgFloorPerSecond,
      ratioToMessageFloor: round(ordersPerSecond / msgFloorPerSecond),
      orderFloorOrdersPerSecond: orderFloorPerSecond,
      ratioToOrderFloor: round(ordersPerSecond / orderFloorPerSecond),
      p50BoundMs: peak.boundMs.p50,
      p95BoundMs: peak.boundMs.p95,
      p99BoundMs: peak.boundMs.p99,
      halfLoad: {
        ordersPerSecond: half.rate,
        p50BoundMs: half.boundMs.p50,
        p95BoundMs: half.boundMs.p95,
        p99BoundMs: half.boundMs.p99,
      },
      webhookPerSecond: webhook.perSecond,
      webhookP99Ms: webhook.latencyMs.p99,
      historyEventsPerOrder: history.total,
      historyEventsByType: history.byType,
      historyBytesPerOrder: history.bytes,
      historyBytesByType: history.bytesByType,
      floorHistoryEvents: floorHistory.total,
      messageFloorHistoryEvents: msgFloorHistory.total,
      orderFloorHistoryEvents: orderFloorHistory.total,
      orderFloorBillableActions: orderFloorHistory.actions,
      // History-visible actions + the PUT's query + heartbeats (not in the history; from the server's metric).
      billableActionsPerOrder: round(history.actions + queriesPerOrder + heartbeatsPerOrder, 1),
      queriesPerOrder,
      heartbeatsPerOrder,
      serverActionsPerOrder: round(serverActions / ORDERS),
      historyReadsPerOrder,
      cpuMsPerOrder: cpuPerOrder,
      cpuMsPerFloorWorkflow: cpuPerFloor,
      cpuMsPerMessageFloorWorkflow: cpuPerMsgFloor,
      cpuMsPerOrderFloorWorkflow: cpuPerOrderFloor,
      apiInProcess: API_IN_PROCESS,
      // The issue-15 goals: bindflow's worker against the message-shaped floor's worker (≤ 1.25), and the API
      // against the floor's load generator, which makes the same Temporal calls with no HTTP in between (≤ 2).
      workerCpuToMessageFloorWorker: round(cpuPerOrder.worker / cpuPerMsgFloor.floorWorker),
      apiCpuToMessageFloorClient:
        cpuPerOrder.api === undefined ? null : round(cpuPerOrder.api / cpuPerMsgFloor.benchProcess),
      // The same against the order-shaped floor (timers, upserts and the late-events window as an order has them).
      temporalCpuToOrderFloor: round(cpuPerOrder.temporal / cpuPerOrderFloor.temporal),
      workerCpuToOrderFloorWorker: round(cpuPerOrder.worker / cpuPerOrderFloor.floorWorker),
      apiCpuToOrderFloorClient:
        cpuPerOrder.api === undefined ? null : round(cpuPerOrder.api / cpuPerOrderFloor.benchProcess),
      workerPeakRssMb: mem?.peakRssMb ?? null,
      bindingsLeftAtProvider: leftAtProvider,
      loadAverage: loadAverage(),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (leftAtProvider !== 0) process.exitCode = 1;
    return summary;
  } finally {
    await floorWorker.stop('SIGTERM');
    await stack.close();
    await cluster?.stop();
  }
}

async function main(): Promise<void> {
  const engines = enginesFromEnv();
  const results: Record<string, Record<string, unknown>> = {};
  try {
    for (const engine of engines) results[engine] = await benchOne(engine);
  } finally {
    await httpAgent.close();
  }
  if (engines.length > 1) {
    const [dev, cluster] = [results.dev, results.cluster];
    const ratio = (k: string) => round(Number(cluster[k]) / Number(dev[k]));
    const cpuTotal = (r: Record<string, unknown>) =>
      Object.values(r.cpuMsPerOrder as Record<string, number>).reduce((a, b) => a + b, 0);
    const both = {
      engines: results,
      clusterToDev: {
        ordersPerSecond: ratio('ordersPerSecond'),
        messageFloorOrdersPerSecond: ratio('messageFloorOrdersPerSecond'),
        ratioToMessageFloor: ratio('ratioToMessageFloor'),
        p50BoundMs: ratio('p50BoundMs'),
        cpuMsPerOrderAllProcesses: round(cpuTotal(cluster) / cpuTotal(dev)),
      },
    };
    say(
      `bench: cluster vs dev (same run): ${both.clusterToDev.ordersPerSecond}x orders/s, ` +
        `${both.clusterToDev.cpuMsPerOrderAllProcesses}x CPU per order (server + database + worker + API)`,
    );
    process.stdout.write(`${JSON.stringify(both)}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
