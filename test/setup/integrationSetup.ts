import { startDevServer, RunningServer } from '../../lib/temporalServer';
import { freePort } from '../../lib/ports';
import { cachedClusterBinaries, clusterBuildBlocker, ensureClusterBinaries } from '../../lib/clusterBinaries';

declare global {
  var __BINDFLOW_DEV_SERVER__: RunningServer | undefined;
}

/** Whether this run includes test/integration/cluster.test.ts (no path filter, or one naming it): the whole suite. */
function runIncludesClusterTest(argv: string[]): boolean {
  const filters = argv.slice(2).filter((a) => !a.startsWith('-') && /test|\.ts$|\//.test(a));
  return filters.length === 0 || filters.some((f) => /cluster/.test(f));
}

// One real Temporal server per test run: the dev server (in memory, headless, custom search
// attributes) started here, or the one BINDFLOW_TEST_TEMPORAL_ADDRESS names (a cluster, say).
export default async function setup(): Promise<void> {
  // The cluster test's binaries are built before any test runs (a first build takes ~10 min and
  // both cores), so that no other test runs beside the build.
  if (runIncludesClusterTest(process.argv) && !cachedClusterBinaries() && !clusterBuildBlocker()) {
    const say = (l: string) => process.stderr.write(`\n[integration setup] ${l}\n`);
    await ensureClusterBinaries(process.env, say).catch((err: Error) =>
      say(`the cluster's binaries could not be built (cluster.test.ts will fail): ${err.message}`),
    );
  }
  // Likewise promtool for the alert rules' unit test (ops/prometheus), when the whole suite runs.
  if (runIncludesClusterTest(process.argv)) {
    const { ensurePromtool } = require('../../scripts/promtool.js') as {
      ensurePromtool: (o?: { log?: (m: string) => void }) => Promise<{ path?: string; skipped?: string }>;
    };
    await ensurePromtool({ log: (m) => process.stderr.write(`\n[integration setup] ${m}\n`) }).catch((err: Error) =>
      process.stderr.write(`\n[integration setup] promtool could not be built (its test will fail): ${err.message}\n`),
    );
  }
  if (process.env.BINDFLOW_TEST_TEMPORAL_ADDRESS) return;
  const port = await freePort();
  const server = await startDevServer({ port, stdio: 'ignore', logLevel: 'error' });
  globalThis.__BINDFLOW_DEV_SERVER__ = server;
  process.env.BINDFLOW_TEST_TEMPORAL_ADDRESS = server.address;
}
