import type { Client } from '@temporalio/client';
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
    ...reconcileActivities({ provider: deps.provider, client: deps.client }),
  };
}
