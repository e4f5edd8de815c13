import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  http: Histogram<'method' | 'route' | 'status'>;
  webhook: Counter<'outcome'>;
}

/** The API process's own Prometheus metrics (served at /metrics). */
export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bindflow_api_' });
  return {
    registry,
    http: new Histogram({
      name: 'bindflow_http_request_duration_seconds',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    webhook: new Counter({
      name: 'bindflow_webhook_pushes_total',
      help: 'Provider pushes by outcome (accepted, unauthorized, malformed, unavailable)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
