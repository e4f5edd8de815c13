import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { PROJECT_ROOT } from './binaries';
import { isPortFree, waitForTcp } from './ports';
import type { ClusterBinaries } from './clusterBinaries';
import type { PgCluster } from './postgres';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';

// temporal-server (all four services in one process) on PostgreSQL with SQL visibility, and the
// Web UI server in front of it: the shape a self-hosted deployment runs, on one machine.

const GUARD = path.join(PROJECT_ROOT, 'scripts', 'guard.js');

export const CLUSTER_HISTORY_SHARDS = 8;

/** Every port the server takes, derived from the frontend's gRPC port (7233 → 7234, 7235, 7239, 6933…). */
export interface TemporalClusterPorts {
  frontend: number;
  history: number;
  matching: number;
  worker: number;
  frontendHttp: number;
  membership: [number, number, number, number];
  metrics: number;
}

export function clusterPorts(frontend: number): TemporalClusterPorts {
  return {
    frontend,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 6,
    frontendHttp: frontend + 10,
    membership: [frontend - 300, frontend - 299, frontend - 298, frontend - 294],
    // 7233 → 8000, the port Temporal's own sample configurations use for Prometheus.
    metrics: frontend + 767,
  };
}

/**
 * A frontend port whose whole range (history, matching, membership, metrics, UI at +1000) is free now. Below
 * 30300: membership ports (frontend - 300) are a smallint in the SQL schema.
 */
export async function freeClusterFrontendPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const frontend = 10_300 + Math.floor(Math.random() * 19_000);
    const wanted = [...Object.values(portsToCheck(clusterPorts(frontend))), frontend + 1000];
    if ((await Promise.all(wanted.map((p) => isPortFree(p)))).every(Boolean)) return frontend;
  }
  throw new Error('no free port range for temporal-server');
}

export function portsToCheck(p: TemporalClusterPorts): Record<string, number> {
  return {
    'Temporal gRPC (frontend)': p.frontend,
    'Temporal history': p.history,
    'Temporal matching': p.matching,
    'Temporal worker service': p.worker,
    'Temporal frontend HTTP': p.frontendHttp,
    'Temporal membership (frontend)': p.membership[0],
    'Temporal membership (history)': p.membership[1],
    'Temporal membership (matching)': p.membership[2],
    'Temporal membership (worker)': p.membership[3],
    'Temporal metrics': p.metrics,
  };
}

function sqlStore(pg: PgCluster, database: string, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `127.0.0.1:${pg.port}`,
      connectProtocol: 'tcp',
      user: pg.user,
      password: pg.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

function rpc(grpcPort: number, membershipPort: number, httpPort?: number) {
  return { rpc: { grpcPort, membershipPort, bindOnIP: '127.0.0.1', ...(httpPort ? { httpPort } : {}) } };
}

/** The server's configuration (JSON is YAML): modelled on the module's development-postgres12.yaml. */
export function serverConfig(pg: PgCluster, ports: TemporalClusterPorts, dynamicConfigFile: string, logLevel = 'warn') {
  return {
    log: { stdout: true, level: logLevel },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: CLUSTER_HISTORY_SHARDS,
      datastores: {
        'postgres-default': sqlStore(pg, 'temporal', 20),
        'postgres-visibility': sqlStore(pg, 'temporal_visibility', 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` },
      },
    },
    services: {
      frontend: rpc(ports.frontend, ports.membership[0], ports.frontendHttp),
      history: rpc(ports.history, ports.membership[1]),
      matching: rpc(ports.matching, ports.membership[2]),
      worker: rpc(ports.worker, ports.membership[3]),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/** Dynamic configuration: what bindflow relies on, spelled out rather than left to defaults. */
export function dynamicConfig() {
  const v = (value: unknown) => [{ value, constraints: {} }];
  return {
    'frontend.enableUpdateWorkflowExecution': v(true),
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted': v(true),
    // No phoning home for version checks: the cluster may run with no internet.
    'frontend.enableServerVersionCheck': v(false),
    'limit.maxIDLength': v(255),
    // Newly registered search attributes usable at once (the dev server does the same).
    'system.forceSearchAttributesCacheRefreshOnRead': v(true),
  };
}

function sqlTool(bins: ClusterBinaries, pg: PgCluster, db: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(
    bins.sqlTool,
    ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pg.port), '-u', pg.user, '--db', db, ...args],
    { encoding: 'utf8', env: { ...process.env, SQL_PASSWORD: pg.password } },
  );
  return { ok: r.status === 0, out: `${r.stdout}\n${r.stderr}`.trim() };
}

/** Creates both databases and their schemas the first time, and brings them up to date every time. */
export function setupSchemas(bins: ClusterBinaries, pg: PgCluster, say: (line: string) => void): void {
  for (const [db, dir] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const marker = path.join(pg.dir, `schema-${db}`);
    if (!fs.existsSync(marker)) {
      say(`creating database ${db} and its schema…`);
      const created = sqlTool(bins, pg, db, ['create-database']);
      if (!created.ok && !/already exists/i.test(created.out))
        throw new Error(`temporal-sql-tool create-database ${db} failed:\n${created.out}`);
      const base = sqlTool(bins, pg, db, ['setup-schema', '-v', '0.0']);
      if (!base.ok) throw new Error(`temporal-sql-tool setup-schema ${db} failed:\n${base.out}`);
    }
    const update = sqlTool(bins, pg, db, ['update-schema', '-d', path.join(bins.schemaDir, dir, 'versioned')]);
    if (!update.ok) throw new Error(`temporal-sql-tool update-schema ${db} failed:\n${update.out}`);
    fs.writeFileSync(marker, `${bins.serverVersion}\n`);
  }
}

export interface RunningProcess {
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

function spawnLogged(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [GUARD, cmd, ...args], { stdio: ['pipe', log, log], env: env ?? process.env });
  fs.closeSync(log);
  return child;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

function tail(file: string): string {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(-4)
      .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l))
      .join('\n');
  } catch {
    return '';
  }
}

/** Writes the configuration and starts temporal-server; resolves once the frontend answers. */
export async function startTemporalServer(
  bins: ClusterBinaries,
  pg: PgCluster,
  dir: string,
  ports: TemporalClusterPorts,
): Promise<RunningProcess> {
  fs.mkdirSync(dir, { recursive: true });
  const dynamic = path.join(dir, 'dynamicconfig.yaml');
  fs.writeFileSync(dynamic, JSON.stringify(dynamicConfig(), null, 2) + '\n');
  const config = path.join(dir, 'temporal.yaml');
  fs.writeFileSync(config, JSON.stringify(serverConfig(pg, ports, dynamic), null, 2) + '\n', { mode: 0o600 });
  const logFile = path.join(dir, 'temporal.log');
  const child = spawnLogged(bins.server, ['--config-file', config, '--allow-no-auth', 'start'], logFile);
  try {
    await waitForTcp(ports.frontend, '127.0.0.1', 120_000, () => child.exitCode === null);
    await waitForHealthy(`127.0.0.1:${ports.frontend}`, 120_000, () => child.exitCode === null);
  } catch (err) {
    await stopper(child)();
    throw new Error(`temporal-server did not start: ${(err as Error).message}\n${tail(logFile)}`);
  }
  return { pid: child.pid ?? -1, child, stop: stopper(child) };
}

async function waitForHealthy(address: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('the process exited');
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2000 });
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.listNamespaces({ pageSize: 1 });
      return;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the frontend at ${address} did not become healthy within ${timeoutMs} ms: ${last}`);
}

const SA_TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** Registers the namespace (72 h retention) and bindflow's search attributes when missing; waits until usable. */
export async function registerNamespace(
  address: string,
  namespace: string,
  say: (line: string) => void,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const svc = connection.workflowService;
    try {
      await svc.describeNamespace({ namespace });
    } catch {
      say(`registering namespace ${namespace} (retention 72 h)…`);
      try {
        await svc.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('72h') });
      } catch (err) {
        if (!/already/i.test((err as Error).message)) throw err;
      }
    }
    // The frontend learns of a new namespace on its next refresh (~10 s): wait until visibility answers.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await svc.countWorkflowExecutions({ namespace, query: '' });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`namespace ${namespace} not usable: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.entries(CUSTOM_SEARCH_ATTRIBUTES).filter(([name]) => !existing.customAttributes?.[name]);
    if (missing.length) {
      say(`registering search attributes ${missing.map(([n]) => n).join(', ')}…`);
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, SA_TYPES[type]])),
      });
    }
  } finally {
    await connection.close();
  }
}

/** The Web UI server against the cluster's frontend, with bindflow's codec endpoint. */
export async function startUiServer(
  bins: ClusterBinaries,
  dir: string,
  opts: { port: number; frontend: string; namespace: string; codecEndpoint: string },
): Promise<RunningProcess> {
  const configDir = path.join(dir, 'ui', 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'base.yaml'), '{}\n');
  const config = {
    temporalGrpcAddress: opts.frontend,
    host: '127.0.0.1',
    port: opts.port,
    enableUi: true,
    defaultNamespace: opts.namespace,
    disableNewsFetch: true,
    refreshInterval: '1m',
    cors: { allowOrigins: [`http://127.0.0.1:${opts.port}`, `http://localhost:${opts.port}`], cookieInsecure: true },
    auth: { enabled: false },
    codec: { endpoint: opts.codecEndpoint, passAccessToken: false, includeCredentials: false },
    forwardHeaders: [],
  };
  fs.writeFileSync(path.join(configDir, 'cluster.yaml'), JSON.stringify(config, null, 2) + '\n');
  const logFile = path.join(dir, 'ui.log');
  const child = spawnLogged(
    bins.uiServer,
    ['--root', path.join(dir, 'ui'), '--config', 'config', '--env', 'cluster', 'start'],
    logFile,
  );
  try {
    await waitForTcp(opts.port, '127.0.0.1', 60_000, () => child.exitCode === null);
  } catch (err) {
    await stopper(child)();
    throw new Error(`the Temporal Web UI server did not start: ${(err as Error).message}\n${tail(logFile)}`);
  }
  return { pid: child.pid ?? -1, child, stop: stopper(child) };
}
