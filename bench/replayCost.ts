import fs from 'node:fs';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { orderBinding } from '../workflows';
import * as msg from '../workflows/messages';
import type { ProviderEvent } from '../workflows/types';
import { getWorkflowBundle } from '../worker/bundle';
import {
  createEnvWithSearchAttributes,
  createFakeWorker,
  FakeProvider,
  input,
  taskQueue,
} from '../test/workflow/fakeProvider';

// `npm run bench:replay [-- maxEvents]` (= `npx tsx bench/replayCost.ts [maxEvents]`): what a full replay of one
// order's history costs as the history grows.
// A worker replays a whole history whenever the run is not in its cache (a restart, a deploy, an eviction) and its
// next workflow task must finish within the task timeout (10 s), or it is retried, replayed again, and so on.
// One order on the time-skipping server gets provider pushes (a call's callin, then its disconnect, one signal
// each, as the webhook sends them) until its history passes each checkpoint; at each one the history is fetched
// and replayed REPLAY_ROUNDS times by one replay worker, and the wall and CPU time per replay are printed, with the
// time per history event. Growth per event that rises with the history means replay is superlinear.

type History = temporal.api.history.v1.IHistory;

const MAX_EVENTS = Number(process.argv[2] ?? 4000);
const CHECKPOINTS = [250, 500, 1000, 2000, 4000, 8000].filter((n) => n <= MAX_EVENTS);
const REPLAY_ROUNDS = Number(process.env.REPLAY_ROUNDS ?? 3);

function push(i: number, subscriptionId: string, eventType: 'callin' | 'disconnect'): ProviderEvent[] {
  const t = new Date(Date.UTC(2026, 10, 29, 10, Math.floor(i / 60) % 60, i % 60)).toISOString().replace('.000', '');
  return [
    {
      kind: 'callEvent',
      sessionId: `s-${i}`,
      subscriptionId,
      userData: null,
      caller: '+8613800000002',
      called: '+8675500000001',
      dedupKey: `ev:s-${i}:${eventType}`,
      eventType,
      timestamp: t,
      ...(eventType === 'disconnect' ? { stateCode: 8101 } : {}),
    } as ProviderEvent,
  ];
}

async function replayTimes(
  history: History,
  workflowId: string,
  bundle: Awaited<ReturnType<typeof getWorkflowBundle>>,
) {
  const histories = Array.from({ length: REPLAY_ROUNDS }, (_, i) => ({ workflowId: `${workflowId}-r${i}`, history }));
  const out: { wallMs: number; cpuMs: number }[] = [];
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    if (r.error) throw r.error;
    const c = process.cpuUsage(c0);
    out.push({ wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 });
    t0 = performance.now();
    c0 = process.cpuUsage();
  }
  // The first replay also starts the replay worker's thread and loads the bundle: keep the best of the others.
  const rest = out.length > 1 ? out.slice(1) : out;
  return {
    wallMs: Math.min(...rest.map((r) => r.wallMs)),
    cpuMs: Math.min(...rest.map((r) => r.cpuMs)),
  };
}

async function main(): Promise<void> {
  const saved = process.env.REPLAY_HISTORY;
  if (saved) {
    // Replays a history saved with REPLAY_SAVE (for profiling: node --cpu-prof).
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(saved));
    const t = await replayTimes(history, 'binding-saved', await getWorkflowBundle());
    process.stdout.write(`${JSON.stringify({ events: history.events?.length, ...t })}\n`);
    return;
  }
  const env = await createEnvWithSearchAttributes();
  const provider = new FakeProvider();
  const queue = taskQueue('replay-cost');
  const worker = await createFakeWorker(env, provider, queue);
  const running = worker.run();
  const bundle = await getWorkflowBundle();
  const rows: Record<string, number>[] = [];
  try {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: `binding-replay-cost-${process.pid}`,
      args: [input(`replay-cost-${process.pid}`, { durationSeconds: 7 * 24 * 3600, continueAsNewAfterEvents: 50_000 })],
    });
    const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    let call = 0;
    for (const checkpoint of CHECKPOINTS) {
      let length = (await handle.describe()).historyLength ?? 0;
      while (length < checkpoint) {
        await handle.signal(msg.providerEvents, push(call, bound.subscriptionId!, 'callin'));
        await handle.signal(msg.providerEvents, push(call, bound.subscriptionId!, 'disconnect'));
        call++;
        if (call % 25 === 0) length = (await handle.describe()).historyLength ?? 0;
      }
      await handle.query(msg.getBinding); // the last signals are processed
      const history = await handle.fetchHistory();
      if (process.env.REPLAY_SAVE)
        fs.writeFileSync(process.env.REPLAY_SAVE, temporal.api.history.v1.History.encode(history).finish());
      const events = history.events?.length ?? 0;
      const t = await replayTimes(history, handle.workflowId, bundle);
      const row = {
        events,
        calls: call,
        replayWallMs: Math.round(t.wallMs),
        replayCpuMs: Math.round(t.cpuMs),
        usPerEvent: Math.round((t.wallMs * 1000) / events),
      };
      rows.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
    await handle.terminate('replay cost measured');
  } finally {
    worker.shutdown();
    await running;
    await env.teardown();
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first && last && first !== last) {
    process.stdout.write(
      `${JSON.stringify({
        summary: 'replay time per event, last checkpoint / first',
        ratio: Number((last.usPerEvent / first.usPerEvent).toFixed(2)),
      })}\n`,
    );
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
