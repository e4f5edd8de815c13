import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../client/api';
import { WEBHOOK_PATH } from '../client/webhook';
import { EnvSchema } from '../lib/config';
import { createLogger } from '../lib/log';
import { freePort } from '../lib/ports';
import { startDevServer, type RunningServer } from '../lib/temporalServer';
import { startSimulator, type Simulator } from '../simulator';
import { spawnBindflowApi, spawnBindflowWorker, type ChildWorker } from './processes';
import { profileThisProcess } from './profile';

// The whole local stack for the benchmark and the drills, on free ports: a dev server on a file database
// in a temp dir, the simulator (in this process), the real worker as a child process, and the real API: in this
// process (the drills, which reach into it), or as `bindflow api` in a child process of its own (`apiProcess`, the
// benchmark: its CPU then reads apart from the simulator's and the load generator's). Either way the simulator
// tells the tracker which pushes were answered 200.

/**
 * BINDFLOW_CALL_EVENTS and BINDFLOW_BIND_WAIT as the API reads them: a misspelt value stops the benchmark, naming
 * the variable, rather than measuring the default under another name.
 */
export function benchApiModes() {
  return EnvSchema.pick({ BINDFLOW_CALL_EVENTS: true, BINDFLOW_BIND_WAIT: true }).parse(process.env);
}

/** The API's bearer token in the benchmark and the drills (`bindflow api` wants at least 16 characters). */
export const BENCH_TOKEN = 'bench-token-not-secret';
export const SIM_APP = { appKey: 'sim-app-key', appSecret: 'sim-app-secret' };
export const AREA = '0755';

/** `count` privacy numbers of area 0755, in the simulator's numbering style (+86755 2900 nnnn). */
export function benchPool(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+867552900${String(i + 1).padStart(4, '0')}`);
}

/** Distinct mobile numbers for order `i`: A on 138, B on 139 (run-unique thanks to `run`). */
export function partiesOf(run: number, i: number): { partyA: string; partyB: string } {
  const n = String((run % 100) * 1_000_000 + i).padStart(8, '0');
  return { partyA: `+86138${n}`, partyB: `+86139${n}` };
}

export interface DevServerTuning {
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  /** The dev server's in-memory database instead of a file. */
  inMemory?: boolean;
  /** Extra `temporal server start-dev` arguments (e.g. --dynamic-config-value k=v). */
  extraArgs?: string[];
}

export async function startFileDevServer(dir: string, tuning: DevServerTuning = {}): Promise<RunningServer> {
  return startDevServer({
    port: await freePort(),
    dbFile: tuning.inMemory ? undefined : path.join(dir, 'temporal.db'),
    synchronous: tuning.synchronous ?? 'NORMAL',
    stdio: 'ignore',
    logLevel: 'error',
    extraArgs: tuning.extraArgs,
  });
}

/** Counts the call events and call records the webhook accepted (HTTP 200), per provider session. */
export class SessionTracker {
  private readonly counts = new Map<string, number>();
  private readonly waiters = new Map<string, { want: number; resolve: () => void }>();
  accepted = 0;

  observe(body: unknown): void {
    this.accepted++;
    const b = body as {
      eventType?: string;
      statusInfo?: { sessionId?: string };
      feeLst?: Array<{ sessionId?: string }>;
    };
    const ids = b?.eventType === 'fee' ? (b.feeLst ?? []).map((r) => r.sessionId) : [b?.statusInfo?.sessionId];
    for (const id of ids) {
      if (!id) continue;
      const n = (this.counts.get(id) ?? 0) + 1;
      this.counts.set(id, n);
      const w = this.waiters.get(id);
      if (w && n >= w.want) {
        this.waiters.delete(id);
        this.counts.delete(id);
        w.resolve();
      }
    }
  }

  /** Resolves once `want` items (events and records) of that session were accepted. */
  waitFor(sessionId: string, want: number, timeoutMs = 60_000): Promise<void> {
    if ((this.counts.get(sessionId) ?? 0) >= want) {
      this.counts.delete(sessionId);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(sessionId);
        reject(new Error(`session ${sessionId}: pushes not accepted within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(sessionId, {
        want,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

export interface ApiHandle {
  url: string;
  /** The API's fastify app when it runs in this process. */
  app?: FastifyInstance;
  /** The API's process when it runs in a child (`apiProcess`). */
  proc?: ChildWorker;
  /** A Temporal client of this process (the API's own when it runs here). */
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/** The real HTTP API on a free port, tracking accepted pushes into `tracker`. */
export async function startApi(opts: {
  address: string;
  taskQueue: string;
  bindPatienceMs?: number;
}): Promise<ApiHandle> {
  const connection = await Connection.connect({ address: opts.address });
  const client = new Client({ connection });
  const modes = benchApiModes();
  const app = buildApi({
    client,
    connection,
    taskQueue: opts.taskQueue,
    apiToken: BENCH_TOKEN,
    ...SIM_APP,
    log: createLogger('api', {}, () => undefined),
    bindPatienceMs: opts.bindPatienceMs,
    // BINDFLOW_CALL_EVENTS=final npm run bench measures the webhook handing only disconnects to orders.
    callEvents: modes.BINDFLOW_CALL_EVENTS,
    bindWait: modes.BINDFLOW_BIND_WAIT,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    client,
    connection,
    close: async () => {
      await app.close();
      await connection.close();
    },
  };
}

/** `bindflow api` as a child process on a free port, with a client of this process for the benchmark's reads. */
async function startApiProcess(opts: { address: string; taskQueue: string; simUrl: string }): Promise<ApiHandle> {
  const port = await freePort();
  const proc = await spawnBindflowApi({
    address: opts.address,
    taskQueue: opts.taskQueue,
    port,
    apiToken: BENCH_TOKEN,
    ...SIM_APP,
    // The simulator's public AK/SK are refused unless the API is told it talks to the simulator.
    extraEnv: { PRIVATENUMBER_BASE_URL: opts.simUrl },
    // BINDFLOW_CALL_EVENTS (the benchmark's setting) reaches the child with the rest of the environment.
  });
  const connection = await Connection.connect({ address: opts.address });
  return {
    url: `http://127.0.0.1:${port}`,
    proc,
    client: new Client({ connection }),
    connection,
    close: async () => {
      await proc.stop('SIGTERM');
      await connection.close();
    },
  };
}

export interface BenchStack {
  dir: string;
  server: RunningServer;
  sim: Simulator;
  api: ApiHandle;
  worker: ChildWorker;
  tracker: SessionTracker;
  taskQueue: string;
  pool: string[];
  /** Starts another `bindflow worker` process on the same queue (drills restart it after a SIGKILL). */
  respawnWorker(): Promise<ChildWorker>;
  close(): Promise<void>;
}

export interface BenchStackOptions extends DevServerTuning {
  poolSize: number;
  taskQueue?: string;
  simRateLimit?: { perSecond: number; burst: number };
  workerLogLevel?: 'debug' | 'info' | 'warn' | 'error';
  workerEnv?: Record<string, string>;
  bindPatienceMs?: number;
  /** The API as `bindflow api` in a child process (the benchmark) instead of in this process (the drills). */
  apiProcess?: boolean;
  /** Use this running server instead of starting one (jest's global dev server). */
  address?: string;
}

export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  // BENCH_CPU_PROF=<dir>: samples this process (API, simulator, load generator) until close().
  const stopProfile = await profileThisProcess();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindflow-bench-'));
  const server: RunningServer = opts.address
    ? { address: opts.address, port: Number(opts.address.split(':')[1]), pid: -1, stop: async () => undefined }
    : await startFileDevServer(dir, opts);
  const taskQueue = opts.taskQueue ?? `bench-${Date.now().toString(36)}`;
  const pool = benchPool(opts.poolSize);
  const tracker = new SessionTracker();
  const sim = await startSimulator({
    port: 0,
    pool: { [AREA]: pool },
    rateLimit: opts.simRateLimit ?? { perSecond: 100_000, burst: 100_000 },
    logger: createLogger('simulator', {}, () => undefined),
  });
  sim.core.pushes.onAnswered = (body, status) => {
    if (status === 200) tracker.observe(body);
  };
  const api = opts.apiProcess
    ? await startApiProcess({ address: server.address, taskQueue, simUrl: sim.url })
    : await startApi({ address: server.address, taskQueue, bindPatienceMs: opts.bindPatienceMs });
  sim.setPushUrl(`${api.url}${WEBHOOK_PATH}`);
  const spawnWorker = async () =>
    spawnBindflowWorker({
      address: server.address,
      taskQueue,
      providerUrl: sim.url,
      numberPool: pool,
      metricsPort: await freePort(),
      logLevel: opts.workerLogLevel,
      // The reconciliation schedule queries every number of the pool (1000 here) once a minute: a cost per pool and
      // per minute, not per order, which the CPU per order would otherwise carry depending on the run's length.
      // The drills run their sweeps explicitly; BENCH_RECONCILE=on (or workerEnv) puts the schedule back.
      extraEnv: {
        ...(process.env.BENCH_RECONCILE === 'on' ? {} : { BINDFLOW_RECONCILE_INTERVAL: 'off' }),
        ...opts.workerEnv,
      },
    });
  const stack: BenchStack = {
    dir,
    server,
    sim,
    api,
    worker: await spawnWorker(),
    tracker,
    taskQueue,
    pool,
    async respawnWorker() {
      stack.worker = await spawnWorker();
      return stack.worker;
    },
    async close() {
      await stack.worker.stop('SIGTERM');
      await api.close();
      await sim.close();
      if (!opts.address) await stack.server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      await stopProfile();
    },
  };
  return stack;
}
