import { z } from 'zod';

// The workflow's vocabulary: its validated input, what it shows (BindingView), what it is told (ProviderEvent).
// Pure data, shared by the workflow, the worker and the client library.

/** An ended order's run stays open this long for late pushes, unless the input says otherwise. */
export const DEFAULT_LATE_EVENTS_GRACE_SECONDS = 900;

/** Provider limit for a binding's `duration` (90 days). */
export const PROVIDER_MAX_DURATION_SECONDS = 7_776_000;
/** The provider-side duration outlives the order's latest possible end by this much: the safety net. */
export const SAFETY_MARGIN_SECONDS = 600;

export const PhoneNumberSchema = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be a number in global format, e.g. +8613800000001');

export const OrderIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be 1-128 letters, digits, ".", "_" or "-"');

export const PartyLabelSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'must be 1-32 letters, digits, "_" or "-"');

/** Audio file names as the provider accepts them. */
const AudioFileSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'must be 1-128 letters, digits or "-_.@"');

export const PartySchema = z.object({ label: PartyLabelSchema, number: PhoneNumberSchema });
export type Party = z.infer<typeof PartySchema>;

export const AreaMatchModeSchema = z.enum(['strict', 'province']);
export const CallDirectionSchema = z.enum(['both', 'a-to-b', 'b-to-a']);

const baseInput = z.object({
  orderId: OrderIdSchema,
  partyA: PhoneNumberSchema,
  parties: z.array(PartySchema).min(1, 'needs at least one B party'),
  areaCode: z.string().regex(/^0\d{2,3}$/, 'must be a city code with its leading 0, e.g. 0755'),
  areaMatchMode: AreaMatchModeSchema.default('strict'),
  durationSeconds: z.number().int().min(60, 'must be at least 60 seconds'),
  /** The most that extensions may add in total; default: durationSeconds (capped by the provider's limit). */
  maxExtensionSeconds: z.number().int().min(0).optional(),
  callDirection: CallDirectionSchema.default('both'),
  record: z.boolean().default(false),
  recordHintTone: AudioFileSchema.optional(),
  preVoiceX: AudioFileSchema.optional(),
  preVoiceY: AudioFileSchema.optional(),
  userCallbackUrl: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL')
    .optional(),
  requestedAt: z.string().datetime({ offset: true }).optional(),
  /**
   * How long the run stays open after its end to merge late call events and records (set by the API from
   * BINDFLOW_LATE_EVENTS_GRACE; not part of the caller's request). Default DEFAULT_LATE_EVENTS_GRACE_SECONDS.
   */
  lateEventsGraceSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .optional(),
  /**
   * Write the view into the memo when binding ends (BOUND_VIEW_MEMO): the API sets it when its PUT waits by
   * reading the history (BINDFLOW_BIND_WAIT=history); not part of the caller's request.
   */
  boundViewMemo: z.boolean().optional(),
  /** Continue-as-new past this many history events (default CONTINUE_AS_NEW_AFTER_EVENTS); for tests. */
  continueAsNewAfterEvents: z.number().int().min(100).max(50_000).optional(),
});

/** The single home of input validation: the HTTP API maps its body to this, the workflow parses it again. */
export const OrderBindingInputSchema = baseInput.superRefine((v, ctx) => {
  const seen = new Set<string>();
  v.parties.forEach((p, i) => {
    if (seen.has(p.label)) {
      ctx.addIssue({ code: 'custom', path: ['parties', i, 'label'], message: `duplicate label "${p.label}"` });
    }
    seen.add(p.label);
    if (p.number === v.partyA) {
      ctx.addIssue({ code: 'custom', path: ['parties', i, 'number'], message: 'must differ from partyA' });
    }
  });
  const room = PROVIDER_MAX_DURATION_SECONDS - SAFETY_MARGIN_SECONDS;
  if (v.durationSeconds > room) {
    ctx.addIssue({ code: 'custom', path: ['durationSeconds'], message: `must be at most ${room} seconds` });
  } else if (v.maxExtensionSeconds !== undefined && v.durationSeconds + v.maxExtensionSeconds > room) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxExtensionSeconds'],
      message: `durationSeconds + maxExtensionSeconds must be at most ${room} seconds (the provider's 90-day limit less the safety margin)`,
    });
  }
});

/** What callers send (defaults optional). */
export type OrderBindingInput = z.input<typeof OrderBindingInputSchema>;
/** After parsing: defaults filled in. */
export type OrderBindingRequest = z.output<typeof OrderBindingInputSchema>;

/** Extensions allowed in total: as requested, else durationSeconds, never past the provider's limit. */
export function effectiveMaxExtensionSeconds(req: OrderBindingRequest): number {
  const room = PROVIDER_MAX_DURATION_SECONDS - SAFETY_MARGIN_SECONDS - req.durationSeconds;
  return Math.max(0, Math.min(req.maxExtensionSeconds ?? req.durationSeconds, room));
}

/** The provider-side `duration`: the order's lifetime + its allowed extension + a margin. Never 0. */
export function providerDurationSeconds(req: OrderBindingRequest): number {
  return Math.min(
    PROVIDER_MAX_DURATION_SECONDS,
    req.durationSeconds + effectiveMaxExtensionSeconds(req) + SAFETY_MARGIN_SECONDS,
  );
}

export type BindingStateName = 'binding' | 'bound' | 'released' | 'expired' | 'failed';
export const TERMINAL_STATES: readonly BindingStateName[] = ['released', 'expired', 'failed'];

export type CallDirection = 'a-to-b' | 'b-to-a' | 'abnormal' | 'unknown';
export type CallOutcome =
  | 'in-progress'
  | 'answered'
  | 'no-answer'
  | 'busy'
  | 'rejected'
  | 'caller-hung-up'
  | 'unreachable'
  | 'not-allowed'
  | 'failed';

export interface CallView {
  sessionId: string;
  direction: CallDirection;
  /** The B party's label involved in the call, when known. */
  partyLabel?: string;
  startedAt: string | null;
  answeredAt: string | null;
  endedAt: string | null;
  talkSeconds: number;
  outcome: CallOutcome;
  stateCode?: number;
  recorded: boolean;
  recordingUrl: string | null;
}

export interface PartyView {
  label: string;
  number: string;
  numberY: string | null;
}

/** The contract's binding JSON. Party numbers appear here only: never in search attributes, memo or summary. */
export interface BindingView {
  orderId: string;
  workflowId: string;
  state: BindingStateName;
  subscriptionId: string | null;
  partyA: string;
  numberX: string | null;
  parties: PartyView[];
  expiresAt: string;
  /** What extensions may still add, in seconds. */
  extensionRemainingSeconds: number;
  calls: CallView[];
  failure?: { reason: string };
  endedAt?: string;
  /** When the request that created this binding was made (tells its creator from a repeat). */
  requestedAt?: string;
}

/** What the workflow returns: no party number in it (it is visible in the Web UI). */
export interface BindingSummary {
  orderId: string;
  workflowId: string;
  state: BindingStateName;
  subscriptionId: string | null;
  numberX: string | null;
  numbersY: string[];
  partyLabels: string[];
  expiresAt: string;
  endedAt: string;
  callCount: number;
  answeredCallCount: number;
  totalTalkSeconds: number;
  reason?: string;
}

// Provider events as the webhook hands them to the workflow (normalized, times in ISO 8601 UTC).

export interface CallEvent {
  kind: 'callEvent';
  /** Same push delivered again → same key. */
  dedupKey: string;
  eventType: 'callin' | 'callout' | 'alerting' | 'answer' | 'disconnect';
  sessionId: string;
  timestamp: string;
  caller: string;
  called: string;
  subscriptionId: string | null;
  userData: string | null;
  stateCode?: number;
  stateDesc?: string;
}

export interface CallRecord {
  kind: 'callRecord';
  dedupKey: string;
  /** The provider's unique record id (`icid`). */
  recordId: string;
  sessionId: string;
  subscriptionId: string | null;
  userData: string | null;
  /** 0 B→X→A, 1 A→Y→B, 2 abnormal. */
  direction: number | null;
  callerNum: string | null;
  calleeNum: string | null;
  fwdDstNum: string | null;
  callInTime: string | null;
  fwdAnswerTime: string | null;
  callEndTime: string | null;
  fwdUnaswRsn: number | null;
  recordFlag: boolean;
  recordDomain: string | null;
  recordObjectName: string | null;
}

export type ProviderEvent = CallEvent | CallRecord;

/** The memo key of the view a run shows once binding ends (bound, failed, or released while binding). */
export const BOUND_VIEW_MEMO = 'bindflowView';

/** A view with no real party number in it (the contract keeps them out of every memo): the PUT adds its own. */
export type MemoView = Omit<BindingView, 'partyA' | 'parties'> & { parties: Omit<PartyView, 'number'>[] };

export function memoView(view: BindingView): MemoView {
  const { partyA: _a, parties, ...rest } = view;
  return { ...rest, parties: parties.map(({ number: _n, ...p }) => p) };
}

/**
 * The memo's value: the view's JSON as bytes, which the payload codec leaves in clear (lib/codec.ts), so that
 * listing runs needs no key. It holds nothing the search attributes do not show, but for the request's time.
 */
export function memoViewBytes(view: BindingView): Uint8Array {
  // Copied into this realm's Uint8Array: in the workflow sandbox, TextEncoder's comes from outside, and the payload
  // converter would not take it for bytes (it would write it as a JSON object instead).
  return Uint8Array.from(new TextEncoder().encode(JSON.stringify(memoView(view))));
}

/** The memo's view, or undefined when the value is not what memoViewBytes writes. */
export function memoViewFromBytes(value: unknown): MemoView | undefined {
  if (!(value instanceof Uint8Array)) return undefined;
  try {
    const view = JSON.parse(new TextDecoder().decode(value)) as MemoView;
    return view && typeof view === 'object' && Array.isArray(view.parties) ? view : undefined;
  } catch {
    return undefined;
  }
}
