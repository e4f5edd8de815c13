// Pushes from the platform to the customer: signed with X-AKSK, POSTed as JSON, retried after the
// platform's schedule (scaled by the simulated clock) until the receiver answers HTTP 200. Every
// attempt is kept so tests and operators can see exactly what was delivered and what was answered.
//
// Delivery [simulator's choice; the platform documents no order]: the pushes of one call go one at a time, in the
// order the call produced them (callin → … → disconnect), and a call record waits for the earlier pushes of every
// call it holds; pushes of different calls go concurrently (at most MAX_IN_FLIGHT at once), as a platform pushing
// from many nodes does. A push waiting for its retry holds nothing up.

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
/** Push attempts under way at once, across calls. */
export const MAX_IN_FLIGHT = 32;

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
  /** The calls (sessionIds) this push belongs to: one for a call event, each record's for a call record push. */
  lanes: string[];
}

function lanesOf(body: PushBody, id: string): string[] {
  if (body.eventType === 'fee') {
    const sessions = (body as FeePush).feeLst.map((r) => r.sessionId ?? `icid:${r.icid}`);
    return sessions.length ? [...new Set(sessions)] : [id];
  }
  return [(body as CallEventPush).statusInfo.sessionId];
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
  /** Entries with an attempt to come (due now or later), in creation order. */
  private pending: Internal[] = [];
  private finishedCount = 0;
  private seq = 0;
  /** Attempts under way, and the calls they hold. */
  private readonly inFlight = new Map<Internal, Promise<void>>();
  private readonly busyLanes = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private feeBuffer: FeeRecord[] = [];
  private feeTimer: NodeJS.Timeout | null = null;
  private readonly retryMinutes: number[];
  private readonly feeBatchMs: number;
  pushUrl: string;
  /** Told of every attempt's answer (the benchmark counts accepted pushes without sitting inside the receiver). */
  onAnswered: ((body: PushBody, status: number | undefined) => void) | null = null;

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
    // An attempt that ends starts the next due one of its call: wait until none is under way.
    while (this.inFlight.size) await Promise.all(this.inFlight.values());
  }

  list(): PushEntry[] {
    return this.entries.map(({ dueAt: _dueAt, ...rest }) => structuredClone(rest));
  }

  reset(): void {
    this.entries = [];
    this.pending = [];
    this.finishedCount = 0;
    this.feeBuffer = [];
    if (this.feeTimer) clearTimeout(this.feeTimer);
    this.feeTimer = null;
  }

  enqueue(body: PushBody): PushEntry {
    const now = this.opts.clock.now();
    const id = `push-${++this.seq}`;
    const entry: Internal = {
      id,
      eventType: body.eventType,
      body,
      url: this.pushUrl,
      createdAt: new Date(now).toISOString(),
      state: 'pending',
      nextAttemptAt: new Date(now).toISOString(),
      dueAt: now,
      attempts: [],
      lanes: lanesOf(body, id),
    };
    this.entries.push(entry);
    this.pending.push(entry);
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
      this.kick();
      if (this.inFlight.size === 0) return; // nothing under way after a kick: nothing is due
      await Promise.race(this.inFlight.values());
    }
  }

  /** Starts every due attempt that its calls' order and MAX_IN_FLIGHT allow. */
  kick(): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) return;
    const now = this.opts.clock.now();
    // A call busy with an attempt, or with an earlier push due and still waiting, holds its later pushes back.
    const held = new Set(this.busyLanes);
    for (const e of this.pending) {
      if (e.dueAt === null || e.dueAt > now || this.inFlight.has(e)) continue;
      if (e.lanes.some((l) => held.has(l))) {
        for (const l of e.lanes) held.add(l);
        continue;
      }
      for (const l of e.lanes) {
        held.add(l);
        this.busyLanes.add(l);
      }
      const run = this.attempt(e)
        .catch((err: unknown) => this.opts.log.error('push attempt failed', { push: e.id, err }))
        .finally(() => {
          this.inFlight.delete(e);
          for (const l of e.lanes) this.busyLanes.delete(l);
          this.kick();
        });
      this.inFlight.set(e, run);
      if (this.inFlight.size >= MAX_IN_FLIGHT) return;
    }
  }

  /** Forgets the oldest finished pushes past MAX_FINISHED (in batches, so a long run stays cheap). */
  private pruneFinished(): void {
    this.finishedCount++;
    if (this.finishedCount <= MAX_FINISHED + MAX_FINISHED / 10) return;
    let excess = this.finishedCount - MAX_FINISHED;
    this.entries = this.entries.filter((e) => e.dueAt !== null || excess-- <= 0);
    this.finishedCount = MAX_FINISHED;
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
    try {
      this.onAnswered?.(entry.body, attempt.status);
    } catch {
      // an observer's failure is not the push's
    }
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
    if (entry.dueAt === null) {
      this.pending = this.pending.filter((e) => e !== entry);
      this.pruneFinished();
    }
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
