import { request } from 'undici';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

// Cost per order: the events of a finished order's history, and Temporal Cloud's billable actions
// (docs.temporal.io/cloud/actions), both counted from the history and read from the server's own
// `action` metric over a window.

const EventType = temporal.api.enums.v1.EventType;

export interface HistoryCount {
  total: number;
  byType: Record<string, number>;
  /** Activity attempts (ActivityTaskStarted's attempt numbers summed). */
  activityAttempts: number;
  /** Billable actions visible in the history (see actionsFromHistory). */
  actions: number;
  /** Search-attribute upserts that only set TemporalChangeVersion (a patch's): not billed. */
  versionUpserts: number;
  /** The history's size as the server stores it (protobuf bytes), in all and by event type. */
  bytes: number;
  bytesByType: Record<string, number>;
}

/**
 * Actions a history shows: start, each update accepted, signal, activity attempt, timer, search-attribute
 * upsert (but those that only set TemporalChangeVersion, which a patch writes and Temporal Cloud exempts). A
 * patch's own marker is not counted. bindflow runs no local activities, so none are counted here.
 */
export function actionsFromHistory(
  byType: Record<string, number>,
  activityAttempts: number,
  versionUpserts = 0,
): number {
  const n = (t: string) => byType[t] ?? 0;
  return (
    n('WorkflowExecutionStarted') +
    n('WorkflowExecutionUpdateAccepted') +
    n('WorkflowExecutionSignaled') +
    activityAttempts +
    n('TimerStarted') +
    n('UpsertWorkflowSearchAttributes') -
    versionUpserts +
    n('WorkflowExecutionContinuedAsNew')
  );
}

const CHANGE_VERSION = 'TemporalChangeVersion';

export async function countHistory(client: Client, workflowId: string): Promise<HistoryCount> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const byType: Record<string, number> = {};
  const bytesByType: Record<string, number> = {};
  let bytes = 0;
  let activityAttempts = 0;
  let versionUpserts = 0;
  for (const e of history.events ?? []) {
    const upserted = Object.keys(
      e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
    );
    if (upserted.length > 0 && upserted.every((k) => k === CHANGE_VERSION)) versionUpserts++;
    const name = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
    const pascal = name
      .toLowerCase()
      .split('_')
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join('');
    byType[pascal] = (byType[pascal] ?? 0) + 1;
    const size = temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
    bytesByType[pascal] = (bytesByType[pascal] ?? 0) + size;
    bytes += size;
    if (e.activityTaskStartedEventAttributes) activityAttempts += e.activityTaskStartedEventAttributes.attempt ?? 1;
  }
  const total = history.events?.length ?? 0;
  return {
    total,
    byType,
    activityAttempts,
    versionUpserts,
    bytes,
    bytesByType,
    actions: actionsFromHistory(byType, activityAttempts, versionUpserts),
  };
}

/** Sum of the dev server's `action` counter by type (Prometheus text), for `namespace="default"`. */
export async function scrapeActions(metricsPort: number): Promise<Record<string, number>> {
  return scrapeCounter(metricsPort, 'action', (labels) => labels.operation ?? labels.action_type ?? 'unknown');
}

/**
 * The frontend's requests by operation (`service_requests`, namespace `default`): e.g. the history reads a `PUT`
 * makes with BINDFLOW_BIND_WAIT=history (`PollWorkflowExecutionHistory`: a read that waits for new events).
 */
export async function scrapeFrontendRequests(metricsPort: number): Promise<Record<string, number>> {
  return scrapeCounter(metricsPort, 'service_requests', (labels) =>
    labels.service_name === 'frontend' && labels.namespace === 'default' ? labels.operation : undefined,
  );
}

/** A counter of the server's Prometheus text (`name` or `name_total`), summed by the key `keyOf` picks. */
async function scrapeCounter(
  metricsPort: number,
  name: string,
  keyOf: (labels: Record<string, string>) => string | undefined,
): Promise<Record<string, number>> {
  const res = await request(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await res.body.text();
  const out: Record<string, number> = {};
  const line = new RegExp(`^${name}(?:_total)?\\{([^}]*)\\}\\s+([0-9.eE+-]+)`);
  for (const row of text.split('\n')) {
    const m = line.exec(row);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]] as [string, string]),
    );
    const key = keyOf(labels);
    if (key !== undefined) out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

export function diffCounters(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}
