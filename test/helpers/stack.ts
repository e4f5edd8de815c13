import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../client/api';
import { registerCodecServer } from '../../client/codecServer';
import { codecFromEnv } from '../../lib/codec';
import { createLogger } from '../../lib/log';
import { startSimulator, defaultPool, type Simulator } from '../../simulator';
import { createBindflowWorker } from '../../worker';
import { devServerAddress, uniqueTaskQueue } from './devServer';
import { SIM_APP, TEST_TOKEN } from './api';

export interface Stack {
  taskQueue: string;
  apiUrl: string;
  app: FastifyInstance;
  sim: Simulator;
  client: Client;
  worker: Worker;
  /** Every log line of the API and the worker (JSON), for masking checks. */
  logLines: string[];
  auth: { authorization: string };
  /** Calls the API over real HTTP. */
  http<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** The whole bindflow stack in this process on the run's dev server: simulator, worker, API on real ports. */
export async function startStack(
  opts: {
    payloadKey?: string;
    bindPatienceMs?: number;
    prefix?: string;
    lateEventsGraceSeconds?: number;
    callEvents?: 'all' | 'final';
    bindWait?: 'update' | 'history';
  } = {},
): Promise<Stack> {
  const taskQueue = uniqueTaskQueue(opts.prefix ?? 'stack');
  const logLines: string[] = [];
  const sink = (l: string) => logLines.push(l);
  const codec = codecFromEnv({ BINDFLOW_PAYLOAD_KEY: opts.payloadKey });
  const dataConverter: DataConverter | undefined = codec ? { payloadCodecs: [codec] } : undefined;
  const pool = defaultPool();
  const sim = await startSimulator({ port: 0, pool, logger: createLogger('simulator', {}, sink) });
  const connection = await Connection.connect({ address: devServerAddress() });
  const client = new Client({ connection, dataConverter });
  const app = buildApi({
    client,
    connection,
    taskQueue,
    apiToken: TEST_TOKEN,
    ...SIM_APP,
    log: createLogger('api', {}, sink),
    bindPatienceMs: opts.bindPatienceMs,
    // Ended orders close at once unless a test asks for the late-events window.
    lateEventsGraceSeconds: opts.lateEventsGraceSeconds ?? 0,
    callEvents: opts.callEvents,
    bindWait: opts.bindWait,
    numberPool: Object.values(pool).flat(),
    callbacks: { targets: { allowHosts: new Set(['127.0.0.1', 'localhost']) } },
    extend: (a, { authorize }) => codec && registerCodecServer(a, { codec, authorize, corsOrigins: [] }),
  });
  const apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  sim.setPushUrl(`${apiUrl}/webhooks/privatenumber`);
  const nativeConnection = await NativeConnection.connect({ address: devServerAddress() });
  const worker = await createBindflowWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    provider: { baseUrl: sim.url, ...SIM_APP },
    numberPool: Object.values(pool).flat(),
    callbackSecret: 'test-callback-secret',
    callbackDelivery: { targets: { allowHosts: new Set(['127.0.0.1', 'localhost']) } },
    log: createLogger('worker', {}, sink),
    ...(dataConverter ? { dataConverter } : {}),
  });
  const running = worker.run();
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  return {
    taskQueue,
    apiUrl,
    app,
    sim,
    client,
    worker,
    logLines,
    auth,
    async http<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    },
    async close() {
      worker.shutdown();
      await running.catch(() => undefined);
      await app.close();
      await sim.close();
      await nativeConnection.close();
      await connection.close();
    },
  };
}
