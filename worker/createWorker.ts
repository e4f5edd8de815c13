import { Client } from '@temporalio/client';
import type { DataConverter, Duration } from '@temporalio/common';
import { NativeConnection, Worker, type InjectedSinks } from '@temporalio/worker';
import { createActivities, type ProviderPort } from '../activities';
import type { CallbackDelivery } from '../activities/notify';
import { createLogger, type Logger } from '../lib/log';
import type { Tracing } from '../lib/tracing';
import { PrivateNumberClient } from '../provider';
import { getWorkflowBundle } from './bundle';
import type { BindflowSinks } from '../workflows/sinks';
import type { BindflowMetrics } from './metrics';

export interface BindflowWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  provider: { baseUrl: string; appKey: string; appSecret: string; ca?: string | Buffer };
  /** HMAC-SHA256 key of notifications to userCallbackUrl. */
  callbackSecret?: string;
  /**
   * Callback rules: allowed non-public targets (default none: loopback, private and link-local refused),
   * party numbers `masked` (default) or `full`, unsigned sending allowed (default true).
   */
  callbackDelivery?: CallbackDelivery;
  /** The app's privacy numbers: needed to find a bind whose response was lost, and by reconciliation. */
  numberPool?: string[];
  metrics?: BindflowMetrics;
  log?: Logger;
  /** Replaces the provider client built from `provider` (tests wrap the real one). */
  providerClient?: ProviderPort;
  /** Payload codec (encryption) shared with every client of the namespace. */
  dataConverter?: DataConverter;
  /** How long in-flight activities get to finish on shutdown. Default 10 s. */
  shutdownGraceTime?: Duration;
  /** OpenTelemetry tracing (lib/tracing): workflow and activity spans, and spans of the worker's client. */
  tracing?: Tracing;
}

/** Registered when the worker keeps no metrics, so the workflow's sink calls find their sink. */
const noMetricsSinks: InjectedSinks<BindflowSinks> = {
  bindflowMetrics: { notificationGivenUp: { fn: () => undefined } },
};

/** A worker running orderBinding and reconcileBindings with every activity, on pre-bundled workflow code. */
export async function createBindflowWorker(opts: BindflowWorkerOptions): Promise<Worker> {
  const log = opts.log ?? createLogger('worker', { taskQueue: opts.taskQueue });
  const raw = opts.providerClient ?? new PrivateNumberClient(opts.provider);
  const provider = opts.metrics ? opts.metrics.meter(raw) : raw;
  const tracing = opts.tracing?.worker;
  const client = new Client({
    connection: opts.connection,
    namespace: opts.namespace,
    dataConverter: opts.dataConverter,
    ...(opts.tracing ? { interceptors: { workflow: opts.tracing.clientInterceptors } } : {}),
  });
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await getWorkflowBundle(tracing?.workflowModules),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    // Sinks are how workflow code reports metrics (outside its history); always registered, counted when metered.
    sinks: { ...(opts.metrics ? opts.metrics.sinks() : noMetricsSinks), ...(tracing?.sinks ?? {}) },
    ...(tracing ? { interceptors: { activity: tracing.activityInterceptors } } : {}),
    activities: createActivities({
      provider,
      client,
      numberPool: opts.numberPool ?? [],
      ...(opts.callbackSecret ? { callbackSecret: opts.callbackSecret } : {}),
      ...(opts.callbackDelivery ? { callbackDelivery: opts.callbackDelivery } : {}),
      log,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    }),
    // Activities are short I/O calls; workflows are many and mostly idle (cached for quick updates).
    maxConcurrentActivityTaskExecutions: 50,
    maxConcurrentWorkflowTaskExecutions: 40,
    maxCachedWorkflows: 1000,
    shutdownGraceTime: opts.shutdownGraceTime ?? '10s',
  });
}
