import { Client, Connection } from '@temporalio/client';
import { signHeaders } from '../../provider/aksk';
import { listUnrouted, unroutedWorkflowIdForDay } from '../../workflows/unroutedPushes';
import type { BindingView } from '../../workflows/types';
import { buildApi } from '../../client/api';
import { createLogger } from '../../lib/log';
import { startStack, type Stack } from '../helpers/stack';
import { startTcpProxy } from '../helpers/tcpProxy';
import { devServerAddress } from '../helpers/devServer';
import { SIM_APP, TEST_TOKEN } from '../helpers/api';
import seed from '../unit/fixtures/provider/seed-pushes.json';

// Every /v1 route and the webhook against the real stack: dev server, worker, simulator, real HTTP.

const A = '+8613811110001';
const B = '+8613811110002';
const B2 = '+8613811110003';
const HELPER = '+8613811110004';

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last: ${JSON.stringify(last).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}

/** A PUT whose first AX bind hangs: 202 "binding" past its 2 s patience, bound later, nothing left after DELETE. */
async function slowPutIsPendingThenBound(st: Stack, orderId: string, req: { partyA: string; partyB: string }) {
  st.sim.setFaults([{ api: 'bindAx', fault: 'timeout', count: 1 }]);
  const res = await fetch(`${st.apiUrl}/v1/orders/${orderId}/binding`, {
    method: 'PUT',
    headers: { ...st.auth, 'content-type': 'application/json', prefer: 'wait=2' },
    body: JSON.stringify(req),
  });
  // Patience 2 s (Prefer: wait=2); the provider client waits longer for the hanging first bind.
  expect(res.status).toBe(202);
  expect(((await res.json()) as BindingView).state).toBe('binding');
  const bound = await eventually(
    async () => (await st.http<BindingView>('GET', `/v1/orders/${orderId}/binding`)).body,
    (v) => v.state !== 'binding',
    120_000,
  );
  expect(bound.state).toBe('bound');
  expect(st.sim.bindings().filter((b) => b.numA === req.partyA)).toHaveLength(1);
  await st.http('DELETE', `/v1/orders/${orderId}/binding`);
  expect(st.sim.bindings().filter((b) => b.numA === req.partyA)).toHaveLength(0);
}

describe('HTTP API contract on the real stack', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ prefix: 'api-contract', bindPatienceMs: 15_000 });
  });
  afterAll(async () => s?.close());

  const body = { partyA: A, partyB: B, areaCode: '0755', durationSeconds: 3600, record: true };

  test('PUT binds in one round trip (201), again is 200, a different request 409', async () => {
    const first = await s.http<BindingView>('PUT', '/v1/orders/c-1/binding', body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ orderId: 'c-1', workflowId: 'binding-c-1', state: 'bound', partyA: A });
    expect(first.body.numberX).toMatch(/^\+86755/);
    expect(first.body.parties).toEqual([{ label: 'b', number: B, numberY: expect.stringMatching(/^\+86/) }]);
    const again = await s.http<BindingView>('PUT', '/v1/orders/c-1/binding', body);
    expect(again.status).toBe(200);
    expect(again.body.numberX).toBe(first.body.numberX);
    const other = await s.http<{ error: { code: string } }>('PUT', '/v1/orders/c-1/binding', {
      ...body,
      durationSeconds: 7200,
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('CONFLICT');
    // Exactly one binding at the provider for this order.
    expect(s.sim.bindings().filter((b) => b.subscriptionId === first.body.subscriptionId)).toHaveLength(1);
  });

  test('GET shows a simulated call, merged from its events and its call record', async () => {
    const view = (await s.http<BindingView>('GET', '/v1/orders/c-1/binding')).body;
    const call = s.sim.call({ from: B, to: view.numberX!, answer: true, talkSeconds: 42 });
    expect(call.stateCode).toBe(0);
    const withCall = await eventually(
      async () => (await s.http<BindingView>('GET', '/v1/orders/c-1/binding')).body,
      (v) => v.calls.some((c) => c.sessionId === call.sessionId && c.outcome === 'answered' && c.talkSeconds === 42),
    );
    expect(withCall.calls.filter((c) => c.sessionId === call.sessionId)).toHaveLength(1);
    expect(withCall.calls[0]).toMatchObject({ direction: 'b-to-a' });
  });

  test('extend adds time up to maxExtensionSeconds; beyond it is 422 with a clear message', async () => {
    const before = (await s.http<BindingView>('GET', '/v1/orders/c-1/binding')).body;
    const ext = await s.http<BindingView>('POST', '/v1/orders/c-1/binding/extend', { durationSeconds: 1800 });
    expect(ext.status).toBe(200);
    expect(Date.parse(ext.body.expiresAt) - Date.parse(before.expiresAt)).toBe(1800_000);
    const tooMuch = await s.http<{ error: { code: string; message: string } }>(
      'POST',
      '/v1/orders/c-1/binding/extend',
      { durationSeconds: 3600 },
    );
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('REQUEST_REJECTED');
    expect(tooMuch.body.error.message).toMatch(/extension/i);
  });

  test('parties: add a helper, replace B (A keeps X), remove the helper', async () => {
    const before = (await s.http<BindingView>('GET', '/v1/orders/c-1/binding')).body;
    const added = await s.http<BindingView>('PUT', '/v1/orders/c-1/binding/parties/helper', { number: HELPER });
    expect(added.status).toBe(200);
    expect(added.body.parties.map((p) => p.label).sort()).toEqual(['b', 'helper']);
    const replaced = await s.http<BindingView>('PUT', '/v1/orders/c-1/binding/parties/b', { number: B2 });
    expect(replaced.body.numberX).toBe(before.numberX);
    expect(replaced.body.parties.find((p) => p.label === 'b')).toMatchObject({ number: B2 });
    const atProvider = s.sim.bindings().find((b) => b.subscriptionId === before.subscriptionId)!;
    expect(atProvider.yb.map((y) => y.numB).sort()).toEqual([B2, HELPER].sort());
    const removed = await s.http<BindingView>('DELETE', '/v1/orders/c-1/binding/parties/helper');
    expect(removed.body.parties.map((p) => p.label)).toEqual(['b']);
    const bad = await s.http<{ error: { code: string } }>('PUT', '/v1/orders/c-1/binding/parties/b', {
      number: 'nope',
    });
    expect(bad.status).toBe(400);
  });

  test('GET /v1/bindings lists from visibility without party numbers', async () => {
    const list = await eventually(
      async () =>
        (await s.http<{ bindings: Array<Record<string, unknown>> }>('GET', '/v1/bindings?state=bound')).body.bindings,
      (l) => l.some((b) => b.orderId === 'c-1'),
    );
    expect(JSON.stringify(list)).not.toMatch(/13811110/);
  });

  test('DELETE releases: nothing left at the provider; later changes are 409 BINDING_CLOSED; PUT again is 200', async () => {
    const before = (await s.http<BindingView>('GET', '/v1/orders/c-1/binding')).body;
    const rel = await s.http<BindingView>('DELETE', '/v1/orders/c-1/binding');
    expect(rel.status).toBe(200);
    expect(rel.body.state).toBe('released');
    expect(s.sim.bindings().filter((b) => b.subscriptionId === before.subscriptionId)).toHaveLength(0);
    const ext = await s.http<{ error: { code: string } }>('POST', '/v1/orders/c-1/binding/extend', {
      durationSeconds: 60,
    });
    expect(ext.status).toBe(409);
    expect(ext.body.error.code).toBe('BINDING_CLOSED');
    const again = await s.http<BindingView>('PUT', '/v1/orders/c-1/binding', body);
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('released');
  });

  test('PUT answers 202 "binding" when the provider is slow, and the order is bound later', async () => {
    await slowPutIsPendingThenBound(s, 'c-slow', { ...body, partyA: '+8613811110011', partyB: '+8613811110012' });
  }, 180_000);

  describe('webhook', () => {
    test("the seed page's sample pushes, signed with the simulator's app, are accepted and kept for operators", async () => {
      // No order owns them: they are kept in the store of the day they arrive (UTC; both days if midnight passes).
      const days = new Set([unroutedWorkflowIdForDay(new Date())]);
      for (const push of [seed.callEvent, seed.callRecord]) {
        const res = await fetch(`${s.apiUrl}/webhooks/privatenumber`, {
          method: 'POST',
          headers: { ...signHeaders(SIM_APP), 'content-type': 'application/json;charset=UTF-8' },
          body: JSON.stringify(push),
        });
        expect(res.status).toBe(200);
      }
      days.add(unroutedWorkflowIdForDay(new Date()));
      const kept = await eventually(
        async () => {
          const stores = await Promise.all(
            [...days].map((id) =>
              s.client.workflow
                .getHandle(id)
                .query(listUnrouted)
                .catch(() => ({ total: 0, events: [] })),
            ),
          );
          return { events: stores.flatMap((k) => k.events) };
        },
        (k) =>
          k.events.some(
            (e) => e.event.sessionId === seed.callEvent.statusInfo.sessionId && e.event.kind === 'callRecord',
          ),
      );
      expect(kept.events.filter((e) => e.event.sessionId === seed.callEvent.statusInfo.sessionId)).toHaveLength(2);
    });

    test('Temporal unreachable: pushes get 503, the platform retries later, every event lands exactly once', async () => {
      // A second API process-alike whose Temporal connection runs through a proxy we can cut.
      const proxy = await startTcpProxy(devServerAddress());
      const connection = await Connection.connect({ address: proxy.address });
      const api = buildApi({
        client: new Client({ connection }),
        connection,
        taskQueue: s.taskQueue,
        apiToken: TEST_TOKEN,
        ...SIM_APP,
        log: createLogger('api-2', {}, () => undefined),
      });
      const apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });
      try {
        const bound = await s.http<BindingView>('PUT', '/v1/orders/c-down/binding', {
          ...body,
          partyA: '+8613811110021',
          partyB: '+8613811110022',
        });
        expect(bound.body.state).toBe('bound');
        s.sim.setPushUrl(`${apiUrl}/webhooks/privatenumber`);
        proxy.cut();
        const call = s.sim.call({ from: '+8613811110022', to: bound.body.numberX!, answer: true, talkSeconds: 7 });
        const mine = () => s.sim.pushes().filter((p) => JSON.stringify(p.body).includes(call.sessionId));
        // Pushes are delivered in order: the first one's attempt is refused, the rest wait behind it.
        const refused = await eventually(
          async () => mine()[0],
          (p) => p !== undefined && p.attempts.length >= 1,
        );
        expect(refused.attempts[0]).toMatchObject({ status: 503 });
        proxy.restore();
        s.sim.advance(61); // the platform's first retry comes after a minute
        const view = await eventually(
          async () => (await s.http<BindingView>('GET', '/v1/orders/c-down/binding')).body,
          (v) => v.calls.some((c) => c.sessionId === call.sessionId && c.outcome === 'answered' && c.talkSeconds === 7),
        );
        expect(view.calls.filter((c) => c.sessionId === call.sessionId)).toHaveLength(1);
        // Every push of the call (events and its record) is delivered in the end, by the platform's retries.
        await eventually(
          async () => {
            s.sim.advance(300);
            return mine();
          },
          (ps) => ps.length >= 5 && ps.every((p) => p.state === 'delivered'),
        );
        // The platform may push everything once more: nothing changes.
        for (const p of mine()) {
          const res = await fetch(`${apiUrl}/webhooks/privatenumber`, {
            method: 'POST',
            headers: { ...signHeaders(SIM_APP), 'content-type': 'application/json' },
            body: JSON.stringify(p.body),
          });
          expect(res.status).toBe(200);
        }
        const after = (await s.http<BindingView>('GET', '/v1/orders/c-down/binding')).body;
        expect(after.calls.filter((c) => c.sessionId === call.sessionId)).toHaveLength(1);
        expect(after.calls.find((c) => c.sessionId === call.sessionId)).toMatchObject({
          outcome: 'answered',
          talkSeconds: 7,
          direction: 'b-to-a',
        });
        await s.http('DELETE', '/v1/orders/c-down/binding');
      } finally {
        s.sim.setPushUrl(`${s.apiUrl}/webhooks/privatenumber`);
        await api.close();
        await connection.close();
        await proxy.close();
      }
    }, 120_000);
  });
});

// BINDFLOW_BIND_WAIT=history: the same PUT answers, from a plain start and the run's bound view memo.
describe('PUT with BINDFLOW_BIND_WAIT=history', () => {
  let h: Stack;
  beforeAll(async () => {
    h = await startStack({ prefix: 'api-history', bindPatienceMs: 15_000, bindWait: 'history' });
  });
  afterAll(async () => h?.close());
  const req = { partyA: HELPER, partyB: B2, areaCode: '0755', durationSeconds: 3600 };

  test('201 with the whole view (party numbers from the request), again 200, a different request 409', async () => {
    const first = await h.http<BindingView>('PUT', '/v1/orders/h-1/binding', req);
    expect(first.status).toBe(201);
    const view = (await h.http<BindingView>('GET', '/v1/orders/h-1/binding')).body;
    // What the workflow itself shows, field for field and in the same key order.
    expect(JSON.stringify(first.body)).toBe(JSON.stringify(view));
    expect(first.body).toMatchObject({ state: 'bound', partyA: HELPER, parties: [{ label: 'b', number: B2 }] });
    const again = await h.http<BindingView>('PUT', '/v1/orders/h-1/binding', req);
    expect(again.status).toBe(200);
    expect(again.body.numberX).toBe(first.body.numberX);
    const other = await h.http<{ error: { code: string } }>('PUT', '/v1/orders/h-1/binding', {
      ...req,
      durationSeconds: 60,
    });
    expect(other.status).toBe(409);
    const history = await h.client.workflow.getHandle('binding-h-1').fetchHistory();
    expect(history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
    expect((await h.http('DELETE', '/v1/orders/h-1/binding')).status).toBe(200);
  });

  test('202 "binding" past the patience, then bound', async () => {
    await slowPutIsPendingThenBound(h, 'h-slow', { ...req, partyA: '+8613811110031', partyB: '+8613811110032' });
  }, 180_000);
});
