import http from 'node:http';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { request } from 'undici';
import type { ActivityMetrics, ProviderPort } from '../activities';
import { isProviderError } from '../provider';

// One scrape endpoint for everything: bindflow's own counters (prom-client) followed by the Temporal
// SDK runtime's metrics, which the SDK serves on an internal loopback port that we proxy.

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
    help: 'Deliveries of notifications to order callback URLs, by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  private readonly providerCallsTotal = new Counter({
    name: 'bindflow_provider_calls_total',
    help: 'Calls to the privacy-number provider, by API and result (ok, or the result/local error code)',
    labelNames: ['api', 'result'],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'bindflow_process_' });
  }

  adopted(kind: 'ax' | 'yb'): void {
    this.adoptedTotal.inc({ kind });
  }

  notification(outcome: 'delivered' | 'rejected' | 'failed'): void {
    this.notificationsTotal.inc({ outcome });
  }

  /** The provider client, counting every call by API and result. */
  meter(provider: ProviderPort): ProviderPort {
    const count = <A extends unknown[], R>(api: string, fn: (...args: A) => Promise<R>) => {
      return async (...args: A): Promise<R> => {
        try {
          const r = await fn(...args);
          this.providerCallsTotal.inc({ api, result: 'ok' });
          return r;
        } catch (err) {
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
