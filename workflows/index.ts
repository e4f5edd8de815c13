// The worker's workflowsPath: every workflow type bindflow runs.
export { orderBinding } from './orderBinding';
export { reconcileBindings } from './reconcile';
export { unroutedPushes } from './unroutedPushes';
