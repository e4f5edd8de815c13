import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

// Webpack-bundling the workflow code takes seconds: do it once per process and reuse it for every
// worker (tests create many). With tracing on, the bundle also holds the OpenTelemetry workflow interceptors.

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

/**
 * Modules evaluated once per worker thread and shared by every workflow run, instead of once per run: the SDK
 * re-evaluates every other module of the bundle for each new run (and after each cache eviction). Only modules
 * without per-workflow state qualify, and the SDK deep-freezes what they export: zod's library (its classes and
 * helpers) does; bindflow's own schema modules do NOT: zod v3 writes into schema objects as it parses (lazy caches
 * of object shapes and enum values, which a warm-up could fill before the freeze, but also `lastIndex = 0` on the
 * RegExp of every `.regex()` check, on each parse), and a frozen one throws. Schemas that only some workflow types
 * need are built where they are used instead (reconcile.ts, unroutedPushes.ts). Measured with `npx tsx bench/sandboxCost.ts`.
 */
export const WORKFLOW_PRELOAD_MODULES: readonly string[] = [path.resolve(__dirname, 'workflowPreload.ts')];

const cached = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** The workflow code, with these workflow interceptor modules bundled in (none: the plain bundle). */
export function getWorkflowBundle(interceptorModules: readonly string[] = []): Promise<WorkflowBundleWithSourceMap> {
  const key = interceptorModules.join('\n');
  let bundle = cached.get(key);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      preloadModules: [...WORKFLOW_PRELOAD_MODULES],
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
