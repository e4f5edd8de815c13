import { startDevServer, RunningServer } from '../../lib/temporalServer';
import { freePort } from '../../lib/ports';

declare global {
  var __BINDFLOW_DEV_SERVER__: RunningServer | undefined;
}

// One real Temporal dev server (in memory, headless, custom search attributes) per test run.
export default async function setup(): Promise<void> {
  const port = await freePort();
  const server = await startDevServer({ port, stdio: 'ignore', logLevel: 'error' });
  globalThis.__BINDFLOW_DEV_SERVER__ = server;
  process.env.BINDFLOW_TEST_TEMPORAL_ADDRESS = server.address;
}
