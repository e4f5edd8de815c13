import {
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  startChild,
} from '@temporalio/workflow';
import { orderBinding01 } from './legacy/orderBinding01';
import { parseOrderBindingInput } from './failures';
import { deliverNotifications } from './notifications';
import { Order, type CarriedBinding, type Ending } from './order';
import { registerHandlers } from './handlers';
import { bindAll, unbindAll } from './partyChanges';
import { toSummary } from './state';
import type { BindingSummary, OrderBindingInput } from './types';

export { CONTINUE_AS_NEW_AFTER_EVENTS, type CarriedBinding } from './order';
export { MAX_PARTIES } from './partyChanges';

// One workflow per order, the business story:
//   bind AX, then each YB → bound: wait for the expiry or a release (extensions and party changes come as
//   updates, call events as signals) → unbind → stay open for late call events and records → done.
// Nothing bound is ever left behind: a failed bind runs a saga, every provider change is serialised
// (partyChanges.ts), and a long life continues as new without ever waiting on a notification.

/** Runs started by bindflow 0.1 carry no marker for this patch and finish on the 0.1 code. */
export const V2_PATCH = 'bindflow-0.2-lifecycle';

export async function orderBinding(input: OrderBindingInput, carried?: CarriedBinding): Promise<BindingSummary> {
  if (!patched(V2_PATCH)) return orderBinding01(input, carried?.version === 1 ? carried : undefined);
  // A cancellation request (the Web UI's "Cancel", `temporal workflow cancel`) is a release: it must never cut a
  // provider call short nor end the run with the binding still live. So the run's own work lives in a scope the
  // request does not reach (the handlers shield theirs: failures.ts `guarded`, handlers.ts), and the request
  // only asks for the release, as DELETE does.
  const cancelRequested = CancellationScope.current().cancelRequested;
  return CancellationScope.nonCancellable(async () => {
    // A continued run keeps the request its first run parsed: a newer, stricter schema never fails a bound order.
    const order = carried ? new Order(carried.record, carried) : Order.start(parseOrderBindingInput(input), input);
    registerHandlers(order);
    order.publishProgress();
    cancelRequested.catch(() => {
      if (order.requestRelease(CANCELLED_REASON)) log.info('cancellation requested: releasing the binding');
    });
    return new Lifecycle(order).run();
  });
}

/** The release reason a workflow cancellation request gives (the request's own reason does not reach the run). */
export const CANCELLED_REASON = 'workflow cancellation requested';

/** The most an ended run waits for its last notification before handing it to a workflow of its own. */
const FINAL_DELIVERY_WAIT_MS = 30_000;

class Lifecycle {
  constructor(private readonly order: Order) {}

  async run(): Promise<BindingSummary> {
    const order = this.order;
    if (order.state === 'binding') {
      await bindAll(order);
      if (order.state === 'binding') await unbindAll(order, 'released'); // released while binding
    }
    while (order.state === 'bound') {
      const end = await this.waitForEnd();
      if (end === 'continue') await this.continueAsNewWhenIdle();
      else await unbindAll(order, end);
    }
    if (order.state === 'released' || order.state === 'expired') await this.lateEventsWindow();
    await this.finish();
    return toSummary(order.snapshot(), order.calls.views());
  }

  /** Bound: the expiry timer, a release, an extension moving the timer, or time to continue as new. */
  private async waitForEnd(): Promise<Ending | 'continue'> {
    const order = this.order;
    for (;;) {
      if (order.ending) return order.ending;
      const deadline = order.record.expiresAtMs;
      if (deadline - Date.now() <= 0) {
        order.ending = 'expired'; // from here on an extension is refused, not answered with a dead expiry
        return 'expired';
      }
      if (order.shouldContinueAsNew()) return 'continue';
      await condition(
        () => order.ending !== null || order.record.expiresAtMs !== deadline || order.shouldContinueAsNew(),
        deadline - Date.now(),
      );
    }
  }

  /**
   * After the end, the platform's call records (and its retried pushes) may still come: merge them for
   * `lateEventsGraceSeconds`; the state stays released/expired.
   */
  private async lateEventsWindow(): Promise<void> {
    const order = this.order;
    const until = (order.record.endedAtMs ?? Date.now()) + order.lateEventsGraceMs;
    for (;;) {
      const remaining = until - Date.now();
      if (remaining <= 0) return;
      if (order.shouldContinueAsNew()) await this.continueAsNewWhenIdle();
      await condition(() => order.shouldContinueAsNew(), remaining);
    }
  }

  /**
   * Continue-as-new once no handler runs and no provider change is queued. Notifications and recording
   * fetches under way are cancelled and carried, so a dead callback URL never holds this up. A release
   * arriving meanwhile wins: then this returns and the lifecycle goes on.
   */
  private async continueAsNewWhenIdle(): Promise<void> {
    const order = this.order;
    const wasBound = order.state === 'bound';
    await order.outbox.suspend();
    const recordings = await order.recordings.stop();
    await condition(() => (allHandlersFinished() && order.lock.idle) || (wasBound && order.ending !== null));
    if (wasBound && order.ending !== null) {
      for (const r of recordings) order.recordings.start(r);
      order.outbox.resume();
      return;
    }
    await continueAsNew<typeof orderBinding>(order.record.originalInput, {
      version: 2,
      record: order.snapshot(),
      outbox: order.outbox.items,
      recordings,
    });
  }

  /** The run ends: handlers answered, recording links given a last chance, notifications handed over. */
  private async finish(): Promise<void> {
    const order = this.order;
    await condition(() => allHandlersFinished() && order.lock.idle);
    if (!order.outbox.empty || !order.recordings.idle) {
      await condition(() => order.outbox.empty && order.recordings.idle, FINAL_DELIVERY_WAIT_MS);
    }
    const unfetched = await order.recordings.stop();
    if (unfetched.length)
      log.warn('recording links not fetched before the order ended', { sessions: unfetched.map((r) => r.sessionId) });
    if (order.outbox.empty) return;
    await order.outbox.suspend();
    await startChild(deliverNotifications, {
      workflowId: `bindflow-notifications-${order.record.orderId}`,
      args: [{ orderId: order.record.orderId, items: order.outbox.items }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Notifications of order ${order.record.orderId} still undelivered when it ended`,
    });
  }
}
