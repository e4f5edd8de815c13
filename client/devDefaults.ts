import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from '../lib/binaries';

// Working values `bindflow dev` sets for the local stack (never for production).
export const DEV_API_TOKEN = 'dev-token';
export const DEV_CALLBACK_SECRET = 'dev-callback-secret';
export const DEV_PORTS = { temporal: 7233, ui: 8233, simulator: 9080, api: 3000, metrics: 9464 } as const;

export const DEV_PAYLOAD_KEY_FILE = path.join(STATE_DIR, 'dev-payload-key');

/**
 * The CLI beside `npm start`: with no BINDFLOW_PAYLOAD_KEY of its own, it uses the key `bindflow dev`
 * generated, so `bindflow show` reads the local stack's encrypted runs without any set-up.
 */
export function withDevPayloadKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.BINDFLOW_PAYLOAD_KEY || !fs.existsSync(DEV_PAYLOAD_KEY_FILE)) return env;
  return { ...env, BINDFLOW_PAYLOAD_KEY: fs.readFileSync(DEV_PAYLOAD_KEY_FILE, 'utf8').trim() };
}
