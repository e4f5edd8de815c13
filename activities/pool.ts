import type { RelationEntry } from '../provider';
import { isNotFound, isProviderError } from '../provider';
import type { ProviderPort } from './ports';

// Finding bindings by privacy number. The query answers entries without a subscriptionId field; an AX
// without any YB is answered as one entry whose bindId is its subscriptionId (and some platforms add
// the field itself). That is enough for what we look for: a bind whose response was lost has no YB yet.

export interface AxOnNumber {
  numberX: string;
  subscriptionId: string | null;
  userData: string | null;
  subscribedAt: string | null;
  ybCount: number;
}

/** `yyyy-MM-dd HH:mm:ss` (UTC) → ISO 8601. */
function subscribeTimeToIso(value: string | undefined): string | null {
  if (!value) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(value);
  return m ? `${m[1]}T${m[2]}Z` : null;
}

export function subscriptionIdOf(entries: RelationEntry[]): string | null {
  for (const e of entries) {
    const explicit = (e as { subscriptionId?: unknown }).subscriptionId;
    if (typeof explicit === 'string' && explicit) return explicit;
  }
  const axOnly = entries.find((e) => !e.numY && !e.numB);
  return axOnly?.bindId ?? null;
}

/** The AX binding currently on X (one X serves one A at a time), or null. */
export async function axOnNumber(provider: ProviderPort, numberX: string): Promise<AxOnNumber | null> {
  let entries: RelationEntry[];
  try {
    entries = await provider.query({ relationNum: numberX });
  } catch (err) {
    // Nothing bound (1016001), or a number that is not (or no longer) the app's (1012001).
    if (isNotFound(err) || (isProviderError(err) && err.code === '1012001')) return null;
    throw err;
  }
  if (entries.length === 0) return null;
  const first = entries[0];
  return {
    numberX,
    subscriptionId: subscriptionIdOf(entries),
    userData: first.userData ?? null,
    subscribedAt: subscribeTimeToIso(first.subscribeTime),
    ybCount: entries.filter((e) => e.numY || e.numB).length,
  };
}

/** Where a sweep got to: `next` numbers of the pool checked, with what they held. */
export interface SweepProgress {
  userData: string;
  poolSize: number;
  next: number;
  found: AxOnNumber[];
}

/** Transient query failures are retried here, so one failed query out of hundreds does not fail a sweep. */
const QUERY_TRIES = 6;

async function queryWithRetries(provider: ProviderPort, numberX: string): Promise<AxOnNumber | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await axOnNumber(provider, numberX);
    } catch (err) {
      // Flow control and IP blocks ask for a minute or more: leave that wait to the activity's retry policy.
      const quick = isProviderError(err) && err.retryable && (err.retryAfterMs ?? 0) <= 1000;
      if (!quick || attempt >= QUERY_TRIES) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}

/**
 * The numbers a strict-area bind can have landed on: the area's landline-style numbers (`+86` + the
 * area code without its 0) and any number that does not show its area (mobile-style).
 */
export function candidatesForArea(numberPool: readonly string[], areaCode: string): string[] {
  const prefix = `+86${areaCode.replace(/^0/, '')}`;
  const mobileStyle = /^\+861[3-9]/;
  const hits = numberPool.filter((n) => n.startsWith(prefix) || mobileStyle.test(n));
  return hits.length > 0 ? hits : [...numberPool];
}

/**
 * Every AX on the pool carrying exactly this userData. `resume` continues an earlier sweep for the same
 * userData and pool (only safe once no bind with this userData can still happen); `onProgress` sees
 * each step, for heartbeats.
 */
export async function findByUserData(
  provider: ProviderPort,
  numberPool: readonly string[],
  userData: string,
  onProgress: (p: SweepProgress) => void = () => undefined,
  resume?: SweepProgress,
): Promise<AxOnNumber[]> {
  const usable = resume && resume.userData === userData && resume.poolSize === numberPool.length;
  const progress: SweepProgress = usable
    ? { ...resume, found: [...resume.found] }
    : { userData, poolSize: numberPool.length, next: 0, found: [] };
  for (; progress.next < numberPool.length; progress.next++) {
    onProgress(progress);
    const ax = await queryWithRetries(provider, numberPool[progress.next]);
    if (ax && ax.userData === userData) progress.found.push(ax);
  }
  onProgress(progress);
  return progress.found;
}

// Paging a sweep over a large pool (reconciliation): queries paced below the platform's flow control,
// a bounded number in flight, flow control (1010010) answered by pausing every query of the worker.

/** Flow control asks for a minute's wait (the provider's documentation). */
export const FLOW_CONTROL_PAUSE_MS = 60_000;
const MAX_FLOW_CONTROL_PAUSE_MS = 5 * 60_000;

export interface PacerOptions {
  /** The most queries per second. */
  perSecond: number;
  /** Pause after a flow-control answer; doubles while flow control repeats (at most 5 minutes by default). */
  flowControlPauseMs?: number;
  maxFlowControlPauseMs?: number;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
}

/**
 * Spaces queries at least `1000 / perSecond` ms apart, whoever makes them (share one pacer for every
 * query of the worker). A flow-control answer pauses everyone, then halves the rate (never below 1/16
 * of it), which each successful answer raises again by a twentieth.
 */
export class QueryPacer {
  private readonly base: number;
  private rate: number;
  private nextAt = -Infinity;
  private pausedUntil = -Infinity;
  private strikes = 0;
  private readonly pauseMs: number;
  private readonly maxPauseMs: number;
  private readonly now: () => number;

  constructor(opts: PacerOptions) {
    if (!(opts.perSecond > 0) || !Number.isFinite(opts.perSecond)) throw new Error('perSecond must be positive');
    this.base = opts.perSecond;
    this.rate = opts.perSecond;
    this.pauseMs = opts.flowControlPauseMs ?? FLOW_CONTROL_PAUSE_MS;
    this.maxPauseMs = Math.max(this.pauseMs, opts.maxFlowControlPauseMs ?? MAX_FLOW_CONTROL_PAUSE_MS);
    this.now = opts.now ?? Date.now;
  }

  /** The current rate (queries per second). */
  get perSecond(): number {
    return this.rate;
  }

  /** Waits (with `sleep`) for this query's turn. */
  async acquire(sleep: (ms: number) => Promise<void>): Promise<void> {
    for (;;) {
      const now = this.now();
      const at = Math.max(now, this.nextAt, this.pausedUntil);
      this.nextAt = at + 1000 / this.rate;
      if (at <= now) return;
      await sleep(at - now);
      // A flow-control answer that came in meanwhile voids this turn.
      if (this.now() >= this.pausedUntil) return;
    }
  }

  /** The provider answered a query with anything but flow control. */
  answered(): void {
    this.strikes = 0;
    this.rate = Math.min(this.base, this.rate + this.base / 20);
  }

  /** The provider answered flow control: pause every query, then go on slower. Returns the pause (ms). */
  flowControlled(): number {
    const now = this.now();
    // The other queries in flight when the first answer came get the same answer: one event.
    if (now < this.pausedUntil) return this.pausedUntil - now;
    const pause = Math.min(this.maxPauseMs, this.pauseMs * 2 ** this.strikes);
    this.strikes++;
    this.pausedUntil = now + pause;
    this.nextAt = this.pausedUntil;
    this.rate = Math.max(this.base / 16, this.rate / 2);
    return pause;
  }
}

export function isFlowControl(err: unknown): boolean {
  return isProviderError(err) && err.code === '1010010';
}

export interface PacedQueryOptions {
  pacer: QueryPacer;
  /** Sleeps (an activity's cancellable, heartbeating sleep). */
  sleep: (ms: number) => Promise<void>;
  /** Tries per number when flow control answers (default 3). */
  flowControlTries?: number;
}

/**
 * `axOnNumber` in its paced turn; flow control pauses the pacer and tries again, other transient
 * failures that ask for no long wait are retried a few times. What still fails is thrown.
 */
export async function pacedAxOnNumber(
  provider: ProviderPort,
  numberX: string,
  opts: PacedQueryOptions,
): Promise<AxOnNumber | null> {
  const flowControlTries = opts.flowControlTries ?? 3;
  let throttled = 0;
  for (let attempt = 1; ; attempt++) {
    await opts.pacer.acquire(opts.sleep);
    try {
      const ax = await axOnNumber(provider, numberX);
      opts.pacer.answered();
      return ax;
    } catch (err) {
      if (isFlowControl(err)) {
        opts.pacer.flowControlled();
        if (++throttled >= flowControlTries) throw err;
        continue;
      }
      if (isProviderError(err)) opts.pacer.answered();
      const quick = isProviderError(err) && err.retryable && (err.retryAfterMs ?? 0) <= 1000;
      if (!quick || attempt - throttled >= 3) throw err;
      await opts.sleep(Math.min(2000, 100 * 2 ** attempt));
    }
  }
}

/**
 * Runs `fn` on every item, at most `concurrency` at once. The first error thrown by `fn` stops the
 * others from taking new items and is rethrown once those in flight have settled.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  const lanes = Math.max(1, Math.min(Math.floor(concurrency), items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failure) throw failure.err;
}
