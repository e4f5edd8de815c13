import fs from 'node:fs';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { freePort } from '../lib/ports';
import { loadEnv, type Env } from '../lib/config';
import { readPem } from '../lib/pem';
import { dataConverterFromEnv } from '../lib/codec';
import { createLogger } from '../lib/log';
import { tracingFromEnv } from '../lib/tracing';
import { getWorkflowBundle } from './bundle';
import { createBindflowWorker } from './createWorker';
import { manageReconcileSchedule, reconcileIntervalSeconds } from './schedule';
import { BindflowMetrics, startMetricsServer } from './metrics';
import { sdkLogger } from './sdkLogger';
import { parseAllowHosts } from '../lib/callbackTargets';

// `npx bindflow worker`: one process, one worker on $TEMPORAL_TASK_QUEUE, metrics, masked JSON logs,
// and a graceful stop on SIGTERM/SIGINT (in-flight activities get the grace time to finish).

export function numberPoolFromEnv(env: Pick<Env, 'PRIVATENUMBER_NUMBER_POOL'>): string[] {
  return (env.PRIVATENUMBER_NUMBER_POOL ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function runWorker(env: Env = loadEnv()): Promise<void> {
  const log = createLogger('worker');
  // The SDK exports its metrics on an internal loopback port; /metrics on BINDFLOW_METRICS_PORT serves both.
  const sdkPort = await freePort();
  Runtime.install({
    logger: sdkLogger(createLogger('temporal-sdk')),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}` } } },
  });
  // Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard OTEL_* variables configure the exporter).
  const tracing = tracingFromEnv('bindflow-worker');
  const metrics = new BindflowMetrics({ defaultMetrics: true });
  const metricsServer = await startMetricsServer(
    metrics,
    env.BINDFLOW_METRICS_PORT,
    `http://127.0.0.1:${sdkPort}/metrics`,
    env.BINDFLOW_METRICS_HOST,
  );

  const tls =
    env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY
      ? { clientCertPair: { crt: readPem(env.TEMPORAL_TLS_CERT), key: readPem(env.TEMPORAL_TLS_KEY) } }
      : env.TEMPORAL_API_KEY
        ? true
        : undefined;
  const connection = await NativeConnection.connect({
    address: env.TEMPORAL_ADDRESS,
    ...(tls ? { tls } : {}),
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
  });
  await getWorkflowBundle();
  const numberPool = numberPoolFromEnv(env);
  const dataConverter = dataConverterFromEnv(env);
  const worker = await createBindflowWorker({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    provider: {
      baseUrl: env.PRIVATENUMBER_BASE_URL,
      appKey: env.PRIVATENUMBER_APP_KEY,
      appSecret: env.PRIVATENUMBER_APP_SECRET,
      ...(env.PRIVATENUMBER_CA_FILE ? { ca: fs.readFileSync(env.PRIVATENUMBER_CA_FILE) } : {}),
    },
    ...(env.BINDFLOW_CALLBACK_SECRET ? { callbackSecret: env.BINDFLOW_CALLBACK_SECRET } : {}),
    callbackDelivery: {
      targets: { allowHosts: parseAllowHosts(env.BINDFLOW_CALLBACK_ALLOW_HOSTS) },
      numbers: env.BINDFLOW_CALLBACK_NUMBERS,
      allowUnsigned: env.BINDFLOW_CALLBACK_UNSIGNED,
    },
    numberPool,
    metrics,
    log,
    dataConverter,
    ...(tracing ? { tracing } : {}),
  });

  const stop = (signal: string) => {
    log.info('shutting down', { signal });
    worker.shutdown();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  log.info('worker started', {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    metrics: `http://127.0.0.1:${env.BINDFLOW_METRICS_PORT}/metrics`,
    numberPool: numberPool.length,
  });
  // Every worker keeps the reconciliation Schedule as configured, alongside polling; never fatal.
  const scheduling = manageReconcileSchedule(
    new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter }),
    {
      intervalSeconds: reconcileIntervalSeconds(env.BINDFLOW_RECONCILE_INTERVAL),
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      numberPool,
      scheduleId: env.BINDFLOW_RECONCILE_SCHEDULE_ID,
      log,
    },
  );
  try {
    await worker.run();
  } finally {
    await scheduling;
    await connection.close();
    await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    await tracing?.shutdown();
    log.info('worker stopped');
  }
}
