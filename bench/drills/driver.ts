import type { BindingView } from '../../workflows/types';
import { api } from '../orders';
import { AREA, partiesOf, type BenchStack } from '../stack';

// An order backend that keeps going through faults: PUT until bound (a 202, a 503 or a dropped
// connection is retried, PUT being idempotent), DELETE until released.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const between = (min: number, max: number) => min + Math.random() * (max - min);

async function tryApi<T>(url: string, method: string, path: string, body?: unknown) {
  try {
    return await api<T>(url, method, path, body);
  } catch (err) {
    return { status: 0, body: { error: String(err) } as unknown as T };
  }
}

export interface DrillOrder {
  orderId: string;
  partyA: string;
  partyB: string;
}

export function drillOrder(run: number, i: number, prefix: string): DrillOrder {
  return { orderId: `${prefix}-${run}-${i}`, ...partiesOf(run, i) };
}

/** PUT until the order leaves `binding` (bound or failed); answers the view. */
export async function bindUntilSettled(
  apiUrl: () => string,
  o: DrillOrder,
  timeoutMs = 180_000,
): Promise<{ view: BindingView; attempts: number }> {
  const deadline = Date.now() + timeoutMs;
  const body = { partyA: o.partyA, partyB: o.partyB, areaCode: AREA, durationSeconds: 3600 };
  for (let attempts = 1; ; attempts++) {
    const res = await tryApi<BindingView>(apiUrl(), 'PUT', `/v1/orders/${o.orderId}/binding`, body);
    if ((res.status === 200 || res.status === 201) && res.body.state !== 'binding') return { view: res.body, attempts };
    if (res.status >= 400 && res.status < 500)
      throw new Error(`order ${o.orderId}: PUT answered ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    if (Date.now() > deadline)
      throw new Error(`order ${o.orderId}: not bound within ${timeoutMs} ms (last ${res.status})`);
    await sleep(500);
  }
}

/** DELETE until the order is in a final state; answers the final view. */
export async function releaseUntilDone(apiUrl: () => string, o: DrillOrder, timeoutMs = 180_000): Promise<BindingView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await tryApi<BindingView>(apiUrl(), 'DELETE', `/v1/orders/${o.orderId}/binding`);
    if (res.status === 200 && ['released', 'expired', 'failed'].includes(res.body.state)) return res.body;
    if (res.status === 409) {
      const got = await tryApi<BindingView>(apiUrl(), 'GET', `/v1/orders/${o.orderId}/binding`);
      if (got.status === 200 && got.body.state !== 'bound' && got.body.state !== 'binding') return got.body;
    }
    if (Date.now() > deadline)
      throw new Error(`order ${o.orderId}: not released within ${timeoutMs} ms (last ${res.status})`);
    await sleep(500);
  }
}

/** Every AX binding the provider holds for this order's A number. */
export function providerBindingsOf(stack: Pick<BenchStack, 'sim'>, o: DrillOrder) {
  return stack.sim.bindings().filter((b) => b.numA === o.partyA);
}

export interface OrderOutcome {
  orderId: string;
  boundState: string;
  /** AX bindings for A at the provider right after PUT answered bound, and how many YB under them. */
  axWhenBound: number;
  ybWhenBound: number;
  /** The same for the order's own binding (its subscription id): 1 AX with 1 YB. */
  ownedAxWhenBound: number;
  ownedYbWhenBound: number;
  /** AX-only bindings of lost bind answers (another subscription id): reconciliation's. */
  orphansWhenBound: number;
  finalState: string;
  axAfterRelease: number;
  /** The order's own binding after the release: 0. */
  ownedAfterRelease: number;
}

/** bind → (hold) → release, recording what the provider held at each step. */
export async function orderLife(
  stack: Pick<BenchStack, 'sim'>,
  apiUrl: () => string,
  o: DrillOrder,
  holdMs: number,
  timeoutMs = 180_000,
): Promise<OrderOutcome> {
  const { view } = await bindUntilSettled(apiUrl, o, timeoutMs);
  const atBound = providerBindingsOf(stack, o);
  const own = (b: { subscriptionId: string }) => b.subscriptionId === view.subscriptionId;
  const owned = atBound.filter(own);
  if (holdMs) await sleep(holdMs);
  const final = await releaseUntilDone(apiUrl, o, timeoutMs);
  const after = providerBindingsOf(stack, o);
  return {
    orderId: o.orderId,
    boundState: view.state,
    axWhenBound: atBound.length,
    ybWhenBound: atBound.reduce((n, b) => n + b.yb.length, 0),
    ownedAxWhenBound: owned.length,
    ownedYbWhenBound: owned.reduce((n, b) => n + b.yb.length, 0),
    orphansWhenBound: atBound.filter((b) => !own(b) && b.yb.length === 0).length,
    finalState: final.state,
    axAfterRelease: after.length,
    ownedAfterRelease: after.filter(own).length,
  };
}

/** Runs `count` orders, `concurrency` at a time; every order runs to its end even if another fails. */
export async function runOrders<T>(count: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  const errors: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (next < count) {
        const i = next++;
        try {
          out[i] = await one(i);
        } catch (err) {
          errors.push(err instanceof Error ? err.message : String(err));
        }
      }
    }),
  );
  if (errors.length) throw new Error(`${errors.length} of ${count} orders failed: ${errors.slice(0, 5).join(' | ')}`);
  return out;
}
