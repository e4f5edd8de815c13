// Call routing by the AXYB rules, and the events and call record one call produces.
// B dials X → A, shown Y; A dials Y → B, shown X. A call is simulated at once: it starts at the
// simulated "now" and its events carry the timeline of the call (ringing, talk) after that.

import { z } from 'zod';
import type { CallEventPush, FeeRecord } from '../provider/schemas';
import { PhoneSchema } from '../provider/schemas';
import type { AxBinding, BindingStore, YbBinding } from './bindings';
import { SimRefusal } from './errors';
import { providerTime } from './clock';
import type { Rng } from './random';

export const CallRequestSchema = z
  .object({
    from: PhoneSchema,
    to: PhoneSchema,
    answer: z.boolean().default(true),
    talkSeconds: z.number().int().min(0).max(86_400).default(30),
    ringSeconds: z.number().int().min(0).max(300).default(5),
    busy: z.boolean().default(false),
    unreachable: z.boolean().default(false),
    hangupBy: z.enum(['caller', 'callee']).default('caller'),
  })
  .strict();
export type CallRequest = z.infer<typeof CallRequestSchema>;
export type CallRequestInput = z.input<typeof CallRequestSchema>;

export const STATE_DESC: Record<number, string> = {
  0: 'Normal call clearing',
  8030: 'No AXYB binding for the dialled number',
  8031: 'Automatic Y allocation failed',
  8032: 'The party dialled its own privacy number',
  8057: 'Call direction not allowed by the binding',
  8101: 'Callee did not answer',
  8102: 'Callee busy',
  8104: 'Callee unreachable',
};

export interface CallResult {
  sessionId: string;
  stateCode: number;
  stateDesc: string;
  /** The real number reached (A or B), null when the call was not routed. */
  connectedTo: string | null;
  /** The privacy number shown to the callee, null when the call was not routed. */
  displayNumber: string | null;
  subscriptionId: string | null;
  /** 'b-to-a' (B dialled X), 'a-to-b' (A dialled Y), or 'none' when not routed. */
  direction: 'b-to-a' | 'a-to-b' | 'none';
  answered: boolean;
  /** Set when the caller got a Y allocated on the fly (auto-Y). */
  autoY?: string;
  recordObjectName?: string;
}

export interface RecordingRef {
  objectName: string;
  domain: string;
  sessionId: string;
  createdAt: number;
}

export interface PlacedCall {
  result: CallResult;
  events: CallEventPush[];
  record: FeeRecord;
  recording?: RecordingRef;
}

interface Route {
  ax: AxBinding;
  yb: YbBinding;
  direction: 'b-to-a' | 'a-to-b';
  autoY: boolean;
}

type Routing = { ok: true; route: Route } | { ok: false; stateCode: number; ax?: AxBinding };

/** Decides where a call goes; may allocate an auto-Y (which is why it needs the store). */
export function route(store: BindingStore, from: string, to: string, now: number): Routing {
  const ax = store.byX(to, now);
  if (ax) {
    if (from === ax.numA) return { ok: false, stateCode: 8032, ax };
    if (ax.callDirection === 1) return { ok: false, stateCode: 8057, ax };
    const existing = ax.yb.find((yb) => yb.numB === from);
    if (existing) return { ok: true, route: { ax, yb: existing, direction: 'b-to-a', autoY: false } };
    try {
      const { yb } = store.bindYb({ origNum: from, subscriptionId: ax.subscriptionId }, now, true);
      return { ok: true, route: { ax, yb, direction: 'b-to-a', autoY: true } };
    } catch (e) {
      if (e instanceof SimRefusal) return { ok: false, stateCode: 8031, ax };
      throw e;
    }
  }
  const viaY = store.byAY(from, to, now);
  if (viaY) {
    if (viaY.ax.callDirection === 2) return { ok: false, stateCode: 8057, ax: viaY.ax };
    return { ok: true, route: { ax: viaY.ax, yb: viaY.yb, direction: 'a-to-b', autoY: false } };
  }
  const ownY = store.usesOfY(to, now).find((b) => b.yb.some((yb) => yb.numY === to && yb.numB === from));
  if (ownY) return { ok: false, stateCode: 8032, ax: ownY };
  return { ok: false, stateCode: 8030 };
}

export interface CallContext {
  store: BindingStore;
  rng: Rng;
  now: number;
  appKey: string;
  recordDomain: string;
}

const SEC = 1000;

/** Routes and plays one call, producing its result, its events (in order) and its call record. */
export function placeCall(req: CallRequest, ctx: CallContext): PlacedCall {
  const { rng, now } = ctx;
  const sessionId = `sim-${rng.hex(24)}`;
  const icid = `simicid${rng.hex(24)}`;
  const routing = route(ctx.store, req.from, req.to, now);
  const ax = routing.ok ? routing.route.ax : routing.ax;
  const common = (at: number) => ({
    timestamp: providerTime(at),
    sessionId,
    ...(ax ? { subscriptionId: ax.subscriptionId } : {}),
    ...(ax?.userData !== undefined ? { userData: ax.userData } : {}),
  });
  const firstLeg = { caller: req.from, called: req.to };

  if (!routing.ok) {
    const end = now + SEC;
    const stateCode = routing.stateCode;
    return {
      result: {
        sessionId,
        stateCode,
        stateDesc: STATE_DESC[stateCode],
        connectedTo: null,
        displayNumber: null,
        subscriptionId: ax?.subscriptionId ?? null,
        direction: 'none',
        answered: false,
      },
      events: [
        { eventType: 'callin', statusInfo: { ...common(now), ...firstLeg } },
        {
          eventType: 'disconnect',
          statusInfo: { ...common(end), ...firstLeg, stateCode, stateDesc: STATE_DESC[stateCode] },
        },
      ],
      record: {
        ...recordBase(ctx, icid, sessionId, req, ax),
        direction: 2,
        callInTime: providerTime(now),
        callEndTime: providerTime(end),
        failTime: providerTime(end),
        fwdUnaswRsn: 0,
        ulFailReason: stateCode,
        sipStatusCode: 404,
        recordFlag: 0,
      },
    };
  }

  const { yb, direction } = routing.route;
  const routed = ax as AxBinding;
  const dest = direction === 'b-to-a' ? routed.numA : yb.numB;
  const display = direction === 'b-to-a' ? yb.numY : routed.numX;
  const secondLeg = { caller: display, called: dest };
  const fwdStart = now + SEC;
  const rings = !req.busy && !req.unreachable;
  const alertAt = fwdStart + SEC;
  const answered = rings && req.answer;
  const answerAt = alertAt + req.ringSeconds * SEC;
  const stateCode = req.busy ? 8102 : req.unreachable ? 8104 : answered ? 0 : 8101;
  const end = answered ? answerAt + req.talkSeconds * SEC : rings ? answerAt : fwdStart + SEC;
  const recorded = answered && routed.recordFlag && req.talkSeconds >= 3;
  const recordObjectName = recorded ? `${icid}.wav` : undefined;

  const events: CallEventPush[] = [
    { eventType: 'callin', statusInfo: { ...common(now), ...firstLeg } },
    { eventType: 'callout', statusInfo: { ...common(fwdStart), ...secondLeg } },
  ];
  if (rings) events.push({ eventType: 'alerting', statusInfo: { ...common(alertAt), ...secondLeg } });
  if (answered) events.push({ eventType: 'answer', statusInfo: { ...common(answerAt), ...secondLeg } });
  events.push({
    eventType: 'disconnect',
    statusInfo: {
      ...common(end),
      ...firstLeg,
      stateCode,
      stateDesc: STATE_DESC[stateCode],
      ...(answered ? { callRelDirection: req.hangupBy === 'caller' ? 1 : 2 } : {}),
    },
  });

  // Q.850 causes and SIP statuses of the unanswered outcomes.
  const unanswered = req.busy
    ? { q850: 17, sip: 486 }
    : req.unreachable
      ? { q850: 20, sip: 480 }
      : { q850: 19, sip: 408 };
  const record: FeeRecord = {
    ...recordBase(ctx, icid, sessionId, req, routed),
    direction: direction === 'b-to-a' ? 0 : 1,
    fwdDisplayNum: display,
    fwdDstNum: dest,
    callInTime: providerTime(now),
    fwdStartTime: providerTime(fwdStart),
    ...(rings ? { fwdAlertingTime: providerTime(alertAt) } : {}),
    ...(answered ? { fwdAnswerTime: providerTime(answerAt) } : {}),
    callEndTime: providerTime(end),
    fwdUnaswRsn: answered ? 0 : unanswered.q850,
    ...(answered ? { sipStatusCode: 200 } : { failTime: providerTime(end), sipStatusCode: unanswered.sip }),
    ulFailReason: answered ? 0 : stateCode,
    callOutUnaswRsn: answered ? 0 : unanswered.q850,
    recordFlag: recorded ? 1 : 0,
    ...(recorded
      ? {
          recordStartTime: providerTime(answerAt),
          recordDomain: ctx.recordDomain,
          recordBucketName: 'sim-records',
          recordObjectName,
        }
      : {}),
  };
  return {
    result: {
      sessionId,
      stateCode,
      stateDesc: STATE_DESC[stateCode],
      connectedTo: dest,
      displayNumber: display,
      subscriptionId: routed.subscriptionId,
      direction,
      answered,
      ...(routing.route.autoY ? { autoY: yb.numY } : {}),
      ...(recordObjectName ? { recordObjectName } : {}),
    },
    events,
    record,
    ...(recordObjectName
      ? { recording: { objectName: recordObjectName, domain: ctx.recordDomain, sessionId, createdAt: end } }
      : {}),
  };
}

function recordBase(
  ctx: CallContext,
  icid: string,
  sessionId: string,
  req: CallRequest,
  ax: AxBinding | undefined,
): FeeRecord {
  return {
    spId: 'sim-sp',
    appKey: ctx.appKey,
    icid,
    bindNum: req.to,
    sessionId,
    ...(ax ? { subscriptionId: ax.subscriptionId } : {}),
    callerNum: req.from,
    calleeNum: req.to,
    ttsPlayTimes: 0,
    ttsTransDuration: 0,
    serviceType: '003',
    hostName: 'bindflow-simulator',
    ...(ax?.userData !== undefined ? { userData: ax.userData } : {}),
  };
}
