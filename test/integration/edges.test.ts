import crypto from 'node:crypto';
import { request } from 'undici';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { loadEnv } from '../../lib/config';
import { createLogger } from '../../lib/log';
import { signHeaders } from '../../provider/aksk';
import { buildApi } from '../../client/api';
import { startApi, type RunningApi } from '../../client/apiMain';
import { WEBHOOK_PATH } from '../../client/webhook';
import { devServerAddress, uniqueTaskQueue } from '../helpers/devServer';
import { startTcpProxy } from '../helpers/tcpProxy';
import { SIM_APP, TEST_TOKEN } from '../helpers/api';

// Issue 13 over real HTTP: the webhook alone on its own listener, tokens on metrics and the codec server,
// callback targets refused at the order, and a push answered 503 that the platform's retry gets accepted.

const API_TOKEN = 'edges-api-token-0123456789';
const CODEC_TOKEN = 'edges-codec-token-0123456789';

async function call(url: string, method: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await request(url, {
    method: method as 'GET',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (metrics text)
  }
  return { status: res.statusCode, text, json: json as { error?: { code: string; details?: unknown } } };
}

/** A call-event push for an order that does not exist: accepted into its unrouted store. */
function push(orderId: string) {
  return {
    eventType: 'callin',
    statusInfo: {
      timestamp: '2026-12-01 10:00:00',
      sessionId: `s-${crypto.randomUUID()}`,
      caller: '+8613800000002',
      called: '+8675528000001',
      userData: `bf1:${orderId}:t1`,
    },
  };
}

const baseEnv = (extra: Record<string, string>) =>
  loadEnv({
    TEMPORAL_ADDRESS: devServerAddress(),
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('edges'),
    BINDFLOW_PORT: '0',
    BINDFLOW_API_TOKEN: API_TOKEN,
    BINDFLOW_PAYLOAD_KEY: crypto.randomBytes(32).toString('base64'),
    BINDFLOW_LOG_LEVEL: 'error',
    ...extra,
  });

describe('the webhook on its own listener (BINDFLOW_WEBHOOK_PORT)', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(
      baseEnv({
        BINDFLOW_WEBHOOK_PORT: '0',
        BINDFLOW_CODEC_TOKEN: CODEC_TOKEN,
        BINDFLOW_CALLBACK_SECRET: 'edges-callback-secret',
      }),
    );
  }, 30_000);
  afterAll(async () => api?.stop());

  test('the webhook listener takes pushes and serves nothing else', async () => {
    expect(api.webhookUrl).toBeDefined();
    expect(api.webhookUrl).not.toBe(api.url);
    const ok = await call(`${api.webhookUrl}${WEBHOOK_PATH}`, 'POST', { ...signHeaders(SIM_APP) }, push('edges-wh-1'));
    expect(ok.status).toBe(200);
    const bearer = { authorization: `Bearer ${API_TOKEN}` };
    for (const [method, path, headers, body] of [
      ['GET', '/v1/bindings', bearer, undefined],
      ['PUT', '/v1/orders/o-1/binding', bearer, { partyA: '+8613800000001' }],
      ['POST', '/codec/decode', { authorization: `Bearer ${CODEC_TOKEN}` }, { payloads: [] }],
      ['OPTIONS', '/codec/decode', { origin: 'http://127.0.0.1:8233' }, undefined],
      ['GET', '/openapi.json', {}, undefined],
      ['GET', '/docs', {}, undefined],
      ['GET', '/metrics', bearer, undefined],
      ['GET', '/readyz', bearer, undefined],
      ['GET', '/healthz', {}, undefined],
      ['GET', WEBHOOK_PATH, {}, undefined],
    ] as const) {
      const res = await call(`${api.webhookUrl}${path}`, method, { ...headers }, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
  });

  test('the API listener has no webhook; its metrics count the webhook listener too, with the token', async () => {
    const there = await call(`${api.url}${WEBHOOK_PATH}`, 'POST', { ...signHeaders(SIM_APP) }, push('edges-wh-2'));
    expect(there.status).toBe(404);
    for (const path of ['/metrics', '/readyz']) {
      const anonymous = await call(`${api.url}${path}`, 'GET');
      expect(anonymous.status).toBe(401);
      // The codec token opens the codec server only.
      expect((await call(`${api.url}${path}`, 'GET', { authorization: `Bearer ${CODEC_TOKEN}` })).status).toBe(401);
    }
    expect((await call(`${api.url}/healthz`, 'GET')).status).toBe(200);
    await call(`${api.webhookUrl}${WEBHOOK_PATH}`, 'POST', { ...signHeaders(SIM_APP) }, push('edges-wh-3'));
    const metrics = await call(`${api.url}/metrics`, 'GET', { authorization: `Bearer ${API_TOKEN}` });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/bindflow_webhook_pushes_total\{[^}]*outcome="accepted"[^}]*\} [1-9]/);
  });

  test('the codec server takes BINDFLOW_CODEC_TOKEN, not the API token; /v1 takes the API token only', async () => {
    const decode = (authorization: string) =>
      call(`${api.url}/codec/decode`, 'POST', { authorization }, { payloads: [] });
    expect((await decode(`Bearer ${CODEC_TOKEN}`)).status).toBe(200);
    expect((await decode(`Bearer ${API_TOKEN}`)).status).toBe(401);
    // A forged Web UI Origin does not replace the token outside `bindflow dev`.
    const forged = await call(`${api.url}/codec/decode`, 'POST', { origin: 'http://127.0.0.1:8233' }, { payloads: [] });
    expect(forged.status).toBe(401);
    expect((await call(`${api.url}/v1/bindings`, 'GET', { authorization: `Bearer ${CODEC_TOKEN}` })).status).toBe(401);
    expect((await call(`${api.url}/v1/bindings`, 'GET', { authorization: `Bearer ${API_TOKEN}` })).status).toBe(200);
  });

  test('callback targets that are or resolve to internal addresses are refused, naming userCallbackUrl', async () => {
    for (const target of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://2852039166/', // 169.254.169.254 as one number
      'http://127.0.0.1:3000/v1/bindings',
      'http://0x7f.1/',
      'http://localhost:8233/',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'http://[fd00::1]/hook',
      'http://[::1]:3000/',
      'http://0.0.0.0:3000/',
    ]) {
      const res = await call(
        `${api.url}/v1/orders/edges-cb/binding`,
        'PUT',
        { authorization: `Bearer ${API_TOKEN}` },
        {
          partyA: '+8613800000001',
          partyB: '+8613800000002',
          areaCode: '0755',
          durationSeconds: 3600,
          userCallbackUrl: target,
        },
      );
      expect({ target, status: res.status }).toEqual({ target, status: 400 });
      expect(res.json.error?.details).toMatchObject({ fields: [{ field: 'userCallbackUrl' }] });
    }
  });
});

describe('callbacks without a signing secret', () => {
  test('outside dev an order with a userCallbackUrl is refused until a secret is set or unsigned is allowed', async () => {
    const body = {
      partyA: '+8613800000001',
      partyB: '+8613800000002',
      areaCode: '0755',
      durationSeconds: 3600,
      userCallbackUrl: 'http://127.0.0.1:9/hook', // listed below, so only the missing secret is wrong
    };
    const refusing = await startApi(baseEnv({ BINDFLOW_CALLBACK_ALLOW_HOSTS: '127.0.0.1' }));
    try {
      const res = await call(
        `${refusing.url}/v1/orders/edges-unsigned/binding`,
        'PUT',
        { authorization: `Bearer ${API_TOKEN}` },
        body,
      );
      expect(res.status).toBe(400);
      expect(res.json.error?.details).toMatchObject({ fields: [{ field: 'userCallbackUrl' }] });
      expect(JSON.stringify(res.json)).toMatch(/BINDFLOW_CALLBACK_SECRET/);
    } finally {
      await refusing.stop();
    }
    // BINDFLOW_CALLBACK_UNSIGNED=1 takes it.
    const unsigned = await startApi(
      baseEnv({ BINDFLOW_CALLBACK_ALLOW_HOSTS: '127.0.0.1', BINDFLOW_CALLBACK_UNSIGNED: '1' }),
    );
    try {
      const res = await call(
        `${unsigned.url}/v1/orders/edges-unsigned-ok/binding`,
        'PUT',
        { authorization: `Bearer ${API_TOKEN}`, prefer: 'wait=1' },
        body,
      );
      // Past validation: with no worker the order cannot bind (202, or 503 WORKFLOW_UNHEALTHY), but not 400.
      expect(res.status).not.toBe(400);
      expect(res.json.error?.code).not.toBe('VALIDATION_FAILED');
    } finally {
      await unsigned.stop();
    }
  }, 30_000);
});

describe('replay protection that loses nothing', () => {
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let connection: Connection;
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    proxy = await startTcpProxy(devServerAddress());
    connection = await Connection.connect({ address: proxy.address });
    app = buildApi({
      client: new Client({ connection }),
      connection,
      taskQueue: uniqueTaskQueue('edges-replay'),
      apiToken: TEST_TOKEN,
      ...SIM_APP,
      log: createLogger('api', {}, () => undefined),
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await connection?.close();
    await proxy?.close();
  });

  test('a push answered 503 is accepted when retried with the same headers; after that it is a replay', async () => {
    const headers = { ...signHeaders(SIM_APP) };
    const body = push('edges-replay-1');
    proxy.cut();
    const refused = await call(`${url}${WEBHOOK_PATH}`, 'POST', headers, body);
    expect(refused.status).toBe(503);
    expect(refused.json.error?.code).toBe('TEMPORAL_UNAVAILABLE');
    proxy.restore();
    // The platform retries the same request; until the API has reconnected it may be 503 again, never 401.
    const answers: number[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await call(`${url}${WEBHOOK_PATH}`, 'POST', headers, body);
      answers.push(res.status);
      if (res.status !== 503 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(answers.at(-1)).toBe(200);
    expect(answers.slice(0, -1).every((s) => s === 503)).toBe(true);
    const replay = await call(`${url}${WEBHOOK_PATH}`, 'POST', headers, body);
    expect(replay.status).toBe(401);
    expect(replay.json.error?.details).toEqual({ resultcode: '1023031' });
  }, 90_000);
});
