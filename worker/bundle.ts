import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

// Webpack-bundling the workflow code takes seconds: do it once per process and reuse it for every
// worker (tests create many). With tracing on, the bundle also holds the OpenTelemetry workflow interceptors.

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

const cached = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** The workflow code, with these workflow interceptor modules bundled in (none: the plain bundle). */
export function getWorkflowBundle(interceptorModules: readonly string[] = []): Promise<WorkflowBundleWithSourceMap> {
  const key = interceptorModules.join('\n');
  let bundle = cached.get(key);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      ...(interceptorModules.length ? { workflowInterceptorModules: [...interceptorModules] } : {}),
      logger: new DefaultLogger('WARN'),
    }).catch((err) => {
      cached.delete(key);
      throw err;
    });
    cached.set(key, bundle);
  }
  return bundle;
}
