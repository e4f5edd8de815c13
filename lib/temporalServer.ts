import { spawn, ChildProcess } from 'node:child_process';
import path from 'node:path';
import { temporalBinaries, PROJECT_ROOT } from './binaries';
import { waitForTcp, assertPortsFree } from './ports';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';

const GUARD = path.join(PROJECT_ROOT, 'scripts', 'guard.js');

export interface RunningServer {
  address: string;
  port: number;
  uiPort?: number;
  pid: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** SQLite file; omit for an in-memory database. */
  dbFile?: string;
  namespace?: string;
  codecEndpoint?: string;
  /** `synchronous=NORMAL` keeps data across a crash of the process; `OFF` is for throwaway data. */
  synchronous?: 'NORMAL' | 'OFF' | 'FULL';
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
  stdio?: 'inherit' | 'ignore';
  extraArgs?: string[];
}

/** Starts `temporal server start-dev` under the guard (no orphan even if we are SIGKILLed). */
export async function startDevServer(opts: DevServerOptions): Promise<RunningServer> {
  const { cli } = temporalBinaries();
  await assertPortsFree(
    opts.uiPort ? { 'Temporal gRPC': opts.port, 'Temporal Web UI': opts.uiPort } : { 'Temporal gRPC': opts.port },
  );
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace ?? 'default',
    '--log-level',
    opts.logLevel ?? 'error',
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
  ];
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (opts.dbFile) {
    args.push('--db-filename', opts.dbFile);
    args.push('--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', `synchronous=${opts.synchronous ?? 'NORMAL'}`);
  }
  if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  for (const [name, type] of Object.entries(CUSTOM_SEARCH_ATTRIBUTES))
    args.push('--search-attribute', `${name}=${type}`);
  args.push(...(opts.extraArgs ?? []));
  const child = spawnGuarded(cli, args, opts.stdio ?? 'inherit');
  try {
    await waitForTcp(opts.port, '127.0.0.1', opts.startTimeoutMs ?? 60000, () => child.exitCode === null);
  } catch (err) {
    await stopChild(child);
    throw new Error(`Temporal dev server did not start: ${(err as Error).message}`);
  }
  return {
    address: `127.0.0.1:${opts.port}`,
    port: opts.port,
    uiPort: opts.uiPort,
    pid: child.pid ?? -1,
    stop: () => stopChild(child),
  };
}

/** Starts the time-skipping test server (a native binary taking only `<port>`). */
export async function startTimeSkippingServer(port: number): Promise<RunningServer> {
  const { testServer } = temporalBinaries();
  await assertPortsFree({ 'Temporal test server': port });
  const child = spawnGuarded(testServer, [String(port), '--enable-time-skipping'], 'ignore');
  try {
    await waitForTcp(port, '127.0.0.1', 60000, () => child.exitCode === null);
  } catch (err) {
    await stopChild(child);
    throw new Error(`Temporal time-skipping test server did not start: ${(err as Error).message}`);
  }
  return { address: `127.0.0.1:${port}`, port, pid: child.pid ?? -1, stop: () => stopChild(child) };
}

function spawnGuarded(cmd: string, args: string[], stdio: 'inherit' | 'ignore'): ChildProcess {
  return spawn(process.execPath, [GUARD, cmd, ...args], { stdio: ['pipe', stdio, stdio] });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
