import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { DEFAULT_RECONCILE_RATE, EnvSchema } from '../lib/config';
import { createLogger, type Logger } from '../lib/log';
import { bindingActivities } from './bindings';
import { notifyActivities, type CallbackDelivery } from './notify';
import type { ProviderPort } from './ports';
import { reconcileActivities } from './reconcile';
import type { BindflowActivities } from './types';

export type { BindflowActivities } from './types';
export type { ProviderPort } from './ports';
export { signNotification, SIGNATURE_HEADER, TIMESTAMP_HEADER, EVENT_ID_HEADER } from './notify';

/** What one delivery attempt of a notification came to (`given_up` is the workflow's decision, via a sink). */
export type NotificationOutcome = 'delivered' | 'rejected' | 'failed' | 'given_up';

/** Hooks for the worker's own metrics. */
export interface ActivityMetrics {
  adopted(kind: 'ax' | 'yb'): void;
  /** `type`: the notification's type as the workflow wrote it in the body. */
  notification(type: unknown, outcome: NotificationOutcome): void;
  /** An orphan binding unbound by a reconciliation sweep. */
  orphanUnbound(): void;
}

/** The workflow type whose `unbind` calls are orphans being swept. */
const RECONCILE_WORKFLOW_TYPE = 'reconcileBindings';

export interface ActivityDeps {
  provider: ProviderPort;
  client: Client;
  numberPool?: readonly string[];
  callbackSecret?: string;
  /** Allowed callback targets, numbers masked or not, unsigned allowed or not (activities/notify.ts). */
  callbackDelivery?: CallbackDelivery;
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
  const bindings = bindingActivities({
    provider: deps.provider,
    numberPool: deps.numberPool ?? [],
    log,
    onAdopted: (kind) => deps.metrics?.adopted(kind),
  });
  return {
    ...bindings,
    async unbind(input) {
      const r = await bindings.unbind(input);
      // Counted like the sweep's own `orphansUnbound`: every orphan's unbind that succeeded.
      if (deps.metrics && Context.current().info.workflowType === RECONCILE_WORKFLOW_TYPE) deps.metrics.orphanUnbound();
      return r;
    },
    ...notifyActivities({
      log,
      ...(deps.callbackSecret ? { callbackSecret: deps.callbackSecret } : {}),
      ...deps.callbackDelivery,
      onDelivered: (type, outcome) => deps.metrics?.notification(type, outcome),
    }),
    ...reconcileActivities({
      provider: deps.provider,
      client: deps.client,
      queriesPerSecond: deps.reconcileRate ?? reconcileRateFromEnv(),
      log,
    }),
  };
}
