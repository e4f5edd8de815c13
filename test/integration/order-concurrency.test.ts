import { startStack, type Stack } from '../helpers/stack';
import { startTcpProxy } from '../helpers/tcpProxy';
import { bindingsOf } from '../workflow/simHarness';

// Through the real HTTP API, on the real dev server and the simulator: party changes racing a release on
// many orders at once, and a call whose pushes reach bindflow only after its order was released.

const A = '+8613800000001';
const B = '+8613800000002';
const DRIVERS = ['+8613800000003', '+8613800000004', '+8613800000005'];

let stack: Stack;
let seq = 0;

beforeAll(async () => {
  stack = await startStack({ prefix: 'concurrency', lateEventsGraceSeconds: 120 });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

function orderId(): string {
  return `cc-${process.pid}-${++seq}`;
}

async function bind(id: string, partyA = A) {
  const res = await stack.http<{ state: string; failure?: unknown }>('PUT', `/v1/orders/${id}/binding`, {
    partyA,
    partyB: B,
    areaCode: '0755',
    durationSeconds: 3600,
  });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ state: 'bound' });
}

async function workflowTaskFailures(workflowId: string): Promise<number> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
}

test('party changes racing a release on 8 orders: every request answers, each order ends released, nothing stays bound', async () => {
  const ids = Array.from({ length: 8 }, orderId);
  await Promise.all(ids.map((id, i) => bind(id, `+86139000000${10 + i}`)));

  const started = Date.now();
  const answers = await Promise.all(
    ids.map((id, i) =>
      Promise.all([
        stack.http('PUT', `/v1/orders/${id}/binding/parties/b`, { number: DRIVERS[i % 3] }),
        stack.http('PUT', `/v1/orders/${id}/binding/parties/shop`, { number: DRIVERS[(i + 1) % 3] }),
        stack.http('DELETE', `/v1/orders/${id}/binding/parties/b`),
        stack.http('DELETE', `/v1/orders/${id}/binding`),
      ]),
    ),
  );
  expect(Date.now() - started).toBeLessThan(30_000);
  for (const [changes, release] of answers.map((a) => [a.slice(0, 3), a[3]] as const)) {
    expect(release.status).toBe(200);
    expect((release.body as { state: string }).state).toBe('released');
    for (const c of changes) {
      // Done before the release, or refused because the release came first: never a 5xx, never a hang.
      expect([200, 409, 422]).toContain(c.status);
      if (c.status === 409)
        expect((c.body as { error: { code: string } }).error.code).toMatch(/^BINDING_(RELEASING|CLOSED)$/);
    }
  }
  for (const id of ids) {
    const view = await stack.http<{ state: string }>('GET', `/v1/orders/${id}/binding`);
    expect(view.status).toBe(200);
    expect(view.body.state).toBe('released');
    expect(bindingsOf(stack.sim, id)).toEqual([]);
    expect(await workflowTaskFailures(`binding-${id}`)).toBe(0);
  }
  // A change after the release is refused with a clear code.
  const late = await stack.http<{ error: { code: string } }>('PUT', `/v1/orders/${ids[0]}/binding/parties/b`, {
    number: DRIVERS[0],
  });
  expect(late.status).toBe(409);
  expect(late.body.error.code).toBe('BINDING_CLOSED');
}, 90_000);

test("a call whose pushes arrive only after the release (webhook unreachable, the platform's retries later) shows on the released order", async () => {
  const id = orderId();
  await bind(id);
  const view = await stack.http<{ numberX: string }>('GET', `/v1/orders/${id}/binding`);
  const proxy = await startTcpProxy(new URL(stack.apiUrl).host);
  try {
    stack.sim.setPushUrl(`http://${proxy.address}/webhooks/privatenumber`);
    proxy.cut();
    const call = stack.sim.call({ from: B, to: view.body.numberX, answer: true, talkSeconds: 42 });
    expect(call.connectedTo).toBe(A);
    await stack.sim.settlePushes(); // first attempts fail: the webhook is unreachable
    const released = await stack.http<{ state: string; calls: unknown[] }>('DELETE', `/v1/orders/${id}/binding`);
    expect(released.status).toBe(200);
    expect(released.body.calls).toEqual([]);

    proxy.restore();
    stack.sim.advance(60); // the platform retries a minute later
    await stack.sim.settlePushes();
    type View = { state: string; calls: { sessionId: string; talkSeconds: number; outcome: string }[] };
    let after = await stack.http<View>('GET', `/v1/orders/${id}/binding`);
    for (let i = 0; i < 50 && after.body.calls.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await stack.http<View>('GET', `/v1/orders/${id}/binding`);
    }
    expect(after.body.state).toBe('released');
    expect(after.body.calls).toEqual([
      expect.objectContaining({ sessionId: call.sessionId, talkSeconds: 42, outcome: 'answered' }),
    ]);
    const desc = await stack.client.workflow.getHandle(`binding-${id}`).describe();
    expect(desc.status.name).toBe('RUNNING'); // inside its late-events window
  } finally {
    stack.sim.setPushUrl(`${stack.apiUrl}/webhooks/privatenumber`);
    await proxy.close();
  }
}, 60_000);
