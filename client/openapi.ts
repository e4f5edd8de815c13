import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import {
  extendZodWithOpenApi,
  OpenApiGeneratorV31,
  OpenAPIRegistry,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { OrderIdSchema, PartyLabelSchema } from '../workflows/types';
import { PushSchema } from '../provider/schemas';
import { WireBody } from './codecServer';
import { BindflowError, type BindflowErrorCode } from './errors';
import {
  ExtendBodySchema,
  ListLimitSchema,
  ListStateSchema,
  PartyNumberBodySchema,
  ReleaseBodySchema,
} from './httpSchemas';
import {
  BIND_BODY_ONE_OF,
  BindBodyDocSchema,
  BindingListSchema,
  BindingViewSchema,
  CodecBodySchema,
  ErrorEnvelopeSchema,
  HealthSchema,
  PoolCapacitySchema,
  ReadySchema,
  WebhookAckSchema,
} from './apiSchemas';

// The HTTP API's OpenAPI 3.1 document, generated from the zod schemas that validate its requests
// (client/httpSchemas.ts, workflows/types.ts, provider/schemas.ts) and those that describe its answers
// (client/apiSchemas.ts). `GET /openapi.json` serves it, `GET /docs` renders it (Swagger UI). Each operation
// lists the error codes its handler can raise; their statuses come from client/errors.ts.

extendZodWithOpenApi(z);

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

const WHEN: Record<BindflowErrorCode, string> = {
  VALIDATION_FAILED: 'a bad body, path, query or JSON; `details.fields` names each bad field',
  UNAUTHORIZED: 'missing or wrong bearer token (webhook: bad or replayed X-AKSK signature)',
  NOT_FOUND: 'no binding for that order',
  CONFLICT: 'the order already has a binding made with a different request',
  REQUEST_REJECTED: 'the workflow refused the change (`details.reason` names any other failure type)',
  BINDING_CLOSED: 'the binding is released, expired or failed (`details.state`)',
  BINDING_RELEASING: 'a release or the expiry is under way (`details.ending`)',
  PARTY_BIND_FAILED: "the provider refused or failed binding the new B's Y",
  PAYLOAD_TOO_LARGE: 'body over the limit (64 KiB; webhook 512 KiB; codec 8 MiB)',
  UNSUPPORTED_MEDIA_TYPE: 'not application/json',
  TEMPORAL_UNAVAILABLE: 'Temporal cannot be reached; retry later',
  WORKFLOW_UNHEALTHY:
    "the order's workflow does not answer (`details`: workflowId, workflowStatus, workflowTaskAttempt)",
  INTERNAL: 'a bug',
};

const ERROR_EXAMPLES: Partial<Record<BindflowErrorCode, unknown>> = {
  VALIDATION_FAILED: {
    error: {
      code: 'VALIDATION_FAILED',
      message: 'invalid request: areaCode: must be a city code with its leading 0, e.g. 0755',
      details: { fields: [{ field: 'areaCode', message: 'must be a city code with its leading 0, e.g. 0755' }] },
    },
  },
  UNAUTHORIZED: { error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token' } },
  NOT_FOUND: { error: { code: 'NOT_FOUND', message: 'no binding for order o-1' } },
  CONFLICT: {
    error: {
      code: 'CONFLICT',
      message: 'order o-1 already has a binding made with a different request',
      details: { workflowId: 'binding-o-1', state: 'bound' },
    },
  },
  BINDING_CLOSED: {
    error: {
      code: 'BINDING_CLOSED',
      message: 'the binding of order o-1 is released; it can no longer change',
      details: { state: 'released' },
    },
  },
  REQUEST_REJECTED: {
    error: { code: 'REQUEST_REJECTED', message: 'extension beyond maxExtensionSeconds (3600 s left)' },
  },
  WORKFLOW_UNHEALTHY: {
    error: {
      code: 'WORKFLOW_UNHEALTHY',
      message: 'the workflow of order o-1 is unhealthy: no worker answered for it in time',
      details: { workflowId: 'binding-o-1', workflowStatus: 'RUNNING', workflowTaskAttempt: 0 },
    },
  },
};

/** The error envelope with `code` limited to the given codes. */
function errorEnvelope(codes: readonly BindflowErrorCode[]) {
  return z
    .object({
      error: z
        .object({
          code: z.enum(codes as [BindflowErrorCode, ...BindflowErrorCode[]]),
          message: z.string(),
          details: z.unknown().optional(),
        })
        .strict(),
    })
    .strict();
}

const RETRY_AFTER = {
  'Retry-After': { description: 'seconds to wait before retrying', required: true, schema: { type: 'string' } },
} as const;
const PREFERENCE_APPLIED = {
  'Preference-Applied': {
    description: '`wait=N` when the request carried a readable `Prefer: wait=N`',
    required: false,
    schema: { type: 'string' },
  },
} as const;

/** What one route answers besides its errors. */
interface Success {
  description: string;
  schema?: z.ZodTypeAny;
  example?: unknown;
  contentType?: string;
  headers?: ResponseConfig['headers'];
}

export interface OperationSpec {
  method: 'get' | 'put' | 'post' | 'delete' | 'options';
  /** The path as Fastify routes it (`:param`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  auth: 'bearer' | 'aksk' | 'none' | 'bearer-or-ui' | 'bearer-unless-public';
  params?: z.AnyZodObject;
  query?: z.AnyZodObject;
  prefer?: boolean;
  body?: { schema: z.ZodTypeAny; required: boolean; example?: unknown; description?: string };
  ok: Record<number, Success>;
  /** The error codes the handler can answer (their statuses come from client/errors.ts). */
  errors: BindflowErrorCode[];
}

const A = '+8613800000001';
const B = '+8613800000002';
const VIEW_EXAMPLE = {
  orderId: 'o-1',
  workflowId: 'binding-o-1',
  state: 'bound',
  subscriptionId: '5f2c1a7e-1b2c-4d5e-8f90-0a1b2c3d4e5f',
  partyA: A,
  numberX: '+8675528000001',
  parties: [{ label: 'b', number: B, numberY: '+8675528000007' }],
  expiresAt: '2026-12-01T13:00:00.000Z',
  extensionRemainingSeconds: 3600,
  calls: [
    {
      sessionId: '1200_3720_4294967295_20261201120000@callenabler.home1.com',
      direction: 'b-to-a',
      partyLabel: 'b',
      startedAt: '2026-12-01T12:05:00.000Z',
      answeredAt: '2026-12-01T12:05:04.000Z',
      endedAt: '2026-12-01T12:05:46.000Z',
      talkSeconds: 42,
      outcome: 'answered',
      recorded: false,
      recordingUrl: null,
    },
  ],
  requestedAt: '2026-12-01T12:00:00.000Z',
};

const OrderPath = z.object({
  orderId: OrderIdSchema.openapi({ description: "the order's id", example: 'o-1' }),
});
const PartyPath = OrderPath.extend({
  label: PartyLabelSchema.openapi({ description: "the B party's label", example: 'b' }),
});

const BINDING = ['bindings'];
const VIEW = (description: string): Success => ({
  description,
  schema: BindingViewSchema,
  example: VIEW_EXAMPLE,
  headers: PREFERENCE_APPLIED,
});
const CHANGE_OK = {
  200: VIEW('the change is applied: the binding as it is now'),
  202: VIEW('the deadline passed first: the binding as GET shows it now; poll GET rather than repeating the change'),
};
const CHANGE_ERRORS: BindflowErrorCode[] = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'BINDING_CLOSED',
  'BINDING_RELEASING',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'TEMPORAL_UNAVAILABLE',
  'WORKFLOW_UNHEALTHY',
];

/** Every operation of the API, in the order of the README's table. */
export const OPERATIONS: OperationSpec[] = [
  {
    method: 'put',
    path: '/v1/orders/:orderId/binding',
    operationId: 'bindOrder',
    summary: "Create the order's binding (AX then one YB per B), or return it",
    description:
      'Update-with-Start: answers once both numbers are bound (201), or 202 with `"state": "binding"` after 10 s ' +
      '(or `Prefer: wait=N`); the same request again answers 200, a different one 409. Give `partyB` or ' +
      '`partiesB` (not both); labels are unique, no B may equal A, and `durationSeconds + maxExtensionSeconds` ' +
      "must fit the provider's 90 days less 10 minutes. A binding the provider refused is answered with " +
      '`"state": "failed"` and `failure.reason`.',
    tags: BINDING,
    auth: 'bearer',
    params: OrderPath,
    prefer: true,
    body: {
      schema: BindBodyDocSchema.openapi({ oneOf: BIND_BODY_ONE_OF } as never),
      required: true,
      example: { partyA: A, partyB: B, areaCode: '0755', durationSeconds: 3600 },
    },
    ok: {
      200: VIEW('the same request again: the existing binding'),
      201: VIEW("bound: numberX is A's privacy number, parties[].numberY each B's"),
      202: VIEW('still binding after the wait: poll GET'),
    },
    errors: [
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'CONFLICT',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'TEMPORAL_UNAVAILABLE',
      'WORKFLOW_UNHEALTHY',
    ],
  },
  {
    method: 'get',
    path: '/v1/orders/:orderId/binding',
    operationId: 'getBinding',
    summary: 'The binding with its calls',
    description: "503 WORKFLOW_UNHEALTHY when the order's workflow does not answer within 10 s (or `Prefer: wait=N`).",
    tags: BINDING,
    auth: 'bearer',
    params: OrderPath,
    prefer: true,
    ok: { 200: VIEW('the binding') },
    errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND', 'TEMPORAL_UNAVAILABLE', 'WORKFLOW_UNHEALTHY'],
  },
  {
    method: 'post',
    path: '/v1/orders/:orderId/binding/extend',
    operationId: 'extendBinding',
    summary: 'Extend the binding',
    description: 'By `durationSeconds`, or to `expiresAt`; beyond `maxExtensionSeconds` in total: 422.',
    tags: BINDING,
    auth: 'bearer',
    params: OrderPath,
    prefer: true,
    body: { schema: ExtendBodySchema, required: true, example: { durationSeconds: 1800 } },
    ok: CHANGE_OK,
    errors: [...CHANGE_ERRORS, 'REQUEST_REJECTED'],
  },
  {
    method: 'put',
    path: '/v1/orders/:orderId/binding/parties/:label',
    operationId: 'setParty',
    summary: 'Add a B party, or replace its number (A keeps X)',
    tags: BINDING,
    auth: 'bearer',
    params: PartyPath,
    prefer: true,
    body: { schema: PartyNumberBodySchema, required: true, example: { number: '+8613800000003' } },
    ok: CHANGE_OK,
    errors: [...CHANGE_ERRORS, 'REQUEST_REJECTED', 'PARTY_BIND_FAILED'],
  },
  {
    method: 'delete',
    path: '/v1/orders/:orderId/binding/parties/:label',
    operationId: 'removeParty',
    summary: 'Remove a B party',
    tags: BINDING,
    auth: 'bearer',
    params: PartyPath,
    prefer: true,
    ok: CHANGE_OK,
    errors: [...CHANGE_ERRORS, 'REQUEST_REJECTED'],
  },
  {
    method: 'delete',
    path: '/v1/orders/:orderId/binding',
    operationId: 'releaseBinding',
    summary: 'Release the binding now',
    description:
      'Unbinds at the provider and ends the order `released`. Within the late-events window a repeated ' +
      'release answers the final view; after it, 409 BINDING_CLOSED.',
    tags: BINDING,
    auth: 'bearer',
    params: OrderPath,
    prefer: true,
    body: {
      schema: (ReleaseBodySchema as z.ZodOptional<z.AnyZodObject>).unwrap(),
      required: false,
      example: { reason: 'order delivered' },
    },
    ok: CHANGE_OK,
    errors: CHANGE_ERRORS,
  },
  {
    method: 'get',
    path: '/v1/bindings',
    operationId: 'listBindings',
    summary: "Bindings from Temporal's visibility (no party numbers)",
    description: "This deployment's orders (its task queue), newest first; at most `limit` (100).",
    tags: BINDING,
    auth: 'bearer',
    query: z.object({
      state: ListStateSchema.optional().openapi({ description: 'only bindings in this state' }),
      limit: ListLimitSchema.optional().openapi({ description: 'at most this many (default 100)' }),
    }),
    ok: {
      200: {
        description: 'the bindings, newest first',
        schema: BindingListSchema,
        example: {
          bindings: [
            {
              orderId: 'o-1',
              workflowId: 'binding-o-1',
              state: 'bound',
              subscriptionId: '5f2c1a7e-1b2c-4d5e-8f90-0a1b2c3d4e5f',
              numberX: '+8675528000001',
              numbersY: ['+8675528000007'],
              areaCode: '0755',
              expiresAt: '2026-12-01T13:00:00.000Z',
              startedAt: '2026-12-01T12:00:00.000Z',
              closedAt: null,
            },
          ],
        },
      },
    },
    errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'TEMPORAL_UNAVAILABLE'],
  },
  {
    method: 'get',
    path: '/v1/pool',
    operationId: 'poolCapacity',
    summary: 'Number pool capacity per area',
    description:
      'Per area (from the numbering plan: `+86755…` is 0755; mobile-style numbers are `mobile`): the numbers of ' +
      '`PRIVATENUMBER_NUMBER_POOL`, how many open bindings hold as X and as Y, and how many are free. Open bindings ' +
      "come from Temporal's visibility (state binding or bound, run open, on this deployment's task queue), which " +
      'lags a binding by about a second. Numbers open bindings hold that the pool does not list are in `unlisted`.',
    tags: ['operators'],
    auth: 'bearer',
    ok: {
      200: {
        description: 'the capacity',
        schema: PoolCapacitySchema,
        example: {
          areas: [{ area: '0755', total: 20, boundAsX: 3, boundAsY: 2, free: 15 }],
          total: 20,
          boundAsX: 3,
          boundAsY: 2,
          free: 15,
          unlisted: [],
          openBindings: 3,
        },
      },
    },
    errors: ['UNAUTHORIZED', 'TEMPORAL_UNAVAILABLE'],
  },
  {
    method: 'post',
    path: '/webhooks/privatenumber',
    operationId: 'providerPush',
    summary: "The provider's pushes (call events and call records)",
    description:
      "On the API's listener, or alone on its own when BINDFLOW_WEBHOOK_PORT is set. " +
      'Signed by the platform with X-AKSK (the app key and secret). Answered 200 once every event is durably in ' +
      'Temporal (in its order, or kept for operators when no open order owns it); 503 makes the platform retry.',
    tags: ['provider'],
    auth: 'aksk',
    body: {
      schema: PushSchema,
      required: true,
      example: {
        eventType: 'disconnect',
        statusInfo: {
          timestamp: '2026-12-01 12:05:46',
          sessionId: '1200_3720_4294967295_20261201120000@callenabler.home1.com',
          caller: B,
          called: '+8675528000001',
          subscriptionId: '5f2c1a7e-1b2c-4d5e-8f90-0a1b2c3d4e5f',
          userData: 'bf1:o-1:3k9f',
          stateCode: 0,
        },
      },
    },
    ok: {
      200: { description: 'accepted', schema: WebhookAckSchema, example: { resultcode: '0', resultdesc: 'Success' } },
    },
    errors: [
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'TEMPORAL_UNAVAILABLE',
    ],
  },
  ...(['encode', 'decode'] as const).flatMap((op): OperationSpec[] => [
    {
      method: 'post',
      path: `/codec/${op}`,
      operationId: `codec${op[0].toUpperCase()}${op.slice(1)}`,
      summary: `Temporal's codec server protocol: ${op} payloads`,
      description:
        'Served when BINDFLOW_PAYLOAD_KEY is set. For the Web UI and the `temporal` CLI; in `bindflow dev` the ' +
        "local Web UI's origin needs no token.",
      tags: ['codec'],
      auth: 'bearer-or-ui',
      body: {
        schema: WireBody,
        required: true,
        example: { payloads: [{ metadata: { encoding: 'YmluYXJ5L3BsYWlu' }, data: 'aGk=' }] },
      },
      ok: { 200: { description: `the ${op}d payloads`, schema: CodecBodySchema } },
      errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'],
    },
    {
      method: 'options',
      path: `/codec/${op}`,
      operationId: `codec${op[0].toUpperCase()}${op.slice(1)}Preflight`,
      summary: `CORS preflight of /codec/${op}`,
      tags: ['codec'],
      auth: 'none',
      ok: { 204: { description: 'allowed methods and headers (origin echoed when it is an allowed Web UI origin)' } },
      errors: [],
    },
  ]),
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness',
    tags: ['operators'],
    auth: 'none',
    ok: { 200: { description: 'the process runs', schema: HealthSchema, example: { status: 'ok' } } },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'ready',
    summary: 'Readiness: Temporal reachable',
    description: 'Needs the bearer token unless BINDFLOW_METRICS_PUBLIC=1.',
    tags: ['operators'],
    auth: 'bearer-unless-public',
    ok: {
      200: { description: 'ready', schema: ReadySchema, example: { status: 'ready', temporal: 'reachable' } },
      503: {
        description: 'Temporal unreachable',
        schema: ReadySchema,
        example: { status: 'not ready', temporal: 'unreachable' },
      },
    },
    errors: ['UNAUTHORIZED'],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics of the API',
    description: 'Needs the bearer token unless BINDFLOW_METRICS_PUBLIC=1.',
    tags: ['operators'],
    auth: 'bearer-unless-public',
    ok: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain', schema: z.string() } },
    errors: ['UNAUTHORIZED'],
  },
  {
    method: 'get',
    path: OPENAPI_PATH,
    operationId: 'openapi',
    summary: 'This document (OpenAPI 3.1)',
    tags: ['operators'],
    auth: 'none',
    ok: { 200: { description: 'the OpenAPI document', schema: z.object({ openapi: z.string() }).passthrough() } },
    errors: [],
  },
  {
    method: 'get',
    path: DOCS_PATH,
    operationId: 'docs',
    summary: 'This document, rendered (Swagger UI)',
    tags: ['operators'],
    auth: 'none',
    ok: { 200: { description: 'an HTML page', contentType: 'text/html', schema: z.string() } },
    errors: [],
  },
];

/** `:param` → `{param}`. */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The statuses an operation documents (its successes and its error codes' statuses). */
export function documentedStatuses(op: OperationSpec): number[] {
  const s = new Set<number>(Object.keys(op.ok).map(Number));
  for (const code of op.errors) s.add(new BindflowError(code, '').status);
  return [...s].sort((a, b) => a - b);
}

function toRoute(op: OperationSpec): RouteConfig {
  const responses: RouteConfig['responses'] = {};
  for (const [status, ok] of Object.entries(op.ok)) {
    responses[status] = {
      description: ok.description,
      ...(ok.headers ? { headers: ok.headers } : {}),
      ...(ok.schema
        ? {
            content: {
              [ok.contentType ?? 'application/json']: {
                schema: ok.schema,
                ...(ok.example !== undefined ? { example: ok.example } : {}),
              },
            },
          }
        : {}),
    };
  }
  const byStatus = new Map<number, BindflowErrorCode[]>();
  for (const code of op.errors) {
    const status = new BindflowError(code, '').status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of byStatus) {
    const example = codes.map((c) => ERROR_EXAMPLES[c]).find((e) => e !== undefined) ?? {
      error: { code: codes[0], message: WHEN[codes[0]] },
    };
    responses[String(status)] = {
      description: codes.map((c) => `\`${c}\`: ${WHEN[c]}`).join('; '),
      ...(status === 503 ? { headers: RETRY_AFTER } : {}),
      content: { 'application/json': { schema: errorEnvelope(codes), example } },
    };
  }
  const headers = op.prefer
    ? z.object({
        prefer: z.string().optional().openapi({
          description:
            'RFC 7240 `wait=N`: how long (1 to 60 s) to wait on the workflow before answering 202 (or 503 for GET)',
          example: 'wait=5',
        }),
      })
    : undefined;
  const security: Record<string, string[]>[] =
    op.auth === 'bearer'
      ? [{ bearerAuth: [] }]
      : op.auth === 'aksk'
        ? [{ aksk: [] }]
        : op.auth === 'bearer-or-ui' || op.auth === 'bearer-unless-public'
          ? [{ bearerAuth: [] }, {}]
          : [];
  return {
    method: op.method,
    path: openApiPath(op.path),
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: op.tags,
    security,
    request: {
      ...(op.params ? { params: op.params } : {}),
      ...(op.query ? { query: op.query } : {}),
      ...(headers ? { headers } : {}),
      ...(op.body
        ? {
            body: {
              required: op.body.required,
              ...(op.body.description ? { description: op.body.description } : {}),
              content: {
                'application/json': {
                  schema: op.body.schema,
                  ...(op.body.example !== undefined ? { example: op.body.example } : {}),
                },
              },
            },
          }
        : {}),
    },
    responses,
  };
}

let cached: ReturnType<OpenApiGeneratorV31['generateDocument']> | undefined;

/** The OpenAPI 3.1 document (built once). */
export function openApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  if (cached) return cached;
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'BINDFLOW_API_TOKEN',
  });
  registry.registerComponent('securitySchemes', 'aksk', {
    type: 'apiKey',
    in: 'header',
    name: 'X-AKSK',
    description:
      "The provider's X-AKSK signature (HMAC-SHA256 with the app secret over nonce and created time); replays refused",
  });
  registry.register('BindingView', BindingViewSchema);
  registry.register('BindingList', BindingListSchema);
  registry.register('PoolCapacity', PoolCapacitySchema);
  registry.register(
    'Error',
    ErrorEnvelopeSchema.openapi({
      description: 'Every error: a stable code, its message, and details where there are any',
    }),
  );
  for (const op of OPERATIONS) registry.registerPath(toRoute(op));
  cached = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'bindflow HTTP API',
      version: (require('../package.json') as { version: string }).version,
      description:
        'Durable AXYB privacy-number bindings per order (Huawei Cloud Privacy Number Protection), one Temporal workflow per order. Errors are `{"error": {"code", "message", "details"}}` (schema `Error`); 503s carry `Retry-After`.',
    },
    tags: [
      { name: 'bindings', description: "an order's binding" },
      { name: 'operators', description: 'health, metrics, capacity, this document' },
      { name: 'provider', description: "the provider's pushes" },
      { name: 'codec', description: "Temporal's codec server" },
    ],
  });
  return cached;
}

/** `GET /openapi.json` and `GET /docs` (Swagger UI, served from the package: no CDN), no token. */
export function registerOpenApi(app: FastifyInstance): void {
  app.get(OPENAPI_PATH, async () => openApiDocument());
  app.register(async (scope) => {
    await scope.register(require('@fastify/swagger'), {
      mode: 'static',
      specification: { document: openApiDocument() },
    });
    await scope.register(require('@fastify/swagger-ui'), { routePrefix: DOCS_PATH });
  });
}
