import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import type { ProviderEvent } from '../../workflows/types';
import { createEnvWithSearchAttributes, createFakeWorker, FakeProvider, input, taskQueue } from './fakeProvider';

// A long-lived binding with thousands of provider events continues as new, carrying its state.

let env: TestWorkflowEnvironment;
let provider: FakeProvider;
let worker: Worker;
let running: Promise<void>;
const queue = taskQueue('can');

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
  provider = new FakeProvider();
  worker = await createFakeWorker(env, provider, queue);
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

function callEvents(i: number, subscriptionId: string): ProviderEvent[] {
  const base = {
    sessionId: `s-${i}`,
    subscriptionId,
    userData: null,
    caller: '+8613800000002',
    called: '+8675500000001',
  };
  const t = new Date(Date.UTC(2026, 10, 29, 10, 0, i % 60)).toISOString().replace('.000', '');
  return [
    { ...base, kind: 'callEvent', dedupKey: `ev:s-${i}:callin`, eventType: 'callin', timestamp: t },
    {
      ...base,
      kind: 'callEvent',
      dedupKey: `ev:s-${i}:disconnect`,
      eventType: 'disconnect',
      timestamp: t,
      stateCode: 8101,
    },
  ];
}

/**
 * 1000 rather than the default 4000, to keep the test short; the mechanism under test is the same. (At ~4100 events
 * a workflow task once took ~10 s here and expired again and again: every push copied every call's view, making a
 * replay quadratic in the calls. Fixed; `npm run bench:replay` measures it.)
 */
const CAN_AFTER = 1000;

/** The most any one wait below takes before the test fails with what the run was doing (a bound on a hang). */
const WAIT_MS = 120_000;

/** The last events of a run, for a failure message: where it stopped, and why. */
async function historyTail(workflowId: string, runId: string): Promise<string> {
  const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  return events
    .slice(-12)
    .map((e) => {
      const type = temporal.api.enums.v1.EventType[e.eventType ?? 0].replace('EVENT_TYPE_', '');
      const cause = e.workflowTaskFailedEventAttributes?.cause;
      const why = cause ? ` (${temporal.api.enums.v1.WorkflowTaskFailedCause[cause]})` : '';
      return `${e.eventId} ${type}${why}`;
    })
    .join(', ');
}

/**
 * `work` bounded by WAIT_MS; past it, its client calls are aborted (a call left retrying would outlive this file's
 * connection and fail the next test file) and the test fails with `explain()`.
 */
async function within<T>(what: string, work: () => Promise<T>, explain: () => Promise<string>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const fail = (why: string) => {
        abort.abort();
        reject(new Error(`${what}: not done after ${WAIT_MS / 1000} s; ${why}`));
      };
      explain().then(fail, (err) => fail(`(${(err as Error).message})`));
    }, WAIT_MS);
  });
  const running = env.client.withAbortSignal(abort.signal, work);
  running.catch(() => undefined); // once `late` has won, the aborted call's rejection is expected
  try {
    return await Promise.race([running, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('continues as new after thousands of events, keeping the binding, its calls and its expiry', async () => {
  const workflowId = 'binding-o-can';
  const handle = await env.client.workflow.start(orderBinding, {
    taskQueue: queue,
    workflowId,
    args: [input('o-can', { durationSeconds: 7 * 24 * 3600, continueAsNewAfterEvents: CAN_AFTER })],
  });
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  const firstRunId = (await handle.describe()).runId;
  const extended = await handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 3600 }] });

  // Each signal adds at least one history event; duplicates are sent too and must not count. Whenever the current
  // run's history has passed the threshold, no signal is sent until it has continued as new: a continue-as-new
  // raced by new signals is refused (UNHANDLED_COMMAND) and retried, and the time-skipping server, unlike the real
  // one, never holds signals back to end that loop; it has also left a raced run with a workflow task that nobody
  // completed (CI runs took 55 s, 199 s and once past 600 s). The wait starts once a workflow task must have
  // started past the threshold: a signal's task adds its three events and no command here.
  const signals = CAN_AFTER + 200;
  let runId = firstRunId;
  let continuations = 0;
  for (let i = 0; i < signals; i++) {
    await handle.signal(msg.providerEvents, callEvents(i % 250, bound.subscriptionId!));
    const now = await handle.describe();
    if (now.runId !== runId) {
      runId = now.runId;
      continuations++;
    } else if ((now.historyLength ?? 0) > CAN_AFTER + 1) {
      const from = runId;
      runId = await within(
        `the run at ${now.historyLength} events continuing as new`,
        async () => {
          for (;;) {
            const latest = (await handle.describe()).runId;
            if (latest !== from) return latest;
            await new Promise((r) => setTimeout(r, 50));
          }
        },
        () => historyTail(workflowId, from).then((tail) => `its history ends: ${tail}`),
      );
      continuations++;
    }
  }
  expect(continuations).toBeGreaterThanOrEqual(1);
  const after = await handle.query(msg.getBinding);
  expect((await handle.describe()).runId).not.toBe(firstRunId);
  expect(after.state).toBe('bound');
  expect(after.subscriptionId).toBe(bound.subscriptionId);
  expect(after.numberX).toBe(bound.numberX);
  expect(after.parties).toEqual(bound.parties);
  expect(after.expiresAt).toBe(extended.expiresAt);
  expect(after.calls).toHaveLength(250);
  expect(after.calls.every((c) => c.outcome === 'no-answer')).toBe(true);
  expect(provider.liveCount()).toBe(1);

  // The time-skipping server jumps to the (extended) expiry while the test waits for the result.
  const summary = await within(
    'the result at the expiry',
    () => handle.result(),
    async () => {
      const d = await handle.describe();
      return `run ${d.runId} is ${d.status.name} at ${d.historyLength} events; its history ends: ${await historyTail(workflowId, d.runId)}`;
    },
  );
  expect(summary.state).toBe('expired');
  expect(summary.callCount).toBe(250);
  expect(Date.parse(summary.endedAt)).toBeGreaterThanOrEqual(Date.parse(extended.expiresAt));
  expect(provider.liveCount()).toBe(0);
}, 600_000);
