import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

// Webpack-bundling the workflow code takes seconds: do it once per process and reuse it for every
// worker (tests create many).

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

let cached: Promise<WorkflowBundleWithSourceMap> | undefined;

export function getWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  cached ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }).catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}
