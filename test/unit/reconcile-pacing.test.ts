import { forEachConcurrently, pacedAxOnNumber, QueryPacer } from '../../activities/pool';
import type { ProviderPort } from '../../activities/ports';
import { errorFromResult } from '../../provider';

// Reconciliation's pacing on a fake clock (jest's modern fake timers fake Date.now and setTimeout):
// the rate holds with several queries in flight, and flow control (1010010) pauses, then slows, them all.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function numbers(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `+8675528${String(i).padStart(6, '0')}`);
}

/** A provider answering "nothing bound" after `latencyMs`, flow control for the queries `throttle` picks. */
function fakeProvider(opts: { latencyMs: number; throttle?: (nth: number, at: number) => boolean }) {
  const starts: number[] = [];
  const throttledAt: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const provider = {
    async query() {
      const at = Date.now();
      starts.push(at);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await sleep(opts.latencyMs);
        if (opts.throttle?.(starts.length, at)) {
          throttledAt.push(at);
          throw errorFromResult('query', '1010010', 'flow control', 403);
        }
        throw errorFromResult('query', '1016001', 'not bound', 403);
      } finally {
        inFlight--;
      }
    },
  } as unknown as ProviderPort;
  return { provider, starts, throttledAt, maxInFlight: () => maxInFlight };
}

/** The shortest gap between two consecutive query starts in [from, to). */
function minGap(starts: number[], from = -Infinity, to = Infinity): number {
  const s = starts.filter((t) => t >= from && t < to).sort((a, b) => a - b);
  let min = Infinity;
  for (let i = 1; i < s.length; i++) min = Math.min(min, s[i] - s[i - 1]);
  return min;
}

async function runToEnd<T>(p: Promise<T>): Promise<T> {
  let settled = false;
  const guarded = p.finally(() => (settled = true));
  for (let i = 0; i < 10_000 && !settled; i++) await jest.advanceTimersByTimeAsync(50);
  return guarded;
}

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

test('queries are spaced to the rate, with at most `concurrency` in flight', async () => {
  const fake = fakeProvider({ latencyMs: 300 });
  const pacer = new QueryPacer({ perSecond: 10 });
  const pool = numbers(60);
  const t0 = Date.now();
  await runToEnd(
    forEachConcurrently(pool, 4, async (n) => {
      expect(await pacedAxOnNumber(fake.provider, n, { pacer, sleep })).toBeNull();
    }),
  );
  expect(fake.starts).toHaveLength(60);
  expect(minGap(fake.starts)).toBeGreaterThanOrEqual(100);
  // 60 queries at 10/s: about 6 s, not the 4.5 s that 4 lanes of 300 ms would take unpaced.
  expect(fake.starts[59] - t0).toBeGreaterThanOrEqual(5_900);
  expect(fake.starts[59] - t0).toBeLessThan(6_500);
  expect(fake.maxInFlight()).toBeGreaterThan(1);
  expect(fake.maxInFlight()).toBeLessThanOrEqual(4);
});

test('the pacer holds the rate between sweeps and never bursts after idling', async () => {
  const pacer = new QueryPacer({ perSecond: 5 });
  const times: number[] = [];
  const take = async () => {
    await pacer.acquire(sleep);
    times.push(Date.now());
  };
  await runToEnd(Promise.all([take(), take(), take()]));
  await jest.advanceTimersByTimeAsync(10_000);
  await runToEnd(Promise.all([take(), take(), take()]));
  expect(minGap(times)).toBeGreaterThanOrEqual(200);
  expect(times[3] - times[2]).toBeGreaterThanOrEqual(10_000);
});

test('flow control pauses every query, then halves the rate, which recovers as answers come', async () => {
  let firstThrottle = Infinity;
  const fake = fakeProvider({
    latencyMs: 50,
    // From the 20th query on, the platform says "flow control" for one second of real time.
    throttle: (nth, at) => {
      if (nth === 20) firstThrottle = at;
      return at >= firstThrottle && at < firstThrottle + 1_000;
    },
  });
  const pacer = new QueryPacer({ perSecond: 20, flowControlPauseMs: 5_000 });
  const pool = numbers(80);
  const results = new Map<string, unknown>();
  await runToEnd(
    forEachConcurrently(pool, 3, async (n) => {
      results.set(n, await pacedAxOnNumber(fake.provider, n, { pacer, sleep }));
    }),
  );
  // Every number was answered in the end: a flow-controlled query is tried again after the pause.
  expect(results.size).toBe(80);
  expect([...results.values()].every((v) => v === null)).toBe(true);
  expect(fake.throttledAt.length).toBeGreaterThanOrEqual(1);
  // Several queries in flight got the same answer: one pause, not one per answer.
  const lastThrottledAt = Math.max(...fake.throttledAt);
  const pauseEnds = lastThrottledAt + 50 + 5_000;
  expect(fake.starts.filter((t) => t > lastThrottledAt && t < lastThrottledAt + 5_000)).toEqual([]);
  // Right after the pause, the rate is half of 20/s: 100 ms between queries, then it recovers to 50 ms.
  const after = fake.starts.filter((t) => t >= pauseEnds - 50).sort((a, b) => a - b);
  expect(after[1] - after[0]).toBeGreaterThanOrEqual(100);
  expect(minGap(after)).toBeGreaterThanOrEqual(50);
  expect(pacer.perSecond).toBe(20);
});

test('flow control that persists makes each pause longer, and a number gives up after three tries', async () => {
  const fake = fakeProvider({ latencyMs: 10, throttle: () => true });
  const pacer = new QueryPacer({ perSecond: 10, flowControlPauseMs: 1_000, maxFlowControlPauseMs: 3_000 });
  const settled = runToEnd(
    pacedAxOnNumber(fake.provider, '+8675528000001', { pacer, sleep }).then(
      () => 'answered',
      (err: { code?: string }) => err.code,
    ),
  );
  expect(await settled).toBe('1010010');
  expect(fake.starts).toHaveLength(3);
  // Pauses of 1 s, then 2 s (doubled), after each flow-control answer.
  expect(fake.starts[1] - fake.starts[0]).toBeGreaterThanOrEqual(1_000 + 10);
  expect(fake.starts[2] - fake.starts[1]).toBeGreaterThanOrEqual(2_000 + 10);
  expect(pacer.perSecond).toBeCloseTo(10 / 8);
  // The third answer paused it 3 s (4 s capped); past that pause, a fourth is capped likewise.
  await jest.advanceTimersByTimeAsync(3_000);
  expect(pacer.flowControlled()).toBe(3_000);
  expect(pacer.perSecond).toBeCloseTo(10 / 16);
});

test('forEachConcurrently stops taking items after a failure and rethrows it', async () => {
  jest.useRealTimers();
  const seen: number[] = [];
  await expect(
    forEachConcurrently([1, 2, 3, 4, 5, 6], 2, async (n) => {
      seen.push(n);
      await new Promise((r) => setImmediate(r));
      if (n === 2) throw new Error('cancelled');
    }),
  ).rejects.toThrow('cancelled');
  expect(seen.length).toBeLessThan(6);
});
