import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs, so that a worker that dies mid-call is noticed within the heartbeat
 * timeout (seconds) rather than the start-to-close timeout; outside an activity it just runs `work`.
 */
export async function withHeartbeat<T>(work: (beat: (details?: unknown) => void) => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  // The interval re-sends the latest details: a bare heartbeat would erase them (last one wins).
  let details: unknown;
  const beat = (next?: unknown) => {
    if (next !== undefined) details = next;
    ctx?.heartbeat(details);
  };
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

/** The details of the last heartbeat of an earlier attempt of this activity, if any. */
export function previousHeartbeat<T>(): T | undefined {
  try {
    return Context.current().info.heartbeatDetails as T | undefined;
  } catch {
    return undefined;
  }
}
