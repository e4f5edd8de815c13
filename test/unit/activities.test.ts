import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ProviderError, type RelationEntry } from '../../provider';
import { bindingActivities } from '../../activities/bindings';
import { MIN_FLOW_CONTROL_DELAY_MS, toActivityFailure } from '../../activities/failures';
import { notifyActivities, signNotification } from '../../activities/notify';
import type { ProviderPort } from '../../activities/ports';
import { createLogger } from '../../lib/log';

// Activities: provider failures → Temporal failures, adoption of lost binds, notifications.

const log = createLogger('test', {}, () => undefined);
const A = '+8613800000001';
const B = '+8613800000002';
const X = '+8675528000001';

function providerError(
  code: string,
  retryable: boolean,
  extra: Partial<ConstructorParameters<typeof ProviderError>[0]> = {},
) {
  return new ProviderError({ api: 'bindAx', code, description: 'x', retryable, ...extra });
}

describe('toActivityFailure', () => {
  test('flow control retries no sooner than 60 s', () => {
    const f = toActivityFailure(providerError('1010010', true, { retryAfterMs: 1000 })) as ApplicationFailure;
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(MIN_FLOW_CONTROL_DELAY_MS);
  });

  test('permanent codes fail at once; transient ones retry with the policy backoff', () => {
    const permanent = toActivityFailure(providerError('1011002', false)) as ApplicationFailure;
    expect(permanent.nonRetryable).toBe(true);
    expect(permanent.type).toBe('ProviderError.1011002');
    const transient = toActivityFailure(providerError('1010001', true)) as ApplicationFailure;
    expect(transient.nonRetryable).toBe(false);
    expect(transient.nextRetryDelay).toBeUndefined();
  });

  test('a bind with an unknown outcome stays retryable (the retry looks before binding)', () => {
    const f = toActivityFailure(providerError('BAD_RESPONSE', false, { outcomeUnknown: true })) as ApplicationFailure;
    expect(f.nonRetryable).toBe(false);
  });
});

/** A provider that records calls; query answers come from `bound`. */
function fakeProvider(bound: Record<string, RelationEntry[]> = {}) {
  const calls: string[] = [];
  const port: ProviderPort = {
    bindAx: async () => {
      calls.push('bindAx');
      return { subscriptionId: 'sub-new', relationNumber: X };
    },
    bindYb: async () => {
      calls.push('bindYb');
      return { subscriptionId: 'sub-new', relationNumber: '+8675528000050' };
    },
    unbind: async (p) => {
      calls.push(`unbind:${p.subscriptionId}`);
      if (p.subscriptionId === 'gone')
        throw new ProviderError({
          api: 'unbind',
          code: '1016001',
          description: 'gone',
          retryable: false,
          notFound: true,
        });
    },
    query: async (q) => {
      calls.push(`query:${q.relationNum ?? q.subscriptionId}`);
      const entries = bound[q.relationNum ?? q.subscriptionId ?? ''];
      if (!entries)
        throw new ProviderError({
          api: 'query',
          code: '1016001',
          description: 'none',
          retryable: false,
          notFound: true,
        });
      return entries;
    },
    recordingUrl: async () => 'https://rec.example/f.wav',
  };
  return { port, calls };
}

const axInput = {
  orderId: 'o-1',
  userData: 'bf1:o-1:tok',
  partyA: A,
  areaCode: '0755',
  areaMatchMode: 'strict' as const,
  callDirection: 'both' as const,
  durationSeconds: 7800,
  record: false,
};

describe('bindAx', () => {
  test('first attempt binds without looking', async () => {
    const { port, calls } = fakeProvider();
    const acts = bindingActivities({ provider: port, numberPool: [X], log });
    const r = await new MockActivityEnvironment({ attempt: 1 }).run(acts.bindAx, axInput);
    expect(r).toEqual({ subscriptionId: 'sub-new', numberX: X, adopted: false });
    expect(calls).toEqual(['bindAx']);
  });

  test('a retry binds again at once: no pool sweep on the hot path (reconciliation takes the possible orphan)', async () => {
    const other = '+8675528000002';
    const { port, calls } = fakeProvider({
      [X]: [{ bindId: 'sub-lost', numA: A, numX: X, userData: 'bf1:o-1:tok' }],
    });
    let adopted = 0;
    const acts = bindingActivities({ provider: port, numberPool: [other, X], log, onAdopted: () => adopted++ });
    const r = (await new MockActivityEnvironment({ attempt: 3 }).run(acts.bindAx, axInput)) as { adopted: boolean };
    expect(r.adopted).toBe(false);
    expect(calls).toEqual(['bindAx']);
    expect(adopted).toBe(0);
  });
});

describe('bindAx when A holds five X', () => {
  const slotsTaken = () => providerError('1011003', false);

  test("a retry refused 1011003 finds this order's own lost bind (its userData) and adopts it", async () => {
    const other = '+8675528000002';
    const { port, calls } = fakeProvider({
      [other]: [{ bindId: 'sub-other', numA: '+8613900000000', numX: other, userData: 'bf1:o-2:zzz' }],
      [X]: [{ bindId: 'sub-lost', numA: A, numX: X, userData: axInput.userData }],
    });
    port.bindAx = async () => {
      calls.push('bindAx');
      throw slotsTaken();
    };
    let adopted = 0;
    const acts = bindingActivities({ provider: port, numberPool: [other, X], log, onAdopted: () => adopted++ });
    const r = await new MockActivityEnvironment({ attempt: 2 }).run(acts.bindAx, axInput);
    expect(r).toEqual({ subscriptionId: 'sub-lost', numberX: X, adopted: true });
    expect(calls).toEqual(['bindAx', `query:${other}`, `query:${X}`]);
    expect(adopted).toBe(1);
  });

  test('on a first attempt, or with nothing of ours found, 1011003 stays a permanent failure', async () => {
    const { port, calls } = fakeProvider();
    port.bindAx = async () => {
      calls.push('bindAx');
      throw slotsTaken();
    };
    const acts = bindingActivities({ provider: port, numberPool: [X], log });
    const first = await new MockActivityEnvironment({ attempt: 1 }).run(acts.bindAx, axInput).catch((e) => e);
    expect((first as ApplicationFailure).type).toBe('ProviderError.1011003');
    expect((first as ApplicationFailure).nonRetryable).toBe(true);
    expect(calls).toEqual(['bindAx']);
    const retry = await new MockActivityEnvironment({ attempt: 3 }).run(acts.bindAx, axInput).catch((e) => e);
    expect((retry as ApplicationFailure).type).toBe('ProviderError.1011003');
    expect(calls).toEqual(['bindAx', 'bindAx', `query:${X}`]);
  });
});

describe('bindYb, unbind', () => {
  test('a YB retry adopts the Y already bound for that B', async () => {
    const { port, calls } = fakeProvider({
      'sub-1': [{ bindId: 'yb1', numA: A, numX: X, numB: B, numY: '+8675528000070' }],
    });
    const acts = bindingActivities({ provider: port, numberPool: [], log });
    const input = { subscriptionId: 'sub-1', partyB: B, areaCode: '0755', areaMatchMode: 'strict' as const };
    const r = await new MockActivityEnvironment({ attempt: 2 }).run(acts.bindYb, input);
    expect(r).toEqual({ numberY: '+8675528000070', adopted: true });
    expect(calls).toEqual(['query:sub-1']);
  });

  test('unbind of a binding already gone (1016001) is done', async () => {
    const { port } = fakeProvider();
    const acts = bindingActivities({ provider: port, numberPool: [], log });
    await expect(acts.unbind({ subscriptionId: 'gone' })).resolves.toEqual({ alreadyGone: true });
    await expect(acts.unbind({ subscriptionId: 'sub-1', numberY: '+8675528000070' })).resolves.toEqual({
      alreadyGone: false,
    });
  });
});

describe('notify', () => {
  let server: http.Server;
  let url: string;
  let answer = 200;
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  // The receiver listens on 127.0.0.1: a deployment refuses loopback targets unless listed.
  const LOCAL_RECEIVER = { allowHosts: new Set(['127.0.0.1']) };

  test('posts JSON signed with HMAC-SHA256 over timestamp and body', async () => {
    const { notify } = notifyActivities({ callbackSecret: 's3cret', log, targets: LOCAL_RECEIVER });
    answer = 200;
    await notify({ url, eventId: 'e-1', body: { type: 'binding.bound', orderId: 'o-1' } });
    const got = received.at(-1)!;
    expect(JSON.parse(got.body)).toEqual({ type: 'binding.bound', orderId: 'o-1' });
    expect(got.headers['x-bindflow-event-id']).toBe('e-1');
    const ts = String(got.headers['x-bindflow-timestamp']);
    expect(got.headers['x-bindflow-signature']).toBe(signNotification('s3cret', ts, got.body));
    expect(signNotification('s3cret', ts, got.body)).not.toBe(signNotification('other', ts, got.body));
  });

  test('a 4xx fails for good, a 5xx is retried', async () => {
    const { notify } = notifyActivities({ callbackSecret: 's3cret', log, targets: LOCAL_RECEIVER });
    answer = 404;
    const gone = await notify({ url, eventId: 'e-2', body: {} }).catch((e) => e);
    expect(gone).toBeInstanceOf(ApplicationFailure);
    expect(gone.nonRetryable).toBe(true);
    answer = 503;
    const busy = await notify({ url, eventId: 'e-3', body: {} }).catch((e) => e);
    expect(busy.nonRetryable).toBe(false);
  });
});
