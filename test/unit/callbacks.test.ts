import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type dns from 'node:dns';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import {
  addressRefusal,
  checkCallbackUrl,
  classifyAddress,
  guardedLookup,
  parseAllowHosts,
  type AllLookup,
} from '../../lib/callbackTargets';
import { maskPartyNumbers, notifyActivities } from '../../activities/notify';
import { createLogger } from '../../lib/log';

// Item 4 of issue 13: where the worker may send an order's notifications, checked when the order is made and
// again on the address each delivery connects to; party numbers masked by default; unsigned only when allowed.

const none = { allowHosts: new Set<string>() };
const logLines: string[] = [];
const log = createLogger('worker', {}, (l) => logLines.push(l));

describe('address classes', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd00::1', 'unique-local'],
    ['fc12::9', 'unique-local'],
    ['100.100.100.200', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    // IPv4 hidden in IPv6: mapped, NAT64, 6to4
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:a00:1::', 'private'],
  ])('%s is %s', (ip, cls) => expect(classifyAddress(ip)).toBe(cls));

  test.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', 'orders.example'])(
    '%s is public (or not an address)',
    (ip) => expect(classifyAddress(ip)).toBeNull(),
  );

  test('link-local is refused even when listed; the others only unless listed', () => {
    const listed = { allowHosts: parseAllowHosts('169.254.169.254, hooks.internal ,[::1],10.0.0.5') };
    expect(addressRefusal('169.254.169.254', '169.254.169.254', listed)).toMatch(/never a callback target/);
    expect(addressRefusal('hooks.internal', '10.9.9.9', listed)).toBeUndefined();
    expect(addressRefusal('hooks.internal', '169.254.1.1', listed)).toMatch(/link-local/);
    expect(addressRefusal('::1', '::1', listed)).toBeUndefined();
    expect(addressRefusal('10.0.0.5', '10.0.0.5', listed)).toBeUndefined();
    expect(addressRefusal('10.0.0.6', '10.0.0.6', listed)).toMatch(/private address/);
    expect(addressRefusal('other.internal', '10.9.9.9', listed)).toMatch(/BINDFLOW_CALLBACK_ALLOW_HOSTS/);
  });

  test('any generated address in a refused range is refused, as written or as resolved', async () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const refused = fc.oneof(
      fc.tuple(octet, octet, octet).map(([a, b, c]) => `127.${a}.${b}.${c}`),
      fc.tuple(octet, octet, octet).map(([a, b, c]) => `10.${a}.${b}.${c}`),
      fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([a, b, c]) => `172.${a}.${b}.${c}`),
      fc.tuple(octet, octet).map(([a, b]) => `192.168.${a}.${b}`),
      fc.tuple(octet, octet).map(([a, b]) => `169.254.${a}.${b}`),
      fc.tuple(octet, octet).map(([a, b]) => `::ffff:169.254.${a}.${b}`),
      fc
        .integer({ min: 0, max: 0xffff })
        .map((g) => `fd${(g & 0xff).toString(16).padStart(2, '0')}::${g.toString(16)}`),
      fc.integer({ min: 0, max: 0xffff }).map((g) => `fe80::${g.toString(16)}`),
    );
    await fc.assert(
      fc.asyncProperty(refused, fc.constantFrom('http', 'https'), async (ip, scheme) => {
        const literal = ip.includes(':') ? `[${ip}]` : ip;
        const asWritten = await checkCallbackUrl(`${scheme}://${literal}:8443/hook`, none);
        expect(asWritten.ok).toBe(false);
        const resolved = await checkCallbackUrl(`${scheme}://receiver.example/hook`, none, {
          resolve: async () => ['93.184.216.34', ip],
        });
        expect(resolved.ok).toBe(false);
      }),
      { numRuns: 300, seed: 13 },
    );
  });
});

describe('checking a callback URL', () => {
  const publicResolver = async () => ['93.184.216.34'];

  test('a public host passes; localhost never needs DNS; credentials in the URL are refused', async () => {
    expect(await checkCallbackUrl('https://orders.example/hooks', none, { resolve: publicResolver })).toEqual({
      ok: true,
      addresses: ['93.184.216.34'],
    });
    expect((await checkCallbackUrl('http://localhost:3000/x', none)).ok).toBe(false);
    expect((await checkCallbackUrl('http://api.localhost/x', none)).ok).toBe(false);
    expect((await checkCallbackUrl('http://localhost:3000/x', { allowHosts: parseAllowHosts('localhost') })).ok).toBe(
      true,
    );
    expect((await checkCallbackUrl('https://u:p@orders.example/', none, { resolve: publicResolver })).ok).toBe(false);
    expect((await checkCallbackUrl('ftp://orders.example/', none)).ok).toBe(false);
  });

  test('a name resolving to the metadata address is refused, whatever the allow list', async () => {
    const meta = await checkCallbackUrl(
      'http://metadata.internal/latest',
      { allowHosts: parseAllowHosts('metadata.internal') },
      { resolve: async () => ['169.254.169.254'] },
    );
    expect(meta).toMatchObject({ ok: false, reason: expect.stringMatching(/169\.254\.169\.254/) });
  });

  test('a name that does not resolve now is "unresolved" (delivery checks again), bounded in time', async () => {
    const never = () => new Promise<string[]>(() => undefined);
    const r = await checkCallbackUrl('https://slow.example/', none, { resolve: never, timeoutMs: 50 });
    expect(r).toMatchObject({ ok: 'unresolved' });
  });

  test('the connection-time lookup refuses what the socket would connect to', async () => {
    const fakeDns =
      (answer: string): AllLookup =>
      (_h, _o, cb) =>
        cb(null, [{ address: answer, family: answer.includes(':') ? 6 : 4 }]);
    const lookup = guardedLookup(none, fakeDns('10.0.0.7'));
    const one = await new Promise<{ err: Error | null; address: unknown }>((resolve) =>
      lookup('rebinding.example', {}, (err, address) => resolve({ err, address })),
    );
    expect(one.err?.message).toMatch(/private address 10\.0\.0\.7/);
    const ok = await new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
      guardedLookup(none, fakeDns('93.184.216.34'))('fine.example', {}, (err, address, family) =>
        resolve({ err, address, family }),
      ),
    );
    expect(ok).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    const all = await new Promise<unknown>((resolve) =>
      guardedLookup(none, fakeDns('93.184.216.34'))('fine.example', { all: true } as dns.LookupOptions, (_e, a) =>
        resolve(a),
      ),
    );
    expect(all).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});

describe('delivering a notification', () => {
  let server: http.Server;
  let port: number;
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const body = {
    type: 'binding.bound',
    orderId: 'o-1',
    binding: {
      partyA: '+8613800000001',
      numberX: '+8675528000001',
      parties: [{ label: 'b', number: '+8613800000002', numberY: '+8675528000007' }],
    },
  };

  test('a loopback receiver is refused for good unless listed, and nothing is sent', async () => {
    const before = received.length;
    const { notify } = notifyActivities({ callbackSecret: 's', log });
    const err = await notify({ url: `http://127.0.0.1:${port}/hook`, eventId: 'e-1', body }).catch((e) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err.type).toBe('NotifyTargetRefused');
    expect(err.nonRetryable).toBe(true);
    expect(received.length).toBe(before);
  });

  test('a name that now resolves to a refused address is refused at connection time (DNS rebinding)', async () => {
    const before = received.length;
    const { notify } = notifyActivities({
      callbackSecret: 's',
      log,
      // The check before sending sees a public address; the socket's own lookup gets 127.0.0.1.
      resolve: async () => ['93.184.216.34'],
      lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]),
    });
    const err = await notify({ url: `http://rebind.example:${port}/hook`, eventId: 'e-2', body }).catch((e) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err.type).toBe('NotifyTargetRefused');
    expect(err.nonRetryable).toBe(true);
    expect(received.length).toBe(before);
  });

  test('listed: delivered, with party numbers masked by default and in full when asked', async () => {
    const targets = { allowHosts: parseAllowHosts('127.0.0.1') };
    await notifyActivities({ callbackSecret: 's', log, targets }).notify({
      url: `http://127.0.0.1:${port}/hook`,
      eventId: 'e-3',
      body,
    });
    const masked = JSON.parse(received.at(-1)!.body);
    expect(masked.binding.partyA).toBe('+86138****0001');
    expect(masked.binding.parties[0]).toEqual({ label: 'b', number: '+86138****0002', numberY: '+8675528000007' });
    expect(masked.binding.numberX).toBe('+8675528000001');
    expect(received.at(-1)!.body).not.toContain('13800000001');

    await notifyActivities({ callbackSecret: 's', log, targets, numbers: 'full' }).notify({
      url: `http://127.0.0.1:${port}/hook`,
      eventId: 'e-4',
      body,
    });
    expect(JSON.parse(received.at(-1)!.body)).toEqual(body);
  });

  test('without a secret: held (retryable, nothing sent) unless unsigned sending is allowed', async () => {
    const targets = { allowHosts: parseAllowHosts('127.0.0.1') };
    const before = received.length;
    const held = await notifyActivities({ log, targets, allowUnsigned: false })
      .notify({ url: `http://127.0.0.1:${port}/hook`, eventId: 'e-5', body })
      .catch((e) => e);
    expect(held).toBeInstanceOf(ApplicationFailure);
    expect(held.type).toBe('NotifyUnsigned');
    expect(held.nonRetryable).toBe(false);
    expect(held.message).toMatch(/BINDFLOW_CALLBACK_SECRET/);
    expect(received.length).toBe(before);
    await notifyActivities({ log, targets, allowUnsigned: true }).notify({
      url: `http://127.0.0.1:${port}/hook`,
      eventId: 'e-6',
      body,
    });
    expect(received.length).toBe(before + 1);
    expect(received.at(-1)!.headers['x-bindflow-signature']).toBeUndefined();
  });

  test('masking reaches every party number at any depth and leaves the rest', () => {
    expect(
      maskPartyNumbers({
        a: [{ partyA: '+8613900000001', n: 3 }],
        number: '+8613700000002',
        numberY: '+8675528000009',
      }),
    ).toEqual({ a: [{ partyA: '+86139****0001', n: 3 }], number: '+86137****0002', numberY: '+8675528000009' });
  });
});
