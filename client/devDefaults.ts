import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from '../lib/binaries';

// Working values `bindflow dev` sets for the local stack (never for production).
export const DEV_API_TOKEN = 'dev-token';
export const DEV_CALLBACK_SECRET = 'dev-callback-secret';
/** Callback receivers `bindflow dev` allows on this machine (everywhere else loopback is refused). */
export const DEV_CALLBACK_ALLOW_HOSTS = 'localhost,127.0.0.1,::1';
export const DEV_PORTS = { temporal: 7233, ui: 8233, simulator: 9080, api: 3000, metrics: 9464 } as const;

/** Where `bindflow dev` keeps Temporal's database and its payload key: $BINDFLOW_DATA_DIR or .bindflow/. */
export function devDataDir(env: NodeJS.ProcessEnv): string {
  return env.BINDFLOW_DATA_DIR ? path.resolve(env.BINDFLOW_DATA_DIR) : STATE_DIR;
}

export function devPayloadKeyFile(env: NodeJS.ProcessEnv): string {
  return path.join(devDataDir(env), 'dev-payload-key');
}

/** Written by a running `bindflow dev` (removed when it stops): which Temporal its key belongs to. */
export function devStackFile(env: NodeJS.ProcessEnv): string {
  return path.join(devDataDir(env), 'dev-stack.json');
}

/**
 * The CLI beside `npm start`: with no BINDFLOW_PAYLOAD_KEY of its own and aimed at the running local
 * stack's Temporal, it uses the key `bindflow dev` generated, so `bindflow show` reads the stack's
 * encrypted runs without set-up. Aimed anywhere else, it never guesses a key.
 */
export function withDevPayloadKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.BINDFLOW_PAYLOAD_KEY) return env;
  try {
    const stack = JSON.parse(fs.readFileSync(devStackFile(env), 'utf8')) as { temporalAddress?: string };
    const target = env.TEMPORAL_ADDRESS ?? `127.0.0.1:${DEV_PORTS.temporal}`;
    if (stack.temporalAddress !== target) return env;
    return { ...env, BINDFLOW_PAYLOAD_KEY: fs.readFileSync(devPayloadKeyFile(env), 'utf8').trim() };
  } catch {
    return env;
  }
}

/** The simulator of the local stack: PRIVATENUMBER_BASE_URL when set, else the dev simulator's port. */
export function simulatorUrl(given: NodeJS.ProcessEnv, env: { BINDFLOW_SIMULATOR_PORT: number }): string {
  return given.PRIVATENUMBER_BASE_URL ?? `http://127.0.0.1:${env.BINDFLOW_SIMULATOR_PORT}`;
}
