export { createBindflowWorker, type BindflowWorkerOptions } from './createWorker';
export { runWorker, numberPoolFromEnv } from './run';
export { getWorkflowBundle, WORKFLOWS_PATH } from './bundle';
export { ensureReconcileSchedule, RECONCILE_SCHEDULE_ID, type ReconcileScheduleOptions } from './schedule';
export { BindflowMetrics, startMetricsServer } from './metrics';
