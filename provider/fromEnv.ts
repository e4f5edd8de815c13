// Builds the client from the contract's environment variables (lib/config.ts's Env fits this shape).
import { readFileSync } from 'node:fs';
import { PrivateNumberClient } from './client';
import type { PrivateNumberClientOptions } from './client';

export interface ProviderEnv {
  PRIVATENUMBER_BASE_URL: string;
  PRIVATENUMBER_APP_KEY: string;
  PRIVATENUMBER_APP_SECRET: string;
  /** PEM file of an extra CA to trust (tests, private gateways). */
  PRIVATENUMBER_CA_FILE?: string | undefined;
}

export function clientOptionsFromEnv(
  env: ProviderEnv,
  extra: Partial<PrivateNumberClientOptions> = {},
): PrivateNumberClientOptions {
  return {
    baseUrl: env.PRIVATENUMBER_BASE_URL,
    appKey: env.PRIVATENUMBER_APP_KEY,
    appSecret: env.PRIVATENUMBER_APP_SECRET,
    // read once at start: a missing file is a configuration error worth failing on immediately
    ...(env.PRIVATENUMBER_CA_FILE ? { ca: readFileSync(env.PRIVATENUMBER_CA_FILE) } : {}),
    ...extra,
  };
}

export function clientFromEnv(env: ProviderEnv, extra: Partial<PrivateNumberClientOptions> = {}): PrivateNumberClient {
  return new PrivateNumberClient(clientOptionsFromEnv(env, extra));
}
