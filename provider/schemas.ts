// Zod schemas of the AXYB wire protocol (../shared/docs/privatenumber-axyb.md), with the provider's exact field names.
// Strict for what we send (we are the authority: a bad request must fail here, before any network call);
// lenient for what the platform sends (masked or odd values in a push are data, unknown extra fields are kept).
import { z } from 'zod';

/** URI paths of the provider API (§3-§6). */
export const PATHS = {
  relation: '/rest/omp/xyrelationnumber/v1.0',
  recordUrl: '/rest/provision/voice/record/v1.0',
} as const;

// ---------------------------------------------------------------- building blocks

/**
 * A party number in global format (§2): `+86` + 11-digit mobile (1[3-9]…), or `+86` + area code without its
 * leading 0 + 7-8 digit landline (Beijing `10`, 2-digit `2x`, or a 3-digit code like `755`).
 */
export const PhoneSchema = z
  .string()
  .regex(/^\+86(?:1[3-9]\d{9}|10\d{7,8}|2\d{8,9}|[3-9]\d{9,10})$/, 'must be a +86 number in global format');
/** Alias kept for callers that expect the upper-case name. */
export const PHONE = PhoneSchema;

/** City code with its leading 0 (`0755`, `010`). */
export const AreaCodeSchema = z.string().regex(/^0\d{2,3}$/, 'must be a city code with leading 0, e.g. 0755');

/** Audio file names (recordHintTone, preVoiceX/Y) and recording object names: letters, digits, `-_.@`, 1-128. */
export const FileNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9\-_.@]+$/, 'only letters, digits and -_.@ are allowed');

export const SubscriptionIdSchema = z.string().min(1).max(64);

const MAX_DURATION = 7_776_000; // 90 days
/** Default AX lifetime applied by the platform when `duration` is omitted (§3). */
export const DEFAULT_DURATION = 7200;

/** 0 = never expires (or "ends with AX" for ybDuration), otherwise 60-7776000 seconds. */
export const DurationSchema = z
  .number()
  .int()
  .refine((v) => v === 0 || (v >= 60 && v <= MAX_DURATION), 'must be 0 or between 60 and 7776000 seconds');

export const CallDirectionSchema = z.union([z.literal(0), z.literal(1), z.literal(2)]);
export const AreaMatchModeSchema = z.enum(['0', '1']);
export const UserDataSchema = z.string().min(1).max(256);

// ---------------------------------------------------------------- requests we send (strict)

const AxBindObject = z
  .object({
    origNum: PhoneSchema,
    // "required in practice" (§3): the platform picks X from this city; we refuse to bind without it.
    areaCode: AreaCodeSchema,
    areaMatchMode: AreaMatchModeSchema.optional(),
    callDirection: CallDirectionSchema.optional(),
    duration: DurationSchema.optional(),
    ybDuration: DurationSchema.optional(),
    recordFlag: z.boolean().optional(),
    recordHintTone: FileNameSchema.optional(),
    preVoiceX: FileNameSchema.optional(),
    userData: UserDataSchema.optional(),
  })
  .strict();

/** Step 1 of an AXYB bind (POST relation path). */
export const AxBindRequestSchema = AxBindObject.superRefine((req, ctx) => {
  // ybDuration may not exceed the AX lifetime (default 7200 when omitted); duration 0 (never expires) bounds
  // nothing, and ybDuration 0 means "ends with AX", which is always within it.
  const duration = req.duration ?? DEFAULT_DURATION;
  if (req.ybDuration !== undefined && duration !== 0 && req.ybDuration > duration) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ybDuration'], message: 'must not be above duration' });
  }
});
export type AxBindRequest = z.infer<typeof AxBindRequestSchema>;

/** Step 2 of an AXYB bind: adds one B (and its Y) to an existing AX. */
export const YbBindRequestSchema = z
  .object({
    origNum: PhoneSchema,
    subscriptionId: SubscriptionIdSchema,
    areaCode: AreaCodeSchema.optional(),
    areaMatchMode: AreaMatchModeSchema.optional(),
    preVoiceY: FileNameSchema.optional(),
    ybDuration: DurationSchema.optional(),
  })
  .strict();
export type YbBindRequest = z.infer<typeof YbBindRequestSchema>;

/** DELETE relation path: subscriptionId alone removes everything; yNum (wins) or bNum removes one YB. */
export const UnbindParamsSchema = z
  .object({
    subscriptionId: SubscriptionIdSchema,
    yNum: PhoneSchema.optional(),
    bNum: PhoneSchema.optional(),
  })
  .strict();
export type UnbindParams = z.infer<typeof UnbindParamsSchema>;

/** GET relation path: by subscriptionId (wins) or by X (`relationNum`). */
export const QueryParamsSchema = z
  .object({
    subscriptionId: SubscriptionIdSchema.optional(),
    relationNum: PhoneSchema.optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.subscriptionId === undefined && q.relationNum === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['subscriptionId'],
        message: 'subscriptionId or relationNum is required',
      });
    }
  });
export type QueryParams = z.infer<typeof QueryParamsSchema>;

/** GET recording path: the call record's recordDomain and recordObjectName. */
export const RecordUrlParamsSchema = z
  .object({
    recordDomain: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$/, 'must be a host name'),
    fileName: FileNameSchema,
  })
  .strict();
export type RecordUrlParams = z.infer<typeof RecordUrlParamsSchema>;

// ---------------------------------------------------------------- responses (the platform is the authority)

/** A value the platform documents as a string but might send as a number: kept as a string. */
const looseString = z.union([z.string(), z.number()]).transform((v) => String(v));
/** A value documented as an integer; a numeric string is accepted too. */
const looseInt = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);

/** Success: "0" (a numeric 0 is read as "0" too). */
const successCode = z.union([z.literal('0'), z.literal(0)]).transform(() => '0' as const);

/** Every JSON answer: `resultcode` ("0" = success) and `resultdesc`. */
export const ResultEnvelopeSchema = z
  .object({
    resultcode: looseString,
    resultdesc: looseString.optional(),
  })
  .passthrough();
export type ResultEnvelope = z.infer<typeof ResultEnvelopeSchema>;

/** Answer of both bind steps: relationNumber is X after step 1, Y after step 2. */
export const BindResponseSchema = z
  .object({
    resultcode: successCode,
    resultdesc: looseString.optional(),
    subscriptionId: SubscriptionIdSchema,
    relationNumber: z.string().min(1).max(32),
  })
  .passthrough();
export type BindResponse = z.infer<typeof BindResponseSchema>;

/** One entry of a query answer. numY/numB are absent before any YB exists. */
export const RelationEntrySchema = z
  .object({
    bindId: looseString.optional(),
    numA: z.string(),
    numX: z.string(),
    numY: z.string().optional(),
    numB: z.string().optional(),
    recordFlag: z.enum(['true', 'false']).optional(), // a string here, unlike the bind (boolean) and the record (0/1)
    recordHintTone: z.string().optional(),
    subscribeTime: z.string().optional(),
    callDirection: looseInt.optional(),
    duration: looseString.optional(),
    ybDuration: looseString.optional(),
    preVoiceX: z.string().optional(),
    preVoiceY: z.string().optional(),
    userData: z.string().optional(),
  })
  .passthrough();
export type RelationEntry = z.infer<typeof RelationEntrySchema>;

export const QueryResponseSchema = z
  .object({
    resultcode: successCode,
    resultdesc: looseString.optional(),
    // documented as 1-5 entries; a missing list on success is read as "none" rather than as garbage
    xyRelationNumList: z.array(RelationEntrySchema).default([]),
  })
  .passthrough();
export type QueryResponse = z.infer<typeof QueryResponseSchema>;

// ---------------------------------------------------------------- pushes (lenient)

export const CALL_EVENT_TYPES = ['callin', 'callout', 'alerting', 'answer', 'disconnect'] as const;
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];

/** statusInfo of a call event; timestamps stay strings (`yyyy-MM-dd HH:mm:ss` UTC). */
export const StatusInfoSchema = z
  .object({
    timestamp: z.string(),
    sessionId: z.string().min(1).max(256),
    caller: z.string().optional(),
    called: z.string().optional(),
    subscriptionId: z.string().optional(),
    userData: z.string().optional(),
    stateCode: looseInt.optional(),
    stateDesc: z.string().optional(),
    callRelDirection: looseInt.optional(),
  })
  .passthrough();
export type StatusInfo = z.infer<typeof StatusInfoSchema>;

export const CallEventPushSchema = z
  .object({
    eventType: z.enum(CALL_EVENT_TYPES),
    statusInfo: StatusInfoSchema,
  })
  .passthrough();
export type CallEventPush = z.infer<typeof CallEventPushSchema>;

/** One call record. Only icid (our dedup key) is required; everything else is data as the platform sends it. */
export const FeeRecordSchema = z
  .object({
    direction: looseInt.optional(),
    spId: z.string().optional(),
    appKey: z.string().optional(),
    icid: z.string().min(1),
    bindNum: z.string().optional(),
    sessionId: z.string().optional(),
    subscriptionId: z.string().optional(),
    callerNum: z.string().optional(),
    calleeNum: z.string().optional(),
    fwdDisplayNum: z.string().optional(),
    fwdDstNum: z.string().optional(),
    callInTime: z.string().optional(),
    fwdStartTime: z.string().optional(),
    fwdAlertingTime: z.string().optional(),
    fwdAnswerTime: z.string().optional(),
    callEndTime: z.string().optional(),
    fwdUnaswRsn: looseInt.optional(),
    failTime: z.string().optional(),
    ulFailReason: looseInt.optional(),
    sipStatusCode: looseInt.optional(),
    callOutUnaswRsn: looseInt.optional(),
    recordFlag: looseInt.optional(), // integer 0/1 here
    recordStartTime: z.string().optional(),
    recordDomain: z.string().optional(),
    recordBucketName: z.string().optional(),
    recordObjectName: z.string().optional(),
    ttsPlayTimes: looseInt.optional(),
    ttsTransDuration: looseInt.optional(),
    mptyId: z.string().optional(),
    serviceType: looseString.optional(),
    hostName: z.string().optional(),
    userData: z.string().optional(),
  })
  .passthrough();
export type FeeRecord = z.infer<typeof FeeRecordSchema>;

export const FeePushSchema = z
  .object({
    eventType: z.literal('fee'),
    feeLst: z.array(FeeRecordSchema).min(1).max(50),
  })
  .passthrough();
export type FeePush = z.infer<typeof FeePushSchema>;

/** The provider's demo compares eventType case-insensitively (strcasecmp); so do we, before discriminating. */
function normalizeEventType(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if (typeof v.eventType === 'string') return { ...v, eventType: v.eventType.trim().toLowerCase() };
  }
  return value;
}

/** Either kind of push; the two may share one URL (§8). */
export const PushSchema = z.preprocess(
  normalizeEventType,
  z.discriminatedUnion('eventType', [CallEventPushSchema, FeePushSchema]),
);
export type Push = z.infer<typeof PushSchema>;

export function isFeePush(p: Push): p is FeePush {
  return p.eventType === 'fee';
}

// ---------------------------------------------------------------- error helpers

/** Dotted path of the first bad field of a zod error (`ybDuration`, `feeLst.3.icid`), or `body` for the root. */
export function firstBadField(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'body';
  // an unknown key on a strict object is reported at the parent: name the key itself
  if (issue.code === z.ZodIssueCode.unrecognized_keys && issue.keys.length > 0) {
    return [...issue.path, issue.keys[0]].join('.');
  }
  // a union failure (looseInt etc.) keeps the outer path; good enough to name the field
  return issue.path.length > 0 ? issue.path.join('.') : 'body';
}

/** Human description of the first issue, naming the field but never echoing the value. */
export function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid request';
  const field = firstBadField(err);
  const message = issue.code === z.ZodIssueCode.invalid_enum_value ? 'value not allowed' : issue.message;
  return `${field}: ${message}`;
}

/**
 * The `resultdesc` of a 1010002 answer, naming the bad field. The spec only says the description "names the
 * field"; the simulator uses this format and the client reads the name back with {@link fieldFromResultDesc}.
 */
export function invalidFieldDesc(field: string): string {
  return `Invalid parameter: ${field}`;
}

const KNOWN_FIELDS = [
  ...Object.keys(AxBindObject.shape),
  ...Object.keys(YbBindRequestSchema.shape),
  'yNum',
  'bNum',
  'relationNum',
  'recordDomain',
  'fileName',
  'app_key',
];

/** Best-effort extraction of the field named by a 1010002 `resultdesc`. */
export function fieldFromResultDesc(desc: string | undefined): string | undefined {
  if (!desc) return undefined;
  // our simulator's exact format first (it may name a header, e.g. Content-Type)
  const exact = /^Invalid parameter: ([A-Za-z_][A-Za-z0-9_.-]*)$/.exec(desc.trim());
  if (exact) return exact[1];
  const words = desc.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  // prefer a documented field name anywhere in the text; otherwise the text after "parameter:" if any
  const known = words.find((w) => KNOWN_FIELDS.includes(w));
  if (known) return known;
  const m = /param(?:eter)?s?\s*[:=]?\s*\[?([A-Za-z_][A-Za-z0-9_.]*)/i.exec(desc);
  return m?.[1];
}
