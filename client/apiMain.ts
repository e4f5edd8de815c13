import type { FastifyInstance } from 'fastify';
import { ConfigError, type Env } from '../lib/config';
import { createLogger } from '../lib/log';
import { assertPortsFree } from '../lib/ports';
import { buildApi } from './api';
import { connectTemporal } from './temporal';

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/** Starts the HTTP API, provider webhook and codec server (`npx bindflow api`). */
export async function startApi(env: Env): Promise<RunningApi> {
  if (!env.BINDFLOW_API_TOKEN)
    throw new ConfigError(['BINDFLOW_API_TOKEN: required by the API (the bearer token for /v1)']);
  if (env.BINDFLOW_PORT !== 0) await assertPortsFree({ 'API (BINDFLOW_PORT)': env.BINDFLOW_PORT });
  const log = createLogger('api');
  const { client, connection } = await connectTemporal(env);
  const app = buildApi({
    client,
    connection,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    apiToken: env.BINDFLOW_API_TOKEN,
    appKey: env.PRIVATENUMBER_APP_KEY,
    appSecret: env.PRIVATENUMBER_APP_SECRET,
    log,
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
