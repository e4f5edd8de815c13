import type { FastifyInstance } from 'fastify';
import { ConfigError, type Env } from '../lib/config';
import { createLogger } from '../lib/log';
import { assertPortsFree } from '../lib/ports';
import { buildApi } from './api';
import { connectTemporal } from './temporal';
import { codecFromEnv } from '../lib/codec';
import { registerCodecServer } from './codecServer';

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/** Starts the HTTP API, provider webhook and codec server (`npx bindflow api`). */
export async function startApi(env: Env, opts: { trustUiOrigin?: boolean } = {}): Promise<RunningApi> {
  if (!env.BINDFLOW_API_TOKEN)
    throw new ConfigError(['BINDFLOW_API_TOKEN: required by the API (the bearer token for /v1)']);
  if (env.BINDFLOW_PORT !== 0) await assertPortsFree({ 'API (BINDFLOW_PORT)': env.BINDFLOW_PORT });
  const log = createLogger('api');
  const codec = codecFromEnv(env);
  const { client, connection } = await connectTemporal(env, codec ? { payloadCodecs: [codec] } : undefined);
  const app = buildApi({
    client,
    connection,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    apiToken: env.BINDFLOW_API_TOKEN,
    appKey: env.PRIVATENUMBER_APP_KEY,
    appSecret: env.PRIVATENUMBER_APP_SECRET,
    lateEventsGraceSeconds: env.BINDFLOW_LATE_EVENTS_GRACE,
    log,
    extend: (app, { authorize }) => {
      if (!codec) return;
      registerCodecServer(app, {
        codec,
        authorize,
        corsOrigins: env.BINDFLOW_CODEC_CORS_ORIGINS.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        trustUiOrigin: opts.trustUiOrigin,
      });
    },
  });
  const address = await app.listen({ host: env.BINDFLOW_HOST, port: env.BINDFLOW_PORT });
  log.info('API listening', { url: address });
  return {
    app,
    url: address,
    stop: async () => {
      await app.close();
      await connection.close();
    },
  };
}
