import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BindingView, OrderBindingInput, ProviderEvent } from './types';

// Every message of orderBinding, declared once and shared by the workflow and its callers.

/** The binding as the contract shows it (party numbers included: answer only authorised callers). */
export const getBinding = defineQuery<BindingView>('getBinding');

/** The request the order was started with, for the API's idempotency comparison (200 vs 409). */
export const getRequest = defineQuery<OrderBindingInput>('getRequest');

/**
 * How a caller of `awaitBound` waits. `clientDeadline`: the caller keeps its own deadline of `timeoutMs` and reads
 * the view when it passes, so the workflow starts no timer (a billable action per order, issue 15); it resolves
 * when binding ends (at once for `timeoutMs` 0). Without it (callers before 0.2's issue 15): a workflow timer.
 * The choice travels in the update's arguments, so a run replays either way without a patch.
 */
export interface AwaitBoundOptions {
  clientDeadline?: boolean;
}

/** Resolves once the state leaves `binding`, or after `timeoutMs` (then still `binding`). For Update-with-Start. */
export const awaitBound = defineUpdate<BindingView, [timeoutMs: number, options?: AwaitBoundOptions]>('awaitBound');

export type ExtendRequest = { durationSeconds: number } | { expiresAt: string };
/** Pushes the expiry later; rejected (validator) past maxExtensionSeconds in total. */
export const extend = defineUpdate<BindingView, [ExtendRequest]>('extend');

export interface SetPartyRequest {
  label: string;
  number: string;
}
/** Adds a B party, or replaces that label's number (unbind its YB, bind a new one; A keeps X). */
export const setParty = defineUpdate<BindingView, [SetPartyRequest]>('setParty');

/** Removes a B party (unbinds its YB). */
export const removeParty = defineUpdate<BindingView, [{ label: string }]>('removeParty');

/** Releases now: unbinds everything and ends `released`. Resolves with the final view. */
export const release = defineUpdate<BindingView, [{ reason?: string }]>('release');

/** Call events and call records from the provider's pushes (deduplicated by the workflow). */
export const providerEvents = defineSignal<[ProviderEvent[]]>('providerEvents');
