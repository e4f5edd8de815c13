// Pushes of the simulated platform: signed with X-AKSK, retried on the platform's schedule (on the simulated
// clock) until the receiver answers 200, every attempt visible at GET /_sim/pushes; call records batched.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createLogger } from '../../lib/log';
import { NonceReplayCache, verifyAksk } from '../../provider/aksk';
import { PushSchema, type CallEventPush, type FeePush } from '../../provider/schemas';
import { startSimulator, type Simulator } from '../../simulator';

const A = '+8613800000001';
const B = '+8613800000002';
const quiet = createLogger('simulator-test', {}, () => undefined);

interface Received {
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** A push receiver answering each push with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []) {
  const got: Received[] = [];
  const queue = [...statuses];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: JSON.parse(text) });
      res.statusCode = queue.shift() ?? 200;
      res.end(res.statusCode === 200 ? '' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/privatenumber`;
  return { got, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function bindAxyb(sim: Simulator, userData = 'order-7') {
  const now = sim.core.now();
  const ax = sim.core.store.bindAx({ origNum: A, areaCode: '0755', userData }, now);
  const { yb } = sim.core.store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }, now);
  return { ax, yb };
}

describe('simulator pushes', () => {
  let sim: Simulator | undefined;
  let recv: Awaited<ReturnType<typeof receiver>> | undefined;
  afterEach(async () => {
    await sim?.close();
    await recv?.close();
    sim = undefined;
    recv = undefined;
  });

  it('pushes each call event in order with one sessionId and the userData, signed with X-AKSK', async () => {
    recv = await receiver();
    sim = await startSimulator({ logger: quiet, pushUrl: recv.url, seed: 1 });
    const { ax, yb } = bindAxyb(sim);
    const res = await request(`${sim.url}/_sim/calls`, {
      method: 'POST',
      body: JSON.stringify({ from: B, to: ax.numX, answer: true, talkSeconds: 30 }),
    });
    const call = (await res.body.json()) as { sessionId: string; connectedTo: string; displayNumber: string };
    expect(call).toMatchObject({ connectedTo: A, displayNumber: yb.numY, stateCode: 0 });
    await sim.settlePushes();
    const bodies = recv.got.map((g) => PushSchema.parse(g.body));
    expect(bodies.map((b) => b.eventType)).toEqual(['callin', 'callout', 'alerting', 'answer', 'disconnect', 'fee']);
    for (const b of bodies.slice(0, 5) as CallEventPush[]) {
      expect(b.statusInfo).toMatchObject({
        sessionId: call.sessionId,
        userData: 'order-7',
        subscriptionId: ax.subscriptionId,
      });
    }
    const fee = bodies[5] as FeePush;
    expect(fee.feeLst).toEqual([
      expect.objectContaining({ sessionId: call.sessionId, userData: 'order-7', direction: 0 }),
    ]);
    const cache = new NonceReplayCache();
    for (const g of recv.got) {
      const v = verifyAksk(
        { authorization: g.headers.authorization, xAksk: g.headers['x-aksk'] },
        { appKey: 'sim-app-key', appSecret: 'sim-app-secret', replayCache: cache },
      );
      expect(v.ok).toBe(true);
      expect(g.headers['content-type']).toMatch(/^application\/json/);
    }
    // a receiver with the wrong secret would refuse them
    const g = recv.got[0];
    expect(
      verifyAksk(
        { authorization: g.headers.authorization, xAksk: g.headers['x-aksk'] },
        { appKey: 'sim-app-key', appSecret: 'nope' },
      ).ok,
    ).toBe(false);
  });

  it('retries after 1 and 4 minutes of simulated time until the receiver answers 200; attempts are listed', async () => {
    recv = await receiver([500, 503]);
    sim = await startSimulator({ logger: quiet, pushUrl: recv.url, seed: 2 });
    const { ax } = bindAxyb(sim);
    sim.core.pushes.enqueue({
      eventType: 'callin',
      statusInfo: { timestamp: '2026-01-01 00:00:00', sessionId: 's1', caller: B, called: ax.numX },
    });
    await sim.settlePushes();
    expect(recv.got).toHaveLength(1);
    sim.advance(59);
    await sim.settlePushes();
    expect(recv.got).toHaveLength(1);
    sim.advance(1);
    await sim.settlePushes();
    expect(recv.got).toHaveLength(2);
    sim.advance(4 * 60);
    await sim.settlePushes();
    expect(recv.got).toHaveLength(3);
    sim.advance(24 * 3600);
    await sim.settlePushes();
    expect(recv.got).toHaveLength(3);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
    const listed = (await (await request(`${sim.url}/_sim/pushes`)).body.json()) as { pushes: any[] };
    expect(listed.pushes).toHaveLength(1);
    const p = listed.pushes[0];
    expect(p).toMatchObject({ state: 'delivered', nextAttemptAt: null, eventType: 'callin' });
    expect(p.attempts.map((a: { status: number }) => a.status)).toEqual([500, 503, 200]);
    expect(p.attempts[0].answer).toBe('not now');
    const gaps = [1, 2].map((i) => (Date.parse(p.attempts[i].at) - Date.parse(p.attempts[i - 1].at)) / 60_000);
    expect(gaps[0]).toBeCloseTo(1, 1);
    expect(gaps[1]).toBeCloseTo(4, 1);
  });

  it('gives up after the six retries of the schedule, recording network errors too', async () => {
    recv = await receiver(Array(10).fill(500));
    sim = await startSimulator({ logger: quiet, pushUrl: recv.url, seed: 3 });
    sim.core.pushes.enqueue({ eventType: 'callin', statusInfo: { timestamp: '2026-01-01 00:00:00', sessionId: 's2' } });
    await sim.settlePushes();
    for (const minutes of [1, 4, 9, 106, 203, 300]) {
      sim.advance(minutes * 60);
      await sim.settlePushes();
    }
    sim.advance(24 * 3600);
    await sim.settlePushes();
    const [p] = sim.pushes();
    expect(p.attempts).toHaveLength(7);
    expect(p.state).toBe('failed');
    expect(recv.got).toHaveLength(7);

    // nobody listening: the attempt is recorded with its error
    const dead = await startSimulator({ logger: quiet, pushUrl: 'http://127.0.0.1:9/closed', seed: 4 });
    try {
      dead.core.pushes.enqueue({
        eventType: 'callin',
        statusInfo: { timestamp: '2026-01-01 00:00:00', sessionId: 's3' },
      });
      await dead.settlePushes();
      const [d] = dead.pushes();
      expect(d.attempts[0].status).toBeUndefined();
      expect(d.attempts[0].error).toMatch(/ECONNREFUSED|connect/i);
      expect(d.state).toBe('pending');
    } finally {
      await dead.close();
    }
  });

  it('scales the retry schedule with timeScale (1 simulated minute = 0.1 s at 600x)', async () => {
    recv = await receiver([500]);
    sim = await startSimulator({ logger: quiet, pushUrl: recv.url, timeScale: 600, seed: 5 });
    sim.core.pushes.enqueue({ eventType: 'callin', statusInfo: { timestamp: '2026-01-01 00:00:00', sessionId: 's4' } });
    await waitFor(() => recv!.got.length === 2, 3000);
    expect(sim.pushes()[0].state).toBe('delivered');
  });

  it('merges the records of calls ending close together into one fee push of at most 50', async () => {
    recv = await receiver();
    sim = await startSimulator({ logger: quiet, pushUrl: recv.url, seed: 6 });
    const { ax } = bindAxyb(sim);
    for (let i = 0; i < 53; i++) sim.call({ from: B, to: ax.numX, answer: i % 2 === 0 });
    await sim.settlePushes();
    const fees = recv.got
      .map((g) => g.body as { eventType: string; feeLst?: unknown[] })
      .filter((b) => b.eventType === 'fee');
    // Two pushes of different calls: they may arrive in either order.
    expect(fees.map((f) => f.feeLst!.length).sort((a, b) => a - b)).toEqual([3, 50]);
    const sessions = new Set(fees.flatMap((f) => (f.feeLst as Array<{ sessionId: string }>).map((r) => r.sessionId)));
    expect(sessions.size).toBe(53);
  });

  it("delivers different calls' pushes concurrently, each call's in order, its record after its events", async () => {
    // The receiver answers each push after a random delay of up to 40 ms, so that a queue kept in order only by
    // chance would show it; and it counts how many pushes it holds at once.
    const got: Array<{ eventType: string; sessions: string[] }> = [];
    let open = 0;
    let mostOpen = 0;
    const server = http.createServer((req, res) => {
      open++;
      mostOpen = Math.max(mostOpen, open);
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = JSON.parse(text) as {
          eventType: string;
          statusInfo?: { sessionId: string };
          feeLst?: Array<{ sessionId: string }>;
        };
        setTimeout(
          () => {
            got.push({
              eventType: body.eventType,
              sessions: body.feeLst ? body.feeLst.map((r) => r.sessionId) : [body.statusInfo!.sessionId],
            });
            open--;
            res.end('');
          },
          Math.floor(Math.random() * 40),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/privatenumber`;
    try {
      sim = await startSimulator({ logger: quiet, pushUrl: url, seed: 8 });
      const { ax } = bindAxyb(sim);
      const calls = Array.from({ length: 12 }, () => sim!.call({ from: B, to: ax.numX, answer: true }));
      await sim.settlePushes();
      expect(got.filter((g) => g.eventType !== 'fee')).toHaveLength(12 * 5);
      expect(mostOpen).toBeGreaterThan(1);
      for (const call of calls) {
        const mine = got.filter((g) => g.sessions.includes(call.sessionId)).map((g) => g.eventType);
        expect(mine).toEqual(['callin', 'callout', 'alerting', 'answer', 'disconnect', 'fee']);
      }
      expect(sim.pushes().every((p) => p.state === 'delivered')).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('changes the push URL at PUT /_sim/config', async () => {
    recv = await receiver();
    sim = await startSimulator({ logger: quiet, seed: 7 });
    const res = await request(`${sim.url}/_sim/config`, { method: 'PUT', body: JSON.stringify({ pushUrl: recv.url }) });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    sim.core.pushes.enqueue({ eventType: 'callin', statusInfo: { timestamp: '2026-01-01 00:00:00', sessionId: 's5' } });
    await sim.settlePushes();
    expect(recv.got).toHaveLength(1);
  });
});
