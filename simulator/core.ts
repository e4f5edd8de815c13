// The simulated platform without its HTTP skin: bindings, calls, pushes, recordings, faults and
// the clock, shared by the provider API, the admin API and in-process tests.

import type { Logger } from '../lib/log';
import { maskNumber } from '../provider/mask';
import { BindingStore, DEFAULT_LIMITS, type AxBinding, type Limits } from './bindings';
import { placeCall, type CallRequest, type CallResult, type RecordingRef } from './calls';
import { createClock, type SimClock } from './clock';
import { FaultInjector, TokenBucket, DEFAULT_RATE_LIMIT, type RateLimit } from './faults';
import { AuthLockout, DEFAULT_AUTH_FAILURE_LIMIT } from './lockout';
import type { Pool } from './pool';
import { PushQueue } from './pushes';
import { createRng, type Rng } from './random';

/** recordDomain of every recording; any other domain is answered 1012007. */
export const RECORD_DOMAIN = 'record.bindflow-sim.local';
/** Recordings are kept 7 days after their call record; a download link is valid 3 days. */
export const RECORDING_KEEP_MS = 7 * 86_400_000;
export const RECORDING_LINK_MS = 3 * 86_400_000;

export interface CoreOptions {
  appKey: string;
  appSecret: string;
  pushUrl: string;
  timeScale: number;
  pool: Pool;
  pushRetryMinutes?: number[];
  feeBatchMs?: number;
  rateLimit: RateLimit;
  authFailureLimit: number;
  recordingEnabled: boolean;
  limits: Limits;
  seed?: number;
  log: Logger;
}

export const CORE_DEFAULTS = {
  appKey: 'sim-app-key',
  appSecret: 'sim-app-secret',
  pushUrl: 'http://127.0.0.1:3000/webhooks/privatenumber',
  timeScale: 1,
  rateLimit: DEFAULT_RATE_LIMIT,
  authFailureLimit: DEFAULT_AUTH_FAILURE_LIMIT,
  recordingEnabled: true,
  limits: DEFAULT_LIMITS,
};

/** The admin view of a binding (contract: subscriptionId, numA, numX, yb, expiresAt, userData). */
export interface BindingView {
  subscriptionId: string;
  numA: string;
  numX: string;
  yb: Array<{ numY: string; numB: string; expiresAt: string | null; auto: boolean }>;
  expiresAt: string | null;
  userData: string | null;
  areaCode: string;
  callDirection: number;
  recordFlag: boolean;
  createdAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function viewBinding(ax: AxBinding): BindingView {
  return {
    subscriptionId: ax.subscriptionId,
    numA: ax.numA,
    numX: ax.numX,
    yb: ax.yb.map((yb) => ({ numY: yb.numY, numB: yb.numB, expiresAt: iso(yb.expiresAt), auto: yb.auto })),
    expiresAt: iso(ax.expiresAt),
    userData: ax.userData ?? null,
    areaCode: ax.areaCode,
    callDirection: ax.callDirection,
    recordFlag: ax.recordFlag,
    createdAt: new Date(ax.createdAt).toISOString(),
  };
}

export class SimCore {
  readonly clock: SimClock;
  readonly rng: Rng;
  readonly store: BindingStore;
  readonly pushes: PushQueue;
  readonly faults: FaultInjector;
  readonly bucket: TokenBucket;
  readonly lockout: AuthLockout;
  readonly recordings = new Map<string, RecordingRef>();
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(readonly opts: CoreOptions) {
    this.clock = createClock(opts.timeScale);
    this.rng = createRng(opts.seed);
    this.store = new BindingStore(opts.pool, this.rng, opts.limits);
    this.pushes = new PushQueue({
      clock: this.clock,
      pushUrl: opts.pushUrl,
      appKey: opts.appKey,
      appSecret: opts.appSecret,
      retryMinutes: opts.pushRetryMinutes,
      feeBatchMs: opts.feeBatchMs,
      log: opts.log,
    });
    this.faults = new FaultInjector(this.rng);
    this.bucket = new TokenBucket(opts.rateLimit);
    this.lockout = new AuthLockout(opts.authFailureLimit);
  }

  start(): void {
    this.pushes.start();
    // Expiry is applied lazily on every read; this sweep only makes it visible in the log on time.
    this.expiryTimer = setInterval(() => this.sweep(), 1000);
    this.expiryTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    await this.pushes.stop();
  }

  now(): number {
    return this.clock.now();
  }

  advance(seconds: number): void {
    this.clock.advance(seconds);
    this.sweep();
    this.pushes.kick();
  }

  sweep(): void {
    const now = this.now();
    for (const [name, rec] of this.recordings)
      if (now - rec.createdAt > RECORDING_KEEP_MS) this.recordings.delete(name);
    for (const gone of this.store.sweep(now)) {
      this.opts.log.info(gone.numY ? 'YB expired' : 'AX expired', {
        subscriptionId: gone.subscriptionId,
        numY: gone.numY,
      });
    }
  }

  bindings(): BindingView[] {
    return this.store.list(this.now()).map(viewBinding);
  }

  call(req: CallRequest): CallResult {
    const placed = placeCall(req, {
      store: this.store,
      rng: this.rng,
      now: this.now(),
      appKey: this.opts.appKey,
      recordDomain: RECORD_DOMAIN,
    });
    for (const event of placed.events) this.pushes.enqueue(event);
    this.pushes.addFeeRecord(placed.record);
    if (placed.recording) this.recordings.set(placed.recording.objectName, placed.recording);
    this.opts.log.info('call', {
      from: maskNumber(req.from),
      to: maskNumber(req.to),
      stateCode: placed.result.stateCode,
      sessionId: placed.result.sessionId,
    });
    return placed.result;
  }

  /** The recording behind a download request, if it exists and is within its 7 days. */
  recording(domain: string, objectName: string): RecordingRef | undefined {
    const rec = this.recordings.get(objectName);
    if (!rec || rec.domain !== domain) return undefined;
    return this.now() - rec.createdAt <= RECORDING_KEEP_MS ? rec : undefined;
  }

  /** Forgets bindings, pushes, recordings, faults and lock-outs; the clock keeps running. */
  reset(): void {
    this.store.reset();
    this.pushes.reset();
    this.recordings.clear();
    this.faults.set([]);
    this.lockout.reset();
    this.bucket.refill();
  }
}
