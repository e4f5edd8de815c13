// Pushes from the platform to the customer: signed with X-AKSK, POSTed as JSON, retried after the
// platform's schedule (scaled by the simulated clock) until the receiver answers HTTP 200. Every
// attempt is kept so tests and operators can see exactly what was delivered and what was answered.

import { request } from 'undici';
import type { CallEventPush, FeePush, FeeRecord } from '../provider/schemas';
import { signHeaders } from '../provider/aksk';
import type { Logger } from '../lib/log';
import type { SimClock } from './clock';

export const DEFAULT_RETRY_MINUTES = [1, 4, 9, 106, 203, 300];
/** Records of calls ending within this many real milliseconds go out in one `fee` push. */
export const DEFAULT_FEE_BATCH_MS = 200;
export const MAX_FEE_RECORDS_PER_PUSH = 50;
const ATTEMPT_TIMEOUT_MS = 10_000;
const ANSWER_KEEP_CHARS = 500;
/** Finished pushes kept for GET /_sim/pushes; older ones are forgotten so a long run stays small. */
const MAX_FINISHED = 5000;

export type PushBody = CallEventPush | FeePush;

export interface PushAttempt {
  attempt: number;
  /** Simulated time of the attempt (ISO 8601). */
  at: string;
  /** HTTP status answered, absent when the request failed outright. */
  status?: number;
  /** The start of the answer body, or the network error. */
  answer?: string;
  error?: string;
}

export interface PushEntry {
  id: string;
  eventType: string;
  body: PushBody;
  url: string;
  createdAt: string;
  state: 'pending' | 'delivered' | 'failed';
  /** Simulated time of the next attempt, null once delivered or given up. */
  nextAttemptAt: string | null;
  attempts: PushAttempt[];
}

interface Internal extends PushEntry {
  dueAt: number | null;
}

export interface PushQueueOptions {
  clock: SimClock;
  pushUrl: string;
  appKey: string;
  appSecret: string;
  retryMinutes?: number[];
  feeBatchMs?: number;
  log: Logger;
}

export class PushQueue {
  private entries: Internal[] = [];
  private seq = 0;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private feeBuffer: FeeRecord[] = [];
  private feeTimer: NodeJS.Timeout | null = null;
  private readonly retryMinutes: number[];
  private readonly feeBatchMs: number;
  pushUrl: string;

  constructor(private readonly opts: PushQueueOptions) {
    this.retryMinutes = opts.retryMinutes ?? DEFAULT_RETRY_MINUTES;
    this.feeBatchMs = opts.feeBatchMs ?? DEFAULT_FEE_BATCH_MS;
    this.pushUrl = opts.pushUrl;
  }

  /** Starts the real-time ticker that notices due attempts as simulated time passes. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), 50);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.feeTimer) clearTimeout(this.feeTimer);
    this.timer = null;
    this.feeTimer = null;
    await this.running;
  }

  list(): PushEntry[] {
    return this.entries.map(({ dueAt: _dueAt, ...rest }) => structuredClone(rest));
  }

  reset(): void {
    this.entries = [];
    this.feeBuffer = [];
    if (this.feeTimer) clearTimeout(this.feeTimer);
    this.feeTimer = null;
  }

  enqueue(body: PushBody): PushEntry {
    const now = this.opts.clock.now();
    const entry: Internal = {
      id: `push-${++this.seq}`,
      eventType: body.eventType,
      body,
      url: this.pushUrl,
      createdAt: new Date(now).toISOString(),
      state: 'pending',
      nextAttemptAt: new Date(now).toISOString(),
      dueAt: now,
      attempts: [],
    };
    this.entries.push(entry);
    this.kick();
    return entry;
  }

  /** Call records are merged: those of calls ending close together share one push of at most 50. */
  addFeeRecord(record: FeeRecord): void {
    this.feeBuffer.push(record);
    if (this.feeBuffer.length >= MAX_FEE_RECORDS_PER_PUSH) return this.flushFees();
    if (!this.feeTimer) {
      this.feeTimer = setTimeout(() => this.flushFees(), this.feeBatchMs);
      this.feeTimer.unref();
    }
  }

  flushFees(): void {
    if (this.feeTimer) clearTimeout(this.feeTimer);
    this.feeTimer = null;
    while (this.feeBuffer.length) {
      const feeLst = this.feeBuffer.splice(0, MAX_FEE_RECORDS_PER_PUSH);
      this.enqueue({ eventType: 'fee', feeLst });
    }
  }

  /** Delivers everything due now (buffered call records included) and waits for it to finish. */
  async settle(): Promise<void> {
    this.flushFees();
    for (;;) {
      if (this.running) await this.running;
      if (!this.nextDue()) return;
      this.kick();
    }
  }

  /** Starts a delivery pass unless one is running; deliveries are sequential to keep event order. */
  kick(): void {
    if (this.running || !this.nextDue()) return;
    this.running = this.deliverDue().finally(() => {
      this.running = null;
    });
  }

  private pruneFinished(): void {
    let excess = this.entries.filter((e) => e.dueAt === null).length - MAX_FINISHED;
    if (excess <= 0) return;
    this.entries = this.entries.filter((e) => e.dueAt !== null || excess-- <= 0);
  }

  private nextDue(): Internal | undefined {
    const now = this.opts.clock.now();
    return this.entries.find((e) => e.dueAt !== null && e.dueAt <= now);
  }

  private async deliverDue(): Promise<void> {
    for (let e = this.nextDue(); e; e = this.nextDue()) await this.attempt(e);
  }

  private async attempt(entry: Internal): Promise<void> {
    const attempt: PushAttempt = {
      attempt: entry.attempts.length + 1,
      at: new Date(this.opts.clock.now()).toISOString(),
    };
    try {
      // Signed with real time: the receiver checks Created against its own wall clock.
      const res = await request(entry.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json;charset=UTF-8',
          ...signHeaders({ appKey: this.opts.appKey, appSecret: this.opts.appSecret }),
        },
        body: JSON.stringify(entry.body),
        headersTimeout: ATTEMPT_TIMEOUT_MS,
        bodyTimeout: ATTEMPT_TIMEOUT_MS,
      });
      attempt.status = res.statusCode;
      attempt.answer = (await res.body.text()).slice(0, ANSWER_KEEP_CHARS);
    } catch (err) {
      attempt.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    entry.attempts.push(attempt);
    const now = this.opts.clock.now();
    if (attempt.status === 200) {
      entry.state = 'delivered';
      entry.dueAt = null;
    } else {
      const delayMinutes = this.retryMinutes[entry.attempts.length - 1];
      if (delayMinutes === undefined) {
        entry.state = 'failed';
        entry.dueAt = null;
      } else {
        entry.dueAt = now + delayMinutes * 60_000;
      }
    }
    entry.nextAttemptAt = entry.dueAt === null ? null : new Date(entry.dueAt).toISOString();
    if (entry.dueAt === null) this.pruneFinished();
    this.opts.log.info('push attempt', {
      push: entry.id,
      eventType: entry.eventType,
      attempt: attempt.attempt,
      status: attempt.status,
      error: attempt.error,
      state: entry.state,
    });
  }
}
