import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { request } from 'undici';
import { signHeaders } from '../../provider/aksk';
import { WEBHOOK_PATH } from '../../client/webhook';
import { BENCH_TOKEN, SIM_APP } from '../stack';

// Drill (e): thousands of malformed, forged and oversized requests at the API and the webhook. Every
// answer must be a 4xx, the server must keep answering, and the heap must not grow with the count.

export interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const json = { 'content-type': 'application/json' };
const bearer = { authorization: `Bearer ${BENCH_TOKEN}` };
const orderId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/).map((s) => `fz-${s}`),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s) || '%20'),
);
/** JSON text that is not valid for PUT: anything at all, but never with a string partyA. */
const badBindBody = fc
  .oneof(
    fc.jsonValue(),
    fc.record({
      partyA: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string())),
      partyB: fc.string(),
      areaCode: fc.string(),
      durationSeconds: fc.oneof(fc.double(), fc.string(), fc.integer()),
    }),
    fc.record({ partyB: fc.string(), areaCode: fc.constant('0755'), durationSeconds: fc.integer() }),
  )
  .map((v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Record<string, unknown>).partyA === 'string')
      delete (v as Record<string, unknown>).partyA;
    return JSON.stringify(v) ?? 'null';
  });
/** A push the webhook must refuse even when signed: no usable eventType, or a body of the wrong shape. */
const badPush = fc
  .oneof(
    fc.jsonValue(),
    fc.record({ eventType: fc.string({ maxLength: 12 }), statusInfo: fc.jsonValue() }),
    fc.record({
      eventType: fc.constant('fee'),
      feeLst: fc.oneof(fc.constant([]), fc.array(fc.jsonValue(), { maxLength: 3 })),
    }),
    fc.record({ eventType: fc.constant('callin'), statusInfo: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }),
  )
  .filter((v) => {
    // Keep only what is invalid whatever the case of eventType: a correct-looking push could be accepted.
    const t = (v as { eventType?: unknown } | null)?.eventType;
    if (typeof t !== 'string') return true;
    const n = t.trim().toLowerCase();
    const info = (v as { statusInfo?: unknown }).statusInfo;
    if (['callin', 'callout', 'alerting', 'answer', 'disconnect'].includes(n))
      return !info || typeof info !== 'object' || Array.isArray(info) || !('sessionId' in info);
    return (
      n !== 'fee' ||
      !Array.isArray((v as { feeLst?: unknown }).feeLst) ||
      (v as { feeLst: unknown[] }).feeLst.length === 0
    );
  })
  .map((v) => JSON.stringify(v) ?? 'null');

export const fuzzRequests: fc.Arbitrary<FuzzRequest> = fc.oneof(
  // No or a wrong bearer token, on every /v1 route.
  fc
    .record({
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE'),
      id: orderId,
      route: fc.constantFrom('/binding', '/binding/extend', '/binding/parties/b', ''),
      auth: fc.oneof(
        fc.constant(''),
        fc.string({ maxLength: 60 }).map((s) => `Bearer ${s.replace(/[\r\n]/g, '')}`),
        fc.constant('Basic eA=='),
      ),
      body: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    })
    .map((r) => ({
      kind: 'unauthorized',
      method: r.method,
      path: `/v1/orders/${r.id}${r.route}`,
      headers: { ...json, ...(r.auth && r.auth !== `Bearer ${BENCH_TOKEN}` ? { authorization: r.auth } : {}) },
      body: r.method === 'GET' || r.method === 'DELETE' ? undefined : r.body,
    })),
  // Authorised, malformed bodies.
  fc.record({ id: orderId, body: badBindBody }).map((r) => ({
    kind: 'bad-bind',
    method: 'PUT',
    path: `/v1/orders/${r.id}/binding`,
    headers: { ...json, ...bearer },
    body: r.body,
  })),
  // Authorised, not JSON at all, or a wrong content type.
  fc
    .record({
      id: orderId,
      text: fc.string({ maxLength: 200 }),
      type: fc.constantFrom('application/json', 'text/plain', 'application/xml', 'application/x-www-form-urlencoded'),
    })
    .filter((r) => {
      if (r.type !== 'application/json') return true;
      try {
        JSON.parse(r.text);
        return false;
      } catch {
        return true;
      }
    })
    .map((r) => ({
      kind: 'not-json',
      method: 'PUT',
      path: `/v1/orders/fz-x/binding`,
      headers: { ...bearer, 'content-type': r.type },
      body: r.text,
    })),
  // Authorised, odd extend and party bodies on orders that do not exist.
  fc
    .record({
      id: orderId,
      body: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      route: fc.constantFrom('/binding/extend', '/binding/parties/b', '/binding/parties/%00'),
    })
    .map((r) => ({
      kind: 'bad-change',
      method: r.route === '/binding/extend' ? 'POST' : 'PUT',
      path: `/v1/orders/${r.id}${r.route}`,
      headers: { ...json, ...bearer },
      body: r.body,
    })),
  // Authorised, a bad query string on the list.
  fc
    .record({ state: fc.string({ maxLength: 20 }), limit: fc.string({ maxLength: 8 }) })
    .filter((r) => !['binding', 'bound', 'released', 'expired', 'failed'].includes(r.state))
    .map((r) => ({
      kind: 'bad-list',
      method: 'GET',
      path: `/v1/bindings?state=${encodeURIComponent(r.state || 'x')}&limit=${encodeURIComponent(r.limit)}`,
      headers: bearer,
    })),
  // Oversized bodies (API limit 64 KiB, webhook 512 KiB).
  fc.record({ extra: fc.integer({ min: 1, max: 4096 }), hook: fc.boolean() }).map((r) => ({
    kind: 'oversized',
    method: r.hook ? 'POST' : 'PUT',
    path: r.hook ? WEBHOOK_PATH : '/v1/orders/fz-big/binding',
    headers: r.hook ? { ...json, ...signHeaders(SIM_APP) } : { ...json, ...bearer },
    body: JSON.stringify({ pad: 'x'.repeat((r.hook ? 512 : 64) * 1024 + r.extra) }),
  })),
  // Forged pushes: no, garbage, or wrongly signed X-AKSK.
  fc
    .record({
      header: fc.oneof(
        fc.constant(undefined),
        fc.string({ maxLength: 200 }).map((s) => s.replace(/[\r\n]/g, '')),
        fc
          .string({ minLength: 1, maxLength: 30 })
          .map((secret) => signHeaders({ appKey: SIM_APP.appKey, appSecret: `x${secret}` })['X-AKSK']),
        fc.constant(signHeaders({ appKey: 'someone-else', appSecret: SIM_APP.appSecret })['X-AKSK']),
      ),
      body: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    })
    .map((r) => ({
      kind: 'forged-push',
      method: 'POST',
      path: WEBHOOK_PATH,
      headers: {
        ...json,
        authorization: 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"',
        ...(r.header ? { 'x-aksk': r.header } : {}),
      },
      body: r.body,
    })),
  // Correctly signed, malformed pushes.
  badPush.map((body) => ({
    kind: 'bad-push',
    method: 'POST',
    path: WEBHOOK_PATH,
    headers: { ...json, ...signHeaders(SIM_APP) },
    body,
  })),
);

/** A signed push whose signature was already used: a replay. */
export function replayedPush(): FuzzRequest[] {
  const headers = { ...json, ...signHeaders(SIM_APP) };
  const body = JSON.stringify({ eventType: 'fee', feeLst: [] });
  return [0, 1].map(() => ({ kind: 'replay', method: 'POST', path: WEBHOOK_PATH, headers, body }));
}

export async function send(baseUrl: string, r: FuzzRequest): Promise<number> {
  const res = await request(`${baseUrl}${r.path}`, {
    method: r.method as 'GET',
    headers: r.headers,
    body: r.body,
  });
  await res.body.text();
  return res.statusCode;
}

/** Heap in use after a full collection, in MiB. */
export function heapAfterGcMb(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return Math.round((process.memoryUsage().heapUsed / 1024 / 1024) * 10) / 10;
}

export interface FuzzResult {
  requests: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  /** Requests answered outside 4xx (kind, method, path, status), at most 20. */
  offenders: Array<{ kind: string; method: string; path: string; status: number }>;
  heapMb: number[];
}

/** `rounds` rounds of `perRound` generated requests (plus a replay pair each), heap measured after each. */
export async function fuzzApi(
  baseUrl: string,
  opts: { rounds: number; perRound: number; seed?: number },
): Promise<FuzzResult> {
  const result: FuzzResult = { requests: 0, byStatus: {}, byKind: {}, offenders: [], heapMb: [heapAfterGcMb()] };
  for (let round = 0; round < opts.rounds; round++) {
    const batch = [
      ...fc.sample(fuzzRequests, { numRuns: opts.perRound, seed: (opts.seed ?? 42) + round }),
      ...replayedPush(),
    ];
    for (let i = 0; i < batch.length; i += 16) {
      await Promise.all(
        batch.slice(i, i + 16).map(async (r) => {
          const status = await send(baseUrl, r);
          result.requests++;
          result.byStatus[status] = (result.byStatus[status] ?? 0) + 1;
          result.byKind[r.kind] = (result.byKind[r.kind] ?? 0) + 1;
          const replayFirst = r.kind === 'replay' && status === 400;
          if ((status < 400 || status >= 500) && !replayFirst && result.offenders.length < 20)
            result.offenders.push({ kind: r.kind, method: r.method, path: r.path.slice(0, 80), status });
        }),
      );
    }
    result.heapMb.push(heapAfterGcMb());
  }
  return result;
}
