// The simulator's clock: simulated time runs `timeScale` times faster than real time, and tests can
// jump it forward; binding expiry, push retries and recording lifetimes all read this clock.

export interface SimClock {
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Moves simulated time forward (never backwards). */
  advance(seconds: number): void;
  readonly timeScale: number;
}

export function createClock(timeScale = 1, realNow: () => number = Date.now): SimClock {
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error('timeScale must be a positive number');
  const realStart = realNow();
  let offsetMs = 0;
  return {
    timeScale,
    now: () => realStart + (realNow() - realStart) * timeScale + offsetMs,
    advance(seconds: number) {
      if (!(seconds >= 0) || !Number.isFinite(seconds))
        throw new Error('advance: seconds must be a non-negative number');
      offsetMs += seconds * 1000;
    },
  };
}

/** UTC `yyyy-MM-dd HH:mm:ss`, the provider's format for record times and query `subscribeTime`. */
export function providerTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
