import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { BindflowError } from './errors';
import { toHttpError } from './api';
import { registerWebhook, type WebhookOptions } from './webhook';
import { traceHttpRequests } from './httpTracing';

// The provider webhook on a listener of its own (BINDFLOW_WEBHOOK_PORT): the one address the platform must
// reach serves POST /webhooks/privatenumber and nothing else: no /v1, no codec server, no /openapi.json,
// no metrics. Exposing it to the platform then exposes neither the order API nor the decryptor.

export function buildWebhookServer(opts: WebhookOptions): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.removeContentTypeParser('text/plain'); // JSON only: anything else is 415
  traceHttpRequests(app);
  app.addHook('onResponse', async (req, reply) => {
    opts.metrics.http.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((err: FastifyError | BindflowError, req, reply) => {
    const e = toHttpError(err);
    if (e.status >= 500)
      opts.log.error('request failed', {
        method: req.method,
        url: req.routeOptions.url,
        code: e.code,
        error: e.message,
      });
    if (e.status === 503) void reply.header('retry-after', '5');
    void reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send(new BindflowError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON());
  });
  registerWebhook(app, opts);
  return app;
}
