import type { CallEvent, CallRecord, ProviderEvent } from './types';

// Pure mapping from the provider's parsed pushes (provider/ schemas) to the workflow's ProviderEvent.
// Structural input types, so that this file stays importable inside the workflow sandbox.

export interface CallEventPushLike {
  eventType: string;
  statusInfo: {
    timestamp: string;
    sessionId: string;
    caller?: string | null;
    called?: string | null;
    subscriptionId?: string | null;
    userData?: string | null;
    stateCode?: number | string | null;
    stateDesc?: string | null;
  };
}

export interface FeeRecordLike {
  icid: string;
  sessionId?: string | null;
  direction?: number | string | null;
  subscriptionId?: string | null;
  userData?: string | null;
  callerNum?: string | null;
  calleeNum?: string | null;
  fwdDstNum?: string | null;
  callInTime?: string | null;
  fwdAnswerTime?: string | null;
  callEndTime?: string | null;
  fwdUnaswRsn?: number | string | null;
  recordFlag?: number | string | boolean | null;
  recordDomain?: string | null;
  recordObjectName?: string | null;
}

export interface FeePushLike {
  eventType: 'fee';
  feeLst: FeeRecordLike[];
}

const CALL_EVENT_TYPES = new Set(['callin', 'callout', 'alerting', 'answer', 'disconnect']);

/** `2026-11-29 10:00:00` (the provider's UTC format) → `2026-11-29T10:00:00Z`; ISO strings pass through. */
export function providerTimeToIso(value: string | null | undefined): string | null {
  if (!value) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?Z?$/.exec(value.trim());
  return m ? `${m[1]}T${m[2]}Z` : value;
}

function toInt(v: number | string | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

export function callEventFromPush(push: CallEventPushLike): CallEvent | null {
  if (!CALL_EVENT_TYPES.has(push.eventType)) return null;
  const s = push.statusInfo;
  const timestamp = providerTimeToIso(s.timestamp) ?? s.timestamp;
  const stateCode = toInt(s.stateCode);
  return {
    kind: 'callEvent',
    dedupKey: `ev:${s.sessionId}:${push.eventType}`,
    eventType: push.eventType as CallEvent['eventType'],
    sessionId: s.sessionId,
    timestamp,
    caller: s.caller ?? '',
    called: s.called ?? '',
    subscriptionId: s.subscriptionId ?? null,
    userData: s.userData ?? null,
    ...(stateCode !== null ? { stateCode } : {}),
    ...(s.stateDesc ? { stateDesc: s.stateDesc } : {}),
  };
}

export function callRecordFromFee(r: FeeRecordLike): CallRecord {
  const flag = r.recordFlag;
  return {
    kind: 'callRecord',
    dedupKey: `rec:${r.icid}`,
    recordId: r.icid,
    // A record without a sessionId still is one call: keyed by its own id.
    sessionId: r.sessionId ?? `icid:${r.icid}`,
    subscriptionId: r.subscriptionId ?? null,
    userData: r.userData ?? null,
    direction: toInt(r.direction),
    callerNum: r.callerNum ?? null,
    calleeNum: r.calleeNum ?? null,
    fwdDstNum: r.fwdDstNum ?? null,
    callInTime: providerTimeToIso(r.callInTime),
    fwdAnswerTime: providerTimeToIso(r.fwdAnswerTime),
    callEndTime: providerTimeToIso(r.callEndTime),
    fwdUnaswRsn: toInt(r.fwdUnaswRsn),
    recordFlag: flag === true || flag === 1 || flag === '1' || flag === 'true',
    recordDomain: r.recordDomain ?? null,
    recordObjectName: r.recordObjectName ?? null,
  };
}

/**
 * One push (a call event or a fee push with up to 50 records) → ProviderEvents. A call event has one
 * event per (sessionId, eventType), so that key survives the platform's re-pushes; a record has its icid.
 */
export function providerEventsFromPush(push: CallEventPushLike | FeePushLike): ProviderEvent[] {
  if (push.eventType === 'fee' && 'feeLst' in push) return push.feeLst.map(callRecordFromFee);
  if ('statusInfo' in push) {
    const ev = callEventFromPush(push);
    return ev ? [ev] : [];
  }
  return [];
}
