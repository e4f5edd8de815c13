import {
  CancellationScope,
  log,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CallBook, type CallEffect } from './calls';
import { FailureType, refusal } from './failures';
import { FifoLock } from './lock';
import { Outbox, type PendingNotification } from './notifications';
import { RecordingFetches, type RecordingFetch } from './recordings';
import { currentDetails, isTerminal, searchAttributeUpdates, toView, type BindingRecord } from './state';
import {
  BOUND_VIEW_MEMO,
  memoViewBytes,
  DEFAULT_LATE_EVENTS_GRACE_SECONDS,
  effectiveMaxExtensionSeconds,
  type BindingStateName,
  type BindingView,
  type OrderBindingInput,
  type OrderBindingRequest,
  type ProviderEvent,
} from './types';

// One order's state inside its run: the binding record (it travels through continue-as-new), its calls,
// the lock that serialises provider changes, and the background work (notifications, recording links).
// The other modules tell the story with it: orderBinding.ts (lifecycle), handlers.ts (messages),
// partyChanges.ts (everything that changes the provider), notifications.ts.

/** Continue-as-new past this many history events even if the server has not suggested it yet. */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 4000;

/** What a run hands to the next one through continue-as-new. Version 1 came from bindflow 0.1. */
export type CarriedBinding =
  | { version: 1; record: BindingRecord }
  | { version: 2; record: BindingRecord; outbox: PendingNotification[]; recordings: RecordingFetch[] };

export type Ending = 'released' | 'expired';

export class Order {
  readonly record: BindingRecord;
  readonly calls: CallBook;
  /** Every provider change (binding, party changes, the final unbind) runs under it, one at a time. */
  readonly lock = new FifoLock();
  readonly outbox: Outbox;
  readonly recordings: RecordingFetches;
  /** Set once the end is decided (a release asked for, or the expiry reached): nothing changes after. */
  ending: Ending | null = null;
  releaseReason: string | undefined;

  constructor(record: BindingRecord, carried?: CarriedBinding) {
    this.record = record;
    this.calls = new CallBook(record.calls);
    const v2 = carried?.version === 2 ? carried : undefined;
    // The order is made inside its lifecycle's scope, which a workflow cancellation request does not reach
    // (orderBinding.ts): notifications and recording fetches run under it, whichever handler starts them.
    const lifecycle = CancellationScope.current();
    this.outbox = new Outbox(v2?.outbox ?? [], lifecycle);
    this.recordings = new RecordingFetches(
      (sessionId, url) => {
        const call = this.calls.setRecordingUrl(sessionId, url);
        if (call) this.notify('recording.ready', { call });
      },
      v2?.recordings ?? [],
      lifecycle,
    );
  }

  /** Asks for the release unless the end is already decided; true when this call decided it. */
  requestRelease(reason: string | undefined): boolean {
    if (isTerminal(this.state) || this.ending) return false;
    this.ending = 'released';
    this.releaseReason = reason;
    return true;
  }

  static start(request: OrderBindingRequest, input: OrderBindingInput): Order {
    const now = Date.now();
    const expiresAtMs = now + request.durationSeconds * 1000;
    return new Order({
      orderId: request.orderId,
      workflowId: workflowInfo().workflowId,
      originalInput: input,
      request,
      state: 'binding',
      subscriptionId: null,
      numberX: null,
      parties: request.parties.map((p) => ({ label: p.label, number: p.number, numberY: null })),
      expiresAtMs,
      baseExpiresAtMs: expiresAtMs,
      maxExtensionSeconds: effectiveMaxExtensionSeconds(request),
      calls: { calls: [], droppedCalls: 0, ignoredEvents: 0 },
    });
  }

  get request(): OrderBindingRequest {
    return this.record.request;
  }

  get state(): BindingStateName {
    return this.record.state;
  }

  get releaseRequested(): boolean {
    return this.ending === 'released';
  }

  get lateEventsGraceMs(): number {
    return (this.request.lateEventsGraceSeconds ?? DEFAULT_LATE_EVENTS_GRACE_SECONDS) * 1000;
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    const limit = this.request.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS;
    return info.continueAsNewSuggested || info.historyLength >= limit;
  }

  /** Throws the refusal for a change that comes too late. */
  assertChangeable(): void {
    if (isTerminal(this.state))
      throw refusal(FailureType.closed, `binding is ${this.state}: it can no longer change`, { state: this.state });
    if (this.ending)
      throw refusal(
        FailureType.releasing,
        `binding is being ${this.ending === 'released' ? 'released' : 'ended by its expiry'}: it can no longer change`,
        { ending: this.ending },
      );
  }

  // ── Calls ─────────────────────────────────────────────────────────────────────────────────────

  onProviderEvents(events: ProviderEvent[]): void {
    if (!Array.isArray(events)) return;
    const numbers = { partyA: this.request.partyA, parties: this.record.parties };
    for (const ev of events) {
      if (!ev || typeof ev.sessionId !== 'string' || typeof ev.dedupKey !== 'string') {
        this.calls.ignoredEvents++;
        continue;
      }
      // Pushes of another subscription (one this order no longer owns, an orphan) are not this order's calls.
      if (ev.subscriptionId && this.record.subscriptionId && ev.subscriptionId !== this.record.subscriptionId) {
        this.calls.ignoredEvents++;
        continue;
      }
      for (const effect of this.calls.apply(ev, numbers)) this.onCallEffect(effect);
    }
    this.publishDetails();
  }

  private onCallEffect(effect: CallEffect): void {
    if (effect.kind === 'callCompleted') this.notify('call.completed', { call: effect.call });
    else
      this.recordings.start({
        sessionId: effect.sessionId,
        recordDomain: effect.recordDomain,
        fileName: effect.fileName,
      });
  }

  // ── Notifications ─────────────────────────────────────────────────────────────────────────────

  notify(type: string, extra: Record<string, unknown> = {}): void {
    const url = this.request.userCallbackUrl;
    if (!url) return;
    this.outbox.add(url, type, (eventId) => ({
      eventId,
      type,
      occurredAt: new Date().toISOString(),
      orderId: this.record.orderId,
      state: this.state,
      binding: this.view(),
      ...extra,
    }));
  }

  // ── State, views and visibility ─────────────────────────────────────────────────────────────────

  snapshot(): BindingRecord {
    this.record.calls = this.calls.toState();
    return this.record;
  }

  view(): BindingView {
    return toView(this.snapshot(), this.calls.views());
  }

  setState(state: BindingStateName): void {
    const bindingEnded = this.record.state === 'binding' && state !== 'binding';
    this.record.state = state;
    this.publish();
    // A PUT with BINDFLOW_BIND_WAIT=history waits for this memo (history long-poll, client/library.ts) instead of
    // an update, one billable action fewer per order. Its input asks for it, so no other run writes it and runs
    // started before it existed replay as they ran.
    if (bindingEnded && this.request.boundViewMemo === true)
      upsertMemo({ [BOUND_VIEW_MEMO]: memoViewBytes(this.view()) });
  }

  fail(reason: string): void {
    this.record.failureReason = reason;
    this.record.endedAtMs = Date.now();
    this.setState('failed');
    log.warn('order binding failed', { orderId: this.record.orderId, reason });
    this.notify('binding.failed');
  }

  /**
   * Progress inside a state (X bound, a Y bound): the Web UI's details follow at once, the search
   * attributes at the next state change (each upsert is an event and a billable action).
   */
  publishProgress(): void {
    this.publishDetails();
  }

  /** Mirrors the state into search attributes and the Web UI's details. */
  publish(): void {
    upsertSearchAttributes(searchAttributeUpdates(this.record));
    this.publishDetails();
  }

  publishDetails(): void {
    setCurrentDetails(currentDetails(this.record, this.calls.count + this.calls.droppedCalls));
  }
}
