import { Agent, request } from 'undici';
import type { BindingView } from '../workflows/types';
import { AREA, BENCH_TOKEN, partiesOf, type BenchStack } from './stack';

// One order's whole life through the real HTTP API, as an order backend would drive it: bind (PUT,
// answered once both numbers are bound), hold, one simulated call whose pushes reach the webhook, release.

/** Keep-alive connections to the API, one per concurrent order at most. */
export const httpAgent = new Agent({ connections: 512, keepAliveTimeout: 30_000, pipelining: 1 });

export async function api<T>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await request(`${baseUrl}${path}`, {
    method: method as 'GET',
    dispatcher: httpAgent,
    headers: {
      authorization: `Bearer ${BENCH_TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: (text ? JSON.parse(text) : null) as T };
}

/** Events of one answered call (callin, callout, alerting, answer, disconnect) plus its call record. */
export const PUSH_ITEMS_PER_CALL = 6;

export interface OrderTiming {
  orderId: string;
  boundMs: number;
  totalMs: number;
  subscriptionId: string;
}

/** Every benchmark order asks for an hour (it is released long before). */
export const ORDER_DURATION_SECONDS = 3600;

export interface OrderOptions {
  run: number;
  /** Milliseconds between bound and the call (the order being "held"). Default 0. */
  holdMs?: number;
  /** Skip the call (bind, hold, release only). */
  noCall?: boolean;
  prefix?: string;
}

export async function runOneOrder(stack: BenchStack, i: number, opts: OrderOptions): Promise<OrderTiming> {
  const orderId = `${opts.prefix ?? 'o'}-${opts.run}-${i}`;
  const { partyA, partyB } = partiesOf(opts.run, i);
  const t0 = performance.now();
  const put = await api<BindingView>(stack.api.url, 'PUT', `/v1/orders/${orderId}/binding`, {
    partyA,
    partyB,
    areaCode: AREA,
    durationSeconds: ORDER_DURATION_SECONDS,
  });
  const boundMs = performance.now() - t0;
  if (put.status !== 201 || put.body.state !== 'bound' || !put.body.numberX)
    throw new Error(`order ${orderId}: PUT answered ${put.status} ${JSON.stringify(put.body).slice(0, 300)}`);
  if (opts.holdMs) await new Promise((r) => setTimeout(r, opts.holdMs));
  if (!opts.noCall) {
    const call = stack.sim.call({ from: partyB, to: put.body.numberX, answer: true, talkSeconds: 5 });
    if (call.stateCode !== 0) throw new Error(`order ${orderId}: simulated call not connected (${call.stateCode})`);
    await stack.tracker.waitFor(call.sessionId, PUSH_ITEMS_PER_CALL);
  }
  const del = await api<BindingView>(stack.api.url, 'DELETE', `/v1/orders/${orderId}/binding`);
  if (del.status !== 200 || del.body.state !== 'released')
    throw new Error(`order ${orderId}: DELETE answered ${del.status} ${JSON.stringify(del.body).slice(0, 300)}`);
  return { orderId, boundMs, totalMs: performance.now() - t0, subscriptionId: put.body.subscriptionId ?? '' };
}
