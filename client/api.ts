import crypto from 'node:crypto';
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Client, Connection } from '@temporalio/client';
import type { Logger } from '../lib/log';
import { BindflowError } from './errors';
import { type BindWait, BindflowClient, type OrderChange } from './library';
import {
  bindBodyToInput,
  parseExtendBody,
  parseLabel,
  parseOrderId,
  parseOrFail,
  PartyNumberBodySchema,
  ReleaseBodySchema,
  ListStateSchema,
  ListLimitSchema,
} from './httpSchemas';
import { registerWebhook } from './webhook';
import { checkCallbackUrl, type CallbackTargetPolicy } from '../lib/callbackTargets';
import { bindingCounts, createApiMetrics, type ApiMetrics } from './metrics';
import { traceHttpRequests } from './httpTracing';
import { registerOpenApi } from './openapi';

// The HTTP edge: translates and validates, holds no state of its own. Fastify for its schema-free
// speed, request size limits, graceful close and `inject` for tests; zod does all validation.

export interface ApiOptions {
  client: Client;
  connection: Connection;
  taskQueue: string;
  apiToken: string;
  appKey: string;
  appSecret: string;
  log: Logger;
  /** Which call events reach the order's workflow (BINDFLOW_CALL_EVENTS). Default `all`. */
  callEvents?: 'all' | 'final';
  /** An ended order's window for late call events and records (BINDFLOW_LATE_EVENTS_GRACE), in seconds. */
  lateEventsGraceSeconds?: number;
  /** How long PUT waits for both numbers before answering 202. */
  bindPatienceMs?: number;
  /** How PUT waits for both numbers (BINDFLOW_BIND_WAIT, see BindflowClientOptions.bindWait). Default `update`. */
  bindWait?: BindWait;
  /** How long an order-changing request waits before answering 202 with the current view. Default 30 s. */
  changeWaitMs?: number;
  /** How long GET waits for the order's workflow to answer before 503 WORKFLOW_UNHEALTHY. Default 10 s. */
  queryWaitMs?: number;
  bodyLimitBytes?: number;
  webhookSkewSeconds?: number;
  /** false: the webhook is on a listener of its own (BINDFLOW_WEBHOOK_PORT), not here. Default true. */
  webhook?: boolean;
  /** Shared with the webhook's own listener, so that one /metrics counts both. */
  metrics?: ApiMetrics;
  /** /metrics and /readyz without the bearer token (BINDFLOW_METRICS_PUBLIC=1). Default false. */
  metricsPublic?: boolean;
  /**
   * Rules for an order's userCallbackUrl: non-public targets allowed (default none), and whether callbacks are
   * refused because no BINDFLOW_CALLBACK_SECRET would sign them (the API's start decides; default false).
   */
  callbacks?: { targets?: CallbackTargetPolicy; refuseUnsigned?: boolean; resolveTimeoutMs?: number };
  /** The app's privacy numbers (PRIVATENUMBER_NUMBER_POOL), for GET /v1/pool. */
  numberPool?: readonly string[];
  /** Extra routes (the codec server) registered on the same server. */
  extend?: (app: FastifyInstance, deps: { authorize: (req: FastifyRequest) => void; metrics: ApiMetrics }) => void;
}

export function buildApi(opts: ApiOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimitBytes ?? 64 * 1024, return503OnClosing: true });
  app.removeContentTypeParser('text/plain'); // JSON only: anything else is 415
  // An empty JSON body (DELETE from clients that always send a content type) means "no body".
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    body === '' ? done(null, undefined) : jsonParser(req, body as string, done),
  );
  const metrics = opts.metrics ?? createApiMetrics();
  const lib = new BindflowClient({
    client: opts.client,
    taskQueue: opts.taskQueue,
    patienceMs: opts.bindPatienceMs,
    changeWaitMs: opts.changeWaitMs,
    queryWaitMs: opts.queryWaitMs,
    bindWait: opts.bindWait,
    ...(opts.lateEventsGraceSeconds !== undefined ? { lateEventsGraceSeconds: opts.lateEventsGraceSeconds } : {}),
  });
  // bindflow_bindings and bindflow_number_pool_numbers, refreshed from visibility as /metrics is scraped.
  metrics.observeVisibility(
    {
      bindingCounts: () => bindingCounts(opts.client),
      ...(opts.numberPool?.length ? { poolCapacity: () => lib.poolCapacity(opts.numberPool ?? []) } : {}),
    },
    { log: opts.log },
  );
  traceHttpRequests(app);
  const expectedToken = Buffer.from(opts.apiToken);

  const callbackTargets: CallbackTargetPolicy = opts.callbacks?.targets ?? { allowHosts: new Set() };
  /** 400 naming userCallbackUrl: a target the worker must not call, or callbacks nothing would sign. */
  const checkCallback = async (url: string) => {
    const refuse = (message: string) => {
      throw new BindflowError('VALIDATION_FAILED', `invalid request: userCallbackUrl ${message}`, {
        fields: [{ field: 'userCallbackUrl', message }],
      });
    };
    if (opts.callbacks?.refuseUnsigned)
      refuse(
        'is refused: no BINDFLOW_CALLBACK_SECRET is configured to sign notifications (or set BINDFLOW_CALLBACK_UNSIGNED=1)',
      );
    // A name that does not resolve now is taken: the worker checks again, on the address it connects to.
    const r = await checkCallbackUrl(url, callbackTargets, { timeoutMs: opts.callbacks?.resolveTimeoutMs ?? 2000 });
    if (r.ok === false) refuse(r.reason);
  };

  const authorize = (req: FastifyRequest) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const given = Buffer.from(m ? m[1] : '');
    if (given.length !== expectedToken.length || !crypto.timingSafeEqual(given, expectedToken)) {
      throw new BindflowError('UNAUTHORIZED', 'missing or wrong bearer token');
    }
  };

  registerHttpBasics(app, metrics, opts.log);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (req, reply) => {
    if (!opts.metricsPublic) authorize(req);
    try {
      await opts.connection.withDeadline(Date.now() + 2000, () => opts.connection.workflowService.getSystemInfo({}));
      return { status: 'ready', temporal: 'reachable' };
    } catch {
      return reply.code(503).send({ status: 'not ready', temporal: 'unreachable' });
    }
  });
  app.get('/metrics', async (req, reply) => {
    if (!opts.metricsPublic) authorize(req);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  registerOpenApi(app); // GET /openapi.json and /docs, no token

  app.register(
    async (v1) => {
      v1.addHook('onRequest', async (req) => authorize(req));

      v1.put('/orders/:orderId/binding', async (req, reply) => {
        const orderId = parseOrderId((req.params as { orderId: string }).orderId);
        const input = bindBodyToInput(orderId, req.body, new Date().toISOString());
        if (input.userCallbackUrl) await checkCallback(input.userCallbackUrl);
        const waitMs = preferWait(req, reply);
        const out = await lib.bind(input, { patienceMs: waitMs });
        const code = out.status === 'created' ? 201 : out.status === 'pending' ? 202 : 200;
        return reply.code(code).send(out.binding);
      });
      v1.get('/orders/:orderId/binding', async (req, reply) => {
        const orderId = parseOrderId((req.params as { orderId: string }).orderId);
        return lib.get(orderId, { waitMs: preferWait(req, reply) });
      });
      // Every change answers within its deadline: 200 with the changed binding, or 202 with the current one.
      const change = async (req: FastifyRequest, reply: FastifyReply, orderId: string, what: OrderChange) => {
        const out = await lib.change(orderId, what, { waitMs: preferWait(req, reply) });
        return reply.code(out.status === 'done' ? 200 : 202).send(out.binding);
      };
      v1.post('/orders/:orderId/binding/extend', async (req, reply) => {
        const orderId = parseOrderId((req.params as { orderId: string }).orderId);
        return change(req, reply, orderId, { kind: 'extend', request: parseExtendBody(req.body) });
      });
      v1.put('/orders/:orderId/binding/parties/:label', async (req, reply) => {
        const p = req.params as { orderId: string; label: string };
        const orderId = parseOrderId(p.orderId);
        const label = parseLabel(p.label);
        const body = parseOrFail(PartyNumberBodySchema, req.body ?? {});
        return change(req, reply, orderId, { kind: 'setParty', label, number: body.number });
      });
      v1.delete('/orders/:orderId/binding/parties/:label', async (req, reply) => {
        const p = req.params as { orderId: string; label: string };
        return change(req, reply, parseOrderId(p.orderId), { kind: 'removeParty', label: parseLabel(p.label) });
      });
      v1.delete('/orders/:orderId/binding', async (req, reply) => {
        const body = parseOrFail(ReleaseBodySchema, req.body);
        const orderId = parseOrderId((req.params as { orderId: string }).orderId);
        return change(req, reply, orderId, { kind: 'release', ...(body?.reason ? { reason: body.reason } : {}) });
      });
      v1.get('/bindings', async (req) => {
        const q = req.query as { state?: string; limit?: string };
        // Present but empty (`?state=`) is a bad value, not an absent one.
        const state = q.state !== undefined ? parseOrFail(StateSchema, q.state, ['state']) : undefined;
        const limit = q.limit !== undefined ? parseOrFail(LimitSchema, q.limit, ['limit']) : undefined;
        return { bindings: await lib.list({ state, limit }) };
      });
      v1.get('/pool', async () => lib.poolCapacity(opts.numberPool ?? []));
    },
    { prefix: '/v1' },
  );

  if (opts.webhook !== false)
    registerWebhook(app, {
      client: opts.client,
      taskQueue: opts.taskQueue,
      appKey: opts.appKey,
      appSecret: opts.appSecret,
      skewSeconds: opts.webhookSkewSeconds,
      log: opts.log,
      metrics,
      callEvents: opts.callEvents,
    });
  opts.extend?.(app, { authorize, metrics });
  return app;
}

/** The most and the least `Prefer: wait=N` may ask, in seconds. */
export const PREFER_WAIT_MAX_SECONDS = 60;
export const PREFER_WAIT_MIN_SECONDS = 1;

/**
 * RFC 7240 `Prefer: wait=N` (seconds, 1 to 60; other values are clamped, unreadable ones ignored as the RFC
 * asks): how long a request waits on the order's workflow before answering 202 (a change, or PUT still
 * binding) or 503 (GET of a workflow that cannot answer). Honoured → `Preference-Applied: wait=N`.
 */
export function preferWaitMs(prefer: string | string[] | undefined): number | undefined {
  const header = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  const m = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,9})"?(?=$|[,;\s])/i.exec(header);
  if (!m) return undefined;
  return Math.min(Math.max(Number(m[1]), PREFER_WAIT_MIN_SECONDS), PREFER_WAIT_MAX_SECONDS) * 1000;
}

function preferWait(req: FastifyRequest, reply: FastifyReply): number | undefined {
  const ms = preferWaitMs(req.headers.prefer);
  if (ms !== undefined) void reply.header('preference-applied', `wait=${ms / 1000}`);
  return ms;
}

const StateSchema = ListStateSchema;
const LimitSchema = ListLimitSchema;

/** Fastify's own errors (bad JSON, too large, wrong content type) in the API's one error shape. */
/**
 * What every listener of bindflow does alike (the API's and the webhook's own): request durations in
 * bindflow_http_request_duration_seconds, the error envelope (503 with Retry-After), and 404 for unknown routes.
 */
export function registerHttpBasics(app: FastifyInstance, metrics: ApiMetrics, log: Logger): void {
  app.addHook('onResponse', async (req, reply) => {
    metrics.http.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((err: FastifyError | BindflowError, req, reply) => {
    const e = toHttpError(err);
    if (e.status >= 500)
      log.error('request failed', { method: req.method, url: req.routeOptions.url, code: e.code, error: e.message });
    if (e.status === 503) void reply.header('retry-after', '5');
    void reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send(new BindflowError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON());
  });
}

export function toHttpError(err: FastifyError | BindflowError): BindflowError {
  if (err instanceof BindflowError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BindflowError('PAYLOAD_TOO_LARGE', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new BindflowError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new BindflowError('VALIDATION_FAILED', 'request body is empty', {
        fields: [{ field: '(body)', message: 'empty JSON body' }],
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    default:
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        return new BindflowError('VALIDATION_FAILED', `invalid request: ${err.message}`, {
          fields: [{ field: '(body)', message: err.message }],
        });
      }
      return new BindflowError('INTERNAL', 'internal error');
  }
}
