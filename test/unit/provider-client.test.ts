// The wire details of the client, proven against a loopback node:http(s) server.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { NonceReplayCache, parseXAksk, verifyAksk } from '../../provider/aksk';
import { PrivateNumberClient } from '../../provider/client';
import { clientOptionsFromEnv } from '../../provider/fromEnv';
import { ProviderError } from '../../provider/resultCodes';

const appKey = 'app+key/1';
const appSecret = 'super-secret-value-42';
const A = '+8613800000001';
const B = '+8613800000002';
const X = '+8675512340000';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Handler = (req: Seen, res: http.ServerResponse) => void;

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
  res.end(JSON.stringify(body));
};

function startServer(secure = false) {
  const seen: Seen[] = [];
  let connections = 0;
  let handler: Handler = (_req, res) => json(res, 200, { resultcode: '0', resultdesc: 'Success' });
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(s);
      handler(s, res);
    });
  };
  const fixtures = path.join(__dirname, 'fixtures/provider');
  const server = secure
    ? https.createServer(
        {
          key: readFileSync(path.join(fixtures, 'tls-key.pem')),
          cert: readFileSync(path.join(fixtures, 'tls-cert.pem')),
        },
        listener,
      )
    : http.createServer(listener);
  server.on('connection', () => connections++);
  const ready = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`${secure ? 'https' : 'http'}://127.0.0.1:${port}`);
    }),
  );
  return {
    ready,
    seen,
    connections: () => connections,
    on(h: Handler) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function caught(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

describe('PrivateNumberClient over HTTP', () => {
  const srv = startServer();
  let client: PrivateNumberClient;
  const errors: ProviderError[] = [];
  const fail = async (p: Promise<unknown>) => {
    const e = await caught(p);
    errors.push(e);
    return e;
  };

  beforeAll(async () => {
    const baseUrl = await srv.ready;
    client = new PrivateNumberClient({ baseUrl, appKey, appSecret, headersTimeoutMs: 300, bodyTimeoutMs: 300 });
  });
  beforeEach(() => {
    srv.seen.length = 0;
  });
  afterAll(async () => {
    await client.close();
    await srv.close();
  });

  function expectSigned(s: Seen) {
    expect(s.headers['content-type']).toBe('application/json;charset=UTF-8');
    const r = verifyAksk({ authorization: s.headers.authorization, xAksk: s.headers['x-aksk'] }, { appKey, appSecret });
    expect(r).toMatchObject({ ok: true });
  }

  it('binds AX: POST to the relation path, app_key in the query string, signed, JSON body', async () => {
    srv.on((_req, res) =>
      json(res, 200, { resultcode: '0', resultdesc: 'Success', subscriptionId: 'sub-1', relationNumber: X }),
    );
    const req = { origNum: A, areaCode: '0755', duration: 3600, ybDuration: 600, recordFlag: false, userData: 'o-1' };
    await expect(client.bindAx(req)).resolves.toEqual({ subscriptionId: 'sub-1', relationNumber: X });
    const [s] = srv.seen;
    expect(s.method).toBe('POST');
    expect(s.url).toBe('/rest/omp/xyrelationnumber/v1.0?app_key=app%2Bkey%2F1');
    expectSigned(s);
    expect(JSON.parse(s.body)).toEqual(req);
  });

  it('binds YB with the subscriptionId', async () => {
    srv.on((_req, res) =>
      json(res, 200, { resultcode: '0', subscriptionId: 'sub-1', relationNumber: '+8675512340001' }),
    );
    await expect(client.bindYb({ origNum: B, subscriptionId: 'sub-1' })).resolves.toEqual({
      subscriptionId: 'sub-1',
      relationNumber: '+8675512340001',
    });
    expect(srv.seen[0].method).toBe('POST');
    expect(JSON.parse(srv.seen[0].body)).toEqual({ origNum: B, subscriptionId: 'sub-1' });
  });

  it('unbinds with DELETE, numbers sent as %2B, Content-Type set', async () => {
    await expect(client.unbind({ subscriptionId: 'sub-1', yNum: '+8675512340001' })).resolves.toBeUndefined();
    const [s] = srv.seen;
    expect(s.method).toBe('DELETE');
    expect(s.url).toBe(
      '/rest/omp/xyrelationnumber/v1.0?subscriptionId=sub-1&yNum=%2B8675512340001&app_key=app%2Bkey%2F1',
    );
    expect(s.body).toBe('');
    expectSigned(s);
  });

  it('reports an unbind of a missing binding (1016001) as notFound', async () => {
    srv.on((_req, res) => json(res, 403, { resultcode: '1016001', resultdesc: 'The binding does not exist.' }));
    const e = await fail(client.unbind({ subscriptionId: 'gone', bNum: B }));
    expect(e).toMatchObject({ code: '1016001', notFound: true, retryable: false, httpStatus: 403, api: 'unbind' });
    expect(srv.seen[0].url).toContain('bNum=%2B8613800000002');
  });

  it('queries by X with GET and returns the entries', async () => {
    const entry = { bindId: 'b1', numA: A, numX: X, numY: '+8675512340001', numB: B, recordFlag: 'false' };
    srv.on((_req, res) => json(res, 200, { resultcode: '0', resultdesc: 'Success', xyRelationNumList: [entry] }));
    await expect(client.query({ relationNum: X })).resolves.toEqual([entry]);
    const [s] = srv.seen;
    expect(s.method).toBe('GET');
    expect(s.url).toBe('/rest/omp/xyrelationnumber/v1.0?relationNum=%2B8675512340000&app_key=app%2Bkey%2F1');
    expectSigned(s);
  });

  it('reports a query of an unknown subscription as notFound', async () => {
    srv.on((_req, res) => json(res, 403, { resultcode: '1016001', resultdesc: 'not exist' }));
    expect(await fail(client.query({ subscriptionId: 'nope' }))).toMatchObject({ notFound: true });
  });

  it('reads the recording 301 as data and never follows it', async () => {
    srv.on((req, res) => {
      if (req.url.startsWith('/download')) return json(res, 500, { followed: true });
      res.writeHead(301, { location: '/download/rec@1.wav?sig=abc' });
      res.end();
    });
    const url = await client.recordingUrl({ recordDomain: 'obs.example.com', fileName: 'rec@1.wav' });
    expect(url).toBe(`${await srv.ready}/download/rec@1.wav?sig=abc`);
    expect(srv.seen).toHaveLength(1);
    expect(srv.seen[0].url).toBe('/rest/provision/voice/record/v1.0?recordDomain=obs.example.com&fileName=rec%401.wav');
    expectSigned(srv.seen[0]);
  });

  it('returns an absolute Location unchanged and turns a JSON failure into its code', async () => {
    srv.on((_req, res) => {
      res.writeHead(301, { location: 'https://obs.example.com/a.wav?X-Sig=1' });
      res.end();
    });
    await expect(client.recordingUrl({ recordDomain: 'obs.example.com', fileName: 'a.wav' })).resolves.toBe(
      'https://obs.example.com/a.wav?X-Sig=1',
    );
    srv.on((_req, res) => json(res, 403, { resultcode: '1012007', resultdesc: 'record file not exist' }));
    expect(await fail(client.recordingUrl({ recordDomain: 'obs.example.com', fileName: 'a.wav' }))).toMatchObject({
      code: '1012007',
      retryable: false,
    });
    srv.on((_req, res) => json(res, 200, { resultcode: '0' }));
    expect(await fail(client.recordingUrl({ recordDomain: 'obs.example.com', fileName: 'a.wav' }))).toMatchObject({
      code: 'BAD_RESPONSE',
    });
    srv.on((_req, res) => {
      res.writeHead(301);
      res.end();
    });
    expect(await fail(client.recordingUrl({ recordDomain: 'obs.example.com', fileName: 'a.wav' }))).toMatchObject({
      code: 'BAD_RESPONSE',
    });
  });

  it('names the field of a 1010002 and classifies flow control and platform timeouts', async () => {
    srv.on((_req, res) => json(res, 403, { resultcode: '1010002', resultdesc: 'Invalid parameter: areaCode' }));
    expect(await fail(client.bindAx({ origNum: A, areaCode: '0999' }))).toMatchObject({
      code: '1010002',
      field: 'areaCode',
      retryable: false,
      outcomeUnknown: false,
    });
    srv.on((_req, res) => json(res, 403, { resultcode: '1010010', resultdesc: 'flow control' }));
    expect(await fail(client.bindAx({ origNum: A, areaCode: '0755' }))).toMatchObject({
      retryable: true,
      retryAfterMs: 60_000,
    });
    srv.on((_req, res) => json(res, 500, { resultcode: '1023002', resultdesc: 'response timeout' }));
    expect(await fail(client.bindAx({ origNum: A, areaCode: '0755' }))).toMatchObject({
      retryable: true,
      outcomeUnknown: true,
    });
  });

  it('signs every request afresh (no nonce reuse across calls)', async () => {
    srv.on((_req, res) => json(res, 200, { resultcode: '0' }));
    await client.unbind({ subscriptionId: 's1' });
    await client.unbind({ subscriptionId: 's1' });
    const cache = new NonceReplayCache();
    for (const s of srv.seen) {
      const r = verifyAksk(
        { authorization: s.headers.authorization, xAksk: s.headers['x-aksk'] },
        { appKey, appSecret, replayCache: cache },
      );
      expect(r.ok).toBe(true);
    }
  });

  it('keeps the connection alive between calls', async () => {
    srv.on((_req, res) => json(res, 200, { resultcode: '0' }));
    const before = srv.connections();
    for (let i = 0; i < 3; i++) await client.unbind({ subscriptionId: `s${i}` });
    expect(srv.connections() - before).toBeLessThanOrEqual(1);
  });

  describe('garbage answers', () => {
    it('an HTML 502 page: clear, retryable, and outcome unknown for a bind', async () => {
      srv.on((_req, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>');
      });
      const e = await fail(client.bindAx({ origNum: A, areaCode: '0755' }));
      expect(e).toMatchObject({ code: 'BAD_RESPONSE', httpStatus: 502, retryable: true, outcomeUnknown: true });
      expect(e.message).toMatch(/non-JSON answer \(HTTP 502, text\/html\)/);
      expect(e.message).toContain('502 Bad Gateway');
      const q = await fail(client.query({ subscriptionId: 's' }));
      expect(q).toMatchObject({ code: 'BAD_RESPONSE', retryable: true, outcomeUnknown: false });
    });

    it('an empty body', async () => {
      srv.on((_req, res) => {
        res.writeHead(200);
        res.end();
      });
      const e = await fail(client.unbind({ subscriptionId: 's' }));
      expect(e).toMatchObject({ code: 'BAD_RESPONSE', httpStatus: 200, retryable: true });
      expect(e.message).toMatch(/empty answer \(HTTP 200/);
    });

    it('JSON without resultcode, and a success without subscriptionId', async () => {
      srv.on((_req, res) => json(res, 200, { status: 'ok' }));
      expect((await fail(client.unbind({ subscriptionId: 's' }))).message).toMatch(/without resultcode/);
      srv.on((_req, res) => json(res, 200, { resultcode: '0', relationNumber: X }));
      const e = await fail(client.bindAx({ origNum: A, areaCode: '0755' }));
      expect(e.message).toMatch(/does not match the spec: subscriptionId/);
      // the bind may well have happened: the caller must reconcile before binding again
      expect(e.outcomeUnknown).toBe(true);
    });

    it('a non-JSON 404 (wrong base URL) is permanent', async () => {
      srv.on((_req, res) => {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found');
      });
      expect(await fail(client.bindAx({ origNum: A, areaCode: '0755' }))).toMatchObject({
        retryable: false,
        outcomeUnknown: false,
      });
    });
  });

  describe('timeouts', () => {
    it('a server that never answers: a retryable TIMEOUT, outcome unknown for a bind only', async () => {
      srv.on(() => undefined); // hold the request forever (closed in afterAll)
      const t0 = Date.now();
      const bind = await fail(client.bindYb({ origNum: B, subscriptionId: 'sub-1' }));
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(bind).toMatchObject({ code: 'TIMEOUT', retryable: true, outcomeUnknown: true, api: 'bindYb' });
      const query = await fail(client.query({ subscriptionId: 'sub-1' }));
      expect(query).toMatchObject({ code: 'TIMEOUT', retryable: true, outcomeUnknown: false });
    });

    it('a body that stalls after the headers', async () => {
      srv.on((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"resultcode":');
      });
      const e = await fail(client.bindAx({ origNum: A, areaCode: '0755' }));
      expect(e).toMatchObject({ code: 'TIMEOUT', retryable: true, outcomeUnknown: true });
    });
  });

  it('bounds a whole call even when the answer trickles in under the body timeout', async () => {
    const slow = new PrivateNumberClient({
      baseUrl: await srv.ready,
      appKey,
      appSecret,
      bodyTimeoutMs: 300,
      totalTimeoutMs: 800,
    });
    let timer: NodeJS.Timeout | undefined;
    srv.on((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const t0 = Date.now();
      const e = await fail(slow.bindAx({ origNum: A, areaCode: '0755' }));
      expect(e).toMatchObject({ code: 'TIMEOUT', retryable: true, outcomeUnknown: true });
      expect(Date.now() - t0).toBeLessThan(3_000);
    } finally {
      clearInterval(timer);
      await slow.close();
    }
  });

  it('reads a numeric resultcode 0 as success', async () => {
    srv.on((_req, res) => json(res, 200, { resultcode: 0, subscriptionId: 's9', relationNumber: X }));
    await expect(client.bindAx({ origNum: A, areaCode: '0755' })).resolves.toEqual({
      subscriptionId: 's9',
      relationNumber: X,
    });
  });

  it('validates our own request before sending, naming the field', async () => {
    const e = await fail(client.bindAx({ origNum: '13800000001', areaCode: '0755' }));
    expect(e).toMatchObject({ code: 'REQUEST_INVALID', field: 'origNum', retryable: false });
    const y = await fail(client.bindAx({ origNum: A, areaCode: '0755', duration: 120, ybDuration: 7200 }));
    expect(y.field).toBe('ybDuration');
    const q = await fail(client.query({} as never));
    expect(q.field).toBe('subscriptionId');
    expect(srv.seen).toHaveLength(0);
  });

  it('never puts the secret, a digest or an unmasked number in an error', async () => {
    // A hostile answer echoing everything back.
    srv.on((req, res) => {
      const digest = parseXAksk(String(req.headers['x-aksk']))?.passwordDigest;
      json(res, 403, { resultcode: '1012102', resultdesc: `bad ${A} ${B} digest ${digest} secret ${appSecret}` });
    });
    errors.push(await caught(client.bindAx({ origNum: A, areaCode: '0755' })));
    srv.on((req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`<p>${A} ${parseXAksk(String(req.headers['x-aksk']))?.passwordDigest}</p>`);
    });
    errors.push(await caught(client.unbind({ subscriptionId: 's', bNum: B })));
    const digests = srv.seen.map((s) => parseXAksk(String(s.headers['x-aksk']))?.passwordDigest ?? '');
    expect(errors.length).toBeGreaterThan(10);
    for (const e of errors) {
      for (const text of [e.message, e.description, JSON.stringify(e), String(e.stack)]) {
        expect(text).not.toContain(appSecret);
        expect(text).not.toContain(A);
        expect(text).not.toContain(B);
        expect(text).not.toContain(A.slice(1));
        for (const d of digests) expect(text).not.toContain(d);
      }
    }
    expect(errors.at(-2)?.message).toContain('+86138****0001');
  });
});

describe('PrivateNumberClient transport', () => {
  it('a refused connection is retryable and not outcome-unknown, even for a bind', async () => {
    const srv = startServer();
    const baseUrl = await srv.ready;
    await srv.close(); // the port is now closed
    const client = new PrivateNumberClient({ baseUrl, appKey, appSecret, connectTimeoutMs: 500 });
    try {
      const e = await caught(client.bindAx({ origNum: A, areaCode: '0755' }));
      expect(e).toMatchObject({ code: 'CONNECT_FAILED', retryable: true, outcomeUnknown: false });
    } finally {
      await client.close();
    }
  });

  it('keeps a base path prefix', async () => {
    const srv = startServer();
    const client = new PrivateNumberClient({ baseUrl: `${await srv.ready}/gw/`, appKey, appSecret });
    try {
      await client.unbind({ subscriptionId: 's' });
      expect(srv.seen[0].url).toBe('/gw/rest/omp/xyrelationnumber/v1.0?subscriptionId=s&app_key=app%2Bkey%2F1');
    } finally {
      await client.close();
      await srv.close();
    }
  });

  it('uses the injected clock for Created', async () => {
    const srv = startServer();
    const now = new Date('2030-01-02T03:04:05.678Z');
    const client = new PrivateNumberClient({ baseUrl: await srv.ready, appKey, appSecret, now: () => now });
    try {
      await client.unbind({ subscriptionId: 's' });
      expect(parseXAksk(String(srv.seen[0].headers['x-aksk']))?.created).toBe('2030-01-02T03:04:05Z');
    } finally {
      await client.close();
      await srv.close();
    }
  });

  it('builds its options from the environment, reading the CA file', () => {
    const caFile = path.join(__dirname, 'fixtures/provider/tls-cert.pem');
    const o = clientOptionsFromEnv({
      PRIVATENUMBER_BASE_URL: 'https://example.test',
      PRIVATENUMBER_APP_KEY: 'k',
      PRIVATENUMBER_APP_SECRET: 's',
      PRIVATENUMBER_CA_FILE: caFile,
    });
    expect(o).toMatchObject({ baseUrl: 'https://example.test', appKey: 'k', appSecret: 's' });
    expect(String(o.ca)).toContain('BEGIN CERTIFICATE');
    const missing = {
      PRIVATENUMBER_BASE_URL: 'https://example.test',
      PRIVATENUMBER_APP_KEY: 'k',
      PRIVATENUMBER_APP_SECRET: 's',
    };
    expect(clientOptionsFromEnv(missing).ca).toBeUndefined();
    expect(() => clientOptionsFromEnv({ ...missing, PRIVATENUMBER_CA_FILE: '/nonexistent/ca.pem' })).toThrow(/ENOENT/);
  });

  describe('TLS', () => {
    const srv = startServer(true);
    const ca = readFileSync(path.join(__dirname, 'fixtures/provider/tls-cert.pem'));
    afterAll(() => srv.close());

    it('verifies the server certificate against the configured CA', async () => {
      const client = new PrivateNumberClient({ baseUrl: await srv.ready, appKey, appSecret, ca });
      try {
        await expect(client.unbind({ subscriptionId: 's' })).resolves.toBeUndefined();
      } finally {
        await client.close();
      }
    });

    it('refuses an untrusted certificate (no CA given) as a permanent TLS error', async () => {
      const client = new PrivateNumberClient({ baseUrl: await srv.ready, appKey, appSecret });
      const before = srv.seen.length;
      try {
        const e = await caught(client.bindAx({ origNum: A, areaCode: '0755' }));
        expect(e).toMatchObject({ code: 'TLS_ERROR', retryable: false, outcomeUnknown: false });
        expect(srv.seen).toHaveLength(before); // nothing reached the server
      } finally {
        await client.close();
      }
    });
  });
});
