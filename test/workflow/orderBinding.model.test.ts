import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import type { BindflowActivities } from '../../activities/types';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import { providerEventsFromPush } from '../../workflows/providerEvents';
import type { BindingSummary, BindingView } from '../../workflows/types';
import { historyToJson } from './histories';
import { createEnvWithSearchAttributes, createFakeWorker, FakeProvider, input, taskQueue } from './fakeProvider';

// Model-based concurrency test: several orders at once, each driven by a random program of party changes,
// extensions, releases, provider pushes (duplicated, out of order), provider faults and time skips, all
// fired without waiting for each other, while the fake provider answers in random order. After each run:
// no workflow task ever failed, every update was answered with a view or a refusal of a known kind, the
// provider holds exactly what each workflow says, nothing is left once every order ended (but the orphans
// of lost bind answers, which carry the order's userData under another subscription: reconciliation's),
// and each call is counted once. A failure prints fast-check's seed and path: rerun with
// MODEL_SEED=<seed> MODEL_PATH=<path> to replay it.

const RUNS = Number(process.env.MODEL_RUNS ?? 200);
const A = '+8613800000001';
const B_NUMBERS = ['+8613800000002', '+8613800000003', '+8613800000004', '+8613800000005', '+8613800000006'];
const LABELS = ['b', 'c', 'd', 'e', 'f', 'g'];
const REFUSALS = [
  'BINDING_RELEASING',
  'BINDING_CLOSED',
  'REQUEST_REJECTED',
  'PARTY_BIND_FAILED',
  'PARTY_UNBIND_FAILED',
];

type Api = 'bindAx' | 'bindYb' | 'unbind';
type FaultKind = 'http500' | 'timeout' | 'flowControl' | 'commitThenDrop';

type Command =
  | { kind: 'setParty'; order: number; label: string; number: string }
  | { kind: 'removeParty'; order: number; label: string }
  | { kind: 'extend'; order: number; seconds: number }
  | { kind: 'release'; order: number }
  | { kind: 'push'; order: number; session: number; duplicate: boolean; reversed: boolean; record: boolean }
  | { kind: 'fault'; api: Api; fault: FaultKind }
  | { kind: 'skip'; minutes: number };

interface OrderSpec {
  parties: number;
  durationMinutes: number;
  continueAsNewAfterEvents?: number;
}

// Continue-as-new is not generated here: the time-skipping test server handles a continue-as-new that races
// signals and updates unreliably (a run hung for minutes in CI; see the closing note of issue 11). It is
// covered by orderBinding.races.test.ts, orderBinding.continueAsNew.test.ts and the replay fixtures.
// MODEL_CONTINUE_AS_NEW=1 turns it on.
const orderSpec: fc.Arbitrary<OrderSpec> = fc.record(
  {
    parties: fc.integer({ min: 1, max: 2 }),
    durationMinutes: fc.integer({ min: 30, max: 240 }),
    ...(process.env.MODEL_CONTINUE_AS_NEW === '1' ? { continueAsNewAfterEvents: fc.constantFrom(100, 150) } : {}),
  },
  { requiredKeys: ['parties', 'durationMinutes'] },
);

function command(orders: number): fc.Arbitrary<Command> {
  const order = fc.integer({ min: 0, max: orders - 1 });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('setParty' as const),
        order,
        label: fc.constantFrom(...LABELS),
        number: fc.constantFrom(...B_NUMBERS),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('removeParty' as const), order, label: fc.constantFrom(...LABELS) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('extend' as const),
        order,
        seconds: fc.integer({ min: 60, max: 4 * 3600 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), order }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('push' as const),
        order,
        session: fc.integer({ min: 0, max: 3 }),
        duplicate: fc.boolean(),
        reversed: fc.boolean(),
        record: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('fault' as const),
        api: fc.constantFrom<Api>('bindAx', 'bindYb', 'unbind'),
        fault: fc.constantFrom<FaultKind>('http500', 'timeout', 'flowControl', 'commitThenDrop'),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('skip' as const), minutes: fc.integer({ min: 1, max: 300 }) }),
    },
  );
}

const program = fc.array(orderSpec, { minLength: 2, maxLength: 3 }).chain((orders) =>
  fc.record({
    orders: fc.constant(orders),
    commands: fc.array(command(orders.length), { minLength: 3, maxLength: 14 }),
    delays: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 64, maxLength: 64 }),
  }),
);

/** The fake provider with faults consumed by the next call of their api, and answers in shuffled order. */
class FaultyProvider extends FakeProvider {
  readonly faults: { api: Api; fault: FaultKind }[] = [];
  /** Subscriptions bound by an AX whose answer was lost (orphans for reconciliation). */
  readonly lostAx = new Set<string>();
  delays: number[] = [0];
  private tick = 0;

  private takeFault(api: Api): FaultKind | undefined {
    const i = this.faults.findIndex((f) => f.api === api);
    return i < 0 ? undefined : this.faults.splice(i, 1)[0].fault;
  }

  private async jitter(): Promise<void> {
    const ms = this.delays[this.tick++ % this.delays.length];
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }

  faulty(): BindflowActivities {
    const base = this.activities();
    const failed = (fault: FaultKind): never => {
      if (fault === 'flowControl')
        throw ApplicationFailure.create({ message: '1010010 flow control', type: 'Provider', nextRetryDelay: '60s' });
      throw ApplicationFailure.retryable(`${fault}: no answer`, 'Provider');
    };
    return {
      ...base,
      bindAx: async (i) => {
        await this.jitter();
        const fault = this.takeFault('bindAx');
        if (fault && fault !== 'commitThenDrop') failed(fault);
        const r = await base.bindAx(i);
        if (fault === 'commitThenDrop') {
          this.lostAx.add(r.subscriptionId);
          failed(fault);
        }
        return r;
      },
      bindYb: async (i) => {
        await this.jitter();
        const fault = this.takeFault('bindYb');
        if (fault && fault !== 'commitThenDrop') failed(fault);
        // Like the real activity: a retry adopts the Y an earlier attempt bound for this B.
        const earlier =
          Context.current().info.attempt > 1 ? this.bindings.get(i.subscriptionId)?.yb.get(i.partyB) : undefined;
        const r = earlier ? { numberY: earlier, adopted: true } : await base.bindYb(i);
        if (fault === 'commitThenDrop') failed(fault);
        return r;
      },
      unbind: async (i) => {
        await this.jitter();
        const fault = this.takeFault('unbind');
        if (fault && fault !== 'commitThenDrop') failed(fault);
        const r = await base.unbind(i);
        if (fault === 'commitThenDrop') failed(fault);
        return r;
      },
    };
  }
}

let env: TestWorkflowEnvironment;
/**
 * A plain client: the environment's own client locks and unlocks the server's time skipping around each
 * result(), and the test server's lock breaks ("Unbalanced lock and unlock calls") when that overlaps with
 * sleeps. Here time moves only through `skip`, one jump at a time.
 */
let client: Client;
let skipping: Promise<void> = Promise.resolve();
function skip(duration: number | `${number}${'s' | 'm'}`): Promise<void> {
  skipping = skipping.then(() => env.sleep(duration));
  return skipping;
}
let provider: FaultyProvider;
let worker: Worker;
let running: Promise<void>;
const queue = taskQueue('model');
let runSeq = 0;

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
  client = new Client({ connection: env.connection });
  provider = new FaultyProvider();
  worker = await createFakeWorker(env, provider, queue, provider.faulty());
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

function pushEvents(orderId: string, view: BindingView, session: number, record: boolean) {
  const party = view.parties.find((p) => p.numberY) ?? view.parties[0];
  const common = {
    sessionId: `${orderId}-s${session}`,
    subscriptionId: view.subscriptionId,
    userData: `bf1:${orderId}:t`,
  };
  const at = (s: number) => `2026-11-29 10:0${session}:${String(s).padStart(2, '0')}`;
  const status = (eventType: 'callin' | 'answer' | 'disconnect', s: number) =>
    providerEventsFromPush({
      eventType,
      statusInfo: {
        ...common,
        timestamp: at(s),
        caller: party?.number ?? A,
        called: view.numberX ?? '',
        ...(eventType === 'disconnect' ? { stateCode: 0 } : {}),
      },
    });
  const events = [...status('callin', 0), ...status('answer', 5), ...status('disconnect', 40)];
  if (record)
    events.push(
      ...providerEventsFromPush({
        eventType: 'fee',
        feeLst: [
          {
            ...common,
            icid: `icid-${orderId}-${session}`,
            direction: 0,
            callerNum: party?.number ?? A,
            calleeNum: view.numberX ?? '',
            fwdDstNum: A,
            callInTime: at(0),
            fwdAnswerTime: at(5),
            callEndTime: at(40),
            recordFlag: 0,
          },
        ],
      }),
    );
  return events;
}

async function keepHistory(handle: WorkflowHandle): Promise<void> {
  const dir = path.join(__dirname, '..', '..', 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  const history = await client.workflow.getHandle(handle.workflowId).fetchHistory();
  const file = path.join(dir, `model-${handle.workflowId}-${Date.now()}.json`);
  fs.writeFileSync(file, historyToJson(history));
  process.stderr.write(`model test: history of ${handle.workflowId} kept in ${file}\n`);
}

async function historyProblems(handle: WorkflowHandle): Promise<string[]> {
  const problems: string[] = [];
  let runId: string | undefined = undefined;
  // Every run of the chain: the newest, then each run it continued from.
  for (let i = 0; i < 20; i++) {
    const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await client.workflow
      .getHandle(handle.workflowId, runId)
      .fetchHistory();
    for (const e of history.events ?? []) {
      const failed = e.workflowTaskFailedEventAttributes;
      // UNHANDLED_COMMAND is the server refusing a completion or continue-as-new that raced newly arrived
      // events (a push): it hands them to a new task and the workflow goes on. It is not a failure of ours.
      const unhandledCommand = failed?.cause === 1 || String(failed?.cause).endsWith('UNHANDLED_COMMAND');
      if (failed && !unhandledCommand)
        problems.push(`${handle.workflowId}: WorkflowTaskFailed cause ${failed.cause} ${failed.failure?.message}`);
    }
    const previous: string | null | undefined =
      history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    runId = previous || undefined;
    if (!runId) break;
  }
  return problems;
}

async function runProgram(p: { orders: OrderSpec[]; commands: Command[]; delays: number[] }): Promise<void> {
  const run = ++runSeq;
  provider.bindings.clear();
  provider.notifications.length = 0;
  provider.faults.length = 0;
  provider.lostAx.clear();
  provider.delays = p.delays;
  const ids = p.orders.map((_, i) => `m${run}-${i}`);
  const handles = await Promise.all(
    p.orders.map((o, i) =>
      client.workflow.start(orderBinding, {
        taskQueue: queue,
        workflowId: `binding-${ids[i]}`,
        args: [
          input(ids[i], {
            parties: B_NUMBERS.slice(0, o.parties).map((number, k) => ({ label: LABELS[k], number })),
            durationSeconds: o.durationMinutes * 60,
            userCallbackUrl: 'https://orders.example/hooks',
            lateEventsGraceSeconds: 300,
            ...(o.continueAsNewAfterEvents ? { continueAsNewAfterEvents: o.continueAsNewAfterEvents } : {}),
          }),
        ],
      }),
    ),
  );

  const unexpected: string[] = [];
  const signalled = new Map<string, { session: string; record: boolean }[]>();
  const answer = async (what: string, call: () => Promise<BindingView>) => {
    try {
      const view = await call();
      if (!view || typeof view.state !== 'string') unexpected.push(`${what}: no view`);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        if (!REFUSALS.includes(String(err.cause.type)))
          unexpected.push(`${what}: ${err.cause.type} ${err.cause.message}`);
      } else if (!/already completed|not found/i.test(String((err as Error)?.message))) {
        unexpected.push(`${what}: ${(err as Error)?.name} ${(err as Error)?.message}`);
      }
    }
  };

  // Keep the server's clock moving while anything waits on it (retry backoffs, flow control's minute).
  let pending = 0;
  let pumping = true;
  const pump = (async () => {
    while (pumping) {
      if (pending > 0) await skip('20s');
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending++;
    return work.finally(() => pending--);
  };

  const inFlight: Promise<unknown>[] = [];
  let d = 0;
  for (const c of p.commands) {
    await new Promise((r) => setTimeout(r, p.delays[d++ % p.delays.length]));
    if (c.kind === 'fault') provider.faults.push({ api: c.api, fault: c.fault });
    else if (c.kind === 'skip') await skip(`${c.minutes}m`);
    else {
      const h = handles[c.order];
      const what = `${ids[c.order]} ${c.kind}`;
      if (c.kind === 'setParty')
        inFlight.push(
          track(answer(what, () => h.executeUpdate(msg.setParty, { args: [{ label: c.label, number: c.number }] }))),
        );
      else if (c.kind === 'removeParty')
        inFlight.push(track(answer(what, () => h.executeUpdate(msg.removeParty, { args: [{ label: c.label }] }))));
      else if (c.kind === 'extend')
        inFlight.push(
          track(answer(what, () => h.executeUpdate(msg.extend, { args: [{ durationSeconds: c.seconds }] }))),
        );
      else if (c.kind === 'release')
        inFlight.push(track(answer(what, () => h.executeUpdate(msg.release, { args: [{}] }))));
      else {
        inFlight.push(
          track(
            (async () => {
              const view = await h.query(msg.getBinding).catch(() => null);
              if (!view?.subscriptionId || view.state !== 'bound') return;
              const events = pushEvents(ids[c.order], view, c.session, c.record);
              const batches = c.duplicate
                ? [events, [...events].reverse()]
                : [c.reversed ? [...events].reverse() : events];
              for (const batch of batches) {
                try {
                  await h.signal(msg.providerEvents, batch);
                  const list = signalled.get(ids[c.order]) ?? [];
                  list.push({ session: `${ids[c.order]}-s${c.session}`, record: c.record });
                  signalled.set(ids[c.order], list);
                } catch {
                  // the run has completed: a push after the grace window goes to the unrouted store
                }
              }
            })(),
          ),
        );
      }
    }
  }
  // Every update answered, within a bounded time.
  const settled = await Promise.race([
    Promise.allSettled(inFlight).then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 60_000)),
  ]);
  expect(settled).toBe(true);

  // Quiescent: the provider holds exactly what each bound order says.
  for (const h of handles) {
    const view = await h.query(msg.getBinding);
    if (view.state !== 'bound') continue;
    const live = provider.bindings.get(view.subscriptionId!);
    expect(live).toBeDefined();
    const said = Object.fromEntries(view.parties.filter((x) => x.numberY).map((x) => [x.number, x.numberY]));
    expect(Object.fromEntries(live!.yb)).toEqual(said);
    expect(view.parties.every((x) => x.numberY)).toBe(true);
  }

  // The end: release what is left and let every run finish (its late-events window passes in skipped time).
  const finals = await Promise.all(
    handles.map((h) =>
      track(
        (async () => {
          await answer('final release', () => h.executeUpdate(msg.release, { args: [{}] }));
          // Every push has been sent: the view of the open run (inside its late-events window) is final.
          const view = (await h.describe()).status.name === 'RUNNING' ? await h.query(msg.getBinding) : undefined;
          for (let i = 0; (await h.describe()).status.name === 'RUNNING'; i++) {
            if (i > 2000) throw new Error(`${h.workflowId} never completed`);
            await skip('1m');
          }
          return { summary: (await h.result()) as BindingSummary, view };
        })(),
      ),
    ),
  );
  pumping = false;
  await pump;
  expect(unexpected).toEqual([]);
  const ends = finals.map((f) => f.summary);

  for (const [i, h] of handles.entries()) {
    expect(['released', 'expired', 'failed']).toContain(ends[i].state);
    expect(await historyProblems(h)).toEqual([]);
    // Each call counted once: one entry per session, one call.completed per recorded session. (A query of
    // a closed run replays it: a replay failure keeps its history in test-artifacts/ for
    // Worker.runReplayHistory; one was seen in ~800 runs, see the closing note of issue 11.)
    const view =
      finals[i].view ??
      (await h.query(msg.getBinding).catch(async (err) => {
        await keepHistory(h);
        throw err;
      }));
    const sessions = view.calls.map((c) => c.sessionId);
    expect(new Set(sessions).size).toBe(sessions.length);
    for (const s of signalled.get(ids[i]) ?? []) expect(sessions).toContain(s.session);
    // Notifications are at least once (a delivery cancelled at continue-as-new is sent again with its
    // eventId): count distinct events.
    const events = new Map(
      provider.notifications.filter((n) => n.body.orderId === ids[i]).map((n) => [n.eventId, n.body] as const),
    );
    const completed = [...events.values()]
      .filter((b) => b.type === 'call.completed')
      .map((b) => (b.call as { sessionId: string }).sessionId);
    expect(new Set(completed).size).toBe(completed.length);
    for (const s of signalled.get(ids[i]) ?? []) if (s.record) expect(completed).toContain(s.session);
    const endNotices = [...events.values()].filter((b) => /^binding\.(released|expired|failed)$/.test(String(b.type)));
    expect(endNotices).toHaveLength(1);
  }
  // Nothing bound once every order ended, but lost answers' orphans, which are never an order's own.
  for (const b of provider.bindings.values()) {
    expect(provider.lostAx.has(b.subscriptionId)).toBe(true);
    expect(ends.map((e) => e.subscriptionId)).not.toContain(b.subscriptionId);
  }
}

test(`concurrent changes, pushes, faults and expiry keep every order's binding right (${RUNS} runs)`, async () => {
  const seed = process.env.MODEL_SEED ? Number(process.env.MODEL_SEED) : undefined;
  // A run that does not finish in 2 minutes fails with its seed rather than holding CI until the timeout.
  const bounded = (p: Parameters<typeof runProgram>[0]) =>
    Promise.race([
      runProgram(p),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('run did not finish within 120 s')), 120_000).unref(),
      ),
    ]);
  await fc.assert(fc.asyncProperty(program, bounded), {
    numRuns: RUNS,
    endOnFailure: true,
    ...(seed !== undefined ? { seed, path: process.env.MODEL_PATH } : {}),
  });
}, 1_500_000);
