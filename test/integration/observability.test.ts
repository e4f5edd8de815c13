import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../client/api';
import { createApiMetrics, type ApiMetrics } from '../../client/metrics';
import { createLogger } from '../../lib/log';
import { startTracing, type Tracing } from '../../lib/tracing';
import { signHeaders } from '../../provider/aksk';
import { startSimulator, type Simulator } from '../../simulator';
import { BindflowMetrics, createBindflowWorker } from '../../worker';
import { SIM_APP, TEST_TOKEN } from '../helpers/api';
import { devServerAddress, uniqueTaskQueue } from '../helpers/devServer';

// Tracing and metrics of one order through the real stack (API over HTTP, dev server, worker, simulator):
// the order is one connected trace from the API request through Temporal, the workflow and its activities
// to the provider's HTTP calls; a push is one from the webhook to the workflow's signal handler; no span
// carries a party number; and the metrics of the contract count what happened.

const A = '+8613800000041';
const B = '+8613800000042';
const PARTY_DIGITS = [A.slice(3), B.slice(3)]; // 13800000041, 13800000042: in clear anywhere = a leak
// A pool of its own, so other test files' orders (sharing the dev server) never hold these numbers.
const POOL = Array.from({ length: 10 }, (_, i) => `+8675599${String(i + 1).padStart(5, '0')}`);

async function eventually<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met; last: ${JSON.stringify(last).slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await fn();
  }
  return last;
}

/** The value of one series in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const byTrace = (spans: ReadableSpan[], traceId: string) => spans.filter((s) => s.spanContext().traceId === traceId);

/** Every span but the root has its parent among the trace's spans: one tree, nothing dangling. */
function expectConnected(trace: ReadableSpan[], rootName: string) {
  const ids = new Set(trace.map((s) => s.spanContext().spanId));
  const roots = trace.filter((s) => !s.parentSpanId);
  expect(roots.map((s) => s.name)).toEqual([rootName]);
  const dangling = trace.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).map((s) => s.name);
  expect(dangling).toEqual([]);
}

describe('tracing and metrics of one order', () => {
  const exporter = new InMemorySpanExporter();
  const taskQueue = uniqueTaskQueue('observability');
  const orderId = `obs-${Date.now().toString(36)}`;
  let tracing: Tracing;
  let sim: Simulator;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let app: FastifyInstance;
  let apiUrl: string;
  let worker: Worker;
  let running: Promise<void>;
  const apiMetrics: ApiMetrics = createApiMetrics({ visibilityMaxAgeMs: 0 });
  const workerMetrics = new BindflowMetrics();
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };

  async function http(method: string, path: string, body?: unknown) {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  }

  const scrape = async () => (await fetch(`${apiUrl}/metrics`, { headers: auth })).text();

  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'bindflow-test', spanProcessor: new SimpleSpanProcessor(exporter) });
    const sink = () => undefined;
    sim = await startSimulator({ port: 0, pool: { '0755': POOL }, logger: createLogger('simulator', {}, sink) });
    connection = await Connection.connect({ address: devServerAddress() });
    const client = new Client({ connection, interceptors: { workflow: tracing.clientInterceptors } });
    app = buildApi({
      client,
      connection,
      taskQueue,
      apiToken: TEST_TOKEN,
      ...SIM_APP,
      log: createLogger('api', {}, sink),
      lateEventsGraceSeconds: 0,
      metrics: apiMetrics,
      numberPool: POOL,
    });
    apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    sim.setPushUrl(`${apiUrl}/webhooks/privatenumber`);
    nativeConnection = await NativeConnection.connect({ address: devServerAddress() });
    worker = await createBindflowWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      provider: { baseUrl: sim.url, ...SIM_APP },
      numberPool: POOL,
      metrics: workerMetrics,
      tracing,
      log: createLogger('worker', {}, sink),
    });
    running = worker.run();
  }, 120_000);

  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await app?.close();
    await sim?.close();
    await nativeConnection?.close();
    await connection?.close();
    await tracing?.shutdown();
  });

  test('bind, a call, release: traces, metrics, and no party number in any span', async () => {
    // ── bind
    const put = await http('PUT', `/v1/orders/${orderId}/binding`, {
      partyA: A,
      partyB: B,
      areaCode: '0755',
      durationSeconds: 600,
    });
    expect(put.status).toBe(201);
    const numberX = put.body.numberX as string;

    // While bound: the pool's area holds X and Y, the state gauge counts the order.
    const bound = await eventually(
      scrape,
      (t) => sample(t, 'bindflow_number_pool_numbers{area="0755",status="in_use"}') === 2,
    );
    expect(sample(bound, 'bindflow_number_pool_numbers{area="0755",status="free"}')).toBe(POOL.length - 2);
    await eventually(scrape, (t) => (sample(t, 'bindflow_bindings{state="bound"}') ?? 0) >= 1);

    // ── a call: the simulator pushes its events to the webhook, which signals the order
    sim.call({ from: B, to: numberX, answer: true, talkSeconds: 5 });
    await sim.settlePushes();
    await eventually(
      () => http('GET', `/v1/orders/${orderId}/binding`),
      (r) => (r.body.calls as unknown[] | undefined)?.length === 1,
    );

    // ── release; the run ends at once (no late-events window here)
    const del = await http('DELETE', `/v1/orders/${orderId}/binding`);
    expect(del.status).toBe(200);
    const result = (await new Client({ connection }).workflow.getHandle(`binding-${orderId}`).result()) as {
      state: string;
    };
    expect(result.state).toBe('released');

    // ── a push for an order with no open run: kept unrouted; one with a bad signature: refused
    const push = (eventType: string) => ({
      eventType,
      statusInfo: {
        sessionId: `late-${orderId}`,
        timestamp: '2026-12-01 10:00:22',
        caller: B,
        called: numberX,
        stateCode: 0,
        subscriptionId: `sub-${orderId}`,
        userData: `bf1:${orderId}-gone:tok1`,
      },
    });
    const signed = await fetch(`${apiUrl}/webhooks/privatenumber`, {
      method: 'POST',
      headers: { ...signHeaders(SIM_APP), 'content-type': 'application/json' },
      body: JSON.stringify(push('disconnect')),
    });
    expect(signed.status).toBe(200);
    const forged = await fetch(`${apiUrl}/webhooks/privatenumber`, {
      method: 'POST',
      headers: { ...signHeaders({ appKey: SIM_APP.appKey, appSecret: 'wrong' }), 'content-type': 'application/json' },
      body: JSON.stringify(push('callin')),
    });
    expect(forged.status).toBe(401);

    // ── traces
    const spans = () => exporter.getFinishedSpans();
    const orderRoot = await eventually(spans, (all) =>
      all.some((s) => s.name === 'PUT /v1/orders/:orderId/binding'),
    ).then((all) => all.find((s) => s.name === 'PUT /v1/orders/:orderId/binding')!);
    // The workflow's own span ends with the run: exported once the run completed.
    const order = byTrace(
      await eventually(spans, (all) =>
        byTrace(all, orderRoot.spanContext().traceId).some((s) => s.name === 'RunWorkflow:orderBinding'),
      ),
      orderRoot.spanContext().traceId,
    );
    expect(order.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'UpdateWithStartWorkflow:awaitBound',
        'RunWorkflow:orderBinding',
        'StartActivity:bindAx',
        'RunActivity:bindAx',
        'provider bindAx',
        'RunActivity:bindYb',
        'provider bindYb',
        'RunActivity:unbind',
        'provider unbind',
      ]),
    );
    expectConnected(order, 'PUT /v1/orders/:orderId/binding');
    // The provider call is the activity's child, the activity the workflow's.
    const byId = new Map(order.map((s) => [s.spanContext().spanId, s]));
    const providerBind = order.find((s) => s.name === 'provider bindAx')!;
    expect(byId.get(providerBind.parentSpanId!)?.name).toBe('RunActivity:bindAx');
    expect(providerBind.attributes['http.response.status_code']).toBe(200);
    expect(providerBind.attributes['bindflow.provider.result_code']).toBe('0');

    // A push of the call: its own trace, from the webhook request to the workflow's signal handler.
    const all = spans();
    const pushTraces = all
      .filter((s) => s.name === 'POST /webhooks/privatenumber' && s.attributes['http.response.status_code'] === 200)
      .map((root) => byTrace(all, root.spanContext().traceId))
      .filter((t) => t.some((s) => s.name.startsWith('HandleSignal')));
    expect(pushTraces.length).toBeGreaterThan(0);
    for (const t of pushTraces) {
      expect(t.map((s) => s.name)).toEqual(
        expect.arrayContaining(['SignalWorkflow:providerEvents', 'HandleSignal:providerEvents']),
      );
      expectConnected(t, 'POST /webhooks/privatenumber');
    }

    // The release: the request to the workflow's update handler.
    const releaseRoot = all.find((s) => s.name === 'DELETE /v1/orders/:orderId/binding')!;
    const release = byTrace(all, releaseRoot.spanContext().traceId);
    expect(release.map((s) => s.name)).toEqual(
      expect.arrayContaining(['StartWorkflowUpdate:release', 'HandleUpdate:release']),
    );
    expectConnected(release, 'DELETE /v1/orders/:orderId/binding');

    // No party number in clear in any span: names, attributes, events, status, links.
    const text = JSON.stringify(
      all.map((s) => ({ n: s.name, a: s.attributes, e: s.events, st: s.status, l: s.links, r: s.resource.attributes })),
    );
    for (const digits of PARTY_DIGITS) expect(text).not.toContain(digits);

    // ── metrics of the API process
    const api = await eventually(scrape, (t) => (sample(t, 'bindflow_bindings{state="released"}') ?? 0) >= 1);
    expect(sample(api, 'bindflow_webhook_pushes_total{event="callin",outcome="unauthorized"}')).toBe(1);
    expect(sample(api, 'bindflow_webhook_pushes_total{event="disconnect",outcome="accepted"}')).toBeGreaterThanOrEqual(
      2,
    );
    expect(sample(api, 'bindflow_unrouted_pushes_total')).toBe(1);
    expect(sample(api, 'bindflow_number_pool_numbers{area="0755",status="in_use"}')).toBe(0);
    expect(sample(api, 'bindflow_number_pool_numbers{area="0755",status="free"}')).toBe(POOL.length);

    // ── metrics of the worker: every provider call timed by API and outcome
    const w = await workerMetrics.registry.metrics();
    for (const api of ['bindAx', 'bindYb', 'unbind'])
      expect(sample(w, `bindflow_provider_request_duration_seconds_count{api="${api}",outcome="ok"}`)).toBe(1);
    expect(w).toContain('bindflow_provider_request_duration_seconds_bucket{le="2",api="bindAx",outcome="ok"} 1');
  }, 180_000);
});
