import http from 'node:http';
import type { InjectedSinks } from '@temporalio/worker';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { request } from 'undici';
import type { ActivityMetrics, NotificationOutcome, ProviderPort } from '../activities';
import { isProviderError } from '../provider';
import { NOTIFICATION_TYPES, type BindflowSinks } from '../workflows/sinks';

// One scrape endpoint for everything: bindflow's own metrics (prom-client) followed by the Temporal
// SDK runtime's metrics, which the SDK serves on an internal loopback port that we proxy.

/** How a provider call ended, for `bindflow_provider_request_duration_seconds{outcome}`. */
export type ProviderOutcome = 'ok' | 'transient' | 'permanent' | 'unknown';

/**
 * ok: success, or the platform's definite "does not exist" (1016001: a free number queried, a binding
 * already gone unbound); unknown: a bind that may have taken effect (lost answer); transient: worth a
 * retry (platform fault, flow control, network); permanent: a refusal that repeating cannot change.
 */
export function providerOutcome(err?: unknown): ProviderOutcome {
  if (err === undefined) return 'ok';
  if (!isProviderError(err)) return 'unknown';
  if (err.notFound) return 'ok';
  if (err.outcomeUnknown) return 'unknown';
  return err.retryable ? 'transient' : 'permanent';
}

/** A notification type as a label: one of bindflow's, else `other` (labels stay a small, known set). */
export function notificationTypeLabel(type: unknown): string {
  return (NOTIFICATION_TYPES as readonly unknown[]).includes(type) ? (type as string) : 'other';
}

export class BindflowMetrics implements ActivityMetrics {
  readonly registry = new Registry();
  private readonly adoptedTotal = new Counter({
    name: 'bindflow_adopted_bindings_total',
    help: 'Bindings whose bind response was lost and that a retry found and adopted',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly notificationsTotal = new Counter({
    name: 'bindflow_notifications_total',
    help: 'Notifications to order callback URLs by type and outcome: delivered, failed (an attempt, retried), rejected (a 4xx, not retried), given_up (the outbox dropped it)',
    labelNames: ['type', 'outcome'],
    registers: [this.registry],
  });

  private readonly providerCallsTotal = new Counter({
    name: 'bindflow_provider_calls_total',
    help: 'Calls to the privacy-number provider, by API and result (ok, or the result/local error code)',
    labelNames: ['api', 'result'],
    registers: [this.registry],
  });

  private readonly providerDuration = new Histogram({
    name: 'bindflow_provider_request_duration_seconds',
    help: 'Duration of calls to the privacy-number provider, by API and outcome (ok, transient, permanent, unknown)',
    labelNames: ['api', 'outcome'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly orphansUnboundTotal = new Counter({
    name: 'bindflow_reconcile_orphans_unbound_total',
    help: 'Provider bindings that no open order owned, unbound by reconciliation',
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'bindflow_process_' });
    // Alerted-on series exist from the start at 0, so the first one counted is an increase to Prometheus.
    for (const type of [...NOTIFICATION_TYPES, 'other']) this.notificationsTotal.inc({ type, outcome: 'given_up' }, 0);
  }

  adopted(kind: 'ax' | 'yb'): void {
    this.adoptedTotal.inc({ kind });
  }

  notification(type: unknown, outcome: NotificationOutcome): void {
    this.notificationsTotal.inc({ type: notificationTypeLabel(type), outcome });
  }

  orphanUnbound(): void {
    this.orphansUnboundTotal.inc();
  }

  /** The worker's sinks: what workflow code reports without touching its history. */
  sinks(): InjectedSinks<BindflowSinks> {
    return {
      bindflowMetrics: {
        notificationGivenUp: { fn: (_info, type) => this.notification(type, 'given_up') },
      },
    };
  }

  /** The provider client, timing and counting every call by API and outcome. */
  meter(provider: ProviderPort): ProviderPort {
    const count = <A extends unknown[], R>(api: string, fn: (...args: A) => Promise<R>) => {
      return async (...args: A): Promise<R> => {
        const end = this.providerDuration.startTimer({ api });
        try {
          const r = await fn(...args);
          end({ outcome: 'ok' });
          this.providerCallsTotal.inc({ api, result: 'ok' });
          return r;
        } catch (err) {
          end({ outcome: providerOutcome(err) });
          this.providerCallsTotal.inc({ api, result: isProviderError(err) ? err.code : 'error' });
          throw err;
        }
      };
    };
    return {
      bindAx: count('bindAx', (req) => provider.bindAx(req)),
      bindYb: count('bindYb', (req) => provider.bindYb(req)),
      unbind: count('unbind', (p) => provider.unbind(p)),
      query: count('query', (p) => provider.query(p)),
      recordingUrl: count('recordingUrl', (p) => provider.recordingUrl(p)),
    };
  }
}

/** Serves GET /metrics on 127.0.0.1:port (0 = any free port); resolves with the server. */
export async function startMetricsServer(
  metrics: BindflowMetrics,
  port: number,
  sdkMetricsUrl?: string,
  host = '127.0.0.1',
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      let text = await metrics.registry.metrics();
      if (sdkMetricsUrl) {
        try {
          const r = await request(sdkMetricsUrl, { headersTimeout: 2000, bodyTimeout: 2000 });
          text += '\n' + (await r.body.text());
        } catch {
          text += '\n# Temporal SDK metrics unavailable\n';
        }
      }
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
