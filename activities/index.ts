import type { Client } from '@temporalio/client';
import { DEFAULT_RECONCILE_RATE, EnvSchema } from '../lib/config';
import { createLogger, type Logger } from '../lib/log';
import { bindingActivities } from './bindings';
import { notifyActivities } from './notify';
import type { ProviderPort } from './ports';
import { reconcileActivities } from './reconcile';
import type { BindflowActivities } from './types';

export type { BindflowActivities } from './types';
export type { ProviderPort } from './ports';
export { signNotification, SIGNATURE_HEADER, TIMESTAMP_HEADER, EVENT_ID_HEADER } from './notify';

/** Hooks for the worker's own metrics. */
export interface ActivityMetrics {
  adopted(kind: 'ax' | 'yb'): void;
  notification(outcome: 'delivered' | 'rejected' | 'failed'): void;
}

export interface ActivityDeps {
  provider: ProviderPort;
  client: Client;
  numberPool?: readonly string[];
  callbackSecret?: string;
  log?: Logger;
  metrics?: ActivityMetrics;
  /** Provider queries per second of a reconciliation sweep; default: BINDFLOW_RECONCILE_RATE (10). */
  reconcileRate?: number;
}

/** BINDFLOW_RECONCILE_RATE as validated at the worker's start (its default when unset or invalid). */
function reconcileRateFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const r = EnvSchema.shape.BINDFLOW_RECONCILE_RATE.safeParse(env.BINDFLOW_RECONCILE_RATE);
  return r.success ? r.data : DEFAULT_RECONCILE_RATE;
}

/** Every activity of bindflow, bound to its dependencies. */
export function createActivities(deps: ActivityDeps): BindflowActivities {
  const log = deps.log ?? createLogger('activities');
  return {
    ...bindingActivities({
      provider: deps.provider,
      numberPool: deps.numberPool ?? [],
      log,
      onAdopted: (kind) => deps.metrics?.adopted(kind),
    }),
    ...notifyActivities({
      log,
      ...(deps.callbackSecret ? { callbackSecret: deps.callbackSecret } : {}),
      onDelivered: (outcome) => deps.metrics?.notification(outcome),
    }),
    ...reconcileActivities({
      provider: deps.provider,
      client: deps.client,
      queriesPerSecond: deps.reconcileRate ?? reconcileRateFromEnv(),
      log,
    }),
  };
}
