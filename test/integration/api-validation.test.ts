import { signHeaders } from '../../provider/aksk';
import { uniqueTaskQueue } from '../helpers/devServer';
import { SIM_APP, startTestApi } from '../helpers/api';

// The HTTP edge's refusals: auth, validation naming every field, sizes, webhook signatures.
// None of these reach a workflow, so no worker runs here.

describe('HTTP API: auth, validation and limits', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  beforeAll(async () => {
    api = await startTestApi(uniqueTaskQueue('api-validation'));
  });
  afterAll(async () => api?.close());

  const goodBody = { partyA: '+8613800000001', partyB: '+8613800000002', areaCode: '0755', durationSeconds: 3600 };

  test('every /v1 route refuses a missing or wrong token with 401 and the one error shape', async () => {
    const routes: Array<[string, string]> = [
      ['PUT', '/v1/orders/o-1/binding'],
      ['GET', '/v1/orders/o-1/binding'],
      ['POST', '/v1/orders/o-1/binding/extend'],
      ['PUT', '/v1/orders/o-1/binding/parties/b'],
      ['DELETE', '/v1/orders/o-1/binding/parties/b'],
      ['DELETE', '/v1/orders/o-1/binding'],
      ['GET', '/v1/bindings'],
    ];
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic dGVzdA==' }]) {
        const res = await api.app.inject({
          method: method as 'GET',
          url,
          headers,
          payload: method === 'GET' || method === 'DELETE' ? undefined : {},
        });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
      }
    }
  });

  test('a bad PUT body names every bad field', async () => {
    const res = await api.app.inject({
      method: 'PUT',
      url: '/v1/orders/o-1/binding',
      headers: api.auth,
      payload: { partyA: '13800000001', partyB: '+86138', areaCode: '755', durationSeconds: 10 },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    const fields = body.error.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['partyA', 'partyB', 'areaCode', 'durationSeconds']));
  });

  test('unknown fields, both partyB and partiesB, and a bad orderId are refused by name', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['/v1/orders/o-1/binding', { ...goodBody, colour: 'red' }, '(body)'],
      [
        '/v1/orders/o-1/binding',
        { ...goodBody, partiesB: [{ label: 'driver', number: '+8613800000003' }] },
        'partiesB',
      ],
      [
        '/v1/orders/o-1/binding',
        { ...goodBody, partyB: undefined, partiesB: [{ label: 'bad label!', number: '+8613800000003' }] },
        'partiesB.0.label',
      ],
      ['/v1/orders/bad%20id/binding', goodBody, 'orderId'],
      ['/v1/orders/o-1/binding', { ...goodBody, partyB: '+14155550100' }, 'partyB'],
    ];
    for (const [url, payload, field] of cases) {
      const res = await api.app.inject({ method: 'PUT', url, headers: api.auth, payload: payload as object });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
  });

  test('malformed JSON is 400, an oversized body 413, a non-JSON content type 415', async () => {
    const bad = await api.app.inject({
      method: 'PUT',
      url: '/v1/orders/o-1/binding',
      headers: { ...api.auth, 'content-type': 'application/json' },
      payload: '{"partyA":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_FAILED');
    const big = await api.app.inject({
      method: 'PUT',
      url: '/v1/orders/o-1/binding',
      headers: api.auth,
      payload: { ...goodBody, userCallbackUrl: `https://x.example/${'a'.repeat(70 * 1024)}` },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const text = await api.app.inject({
      method: 'PUT',
      url: '/v1/orders/o-1/binding',
      headers: { ...api.auth, 'content-type': 'text/plain' },
      payload: 'hi',
    });
    expect(text.statusCode).toBe(415);
  });

  test('extend needs exactly one of durationSeconds or expiresAt', async () => {
    for (const payload of [
      {},
      { durationSeconds: 60, expiresAt: '2030-01-01T00:00:00Z' },
      { durationSeconds: -5 },
      { expiresAt: 'tomorrow' },
    ]) {
      const res = await api.app.inject({
        method: 'POST',
        url: '/v1/orders/o-1/binding/extend',
        headers: api.auth,
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details.fields.length).toBeGreaterThan(0);
    }
  });

  test('an unknown order is 404 NOT_FOUND on read and on every change', async () => {
    const get = await api.app.inject({ method: 'GET', url: '/v1/orders/no-such-order/binding', headers: api.auth });
    expect(get.statusCode).toBe(404);
    expect(get.json().error.code).toBe('NOT_FOUND');
    const ext = await api.app.inject({
      method: 'POST',
      url: '/v1/orders/no-such-order/binding/extend',
      headers: api.auth,
      payload: { durationSeconds: 60 },
    });
    expect(ext.statusCode).toBe(404);
  });

  test('health, readiness (Temporal reachable) and metrics', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Readiness and metrics want the token (unless BINDFLOW_METRICS_PUBLIC=1); liveness never does.
    for (const url of ['/readyz', '/metrics']) {
      const anonymous = await api.app.inject({ method: 'GET', url });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe('UNAUTHORIZED');
    }
    const ready = await api.app.inject({ method: 'GET', url: '/readyz', headers: api.auth });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ temporal: 'reachable' });
    const metrics = await api.app.inject({ method: 'GET', url: '/metrics', headers: api.auth });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(
      /bindflow_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/,
    );
  });

  describe('provider webhook', () => {
    const push = {
      eventType: 'callin',
      statusInfo: {
        timestamp: '2026-11-29 10:00:00',
        sessionId: 's-1',
        caller: '+8613800000002',
        called: '+8675528000001',
      },
    };

    test('forged, stale, replayed and unsigned pushes get 401', async () => {
      const forged = signHeaders({ appKey: SIM_APP.appKey, appSecret: 'wrong-secret' });
      const stale = signHeaders({ ...SIM_APP, now: new Date(Date.now() - 3600_000) });
      const cases = [{}, forged, stale];
      for (const h of cases) {
        const res = await api.app.inject({
          method: 'POST',
          url: '/webhooks/privatenumber',
          headers: { ...h },
          payload: push,
        });
        expect(res.statusCode).toBe(401);
      }
      const once = signHeaders(SIM_APP);
      // A malformed body with a good signature is 400; its nonce was not used by an accepted push, so the same
      // request is 400 again (not a replay).
      for (let i = 0; i < 2; i++) {
        const malformed = await api.app.inject({
          method: 'POST',
          url: '/webhooks/privatenumber',
          headers: { ...once },
          payload: { eventType: 'nonsense' },
        });
        expect(malformed.statusCode).toBe(400);
      }
      // Once a push with that signature is accepted, the signature is used: replaying it is 401.
      const accepted = await api.app.inject({
        method: 'POST',
        url: '/webhooks/privatenumber',
        headers: { ...once },
        payload: push,
      });
      expect(accepted.statusCode).toBe(200);
      const replay = await api.app.inject({
        method: 'POST',
        url: '/webhooks/privatenumber',
        headers: { ...once },
        payload: push,
      });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error.details.resultcode).toBe('1023031');
    });

    test('malformed pushes are 400 naming the field; oversized ones 413', async () => {
      const res = await api.app.inject({
        method: 'POST',
        url: '/webhooks/privatenumber',
        headers: { ...signHeaders(SIM_APP) },
        payload: { eventType: 'fee', feeLst: [] },
      });
      expect(res.statusCode).toBe(400);
      expect(JSON.stringify(res.json())).toMatch(/feeLst/);
      const big = await api.app.inject({
        method: 'POST',
        url: '/webhooks/privatenumber',
        headers: { ...signHeaders(SIM_APP) },
        payload: { ...push, padding: 'x'.repeat(600 * 1024) },
      });
      expect(big.statusCode).toBe(413);
    });
  });
});
