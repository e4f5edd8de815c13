import path from 'node:path';
import vm from 'node:vm';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { ReusableVMWorkflowCreator } from '@temporalio/worker/lib/workflow/reusable-vm';
import { WORKFLOWS_PATH, WORKFLOW_PRELOAD_MODULES } from '../worker/bundle';
import { FLOOR_WORKFLOWS_PATH } from './floor/run';

// `npx tsx bench/sandboxCost.ts [count]`: CPU per workflow of setting up a workflow in the SDK's reusable V8
// context (what the worker does for every new run, and again after a cache eviction): the runtime is
// initialised and the workflow modules are evaluated again for that run, schemas included. Compares the
// bundle without preloaded modules with the one the worker uses (WORKFLOW_PRELOAD_MODULES, loaded once
// and shared). Then one of the SDK's per-activation costs, for scale: every call into the sandbox runs
// `vm` with `timeout` (WorkerOptions.isolateExecutionTimeout), and Node starts a watchdog for each such call.
// Last, the heap a set-up run keeps while it lives (a worker keeps up to maxCachedWorkflows of them), for
// bindflow's bundle and the benchmark floor's; run with `node --expose-gc --require tsx/cjs` for that figure.

const COUNT = Number(process.argv[2] ?? 400);

async function bundleFor(preloadModules: string[], workflowsPath = WORKFLOWS_PATH) {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    preloadModules,
    logger: new DefaultLogger('WARN'),
  });
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  const sourceMap = JSON.parse(Buffer.from(code.slice(at).split('base64,')[1].trim(), 'base64').toString('utf8'));
  return { code, sourceMap, filename: path.resolve(sourceMap.file as string) };
}

function info(i: number, workflowType = 'orderBinding') {
  const now = new Date();
  return {
    workflowId: `sandbox-cost-${i}`,
    runId: `run-${i}`,
    workflowType,
    taskQueue: 'sandbox-cost',
    namespace: 'default',
    firstExecutionRunId: `run-${i}`,
    attempt: 1,
    historyLength: 3,
    historySize: 1024,
    continueAsNewSuggested: false,
    startTime: now,
    runStartTime: now,
    searchAttributes: {},
    typedSearchAttributes: [],
    memo: {},
    unsafe: { isReplaying: false, now: () => Date.now() },
    priority: {},
  };
}

async function measure(label: string, preloadModules: string[]): Promise<number> {
  const bundle = await bundleFor(preloadModules);
  const creator = await ReusableVMWorkflowCreator.create(bundle as never, 5000, new Set<string>());
  const once = async (i: number) => {
    const wf = await creator.createWorkflow({
      info: info(i) as never,
      randomnessSeed: [1, 2, 3, 4],
      now: Date.now(),
      showStackTraceSources: false,
    });
    await wf.dispose();
  };
  for (let i = 0; i < 50; i++) await once(i); // warm-up (JIT)
  const before = process.cpuUsage();
  for (let i = 0; i < COUNT; i++) await once(1000 + i);
  const used = process.cpuUsage(before);
  await creator.destroy();
  const perWorkflow = (used.user + used.system) / 1000 / COUNT;
  process.stdout.write(`${label}: ${perWorkflow.toFixed(2)} ms CPU per workflow set-up (${COUNT} runs)\n`);
  return perWorkflow;
}

/** CPU per `runInContext` of a trivial script, with and without a timeout (the SDK always passes one). */
function watchdogCost(): { withTimeoutUs: number; withoutUs: number } {
  const context = vm.createContext({}, { microtaskMode: 'afterEvaluate' });
  const script = new vm.Script('globalThis.n = (globalThis.n || 0) + 1');
  const run = (options: vm.RunningScriptOptions) => {
    const n = 20_000;
    for (let i = 0; i < 1000; i++) script.runInContext(context, options);
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) script.runInContext(context, options);
    const used = process.cpuUsage(before);
    return +((used.user + used.system) / n).toFixed(1);
  };
  return { withTimeoutUs: run({ timeout: 5000 }), withoutUs: run({}) };
}

/** Heap kept per set-up run (created, not disposed), in KB; null without --expose-gc. */
async function heapPerRun(
  workflowsPath: string,
  preloadModules: string[],
  workflowType: string,
): Promise<number | null> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  const creator = await ReusableVMWorkflowCreator.create(
    (await bundleFor(preloadModules, workflowsPath)) as never,
    5000,
    new Set<string>(),
  );
  const kept: { dispose(): Promise<void> }[] = [];
  const create = async (i: number) =>
    kept.push(
      await creator.createWorkflow({
        info: info(i, workflowType) as never,
        randomnessSeed: [1, 2, 3, 4],
        now: Date.now(),
        showStackTraceSources: false,
      }),
    );
  for (let i = 0; i < 50; i++) await create(i);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const n = 1000;
  for (let i = 0; i < n; i++) await create(100 + i);
  gc();
  gc();
  const kb = Math.round((process.memoryUsage().heapUsed - before) / n / 1024);
  for (const w of kept) await w.dispose();
  await creator.destroy();
  return kb;
}

async function main(): Promise<void> {
  // Alternated three times, so a burst of load on the machine does not favour one side.
  const plain: number[] = [];
  const preloaded: number[] = [];
  for (let round = 0; round < 3; round++) {
    plain.push(await measure('no preloaded modules', []));
    preloaded.push(
      await measure(`preloaded ${WORKFLOW_PRELOAD_MODULES.map((m) => path.relative(process.cwd(), m)).join(', ')}`, [
        ...WORKFLOW_PRELOAD_MODULES,
      ]),
    );
  }
  const best = (xs: number[]) => Math.min(...xs);
  const watchdog = watchdogCost();
  process.stdout.write(
    `vm.runInContext: ${watchdog.withTimeoutUs} µs CPU per call with a timeout, ${watchdog.withoutUs} µs without\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      msPerWorkflowPlain: +best(plain).toFixed(2),
      msPerWorkflowPreloaded: +best(preloaded).toFixed(2),
      runInContextUsWithTimeout: watchdog.withTimeoutUs,
      runInContextUsWithout: watchdog.withoutUs,
      heapKbPerRun: await heapPerRun(WORKFLOWS_PATH, [...WORKFLOW_PRELOAD_MODULES], 'orderBinding'),
      heapKbPerFloorRun: await heapPerRun(FLOOR_WORKFLOWS_PATH, [], 'floorMessages'),
    })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
