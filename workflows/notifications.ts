import {
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  uuid4,
  workflowInfo,
  condition,
  proxySinks,
} from '@temporalio/workflow';
import type { BindflowActivities } from '../activities/types';
import type { BindflowSinks } from './sinks';

// Notifications to the order's userCallbackUrl: an outbox delivered in order, one at a time, each retried
// for up to a day. The outbox never holds up the order: at continue-as-new the delivery under way is
// cancelled and the outbox travels to the next run (its retry budget counted from the first try); at the
// end of the order, what is still undelivered goes to a `deliverNotifications` child workflow that outlives
// it. Receivers deduplicate by eventId (a notification cancelled mid-delivery may arrive twice).

/** How long a notification is retried, from its first try, across runs. */
export const NOTIFY_BUDGET_MS = 24 * 3600 * 1000;

export interface PendingNotification {
  url: string;
  eventId: string;
  type: string;
  body: Record<string, unknown>;
  queuedAtMs: number;
}

/** Metrics of the worker (sinks are not in history: nothing here changes a replay). */
const { bindflowMetrics } = proxySinks<BindflowSinks>();

async function deliver(n: PendingNotification): Promise<'delivered' | 'given-up'> {
  const remainingMs = n.queuedAtMs + NOTIFY_BUDGET_MS - Date.now();
  if (remainingMs <= 1000) {
    bindflowMetrics.notificationGivenUp(n.type);
    return 'given-up';
  }
  const { notify } = proxyActivities<Pick<BindflowActivities, 'notify'>>({
    startToCloseTimeout: '15s',
    scheduleToCloseTimeout: remainingMs,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1h' },
  });
  try {
    await notify({ url: n.url, eventId: n.eventId, body: n.body });
    return 'delivered';
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('notification given up', { eventId: n.eventId, type: n.type, error: (err as Error)?.message });
    bindflowMetrics.notificationGivenUp(n.type);
    return 'given-up';
  }
}

export class Outbox {
  private running = false;
  private suspended = false;
  private scope: CancellationScope | undefined;

  /**
   * `parent`: the scope deliveries run under, whatever context adds a notification (a signal handler's is the
   * root scope, which a workflow cancellation request cancels); the order's lifecycle scope, which it does not.
   */
  constructor(
    readonly items: PendingNotification[] = [],
    private readonly parent?: CancellationScope,
  ) {
    this.kick();
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  add(url: string, type: string, body: (eventId: string) => Record<string, unknown>): void {
    const eventId = `${workflowInfo().workflowId}:${type}:${uuid4()}`;
    this.items.push({ url, eventId, type, body: body(eventId), queuedAtMs: Date.now() });
    this.kick();
  }

  /** Stops delivering (cancelling the delivery under way) and resolves once nothing runs. */
  async suspend(): Promise<void> {
    this.suspended = true;
    this.scope?.cancel();
    await condition(() => !this.running);
  }

  resume(): void {
    this.suspended = false;
    this.kick();
  }

  private kick(): void {
    if (this.running || this.suspended || this.items.length === 0) return;
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      this.scope = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (!this.suspended && this.items.length > 0) {
      const scope = new CancellationScope({ cancellable: true, parent: this.parent });
      this.scope = scope;
      try {
        await scope.run(() => deliver(this.items[0]));
      } catch (err) {
        if (isCancellation(err)) return; // suspended: the item stays for the next run
        log.warn('notification failed', { error: (err as Error)?.message });
      }
      this.items.shift();
    }
  }
}

/** What an ended order could not deliver in time, delivered in order by a workflow of its own. */
export async function deliverNotifications(input: { orderId: string; items: PendingNotification[] }): Promise<number> {
  let delivered = 0;
  for (const item of input.items) if ((await deliver(item)) === 'delivered') delivered++;
  return delivered;
}
