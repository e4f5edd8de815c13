import type { FastifyInstance } from 'fastify';
import { Client, Connection } from '@temporalio/client';
import { buildApi } from '../../client/api';
import { createLogger } from '../../lib/log';
import { devServerAddress } from './devServer';

export const TEST_TOKEN = 'test-token-123';
export const SIM_APP = { appKey: 'sim-app-key', appSecret: 'sim-app-secret' };

/** The real API (fastify, in process) on the run's dev server; logs go to `logLines`. */
export async function startTestApi(
  taskQueue: string,
  opts: { bindPatienceMs?: number; address?: string; lateEventsGraceSeconds?: number } = {},
) {
  const connection = await Connection.connect({ address: opts.address ?? devServerAddress() });
  const client = new Client({ connection });
  const logLines: string[] = [];
  const app: FastifyInstance = buildApi({
    client,
    connection,
    taskQueue,
    apiToken: TEST_TOKEN,
    ...SIM_APP,
    log: createLogger('api', {}, (l) => logLines.push(l)),
    bindPatienceMs: opts.bindPatienceMs,
    // Ended orders close at once unless a test asks for the late-events window.
    lateEventsGraceSeconds: opts.lateEventsGraceSeconds ?? 0,
  });
  await app.ready();
  return {
    app,
    client,
    connection,
    logLines,
    auth: { authorization: `Bearer ${TEST_TOKEN}` },
    close: async () => {
      await app.close();
      await connection.close();
    },
  };
}
