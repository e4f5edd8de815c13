// A FIFO lock for workflow code. `await condition(() => !busy); busy = true` is not one: the SDK wakes
// every waiting condition whose predicate holds in the same pass, so two waiters enter together. Here
// each caller chains onto the promise of the one before it, so exactly one body runs at a time, in the
// order the callers arrived (deterministic: plain promises, no timers).

export class FifoLock {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  /** No body is running or waiting. */
  get idle(): boolean {
    return this.queued === 0;
  }

  async run<T>(body: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let unlock!: () => void;
    this.tail = new Promise<void>((resolve) => (unlock = resolve));
    this.queued++;
    try {
      await before;
      return await body();
    } finally {
      this.queued--;
      unlock();
    }
  }
}
