import type { Sinks } from '@temporalio/workflow';

// Sinks: calls from workflow code to the worker process that are not recorded in history (so they change
// no history and are not repeated on replay). Only for observing what the workflow decided: metrics.

/** Notification types bindflow sends; anything else is counted as `other`. */
export const NOTIFICATION_TYPES = [
  'binding.bound',
  'binding.released',
  'binding.expired',
  'binding.failed',
  'call.completed',
  'recording.ready',
] as const;

export interface BindflowSinks extends Sinks {
  bindflowMetrics: {
    /** The outbox gave a notification up (its day of retries ran out, or the receiver refused it). */
    notificationGivenUp(type: string): void;
  };
}
