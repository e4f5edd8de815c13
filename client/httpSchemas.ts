import { z } from 'zod';
import { OrderBindingInputSchema, OrderIdSchema, PartyLabelSchema, type OrderBindingInput } from '../workflows/types';
import type { ExtendRequest } from '../workflows/messages';
import { BindflowError, validationError } from './errors';
import { PhoneSchema } from '../provider/schemas';

// The HTTP API's bodies as the contract spells them, mapped once onto the workflow's input schema
// (the single home of the rules), with error paths named as the caller wrote them.

const PartyBody = z.object({ label: z.string(), number: z.string() }).strict();

export const BindBodySchema = z
  .object({
    partyA: z.string(),
    partyB: z.string().optional(),
    partiesB: z.array(PartyBody).optional(),
    areaCode: z.string(),
    areaMatchMode: z.enum(['strict', 'province']).optional(),
    durationSeconds: z.number().int(),
    maxExtensionSeconds: z.number().int().optional(),
    callDirection: z.enum(['both', 'a-to-b', 'b-to-a']).optional(),
    record: z.boolean().optional(),
    recordHintTone: z.string().optional(),
    preVoiceX: z.string().optional(),
    preVoiceY: z.string().optional(),
    userCallbackUrl: z.string().optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.partyB === undefined && b.partiesB === undefined) {
      ctx.addIssue({ code: 'custom', path: ['partyB'], message: 'give partyB or partiesB' });
    }
    if (b.partyB !== undefined && b.partiesB !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['partiesB'], message: 'give either partyB or partiesB, not both' });
    }
  });
export type BindBody = z.infer<typeof BindBodySchema>;

function parseOrFail<T>(schema: z.ZodType<T>, value: unknown, prefix: string[] = []): T {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error.issues, prefix);
  return r.data;
}

export function parseOrderId(value: unknown): string {
  return parseOrFail(OrderIdSchema, value, ['orderId']);
}

export function parseLabel(value: unknown): string {
  return parseOrFail(PartyLabelSchema, value, ['label']);
}

/** PUT body + path orderId → the workflow input, every bad field named once. */
export function bindBodyToInput(orderId: string, body: unknown, requestedAt: string): OrderBindingInput {
  const b = parseOrFail(BindBodySchema, body ?? {});
  const shorthand = b.partyB !== undefined;
  const input: OrderBindingInput = {
    orderId,
    partyA: b.partyA,
    parties: shorthand ? [{ label: 'b', number: b.partyB as string }] : (b.partiesB ?? []),
    areaCode: b.areaCode,
    durationSeconds: b.durationSeconds,
    ...(b.areaMatchMode !== undefined && { areaMatchMode: b.areaMatchMode }),
    ...(b.maxExtensionSeconds !== undefined && { maxExtensionSeconds: b.maxExtensionSeconds }),
    ...(b.callDirection !== undefined && { callDirection: b.callDirection }),
    ...(b.record !== undefined && { record: b.record }),
    ...(b.recordHintTone !== undefined && { recordHintTone: b.recordHintTone }),
    ...(b.preVoiceX !== undefined && { preVoiceX: b.preVoiceX }),
    ...(b.preVoiceY !== undefined && { preVoiceY: b.preVoiceY }),
    ...(b.userCallbackUrl !== undefined && { userCallbackUrl: b.userCallbackUrl }),
    requestedAt,
  };
  const r = OrderBindingInputSchema.safeParse(input);
  const issues: Array<{ path: (string | number)[]; message: string }> = r.success
    ? []
    : r.error.issues.map((i) => ({ message: i.message, path: renameInputPath(i.path, shorthand) }));
  // The platform serves +86 numbers only: refuse others here, by field, rather than fail the order later.
  const numbers: Array<[(string | number)[], string]> = [
    [['partyA'], input.partyA],
    ...input.parties.map((p, i): [(string | number)[], string] => [
      renameInputPath(['parties', i, 'number'], shorthand),
      p.number,
    ]),
  ];
  for (const [path, n] of numbers) {
    const key = path.join('.');
    const bad = PhoneSchema.safeParse(n);
    if (!bad.success && !issues.some((i) => i.path.join('.') === key))
      issues.push({ path, message: bad.error.issues[0].message });
  }
  if (issues.length) throw validationError(issues);
  return input;
}

function renameInputPath(path: (string | number)[], shorthand: boolean): (string | number)[] {
  if (path[0] !== 'parties') return path;
  if (shorthand) return ['partyB'];
  return ['partiesB', ...path.slice(1)];
}

/** The comparable part of a request: defaults filled in, the per-call timestamp left out. */
export function requestFingerprint(input: OrderBindingInput): string {
  const parsed = OrderBindingInputSchema.parse(input);
  // Not the caller's request: when it was made, and the deployment's settings the API adds.
  const {
    requestedAt: _requestedAt,
    lateEventsGraceSeconds: _grace,
    continueAsNewAfterEvents: _continueAsNew,
    boundViewMemo: _boundViewMemo,
    ...rest
  } = parsed;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

export const ExtendBodySchema = z.union([
  z.object({ durationSeconds: z.number().int().positive() }).strict(),
  z.object({ expiresAt: z.string().datetime({ offset: true }) }).strict(),
]);

export function parseExtendBody(body: unknown): ExtendRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  // Name the field the caller meant, rather than zod's "invalid union".
  if (typeof b === 'object' && b && 'expiresAt' in b && !('durationSeconds' in b)) {
    return parseOrFail(z.object({ expiresAt: z.string().datetime({ offset: true }) }).strict(), body);
  }
  if (typeof b === 'object' && b && 'durationSeconds' in b && !('expiresAt' in b)) {
    return parseOrFail(z.object({ durationSeconds: z.number().int().positive() }).strict(), body);
  }
  throw new BindflowError('VALIDATION_FAILED', 'invalid request: give exactly one of durationSeconds or expiresAt', {
    fields: [{ field: 'durationSeconds', message: 'give exactly one of durationSeconds or expiresAt' }],
  });
}

export const PartyNumberBodySchema = z.object({ number: PhoneSchema }).strict();

export const ReleaseBodySchema = z
  .object({ reason: z.string().max(200).optional() })
  .strict()
  .optional();

/** GET /v1/bindings's query. */
export const ListStateSchema = z.enum(['binding', 'bound', 'released', 'expired', 'failed']);
export const ListLimitSchema = z.coerce.number().int().min(1).max(1000);

export { parseOrFail };
