import type { FastifyInstance } from 'fastify';
import { ConfigError, type Env } from '../lib/config';
import { createLogger } from '../lib/log';
import { tracingFromEnv } from '../lib/tracing';
import { assertPortsFree } from '../lib/ports';
import { buildApi } from './api';
import { connectTemporal } from './temporal';
import { codecFromEnv } from '../lib/codec';
import { bearerAuthorizer, registerCodecServer } from './codecServer';
import { buildWebhookServer } from './webhookServer';
import { createApiMetrics } from './metrics';
import { parseAllowHosts } from '../lib/callbackTargets';
import { everyListenerOnLoopback, listenerHosts } from '../lib/startupChecks';
import { parseNumberPool } from './pool';

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  /** The webhook's own listener (BINDFLOW_WEBHOOK_PORT set), else undefined: the webhook is on `url`. */
  webhookUrl?: string;
  stop(): Promise<void>;
}

/** Starts the HTTP API, provider webhook and codec server (`npx bindflow api`). */
export async function startApi(
  env: Env,
  opts: { trustUiOrigin?: boolean; numberPool?: readonly string[] } = {},
): Promise<RunningApi> {
  if (!env.BINDFLOW_API_TOKEN)
    throw new ConfigError(['BINDFLOW_API_TOKEN: required by the API (the bearer token for /v1)']);
  if (env.BINDFLOW_PORT !== 0) await assertPortsFree({ 'API (BINDFLOW_PORT)': env.BINDFLOW_PORT });
  if (env.BINDFLOW_WEBHOOK_PORT)
    await assertPortsFree({ 'webhook (BINDFLOW_WEBHOOK_PORT)': env.BINDFLOW_WEBHOOK_PORT });
  const hosts = listenerHosts(env);
  const separateWebhook = hosts.webhook !== undefined;
  // The token-free codec for the local Web UI only while no listener is reachable from another machine
  // (and, per request, only for a loopback Host: see codecServer.ts).
  const trustUiOrigin = Boolean(opts.trustUiOrigin) && everyListenerOnLoopback(env);
  const metrics = createApiMetrics();
  const log = createLogger('api');
  const codec = codecFromEnv(env);
  // Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard OTEL_* variables configure the exporter).
  const tracing = tracingFromEnv('bindflow-api');
  const { client, connection } = await connectTemporal(
    env,
    codec ? { payloadCodecs: [codec] } : undefined,
    tracing?.clientInterceptors,
  );
  const app = buildApi({
    client,
    connection,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    apiToken: env.BINDFLOW_API_TOKEN,
    appKey: env.PRIVATENUMBER_APP_KEY,
    appSecret: env.PRIVATENUMBER_APP_SECRET,
    lateEventsGraceSeconds: env.BINDFLOW_LATE_EVENTS_GRACE,
    callEvents: env.BINDFLOW_CALL_EVENTS,
    bindWait: env.BINDFLOW_BIND_WAIT,
    webhook: !separateWebhook,
    metrics,
    metricsPublic: env.BINDFLOW_METRICS_PUBLIC,
    callbacks: {
      targets: { allowHosts: parseAllowHosts(env.BINDFLOW_CALLBACK_ALLOW_HOSTS) },
      refuseUnsigned: !env.BINDFLOW_CALLBACK_SECRET && !env.BINDFLOW_CALLBACK_UNSIGNED,
    },
    numberPool: opts.numberPool ?? parseNumberPool(env.PRIVATENUMBER_NUMBER_POOL),
    log,
    extend: (app, { authorize }) => {
      if (!codec) return;
      registerCodecServer(app, {
        codec,
        // Operators' browsers hold BINDFLOW_CODEC_TOKEN when it is set, never the API token.
        authorize: env.BINDFLOW_CODEC_TOKEN ? bearerAuthorizer(env.BINDFLOW_CODEC_TOKEN) : authorize,
        corsOrigins: env.BINDFLOW_CODEC_CORS_ORIGINS.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        trustUiOrigin,
      });
    },
  });
  const address = await app.listen({ host: env.BINDFLOW_HOST, port: env.BINDFLOW_PORT });
  log.info('API listening', { url: address });
  let webhookUrl: string | undefined;
  let webhookApp: FastifyInstance | undefined;
  if (separateWebhook) {
    webhookApp = buildWebhookServer({
      client,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      appKey: env.PRIVATENUMBER_APP_KEY,
      appSecret: env.PRIVATENUMBER_APP_SECRET,
      log,
      metrics,
      callEvents: env.BINDFLOW_CALL_EVENTS,
    });
    try {
      webhookUrl = await webhookApp.listen({ host: hosts.webhook, port: env.BINDFLOW_WEBHOOK_PORT });
    } catch (err) {
      await app.close();
      await connection.close();
      throw err;
    }
    log.info('webhook listening', { url: webhookUrl });
  }
  return {
    app,
    url: address,
    ...(webhookUrl ? { webhookUrl } : {}),
    stop: async () => {
      await webhookApp?.close();
      await app.close();
      await connection.close();
      await tracing?.shutdown();
    },
  };
}
