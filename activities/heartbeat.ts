import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs, so that a worker that dies mid-call is noticed within the heartbeat
 * timeout (seconds) rather than the start-to-close timeout; outside an activity it just runs `work`.
 */
export async function withHeartbeat<T>(work: (beat: () => void) => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  const beat = () => ctx?.heartbeat();
  // No beat up front: most provider calls end well inside a second, and each heartbeat is an RPC and a
  // billable action. A worker that dies mid-call still misses the heartbeat timeout.
  const timer = ctx ? setInterval(beat, 1000) : undefined;
  try {
    return await work(beat);
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** The attempt number of the current activity (1 outside an activity). */
export function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
