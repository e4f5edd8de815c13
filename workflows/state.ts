import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  AreaCode,
  BindingState,
  ExpiresAt,
  OrderId,
  PrivacyNumberX,
  PrivacyNumbersY,
  SubscriptionId,
} from './searchAttributes';
import type { CallBookState } from './calls';
import type {
  BindingStateName,
  BindingSummary,
  BindingView,
  CallView,
  OrderBindingInput,
  OrderBindingRequest,
  PartyView,
} from './types';

// The order's binding as one small serialisable object (it travels through continue-as-new), and the
// ways it is shown: the contract's view, the run's summary, search attributes and Web UI details.

export interface BindingRecord {
  orderId: string;
  workflowId: string;
  /** The request as the caller sent it (for idempotency comparison). */
  originalInput: OrderBindingInput;
  request: OrderBindingRequest;
  state: BindingStateName;
  subscriptionId: string | null;
  numberX: string | null;
  parties: PartyView[];
  expiresAtMs: number;
  /** Expiry before any extension; extensions are bounded against it. */
  baseExpiresAtMs: number;
  maxExtensionSeconds: number;
  failureReason?: string;
  endedAtMs?: number;
  calls: CallBookState;
}

export function isTerminal(state: BindingStateName): boolean {
  return state === 'released' || state === 'expired' || state === 'failed';
}

export function extensionRemainingSeconds(b: BindingRecord): number {
  return Math.max(0, b.maxExtensionSeconds - Math.round((b.expiresAtMs - b.baseExpiresAtMs) / 1000));
}

export function toView(b: BindingRecord, calls: CallView[]): BindingView {
  return {
    orderId: b.orderId,
    workflowId: b.workflowId,
    state: b.state,
    subscriptionId: b.subscriptionId,
    partyA: b.request.partyA,
    numberX: b.numberX,
    parties: b.parties.map((p) => ({ ...p })),
    expiresAt: new Date(b.expiresAtMs).toISOString(),
    extensionRemainingSeconds: extensionRemainingSeconds(b),
    calls,
    ...(b.failureReason ? { failure: { reason: b.failureReason } } : {}),
    ...(b.endedAtMs !== undefined ? { endedAt: new Date(b.endedAtMs).toISOString() } : {}),
    ...(b.originalInput.requestedAt ? { requestedAt: b.originalInput.requestedAt } : {}),
  };
}

export function numbersY(b: BindingRecord): string[] {
  return b.parties.flatMap((p) => (p.numberY ? [p.numberY] : []));
}

export function toSummary(b: BindingRecord, calls: CallView[]): BindingSummary {
  const answered = calls.filter((c) => c.outcome === 'answered');
  return {
    orderId: b.orderId,
    workflowId: b.workflowId,
    state: b.state,
    subscriptionId: b.subscriptionId,
    numberX: b.numberX,
    numbersY: numbersY(b),
    partyLabels: b.parties.map((p) => p.label),
    expiresAt: new Date(b.expiresAtMs).toISOString(),
    endedAt: new Date(b.endedAtMs ?? b.expiresAtMs).toISOString(),
    callCount: calls.length + b.calls.droppedCalls,
    answeredCallCount: answered.length,
    totalTalkSeconds: answered.reduce((s, c) => s + c.talkSeconds, 0),
    ...(b.failureReason ? { reason: b.failureReason } : {}),
  };
}

/** The contract's search attributes: privacy numbers (X, Y) only, never a party number. */
export function searchAttributeUpdates(b: BindingRecord): SearchAttributeUpdatePair[] {
  return [
    { key: OrderId, value: b.orderId },
    { key: BindingState, value: b.state },
    { key: AreaCode, value: b.request.areaCode },
    { key: ExpiresAt, value: new Date(b.expiresAtMs) },
    { key: SubscriptionId, value: b.subscriptionId },
    { key: PrivacyNumberX, value: b.numberX },
    { key: PrivacyNumbersY, value: numbersY(b) },
  ];
}

/** One readable line (markdown) for the Web UI's current details; no party number. */
export function currentDetails(b: BindingRecord, callCount: number): string {
  const parties = b.parties.map((p) => `${p.label}${p.numberY ? ` via ${p.numberY}` : ''}`).join(', ') || 'none';
  const head = `**${b.state}** · order ${b.orderId} · area ${b.request.areaCode}`;
  const x = b.numberX ? ` · X ${b.numberX}` : '';
  const end =
    b.endedAtMs !== undefined
      ? ` · ended ${new Date(b.endedAtMs).toISOString()}`
      : ` · expires ${new Date(b.expiresAtMs).toISOString()}`;
  const why = b.failureReason ? ` · reason: ${b.failureReason}` : '';
  return `${head}${x} · parties: ${parties} · calls: ${callCount}${end}${why}`;
}
