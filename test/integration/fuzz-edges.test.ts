import crypto from 'node:crypto';
import fc from 'fast-check';
import { request } from 'undici';
import { loadEnv } from '../../lib/config';
import { signHeaders } from '../../provider/aksk';
import { startApi, type RunningApi } from '../../client/apiMain';
import { WEBHOOK_PATH } from '../../client/webhook';
import { devServerAddress, uniqueTaskQueue } from '../helpers/devServer';
import { SIM_APP } from '../helpers/api';

// Generated bad input at the edges issue 13 added, over real HTTP (the fuzz drill in fuzz.test.ts covers the
// rest): the webhook listener serves nothing but the webhook; refused callback targets in every spelling;
// a forged Web UI Origin with a non-loopback Host; metrics and readiness without the token. Every answer a
// 4xx (never 2xx, never 5xx), the server still healthy afterwards.

const API_TOKEN = 'fuzz-edges-api-token-0123';

let api: RunningApi;
beforeAll(async () => {
  api = await startApi(
    loadEnv({
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('fuzz-edges'),
      BINDFLOW_PORT: '0',
      BINDFLOW_WEBHOOK_PORT: '0',
      BINDFLOW_API_TOKEN: API_TOKEN,
      BINDFLOW_PAYLOAD_KEY: crypto.randomBytes(32).toString('base64'),
      BINDFLOW_CALLBACK_SECRET: 'fuzz-edges-callback-secret',
      BINDFLOW_CODEC_CORS_ORIGINS: 'http://127.0.0.1:8233',
    }),
    // As `bindflow dev` asks: every listener is on 127.0.0.1, so only the Host header decides.
    { trustUiOrigin: true },
  );
}, 30_000);
afterAll(async () => api?.stop());

async function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await request(`${base}${path}`, { method: method as 'GET', headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

async function runAll<T>(items: T[], fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(fn));
}

const token = fc.oneof(
  fc.constant(''),
  fc.constant(`Bearer ${API_TOKEN}`),
  fc.string({ maxLength: 40 }).map((s) => `Bearer ${s.replace(/[\r\n]/g, '')}`),
);

test('the webhook listener: any other method or path is 404, never an API, codec or metrics answer', async () => {
  const paths = fc.oneof(
    fc.constantFrom(
      '/v1/bindings',
      '/v1/orders/o-1/binding',
      '/codec/decode',
      '/codec/encode',
      '/openapi.json',
      '/docs',
      '/metrics',
      '/readyz',
      '/healthz',
      `${WEBHOOK_PATH}/x`,
      `${WEBHOOK_PATH}/../../v1/bindings`,
      '/%2e%2e/v1/bindings',
      '/',
    ),
    fc.webPath().map((p) => p || '/'),
    fc.string({ maxLength: 30 }).map((s) => `/v1/${encodeURIComponent(s)}`),
  );
  const requests = fc.sample(
    fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
      path: paths,
      query: fc.oneof(
        fc.constant(''),
        fc.webQueryParameters().map((q) => `?${q}`),
      ),
      auth: token,
      body: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    }),
    { numRuns: 400, seed: 1301 },
  );
  const seen: Record<string, number> = {};
  await runAll(requests, async (r) => {
    const isWebhook = r.method === 'POST' && r.path === WEBHOOK_PATH;
    const res = await send(
      api.webhookUrl!,
      r.method,
      `${r.path}${r.query}`,
      { 'content-type': 'application/json', ...(r.auth ? { authorization: r.auth } : {}) },
      r.method === 'GET' || r.method === 'OPTIONS' ? undefined : r.body,
    );
    seen[res.status] = (seen[res.status] ?? 0) + 1;
    // A path the router normalises to the webhook's own still demands a signature: 401, never 2xx.
    if (isWebhook || res.status === 401) expect(res.status).toBe(401);
    // No route: 404, or 400 when the body of a request to no route is not parseable JSON (parsed first).
    else if (res.status === 400) expect(JSON.parse(res.text).error.details.fields[0].field).toBe('(body)');
    else expect({ path: r.path, status: res.status }).toEqual({ path: r.path, status: 404 });
    // Only the error envelope: no metrics text, no OpenAPI document, no codec payloads, no binding.
    expect(Object.keys(JSON.parse(res.text))).toEqual(['error']);
  });
  expect(seen[404]).toBeGreaterThan(300);
}, 120_000);

/** Refused IPv4 addresses: loopback, link-local (metadata), private, shared, unspecified. */
const refusedV4 = fc.oneof(
  fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(169), fc.constant(254), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(192), fc.constant(168), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(0), fc.nat(255), fc.nat(255), fc.nat(255)),
);

/** One address in the spellings a URL parser accepts for it. */
const spelled = refusedV4.chain(([a, b, c, d]) => {
  const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  const hex = (x: number) => `0x${x.toString(16)}`;
  return fc.constantFrom(
    `${a}.${b}.${c}.${d}`,
    String(n), // one decimal number
    hex(n), // one hex number
    `${hex(a)}.${b}.${c}.${d}`,
    `0${a.toString(8)}.${b}.${c}.${d}`, // octal first part
    `${a}.${(b << 16) + (c << 8) + d}`, // a.bcd
    `[::ffff:${a}.${b}.${c}.${d}]`,
    `[::ffff:${((a << 8) + b).toString(16)}:${((c << 8) + d).toString(16)}]`,
    `[64:ff9b::${a}.${b}.${c}.${d}]`,
  );
});
const refusedHost = fc.oneof(
  { weight: 6, arbitrary: spelled },
  fc.constantFrom(
    'localhost',
    'LOCALHOST',
    'localhost.',
    'api.localhost',
    '[::1]',
    '[::]',
    '[fe80::1]',
    '[fd12:3456::1]',
    '[fc00::2]',
  ),
);

test('refused callback targets in every spelling: 400 naming userCallbackUrl, no order made', async () => {
  const urls = fc.sample(
    fc
      .record({
        scheme: fc.constantFrom('http', 'https', 'HTTP'),
        host: refusedHost,
        port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        user: fc.constantFrom('', 'user@', 'a:b@'),
        path: fc.webPath(),
      })
      .map((u) => `${u.scheme}://${u.user}${u.host}${u.port ? `:${u.port}` : ''}${u.path}`),
    { numRuns: 400, seed: 1302 },
  );
  await runAll(urls, async (userCallbackUrl) => {
    const res = await send(
      api.url,
      'PUT',
      `/v1/orders/fz-cb-${crypto.randomUUID().slice(0, 8)}/binding`,
      { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      JSON.stringify({
        partyA: '+8613800000001',
        partyB: '+8613800000002',
        areaCode: '0755',
        durationSeconds: 3600,
        userCallbackUrl,
      }),
    );
    expect({ userCallbackUrl, status: res.status }).toEqual({ userCallbackUrl, status: 400 });
    expect(JSON.parse(res.text).error.details.fields).toEqual([expect.objectContaining({ field: 'userCallbackUrl' })]);
  });
}, 120_000);

test('codec server: a forged Web UI Origin with a non-loopback Host is 401; tokens and metrics the same', async () => {
  const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,12}$/);
  const hosts = fc.sample(
    fc.oneof(
      fc.tuple(label, label).map(([a, b]) => `${a}.${b}.example`),
      fc.tuple(label).map(([a]) => `localhost.${a}.example`),
      fc.tuple(label).map(([a]) => `127.0.0.1.${a}.example`),
      fc.ipV4().filter((ip) => !ip.startsWith('127.')),
      fc
        .ipV6()
        .filter((ip) => ip !== '::1' && !/^[0:]*:(ffff:)?(0*1|127\.)/.test(ip))
        .map((ip) => `[${ip}]`),
    ),
    { numRuns: 200, seed: 1303 },
  );
  const body = JSON.stringify({ payloads: [] });
  await runAll(hosts, async (host) => {
    const forged = await send(
      api.url,
      'POST',
      '/codec/decode',
      {
        host,
        origin: 'http://127.0.0.1:8233',
        'content-type': 'application/json',
      },
      body,
    );
    expect({ host, status: forged.status }).toEqual({ host, status: 401 });
  });
  // The same request with a loopback Host is the dev relaxation at work (so the 401s above are the Host's doing).
  const local = await send(
    api.url,
    'POST',
    '/codec/decode',
    {
      host: '127.0.0.1',
      origin: 'http://127.0.0.1:8233',
      'content-type': 'application/json',
    },
    body,
  );
  expect(local.status).toBe(200);

  const anonymous = fc.sample(fc.record({ path: fc.constantFrom('/metrics', '/readyz'), auth: token }), {
    numRuns: 100,
    seed: 1304,
  });
  await runAll(anonymous, async (r) => {
    const res = await send(api.url, 'GET', r.path, r.auth ? { authorization: r.auth } : {});
    expect(res.status).toBe(r.auth === `Bearer ${API_TOKEN}` ? 200 : 401);
  });

  // Still healthy, and the webhook still takes a signed push.
  expect((await send(api.url, 'GET', '/healthz', {})).status).toBe(200);
  const ok = await send(
    api.webhookUrl!,
    'POST',
    WEBHOOK_PATH,
    { 'content-type': 'application/json', ...signHeaders(SIM_APP) },
    JSON.stringify({
      eventType: 'callin',
      statusInfo: {
        timestamp: '2026-12-01 10:00:00',
        sessionId: 'fz-edges-1',
        caller: '+8613800000002',
        called: '+8675528000001',
        userData: 'bf1:fz-edges-order:t1',
      },
    }),
  );
  expect(ok.status).toBe(200);
}, 120_000);
