import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from '../lib/binaries';

// Working values `bindflow dev` sets for the local stack (never for production).
export const DEV_API_TOKEN = 'dev-token';
export const DEV_CALLBACK_SECRET = 'dev-callback-secret';
export const DEV_PORTS = { temporal: 7233, ui: 8233, simulator: 9080, api: 3000, metrics: 9464 } as const;

/** Where `bindflow dev` keeps Temporal's database and its payload key: $BINDFLOW_DATA_DIR or .bindflow/. */
export function devDataDir(env: NodeJS.ProcessEnv): string {
  return env.BINDFLOW_DATA_DIR ? path.resolve(env.BINDFLOW_DATA_DIR) : STATE_DIR;
}

export function devPayloadKeyFile(env: NodeJS.ProcessEnv): string {
  return path.join(devDataDir(env), 'dev-payload-key');
}

/**
 * The CLI beside `npm start`: with no BINDFLOW_PAYLOAD_KEY of its own, it uses the key `bindflow dev`
 * generated, so `bindflow show` reads the local stack's encrypted runs without any set-up.
 */
export function withDevPayloadKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = devPayloadKeyFile(env);
  if (env.BINDFLOW_PAYLOAD_KEY || !fs.existsSync(file)) return env;
  return { ...env, BINDFLOW_PAYLOAD_KEY: fs.readFileSync(file, 'utf8').trim() };
}

/** The simulator of the local stack: PRIVATENUMBER_BASE_URL when set, else the dev simulator's port. */
export function simulatorUrl(given: NodeJS.ProcessEnv, env: { BINDFLOW_SIMULATOR_PORT: number }): string {
  return given.PRIVATENUMBER_BASE_URL ?? `http://127.0.0.1:${env.BINDFLOW_SIMULATOR_PORT}`;
}
