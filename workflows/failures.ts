import { ApplicationFailure, CancellationScope, TemporalFailure, log } from '@temporalio/workflow';
import { OrderBindingInputSchema, type OrderBindingInput, type OrderBindingRequest } from './types';

// How orderBinding says no. An update handler that throws anything but a TemporalFailure after the update
// was accepted fails the workflow TASK (retried forever: the run is wedged) instead of the update, so every
// handler body runs inside `guarded`, and every refusal is an ApplicationFailure whose type the HTTP API
// maps to a status (client/library.ts).

export const FailureType = {
  /** A release or the expiry is under way: the binding no longer changes (409). */
  releasing: 'BINDING_RELEASING',
  /** Released, expired or failed (409). */
  closed: 'BINDING_CLOSED',
  /** The provider did not bind the new B's Y (422); the label is left without a party. */
  partyBindFailed: 'PARTY_BIND_FAILED',
  /** The provider did not unbind a party's Y (422); the party is kept. */
  partyUnbindFailed: 'PARTY_UNBIND_FAILED',
  /** The request does not fit the binding (422): too long an extension, an unknown label, … */
  rejected: 'REQUEST_REJECTED',
  /** A defect in the workflow code, reported on the update instead of wedging the run (500). */
  internal: 'INTERNAL_ERROR',
} as const;

export function refusal(type: string, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, ...(details ? { details: [details] } : {}) });
}

export function rejected(message: string): ApplicationFailure {
  return refusal(FailureType.rejected, message);
}

/** Any error → one that fails the update, never the workflow task. */
export function asUpdateFailure(err: unknown): TemporalFailure {
  if (err instanceof TemporalFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  log.error('update handler failed unexpectedly', { error: message });
  return refusal(FailureType.internal, `internal error: ${message}`);
}

/**
 * Runs a handler body so that it fails only its update, and so that a workflow cancellation request (a release,
 * see orderBinding.ts) never cancels the provider calls and waits under way in it.
 */
export async function guarded<T>(body: () => Promise<T> | T): Promise<T> {
  try {
    return await CancellationScope.nonCancellable(async () => body());
  } catch (err) {
    throw asUpdateFailure(err);
  }
}

/** The start's input, parsed; non-retryable: the start fails at once with every bad field named, before any provider call. */
export function parseOrderBindingInput(input: OrderBindingInput): OrderBindingRequest {
  const r = OrderBindingInputSchema.safeParse(input);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    throw ApplicationFailure.nonRetryable(`invalid order binding input: ${problems.join('; ')}`, 'InvalidInput', {
      problems,
    });
  }
  return r.data;
}
