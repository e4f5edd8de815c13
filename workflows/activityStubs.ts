import { proxyActivities } from '@temporalio/workflow';
import type { BindflowActivities } from '../activities/types';

// Retry policies by kind of side effect. Flow control (1010010) is retried no sooner than 60 s: the
// activity sets ApplicationFailure.nextRetryDelay; definite provider rejections are non-retryable.

/**
 * Binds: bounded by time (5 minutes for all attempts), so a provider that keeps failing ends in the saga
 * instead of waiting forever; not by a small attempt count, which flow control's one-minute waits used up
 * (docs/benchmarks.md, "Bound under faults"). Retries no more than 10 s apart otherwise.
 */
export const binds = proxyActivities<Pick<BindflowActivities, 'bindAx' | 'bindYb'>>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '5m',
  // Binds heartbeat while the call is in flight: a worker dying mid-bind is noticed in seconds.
  heartbeatTimeout: '5s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 20 },
});

/** Unbinds and recovery sweeps: retried until they succeed, a leak is worse than a late unbind. */
export const cleanup = proxyActivities<Pick<BindflowActivities, 'unbind' | 'unbindByUserData'>>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

export const recordings = proxyActivities<Pick<BindflowActivities, 'fetchRecordingUrl'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 8 },
});

/** Notifications to the order's backend: about a day of retries, then given up (logged in history). */
export const notifications = proxyActivities<Pick<BindflowActivities, 'notify'>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1h', maximumAttempts: 30 },
});

export const reconciliation = proxyActivities<
  Pick<BindflowActivities, 'listBindingsOnNumber' | 'bindingOwnership' | 'unbind'>
>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5 },
});
