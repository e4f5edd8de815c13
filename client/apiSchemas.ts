import { z } from 'zod';
import {
  OrderBindingInputSchema,
  PartySchema,
  PROVIDER_MAX_DURATION_SECONDS,
  SAFETY_MARGIN_SECONDS,
  type BindingView,
} from '../workflows/types';
import { PhoneSchema } from '../provider/schemas';
import type { BindingListItem } from './library';
import type { BindflowErrorCode } from './errors';
import { BindBodySchema } from './httpSchemas';

// The HTTP API's answers as zod schemas, for the OpenAPI document (client/openapi.ts) and for tests that check
// real answers against it. The TypeScript types they describe stay the source: the assertions at the end make
// `tsc` fail when a schema and its type drift apart in either direction.

export const BINDING_STATES = ['binding', 'bound', 'released', 'expired', 'failed'] as const;
export const BindingStateSchema = z.enum(BINDING_STATES);

const IsoTime = z.string().datetime({ offset: true });

export const CallViewSchema = z
  .object({
    sessionId: z.string(),
    direction: z.enum(['a-to-b', 'b-to-a', 'abnormal', 'unknown']),
    partyLabel: z.string().optional(),
    startedAt: IsoTime.nullable(),
    answeredAt: IsoTime.nullable(),
    endedAt: IsoTime.nullable(),
    talkSeconds: z.number().int().min(0),
    outcome: z.enum([
      'in-progress',
      'answered',
      'no-answer',
      'busy',
      'rejected',
      'caller-hung-up',
      'unreachable',
      'not-allowed',
      'failed',
    ]),
    stateCode: z.number().int().optional(),
    recorded: z.boolean(),
    recordingUrl: z.string().nullable(),
  })
  .strict();

export const PartyViewSchema = z
  .object({ label: z.string(), number: z.string(), numberY: z.string().nullable() })
  .strict();

/** The binding as GET, PUT and every change answer it (`BindingView`). */
export const BindingViewSchema = z
  .object({
    orderId: z.string(),
    workflowId: z.string(),
    state: BindingStateSchema,
    subscriptionId: z.string().nullable(),
    partyA: z.string(),
    numberX: z.string().nullable(),
    parties: z.array(PartyViewSchema),
    expiresAt: IsoTime,
    extensionRemainingSeconds: z.number().int().min(0),
    calls: z.array(CallViewSchema),
    failure: z.object({ reason: z.string() }).strict().optional(),
    endedAt: IsoTime.optional(),
    requestedAt: IsoTime.optional(),
  })
  .strict();

export const BindingListItemSchema = z
  .object({
    orderId: z.string(),
    workflowId: z.string(),
    state: BindingStateSchema.nullable(),
    subscriptionId: z.string().nullable(),
    numberX: z.string().nullable(),
    numbersY: z.array(z.string()),
    areaCode: z.string().nullable(),
    expiresAt: IsoTime.nullable(),
    startedAt: IsoTime,
    closedAt: IsoTime.nullable(),
  })
  .strict();

export const BindingListSchema = z.object({ bindings: z.array(BindingListItemSchema) }).strict();

export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'CONFLICT',
  'REQUEST_REJECTED',
  'BINDING_CLOSED',
  'BINDING_RELEASING',
  'PARTY_BIND_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'TEMPORAL_UNAVAILABLE',
  'WORKFLOW_UNHEALTHY',
  'INTERNAL',
] as const satisfies readonly BindflowErrorCode[];

/** `{"error": {"code", "message", "details"}}`: every error of the API (and of the webhook). */
export const ErrorEnvelopeSchema = z
  .object({
    error: z
      .object({
        code: z.enum(ERROR_CODES),
        message: z.string(),
        details: z.unknown().optional(),
      })
      .strict(),
  })
  .strict();

/** The webhook's answer to an accepted push (the platform's own shape). */
export const WebhookAckSchema = z.object({ resultcode: z.literal('0'), resultdesc: z.string() }).strict();

/** One area of the number pool (GET /v1/pool). */
export const PoolAreaSchema = z
  .object({
    area: z.string(),
    total: z.number().int().min(0),
    boundAsX: z.number().int().min(0),
    boundAsY: z.number().int().min(0),
    free: z.number().int().min(0),
  })
  .strict();

export const PoolCapacitySchema = z
  .object({
    areas: z.array(PoolAreaSchema),
    total: z.number().int().min(0),
    boundAsX: z.number().int().min(0),
    boundAsY: z.number().int().min(0),
    free: z.number().int().min(0),
    /** Numbers open bindings hold that PRIVATENUMBER_NUMBER_POOL does not list (a configuration to fix). */
    unlisted: z.array(z.string()),
    /** The open bindings counted (visibility: state `binding` or `bound`, run open). */
    openBindings: z.number().int().min(0),
  })
  .strict();
export type PoolCapacity = z.infer<typeof PoolCapacitySchema>;
export type PoolArea = z.infer<typeof PoolAreaSchema>;

export const HealthSchema = z.object({ status: z.literal('ok') }).strict();
export const ReadySchema = z
  .object({ status: z.enum(['ready', 'not ready']), temporal: z.enum(['reachable', 'unreachable']) })
  .strict();

const CodecPayloadSchema = z.object({ metadata: z.record(z.string().base64()), data: z.string().base64() });
export const CodecBodySchema = z.object({ payloads: z.array(CodecPayloadSchema).max(1000) });

// ---------------------------------------------------------------- request bodies as documented

/** What the document says besides the fields: exactly one of partyB and partiesB (a JSON Schema `oneOf`). */
export const BIND_BODY_ONE_OF = [{ required: ['partyB'] }, { required: ['partiesB'] }];
/** The provider's 90 days less the safety margin (OrderBindingInputSchema's own limit). */
export const MAX_DURATION_SECONDS = PROVIDER_MAX_DURATION_SECONDS - SAFETY_MARGIN_SECONDS;

const inputShape = (OrderBindingInputSchema._def.schema as unknown as { shape: Record<string, z.ZodTypeAny> }).shape;
const bodyShape = (BindBodySchema._def.schema as unknown as z.AnyZodObject).shape as Record<string, z.ZodTypeAny>;

/**
 * The PUT body with the rules that validate it: the body's own fields (BindBodySchema) carrying the constraints
 * of the workflow input field they map onto (OrderBindingInputSchema, the single home of the rules) and the +86
 * number rule the API adds. Cross-field rules (partyB or partiesB, duplicate labels, B ≠ A, the 90-day room)
 * stay in prose.
 */
export const BindBodyDocSchema = z
  .object(
    Object.fromEntries(
      Object.entries(bodyShape).map(([key, loose]) => {
        const optional = loose.isOptional();
        let strict: z.ZodTypeAny;
        if (key === 'partyA' || key === 'partyB') strict = PhoneSchema;
        else if (key === 'partiesB')
          strict = z.array(PartySchema.extend({ number: PhoneSchema }).strict()).min(1, 'needs at least one B party');
        else if (key === 'durationSeconds')
          strict = (unwrapDefault(inputShape[key]) as z.ZodNumber).max(
            MAX_DURATION_SECONDS,
            `must be at most ${MAX_DURATION_SECONDS} seconds`,
          );
        else strict = unwrapDefault(inputShape[key] ?? loose);
        return [key, optional ? strict.optional() : strict];
      }),
    ),
  )
  .strict();

function unwrapDefault(s: z.ZodTypeAny): z.ZodTypeAny {
  let out = s;
  while (out instanceof z.ZodDefault || out instanceof z.ZodOptional) out = out._def.innerType;
  return out;
}

// ---------------------------------------------------------------- the schemas and the types agree

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
export type _BindingViewAgrees = Assert<Equal<z.infer<typeof BindingViewSchema>, BindingView>>;
export type _BindingListItemAgrees = Assert<Equal<z.infer<typeof BindingListItemSchema>, BindingListItem>>;
export type _ErrorCodesAgree = Assert<Equal<(typeof ERROR_CODES)[number], BindflowErrorCode>>;
