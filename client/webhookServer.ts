import Fastify, { type FastifyInstance } from 'fastify';
import { registerHttpBasics } from './api';
import { registerWebhook, type WebhookOptions } from './webhook';
import { traceHttpRequests } from './httpTracing';

// The provider webhook on a listener of its own (BINDFLOW_WEBHOOK_PORT): the one address the platform must
// reach serves POST /webhooks/privatenumber and nothing else: no /v1, no codec server, no /openapi.json,
// no metrics. Exposing it to the platform then exposes neither the order API nor the decryptor.

export function buildWebhookServer(opts: WebhookOptions): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.removeContentTypeParser('text/plain'); // JSON only: anything else is 415
  traceHttpRequests(app);
  registerHttpBasics(app, opts.metrics, opts.log);
  registerWebhook(app, opts);
  return app;
}
