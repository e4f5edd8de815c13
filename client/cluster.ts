import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { loadEnv } from '../lib/config';
import { PROJECT_ROOT } from '../lib/binaries';
import { assertPortsFree, waitForTcp } from '../lib/ports';
import { ensureClusterBinaries, TEMPORAL_SERVER_VERSION, type ClusterBinaries } from '../lib/clusterBinaries';
import {
  ensurePostgres,
  initPostgres,
  startPostgres,
  type PgBinaries,
  type PgCluster,
  type RunningPostgres,
} from '../lib/postgres';
import {
  CLUSTER_HISTORY_SHARDS,
  clusterPorts,
  portsToCheck,
  registerNamespace,
  setupSchemas,
  startTemporalServer,
  startUiServer,
  type RunningProcess,
} from '../lib/temporalCluster';
import type { Simulator } from '../simulator';
import type { Io } from './cli';
import { devEnvironment } from './dev';
import { DEV_API_TOKEN, DEV_PORTS, devDataDir, devStackFile } from './devDefaults';
import { ServiceGroup, untilSignal } from './processes';

export const CLUSTER_HELP = `Usage: bindflow cluster [--fresh]   (also: npm run cluster)

Runs the production shape on this machine; Ctrl-C stops everything, a restart keeps the data:
  - PostgreSQL (Debian's server binaries; installed with apt-get when missing and you are root),
    data in .bindflow/cluster/postgres, on 127.0.0.1:$BINDFLOW_PG_PORT (default 55432);
  - temporal-server ${TEMPORAL_SERVER_VERSION} on it (${CLUSTER_HISTORY_SHARDS} history shards, SQL visibility, gRPC 7233), built once
    from the Go module proxy into the user's cache directory (~10 min the first time);
  - the Temporal Web UI server on 8233, with bindflow's codec endpoint;
  - two workers (metrics 9464, 9465) and two API replicas (3000, 3001; each the HTTP API, the
    provider webhook and the codec server);
  - the provider simulator on 9080, pushing to the first API replica (not started when
    PRIVATENUMBER_BASE_URL is set).
--fresh   delete .bindflow/cluster first (every workflow and the database).
Same working values as \`bindflow dev\` for every unset variable; logs in .bindflow/cluster/logs/.`;

export interface ClusterPortsConfig {
  temporal: number;
  ui: number;
  simulator: number;
  postgres: number;
  apis: number[];
  metrics: number[];
}

export interface ClusterOptions {
  /** The variables given (the cluster fills in dev's working values for the unset ones). */
  env: NodeJS.ProcessEnv;
  dataDir: string;
  ports: ClusterPortsConfig;
  fresh?: boolean;
  say?: (line: string) => void;
}

/** A child process of the cluster (worker or API replica) that a test may kill and start again. */
export class Replica {
  child: ChildProcess | null = null;
  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly port: number,
    private readonly logFile: string,
  ) {}

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'scripts', 'guard.js'),
        process.execPath,
        path.join(PROJECT_ROOT, 'bin', 'bindflow.js'),
        ...this.args,
      ],
      { env: this.env, stdio: ['pipe', log, log] },
    );
    fs.closeSync(log);
    this.child = child;
    try {
      await waitForTcp(this.port, '127.0.0.1', 120_000, () => child.exitCode === null);
    } catch (err) {
      const tail = fs.readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-8).join('\n');
      throw new Error(`${this.name} did not start: ${(err as Error).message}\n${tail}`);
    }
  }

  /**
   * Signals the replica. SIGKILL goes to the process itself (a crash), not to the guard in front of
   * it (which would leave it running); other signals go to the guard, which passes them on.
   */
  kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return signalGuarded(child, signal);
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}

/** Children of a process (from /proc): the program a guard runs. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Sends a signal through a guard; SIGKILL goes to the guarded program itself, as a crash would. */
export function signalGuarded(guard: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (guard.exitCode !== null || guard.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    guard.once('exit', () => resolve());
    if (signal !== 'SIGKILL') return void guard.kill(signal);
    const targets = childPids(guard.pid ?? -1);
    if (!targets.length) return void guard.kill('SIGKILL');
    for (const pid of targets) process.kill(pid, 'SIGKILL');
  });
}

export interface ClusterHandle {
  temporalAddress: string;
  namespace: string;
  uiUrl: string;
  apiUrls: string[];
  apiToken: string;
  simulatorUrl: string | null;
  sim: Simulator | null;
  /** The environment the workers and API replicas run with. */
  childEnv: NodeJS.ProcessEnv;
  workers: Replica[];
  apis: Replica[];
  binaries: ClusterBinaries;
  postgres: PgBinaries;
  dataDir: string;
  /** Stops temporal-server (SIGKILL when `crash`) and starts it again on the same database. */
  restartTemporal(opts?: { crash?: boolean; downMs?: number }): Promise<void>;
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export function defaultClusterPorts(env: NodeJS.ProcessEnv): ClusterPortsConfig {
  const parsed = loadEnv(devEnvironment(env));
  const temporal = Number(parsed.TEMPORAL_ADDRESS.split(':').pop());
  return {
    temporal,
    ui: temporal + 1000,
    simulator: parsed.BINDFLOW_SIMULATOR_PORT,
    postgres: env.BINDFLOW_PG_PORT ? Number(env.BINDFLOW_PG_PORT) : 55432,
    apis: [parsed.BINDFLOW_PORT, parsed.BINDFLOW_PORT + 1],
    metrics: [parsed.BINDFLOW_METRICS_PORT, parsed.BINDFLOW_METRICS_PORT + 1],
  };
}

/** Starts the whole production shape; every part is stopped again if one fails to start. */
export async function startCluster(opts: ClusterOptions): Promise<ClusterHandle> {
  const say = opts.say ?? (() => undefined);
  const { ports } = opts;
  const temporalPorts = clusterPorts(ports.temporal);
  const useSimulator = !opts.env.PRIVATENUMBER_BASE_URL;
  const given: NodeJS.ProcessEnv = {
    ...opts.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    BINDFLOW_SIMULATOR_PORT: String(ports.simulator),
  };
  const childEnv = devEnvironment(given);
  childEnv.BINDFLOW_CODEC_CORS_ORIGINS =
    opts.env.BINDFLOW_CODEC_CORS_ORIGINS ?? `http://127.0.0.1:${ports.ui},http://localhost:${ports.ui}`;
  const env = loadEnv(childEnv);

  await assertPortsFree({
    ...portsToCheck(temporalPorts),
    'Temporal Web UI': ports.ui,
    PostgreSQL: ports.postgres,
    ...(useSimulator ? { simulator: ports.simulator } : {}),
    ...Object.fromEntries(ports.apis.map((p, i) => [`API replica ${i + 1}`, p])),
    ...Object.fromEntries(ports.metrics.map((p, i) => [`worker ${i + 1} metrics`, p])),
  });

  const binaries = await ensureClusterBinaries(process.env, say);
  const pgBins = ensurePostgres(say);

  const dir = opts.dataDir;
  if (opts.fresh) fs.rmSync(dir, { recursive: true, force: true });
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });

  const group = new ServiceGroup();
  try {
    say(`starting PostgreSQL (${pgBins.version}) on 127.0.0.1:${ports.postgres}…`);
    const pg: PgCluster = initPostgres(pgBins, path.join(dir, 'postgres'), ports.postgres);
    let postgres: RunningPostgres | null = await startPostgres(pgBins, pg);
    group.add({ name: 'PostgreSQL', stop: async () => postgres?.stop() });
    setupSchemas(binaries, pg, say);

    say(`starting temporal-server ${binaries.serverVersion} (${CLUSTER_HISTORY_SHARDS} history shards)…`);
    const temporalDir = path.join(dir, 'temporal');
    let server: RunningProcess | null = await startTemporalServer(binaries, pg, temporalDir, temporalPorts);
    group.add({ name: 'temporal-server', stop: async () => server?.stop() });
    await registerNamespace(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE, say);

    say(`starting the Temporal Web UI server ${binaries.uiVersion}…`);
    const ui = await startUiServer(binaries, temporalDir, {
      port: ports.ui,
      frontend: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      codecEndpoint: `http://127.0.0.1:${ports.apis[0]}/codec`,
    });
    group.add({ name: 'Temporal Web UI', stop: ui.stop });

    let sim: Simulator | null = null;
    if (useSimulator) {
      const { startSimulator, defaultPool } = require('../simulator') as typeof import('../simulator');
      const pool = defaultPool();
      sim = await startSimulator({
        pool,
        port: ports.simulator,
        appKey: env.PRIVATENUMBER_APP_KEY,
        appSecret: env.PRIVATENUMBER_APP_SECRET,
        pushUrl: `http://127.0.0.1:${ports.apis[0]}/webhooks/privatenumber`,
      });
      const running = sim;
      group.add({ name: 'simulator', stop: () => running.close() });
      childEnv.PRIVATENUMBER_NUMBER_POOL = childEnv.PRIVATENUMBER_NUMBER_POOL ?? Object.values(pool).flat().join(',');
    }

    const workers = ports.metrics.map(
      (port, i) =>
        new Replica(
          `worker ${i + 1}`,
          ['worker'],
          { ...childEnv, BINDFLOW_METRICS_PORT: String(port) },
          port,
          path.join(logs, `worker-${i + 1}.log`),
        ),
    );
    const apis = ports.apis.map(
      (port, i) =>
        new Replica(
          `API replica ${i + 1}`,
          ['api'],
          // The local Web UI decodes payloads without a token, as in `bindflow dev` (loopback listeners only).
          { ...childEnv, BINDFLOW_PORT: String(port), BINDFLOW_CODEC_LOCAL_UI: '1' },
          port,
          path.join(logs, `api-${i + 1}.log`),
        ),
    );
    say(`starting ${workers.length} workers and ${apis.length} API replicas…`);
    for (const r of [...workers, ...apis]) group.add({ name: r.name, stop: () => r.stop() });
    await Promise.all([...workers, ...apis].map((r) => r.start()));

    const marker = devStackFile(opts.env);
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(
      marker,
      JSON.stringify({ temporalAddress: env.TEMPORAL_ADDRESS, pid: process.pid, shape: 'cluster' }) + '\n',
    );
    group.add({ name: 'stack marker', stop: async () => fs.rmSync(marker, { force: true }) });

    return {
      temporalAddress: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      uiUrl: `http://127.0.0.1:${ports.ui}`,
      apiUrls: ports.apis.map((p) => `http://127.0.0.1:${p}`),
      apiToken: env.BINDFLOW_API_TOKEN as string,
      simulatorUrl: useSimulator ? `http://127.0.0.1:${ports.simulator}` : null,
      sim,
      childEnv,
      workers,
      apis,
      binaries,
      postgres: pgBins,
      dataDir: dir,
      async restartTemporal({ crash = false, downMs = 0 } = {}) {
        const old = server;
        server = null;
        if (old) {
          if (crash) await signalGuarded(old.child, 'SIGKILL');
          else await old.stop();
        }
        await new Promise((r) => setTimeout(r, downMs));
        server = await startTemporalServer(binaries, pg, temporalDir, temporalPorts);
      },
      async stopPostgres() {
        const old = postgres;
        postgres = null;
        await old?.stop();
      },
      async startPostgres() {
        if (postgres) return;
        postgres = await startPostgres(pgBins, pg);
      },
      stop: () => group.stopAll(),
    };
  } catch (err) {
    await group.stopAll();
    throw err;
  }
}

export async function runCluster(io: Io, argv: string[]): Promise<number> {
  const fresh = argv.includes('--fresh');
  const unknown = argv.filter((a) => a !== '--fresh');
  if (argv.includes('--help') || argv.includes('-h')) return (io.out(CLUSTER_HELP), 0);
  if (unknown.length) {
    io.err(`bindflow cluster: unknown argument ${unknown[0]}\n\n${CLUSTER_HELP}`);
    return 2;
  }
  const stopped = untilSignal();
  const say = (line: string) => io.out(`bindflow cluster: ${line}`);
  const dataDir = path.join(devDataDir(io.env), 'cluster');
  const cluster = await startCluster({ env: io.env, dataDir, ports: defaultClusterPorts(io.env), fresh, say });
  const usesDevToken = cluster.apiToken === DEV_API_TOKEN;
  io.out(
    [
      '',
      'bindflow cluster is up:',
      `  Temporal Web UI     ${cluster.uiUrl}`,
      `  Temporal gRPC       ${cluster.temporalAddress} (temporal-server ${cluster.binaries.serverVersion} on PostgreSQL, ${CLUSTER_HISTORY_SHARDS} history shards; namespace ${cluster.namespace})`,
      ...cluster.apiUrls.map(
        (u, i) =>
          `  API replica ${i + 1}       ${u}/v1   (webhook ${u}/webhooks/privatenumber, codec ${u}/codec)${i === 0 ? `   Authorization: Bearer ${usesDevToken ? DEV_API_TOKEN : '<your BINDFLOW_API_TOKEN>'}` : ''}`,
      ),
      cluster.simulatorUrl
        ? `  Provider simulator  ${cluster.simulatorUrl}   (admin API under /_sim/; pushes to replica 1)`
        : `  Provider            ${cluster.childEnv.PRIVATENUMBER_BASE_URL}`,
      ...cluster.workers.map(
        (w, i) => `  Worker ${i + 1} metrics    http://127.0.0.1:${defaultClusterPorts(io.env).metrics[i]}/metrics`,
      ),
      `  Data and logs       ${cluster.dataDir}`,
      '',
      'Try `npx bindflow demo` in another terminal. Ctrl-C stops everything.',
    ].join('\n'),
  );
  const exited = new Promise<string>((resolve) => {
    for (const r of [...cluster.workers, ...cluster.apis]) r.child?.once('exit', () => resolve(r.name));
  });
  const result = await Promise.race([stopped, exited]);
  if (typeof result === 'string' && !result.startsWith('SIG'))
    io.err(`bindflow cluster: ${result} exited; stopping everything`);
  io.out('bindflow cluster: stopping…');
  await cluster.stop();
  return typeof result === 'string' && !result.startsWith('SIG') ? 1 : 0;
}

export { DEV_PORTS };
