import { request } from 'undici';
import { signHeaders } from '../../provider/aksk';
import { WEBHOOK_PATH } from '../../client/webhook';
import type { BindingView } from '../../workflows/types';
import { startTcpProxy } from '../../test/helpers/tcpProxy';
import { api } from '../orders';
import { startApi, SIM_APP, type BenchStack } from '../stack';
import { bindUntilSettled, drillOrder, releaseUntilDone, runOrders, sleep } from './driver';

// Drill (d): Temporal unreachable from the webhook while the platform pushes call events: every push
// is answered 503, the platform's later retries succeed, and each call is in its order exactly once.

export interface UnreachableDrillResult {
  orders: number;
  pushes: number;
  refusedWith503: number;
  otherRefusals: number;
  deliveredAfterRestore: number;
  /** Real time from the restore to the first push the webhook accepted (the API's reconnection). */
  firstAcceptedAfterMs: number;
  /** Orders whose view holds each of their calls exactly once, complete. */
  ordersExact: number;
  /** Orders unchanged after every push was sent once more. */
  ordersUnchangedByReplay: number;
  leftAtProvider: number;
  seconds: number;
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function unreachableDrill(
  stack: BenchStack,
  opts: { orders: number; run: number },
): Promise<UnreachableDrillResult> {
  const t0 = Date.now();
  const proxy = await startTcpProxy(stack.server.address);
  const cutApi = await startApi({ address: proxy.address, taskQueue: stack.taskQueue });
  const talk = 7;
  try {
    const orders = Array.from({ length: opts.orders }, (_, i) => drillOrder(opts.run, i, 'down'));
    const views = await runOrders(
      orders.length,
      8,
      async (i) => (await bindUntilSettled(() => stack.api.url, orders[i])).view,
    );
    stack.sim.setPushUrl(`${cutApi.url}${WEBHOOK_PATH}`);
    proxy.cut();
    const sessions = orders.map(
      (o, i) => stack.sim.call({ from: o.partyB, to: views[i].numberX!, answer: true, talkSeconds: talk }).sessionId,
    );
    const mine = () => stack.sim.pushes().filter((p) => sessions.some((s) => JSON.stringify(p.body).includes(s)));
    // Delivery is sequential and each refused push waits for the webhook's Temporal deadline (5 s), so
    // wait for the first few refusals only; the rest are tried after the restore, or refused too.
    const wantRefused = Math.min(3, sessions.length * 5);
    await eventually(
      () => mine().filter((p) => p.attempts.some((a) => a.status === 503)).length >= wantRefused,
      60_000,
      'pushes refused while Temporal is unreachable',
    );
    proxy.restore();
    const restoredAt = Date.now();
    let firstAcceptedAfterMs = -1;
    // The platform retries on its own schedule (1, 4, 9, ... minutes): keep its clock moving while we wait.
    await eventually(
      () => {
        const ps = mine();
        // A refused push taken on a retry (callout and alerting are acknowledged without Temporal, cut or not).
        const retriedOk = (p: (typeof ps)[number]) =>
          p.attempts.some((a) => a.status === 503) && p.attempts.some((a) => a.status === 200);
        if (firstAcceptedAfterMs < 0 && ps.some(retriedOk)) firstAcceptedAfterMs = Date.now() - restoredAt;
        if (
          ps.some(
            (p) => p.state === 'pending' && p.nextAttemptAt && Date.parse(p.nextAttemptAt) > stack.sim.now().getTime(),
          )
        )
          stack.sim.advance(10);
        return (
          ps.filter((p) => p.eventType !== 'fee').length === sessions.length * 5 &&
          ps.every((p) => p.state === 'delivered')
        );
      },
      300_000,
      'every push delivered after the restore',
    );
    const delivered = mine();
    const exact = async () => {
      let n = 0;
      for (let i = 0; i < orders.length; i++) {
        const v = (await api<BindingView>(stack.api.url, 'GET', `/v1/orders/${orders[i].orderId}/binding`)).body;
        const calls = v.calls.filter((c) => c.sessionId === sessions[i]);
        if (
          v.calls.length === 1 &&
          calls.length === 1 &&
          calls[0].outcome === 'answered' &&
          calls[0].talkSeconds === talk
        )
          n++;
      }
      return n;
    };
    let ordersExact = 0;
    await eventually(
      async () => (ordersExact = await exact()) === orders.length,
      30_000,
      'every call in its order',
    ).catch(() => undefined);
    // The platform may deliver everything once more: the orders must not change.
    for (const p of delivered) {
      const res = await request(`${cutApi.url}${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { ...signHeaders(SIM_APP), 'content-type': 'application/json' },
        body: JSON.stringify(p.body),
      });
      await res.body.text();
    }
    const ordersUnchangedByReplay = await exact();
    await runOrders(orders.length, 8, (i) => releaseUntilDone(() => stack.api.url, orders[i]));
    return {
      orders: orders.length,
      pushes: delivered.length,
      refusedWith503: delivered.filter((p) => p.attempts.some((a) => a.status === 503)).length,
      otherRefusals: delivered.flatMap((p) => p.attempts).filter((a) => a.status !== 200 && a.status !== 503).length,
      deliveredAfterRestore: delivered.filter((p) => p.state === 'delivered').length,
      firstAcceptedAfterMs,
      ordersExact,
      ordersUnchangedByReplay,
      leftAtProvider: stack.sim.bindings().filter((b) => orders.some((o) => o.partyA === b.numA)).length,
      seconds: Math.round((Date.now() - t0) / 1000),
    };
  } finally {
    stack.sim.setPushUrl(`${stack.api.url}${WEBHOOK_PATH}`);
    await cutApi.close();
    await proxy.close();
  }
}
