import * as otel from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer } from '../lib/tracing';

// One server span per HTTP request (the root of an order's trace, or a child of the caller's W3C
// `traceparent`), active while the route's handler runs, so the Temporal client's spans (start, update,
// signal) become its children. Named by route template: an order id or a number in the URL never is.
// With tracing off the global tracer is a no-op and this costs next to nothing.

const spans = new WeakMap<FastifyRequest, otel.Span>();

export function traceHttpRequests(app: FastifyInstance): void {
  app.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const parent = otel.propagation.extract(otel.ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      `${req.method} ${route}`,
      {
        kind: otel.SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'http.route': route, 'url.scheme': req.protocol },
      },
      parent,
    );
    spans.set(req, span);
    otel.context.with(otel.trace.setSpan(parent, span), done);
  });
  // Defensive: the span is made active again right before the handler, whatever the body parsing between
  // onRequest and here did with the async context.
  app.addHook('preHandler', (req, _reply, done) => {
    const span = spans.get(req);
    if (!span) return done();
    otel.context.with(otel.trace.setSpan(otel.context.active(), span), done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
      span.end();
      spans.delete(req);
    }
    done();
  });
}
