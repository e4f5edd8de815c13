import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { maskNumber, signHeaders } from '../../provider';
import { artifactPath } from '../helpers/browser';
import { devServerAddress, uniqueTaskQueue } from '../helpers/devServer';
import { subscriberDigits } from '../fixtures/webui/clearText';
import { callApi, startEncryptedStack, type Stack } from '../fixtures/webui/stack';

// One order's whole story (as `bindflow demo` tells it, plus the unhappy paths that tend to leak:
// a provider fault and its retry, a rejected request, a conflicting one, forged and malformed pushes)
// with every process's logs captured at debug level: the API, the worker (activities, SDK, workflow
// logs), the simulator, and anything written to stdout/stderr/console meanwhile. Not one line may
// hold a party number in clear.

const A = '+8613955550001';
const B = '+8613955550002';
const B2 = '+8613955550003'; // the reassigned driver
const PARTIES = [A, B, B2];
const orderId = `logs-${Date.now().toString(36)}`;
const path = `/v1/orders/${orderId}/binding`;

let stack: Stack;
let callbackServer: http.Server;
const notifications: string[] = [];
const stray: string[] = [];
const restore: Array<() => void> = [];

function captureStreams(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const spy = jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stray.push(Buffer.from(chunk).toString('utf8'));
      return true;
    });
    restore.push(() => spy.mockRestore());
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      stray.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
    restore.push(() => spy.mockRestore());
  }
}

async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Call = { outcome: string; endedAt: string | null; recordingUrl: string | null };
const getBinding = async () => (await callApi(stack, 'GET', path)).json;

beforeAll(async () => {
  const previousLevel = process.env.BINDFLOW_LOG_LEVEL;
  process.env.BINDFLOW_LOG_LEVEL = 'debug';
  restore.push(() => {
    if (previousLevel === undefined) delete process.env.BINDFLOW_LOG_LEVEL;
    else process.env.BINDFLOW_LOG_LEVEL = previousLevel;
  });
  callbackServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      notifications.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => callbackServer.listen(0, '127.0.0.1', () => r()));
  captureStreams();
  stack = await startEncryptedStack({ temporalAddress: devServerAddress(), taskQueue: uniqueTaskQueue('logs') });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  callbackServer?.closeAllConnections();
  await new Promise<void>((r) => (callbackServer ? callbackServer.close(() => r()) : r()));
  for (const undo of restore.reverse()) undo();
  const all = [...(stack?.logLines ?? []), ...stray];
  fs.writeFileSync(artifactPath('logs-e2e.jsonl'), all.join('\n') + '\n');
});

test('the whole story runs', async () => {
  const callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/hooks/binding`;
  // The provider fails the first AX bind: the activity retries (and the SDK logs the failure).
  stack.sim.setFaults([{ api: 'bindAx', fault: 'http500', count: 1 }]);
  const bound = await callApi(stack, 'PUT', path, {
    partyA: A,
    partyB: B,
    areaCode: '0755',
    durationSeconds: 3600,
    record: true,
    userCallbackUrl: callbackUrl,
  });
  expect([201, 202]).toContain(bound.status);
  const view = await waitFor('bound', getBinding, (v) => v.state === 'bound');
  const X = view.numberX as string;
  const Y = (view.parties as Array<{ numberY: string }>)[0].numberY;

  // Requests that are refused, carrying party numbers.
  const sameNumbers = await callApi(stack, 'PUT', `/v1/orders/${orderId}-bad/binding`, {
    partyA: A,
    partyB: A,
    areaCode: '0755',
    durationSeconds: 3600,
  });
  expect(sameNumbers.status).toBe(400);
  const conflict = await callApi(stack, 'PUT', path, { partyA: A, partyB: B2, areaCode: '0755', durationSeconds: 60 });
  expect(conflict.status).toBe(409);

  // Calls: B→X answered, A→Y answered, B→X unanswered; their pushes reach the workflow through the webhook.
  expect(stack.sim.call({ from: B, to: X, answer: true, talkSeconds: 42 }).connectedTo).toBe(A);
  expect(stack.sim.call({ from: A, to: Y, answer: true, talkSeconds: 15 }).connectedTo).toBe(B);
  stack.sim.call({ from: B, to: X, answer: false });
  await stack.sim.settlePushes();
  await waitFor(
    'three finished calls and a recording link',
    getBinding,
    (v) =>
      (v.calls as Call[]).filter((c) => c.endedAt && c.outcome !== 'in-progress').length >= 3 &&
      (v.calls as Call[]).some((c) => c.recordingUrl),
  );

  // Pushes that are refused: a forged signature, and a signed but malformed body.
  const forged = await fetch(`${stack.apiUrl}/webhooks/privatenumber`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signHeaders({ appKey: 'intruder', appSecret: 'x' }) },
    body: JSON.stringify({ eventType: 'callin', statusInfo: { caller: A, called: X } }),
  });
  expect(forged.status).toBe(401);
  const malformed = await fetch(`${stack.apiUrl}/webhooks/privatenumber`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signHeaders({ appKey: stack.sim.appKey, appSecret: stack.sim.appSecret }),
    },
    body: JSON.stringify({ eventType: 'callin', statusInfo: { caller: A, called: 12345 }, junk: B }),
  });
  expect(malformed.status).toBe(400);

  expect((await callApi(stack, 'POST', `${path}/extend`, { durationSeconds: 1800 })).status).toBe(200);
  expect((await callApi(stack, 'PUT', `${path}/parties/b`, { number: B2 })).status).toBe(200);
  expect(stack.sim.call({ from: B2, to: X, answer: true, talkSeconds: 5 }).connectedTo).toBe(A);
  await stack.sim.settlePushes();
  const released = await callApi(stack, 'DELETE', path);
  expect(released.status).toBe(200);
  expect(released.json.state).toBe('released');
  expect(stack.sim.bindings().filter((b) => b.userData?.includes(orderId))).toEqual([]);
  await waitFor(
    'the release notification',
    async () => notifications,
    (n) => n.some((b) => b.includes('released')),
  );
  // Callback bodies carry the parties' numbers masked (BINDFLOW_CALLBACK_NUMBERS defaults to masked).
  expect(notifications.some((b) => b.includes(maskNumber(A)))).toBe(true);
  expect(notifications.filter((b) => PARTIES.some((n) => b.includes(subscriberDigits(n))))).toEqual([]);
}, 120_000);

test('no log line of any process holds a party number in clear', () => {
  const lines = [...stack.logLines, ...stray];
  const components = new Set(stack.logLines.map((l) => (JSON.parse(l) as { component: string }).component));
  // Every process of the story did log (at debug level), so the check below looks at real output.
  for (const c of ['api', 'worker', 'simulator', 'temporal-sdk']) expect(components).toContain(c);
  expect(stack.logLines.length).toBeGreaterThan(20);
  // Party numbers did reach the loggers, masked.
  expect(lines.some((l) => l.includes(maskNumber(B)))).toBe(true);

  const leaks = lines.filter((l) => PARTIES.some((n) => l.includes(subscriberDigits(n))));
  expect(leaks).toEqual([]);
});
