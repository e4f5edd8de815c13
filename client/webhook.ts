import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { isFeePush, NonceReplayCache, PushSchema, verifyAksk } from '../provider';
import { AKSK_FAILURE, DEFAULT_SKEW_SECONDS } from '../provider/aksk';
import { providerEventsFromPush } from '../workflows/providerEvents';
import { orderIdFromUserData, workflowIdForOrder } from '../workflows/userData';
import { providerEvents } from '../workflows/messages';
import {
  unroutedDay,
  unroutedEvents,
  unroutedPushes,
  unroutedWorkflowIdForDay,
  unroutedWorkflowIdForOrder,
} from '../workflows/unroutedPushes';
import type { ProviderEvent } from '../workflows/types';
import * as sa from '../workflows/searchAttributes';
import type { Logger } from '../lib/log';
import { BindflowError, validationError } from './errors';
import { toBindflowError } from './library';
import { countWebhookPushes, markAcknowledged, type ApiMetrics } from './metrics';

// The provider's pushes → signals to each order's workflow. 200 only once every event is durably in
// Temporal (in its workflow, or kept for operators when no open order owns it); 503 makes the platform retry.

export interface WebhookOptions {
  client: Client;
  taskQueue: string;
  appKey: string;
  appSecret: string;
  skewSeconds?: number;
  bodyLimitBytes?: number;
  log: Logger;
  metrics: ApiMetrics;
  /** Longest time the webhook waits on Temporal before answering 503. Default 2 s. */
  temporalDeadlineMs?: number;
  /**
   * Which call events are signalled to the order (BINDFLOW_CALL_EVENTS, see SIGNALLED_CALL_EVENTS); the others
   * are acknowledged (200) and counted. `final`: the disconnect and the call record carry the call's outcome and times.
   */
  callEvents?: 'all' | 'final';
  /** Nonces of accepted pushes (per process; tests share one to look inside). */
  replayCache?: NonceReplayCache;
}

export const WEBHOOK_PATH = '/webhooks/privatenumber';

/**
 * The call events handed to the order's workflow, per BINDFLOW_CALL_EVENTS; the others are verified, counted
 * (`acknowledged`) and answered 200. `callout` and `alerting` change nothing an order shows (workflows/calls.ts
 * reads the start from `callin`, the answer from `answer`, the end and outcome from `disconnect`, everything
 * from the call record), so even `all` does not spend a signal on them. Call records always go through.
 */
export const SIGNALLED_CALL_EVENTS: Record<'all' | 'final', ReadonlySet<string>> = {
  all: new Set(['callin', 'answer', 'disconnect']),
  final: new Set(['disconnect']),
};

export function registerWebhook(app: FastifyInstance, opts: WebhookOptions): void {
  const replayCache = opts.replayCache ?? new NonceReplayCache();
  const skewSeconds = opts.skewSeconds ?? DEFAULT_SKEW_SECONDS;
  const subscriptionCache = new Map<string, string>();
  // Every answer counts, by event and outcome (bindflow_webhook_pushes_total): 5xx of any cause included.
  countWebhookPushes(app, opts.metrics, WEBHOOK_PATH);

  app.post(
    WEBHOOK_PATH,
    { bodyLimit: opts.bodyLimitBytes ?? 512 * 1024 },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const auth = verifyAksk(
        { authorization: req.headers.authorization, xAksk: req.headers['x-aksk'] },
        { appKey: opts.appKey, appSecret: opts.appSecret, skewSeconds },
      );
      if (!auth.ok) {
        opts.log.warn('webhook push refused: bad signature', { reason: auth.reason, resultcode: auth.resultcode });
        return reply
          .code(401)
          .send({ error: { code: 'UNAUTHORIZED', message: auth.reason, details: { resultcode: auth.resultcode } } });
      }
      // A nonce counts as used only once its push is accepted: a push answered 503 (or 400) may come again
      // with the same headers, as the platform retries it. Reserved meanwhile, so a concurrent copy waits.
      const nonceKey = `${opts.appKey}\u0000${auth.nonce}`;
      const reserved = replayCache.reserve(nonceKey, Date.parse(auth.created) + skewSeconds * 1000);
      if (reserved === 'used') {
        opts.log.warn('webhook push refused: replayed signature', { resultcode: AKSK_FAILURE.replay });
        return reply.code(401).send({
          error: {
            code: 'UNAUTHORIZED',
            message: 'X-AKSK Nonce already used',
            details: { resultcode: AKSK_FAILURE.replay },
          },
        });
      }
      if (reserved === 'pending')
        throw new BindflowError('TEMPORAL_UNAVAILABLE', 'the same push is being handled; retry later');
      let accepted = false;
      try {
        accepted = await acceptPush(req, reply);
        return reply;
      } finally {
        if (accepted) replayCache.commit(nonceKey);
        else replayCache.release(nonceKey);
      }
    },
  );

  /** Parses the push and hands its events to Temporal; true once answered 200. */
  async function acceptPush(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const parsed = PushSchema.safeParse(req.body);
    if (!parsed.success) {
      throw validationError(parsed.error.issues);
    }
    const push = parsed.data;
    if (!isFeePush(push) && !SIGNALLED_CALL_EVENTS[opts.callEvents ?? 'all'].has(push.eventType)) {
      markAcknowledged(req);
      void reply.code(200).send({ resultcode: '0', resultdesc: 'Success' });
      return true;
    }
    // A record without sessionId (allowed by the platform) still becomes its own call, keyed by its icid.
    const events = providerEventsFromPush(
      isFeePush(push)
        ? { ...push, feeLst: push.feeLst.map((r) => ({ ...r, sessionId: r.sessionId ?? `icid:${r.icid}` })) }
        : push,
    );
    try {
      // Bounded: an unreachable Temporal must turn into a quick 503, well inside the platform's patience.
      const receivedAt = new Date();
      const deadline = receivedAt.getTime() + (opts.temporalDeadlineMs ?? 2000);
      const { routed, kept } = await opts.client.connection.withDeadline(deadline, async () => {
        const groups = await groupByOrder(events, opts.client, subscriptionCache);
        let routed = 0;
        let kept = 0;
        for (const [orderId, group] of groups) {
          if (orderId && (await signalOrder(opts.client, orderId, group))) routed += group.length;
          else {
            await keepUnrouted(opts, orderId, group, receivedAt);
            kept += group.length;
            opts.metrics.unroutedPushes.inc(group.length);
          }
        }
        return { routed, kept };
      });
      opts.log.info('webhook push accepted', {
        eventType: parsed.data.eventType,
        events: events.length,
        routed,
        kept,
      });
      void reply.code(200).send({ resultcode: '0', resultdesc: 'Success' });
      return true;
    } catch (err) {
      const e = toBindflowError(err);
      throw e.code === 'INTERNAL'
        ? new BindflowError('TEMPORAL_UNAVAILABLE', 'cannot accept the push now; retry later')
        : e;
    }
  }
}

/** orderId from the echoed userData; else the workflow holding that SubscriptionId; else null. */
async function groupByOrder(events: ProviderEvent[], client: Client, cache: Map<string, string>) {
  const groups = new Map<string | null, ProviderEvent[]>();
  for (const ev of events) {
    let orderId = orderIdFromUserData(ev.userData);
    if (!orderId && ev.subscriptionId) orderId = await orderBySubscription(client, ev.subscriptionId, cache);
    const list = groups.get(orderId) ?? [];
    list.push(ev);
    groups.set(orderId, list);
  }
  return groups;
}

async function orderBySubscription(
  client: Client,
  subscriptionId: string,
  cache: Map<string, string>,
): Promise<string | null> {
  const hit = cache.get(subscriptionId);
  if (hit) return hit;
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(subscriptionId)) return null; // never interpolate odd text into a query
  for await (const wf of client.workflow.list({
    query: `WorkflowType = 'orderBinding' AND SubscriptionId = '${subscriptionId}'`,
    pageSize: 1,
  })) {
    const orderId = (wf.typedSearchAttributes.get(sa.OrderId) as string | undefined) ?? null;
    if (orderId) {
      if (cache.size > 10_000) cache.clear();
      cache.set(subscriptionId, orderId);
    }
    return orderId;
  }
  return null;
}

/** True once signalled; false when the order's workflow does not exist or has finished. */
async function signalOrder(client: Client, orderId: string, events: ProviderEvent[]): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowIdForOrder(orderId)).signal(providerEvents, events);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * Keeps events no open order owns for operators: in the order's own `unrouted-{orderId}` store (search attribute
 * OrderId, found with the order) when the push names one, else in the store of the day of receipt (UTC).
 */
async function keepUnrouted(
  opts: WebhookOptions,
  orderId: string | null,
  events: ProviderEvent[],
  receivedAt: Date,
): Promise<void> {
  const signalArgs: [{ reason: string; orderId: string | null; events: ProviderEvent[] }] = [
    { reason: orderId ? 'order not running' : 'no order owns this push', orderId, events },
  ];
  if (orderId) {
    await opts.client.workflow.signalWithStart(unroutedPushes, {
      workflowId: unroutedWorkflowIdForOrder(orderId),
      taskQueue: opts.taskQueue,
      args: [{ shard: 'order', orderId }],
      signal: unroutedEvents,
      signalArgs,
      typedSearchAttributes: [{ key: sa.OrderId, value: orderId }],
      staticSummary: `Order ${orderId}: provider pushes that arrived after its binding ended, kept for operators`,
    });
    return;
  }
  const day = unroutedDay(receivedAt);
  await opts.client.workflow.signalWithStart(unroutedPushes, {
    workflowId: unroutedWorkflowIdForDay(receivedAt),
    taskQueue: opts.taskQueue,
    args: [{ shard: 'day', day }],
    signal: unroutedEvents,
    signalArgs,
    staticSummary: `Provider pushes received on ${day} (UTC) that no order owns, kept for operators`,
  });
}
