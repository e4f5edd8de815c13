// The simulator's provider API through the project's own client (and raw signed requests where the client
// would refuse to send): binding rules over HTTP, authentication, app_key, validation, faults, flow control,
// expiry on the simulated clock, recordings.
import { request } from 'undici';
import { createLogger } from '../../lib/log';
import { signHeaders } from '../../provider/aksk';
import { PrivateNumberClient } from '../../provider/client';
import { ProviderError } from '../../provider/resultCodes';
import { PATHS } from '../../provider/schemas';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../simulator';

const A = '+8613800000001';
const B = '+8613800000002';
const quiet = createLogger('simulator-test', {}, () => undefined);
const NO_RECEIVER = 'http://127.0.0.1:9/unused'; // port 9 (discard) is closed: pushes just fail and retry later

async function start(opts: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ port: 0, seed: 5, logger: quiet, pushUrl: NO_RECEIVER, ...opts });
}

function client(sim: Simulator, extra: { headersTimeoutMs?: number; now?: () => Date } = {}) {
  return new PrivateNumberClient({ baseUrl: sim.url, appKey: sim.appKey, appSecret: sim.appSecret, ...extra });
}

/** A signed request as any client would send it; `auth` replaces the two headers when given. */
async function raw(
  sim: Simulator,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  auth?: { Authorization?: string; 'X-AKSK'?: string },
) {
  const res = await request(sim.url + path, {
    method,
    headers: {
      'content-type': 'application/json;charset=UTF-8',
      ...(auth ?? signHeaders({ appKey: sim.appKey, appSecret: sim.appSecret })),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

async function admin(sim: Simulator, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) {
  const res = await request(sim.url + path, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
  return { status: res.statusCode, json: (await res.body.json()) as any };
}

async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw e;
  }
  throw new Error('expected a ProviderError');
}

const bindPath = `${PATHS.relation}?app_key=sim-app-key`;

describe('simulator provider API', () => {
  let sim: Simulator;
  let pn: PrivateNumberClient;
  beforeAll(async () => {
    sim = await start();
    pn = client(sim);
  });
  afterAll(async () => {
    await pn.close();
    await sim.close();
  });
  beforeEach(() => sim.reset());

  it('binds AX and YB, queries by subscription and by X, unbinds one YB then all', async () => {
    const ax = await pn.bindAx({ origNum: A, areaCode: '0755', userData: 'order-1', duration: 3600 });
    expect(ax.relationNumber).toMatch(/^\+86755/);
    expect(await pn.query({ subscriptionId: ax.subscriptionId })).toEqual([
      expect.objectContaining({ numA: A, numX: ax.relationNumber, userData: 'order-1', duration: '3600' }),
    ]);
    const [entry] = await pn.query({ subscriptionId: ax.subscriptionId });
    expect(entry.numY).toBeUndefined();
    const yb = await pn.bindYb({ origNum: B, subscriptionId: ax.subscriptionId });
    expect(yb.subscriptionId).toBe(ax.subscriptionId);
    const yb2 = await pn.bindYb({ origNum: '+8613800000003', subscriptionId: ax.subscriptionId });
    const byX = await pn.query({ relationNum: ax.relationNumber });
    expect(byX.map((e) => [e.numB, e.numY])).toEqual([
      [B, yb.relationNumber],
      ['+8613800000003', yb2.relationNumber],
    ]);
    const view = (await admin(sim, 'GET', '/_sim/bindings')).json.bindings;
    expect(view).toEqual([
      expect.objectContaining({
        subscriptionId: ax.subscriptionId,
        numA: A,
        numX: ax.relationNumber,
        userData: 'order-1',
        yb: [
          expect.objectContaining({ numY: yb.relationNumber, numB: B }),
          expect.objectContaining({ numB: '+8613800000003' }),
        ],
      }),
    ]);
    expect(Date.parse(view[0].expiresAt) - sim.now().getTime()).toBeGreaterThan(3500 * 1000);
    await pn.unbind({ subscriptionId: ax.subscriptionId, bNum: B });
    expect((await pn.query({ subscriptionId: ax.subscriptionId })).map((e) => e.numB)).toEqual(['+8613800000003']);
    await pn.unbind({ subscriptionId: ax.subscriptionId });
    expect((await providerError(pn.query({ subscriptionId: ax.subscriptionId }))).code).toBe('1016001');
    const again = await providerError(pn.unbind({ subscriptionId: ax.subscriptionId }));
    expect(again).toMatchObject({ code: '1016001', httpStatus: 403, notFound: true });
  });

  it('answers 1012001 for a query by a number the app does not own, 1016001 for a free one', async () => {
    expect((await providerError(pn.query({ relationNum: '+8613800000099' }))).code).toBe('1012001');
    expect((await providerError(pn.query({ relationNum: sim.core.store.numbers['0755'][0] }))).code).toBe('1016001');
  });

  it('enforces binding limits over HTTP: 5 X per A (1011003)', async () => {
    for (let i = 0; i < 5; i++) await pn.bindAx({ origNum: A, areaCode: '010' });
    const e = await providerError(pn.bindAx({ origNum: A, areaCode: '010' }));
    expect(e).toMatchObject({ code: '1011003', httpStatus: 403 });
  });

  it('answers 1010002 naming the bad field, with HTTP 403', async () => {
    const cases: Array<[unknown, string]> = [
      [{ origNum: A, areaCode: '755' }, 'areaCode'],
      [{ origNum: '12345', areaCode: '0755' }, 'origNum'],
      [{ origNum: A, areaCode: '0755', duration: 30 }, 'duration'],
      [{ origNum: A, areaCode: '0755', duration: 600, ybDuration: 700 }, 'ybDuration'],
      [{ origNum: A, areaCode: '0755', callDirection: 3 }, 'callDirection'],
      [{ origNum: A, areaCode: '0755', userData: 'x'.repeat(257) }, 'userData'],
      [{ origNum: A, areaCode: '0755', preVoiceX: 'bad name!.wav' }, 'preVoiceX'],
      [{ origNum: B, subscriptionId: '' }, 'subscriptionId'],
    ];
    for (const [body, field] of cases) {
      const r = await raw(sim, 'POST', bindPath, body);
      expect({ field, status: r.status, code: r.json.resultcode }).toEqual({ field, status: 403, code: '1010002' });
      expect(r.json.resultdesc).toContain(field);
    }
    const badUnbind = await raw(sim, 'DELETE', `${PATHS.relation}?subscriptionId=s&yNum=123&app_key=sim-app-key`);
    expect(badUnbind.json).toMatchObject({ resultcode: '1010002', resultdesc: expect.stringContaining('yNum') });
    // a bare + in the query string reads as a space: the number is invalid and named
    const plus = await raw(sim, 'GET', `${PATHS.relation}?relationNum=+8675528000001&app_key=sim-app-key`);
    expect(plus.json).toMatchObject({ resultcode: '1010002', resultdesc: expect.stringContaining('relationNum') });
    const noApp = await raw(sim, 'POST', PATHS.relation, { origNum: A, areaCode: '0755' });
    expect(noApp.json).toMatchObject({ resultcode: '1010002', resultdesc: expect.stringContaining('app_key') });
  });

  it('refuses a wrong app_key with 1010003', async () => {
    const r = await raw(sim, 'POST', `${PATHS.relation}?app_key=other`, { origNum: A, areaCode: '0755' });
    expect(r).toMatchObject({ status: 400, json: { resultcode: '1010003' } });
  });

  it('verifies X-AKSK: missing, wrong secret, clock skew and replayed nonce', async () => {
    const body = { origNum: A, areaCode: '0755' };
    const none = await raw(sim, 'POST', bindPath, body, {});
    expect(none).toMatchObject({ status: 400, json: { resultcode: expect.stringMatching(/^10230/) } });
    const noXAksk = await raw(sim, 'POST', bindPath, body, {
      Authorization: signHeaders({ appKey: 'x', appSecret: 'y' }).Authorization,
    });
    expect(noXAksk.json.resultcode).toBe('1023033');
    const wrongSecret = await raw(sim, 'POST', bindPath, body, signHeaders({ appKey: sim.appKey, appSecret: 'wrong' }));
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.json.resultcode).toMatch(/^10230/);
    const old = await raw(
      sim,
      'POST',
      bindPath,
      body,
      signHeaders({ appKey: sim.appKey, appSecret: sim.appSecret, now: new Date(Date.now() - 301_000) }),
    );
    expect(old.json.resultcode).toBe('1010013');
    const headers = signHeaders({ appKey: sim.appKey, appSecret: sim.appSecret });
    expect((await raw(sim, 'POST', bindPath, body, headers)).json.resultcode).toBe('0');
    const replay = await raw(sim, 'POST', bindPath, body, headers);
    expect(replay.status).toBe(400);
    expect(replay.json.resultcode).not.toBe('0');
    // only the first of the two identical requests bound anything
    expect(sim.bindings()).toHaveLength(1);
  });

  it('expires bindings on the simulated clock: YB goes with AX', async () => {
    const ax = await pn.bindAx({ origNum: A, areaCode: '021', duration: 3600 });
    await pn.bindYb({ origNum: B, subscriptionId: ax.subscriptionId });
    expect((await admin(sim, 'POST', '/_sim/clock', { advanceSeconds: 3599 })).status).toBe(200);
    expect(await pn.query({ subscriptionId: ax.subscriptionId })).toHaveLength(1);
    await admin(sim, 'POST', '/_sim/clock', { advanceSeconds: 2 });
    expect((await providerError(pn.query({ relationNum: ax.relationNumber }))).code).toBe('1016001');
    expect(sim.bindings()).toEqual([]);
    // the numbers are free again: the call to the old X reaches nobody
    const call = await admin(sim, 'POST', '/_sim/calls', { from: B, to: ax.relationNumber });
    expect(call.json.stateCode).toBe(8030);
  });

  it('runs the pool dry: 1011002 for X, areaMatchMode "1" falls back to the province', async () => {
    const small = await start({
      pool: { '0755': ['+8675528000001'], '020': ['+862081000001'], '010': ['+861062000001'] },
    });
    const c = client(small);
    try {
      await c.bindAx({ origNum: A, areaCode: '0755' });
      expect(await providerError(c.bindAx({ origNum: B, areaCode: '0755' }))).toMatchObject({
        code: '1011002',
        httpStatus: 403,
      });
      const fallback = await c.bindAx({ origNum: B, areaCode: '0755', areaMatchMode: '1' });
      expect(fallback.relationNumber).toBe('+862081000001');
      const ax = await c.bindAx({ origNum: '+8613800000005', areaCode: '010' });
      // every number is an X now: no Y left
      expect((await providerError(c.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }))).code).toBe('1012008');
    } finally {
      await c.close();
      await small.close();
    }
  });

  it('serves recordings: the recording API answers 301 to a real A-law WAV', async () => {
    const ax = await pn.bindAx({ origNum: A, areaCode: '0755', recordFlag: true });
    await pn.bindYb({ origNum: B, subscriptionId: ax.subscriptionId });
    const call = await admin(sim, 'POST', '/_sim/calls', { from: B, to: ax.relationNumber, talkSeconds: 20 });
    expect(call.json).toMatchObject({ stateCode: 0, connectedTo: A });
    await sim.settlePushes();
    const fee = sim.pushes().find((p) => p.eventType === 'fee')!.body as { feeLst: Array<Record<string, string>> };
    const rec = fee.feeLst[0];
    expect(rec.recordObjectName).toBe(call.json.recordObjectName);
    const r = await raw(
      sim,
      'GET',
      `${PATHS.recordUrl}?recordDomain=${rec.recordDomain}&fileName=${rec.recordObjectName}`,
    );
    expect(r.status).toBe(301);
    const url = await pn.recordingUrl({ recordDomain: rec.recordDomain, fileName: rec.recordObjectName });
    expect(url.split('?')[0]).toBe(String(r.headers.location).split('?')[0]);
    expect(url).toMatch(new RegExp(`^${sim.url}/_sim/recordings/`));
    const file = await request(url);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('audio/wav');
    const wav = Buffer.from(await file.body.arrayBuffer());
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt16LE(20)).toBe(6);
    expect((await providerError(pn.recordingUrl({ recordDomain: rec.recordDomain, fileName: 'nope.wav' }))).code).toBe(
      '1012007',
    );
    // the link is valid 3 days, the file is kept 7
    sim.advance(3 * 86_400 + 1);
    expect((await request(url)).statusCode).toBe(403);
    sim.advance(4 * 86_400 + 120); // past 7 days after the call ended
    const gone = await providerError(
      pn.recordingUrl({ recordDomain: rec.recordDomain, fileName: rec.recordObjectName }),
    );
    expect(gone.code).toBe('1012007');
  });

  it('validates admin requests naming the field', async () => {
    const bad = await admin(sim, 'POST', '/_sim/calls', { from: 'me', to: '+8675528000001' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details).toEqual([expect.objectContaining({ field: 'from' })]);
    const faults = await admin(sim, 'PUT', '/_sim/faults', { rules: [{ api: 'bind', fault: 'explode' }] });
    expect(faults.status).toBe(400);
    expect(faults.json.error.details[0].field).toBe('rules.0.fault');
  });

  it('resets everything', async () => {
    await pn.bindAx({ origNum: A, areaCode: '0755' });
    await admin(sim, 'PUT', '/_sim/faults', { rules: [{ api: 'query', fault: 'http500' }] });
    expect((await admin(sim, 'POST', '/_sim/reset')).status).toBe(200);
    expect((await admin(sim, 'GET', '/_sim/bindings')).json.bindings).toEqual([]);
    expect((await admin(sim, 'GET', '/_sim/faults')).json.rules).toEqual([]);
  });
});

describe('simulator faults and flow control', () => {
  let sim: Simulator;
  beforeAll(async () => {
    // Almost no refill: the burst is the budget between resets, whatever the speed of the machine.
    sim = await start({ rateLimit: { perSecond: 0.01, burst: 4 } });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.reset();
  });

  const axBody = { origNum: A, areaCode: '0755' };

  it('http500 answers 1010001 with HTTP 500, count-limited', async () => {
    const pn = client(sim);
    try {
      await admin(sim, 'PUT', '/_sim/faults', { rules: [{ api: 'bind', fault: 'http500', count: 1 }] });
      expect(await providerError(pn.bindAx(axBody))).toMatchObject({
        code: '1010001',
        httpStatus: 500,
        retryable: true,
      });
      expect(sim.bindings()).toHaveLength(0);
      await pn.bindAx(axBody);
      expect(sim.bindings()).toHaveLength(1);
      expect((await admin(sim, 'GET', '/_sim/faults')).json.rules[0]).toMatchObject({ applied: 1, count: 1 });
    } finally {
      await pn.close();
    }
  });

  it('flowControl answers 1010010; "bind" also matches the YB step; probability 0 never fires', async () => {
    const pn = client(sim);
    try {
      const ax = await pn.bindAx(axBody);
      sim.setFaults([
        { api: 'query', fault: 'http500', probability: 0 },
        { api: 'bind', fault: 'flowControl' },
      ]);
      expect(await pn.query({ subscriptionId: ax.subscriptionId })).toHaveLength(1);
      const e = await providerError(pn.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }));
      expect(e).toMatchObject({ code: '1010010', httpStatus: 403, retryable: true });
    } finally {
      await pn.close();
    }
  });

  it('timeout never answers, and nothing is bound', async () => {
    const pn = client(sim, { headersTimeoutMs: 300 });
    try {
      sim.setFaults([{ api: 'bindAx', fault: 'timeout', count: 1 }]);
      const e = await providerError(pn.bindAx(axBody));
      expect(e).toMatchObject({ code: 'TIMEOUT', outcomeUnknown: true });
      expect(sim.bindings()).toHaveLength(0);
    } finally {
      await pn.close();
    }
  });

  it('commitThenDrop applies the request and loses the answer', async () => {
    const pn = client(sim);
    try {
      const ax = await pn.bindAx(axBody);
      sim.setFaults([{ api: '*', fault: 'commitThenDrop', count: 2 }]);
      const lost = await providerError(pn.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }));
      expect(lost.outcomeUnknown).toBe(true);
      expect(sim.bindings()[0].yb).toEqual([expect.objectContaining({ numB: B })]);
      await providerError(pn.unbind({ subscriptionId: ax.subscriptionId }));
      expect(sim.bindings()).toEqual([]);
    } finally {
      await pn.close();
    }
  });

  it('token bucket answers 1010010 past the burst', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await raw(sim, 'GET', `${PATHS.relation}?subscriptionId=none&app_key=sim-app-key`);
      codes.push(r.json.resultcode);
    }
    expect(codes.slice(0, 4)).toEqual(['1016001', '1016001', '1016001', '1016001']);
    expect(codes.slice(4)).toContain('1010010');
  });
});

describe('simulator IP lock-out', () => {
  it('blocks the IP with 1020176 after repeated authentication failures, for 30 minutes', async () => {
    const sim = await start({ authFailureLimit: 3 });
    const pn = client(sim);
    try {
      for (let i = 0; i < 3; i++) {
        const r = await raw(
          sim,
          'GET',
          `${PATHS.relation}?subscriptionId=s&app_key=sim-app-key`,
          undefined,
          signHeaders({ appKey: sim.appKey, appSecret: 'bad' }),
        );
        expect(r.json.resultcode).not.toBe('1020176');
      }
      const blocked = await providerError(pn.query({ subscriptionId: 's' }));
      expect(blocked).toMatchObject({ code: '1020176', httpStatus: 400 });
      sim.advance(29 * 60);
      expect((await providerError(pn.query({ subscriptionId: 's' }))).code).toBe('1020176');
      sim.advance(61);
      expect((await providerError(pn.query({ subscriptionId: 's' }))).code).toBe('1016001');
    } finally {
      await pn.close();
      await sim.close();
    }
  });
});
