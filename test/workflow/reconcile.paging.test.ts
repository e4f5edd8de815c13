import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { ProviderPort } from '../../activities/ports';
import { QueryPacer } from '../../activities/pool';
import { reconcileActivities } from '../../activities/reconcile';
import type { OwnershipResult } from '../../activities/types';
import { errorFromResult } from '../../provider';
import { reconcileBindings } from '../../workflows';
import type { ReconcileInput } from '../../workflows/reconcile';
import type { History } from './histories';
import { createFakeWorker, createEnvWithSearchAttributes, FakeProvider, taskQueue } from './fakeProvider';

// A sweep of a 10,000-number pool: a page per activity (the real `reconcileNumbers`, on an in-memory
// provider that counts the queries in flight), 10 pages per run, continue-as-new between runs with the
// cursor and the totals, and the totals of the whole sweep in the end.

const POOL_SIZE = 10_000;
const CONCURRENCY = 4;
const numberAt = (i: number) => `+86755${String(i).padStart(8, '0')}`;

/** `yyyy-MM-dd HH:mm:ss` UTC, as the provider answers subscribeTime. */
function subscribeTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

const LONG_AGO = subscribeTime(Date.now() - 3_600_000);
const bound = new Map<string, { userData: string; subscribeTime: string; bindId: string }>();
const failing = new Set<string>();
function bind(i: number, userData: string, at = LONG_AGO) {
  bound.set(numberAt(i), { userData, subscribeTime: at, bindId: `sub-${i}` });
}
bind(5, 'bf1:gone-5:a');
bind(2_500, 'bf1:gone-2500:a');
bind(9_999, 'bf1:gone-9999:a');
bind(100, 'crm:100');
bind(7_000, 'crm:7000');
bind(42, 'bf1:owned-42:a');
bind(5_000, 'bf1:owned-5000:a');
bind(3_333, 'bf1:busy-3333:a');
failing.add(numberAt(6_000));

const queried = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;
const port = {
  async query({ relationNum }: { relationNum: string }) {
    queried.set(relationNum, (queried.get(relationNum) ?? 0) + 1);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setImmediate(r));
      if (failing.has(relationNum)) throw errorFromResult('query', '1012102', 'number abnormal', 403);
      const b = bound.get(relationNum);
      if (!b) throw errorFromResult('query', '1016001', 'not bound', 403);
      return [{ ...b, numA: '+8613800000001', numX: relationNum }];
    } finally {
      inFlight--;
    }
  },
} as unknown as ProviderPort;

const unbound: string[] = [];
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const queue = taskQueue('reconcile-paging');

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
  const real = reconcileActivities({
    provider: port,
    client: env.client,
    pacer: new QueryPacer({ perSecond: 100_000 }),
    concurrency: CONCURRENCY,
    ownership: async ({ orderId, subscriptionId }): Promise<OwnershipResult> => ({
      ownership: orderId.startsWith('owned-') ? 'owned' : orderId.startsWith('busy-') ? 'busy' : 'orphan',
      subscriptionId,
    }),
    log: { debug() {}, info() {}, warn() {}, error() {}, child: () => undefined as never },
  });
  worker = await createFakeWorker(env, new FakeProvider(), queue, {
    reconcileNumbers: real.reconcileNumbers,
    unbind: async ({ subscriptionId }) => {
      unbound.push(subscriptionId);
      for (const [n, b] of bound) if (b.bindId === subscriptionId) bound.delete(n);
      return { alreadyGone: false };
    },
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

test('10,000 numbers: pages, continue-as-new with the cursor, bounded concurrency, right totals', async () => {
  // A young orphan (10 s old): its workflow may not have recorded it yet, so it is left for a later sweep.
  bind(8_000, 'bf1:young-8000:a', subscribeTime(Date.now() - 10_000));
  const numberPool = Array.from({ length: POOL_SIZE }, (_, i) => numberAt(i));
  // Duplicates in the configured pool are swept once.
  numberPool.push(numberAt(5), numberAt(9_999));
  const handle = await env.client.workflow.start(reconcileBindings, {
    taskQueue: queue,
    workflowId: `reconcile-paging-${process.pid}`,
    args: [{ numberPool, pageSize: 100, pagesPerRun: 10 }],
  });
  const result = await handle.result();

  expect(result).toEqual({ checked: 9, orphansUnbound: 3, foreign: 2, errors: 1 });
  expect(unbound.sort()).toEqual(['sub-2500', 'sub-5', 'sub-9999']);
  expect(queried.size).toBe(POOL_SIZE);
  expect([...queried.values()].every((n) => n === 1)).toBe(true);
  expect(maxInFlight).toBeGreaterThan(1);
  expect(maxInFlight).toBeLessThanOrEqual(CONCURRENCY);

  // The chain of runs: 10 runs of 10 pages, each resuming at its cursor with the totals so far.
  const runs: { cursor: number | undefined; pages: number; totals: ReconcileInput['totals'] }[] = [];
  let runId: string | undefined = handle.firstExecutionRunId;
  while (runId) {
    const history: History = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0].workflowExecutionStartedEventAttributes!;
    const input = defaultPayloadConverter.fromPayload<ReconcileInput>(started.input!.payloads![0]);
    const pages = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'reconcileNumbers',
    ).length;
    runs.push({ cursor: input.cursor, pages, totals: input.totals });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  expect(runs.map((r) => r.cursor)).toEqual([undefined, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
  expect(runs.map((r) => r.pages)).toEqual(Array(10).fill(10));
  // The totals carried into the last run: everything before number 9,000 (not the orphan at 9,999).
  expect(runs.at(-1)?.totals).toEqual({ checked: 8, orphansUnbound: 2, foreign: 2, errors: 1 });
}, 300_000);

test('invalid input fails at once, naming the field', async () => {
  const failure = await env.client.workflow
    .execute(reconcileBindings, {
      taskQueue: queue,
      workflowId: `reconcile-invalid-${process.pid}`,
      args: [{ numberPool: ['+8675500000001'], pageSize: 0 }],
    })
    .then(
      () => undefined,
      (err: Error) => err,
    );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect((failure as WorkflowFailedError).cause?.message).toMatch(/^invalid reconcile input: pageSize/);
});
