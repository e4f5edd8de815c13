import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { signNotification } from '../../activities';
import type { NativeConnection } from '@temporalio/worker';
import { connectDevServer, uniqueTaskQueue } from '../helpers/devServer';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import type { OrderBindingInput } from '../../workflows/types';
import {
  bindingsOf,
  ownedAndOrphans,
  startSimHarness,
  startSimWorker,
  sweepOnce,
  type SimHarness,
} from '../workflow/simHarness';

// orderBinding against a real dev server and the provider simulator: pushes become signals, faults
// are injected at the provider, and at the end no binding is left that no workflow owns.

let client: Client;
let connection: NativeConnection;
let closeConnection: () => Promise<void>;
let h: SimHarness;
let stopWorker: () => Promise<void>;
let adoptedMetric: () => Promise<number>;
const taskQueue = uniqueTaskQueue('wf-sim');
const A = '+8613800000001';
const B = '+8613800000002';
let seq = 0;
const CALLBACK_SECRET = 'it-callback-secret';

beforeAll(async () => {
  const c = await connectDevServer();
  client = c.client;
  connection = c.nativeConnection;
  closeConnection = async () => {
    await c.nativeConnection.close();
    await c.connection.close();
  };
  h = await startSimHarness(client);
  const w = await startSimWorker(connection, taskQueue, h, { callbackSecret: CALLBACK_SECRET });
  stopWorker = async () => {
    w.worker.shutdown();
    await w.running;
  };
  adoptedMetric = async () =>
    (await w.metrics.registry.getSingleMetric('bindflow_adopted_bindings_total')!.get()).values.reduce(
      (s, v) => s + v.value,
      0,
    );
});

afterAll(async () => {
  await stopWorker?.();
  await h?.close();
  await closeConnection?.();
});

afterEach(() => {
  h.sim.setFaults([]);
  // Every test ends its orders: the provider holds no binding that no workflow owns.
  expect(h.sim.bindings()).toEqual([]);
});

function order(overrides: Partial<OrderBindingInput> = {}): OrderBindingInput {
  return {
    orderId: `it-${process.pid}-${++seq}`,
    partyA: A,
    parties: [{ label: 'b', number: B }],
    areaCode: '0755',
    durationSeconds: 3600,
    record: true,
    lateEventsGraceSeconds: 0,
    ...overrides,
  };
}

async function start(input: OrderBindingInput) {
  return client.workflow.start(orderBinding, { taskQueue, workflowId: `binding-${input.orderId}`, args: [input] });
}

async function waitFor<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('binds at the provider, records a call from its pushes, releases: nothing left behind', async () => {
  const input = order();
  const handle = await start(input);
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [20_000] });
  expect(bound.state).toBe('bound');
  const [binding] = bindingsOf(h.sim, input.orderId);
  expect(binding.numX).toBe(bound.numberX);
  expect(binding.yb).toEqual([expect.objectContaining({ numB: B, numY: bound.parties[0].numberY })]);
  expect(binding.userData).toMatch(/^bf1:/);
  expect(binding.userData).not.toContain('13800000002');
  // Safety net: the provider ends the binding after lifetime + max extension (default: duration) + margin.
  const providerLife = Date.parse(binding.expiresAt!) - Date.parse(binding.createdAt);
  expect(providerLife / 1000).toBeGreaterThanOrEqual(3600 * 2);

  // B dials X and reaches A; the platform pushes the call's events and its record (re-pushes included).
  const call = h.sim.call({ from: B, to: bound.numberX!, answer: true, talkSeconds: 42 });
  expect(call.connectedTo).toBe(A);
  await h.sim.settlePushes();
  const view = await waitFor(
    () => handle.query(msg.getBinding),
    (v) => v.calls.length === 1 && v.calls[0].recordingUrl !== null,
  );
  expect(view.calls[0]).toMatchObject({
    sessionId: call.sessionId,
    direction: 'b-to-a',
    partyLabel: 'b',
    talkSeconds: 42,
    outcome: 'answered',
    recorded: true,
  });
  expect(view.calls[0].recordingUrl).toMatch(/^https?:\/\//);

  const released = await handle.executeUpdate(msg.release, { args: [{ reason: 'done' }] });
  expect(released.state).toBe('released');
  expect(bindingsOf(h.sim, input.orderId)).toEqual([]);
  expect((await handle.result()).state).toBe('released');
});

test('notifications reach userCallbackUrl signed with HMAC-SHA256', async () => {
  const received: { type: string; valid: boolean }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const ts = String(req.headers['x-bindflow-timestamp']);
      const valid = req.headers['x-bindflow-signature'] === signNotification(CALLBACK_SECRET, ts, body);
      received.push({ type: JSON.parse(body).type, valid });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const handle = await start(order({ record: false, userCallbackUrl: url }));
    await handle.executeUpdate(msg.awaitBound, { args: [20_000] });
    await handle.executeUpdate(msg.release, { args: [{ reason: 'delivered' }] });
    await handle.result();
    expect(received).toEqual([
      { type: 'binding.bound', valid: true },
      { type: 'binding.released', valid: true },
    ]);
  } finally {
    await new Promise<void>((r) => receiver.close(() => r()));
  }
});

test('reassigning B at the provider: the old YB goes, a new one comes, A keeps X', async () => {
  const input = order({ record: false });
  const handle = await start(input);
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [20_000] });
  const B2 = '+8613800000009';
  const after = await handle.executeUpdate(msg.setParty, { args: [{ label: 'b', number: B2 }] });
  expect(after.numberX).toBe(bound.numberX);
  const [binding] = bindingsOf(h.sim, input.orderId);
  expect(binding.yb.map((y) => y.numB)).toEqual([B2]);
  expect(after.parties[0].numberY).toBe(binding.yb[0].numY);
  // The new driver dials X and reaches A.
  expect(h.sim.call({ from: B2, to: bound.numberX!, talkSeconds: 5 }).connectedTo).toBe(A);
  await handle.executeUpdate(msg.release, { args: [{}] });
  expect(bindingsOf(h.sim, input.orderId)).toEqual([]);
});

test.each(['http500', 'timeout', 'commitThenDrop'] as const)(
  'a %s fault on each provider call is survived with exactly one binding owned; after the release and one sweep, none',
  async (fault) => {
    const input = order({ record: false });
    h.sim.setFaults([
      { api: 'bindAx', fault, count: 1 },
      { api: 'bindYb', fault, count: 1 },
    ]);
    const handle = await start(input);
    const bound = await handle.executeUpdate(msg.awaitBound, { args: [30_000] });
    expect(bound.state).toBe('bound');
    const { owned, orphans } = ownedAndOrphans(h.sim, input.orderId, bound.subscriptionId);
    expect(owned).toHaveLength(1);
    expect(owned[0].yb).toHaveLength(1);
    // A lost AX answer was bound again at once: what the first attempt bound is an AX-only orphan.
    for (const o of orphans) expect(o.yb).toEqual([]);
    if (fault === 'http500') expect(orphans).toEqual([]);

    h.sim.setFaults([{ api: 'unbind', fault, count: 1 }]);
    await handle.executeUpdate(msg.release, { args: [{}] });
    expect(ownedAndOrphans(h.sim, input.orderId, bound.subscriptionId).owned).toEqual([]);
    await sweepOnce(client, taskQueue, h);
    expect(bindingsOf(h.sim, input.orderId)).toEqual([]);
  },
  60_000,
);

test('a bind whose response was dropped after commit is bound again at once; reconciliation unbinds the orphan', async () => {
  const before = await adoptedMetric();
  const input = order({ record: false });
  h.sim.setFaults([{ api: 'bindAx', fault: 'commitThenDrop', count: 1 }]);
  const handle = await start(input);
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [30_000] });
  expect(bound.state).toBe('bound');
  const { owned, orphans } = ownedAndOrphans(h.sim, input.orderId, bound.subscriptionId);
  expect(owned).toHaveLength(1);
  expect(orphans).toHaveLength(1);
  expect(orphans[0].yb).toEqual([]);
  expect(await adoptedMetric()).toBe(before); // no pool sweep on the order's path
  // While the order lives, a sweep tells its own binding from the orphan by subscription id.
  const sweep = await sweepOnce(client, taskQueue, h);
  expect(sweep.orphansUnbound).toBeGreaterThanOrEqual(1);
  expect(bindingsOf(h.sim, input.orderId).map((b) => b.subscriptionId)).toEqual([bound.subscriptionId]);
  await handle.executeUpdate(msg.release, { args: [{}] });
  expect(bindingsOf(h.sim, input.orderId)).toEqual([]);
});

test('flow control is retried no sooner than 60 s later', async () => {
  const input = order({ record: false });
  h.sim.setFaults([{ api: 'bindAx', fault: 'flowControl', count: 1 }]);
  const handle = await start(input);
  const pending = await waitFor(
    async () => (await handle.describe()).raw.pendingActivities ?? [],
    (p) => p.length === 1 && (p[0].attempt ?? 0) >= 2,
  );
  const next = pending[0].nextAttemptScheduleTime;
  const lastFailed = pending[0].lastFailure?.message ?? '';
  expect(lastFailed).toMatch(/1010010/);
  const nextMs = Number(next?.seconds ?? 0) * 1000;
  expect(nextMs - Date.now()).toBeGreaterThan(50_000);
  expect((await handle.query(msg.getBinding)).state).toBe('binding');
  await handle.terminate('test over');
  expect(bindingsOf(h.sim, input.orderId)).toEqual([]);
});

test('a permanent provider rejection fails the order at once with the reason', async () => {
  const input = order({ areaCode: '0999', record: false });
  const handle = await start(input);
  const summary = await handle.result();
  expect(summary.state).toBe('failed');
  expect(summary.reason).toMatch(/1011002|1012001|1010002/);
  expect(bindingsOf(h.sim, input.orderId)).toEqual([]);
});
