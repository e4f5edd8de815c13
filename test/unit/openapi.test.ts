import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../client/api';
import { registerCodecServer } from '../../client/codecServer';
import { createLogger } from '../../lib/log';
import { codecFromEnv } from '../../lib/codec';
import { OPERATIONS, documentedStatuses, openApiDocument, openApiPath } from '../../client/openapi';
import { BindBodySchema } from '../../client/httpSchemas';
import { BindBodyDocSchema } from '../../client/apiSchemas';
import { BindflowError } from '../../client/errors';

// The OpenAPI document against the Fastify app itself: every route served is documented (and every documented
// operation served), the document is OpenAPI 3.1 with the error envelope, examples and security, and its
// request schemas are the validating ones. That each documented status can really be answered is shown against
// the live stack in test/integration/openapi-statuses.test.ts.

/** Every (method, path) Fastify serves, from its route tree. */
function servedRoutes(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const at = line.indexOf('── ');
    if (at < 0) continue;
    const depth = (at - 1) / 4; // '├── ' at depth 0, '│   └── ' at depth 1, …
    const m = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 3).trim());
    if (!m) continue;
    stack.length = depth;
    const full = stack.join('') + m[1];
    stack.push(m[1]);
    for (const method of (m[2] ?? '').split(',').map((s) => s.trim())) if (method) out.add(`${method} ${full}`);
  }
  return out;
}

function appWithEverything(): FastifyInstance {
  return buildApi({
    client: {} as never,
    connection: {} as never,
    taskQueue: 'unused',
    apiToken: 'token',
    appKey: 'k',
    appSecret: 's',
    log: createLogger('api', {}, () => undefined),
    extend: (app, { authorize }) =>
      registerCodecServer(app, {
        codec: codecFromEnv({ BINDFLOW_PAYLOAD_KEY: Buffer.alloc(32, 7).toString('base64') })!,
        authorize,
        corsOrigins: [],
      }),
  });
}

/** Served but not operations of the API: HEAD (Fastify adds one per GET) and the Swagger UI's own assets. */
const NOT_OPERATIONS = [/^HEAD /, /^GET \/docs\/(static\/.*|\*|json|yaml)?$/];

describe('OpenAPI document', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = appWithEverything();
    await app.ready();
  });
  afterAll(async () => app.close());

  test('every route Fastify serves is documented, and every documented operation is served', () => {
    const served = [...servedRoutes(app)].filter((r) => !NOT_OPERATIONS.some((re) => re.test(r)));
    const doc = openApiDocument();
    const documented = Object.entries(doc.paths ?? {}).flatMap(([p, item]) =>
      Object.keys(item as object).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(served.length).toBeGreaterThan(15);
    expect(served.map((r) => r.replace(/:([A-Za-z0-9_]+)/g, '{$1}')).sort()).toEqual([...documented].sort());
    // The route the issue names, and the webhook, are there.
    for (const r of ['GET /v1/pool', 'POST /webhooks/privatenumber', 'GET /openapi.json', 'GET /docs'])
      expect(documented).toContain(r);
  });

  test('GET /openapi.json needs no token and is OpenAPI 3.1 with security, the error envelope and examples', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain('WORKFLOW_UNHEALTHY');
    for (const op of OPERATIONS) {
      const o = doc.paths[openApiPath(op.path)][op.method];
      expect(Object.keys(o.responses).map(Number)).toEqual(documentedStatuses(op));
      for (const [status, r] of Object.entries(o.responses) as [string, { content?: Record<string, unknown> }][]) {
        if (op.errors.some((c) => new BindflowError(c, '').status === Number(status))) {
          const media = r.content?.['application/json'] as { schema: unknown; example: unknown };
          expect(media.example).toBeDefined();
          expect(JSON.stringify(media.schema)).toContain('"code"');
        }
      }
      if (op.body) expect(o.requestBody.content['application/json'].example).toBeDefined();
      if (op.method !== 'options' && op.auth === 'bearer') expect(o.security).toEqual([{ bearerAuth: [] }]);
    }
    // 503s carry Retry-After.
    expect(doc.paths['/v1/orders/{orderId}/binding'].get.responses['503'].headers['Retry-After'].required).toBe(true);
  });

  test('GET /docs renders the document with Swagger UI, served locally (no CDN)', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    const html = page.statusCode === 302 ? await app.inject({ method: 'GET', url: page.headers.location! }) : page;
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('swagger-ui');
    expect(html.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[a-z]/i);
    const json = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    const js = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(js.statusCode).toBe(200);
  });

  test("the PUT body's documented fields are the validating body's, carrying the workflow input's rules", () => {
    const docKeys = Object.keys(BindBodyDocSchema.shape).sort();
    const bodyKeys = Object.keys((BindBodySchema._def.schema as unknown as { shape: object }).shape).sort();
    expect(docKeys).toEqual(bodyKeys);
    const put = openApiDocument().paths!['/v1/orders/{orderId}/binding'].put!;
    const schema = (put.requestBody as { content: Record<string, { schema: { properties: Record<string, object> } }> })
      .content['application/json'].schema;
    expect(schema.properties.areaCode).toEqual(expect.objectContaining({ pattern: '^0\\d{2,3}$' }));
    expect(schema.properties.durationSeconds).toEqual(expect.objectContaining({ type: 'integer', minimum: 60 }));
    expect(schema.properties.partyA).toEqual(expect.objectContaining({ pattern: expect.stringContaining('\\+86') }));
    // Documented examples are valid requests.
    expect(
      BindBodyDocSchema.safeParse(
        (put.requestBody as never as { content: Record<string, { example: unknown }> }).content['application/json']
          .example,
      ).success,
    ).toBe(true);
  });
});
