import type { CallEvent, CallOutcome, CallRecord, CallView, ProviderEvent } from './types';

// Merges call events and call records into one record per call (sessionId). Pure and deterministic:
// the workflow owns an instance, and its state travels through continue-as-new.

/** Calls kept per binding; the oldest finished ones are dropped beyond this (counted in `droppedCalls`). */
export const MAX_CALLS_KEPT = 500;

export interface CallState {
  view: CallView;
  /** Dedup keys already applied to this call (a handful per call). */
  seen: string[];
  hasRecord: boolean;
  recordingRequested: boolean;
}

export interface CallBookState {
  calls: CallState[];
  droppedCalls: number;
  ignoredEvents: number;
}

export interface PartyNumbers {
  partyA: string;
  /** label → B number and its Y. */
  parties: { label: string; number: string; numberY: string | null }[];
}

export type CallEffect =
  | { kind: 'callCompleted'; call: CallView }
  | { kind: 'fetchRecording'; sessionId: string; recordDomain: string; fileName: string };

const STATE_CODE_OUTCOME: Record<number, CallOutcome> = {
  7501: 'caller-hung-up',
  7502: 'caller-hung-up',
  7503: 'rejected',
  8101: 'no-answer',
  8102: 'busy',
  8104: 'unreachable',
  8035: 'unreachable',
  8030: 'not-allowed',
  8031: 'not-allowed',
  8032: 'not-allowed',
  8057: 'not-allowed',
};

/** Q.850 causes of an unanswered second leg. */
const Q850_OUTCOME: Record<number, CallOutcome> = { 17: 'busy', 18: 'no-answer', 19: 'no-answer', 21: 'rejected' };

function seconds(fromIso: string | null, toIso: string | null): number {
  if (!fromIso || !toIso) return 0;
  const d = (Date.parse(toIso) - Date.parse(fromIso)) / 1000;
  return Number.isFinite(d) && d > 0 ? Math.round(d) : 0;
}

export class CallBook {
  private readonly calls = new Map<string, CallState>();
  droppedCalls: number;
  ignoredEvents: number;

  constructor(state?: CallBookState) {
    for (const c of state?.calls ?? []) this.calls.set(c.view.sessionId, c);
    this.droppedCalls = state?.droppedCalls ?? 0;
    this.ignoredEvents = state?.ignoredEvents ?? 0;
  }

  toState(): CallBookState {
    return { calls: [...this.calls.values()], droppedCalls: this.droppedCalls, ignoredEvents: this.ignoredEvents };
  }

  /** Calls kept (without copying them, unlike views(): the Web UI's details count them on every push). */
  get count(): number {
    return this.calls.size;
  }

  views(): CallView[] {
    return [...this.calls.values()].map((c) => ({ ...c.view }));
  }

  /** Applies one event; a duplicate (re-push) changes nothing and yields no effect. */
  apply(ev: ProviderEvent, numbers: PartyNumbers): CallEffect[] {
    const call = this.callFor(ev.sessionId);
    if (call.seen.includes(ev.dedupKey)) return [];
    call.seen.push(ev.dedupKey);
    const effects = ev.kind === 'callEvent' ? this.applyEvent(call, ev, numbers) : this.applyRecord(call, ev, numbers);
    this.evictOverflow();
    return effects;
  }

  /** Stores a fetched recording link; returns the updated call, or null when the call is gone. */
  setRecordingUrl(sessionId: string, url: string): CallView | null {
    const call = this.calls.get(sessionId);
    if (!call) return null;
    call.view.recordingUrl = url;
    return { ...call.view };
  }

  private callFor(sessionId: string): CallState {
    let call = this.calls.get(sessionId);
    if (!call) {
      call = {
        view: {
          sessionId,
          direction: 'unknown',
          startedAt: null,
          answeredAt: null,
          endedAt: null,
          talkSeconds: 0,
          outcome: 'in-progress',
          recorded: false,
          recordingUrl: null,
        },
        seen: [],
        hasRecord: false,
        recordingRequested: false,
      };
      this.calls.set(sessionId, call);
    }
    return call;
  }

  private applyEvent(call: CallState, ev: CallEvent, numbers: PartyNumbers): CallEffect[] {
    const v = call.view;
    if (v.direction === 'unknown') this.directionFromNumbers(v, ev.caller, ev.called, numbers);
    if (ev.eventType === 'callin' && !v.startedAt) v.startedAt = ev.timestamp;
    if (ev.eventType === 'answer' && !v.answeredAt) v.answeredAt = ev.timestamp;
    if (ev.eventType === 'disconnect') {
      if (!v.endedAt) v.endedAt = ev.timestamp;
      if (ev.stateCode !== undefined) v.stateCode = ev.stateCode;
      // The call record (if any) is authoritative; the disconnect only fills what it has not.
      if (!call.hasRecord) {
        v.outcome = v.answeredAt ? 'answered' : (STATE_CODE_OUTCOME[ev.stateCode ?? -1] ?? 'failed');
        v.talkSeconds = seconds(v.answeredAt, v.endedAt);
      }
    }
    return [];
  }

  private applyRecord(call: CallState, r: CallRecord, numbers: PartyNumbers): CallEffect[] {
    const v = call.view;
    const firstRecord = !call.hasRecord;
    call.hasRecord = true;
    if (r.direction === 0) v.direction = 'b-to-a';
    else if (r.direction === 1) v.direction = 'a-to-b';
    else if (r.direction === 2) v.direction = 'abnormal';
    else if (v.direction === 'unknown') this.directionFromNumbers(v, r.callerNum ?? '', r.calleeNum ?? '', numbers);
    if (!v.partyLabel) v.partyLabel = this.labelFor(v.direction, r.callerNum, r.fwdDstNum, numbers);
    v.startedAt = r.callInTime ?? v.startedAt;
    v.answeredAt = r.fwdAnswerTime ?? v.answeredAt;
    v.endedAt = r.callEndTime ?? v.endedAt;
    v.talkSeconds = r.fwdAnswerTime ? seconds(r.fwdAnswerTime, r.callEndTime) : 0;
    if (r.fwdAnswerTime) v.outcome = 'answered';
    else if (v.outcome === 'in-progress' || v.outcome === 'answered')
      v.outcome = Q850_OUTCOME[r.fwdUnaswRsn ?? -1] ?? 'no-answer';
    const effects: CallEffect[] = [];
    if (r.recordFlag && r.recordDomain && r.recordObjectName && !call.recordingRequested) {
      v.recorded = true;
      call.recordingRequested = true;
      effects.push({
        kind: 'fetchRecording',
        sessionId: v.sessionId,
        recordDomain: r.recordDomain,
        fileName: r.recordObjectName,
      });
    }
    // One record per call: the first one completes the call (records of merged pushes are not repeats).
    if (firstRecord) effects.unshift({ kind: 'callCompleted', call: { ...v } });
    return effects;
  }

  private directionFromNumbers(v: CallView, caller: string, called: string, numbers: PartyNumbers): void {
    if (caller && caller === numbers.partyA) v.direction = 'a-to-b';
    else if (numbers.parties.some((p) => p.number === caller)) v.direction = 'b-to-a';
    v.partyLabel = this.labelFor(v.direction, caller, called, numbers);
  }

  private labelFor(
    direction: CallView['direction'],
    caller: string | null,
    other: string | null,
    numbers: PartyNumbers,
  ): string | undefined {
    if (direction === 'b-to-a') return numbers.parties.find((p) => p.number === caller)?.label;
    if (direction === 'a-to-b') return numbers.parties.find((p) => p.number === other || p.numberY === other)?.label;
    return undefined;
  }

  private evictOverflow(): void {
    while (this.calls.size > MAX_CALLS_KEPT) {
      let oldest: CallState | undefined;
      for (const c of this.calls.values()) {
        if (c.hasRecord) {
          oldest = c;
          break;
        }
      }
      oldest ??= this.calls.values().next().value;
      if (!oldest) return;
      this.calls.delete(oldest.view.sessionId);
      this.droppedCalls++;
    }
  }
}
