import { candidatesForArea, findByUserData, type SweepProgress } from '../../activities/pool';
import { errorFromResult, ProviderError } from '../../provider';
import type { ProviderPort } from '../../activities/ports';

const pool = ['+8675528000001', '+8675528000002', '+86106200001', '+8613900000001', '+8621630000001'];

/** A provider whose query fails transiently `failures(n)` times for number n, and knows one binding. */
function flakyProvider(failuresFor: (n: string) => number, bound: Record<string, string>) {
  const seen = new Map<string, number>();
  const queries: string[] = [];
  const provider = {
    async query({ relationNum }: { relationNum: string }) {
      queries.push(relationNum);
      const n = (seen.get(relationNum) ?? 0) + 1;
      seen.set(relationNum, n);
      if (n <= failuresFor(relationNum)) {
        throw errorFromResult('query', '1010001', 'internal error', 500);
      }
      const userData = bound[relationNum];
      if (!userData) throw errorFromResult('query', '1016001', 'not bound', 403);
      return [{ bindId: `sub-${relationNum}`, numA: '+8613800000001', numX: relationNum, userData }];
    },
  } as unknown as ProviderPort;
  return { provider, queries };
}

describe('finding a lost bind on the pool', () => {
  test('a strict-area bind is looked for on the area numbers and on mobile-style ones only', () => {
    expect(candidatesForArea(pool, '0755')).toEqual(['+8675528000001', '+8675528000002', '+8613900000001']);
    expect(candidatesForArea(pool, '010')).toEqual(['+86106200001', '+8613900000001']);
    // Nothing that shows the area: every number is a candidate.
    expect(candidatesForArea(['+86571000001'], '0755')).toEqual(['+86571000001']);
  });

  test('transient query failures are retried in place, so the sweep finishes and finds the binding', async () => {
    const { provider, queries } = flakyProvider((n) => (n.endsWith('2') ? 3 : 1), { '+8675528000002': 'bf1:o-1:abc' });
    const found = await findByUserData(provider, pool, 'bf1:o-1:abc');
    expect(found.map((f) => [f.numberX, f.subscriptionId])).toEqual([['+8675528000002', 'sub-+8675528000002']]);
    expect(queries.length).toBe(pool.length * 2 + 2);
  }, 20_000);

  test('a sweep that keeps failing throws; a later attempt resumes where it stopped', async () => {
    const { provider } = flakyProvider((n) => (n === '+8613900000001' ? 100 : 0), { '+8675528000001': 'bf1:o-2:def' });
    let last: SweepProgress | undefined;
    await expect(findByUserData(provider, pool, 'bf1:o-2:def', (p) => (last = structuredClone(p)))).rejects.toThrow(
      ProviderError,
    );
    expect(last).toMatchObject({ next: 3, found: [{ numberX: '+8675528000001' }] });
    const healthy = flakyProvider(() => 0, {});
    const found = await findByUserData(healthy.provider, pool, 'bf1:o-2:def', undefined, last);
    expect(healthy.queries).toEqual(['+8613900000001', '+8621630000001']);
    expect(found.map((f) => f.numberX)).toEqual(['+8675528000001']);
    // Progress of another userData is never reused.
    const fresh = flakyProvider(() => 0, {});
    await findByUserData(fresh.provider, pool, 'bf1:o-3:xyz', undefined, last);
    expect(fresh.queries).toHaveLength(pool.length);
  }, 30_000);
});
