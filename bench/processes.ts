import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { cpuProfileNodeArgs } from './profile';
import { procMemoryMb } from './stats';

// Child processes of the benchmark and the drills: the real `bindflow worker` (so its memory can be read
// from /proc and it can be SIGKILLed like a crashed pod) and the floor's bare worker.

export const ROOT = path.resolve(__dirname, '..');

export interface ChildWorker {
  pid: number;
  proc: ChildProcess;
  /** The last lines it wrote (stderr and stdout), for error messages. */
  tail(): string[];
  memory(): { peakRssMb: number; rssMb: number } | null;
  /** SIGTERM (graceful, SIGKILL after `graceMs`) or SIGKILL; resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

function track(proc: ChildProcess, readyText: string, timeoutMs: number): Promise<ChildWorker> {
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // never leave a half-started worker behind
      reject(new Error(`worker not ready in ${timeoutMs} ms:\n${lines.join('\n')}`));
    }, timeoutMs);
    let ready = false;
    const onData = (d: Buffer) => {
      for (const l of d.toString().split('\n')) {
        if (!l) continue;
        lines.push(l.slice(0, 500));
        if (lines.length > 50) lines.shift();
        if (!ready && l.includes(readyText)) {
          ready = true;
          clearTimeout(timer);
          resolve(handle);
        }
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code, sig) => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`worker exited (${code ?? sig}) before ready:\n${lines.join('\n')}`));
      }
    });
    const handle: ChildWorker = {
      pid: proc.pid ?? -1,
      proc,
      tail: () => [...lines],
      memory: () => (proc.pid ? procMemoryMb(proc.pid) : null),
      stop: (signal = 'SIGTERM', graceMs = 15_000) =>
        new Promise<void>((res) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return res();
          const force = setTimeout(() => proc.kill('SIGKILL'), graceMs);
          proc.once('exit', () => {
            clearTimeout(force);
            res();
          });
          proc.kill(signal);
        }),
    };
  });
}

/** What every `bindflow` process of the stack gets: its Temporal server and task queue, its log level, no codec. */
interface BindflowProcessEnv {
  address: string;
  taskQueue: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  extraEnv?: Record<string, string>;
}

/**
 * `node bin/bindflow.js <command>`, exactly as operators run it, with the stack's shared settings and the
 * command's own; ready once it logs `readyText`. BENCH_CPU_PROF=<dir>: `node --cpu-prof`, written on the graceful
 * SIGTERM stop (see bench/profile.ts).
 */
function spawnBindflow(
  command: 'worker' | 'api',
  env: BindflowProcessEnv,
  own: Record<string, string>,
  readyText: string,
  timeoutMs: number,
): Promise<ChildWorker> {
  const nodeArgs = cpuProfileNodeArgs(command);
  const proc = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'bindflow.js'), command], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: env.taskQueue,
      BINDFLOW_LOG_LEVEL: env.logLevel ?? 'info',
      BINDFLOW_PAYLOAD_KEY: '',
      ...own,
      ...env.extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(proc, readyText, timeoutMs);
}

export interface BindflowWorkerEnv extends BindflowProcessEnv {
  providerUrl: string;
  numberPool: string[];
  metricsPort: number;
}

/** `bindflow worker`; ready once it logs "worker started". */
export function spawnBindflowWorker(env: BindflowWorkerEnv, timeoutMs = 90_000): Promise<ChildWorker> {
  const own = {
    PRIVATENUMBER_BASE_URL: env.providerUrl,
    PRIVATENUMBER_APP_KEY: 'sim-app-key',
    PRIVATENUMBER_APP_SECRET: 'sim-app-secret',
    PRIVATENUMBER_NUMBER_POOL: env.numberPool.join(','),
    BINDFLOW_METRICS_PORT: String(env.metricsPort),
  };
  return spawnBindflow('worker', env, own, '"worker started"', timeoutMs);
}

export interface BindflowApiEnv extends BindflowProcessEnv {
  port: number;
  apiToken: string;
  appKey: string;
  appSecret: string;
}

/**
 * `bindflow api` (HTTP API and provider webhook on one port); ready once it logs "API listening". Its own process,
 * so its CPU is read apart from the simulator's and the load generator's.
 */
export function spawnBindflowApi(env: BindflowApiEnv, timeoutMs = 90_000): Promise<ChildWorker> {
  const own = {
    BINDFLOW_HOST: '127.0.0.1',
    BINDFLOW_PORT: String(env.port),
    BINDFLOW_API_TOKEN: env.apiToken,
    PRIVATENUMBER_APP_KEY: env.appKey,
    PRIVATENUMBER_APP_SECRET: env.appSecret,
  };
  return spawnBindflow('api', env, own, '"API listening"', timeoutMs);
}

/** The floor's worker: bare workflow and no-op activities, same concurrency settings as bindflow's. */
export function spawnFloorWorker(address: string, taskQueue: string, timeoutMs = 90_000): Promise<ChildWorker> {
  const nodeArgs = cpuProfileNodeArgs('floor-worker');
  const proc = spawn(process.execPath, [...nodeArgs, '-r', 'tsx/cjs', path.join(__dirname, 'floor', 'worker.ts')], {
    cwd: ROOT,
    env: { ...process.env, FLOOR_ADDRESS: address, FLOOR_TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(proc, 'FLOOR READY', timeoutMs);
}
