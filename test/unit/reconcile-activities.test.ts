import { CancelledFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ProviderPort } from '../../activities/ports';
import { QueryPacer } from '../../activities/pool';
import { reconcileActivities } from '../../activities/reconcile';
import type { OwnershipInput, OwnershipResult } from '../../activities/types';
import { errorFromResult } from '../../provider';

// One page of a sweep (`reconcileNumbers`): the semantics of the old per-number loop, now inside one
// activity. Young bindings wait, foreign ones are counted and never asked about, only orphans that name
// their subscription are handed back for unbinding, and a number that cannot be queried is an error.

const NOW = Date.parse('2026-11-29T10:00:00Z');

interface Entry {
  userData: string;
  subscribeTime?: string;
}

function provider(bound: Record<string, Entry | 'fail' | 'flow'>) {
  const queried: string[] = [];
  const port = {
    async query({ relationNum }: { relationNum: string }) {
      queried.push(relationNum);
      const e = bound[relationNum];
      if (e === 'fail') throw errorFromResult('query', '1012102', 'number abnormal', 403);
      if (e === 'flow') throw errorFromResult('query', '1010010', 'flow control', 403);
      if (!e) throw errorFromResult('query', '1016001', 'not bound', 403);
      return [{ bindId: `sub-${relationNum}`, numA: '+8613800000001', numX: relationNum, ...e }];
    },
  } as unknown as ProviderPort;
  return { port, queried };
}

function activities(port: ProviderPort, ownership: (i: OwnershipInput) => Promise<OwnershipResult>) {
  const asked: OwnershipInput[] = [];
  const acts = reconcileActivities({
    provider: port,
    client: {} as Client,
    pacer: new QueryPacer({ perSecond: 1000, flowControlPauseMs: 5 }),
    ownership: async (i) => {
      asked.push(i);
      return ownership(i);
    },
    now: () => NOW,
    log: { debug() {}, info() {}, warn() {}, error() {}, child: () => undefined as never },
  });
  return { acts, asked };
}

test('a page: owned, busy, orphan, young, foreign, unknown subscription and failing numbers', async () => {
  const { port, queried } = provider({
    '+8675528000001': { userData: 'bf1:owned:a1', subscribeTime: '2026-11-29 09:00:00' },
    '+8675528000002': { userData: 'bf1:busy:a2', subscribeTime: '2026-11-29 09:00:00' },
    '+8675528000003': { userData: 'bf1:orphan:a3', subscribeTime: '2026-11-29 09:00:00' },
    '+8675528000004': { userData: 'bf1:young:a4', subscribeTime: '2026-11-29 09:59:30' },
    '+8675528000005': { userData: 'crm:42' },
    '+8675528000006': { userData: 'bf1:nosub:a6' },
    '+8675528000007': 'fail',
    '+8675528000009': { userData: 'bf1:broken:a9' },
  });
  const { acts, asked } = activities(port, async ({ orderId, subscriptionId }) => {
    if (orderId === 'broken') throw new Error('Temporal unavailable');
    if (orderId === 'owned') return { ownership: 'owned', subscriptionId };
    if (orderId === 'busy') return { ownership: 'busy', subscriptionId };
    return { ownership: 'orphan', subscriptionId: orderId === 'nosub' ? null : subscriptionId };
  });
  const numbersX = Array.from({ length: 10 }, (_, i) => `+86755280000${String(i + 1).padStart(2, '0')}`);
  const result = await new MockActivityEnvironment().run(acts.reconcileNumbers, { numbersX, graceSeconds: 120 });

  expect(queried.sort()).toEqual([...numbersX].sort());
  expect(result).toEqual({
    checked: 7, // every binding found: 1, 2, 3, 4, 5, 6, 9
    foreign: 1, // 5, never asked about
    errors: 3, // 6 (no subscription to unbind by), 7 (query failed), 9 (ownership not told)
    orphans: [{ orderId: 'orphan', numberX: '+8675528000003', subscriptionId: 'sub-+8675528000003' }],
  });
  // The young binding (30 s old, grace 120 s) and the foreign one are not asked about.
  expect(asked.map((a) => a.orderId).sort()).toEqual(['broken', 'busy', 'nosub', 'orphan', 'owned']);
});

test('grace 0 checks young bindings too; a number under lasting flow control is an error, not a failure', async () => {
  const { port } = provider({
    '+8675528000004': { userData: 'bf1:young:a4', subscribeTime: '2026-11-29 09:59:59' },
    '+8675528000005': 'flow',
  });
  const { acts } = activities(port, async ({ subscriptionId }) => ({ ownership: 'orphan', subscriptionId }));
  const result = await new MockActivityEnvironment().run(acts.reconcileNumbers, {
    numbersX: ['+8675528000004', '+8675528000005'],
    graceSeconds: 0,
  });
  expect(result).toEqual({
    checked: 1,
    foreign: 0,
    errors: 1,
    orphans: [{ orderId: 'young', numberX: '+8675528000004', subscriptionId: 'sub-+8675528000004' }],
  });
});

test('a cancelled page stops and reports the cancellation', async () => {
  const { port } = provider({});
  const acts = reconcileActivities({
    provider: port,
    client: {} as Client,
    // One query a second: the page spends its time waiting for its turns, where cancellation lands.
    pacer: new QueryPacer({ perSecond: 1 }),
    ownership: async () => ({ ownership: 'owned', subscriptionId: null }),
    log: { debug() {}, info() {}, warn() {}, error() {}, child: () => undefined as never },
  });
  const env = new MockActivityEnvironment();
  const numbersX = Array.from({ length: 50 }, (_, i) => `+86755280001${String(i).padStart(2, '0')}`);
  const running = env.run(acts.reconcileNumbers, { numbersX, graceSeconds: 0 });
  setTimeout(() => env.cancel(), 300);
  await expect(running).rejects.toBeInstanceOf(CancelledFailure);
});
