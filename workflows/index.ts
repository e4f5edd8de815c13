// The worker's workflowsPath: every workflow type bindflow runs.
export { orderBinding } from './orderBinding';
export { deliverNotifications } from './notifications';
export { reconcileBindings } from './reconcile';
export { unroutedPushes } from './unroutedPushes';
