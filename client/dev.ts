import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { loadEnv, type Env } from '../lib/config';
import { PROJECT_ROOT } from '../lib/binaries';
import { assertPortsFree, waitForTcp } from '../lib/ports';
import { startDevServer } from '../lib/temporalServer';
import type { Io } from './cli';
import {
  DEV_API_TOKEN,
  DEV_CALLBACK_ALLOW_HOSTS,
  DEV_CALLBACK_SECRET,
  DEV_PORTS,
  devDataDir,
  devPayloadKeyFile,
  devStackFile,
} from './devDefaults';
import { ServiceGroup, untilSignal } from './processes';
import { everyListenerOnLoopback } from '../lib/startupChecks';
import { parseNumberPool } from './pool';

export const DEV_HELP = `Usage: bindflow dev   (also: npm start)

Starts the whole local stack and prints every URL; Ctrl-C stops everything:
  - the Temporal dev server (gRPC 7233) with its Web UI (8233), data kept in .bindflow/temporal.db
    (SQLite, WAL) so a restart keeps every workflow, bindflow's search attributes registered;
  - the provider simulator on 9080 (not started when PRIVATENUMBER_BASE_URL is set: then the worker
    talks to that provider with PRIVATENUMBER_APP_KEY / PRIVATENUMBER_APP_SECRET);
  - the worker (metrics on 9464) and the HTTP API + webhook + codec server on 3000.
Working values are set for every unset variable: API token "${DEV_API_TOKEN}", a payload key generated
once into .bindflow/dev-payload-key, the simulator's app key and secret.`;

/** The dev payload key: generated once, kept in .bindflow/ so that restarts still decode old runs. */
function devPayloadKey(env: NodeJS.ProcessEnv): string {
  const file = devPayloadKeyFile(env);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

function uiOrigins(temporalAddress: string | undefined): string {
  const uiPort = Number((temporalAddress ?? `127.0.0.1:${DEV_PORTS.temporal}`).split(':').pop()) + 1000;
  return `http://127.0.0.1:${uiPort},http://localhost:${uiPort}`;
}

export function devEnvironment(given: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const useSimulator = !given.PRIVATENUMBER_BASE_URL;
  return {
    ...given,
    TEMPORAL_ADDRESS: given.TEMPORAL_ADDRESS ?? `127.0.0.1:${DEV_PORTS.temporal}`,
    BINDFLOW_API_TOKEN: given.BINDFLOW_API_TOKEN ?? DEV_API_TOKEN,
    BINDFLOW_CALLBACK_SECRET: given.BINDFLOW_CALLBACK_SECRET ?? DEV_CALLBACK_SECRET,
    BINDFLOW_PAYLOAD_KEY: given.BINDFLOW_PAYLOAD_KEY ?? devPayloadKey(given),
    BINDFLOW_RECONCILE_INTERVAL: given.BINDFLOW_RECONCILE_INTERVAL ?? '1m',
    // Local receivers (a callback server on this machine) are allowed, bodies carry the numbers as they are,
    // and /metrics, /readyz answer without the token (the API listens on 127.0.0.1 unless told otherwise).
    BINDFLOW_CALLBACK_ALLOW_HOSTS: given.BINDFLOW_CALLBACK_ALLOW_HOSTS ?? DEV_CALLBACK_ALLOW_HOSTS,
    BINDFLOW_CALLBACK_NUMBERS: given.BINDFLOW_CALLBACK_NUMBERS ?? 'full',
    BINDFLOW_METRICS_PUBLIC: given.BINDFLOW_METRICS_PUBLIC ?? '1',
    // The Web UI is served on the gRPC port + 1000: that origin may call the codec server.
    BINDFLOW_CODEC_CORS_ORIGINS: given.BINDFLOW_CODEC_CORS_ORIGINS ?? uiOrigins(given.TEMPORAL_ADDRESS),
    ...(useSimulator
      ? {
          PRIVATENUMBER_BASE_URL: `http://127.0.0.1:${given.BINDFLOW_SIMULATOR_PORT ?? DEV_PORTS.simulator}`,
          PRIVATENUMBER_APP_KEY: given.PRIVATENUMBER_APP_KEY ?? 'sim-app-key',
          PRIVATENUMBER_APP_SECRET: given.PRIVATENUMBER_APP_SECRET ?? 'sim-app-secret',
        }
      : {}),
  };
}

function temporalPort(env: Env): number {
  const port = Number(env.TEMPORAL_ADDRESS.split(':').pop());
  if (!Number.isInteger(port)) throw new Error(`TEMPORAL_ADDRESS: "${env.TEMPORAL_ADDRESS}" has no port`);
  return port;
}

export async function runDev(io: Io): Promise<number> {
  const useSimulator = !io.env.PRIVATENUMBER_BASE_URL;
  const childEnv = devEnvironment(io.env);
  const env = loadEnv(childEnv);
  const uiPort = temporalPort(env) + 1000;
  await assertPortsFree({
    'Temporal gRPC': temporalPort(env),
    'Temporal Web UI': uiPort,
    ...(useSimulator ? { simulator: env.BINDFLOW_SIMULATOR_PORT } : {}),
    API: env.BINDFLOW_PORT,
    ...(env.BINDFLOW_WEBHOOK_PORT ? { webhook: env.BINDFLOW_WEBHOOK_PORT } : {}),
    'worker metrics': env.BINDFLOW_METRICS_PORT,
  });
  // The webhook on its own listener when BINDFLOW_WEBHOOK_PORT is set (the simulator pushes there).
  const webhookBase = `http://127.0.0.1:${env.BINDFLOW_WEBHOOK_PORT ?? env.BINDFLOW_PORT}`;
  const group = new ServiceGroup();
  const stopped = untilSignal();
  try {
    io.out('bindflow dev: starting Temporal dev server…');
    const temporal = await startDevServer({
      port: temporalPort(env),
      uiPort,
      dbFile: path.join(devDataDir(io.env), 'temporal.db'),
      namespace: env.TEMPORAL_NAMESPACE,
      codecEndpoint: `http://127.0.0.1:${env.BINDFLOW_PORT}/codec`,
      stdio: 'ignore',
    });
    group.add({ name: 'Temporal dev server', stop: temporal.stop });

    if (useSimulator) {
      const { startSimulator, defaultPool } = require('../simulator') as typeof import('../simulator');
      const pool = defaultPool();
      const sim = await startSimulator({
        pool,
        port: env.BINDFLOW_SIMULATOR_PORT,
        appKey: env.PRIVATENUMBER_APP_KEY,
        appSecret: env.PRIVATENUMBER_APP_SECRET,
        pushUrl: `${webhookBase}/webhooks/privatenumber`,
      });
      group.add({ name: 'simulator', stop: sim.close });
      childEnv.PRIVATENUMBER_NUMBER_POOL = childEnv.PRIVATENUMBER_NUMBER_POOL ?? Object.values(pool).flat().join(',');
    }

    // The worker creates (or updates) the reconciliation Schedule at its start, as every worker does,
    // from childEnv's PRIVATENUMBER_NUMBER_POOL and BINDFLOW_RECONCILE_INTERVAL (every minute here).
    const worker = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'scripts', 'guard.js'),
        process.execPath,
        path.join(PROJECT_ROOT, 'bin', 'bindflow.js'),
        'worker',
      ],
      {
        env: childEnv,
        stdio: ['pipe', 'inherit', 'inherit'],
      },
    );
    group.add({
      name: 'worker',
      stop: () =>
        new Promise<void>((resolve) => {
          if (worker.exitCode !== null) return resolve();
          worker.once('exit', () => resolve());
          worker.kill('SIGTERM');
        }),
    });
    await waitForTcp(env.BINDFLOW_METRICS_PORT, '127.0.0.1', 120_000, () => worker.exitCode === null);

    const { startApi } = require('./apiMain') as typeof import('./apiMain');
    const api = await startApi(env, {
      trustUiOrigin: true,
      numberPool: parseNumberPool(childEnv.PRIVATENUMBER_NUMBER_POOL),
    });
    group.add({ name: 'API', stop: api.stop });

    const marker = devStackFile(io.env);
    fs.writeFileSync(marker, JSON.stringify({ temporalAddress: env.TEMPORAL_ADDRESS, pid: process.pid }) + '\n');
    group.add({ name: 'stack marker', stop: async () => fs.rmSync(marker, { force: true }) });
    io.out(
      [
        '',
        'bindflow dev is up:',
        `  Temporal Web UI     http://127.0.0.1:${uiPort}`,
        `  Temporal gRPC       ${env.TEMPORAL_ADDRESS} (namespace ${env.TEMPORAL_NAMESPACE}, task queue ${env.TEMPORAL_TASK_QUEUE})`,
        `  HTTP API            http://127.0.0.1:${env.BINDFLOW_PORT}/v1   (Authorization: Bearer ${env.BINDFLOW_API_TOKEN === DEV_API_TOKEN ? DEV_API_TOKEN : '<your BINDFLOW_API_TOKEN>'})`,
        `  Provider webhook    ${webhookBase}/webhooks/privatenumber`,
        `  Codec server        http://127.0.0.1:${env.BINDFLOW_PORT}/codec${everyListenerOnLoopback(env) ? '' : '   (needs the token: a listener is not on loopback)'}`,
        useSimulator
          ? `  Provider simulator  ${env.PRIVATENUMBER_BASE_URL}   (admin API under /_sim/)`
          : `  Provider            ${env.PRIVATENUMBER_BASE_URL}`,
        `  Worker metrics      http://127.0.0.1:${env.BINDFLOW_METRICS_PORT}/metrics`,
        '',
        'Try `npx bindflow demo` in another terminal. Ctrl-C stops everything.',
      ].join('\n'),
    );
    const result = await Promise.race([
      stopped,
      new Promise<'worker-exited'>((r) => worker.once('exit', () => r('worker-exited'))),
    ]);
    if (result === 'worker-exited') io.err('bindflow dev: the worker exited; stopping everything');
    io.out('bindflow dev: stopping…');
    await group.stopAll();
    return result === 'worker-exited' ? 1 : 0;
  } catch (err) {
    await group.stopAll();
    throw err;
  }
}
