import { ApplicationFailure } from '@temporalio/common';
import { isProviderError, maskText } from '../provider';

// Provider failures become Temporal failures the workflow's retry policies act on:
// transient → retryable (flow control and IP blocks no sooner than the provider asks: nextRetryDelay),
// permanent → non-retryable at once. A bind whose outcome is unknown stays retryable: the next attempt
// looks for the binding before binding again.

/** Never sooner than this after a flow-control answer (the provider says: wait one minute). */
export const MIN_FLOW_CONTROL_DELAY_MS = 60_000;

export function toActivityFailure(err: unknown): Error {
  if (!isProviderError(err)) return err instanceof Error ? err : new Error(maskText(String(err)));
  const retryable = err.retryable || err.outcomeUnknown;
  let nextRetryDelay: number | undefined;
  if (err.retryAfterMs !== undefined && err.retryAfterMs > 0) {
    nextRetryDelay = err.code === '1010010' ? Math.max(err.retryAfterMs, MIN_FLOW_CONTROL_DELAY_MS) : err.retryAfterMs;
  }
  return ApplicationFailure.create({
    message: err.message,
    type: `ProviderError.${err.code}`,
    nonRetryable: !retryable,
    details: [err.toJSON()],
    ...(retryable && nextRetryDelay !== undefined ? { nextRetryDelay } : {}),
  });
}

/** Runs one provider call and translates its failure. */
export async function providerCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
