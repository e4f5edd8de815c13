// startSimulator(): the local PrivateNumber platform in-process, on its own HTTP port.

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../lib/log';
import { handleAdmin } from './adminApi';
import { DEFAULT_LIMITS, type Limits } from './bindings';
import type { CallRequestInput, CallResult } from './calls';
import { CallRequestSchema } from './calls';
import { CORE_DEFAULTS, SimCore, type BindingView } from './core';
import type { FaultRule, RateLimit } from './faults';
import { FaultsBodySchema } from './faults';
import { sendAdminError } from './http';
import { defaultPool, type Pool } from './pool';
import { ProviderApi } from './providerApi';
import type { PushEntry } from './pushes';
import type { TlsMaterial } from './tls';

export interface SimulatorOptions {
  /** 0 = a random free port (tests). Default 0. */
  port?: number;
  host?: string;
  appKey?: string;
  appSecret?: string;
  pushUrl?: string;
  /** Simulated seconds per real second (push retries, expiry). Default 1. */
  timeScale?: number;
  /** Privacy numbers per area code (leading 0), global format. Default: see simulator/pool.ts. */
  pool?: Pool;
  /** Minutes between push attempts. Default [1, 4, 9, 106, 203, 300]. */
  pushRetryMinutes?: number[];
  /** Real milliseconds during which call records are merged into one `fee` push. Default 200. */
  feeBatchMs?: number;
  rateLimit?: RateLimit;
  /** Failed authentications within 10 simulated minutes that block the IP for 30. Default 10. */
  authFailureLimit?: number;
  /** When false, the recording API answers 1012012. Default true. */
  recordingEnabled?: boolean;
  /** The platform's binding limits (tests may lower them). */
  limits?: Partial<Limits>;
  /** Seed of number allocation and ids, for reproducible runs. */
  seed?: number;
  logger?: Logger;
  /** Serve HTTPS with this key and certificate (PEM), as the real platform does. Default: plain HTTP. */
  tls?: TlsMaterial;
}

export interface Simulator {
  url: string;
  port: number;
  appKey: string;
  appSecret: string;
  close(): Promise<void>;
  /** Moves the simulated clock forward; expiry and due push retries happen at once. */
  advance(seconds: number): void;
  /** Simulated time. */
  now(): Date;
  bindings(): BindingView[];
  pushes(): PushEntry[];
  call(req: CallRequestInput): CallResult;
  setFaults(rules: FaultRule[]): void;
  setPushUrl(url: string): void;
  /** Sends buffered call records and waits until no push attempt is due. */
  settlePushes(): Promise<void>;
  reset(): void;
  /** The underlying model, for tests that need more. */
  core: SimCore;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const log = opts.logger ?? createLogger('simulator');
  const core = new SimCore({
    appKey: opts.appKey ?? CORE_DEFAULTS.appKey,
    appSecret: opts.appSecret ?? CORE_DEFAULTS.appSecret,
    pushUrl: opts.pushUrl ?? CORE_DEFAULTS.pushUrl,
    timeScale: opts.timeScale ?? CORE_DEFAULTS.timeScale,
    pool: opts.pool ?? defaultPool(),
    pushRetryMinutes: opts.pushRetryMinutes,
    feeBatchMs: opts.feeBatchMs,
    rateLimit: opts.rateLimit ?? CORE_DEFAULTS.rateLimit,
    authFailureLimit: opts.authFailureLimit ?? CORE_DEFAULTS.authFailureLimit,
    recordingEnabled: opts.recordingEnabled ?? CORE_DEFAULTS.recordingEnabled,
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    seed: opts.seed,
    log,
  });
  const provider = new ProviderApi(core);

  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    (async () => {
      if (await provider.handle(req, res, url)) return;
      if (await handleAdmin(core, req, res, url, () => provider.reset())) return;
      sendAdminError(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
    })().catch((err: unknown) => {
      log.error('request failed', { err });
      if (!res.headersSent) sendAdminError(res, 500, 'INTERNAL', 'simulator error');
      else res.destroy();
    });
  };
  const server = opts.tls
    ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
    : http.createServer(handler);

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  core.start();
  const port = (server.address() as AddressInfo).port;
  // A wildcard address is not something a client can dial: advertise loopback instead.
  const dialHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `${opts.tls ? 'https' : 'http'}://${dialHost.includes(':') ? `[${dialHost}]` : dialHost}:${port}`;
  log.info('simulator listening', { url, pushUrl: core.pushes.pushUrl, timeScale: core.clock.timeScale });

  return {
    url,
    port,
    appKey: core.opts.appKey,
    appSecret: core.opts.appSecret,
    core,
    async close() {
      await core.stop();
      for (const res of provider.hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    advance: (seconds) => core.advance(seconds),
    now: () => new Date(core.now()),
    bindings: () => core.bindings(),
    pushes: () => core.pushes.list(),
    call: (req) => core.call(CallRequestSchema.parse(req)),
    setFaults: (rules) => core.faults.set(FaultsBodySchema.parse({ rules }).rules),
    setPushUrl: (pushUrl) => {
      core.pushes.pushUrl = pushUrl;
    },
    settlePushes: () => core.pushes.settle(),
    reset: () => {
      core.reset();
      provider.reset();
    },
  };
}

export { defaultPool } from './pool';
export type { Pool } from './pool';
export type { BindingView } from './core';
export type { CallRequestInput, CallResult } from './calls';
export type { FaultRule, RateLimit } from './faults';
export type { PushEntry, PushAttempt } from './pushes';
export { selfSignedCert, opensslAvailable, type TlsMaterial } from './tls';
