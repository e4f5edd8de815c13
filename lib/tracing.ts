import * as otel from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor, type Span } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import { maskText } from '../provider/mask';

// OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: API request → Temporal start or
// update → workflow → activity → provider HTTP call, and webhook push → signal, exported with the standard
// OTLP exporter (http/protobuf; the standard OTEL_* variables apply). Every exported span passes through
// a masking processor, so no phone number reaches an attribute, an event or a status message.

/** The workflow interceptors of @temporalio/interceptors-opentelemetry, bundled into the workflow code. */
export const WORKFLOW_TRACING_MODULE =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Name of bindflow's own tracer (HTTP requests, provider calls). */
export const TRACER_NAME = 'bindflow';

/** What a worker needs to trace: interceptors, the sink exporting workflow spans, the bundled module. */
export interface WorkerTracing {
  activityInterceptors: ActivityInterceptorsFactory[];
  workflowModules: string[];
  sinks: InjectedSinks<OpenTelemetrySinks>;
}

export interface Tracing {
  /** Interceptors for every Temporal Client of the process (start, update, signal, query spans). */
  clientInterceptors: WorkflowClientInterceptor[];
  worker: WorkerTracing;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** OTLP is on when OTEL_EXPORTER_OTLP_ENDPOINT is set (and OTEL_SDK_DISABLED is not `true`). */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true';
}

/** Attribute keys whose values are identifiers, exported as they are (a digit run in them is no phone). */
const ID_KEYS = new Set([
  'temporalWorkflowId',
  'run_id',
  'temporalActivityId',
  'temporalUpdateId',
  'runId',
  'workflowId',
]);

type AttributeValue = otel.AttributeValue;

function maskValue(v: unknown): AttributeValue | undefined {
  if (typeof v === 'string') return maskText(v);
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return v.map((x: string) => maskText(x));
    if (v.every((x) => typeof x === 'number')) return v as number[];
    if (v.every((x) => typeof x === 'boolean')) return v as boolean[];
  }
  // Objects (the SDK copies WorkflowInfo into workflow spans: search attributes, memo …) are not valid
  // OpenTelemetry attribute values: dropped.
  return undefined;
}

/** Attributes with every phone-like digit run masked; non-primitive values dropped. */
export function maskAttributes(attrs: otel.Attributes | undefined): otel.Attributes {
  const out: otel.Attributes = {};
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (ID_KEYS.has(k) && (typeof v === 'string' || typeof v === 'number')) {
      out[k] = v;
      continue;
    }
    const m = maskValue(v);
    if (m !== undefined) out[k] = m;
  }
  return out;
}

/** The span as the exporter will see it: name, attributes, events and status message masked. */
export function maskSpan(span: ReadableSpan): ReadableSpan {
  const masked = Object.create(span) as ReadableSpan;
  const status = span.status.message ? { ...span.status, message: maskText(span.status.message) } : span.status;
  Object.defineProperties(masked, {
    name: { value: maskText(span.name) },
    attributes: { value: maskAttributes(span.attributes) },
    events: {
      value: span.events.map((e) => ({
        ...e,
        name: maskText(e.name),
        ...(e.attributes ? { attributes: maskAttributes(e.attributes) } : {}),
      })),
    },
    links: { value: span.links.map((l) => ({ ...l, attributes: maskAttributes(l.attributes) })) },
    status: { value: status },
  });
  return masked;
}

/** Masks every span before the next processor (and so the exporter) sees it. */
export class MaskingSpanProcessor implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(span: Span, parentContext: otel.Context): void {
    this.next.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    this.next.onEnd(maskSpan(span));
  }
  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

let active: { tracing: Tracing; provider: NodeTracerProvider } | undefined;

/**
 * Registers a global tracer provider (async-hooks context, W3C trace context) and answers the Temporal
 * interceptors that use it. `spanProcessor` replaces the OTLP exporter (tests: an in-memory one).
 * Once per process: a second call answers the first one's tracing.
 */
export function startTracing(opts: { serviceName: string; spanProcessor?: SpanProcessor }): Tracing {
  if (active) return active.tracing;
  // OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over the process's default name.
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': opts.serviceName }))
    .merge(envDetectorSync.detect());
  const processor = new MaskingSpanProcessor(opts.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter()));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  const tracing: Tracing = {
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    worker: {
      activityInterceptors: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      workflowModules: [WORKFLOW_TRACING_MODULE],
      sinks: { exporter: makeWorkflowExporter(processor, resource) },
    },
    async shutdown() {
      if (active?.tracing !== tracing) return;
      active = undefined;
      await provider.shutdown();
      otel.trace.disable();
      otel.context.disable();
      otel.propagation.disable();
    },
  };
  active = { tracing, provider };
  return tracing;
}

/** Tracing as the environment asks: started when OTEL_EXPORTER_OTLP_ENDPOINT is set, else undefined (off). */
export function tracingFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  return tracingEnabled(env) ? startTracing({ serviceName }) : undefined;
}

/** bindflow's own tracer: a no-op until a tracer provider is registered. */
export function tracer(): otel.Tracer {
  return otel.trace.getTracer(TRACER_NAME);
}
