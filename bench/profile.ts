import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { getWorkflowBundle } from '../worker/bundle';

// BENCH_CPU_PROF=<dir>: CPU profiles of the benchmark (and the drills), for `npx tsx scripts/cpu-profile-summary.ts`.
// - The worker child processes run with `node --cpu-prof`: each writes one CPU.*.cpuprofile per thread (the main
//   thread, and the thread that runs the workflow sandbox) into its own <dir>/<role>-<bench pid>-<n>/ when it exits
//   normally, i.e. after a graceful SIGTERM stop (a SIGKILLed worker writes nothing). A directory per process
//   because a fixed --cpu-prof-name would make the threads overwrite each other's file.
// - This process (API, simulator, load generator, Temporal client) is sampled through node:inspector from the
//   start of the stack to its close: <dir>/bench-process.cpuprofile.
// - The workflow bundle's source map goes next to them, so the sandbox's frames can be traced to their sources.

/** The profile directory, or undefined when profiling is off. */
export function cpuProfileDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.BENCH_CPU_PROF?.trim();
  return dir ? path.resolve(dir) : undefined;
}

let spawned = 0;

/** Node flags (before the script) that make a child write its CPU profiles into a directory of its own on exit. */
export function cpuProfileNodeArgs(role: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = cpuProfileDir(env);
  if (!dir) return [];
  const own = path.join(dir, `${role}-${process.pid}-${++spawned}`);
  fs.mkdirSync(own, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${own}`];
}

/**
 * The workflow bundle's source map (webpack's, inline in the bundle), as <dir>/workflow-bundle-<hash>.js.map: the
 * workers run the same bundle (same code, same hash), and the summary maps its frames back to their sources.
 */
async function saveWorkflowBundleMap(dir: string): Promise<void> {
  const { code } = await getWorkflowBundle();
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  const base64 = at >= 0 ? code.slice(at).split('base64,')[1] : undefined;
  if (!base64) return;
  const json = Buffer.from(base64.trim(), 'base64').toString('utf8');
  const file = (JSON.parse(json) as { file?: string }).file;
  if (file) fs.writeFileSync(path.join(dir, `${path.basename(file)}.map`), json);
}

let active: Promise<Session> | null = null;

/**
 * Starts sampling this process when BENCH_CPU_PROF is set; the returned function stops it and writes the
 * profile (bench-process.cpuprofile, or bench-process-2… when one is already there). A no-op when profiling
 * is off or another stack of this process is already being profiled.
 */
export async function profileThisProcess(
  env: NodeJS.ProcessEnv = process.env,
  opts: { bundleMap?: boolean } = {},
): Promise<() => Promise<void>> {
  const dir = cpuProfileDir(env);
  if (!dir || active) return async () => undefined;
  fs.mkdirSync(dir, { recursive: true });
  if (opts.bundleMap ?? true) await saveWorkflowBundleMap(dir);
  const starting = (async () => {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    return session;
  })();
  active = starting;
  await starting;
  return async () => {
    if (active !== starting) return;
    const session = await starting;
    try {
      const { profile } = await session.post('Profiler.stop');
      let file = path.join(dir, 'bench-process.cpuprofile');
      for (let n = 2; fs.existsSync(file); n++) file = path.join(dir, `bench-process-${n}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(profile));
      process.stderr.write(`bench: CPU profile of this process written to ${file}\n`);
    } finally {
      session.disconnect();
      active = null;
    }
  };
}
