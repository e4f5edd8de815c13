import { DefaultLogger, Runtime } from '@temporalio/worker';

// Keep the SDK's own logs to warnings so test output stays readable.
try {
  Runtime.install({ logger: new DefaultLogger((process.env.BINDFLOW_TEST_SDK_LOG as 'WARN') ?? 'WARN') });
} catch {
  /* already installed in this worker process */
}
