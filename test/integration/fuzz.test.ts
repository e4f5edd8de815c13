import { startApi, type ApiHandle } from '../../bench/stack';
import { fuzzApi, send } from '../../bench/drills/fuzz';
import { devServerAddress, uniqueTaskQueue } from '../helpers/devServer';

// Thousands of malformed, forged and oversized requests (fast-check) at the real API and webhook over
// HTTP: every answer a 4xx, the server still healthy afterwards, the heap flat across rounds.

let api: ApiHandle;
beforeAll(async () => {
  api = await startApi({ address: devServerAddress(), taskQueue: uniqueTaskQueue('fuzz') });
});
afterAll(async () => api?.close());

test('malformed, forged and oversized requests: all 4xx, no crash, memory flat', async () => {
  const r = await fuzzApi(api.url, { rounds: 4, perRound: 800, seed: 8 });
  process.stdout.write(
    `fuzz: ${r.requests} requests ${JSON.stringify(r.byStatus)} kinds ${JSON.stringify(r.byKind)} heap MiB ${r.heapMb.join(' ')}\n`,
  );
  expect(r.offenders).toEqual([]);
  expect(r.requests).toBeGreaterThanOrEqual(3200);
  // Every kind of bad request was exercised.
  for (const kind of [
    'unauthorized',
    'bad-bind',
    'not-json',
    'bad-change',
    'bad-list',
    'oversized',
    'forged-push',
    'bad-push',
    'replay',
  ])
    expect(r.byKind[kind] ?? 0).toBeGreaterThan(0);
  expect(Object.keys(r.byStatus).every((s) => Number(s) >= 400 && Number(s) < 500)).toBe(true);
  // Flat: after the first round (JIT, caches), later rounds do not keep growing the heap.
  const [, afterFirst, ...rest] = r.heapMb;
  expect(Math.max(...rest)).toBeLessThan(afterFirst + 25);
  expect(await send(api.url, { kind: 'health', method: 'GET', path: '/healthz', headers: {} })).toBe(200);
}, 180_000);
