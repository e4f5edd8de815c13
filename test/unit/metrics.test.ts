import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as otel from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MockActivityEnvironment } from '@temporalio/testing';
import Fastify from 'fastify';
import { createActivities, type ProviderPort } from '../../activities';
import { notifyActivities } from '../../activities/notify';
import type { PoolCapacity } from '../../client/apiSchemas';
import { countWebhookPushes, createApiMetrics, pushEventLabel, pushOutcomeLabel } from '../../client/metrics';
import { otelProblems } from '../../lib/config';
import { createLogger } from '../../lib/log';
import { maskAttributes, maskSpan, tracingEnabled } from '../../lib/tracing';
import { errorFromResult, LOCAL_CODES, ProviderError } from '../../provider';
import { BindflowMetrics, providerOutcome } from '../../worker/metrics';
import type { Client } from '@temporalio/client';

// The metrics of docs/contract.md ("Additions of 0.2"), counted where they happen, and the masking of spans.

const log = createLogger('test', {}, () => undefined);

/** The value of one series in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const localError = (init: Partial<ConstructorParameters<typeof ProviderError>[0]>) =>
  new ProviderError({ api: 'bindAx', code: LOCAL_CODES.network, description: 'x', retryable: false, ...init });

describe('bindflow_provider_request_duration_seconds{api, outcome}', () => {
  test('outcome: ok, transient, permanent, unknown; a definite "does not exist" is ok', () => {
    expect(providerOutcome()).toBe('ok');
    expect(providerOutcome(errorFromResult('unbind', '1016001', undefined, 403))).toBe('ok');
    expect(providerOutcome(errorFromResult('bindAx', '1010001', undefined, 500))).toBe('transient');
    expect(providerOutcome(errorFromResult('bindAx', '1010010', undefined, 403))).toBe('transient'); // flow control
    expect(providerOutcome(errorFromResult('bindAx', '1012001', undefined, 403))).toBe('permanent');
    expect(providerOutcome(errorFromResult('bindAx', '1023002', undefined, 500))).toBe('unknown'); // may have bound
    expect(providerOutcome(localError({ retryable: true, outcomeUnknown: true }))).toBe('unknown');
    expect(providerOutcome(new Error('not a provider error'))).toBe('unknown');
  });

  test('every call through the metered client is timed by API and outcome', async () => {
    const metrics = new BindflowMetrics();
    const fake: ProviderPort = {
      bindAx: async () => ({ subscriptionId: 's', relationNumber: '+8675528000001' }),
      bindYb: async () => {
        throw errorFromResult('bindYb', '1012001', undefined, 403);
      },
      unbind: async () => {
        throw errorFromResult('unbind', '1016001', undefined, 403);
      },
      query: async () => {
        throw errorFromResult('query', '1010001', undefined, 500);
      },
      recordingUrl: async () => 'https://records.example/r',
    };
    const p = metrics.meter(fake);
    await p.bindAx({} as never);
    await p.bindAx({} as never);
    await expect(p.bindYb({} as never)).rejects.toThrow(ProviderError);
    await expect(p.unbind({} as never)).rejects.toThrow(ProviderError);
    await expect(p.query({} as never)).rejects.toThrow(ProviderError);
    const text = await metrics.registry.metrics();
    const count = (api: string, outcome: string) =>
      sample(text, `bindflow_provider_request_duration_seconds_count{api="${api}",outcome="${outcome}"}`);
    expect(count('bindAx', 'ok')).toBe(2);
    expect(count('bindYb', 'permanent')).toBe(1);
    expect(count('unbind', 'ok')).toBe(1);
    expect(count('query', 'transient')).toBe(1);
    expect(count('recordingUrl', 'ok')).toBeUndefined();
    // A 2 s bucket boundary, for the p99 > 2 s alert.
    expect(text).toContain('bindflow_provider_request_duration_seconds_bucket{le="2",api="bindAx",outcome="ok"} 2');
  });
});

describe('bindflow_notifications_total{type, outcome}', () => {
  let server: http.Server;
  let url = '';
  let answer = 200;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(answer).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('each delivery attempt by its type; given_up from the workflow sink; unknown types are "other"', async () => {
    const metrics = new BindflowMetrics();
    const { notify } = notifyActivities({
      log,
      callbackSecret: 's',
      targets: { allowHosts: new Set(['127.0.0.1']) },
      onDelivered: (type, outcome) => metrics.notification(type, outcome),
    });
    answer = 200;
    await notify({ url, eventId: 'e1', body: { type: 'binding.bound' } });
    answer = 410;
    await expect(notify({ url, eventId: 'e2', body: { type: 'call.completed' } })).rejects.toThrow();
    answer = 503;
    await expect(notify({ url, eventId: 'e3', body: { type: 'whatever' } })).rejects.toThrow();
    const sinks = metrics.sinks();
    sinks.bindflowMetrics.notificationGivenUp.fn({} as never, 'call.completed');
    const text = await metrics.registry.metrics();
    const n = (type: string, outcome: string) =>
      sample(text, `bindflow_notifications_total{type="${type}",outcome="${outcome}"}`);
    expect(n('binding.bound', 'delivered')).toBe(1);
    expect(n('call.completed', 'rejected')).toBe(1);
    expect(n('other', 'failed')).toBe(1);
    expect(n('call.completed', 'given_up')).toBe(1);
    // Exported at 0 before anything was given up, so the first one is an increase to Prometheus.
    expect(n('binding.expired', 'given_up')).toBe(0);
  });
});

describe('bindflow_reconcile_orphans_unbound_total', () => {
  test("counts the reconciliation workflow's unbinds, not an order's own", async () => {
    const metrics = new BindflowMetrics();
    const provider = { unbind: async () => undefined } as unknown as ProviderPort;
    const acts = createActivities({ provider, client: {} as Client, log, metrics });
    const orphans = async () => sample(await metrics.registry.metrics(), 'bindflow_reconcile_orphans_unbound_total');
    expect(await orphans()).toBe(0);
    await new MockActivityEnvironment({ workflowType: 'orderBinding' }).run(acts.unbind, { subscriptionId: 's1' });
    expect(await orphans()).toBe(0);
    await new MockActivityEnvironment({ workflowType: 'reconcileBindings' }).run(acts.unbind, { subscriptionId: 's2' });
    expect(await orphans()).toBe(1);
  });
});

describe('the API process: visibility gauges and webhook pushes', () => {
  const capacity = (inUse: number, free: number): PoolCapacity => ({
    areas: [{ area: '0755', total: inUse + free, boundAsX: inUse - 1, boundAsY: 1, free }],
    total: inUse + free,
    boundAsX: inUse - 1,
    boundAsY: 1,
    free,
    unlisted: [],
    openBindings: inUse - 1,
  });

  test('bindflow_bindings{state} and bindflow_number_pool_numbers{area,status}: one visibility round per max age', async () => {
    const metrics = createApiMetrics({ visibilityMaxAgeMs: 60_000 });
    let rounds = 0;
    metrics.observeVisibility({
      bindingCounts: async () => {
        rounds++;
        return { binding: 1, bound: 7, released: 30, expired: 2, failed: 0 };
      },
      poolCapacity: async () => capacity(8, 12),
    });
    const text = await metrics.registry.metrics();
    expect(sample(text, 'bindflow_bindings{state="bound"}')).toBe(7);
    expect(sample(text, 'bindflow_bindings{state="failed"}')).toBe(0);
    expect(sample(text, 'bindflow_number_pool_numbers{area="0755",status="in_use"}')).toBe(8);
    expect(sample(text, 'bindflow_number_pool_numbers{area="0755",status="free"}')).toBe(12);
    await metrics.registry.metrics();
    expect(rounds).toBe(1); // both gauges, two scrapes, one round
  });

  test('a failing visibility keeps the last values and logs a warning', async () => {
    const metrics = createApiMetrics({ visibilityMaxAgeMs: 0 });
    let fail = false;
    const lines: string[] = [];
    metrics.observeVisibility(
      {
        bindingCounts: async () => {
          if (fail) throw new Error('visibility unavailable');
          return { bound: 3 };
        },
      },
      { log: createLogger('api', {}, (l) => lines.push(l)) },
    );
    expect(sample(await metrics.registry.metrics(), 'bindflow_bindings{state="bound"}')).toBe(3);
    fail = true;
    expect(sample(await metrics.registry.metrics(), 'bindflow_bindings{state="bound"}')).toBe(3);
    expect(lines.join('\n')).toContain('visibility metrics not refreshed');
    // No pool configured: no pool series at all.
    expect(await metrics.registry.metrics()).not.toMatch(/^bindflow_number_pool_numbers\{/m);
  });

  test('a visibility that never answers does not hang the scrape: the last values are served', async () => {
    const metrics = createApiMetrics({ visibilityMaxAgeMs: 0 });
    let hang = false;
    metrics.observeVisibility({
      bindingCounts: () => (hang ? new Promise<never>(() => undefined) : Promise.resolve({ bound: 2 })),
    });
    expect(sample(await metrics.registry.metrics(), 'bindflow_bindings{state="bound"}')).toBe(2);
    hang = true;
    expect(sample(await metrics.registry.metrics(), 'bindflow_bindings{state="bound"}')).toBe(2); // after ~5 s
  }, 30_000);

  test('labels of a push: its event type, and an outcome for every answer', () => {
    expect(pushEventLabel({ eventType: ' CallIn ' })).toBe('callin');
    expect(pushEventLabel({ eventType: 'fee' })).toBe('fee');
    expect(pushEventLabel({ eventType: 'surprise' })).toBe('unknown');
    expect(pushEventLabel('not json')).toBe('unknown');
    expect([200, 401, 400, 413, 415, 503, 500].map(pushOutcomeLabel)).toEqual([
      'accepted',
      'unauthorized',
      'malformed',
      'malformed',
      'malformed',
      'unavailable',
      'error',
    ]);
  });

  test('bindflow_webhook_pushes_total{event,outcome} counts each answer of the webhook route, 5xx included', async () => {
    const metrics = createApiMetrics();
    const app = Fastify({ logger: false });
    countWebhookPushes(app, metrics, '/webhooks/privatenumber');
    app.post('/webhooks/privatenumber', { bodyLimit: 100 }, async (req, reply) =>
      reply.code(Number(req.headers['x-answer'] ?? 200)).send({}),
    );
    app.post('/elsewhere', async () => ({}));
    const push = (answer: number, body: unknown) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/privatenumber',
        headers: { 'content-type': 'application/json', 'x-answer': String(answer) },
        payload: JSON.stringify(body),
      });
    await push(200, { eventType: 'disconnect' });
    await push(200, { eventType: 'disconnect' });
    await push(401, { eventType: 'callin' });
    await push(503, { eventType: 'fee' });
    await push(500, { eventType: 'answer' });
    await push(200, { eventType: 'x'.repeat(200) }); // over the body limit: 413 from Fastify
    await app.inject({ method: 'POST', url: '/elsewhere', payload: {} });
    const text = await metrics.registry.metrics();
    const n = (event: string, outcome: string) =>
      sample(text, `bindflow_webhook_pushes_total{event="${event}",outcome="${outcome}"}`);
    expect(n('disconnect', 'accepted')).toBe(2);
    expect(n('callin', 'unauthorized')).toBe(1);
    expect(n('fee', 'unavailable')).toBe(1);
    expect(n('answer', 'error')).toBe(1);
    expect(n('unknown', 'malformed')).toBe(1);
    expect(n('callin', 'unavailable')).toBe(0); // exported at 0 from the start, for the 5xx alert
    await app.close();
  });
});

describe('tracing configuration and masking', () => {
  test('off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; OTEL_SDK_DISABLED wins', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBe(
      false,
    );
  });

  test('the OTEL_* variables are checked at start, naming the variable', () => {
    expect(otelProblems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual([]);
    expect(otelProblems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })[0]).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT:/);
    expect(otelProblems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })[0]).toMatch(
      /^OTEL_EXPORTER_OTLP_PROTOCOL: only http\/protobuf/,
    );
  });

  test('a span leaves with every phone number masked, identifiers kept, object attributes dropped', () => {
    const span = {
      name: 'lookup +8613800000002',
      attributes: {
        note: 'caller +8613800000002 called +8675528000001',
        temporalWorkflowId: 'binding-12345678901',
        numbers: ['+8613800000001', 'x'],
        count: 3,
        searchAttributes: { PrivacyNumberX: ['+8675528000001'] } as unknown as string,
      },
      events: [{ name: 'exception', time: [0, 0], attributes: { 'exception.message': 'bNum 13800000002 refused' } }],
      links: [],
      status: { code: otel.SpanStatusCode.ERROR, message: 'failed for +8613800000002' },
      spanContext: () => ({ traceId: 't', spanId: 's', traceFlags: 1 }),
    } as unknown as ReadableSpan;
    const m = maskSpan(span);
    const text = JSON.stringify({ n: m.name, a: m.attributes, e: m.events, s: m.status });
    expect(text).not.toMatch(/13800000002|13800000001/);
    expect(m.attributes.note).toBe('caller +86138****0002 called +86755****0001');
    expect(m.attributes.temporalWorkflowId).toBe('binding-12345678901');
    expect(m.attributes.count).toBe(3);
    expect(m.attributes.searchAttributes).toBeUndefined();
    expect(m.spanContext().spanId).toBe('s'); // the rest of the span is the span's own
    expect(maskAttributes(undefined)).toEqual({});
  });
});
