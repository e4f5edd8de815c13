import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CALL_EVENT_TYPES } from '../provider/schemas';
import type { Logger } from '../lib/log';
import { TERMINAL_STATES, type BindingStateName } from '../workflows/types';
import type { PoolCapacity } from './apiSchemas';

export interface ApiMetrics {
  registry: Registry;
  http: Histogram<'method' | 'route' | 'status'>;
  /** bindflow_webhook_pushes_total{event, outcome}: counted as each push is answered (countWebhookPushes). */
  webhookPushes: Counter<'event' | 'outcome'>;
  /** bindflow_unrouted_pushes_total: provider events no open order owned, kept in the unrouted store. */
  unroutedPushes: Counter;
  /** Where bindflow_bindings and bindflow_number_pool_numbers come from (set once Temporal is connected). */
  observeVisibility(source: VisibilitySource, opts?: { log?: Logger }): void;
}

/** What the visibility gauges read, each time they are older than `maxAgeMs`. */
export interface VisibilitySource {
  /** Bindings per state (Temporal's visibility counts). */
  bindingCounts(): Promise<Record<string, number>>;
  /** The number pool's capacity per area; absent or an empty pool: no pool series. */
  poolCapacity?(): Promise<PoolCapacity>;
}

export interface ApiMetricsOptions {
  /** Scrapes within this long of the last visibility refresh answer its values. Default 15 s. */
  visibilityMaxAgeMs?: number;
}

const PUSH_EVENTS = new Set<string>([...CALL_EVENT_TYPES, 'fee']);
/** The longest a scrape waits on Temporal's visibility. */
const VISIBILITY_WAIT_MS = 5_000;

/** The API process's own Prometheus metrics (served at /metrics). */
export function createApiMetrics(options: ApiMetricsOptions = {}): ApiMetrics {
  const maxAgeMs = options.visibilityMaxAgeMs ?? 15_000;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bindflow_api_' });
  let visibility: { source: VisibilitySource; opts: { log?: Logger } } | undefined;
  let last: { at: number; refresh: Promise<void>; settled: boolean } | undefined;

  const bindings = new Gauge({
    name: 'bindflow_bindings',
    help: 'Bindings by state, from Temporal visibility: binding/bound = open runs; released/expired/failed = ended orders still in the namespace retention',
    labelNames: ['state'],
    registers: [registry],
    collect: () => refresh(),
  });
  const pool = new Gauge({
    name: 'bindflow_number_pool_numbers',
    help: 'Privacy numbers of PRIVATENUMBER_NUMBER_POOL by area and status: in_use (held by an open binding as X or Y) or free',
    labelNames: ['area', 'status'],
    registers: [registry],
    collect: () => refresh(),
  });

  /** One visibility round per maxAgeMs, shared by both gauges; a failure keeps the last values. */
  function refresh(): Promise<void> {
    if (!visibility) return Promise.resolve();
    const { source, opts } = visibility;
    const now = Date.now();
    // A round under way serves every gauge of the scrape.
    if (last && (!last.settled || now - last.at < maxAgeMs)) return last.refresh;
    const round = (async () => {
      try {
        const [counts, capacity] = await Promise.all([source.bindingCounts(), source.poolCapacity?.()]);
        bindings.reset();
        for (const [state, n] of Object.entries(counts)) bindings.set({ state }, n);
        pool.reset();
        for (const a of capacity?.areas ?? []) {
          pool.set({ area: a.area, status: 'in_use' }, a.boundAsX + a.boundAsY);
          pool.set({ area: a.area, status: 'free' }, a.free);
        }
      } catch (err) {
        opts.log?.warn('visibility metrics not refreshed (the last values are served)', {
          error: (err as Error).message,
        });
      }
    })();
    // A scrape waits at most VISIBILITY_WAIT_MS (an unreachable Temporal must not hang /metrics): past it, the
    // last values are served while the round finishes on its own.
    const bounded = Promise.race([
      round,
      new Promise<void>((resolve) => setTimeout(resolve, VISIBILITY_WAIT_MS).unref()),
    ]);
    const entry = { at: now, refresh: bounded, settled: false };
    void round.finally(() => (entry.settled = true));
    last = entry;
    return bounded;
  }

  const webhookPushes = new Counter({
    name: 'bindflow_webhook_pushes_total',
    help: 'Provider pushes by event type and outcome (accepted, unauthorized, malformed, unavailable, error)',
    labelNames: ['event', 'outcome'],
    registers: [registry],
  });
  // Alerted-on series exist from the start at 0, so the first 5xx is an increase to Prometheus.
  for (const event of [...PUSH_EVENTS, 'unknown'])
    for (const outcome of ['unavailable', 'error']) webhookPushes.inc({ event, outcome }, 0);

  return {
    registry,
    http: new Histogram({
      name: 'bindflow_http_request_duration_seconds',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    webhookPushes,
    unroutedPushes: new Counter({
      name: 'bindflow_unrouted_pushes_total',
      help: 'Provider events that no open order owned, kept in the unrouted store for operators',
      registers: [registry],
    }),
    observeVisibility(source, opts = {}) {
      visibility = { source, opts };
      last = undefined;
    },
  };
}

/** The push's eventType as a label (read leniently, as the webhook does): a known one, else `unknown`. */
export function pushEventLabel(body: unknown): string {
  const raw = body && typeof body === 'object' ? (body as { eventType?: unknown }).eventType : undefined;
  const event = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  return PUSH_EVENTS.has(event) ? event : 'unknown';
}

/** A push's outcome from its answer: every answer counts, including those Fastify gives (413, 415) and any 5xx. */
export function pushOutcomeLabel(status: number): string {
  if (status >= 200 && status < 300) return 'accepted';
  if (status === 401) return 'unauthorized';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'malformed';
  return 'error';
}

const acknowledgedOnly = new WeakSet<object>();

/** This push was answered 200 without being handed to an order (see SIGNALLED_CALL_EVENTS): outcome `acknowledged`. */
export function markAcknowledged(req: object): void {
  acknowledgedOnly.add(req);
}

/** Counts every answer of `path` in bindflow_webhook_pushes_total{event, outcome}. */
export function countWebhookPushes(app: FastifyInstance, metrics: ApiMetrics, path: string): void {
  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.url !== path) return;
    const outcome = acknowledgedOnly.has(req) ? 'acknowledged' : pushOutcomeLabel(reply.statusCode);
    metrics.webhookPushes.inc({ event: pushEventLabel(req.body), outcome });
  });
}

const OPEN_STATES: readonly BindingStateName[] = ['binding', 'bound'];

/**
 * Bindings per state from Temporal's visibility counts: `binding` and `bound` among open runs (a run that
 * continued as new, or was terminated, keeps its last state and is not one); the ended states among every
 * run that did not continue as new (ended runs until the namespace's retention drops them).
 */
export async function bindingCounts(client: Client): Promise<Record<BindingStateName, number>> {
  const count = async (state: BindingStateName) => {
    const status = OPEN_STATES.includes(state) ? "ExecutionStatus = 'Running'" : "ExecutionStatus != 'ContinuedAsNew'";
    const r = await client.workflow.count(`WorkflowType = 'orderBinding' AND ${status} AND BindingState = '${state}'`);
    return [state, r.count] as const;
  };
  return Object.fromEntries(await Promise.all([...OPEN_STATES, ...TERMINAL_STATES].map(count))) as Record<
    BindingStateName,
    number
  >;
}
