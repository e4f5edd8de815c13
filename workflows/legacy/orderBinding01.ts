import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { binds, cleanup, notifications, recordings } from '../activityStubs';
import { parseOrderBindingInput } from '../failures';
import { CallBook, type CallEffect } from '../calls';
import * as msg from '../messages';
import {
  currentDetails,
  isTerminal,
  searchAttributeUpdates,
  toSummary,
  toView,
  extensionRemainingSeconds,
  type BindingRecord,
} from '../state';
import {
  effectiveMaxExtensionSeconds,
  PartySchema,
  providerDurationSeconds,
  type BindingStateName,
  type BindingSummary,
  type BindingView,
  type OrderBindingInput,
  type OrderBindingRequest,
  type ProviderEvent,
} from '../types';
import { makeUserData } from '../userData';

// FROZEN: the orderBinding code of bindflow 0.1, kept so that runs started before 0.2 replay and finish as
// they began (orderBinding.ts sends every run without the 0.2 patch marker here). Never edit its commands;
// new behaviour goes into the 0.2 modules. Remove once no 0.1 run can still be open. One change from 0.1:
// its refusals are ApplicationFailures (no command changes), so a change refused after acceptance fails
// that update instead of wedging the run.

/** Continue-as-new past this many history events even if the server has not suggested it yet. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 4000;
/** A B party limit per AX (the provider's query lists at most 5 relations). */
const MAX_PARTIES = 5;

/** What a run hands to the next one through continue-as-new. */
export interface CarriedBindingV1 {
  version: 1;
  record: BindingRecord;
}

export async function orderBinding01(input: OrderBindingInput, carried?: CarriedBindingV1): Promise<BindingSummary> {
  const order = new OrderBindingRun(parseOrderBindingInput(input), input, carried);
  return order.run();
}

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** A provider's definite "no": nothing was bound, so there is nothing to look for. */
function isDefiniteRejection(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable === true;
}

class OrderBindingRun {
  private readonly b: BindingRecord;
  private readonly calls: CallBook;
  private releaseRequested = false;
  private releaseReason: string | undefined;
  /** Serialises provider changes (party updates, the final unbind). */
  private busy = false;
  /** Background work (notifications, recording links) still running. */
  private pending = 0;
  private notifyChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly req: OrderBindingRequest,
    input: OrderBindingInput,
    carried?: CarriedBindingV1,
  ) {
    if (carried) {
      this.b = carried.record;
    } else {
      const now = Date.now();
      const expiresAtMs = now + req.durationSeconds * 1000;
      this.b = {
        orderId: req.orderId,
        workflowId: workflowInfo().workflowId,
        originalInput: input,
        request: req,
        state: 'binding',
        subscriptionId: null,
        numberX: null,
        parties: req.parties.map((p) => ({ label: p.label, number: p.number, numberY: null })),
        expiresAtMs,
        baseExpiresAtMs: expiresAtMs,
        maxExtensionSeconds: effectiveMaxExtensionSeconds(req),
        calls: { calls: [], droppedCalls: 0, ignoredEvents: 0 },
      };
    }
    this.calls = new CallBook(this.b.calls);
    this.registerHandlers();
    this.publishProgress();
  }

  async run(): Promise<BindingSummary> {
    if (this.b.state === 'binding') await this.bindAll();
    while (this.b.state === 'bound') {
      const end = await this.waitForEnd();
      if (end !== 'continue') {
        await this.unbindAll(end);
        break;
      }
      // Continue-as-new once handlers and background work are done; a release arriving meanwhile wins
      // (its handler waits for the final state, so waiting for it here would never end).
      await condition(() => (this.idle() && !this.busy) || this.releaseRequested);
      if (!this.releaseRequested) {
        return continueAsNew<typeof orderBinding01>(this.b.originalInput, { version: 1, record: this.snapshot() });
      }
    }
    await condition(() => this.idle());
    return toSummary(this.snapshot(), this.calls.views());
  }

  // ── Bind ──────────────────────────────────────────────────────────────────────────────────────

  private async bindAll(): Promise<void> {
    const req = this.req;
    const userData = makeUserData(req.orderId, uuid4().replace(/-/g, '').slice(0, 12));
    try {
      const ax = await binds.bindAx({
        orderId: req.orderId,
        userData,
        partyA: req.partyA,
        areaCode: req.areaCode,
        areaMatchMode: req.areaMatchMode,
        callDirection: req.callDirection,
        durationSeconds: providerDurationSeconds(req),
        record: req.record,
        ...(req.recordHintTone ? { recordHintTone: req.recordHintTone } : {}),
        ...(req.preVoiceX ? { preVoiceX: req.preVoiceX } : {}),
      });
      this.b.subscriptionId = ax.subscriptionId;
      this.b.numberX = ax.numberX;
      this.publishProgress();
    } catch (err) {
      // Retries ran out without a definite answer: the bind may have landed. Find it by its userData.
      if (!isDefiniteRejection(err)) await cleanup.unbindByUserData({ userData });
      return this.fail(`binding X for party A failed: ${failureMessage(err)}`);
    }
    for (const party of this.b.parties) {
      try {
        party.numberY = (await this.bindParty(party.number)).numberY;
        this.publishProgress();
      } catch (err) {
        // Saga: the whole AX goes (with every YB under it), so nothing of this order stays bound.
        await cleanup.unbind({ subscriptionId: this.b.subscriptionId! });
        return this.fail(`binding Y for party "${party.label}" failed: ${failureMessage(err)}`);
      }
    }
    this.setState('bound');
    this.notify('binding.bound');
  }

  private bindParty(number: string) {
    return binds.bindYb({
      subscriptionId: this.b.subscriptionId!,
      partyB: number,
      areaCode: this.req.areaCode,
      areaMatchMode: this.req.areaMatchMode,
      ...(this.req.preVoiceY ? { preVoiceY: this.req.preVoiceY } : {}),
    });
  }

  private fail(reason: string): void {
    this.b.failureReason = reason;
    this.b.endedAtMs = Date.now();
    this.setState('failed');
    log.warn('order binding failed', { orderId: this.b.orderId, reason });
    this.notify('binding.failed');
  }

  // ── Bound: wait for expiry, release, or the time to continue as new ────────────────────────────

  private async waitForEnd(): Promise<'expired' | 'released' | 'continue'> {
    for (;;) {
      if (this.releaseRequested) return 'released';
      const deadline = this.b.expiresAtMs;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return 'expired';
      if (this.shouldContinueAsNew()) return 'continue';
      await condition(
        () => this.releaseRequested || this.b.expiresAtMs !== deadline || this.shouldContinueAsNew(),
        remaining,
      );
    }
  }

  private shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= CONTINUE_AS_NEW_AFTER_EVENTS;
  }

  // ── End: unbind (already gone counts as done) ─────────────────────────────────────────────────

  private async unbindAll(end: 'expired' | 'released'): Promise<void> {
    await this.exclusive(async () => {
      try {
        await cleanup.unbind({ subscriptionId: this.b.subscriptionId! });
      } catch (err) {
        // Only a permanent provider error gets here; the provider's own duration still ends it.
        this.b.failureReason = `unbind failed: ${failureMessage(err)}`;
      }
      this.b.endedAtMs = Date.now();
      this.setState(end);
    });
    this.notify(end === 'expired' ? 'binding.expired' : 'binding.released', {
      ...(this.releaseReason ? { reason: this.releaseReason } : {}),
    });
  }

  // ── Messages ──────────────────────────────────────────────────────────────────────────────────

  private registerHandlers(): void {
    setHandler(msg.getBinding, () => this.view());
    setHandler(msg.getRequest, () => this.b.originalInput);

    setHandler(
      msg.awaitBound,
      // A 0.1 run keeps its timer whatever the caller's options say: a client keeping its own deadline
      // works with it too.
      async (timeoutMs: number, _options?: msg.AwaitBoundOptions) => {
        await condition(() => this.b.state !== 'binding', timeoutMs);
        return this.view();
      },
      {
        validator: (timeoutMs: number, _options?: msg.AwaitBoundOptions) => {
          if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 600_000)
            throw ApplicationFailure.nonRetryable('timeoutMs must be an integer from 0 to 600000');
        },
      },
    );

    setHandler(
      msg.extend,
      async (req) => {
        this.b.expiresAtMs = this.newExpiry(req);
        this.publish();
        return this.view();
      },
      { validator: (req) => void this.newExpiry(req) },
    );

    setHandler(
      msg.setParty,
      async ({ label, number }) => {
        await condition(() => this.b.state !== 'binding');
        return this.exclusive(async () => {
          this.assertChangeable();
          await this.replaceParty(label, number);
          return this.view();
        });
      },
      { validator: (req) => this.validateSetParty(req) },
    );

    setHandler(
      msg.removeParty,
      async ({ label }) => {
        await condition(() => this.b.state !== 'binding');
        return this.exclusive(async () => {
          this.assertChangeable();
          const party = this.b.parties.find((p) => p.label === label);
          if (!party) return this.view();
          if (party.numberY) await cleanup.unbind({ subscriptionId: this.b.subscriptionId!, numberY: party.numberY });
          this.b.parties = this.b.parties.filter((p) => p !== party);
          this.publish();
          return this.view();
        });
      },
      {
        validator: ({ label }) => {
          this.assertChangeable();
          if (!this.b.parties.some((p) => p.label === label))
            throw ApplicationFailure.nonRetryable(`no party with label "${label}"`);
        },
      },
    );

    setHandler(
      msg.release,
      async ({ reason }) => {
        if (!isTerminal(this.b.state)) {
          this.releaseRequested = true;
          this.releaseReason ??= reason;
          await condition(() => isTerminal(this.b.state));
        }
        return this.view();
      },
      {
        validator: (req) => {
          if (req?.reason !== undefined && (typeof req.reason !== 'string' || req.reason.length > 200))
            throw ApplicationFailure.nonRetryable('reason must be a string of at most 200 characters');
        },
      },
    );

    setHandler(msg.providerEvents, (events) => this.onProviderEvents(events));
  }

  /** The expiry an extension asks for; throws (rejecting the update) when not allowed. */
  private newExpiry(req: msg.ExtendRequest): number {
    this.assertChangeable();
    let target: number;
    if (req && 'durationSeconds' in req) {
      if (!Number.isInteger(req.durationSeconds) || req.durationSeconds <= 0)
        throw ApplicationFailure.nonRetryable('durationSeconds must be a positive integer');
      target = this.b.expiresAtMs + req.durationSeconds * 1000;
    } else if (req && 'expiresAt' in req && typeof req.expiresAt === 'string') {
      target = Date.parse(req.expiresAt);
      if (!Number.isFinite(target)) throw ApplicationFailure.nonRetryable('expiresAt must be an ISO 8601 date-time');
      if (target <= this.b.expiresAtMs)
        throw ApplicationFailure.nonRetryable(
          `expiresAt must be later than the current expiry ${new Date(this.b.expiresAtMs).toISOString()}`,
        );
    } else {
      throw ApplicationFailure.nonRetryable('give either durationSeconds or expiresAt');
    }
    const added = Math.ceil((target - this.b.expiresAtMs) / 1000);
    const room = extensionRemainingSeconds(this.b);
    if (added > room) {
      const latest = new Date(this.b.baseExpiresAtMs + this.b.maxExtensionSeconds * 1000).toISOString();
      throw ApplicationFailure.nonRetryable(
        `extension of ${added} s exceeds maxExtensionSeconds (${this.b.maxExtensionSeconds} s in total): ` +
          `at most ${room} s more, i.e. until ${latest}`,
      );
    }
    return target;
  }

  private validateSetParty(req: msg.SetPartyRequest): void {
    this.assertChangeable();
    const r = PartySchema.safeParse(req);
    if (!r.success)
      throw ApplicationFailure.nonRetryable(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    if (req.number === this.req.partyA) throw ApplicationFailure.nonRetryable('number: must differ from partyA');
    if (this.b.parties.some((p) => p.label !== req.label && p.number === req.number))
      throw ApplicationFailure.nonRetryable('number: already bound for another label');
    if (!this.b.parties.some((p) => p.label === req.label) && this.b.parties.length >= MAX_PARTIES)
      throw ApplicationFailure.nonRetryable(`at most ${MAX_PARTIES} B parties per binding`);
  }

  private assertChangeable(): void {
    if (isTerminal(this.b.state) || this.releaseRequested)
      throw ApplicationFailure.nonRetryable(
        `binding is ${this.releaseRequested ? 'being released' : this.b.state}: it can no longer change`,
        this.releaseRequested ? 'BINDING_RELEASING' : 'BINDING_CLOSED',
      );
  }

  /** Add or replace a B party: unbind the old YB first (AXYB has no update), bind the new one. A keeps X. */
  private async replaceParty(label: string, number: string): Promise<void> {
    const existing = this.b.parties.find((p) => p.label === label);
    if (existing?.number === number && existing.numberY) return;
    if (existing?.numberY) {
      await cleanup.unbind({ subscriptionId: this.b.subscriptionId!, numberY: existing.numberY });
    }
    this.b.parties = this.b.parties.filter((p) => p.label !== label);
    this.publish();
    try {
      const yb = await this.bindParty(number);
      this.b.parties.push({ label, number, numberY: yb.numberY });
      this.publish();
    } catch (err) {
      // The bind may have landed despite the error: remove this B's YB, if any, before reporting.
      if (!isDefiniteRejection(err)) await cleanup.unbind({ subscriptionId: this.b.subscriptionId!, partyB: number });
      throw ApplicationFailure.nonRetryable(
        `binding Y for party "${label}" failed: ${failureMessage(err)}`,
        'PartyBindFailed',
      );
    }
  }

  private onProviderEvents(events: ProviderEvent[]): void {
    if (!Array.isArray(events)) return;
    const numbers = { partyA: this.req.partyA, parties: this.b.parties };
    for (const ev of events) {
      if (!ev || typeof ev.sessionId !== 'string' || typeof ev.dedupKey !== 'string') {
        this.calls.ignoredEvents++;
        continue;
      }
      // Pushes of another subscription (e.g. one this order no longer owns) are not this order's calls.
      if (ev.subscriptionId && this.b.subscriptionId && ev.subscriptionId !== this.b.subscriptionId) {
        this.calls.ignoredEvents++;
        continue;
      }
      for (const effect of this.calls.apply(ev, numbers)) this.onCallEffect(effect);
    }
    this.publishDetails();
  }

  private onCallEffect(effect: CallEffect): void {
    if (effect.kind === 'callCompleted') {
      this.notify('call.completed', { call: effect.call });
      return;
    }
    this.background(async () => {
      try {
        const { url } = await recordings.fetchRecordingUrl({
          recordDomain: effect.recordDomain,
          fileName: effect.fileName,
        });
        const call = this.calls.setRecordingUrl(effect.sessionId, url);
        if (call) this.notify('recording.ready', { call });
      } catch (err) {
        log.warn('recording link not available', { sessionId: effect.sessionId, error: failureMessage(err) });
      }
    });
  }

  // ── Notifications and background work ───────────────────────────────────────────────────────

  /** Queues a signed notification to the order's callback URL; delivered in order, never blocks the order. */
  private notify(type: string, extra: Record<string, unknown> = {}): void {
    const url = this.req.userCallbackUrl;
    if (!url) return;
    const eventId = `${this.b.workflowId}:${type}:${uuid4()}`;
    const body = {
      eventId,
      type,
      occurredAt: new Date().toISOString(),
      orderId: this.b.orderId,
      state: this.b.state,
      binding: this.view(),
      ...extra,
    };
    const previous = this.notifyChain;
    this.notifyChain = this.background(async () => {
      await previous;
      try {
        await notifications.notify({ url, eventId, body });
      } catch (err) {
        log.warn('notification given up', { orderId: this.b.orderId, type, error: failureMessage(err) });
      }
    });
  }

  private background(work: () => Promise<void>): Promise<void> {
    this.pending++;
    return work().finally(() => {
      this.pending--;
    });
  }

  /** Handlers finished and background work delivered: the run may end. */
  private idle(): boolean {
    return this.pending === 0 && allHandlersFinished();
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await condition(() => !this.busy);
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
    }
  }

  // ── Views and visibility ─────────────────────────────────────────────────────────────────────

  private snapshot(): BindingRecord {
    this.b.calls = this.calls.toState();
    return this.b;
  }

  private view(): BindingView {
    return toView(this.snapshot(), this.calls.views());
  }

  private setState(state: BindingStateName): void {
    this.b.state = state;
    this.publish();
  }

  /** Mirrors the state into search attributes and the Web UI's details at every change. */
  /**
   * Progress inside a state (started, X bound, a Y bound): the Web UI's details follow at once, while
   * the search attributes wait for the state change (each upsert is an event and a billable action).
   * The client sets OrderId, BindingState and AreaCode at start. Runs begun before this change replay
   * with their upserts.
   */
  private publishProgress(): void {
    if (patched('fewer-upserts')) this.publishDetails();
    else this.publish();
  }

  private publish(): void {
    upsertSearchAttributes(searchAttributeUpdates(this.b));
    this.publishDetails();
  }

  private publishDetails(): void {
    setCurrentDetails(currentDetails(this.b, this.calls.views().length + this.calls.droppedCalls));
  }
}
