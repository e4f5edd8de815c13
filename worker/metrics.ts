import http from 'node:http';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { request } from 'undici';
import type { ActivityMetrics } from '../activities';

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

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'bindflow_process_' });
  }

  adopted(kind: 'ax' | 'yb'): void {
    this.adoptedTotal.inc({ kind });
  }

  notification(outcome: 'delivered' | 'rejected' | 'failed'): void {
    this.notificationsTotal.inc({ outcome });
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
