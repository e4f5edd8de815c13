import net from 'node:net';
import type { Env } from './config';

// What `bindflow api` and `bindflow worker` refuse to start with (outside `bindflow dev`): a mistake in one
// variable must stop the process with a message naming it, not run with the simulator's public secret.

/** The simulator's public credentials: they sign its pushes, so anyone can forge a push with them. */
export const SIMULATOR_APP_KEY = 'sim-app-key';
export const SIMULATOR_APP_SECRET = 'sim-app-secret';
/** The least length of a bearer token (API and codec). */
export const MIN_TOKEN_LENGTH = 16;

/** A listen address or a Host name that only this machine reaches: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The name in a Host header (`127.0.0.1:3000`, `[::1]:3000`, `localhost`), without its port. */
export function hostHeaderName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\[([^\]]*)\](?::\d+)?$/.exec(header) ?? /^([^:]*)(?::\d+)?$/.exec(header);
  return m ? m[1] : undefined;
}

/**
 * A provider URL that can only be a simulator or a test double: plain http (the platform is served over
 * HTTPS only). Unset means the default, the local simulator.
 */
export function isSimulatorUrl(url: string | undefined): boolean {
  if (!url) return true;
  try {
    return new URL(url).protocol === 'http:';
  } catch {
    return false;
  }
}

/** Where the API's listeners are bound (the webhook's own listener only when BINDFLOW_WEBHOOK_PORT is set). */
export function listenerHosts(env: Pick<Env, 'BINDFLOW_HOST' | 'BINDFLOW_WEBHOOK_HOST' | 'BINDFLOW_WEBHOOK_PORT'>) {
  return {
    api: env.BINDFLOW_HOST,
    webhook: env.BINDFLOW_WEBHOOK_PORT !== undefined ? (env.BINDFLOW_WEBHOOK_HOST ?? env.BINDFLOW_HOST) : undefined,
  };
}

/** True when no listener of the API process is reachable from another machine. */
export function everyListenerOnLoopback(
  env: Pick<Env, 'BINDFLOW_HOST' | 'BINDFLOW_WEBHOOK_HOST' | 'BINDFLOW_WEBHOOK_PORT'>,
): boolean {
  const { api, webhook } = listenerHosts(env);
  return isLoopbackHost(api) && (webhook === undefined || isLoopbackHost(webhook));
}

/**
 * Every reason this process must not start, one line each naming its variable (empty: fine).
 * `given` is the environment as set (to tell "unset" from "set to the default").
 *
 * - worker: against a real provider (an https:// PRIVATENUMBER_BASE_URL) the key and secret must be set and
 *   not the simulator's. Unset, the URL is the local simulator's, which the worker then calls.
 * - api: it never calls the provider but verifies its pushes with the key and secret, so it takes the
 *   simulator's (or none) only when PRIVATENUMBER_BASE_URL is set to a simulator's http:// URL; and its
 *   tokens need 16+ characters, unless it runs against a simulator with every listener on loopback.
 */
export function startupProblems(role: 'api' | 'worker', given: NodeJS.ProcessEnv, env: Env): string[] {
  const problems: string[] = [];
  const credentials = (why: string) => {
    if (!given.PRIVATENUMBER_APP_KEY || env.PRIVATENUMBER_APP_KEY === SIMULATOR_APP_KEY)
      problems.push(
        `PRIVATENUMBER_APP_KEY: ${given.PRIVATENUMBER_APP_KEY ? "is the simulator's" : 'is not set'}; ${why}`,
      );
    if (!given.PRIVATENUMBER_APP_SECRET || env.PRIVATENUMBER_APP_SECRET === SIMULATOR_APP_SECRET)
      problems.push(
        `PRIVATENUMBER_APP_SECRET: ${given.PRIVATENUMBER_APP_SECRET ? "is the simulator's public secret" : 'is not set'}; ${why}`,
      );
  };
  const againstSimulator =
    role === 'api'
      ? Boolean(given.PRIVATENUMBER_BASE_URL) && isSimulatorUrl(given.PRIVATENUMBER_BASE_URL)
      : isSimulatorUrl(given.PRIVATENUMBER_BASE_URL);
  if (!againstSimulator)
    credentials(
      role === 'worker'
        ? `the provider ${env.PRIVATENUMBER_BASE_URL} needs the app's own`
        : "the webhook verifies the provider's pushes with them, and the simulator's are public " +
            "(set the app's own, or PRIVATENUMBER_BASE_URL to the simulator's http:// URL)",
    );
  if (role === 'api' && !(againstSimulator && everyListenerOnLoopback(env))) {
    if (env.BINDFLOW_API_TOKEN && env.BINDFLOW_API_TOKEN.length < MIN_TOKEN_LENGTH)
      problems.push(`BINDFLOW_API_TOKEN: must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 24)`);
    if (env.BINDFLOW_CODEC_TOKEN && env.BINDFLOW_CODEC_TOKEN.length < MIN_TOKEN_LENGTH)
      problems.push(
        `BINDFLOW_CODEC_TOKEN: must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 24)`,
      );
  }
  if (role === 'api' && env.BINDFLOW_CODEC_TOKEN && env.BINDFLOW_CODEC_TOKEN === env.BINDFLOW_API_TOKEN)
    problems.push('BINDFLOW_CODEC_TOKEN: must differ from BINDFLOW_API_TOKEN (it is handed to operators’ browsers)');
  return problems;
}
