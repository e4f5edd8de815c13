import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { reconcileBindings, type ReconcileResult } from '../../workflows/reconcile';
import type { BindingView } from '../../workflows/types';
import type { FaultRule } from '../../simulator';
import { api } from '../orders';
import { AREA, type BenchStack } from '../stack';
import { percentile } from '../stats';
import { drillOrder, releaseUntilDone, runOrders, sleep, type DrillOrder } from './driver';

// Issue #11 item 6: orders bound under heavy provider faults on binds and unbinds, within a target time.
// All orders at once through the HTTP API (PUT, then GET every 250 ms after a 202) while the simulator
// answers binds with 25% http500, 20% commitThenDrop, 10% flowControl and unbinds with 30% http500,
// 10% timeout (shares of all requests of that api); then each order is released (faults still on), the
// faults are turned off, and one reconciliation sweep must leave no bindflow binding at the provider.

/** api → [fault, share of that api's requests]; rules are first-match, so shares become conditional chances. */
export const ISSUE_11_FAULTS: Record<'bindAx' | 'bindYb' | 'unbind', Array<[FaultRule['fault'], number]>> = {
  bindAx: [
    ['http500', 0.25],
    ['commitThenDrop', 0.2],
    ['flowControl', 0.1],
  ],
  bindYb: [
    ['http500', 0.25],
    ['commitThenDrop', 0.2],
    ['flowControl', 0.1],
  ],
  unbind: [
    ['http500', 0.3],
    ['timeout', 0.1],
  ],
};

/** First-match rules whose faults fire at the given shares of each api's requests. */
export function shareRules(spec: Partial<Record<FaultRule['api'], Array<[FaultRule['fault'], number]>>>): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const [apiName, shares] of Object.entries(spec) as Array<
    [FaultRule['api'], Array<[FaultRule['fault'], number]>]
  >) {
    let left = 1;
    for (const [fault, share] of shares) {
      rules.push({ api: apiName, fault, probability: Math.min(1, share / left) });
      left -= share;
    }
  }
  return rules;
}

export interface BoundOrder {
  orderId: string;
  /** First PUT to the first answer (PUT or GET) in state bound; undefined if never bound. */
  boundMs?: number;
  state: string;
  finalState?: string;
  /** From the history: attempts of each activity that ran (the final attempt's number). */
  attempts?: Record<string, number[]>;
  /** From the history: the failure each activity's final attempt followed (type: message). */
  lastFailures?: string[];
}

export interface PendingSnapshot {
  orderId: string;
  state: string;
  pending: Array<{ activity: string; attempt: number; lastFailure?: string; nextAttemptIn?: number }>;
}

export interface BoundUnderFaultsResult {
  orders: number;
  targetMs: number;
  boundWithinTarget: number;
  boundAtAll: number;
  boundMs: { p50: number; p90: number; max: number };
  stillBindingAtTarget: PendingSnapshot[];
  faultsFired: Record<string, number>;
  leftAfterRelease: number;
  sweep: ReconcileResult | { error: string };
  leftAfterSweep: number;
  perOrder: BoundOrder[];
  workerLog: string;
  seconds: number;
}

const ours = (stack: BenchStack) => stack.sim.bindings().filter((b) => b.userData?.startsWith('bf1:')).length;

async function safeApi<T>(url: string, method: string, p: string, body?: unknown) {
  try {
    return await api<T>(url, method, p, body);
  } catch (err) {
    return { status: 0, body: { error: String(err) } as unknown as T };
  }
}

/** PUT once (retrying only a lost connection or a 5xx), then GET until the order leaves `binding` or the deadline. */
async function bindAndWatch(stack: BenchStack, o: DrillOrder, giveUpMs: number): Promise<BoundOrder> {
  const t0 = performance.now();
  const body = { partyA: o.partyA, partyB: o.partyB, areaCode: AREA, durationSeconds: 3600 };
  let view: BindingView | undefined;
  for (let i = 0; i < 20 && !view; i++) {
    const res = await safeApi<BindingView>(stack.api.url, 'PUT', `/v1/orders/${o.orderId}/binding`, body);
    if (res.status >= 200 && res.status < 300) view = res.body;
    else if (res.status >= 400 && res.status < 500)
      throw new Error(`order ${o.orderId}: PUT answered ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    else await sleep(500);
  }
  while (view && view.state === 'binding' && performance.now() - t0 < giveUpMs) {
    await sleep(250);
    const res = await safeApi<BindingView>(stack.api.url, 'GET', `/v1/orders/${o.orderId}/binding`);
    if (res.status === 200) view = res.body;
  }
  const state = view?.state ?? 'unknown';
  return {
    orderId: o.orderId,
    state,
    ...(state === 'bound' ? { boundMs: Math.round(performance.now() - t0) } : {}),
  };
}

function failureText(f: temporal.api.failure.v1.IFailure | null | undefined): string | undefined {
  if (!f) return undefined;
  const type = f.applicationFailureInfo?.type ?? (f.timeoutFailureInfo ? 'Timeout' : 'failure');
  return `${type}: ${(f.message ?? '').slice(0, 120)}`;
}

/** Pending activities of a still-binding order: activity, attempt, last failure, seconds to the next attempt. */
async function pendingOf(stack: BenchStack, orderId: string, state: string): Promise<PendingSnapshot> {
  try {
    const d = await stack.api.client.workflow.getHandle(`binding-${orderId}`).describe();
    const now = Date.now();
    return {
      orderId,
      state,
      pending: (d.raw.pendingActivities ?? []).map((a) => {
        const next = a.nextAttemptScheduleTime?.seconds;
        return {
          activity: a.activityType?.name ?? '?',
          attempt: a.attempt ?? 0,
          ...(a.lastFailure ? { lastFailure: failureText(a.lastFailure) } : {}),
          ...(next ? { nextAttemptIn: Math.round(Number(next) - now / 1000) } : {}),
        };
      }),
    };
  } catch (err) {
    return { orderId, state, pending: [{ activity: `describe failed: ${String(err)}`, attempt: 0 }] };
  }
}

/** From the order's history: each activity's final attempt number and the failure before it. */
async function attemptsOf(stack: BenchStack, o: BoundOrder): Promise<void> {
  try {
    const h = await stack.api.client.workflow.getHandle(`binding-${o.orderId}`).fetchHistory();
    const typeOf = new Map<string, string>();
    const attempts: Record<string, number[]> = {};
    const lastFailures: string[] = [];
    for (const e of h.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) typeOf.set(String(e.eventId), s.activityType?.name ?? '?');
      const st = e.activityTaskStartedEventAttributes;
      if (st) {
        const name = typeOf.get(String(st.scheduledEventId)) ?? '?';
        (attempts[name] ??= []).push(st.attempt ?? 0);
        const lf = failureText(st.lastFailure);
        if (lf) lastFailures.push(`${name}#${st.attempt}: after ${lf}`);
      }
    }
    o.attempts = attempts;
    o.lastFailures = lastFailures;
  } catch {
    // history not readable: the figures stay without attempts
  }
}

export async function boundUnderFaultsDrill(
  stack: BenchStack,
  opts: { orders: number; run: number; targetMs?: number; limitMs?: number },
  say: (s: string) => void = () => undefined,
): Promise<BoundUnderFaultsResult> {
  const t0 = Date.now();
  const targetMs = opts.targetMs ?? 120_000;
  /** Hard limit of the whole drill. */
  const limitMs = opts.limitMs ?? 360_000;
  const left = () => t0 + limitMs - Date.now();
  // The worker's log, whole, for the analysis of slow orders.
  const workerLog = path.join(os.tmpdir(), `bindflow-drill-boundUnderFaults-${opts.run}-${t0}.log`);
  const logStream = fs.createWriteStream(workerLog);
  const tee = (d: Buffer) => logStream.write(d);
  stack.worker.proc.stdout?.on('data', tee);
  stack.worker.proc.stderr?.on('data', tee);

  const orders = Array.from({ length: opts.orders }, (_, i) => drillOrder(opts.run, i, 'buf'));
  const rules = shareRules(ISSUE_11_FAULTS);
  stack.sim.setFaults(rules);
  const fired: Record<string, number> = {};
  let perOrder: BoundOrder[] = [];
  const stillBindingAtTarget: PendingSnapshot[] = [];
  let leftAfterRelease = -1;
  try {
    // Bind: all at once; watched up to twice the target (within the hard limit, keeping 2.5 min for the rest).
    const watchMs = Math.min(2 * targetMs, limitMs - 150_000);
    // At the target time, what each order not yet bound is waiting on (pending activity, attempt, last failure).
    let snapshot: Promise<void> | undefined;
    const timer = setTimeout(() => {
      snapshot = (async () => {
        for (const o of orders) {
          const got = await safeApi<BindingView>(stack.api.url, 'GET', `/v1/orders/${o.orderId}/binding`);
          const state = got.status === 200 ? got.body.state : `GET ${got.status}`;
          if (state !== 'bound') stillBindingAtTarget.push(await pendingOf(stack, o.orderId, state));
        }
      })();
    }, targetMs + 1000);
    try {
      perOrder = await runOrders(orders.length, orders.length, (i) => bindAndWatch(stack, orders[i], watchMs));
    } finally {
      clearTimeout(timer);
      await snapshot;
    }
    const done = perOrder.filter((o) => o.boundMs !== undefined).length;
    say(`boundUnderFaults: ${done}/${orders.length} bound after ${Math.round((Date.now() - t0) / 1000)} s; releasing`);

    // Release every order (bound or not), faults still on; bounded by the hard limit minus the sweep's minute.
    await runOrders(orders.length, orders.length, async (i) => {
      try {
        const v = await releaseUntilDone(() => stack.api.url, orders[i], Math.max(10_000, left() - 70_000));
        perOrder[i].finalState = v.state;
      } catch (err) {
        perOrder[i].finalState = `not released: ${err instanceof Error ? err.message.slice(0, 80) : String(err)}`;
      }
    });
  } finally {
    for (const r of stack.sim.core.faults.get())
      if (r.applied) fired[`${r.api}.${r.fault}`] = (fired[`${r.api}.${r.fault}`] ?? 0) + r.applied;
    stack.sim.setFaults([]);
  }
  leftAfterRelease = ours(stack);
  say(`boundUnderFaults: fired ${JSON.stringify(fired)}; ${leftAfterRelease} bindflow bindings left after release`);

  let sweep: ReconcileResult | { error: string };
  try {
    sweep = await stack.api.client.workflow.execute(reconcileBindings, {
      taskQueue: stack.taskQueue,
      workflowId: `drill-bound-sweep-${opts.run}-${Date.now()}`,
      args: [{ numberPool: stack.pool, graceSeconds: 0 }],
      workflowExecutionTimeout: `${Math.max(30, Math.round(left() / 1000))}s`,
    });
  } catch (err) {
    sweep = { error: err instanceof Error ? err.message : String(err) };
  }
  const leftAfterSweep = ours(stack);

  for (const o of perOrder) await attemptsOf(stack, o);
  stack.worker.proc.stdout?.off('data', tee);
  stack.worker.proc.stderr?.off('data', tee);
  await new Promise<void>((r) => logStream.end(r));

  const times = perOrder.flatMap((o) => (o.boundMs === undefined ? [] : [o.boundMs])).sort((a, b) => a - b);
  const unbound = perOrder.length - times.length;
  // An order never bound counts as infinitely slow in the percentiles.
  const all = [...times, ...Array<number>(unbound).fill(Number.POSITIVE_INFINITY)];
  return {
    orders: orders.length,
    targetMs,
    boundWithinTarget: times.filter((t) => t <= targetMs).length,
    boundAtAll: times.length,
    boundMs: { p50: percentile(all, 50), p90: percentile(all, 90), max: all.length ? all[all.length - 1] : NaN },
    stillBindingAtTarget,
    faultsFired: fired,
    leftAfterRelease,
    sweep,
    leftAfterSweep,
    perOrder,
    workerLog,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
}
